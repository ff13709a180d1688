// SPDX-License-Identifier: MIT
/*
 * jseval.c: the --js evaluator (jseval.h). One MuJS state for the life of the process, its code
 * compiled once; each request replaces the global r and runs the code again.
 *
 * MuJS is ES5: the prelude adds the few ES2015 methods httpjail's rules are written with
 * (String's startsWith, endsWith, includes and repeat; Array's includes, find and findIndex;
 * Object.assign), only where MuJS lacks them. Every allocation goes through capped_alloc(), so
 * a script that builds a huge string or array meets "out of memory", a JS exception that
 * denies, instead of growing the process; the evaluator's RLIMIT_AS, set by policy.c, backs it up.
 */
#include "proxy/jseval.h"

#include <errno.h>
#include <fcntl.h>
#include <mujs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Room for the header capped_alloc() puts before each block: its size, alignment kept. */
#define HDR 16

struct heap {
	size_t used, cap;
	bool over; /* an allocation was refused since the flag was last cleared */
};

/* fd 1 in the evaluator; -1 in jseval_once() and jseval_check(): console lines go nowhere. */
static int console_fd = -1;

static void *capped_alloc(void *ctx, void *ptr, int size)
{
	struct heap *h = ctx;
	char *base = ptr ? (char *)ptr - HDR : NULL, *n;
	size_t old = 0;

	if (base)
		memcpy(&old, base, sizeof(old));
	if (size <= 0) {
		if (base) {
			h->used -= old;
			free(base);
		}
		return NULL;
	}
	if (h->used - old + (size_t)size > h->cap) {
		h->over = true;
		return NULL;
	}
	n = realloc(base, (size_t)size + HDR);
	if (!n) {
		h->over = true;
		return NULL;
	}
	old = (size_t)size - old; /* the growth, for the count below */
	h->used += old;
	memcpy(n, &(size_t){(size_t)size}, sizeof(size_t));
	return n + HDR;
}

/* ES2015 methods MuJS (ES5) lacks, defined only where missing; and the result's stringifier. */
static const char prelude[] =
    "(function(){"
    "function def(o,n,f){if(!o[n])Object.defineProperty(o,n,{value:f,writable:true,"
    "configurable:true,enumerable:false});}"
    "def(String.prototype,'startsWith',function(s,p){var t=String(this);s=String(s);"
    "p=p>0?Math.floor(p):0;return t.slice(p,p+s.length)===s;});"
    "def(String.prototype,'endsWith',function(s,e){var t=String(this);s=String(s);"
    "e=e===undefined?t.length:Math.min(Math.max(Math.floor(e)||0,0),t.length);"
    "var b=e-s.length;return b>=0&&t.slice(b,e)===s;});"
    "def(String.prototype,'includes',function(s,p){return String(this).indexOf(String(s),"
    "p>0?Math.floor(p):0)!==-1;});"
    "def(String.prototype,'repeat',function(n){var t=String(this),o='';n=Math.floor(n)||0;"
    "if(n<0||n===Infinity)throw new RangeError('Invalid count value');"
    "while(n-->0)o+=t;return o;});"
    "def(Array.prototype,'includes',function(v,p){var a=Object(this),n=a.length>>>0,"
    "i=p>0?Math.floor(p):0;if(i<0)i=Math.max(n+i,0);for(;i<n;i++){var x=a[i];"
    "if(x===v||(x!==x&&v!==v))return true;}return false;});"
    "def(Array.prototype,'find',function(f,t){var a=Object(this),n=a.length>>>0;"
    "for(var i=0;i<n;i++)if(f.call(t,a[i],i,a))return a[i];return undefined;});"
    "def(Array.prototype,'findIndex',function(f,t){var a=Object(this),n=a.length>>>0;"
    "for(var i=0;i<n;i++)if(f.call(t,a[i],i,a))return i;return -1;});"
    "def(Object,'assign',function(d){for(var i=1;i<arguments.length;i++){var s=arguments[i];"
    "if(s!=null)for(var k in s)if(Object.prototype.hasOwnProperty.call(s,k))d[k]=s[k];}"
    "return d;});"
    "})();";

/* r = JSON.parse(line), with the JSON of the start: a rule cannot change how r is made. */
static const char setter[] = "(function(){var P=JSON.parse;return function(l){"
			     "r=P.call(JSON,l);};})()";

/* As httpjail reads a JS result: booleans and strings as they are, objects as JSON. */
static const char stringify[] = "(function(){var S=JSON.stringify;return function(v){"
				"if(typeof v==='boolean')return v?'true':'false';"
				"if(typeof v==='string')return v;"
				"if(v!==null&&typeof v==='object'){var s=S.call(JSON,v);"
				"return typeof s==='string'?s:'false';}"
				"return 'false';};})()";

/* Copies s into out (cap bytes), control characters made spaces: one line, always. */
static void one_line(const char *s, char *out, size_t cap)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < cap; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	out[i] = '\0';
}

static void write_all(int fd, const char *s, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, s, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(1); /* boundary is gone, or stopped reading */
		s += w;
		n -= (size_t)w;
	}
}

/* console.log and friends: one "#" line each, its arguments joined by spaces. */
static void console_line(js_State *J)
{
	char line[1024], part[1000];
	size_t len = 1;
	int i, top = js_gettop(J);

	line[0] = '#';
	for (i = 1; i < top && len + 2 < sizeof(line); i++) {
		one_line(js_trystring(J, i, "?"), part, sizeof(part));
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s", i > 1 ? " " : "",
					part);
		if (len >= sizeof(line))
			len = sizeof(line) - 2;
	}
	line[len++] = '\n';
	if (console_fd >= 0)
		write_all(console_fd, line, len);
	js_pushundefined(J);
}

static void report(js_State *J, const char *message)
{
	(void)J;
	if (console_fd >= 0) {
		char line[600];
		size_t n;

		line[0] = '#';
		one_line(message, line + 1, sizeof(line) - 2);
		n = strlen(line);
		line[n++] = '\n';
		write_all(console_fd, line, n);
	}
}

/* A state with the prelude, console, and the helpers in its registry. NULL: out of memory. */
static js_State *state_new(struct heap *h)
{
	static const char *const names[] = {"log", "debug", "info", "warn", "error", "trace"};
	js_State *J = js_newstate(capped_alloc, h, 0);
	size_t i;

	if (!J)
		return NULL;
	js_setreport(J, report);
	if (js_try(J)) {
		js_freestate(J);
		return NULL;
	}
	js_newobject(J);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		js_newcfunction(J, console_line, names[i], 0);
		js_setproperty(J, -2, names[i]);
	}
	js_setglobal(J, "console");
	js_loadstring(J, "[prelude]", prelude);
	js_pushundefined(J);
	js_call(J, 0);
	js_pop(J, 1);
	js_loadstring(J, "[setter]", setter);
	js_pushundefined(J);
	js_call(J, 0);
	js_setregistry(J, "boundary.set");
	js_loadstring(J, "[stringify]", stringify);
	js_pushundefined(J);
	js_call(J, 0);
	js_setregistry(J, "boundary.str");
	js_endtry(J);
	return J;
}

/*
 * MuJS's "SyntaxError: NAME:LINE: text" as the line and the text. Returns false when the message
 * is not of that form.
 */
static bool split_error(const char *msg, const char *name, unsigned *line, const char **text)
{
	const char *p = strstr(msg, name);
	char *end;
	unsigned long n;

	if (!p || p[strlen(name)] != ':')
		return false;
	p += strlen(name) + 1;
	n = strtoul(p, &end, 10);
	if (end == p || *end != ':' || n == 0 || n > 1000000)
		return false;
	*line = (unsigned)n;
	*text = end[1] == ' ' ? end + 2 : end + 1;
	return true;
}

/*
 * MuJS gives lines only. The column: the shortest prefix of the code that ends within that line
 * and fails with the same message holds the offending token's first character at its end.
 */
static unsigned find_column(js_State *J, const char *name, const char *code, unsigned line,
			    const char *text)
{
	const char *start = code, *err_text, *nl;
	unsigned col = 0, l = 1, at;
	size_t len, n;
	char *prefix;

	while (l < line && (nl = strchr(start, '\n'))) {
		start = nl + 1;
		l++;
	}
	nl = strchr(start, '\n');
	len = nl ? (size_t)(nl - start) : strlen(start);
	/* Each try compiles the prefix: kept to what is cheap to compile a few thousand times. */
	if (l != line || len > 2000 || (size_t)(start - code) + len > 65536)
		return 0;
	prefix = malloc((size_t)(start - code) + len + 1);
	if (!prefix)
		return 0;
	for (n = 1; n <= len && !col; n++) {
		memcpy(prefix, code, (size_t)(start - code) + n);
		prefix[(size_t)(start - code) + n] = '\0';
		if (js_ploadstring(J, name, prefix) &&
		    split_error(js_trystring(J, -1, ""), name, &at, &err_text) && at == line &&
		    strcmp(err_text, text) == 0)
			col = (unsigned)n;
		js_pop(J, 1);
	}
	free(prefix);
	return col;
}

int jseval_check(const char *name, const char *code, char *err, size_t errlen)
{
	struct heap h = {.cap = 256u << 20};
	const char *msg, *text;
	js_State *J;
	unsigned line, col;
	char copy[512];

	if (strlen(code) > JSEVAL_CODE_MAX) {
		snprintf(err, errlen, "%s: the script is longer than %u bytes", name,
			 JSEVAL_CODE_MAX);
		return -EINVAL;
	}
	J = state_new(&h);
	if (!J) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	if (!js_ploadstring(J, name, code)) {
		js_freestate(J);
		return 0;
	}
	msg = js_trystring(J, -1, "it does not compile");
	snprintf(copy, sizeof(copy), "%s", msg);
	js_pop(J, 1);
	if (split_error(copy, name, &line, &text)) {
		col = find_column(J, name, code, line, text);
		if (col)
			snprintf(err, errlen, "%s:%u:%u: %s", name, line, col, text);
		else
			snprintf(err, errlen, "%s:%u: %s", name, line, text);
	} else {
		snprintf(err, errlen, "%s: %s", name, copy);
	}
	js_freestate(J);
	return -EINVAL;
}

/* Compiles code into the registry as "boundary.rule". Returns false when it does not compile. */
static bool load_rule(js_State *J, const char *code)
{
	if (js_ploadstring(J, "rule", code)) {
		js_pop(J, 1);
		return false;
	}
	js_setregistry(J, "boundary.rule");
	return true;
}

enum outcome { OUT_REPLY, OUT_MEMORY, OUT_ERROR };

/* One request: out gets the reply, or the error's text. */
static enum outcome eval_line(js_State *J, struct heap *h, const char *line, char *out, size_t cap)
{
	const char *what = "the request";

	h->over = false;
	js_getregistry(J, "boundary.set");
	js_pushundefined(J);
	js_pushstring(J, line);
	if (js_pcall(J, 1))
		goto fail;
	js_pop(J, 1);
	what = "the rule";
	js_getregistry(J, "boundary.rule");
	js_pushundefined(J);
	if (js_pcall(J, 0))
		goto fail;
	js_getregistry(J, "boundary.str");
	js_pushundefined(J);
	js_copy(J, -3);
	if (js_pcall(J, 1)) {
		js_rot2pop1(J);
		what = "its result";
		goto fail;
	}
	one_line(js_trystring(J, -1, "false"), out, cap);
	/* "!" starts the evaluator's own replies (!error, !memory): a result never does. */
	if (out[0] == '!')
		out[0] = ' ';
	js_pop(J, 2);
	if (h->over)
		return OUT_MEMORY;
	return OUT_REPLY;
fail:
	snprintf(out, cap, "%s threw ", what);
	one_line(js_trystring(J, -1, "an exception"), out + strlen(out), cap - strlen(out));
	js_pop(J, 1);
	return h->over ? OUT_MEMORY : OUT_ERROR;
}

int jseval_once(const char *code, const char *line, size_t mem_cap, char *out, size_t cap)
{
	struct heap h = {.cap = mem_cap};
	js_State *J = state_new(&h);
	enum outcome o;

	if (!J) {
		snprintf(out, cap, "!memory");
		return 0;
	}
	if (!load_rule(J, code)) {
		js_freestate(J);
		return -EINVAL;
	}
	o = eval_line(J, &h, line, out, cap);
	if (o == OUT_MEMORY) {
		snprintf(out, cap, "!memory");
	} else if (o == OUT_ERROR) {
		char tmp[JSEVAL_LINE_MAX];

		snprintf(tmp, sizeof(tmp), "%s", out);
		snprintf(out, cap, "!error %s", tmp);
	}
	js_freestate(J);
	return 0;
}

static void panic(js_State *J)
{
	(void)J;
	write_all(1, "!error the evaluator failed\n", 28);
	_exit(1);
}

/* The whole of fd into a NUL-terminated buffer of at most max bytes; NULL on failure. */
static char *read_fd(int fd, size_t max)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *n;
	ssize_t r;

	while (buf) {
		if (len + 1 >= cap) {
			if (cap > max)
				break;
			n = realloc(buf, cap * 2);
			if (!n)
				break;
			buf = n;
			cap *= 2;
		}
		/* pread: fd 3 is shared by every evaluator, and its offset with it */
		r = pread(fd, buf + len, cap - len - 1, (off_t)len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (r == 0) {
			buf[len] = '\0';
			return buf;
		}
		len += (size_t)r;
	}
	free(buf);
	return NULL;
}

char *jseval_read_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char *code;

	if (fd == -1) {
		snprintf(err, errlen, "--js-file %s: cannot open it: %s", path, strerror(errno));
		return NULL;
	}
	code = read_fd(fd, JSEVAL_CODE_MAX);
	close(fd);
	if (!code) {
		snprintf(err, errlen,
			 "--js-file %s: cannot read it (is it a file of at most %u bytes?)", path,
			 JSEVAL_CODE_MAX);
		return NULL;
	}
	return code;
}

int jseval_main(int argc, char **argv)
{
	static char in[JSEVAL_LINE_MAX * 2], reply[JSEVAL_LINE_MAX + 16];
	struct heap h = {0};
	size_t have = 0, len;
	char *code, *nl;
	enum outcome o;
	js_State *J;
	ssize_t r;

	if (argc < 3)
		_exit(2);
	h.cap = strtoull(argv[2], NULL, 10);
	code = read_fd(3, JSEVAL_CODE_MAX);
	close(3);
	console_fd = 1;
	J = code ? state_new(&h) : NULL;
	if (!J)
		_exit(3);
	js_atpanic(J, panic);
	if (!load_rule(J, code))
		_exit(4);
	free(code);
	for (;;) {
		nl = memchr(in, '\n', have);
		if (!nl) {
			if (have == sizeof(in))
				_exit(5);
			r = read(0, in + have, sizeof(in) - have);
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0)
				_exit(0);
			have += (size_t)r;
			continue;
		}
		*nl = '\0';
		o = eval_line(J, &h, in, reply, sizeof(reply) - 16);
		len = (size_t)(nl - in) + 1;
		have -= len;
		memmove(in, in + len, have);
		if (o == OUT_MEMORY) {
			/* Whatever filled the heap may still be reachable: start afresh. */
			write_all(1, "!memory\n", 8);
			_exit(0);
		}
		if (o == OUT_ERROR) {
			write_all(1, "!error ", 7);
		}
		len = strlen(reply);
		reply[len++] = '\n';
		write_all(1, reply, len);
		if (h.used > h.cap / 2)
			js_gc(J, 0);
	}
}
