// SPDX-License-Identifier: MIT
/*
 * cli.c: the command line. The command table (every subcommand: name, usage, what it is, its
 * arguments, whether it reads the config file), one flag parser that getopt_long drives from the
 * option table for boundary itself and for each subcommand alike, --test, the did-you-mean of a
 * mistyped subcommand or flag, and every --help. Values go through opts_set(), which checks
 * them; this file only decides which flag and which subcommand an argument is. It reads no file
 * and runs nothing.
 */
#include "user/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy/log.h"

/* getopt_long's val for table entry i; above every char so -h stays 'h'. */
#define OPT_VAL_BASE 256

/* Room for a quoted value in a message. */
#define QLEN 256

/* The subcommands that run a proxy, and so take boundary's flags. */
#define PROXY_CMDS (OPTS_IN(OPTS_CMD_RUN) | OPTS_IN(OPTS_CMD_ATTACH) | OPTS_IN(OPTS_CMD_SERVE))

#define ATTACH_USAGE "attach --cgroup PATH|--container ID|--systemd-unit UNIT [flags]"

/*
 * The command table, in the order boundary --help lists it. Texts are written with their line
 * breaks, at most 80 columns with the indent help gives them. To add a subcommand: a value in
 * enum opts_cmd (opts.h) before OPTS__CMD_COUNT, a row here, its action in enum opts_action and
 * main.c's actions[], and OPTS_IN(OPTS_CMD_X) in the last column of the option table (opts.c)
 * for each flag it takes (--help takes every one). Its --help, boundary help X, its line in
 * boundary --help, the did-you-mean and the shell completions come from the row.
 */
static const struct cli_cmd cmds[OPTS__CMD_COUNT] = {
    [OPTS_CMD_RUN] =
	{
	    .id = OPTS_CMD_RUN,
	    .name = "",
	    .usage = "[flags] -- command [args...]",
	    .about = "Runs command (or $SHELL) with its network jailed: a request gets out only "
		     "if\nan allow rule matches it, like \"method=GET domain=*.github.com "
		     "path=/api/*\".",
	    .examples = "sudo boundary --allow \"domain=api.anthropic.com\" -- claude\n"
			"boundary --allow \"domain=*.github.com\" --test "
			"https://api.github.com/repos",
	    .args = CLI_ARGS_COMMAND,
	    .reads_config = true,
	    .action = OPTS_RUN,
	},
    [OPTS_CMD_GENERATE_CONFIG] =
	{
	    .id = OPTS_CMD_GENERATE_CONFIG,
	    .name = "generate-config",
	    .usage = "generate-config",
	    .brief = "print a config file with every key at its default",
	    .about = "Writes a config file with every key at its default, each with a comment "
		     "saying\nwhat it does, to standard output. Reads no config file.",
	    .examples = "mkdir -p ~/.config/coder_boundary\n"
			"boundary generate-config > ~/.config/coder_boundary/config.yaml",
	    .args = CLI_ARGS_NONE,
	    .action = OPTS_GENERATE_CONFIG,
	},
    [OPTS_CMD_CLEANUP] =
	{
	    .id = OPTS_CMD_CLEANUP,
	    .name = "cleanup",
	    .usage = "cleanup",
	    .brief = "remove what killed boundaries left behind",
	    .about = "Removes what jails left behind when their boundary was killed (their "
		     "cgroups\nand pinned BPF programs), and reopens the cgroups of a killed "
		     "attach. Jails\nwhose boundary still runs are left alone.",
	    .examples = "sudo boundary cleanup",
	    .args = CLI_ARGS_NONE,
	    .action = OPTS_CLEANUP,
	},
    [OPTS_CMD_SERVE] =
	{
	    .id = OPTS_CMD_SERVE,
	    .name = "serve",
	    .usage = "serve --listen ADDR:PORT [flags]",
	    .brief = "the proxy alone, for clients told to use it",
	    .about = "Runs the proxy alone, for clients that are told to use it (HTTP_PROXY), "
		     "on other\nmachines or in containers: the same rules, audit records with "
		     "the client's\naddress. Runs until SIGINT or SIGTERM.",
	    .examples = "boundary serve --listen 127.0.0.1:3128 --allow \"domain=*.github.com\"\n"
			"HTTPS_PROXY=http://127.0.0.1:3128 curl https://api.github.com/",
	    .args = CLI_ARGS_NO_COMMAND,
	    .reads_config = true,
	    .action = OPTS_SERVE,
	},
    [OPTS_CMD_LOG_SUMMARY] =
	{
	    .id = OPTS_CMD_LOG_SUMMARY,
	    .name = "log summary",
	    .usage = "log summary [--format table|json|markdown] FILE...",
	    .brief = "count an audit log's requests; propose --allow lines",
	    .about = "Reads audit logs (--audit-log's JSON lines; - is standard input) and "
		     "prints,\nhost by host, how many requests were allowed and refused, with "
		     "the --allow\nlines that would admit the refused. Reads no config file.",
	    .examples = "sudo boundary --dry-run --audit-log audit.jsonl -- make test\n"
			"boundary log summary audit.jsonl",
	    .args = CLI_ARGS_FILES,
	    .action = OPTS_LOG_SUMMARY,
	},
    [OPTS_CMD_ATTACH] =
	{
	    .id = OPTS_CMD_ATTACH,
	    .name = "attach",
	    .usage = ATTACH_USAGE,
	    .brief = "jail the processes of a cgroup that already exists",
	    .about = "Jails the processes of a cgroup that already exists, and every one "
		     "started in it\nlater, until stopped: their connections go through "
		     "boundary's proxy and rules.",
	    .examples = "sudo boundary attach --systemd-unit ci.service --allow "
			"\"domain=github.com\"\n"
			"sudo boundary attach --container web --allow \"domain=api.example.com\"",
	    .args = CLI_ARGS_NO_COMMAND,
	    .reads_config = true,
	    .action = OPTS_ATTACH,
	},
    [OPTS_CMD_RULES_FROM_ENDPOINTS] =
	{
	    .id = OPTS_CMD_RULES_FROM_ENDPOINTS,
	    .name = "rules from-endpoints",
	    .usage = "rules from-endpoints LIST...",
	    .brief = "harden-runner's allowed-endpoints list as rules",
	    .about = "Prints harden-runner's allowed-endpoints list (host:port entries, *. "
		     "wildcards,\nseparated by white space; - reads standard input) as "
		     "boundary rules, one a\nline: api.github.com:443 becomes "
		     "\"domain=api.github.com port=443\". Reads no\nconfig file.",
	    .examples = "boundary rules from-endpoints \"api.github.com:443 *.npmjs.org:443\"\n"
			"boundary rules from-endpoints - < endpoints.txt > rules.txt",
	    .args = CLI_ARGS_LISTS,
	    .action = OPTS_RULES_FROM_ENDPOINTS,
	},
    [OPTS_CMD_NODE] =
	{
	    .id = OPTS_CMD_NODE,
	    .name = "k8s-node",
	    .usage = "k8s-node [flags]",
	    .brief = "jail the annotated pods of a Kubernetes node",
	    .about = "Jails the pods of this Kubernetes node that ask for it, until stopped: "
		     "it lists\npods through the container runtime's CRI socket and attaches "
		     "to the cgroup of\neach pod annotated boundary.dev/allow, "
		     "boundary.dev/deny or\nboundary.dev/policy (a file in --policy-dir, read "
		     "again on every scan).",
	    .examples = "sudo boundary k8s-node --policy-dir /etc/boundary/policies",
	    .args = CLI_ARGS_NO_COMMAND,
	    .reads_config = true,
	    .action = OPTS_NODE,
	},
    /* Reads the config itself, to report its errors rather than stop at them. */
    [OPTS_CMD_DOCTOR] =
	{
	    .id = OPTS_CMD_DOCTOR,
	    .name = "doctor",
	    .usage = "doctor [--config FILE] [--format table|json]",
	    .brief = "what works on this machine, and why not",
	    .about = "Checks what this machine allows (kernel, cgroup v2, BPF, privileges, "
		     "user\nnamespaces, Landlock, seccomp, leftovers of killed runs, the CA, "
		     "the config\nfile) and says which modes of boundary work here, and why "
		     "not. Changes nothing.\nExits 0 when the default mode works, 1 when it "
		     "does not.",
	    .examples = "sudo boundary doctor\nboundary doctor --format json",
	    .args = CLI_ARGS_NONE,
	    .action = OPTS_DOCTOR,
	},
    [OPTS_CMD_APPROVE] =
	{
	    .id = OPTS_CMD_APPROVE,
	    .name = "approve",
	    .usage = "approve [ID once|always|deny]",
	    .brief = "answer --interactive's questions from another terminal",
	    .about = "Lists the requests that running boundaries of yours (run with "
		     "--interactive)\nwait to have answered, with their IDs; with an ID and "
		     "an answer, answers one.\nOn a terminal it then asks which to answer, "
		     "and watches for more. \"always\"\ngoes to the --save-rules file as at "
		     "the terminal. Reads no config file.",
	    .examples = "sudo boundary --interactive -- claude   # in one terminal\n"
			"boundary approve                        # in another",
	    .args = CLI_ARGS_WORDS,
	    .action = OPTS_APPROVE,
	},
    [OPTS_CMD_HELP] =
	{
	    .id = OPTS_CMD_HELP,
	    .name = "help",
	    .usage = "help [COMMAND|flags]",
	    .brief = "a command's usage, flags and examples; help flags",
	    .about = "Prints a command's help, as COMMAND --help does; boundary's own without "
		     "one;\nwith flags, every flag of the jail with what it does (man boundary "
		     "says more).",
	    .examples = "boundary help attach\nboundary help flags",
	    .args = CLI_ARGS_TOPIC,
	    .action = OPTS_HELP_SHOW,
	},
    [OPTS_CMD_COMPLETION] =
	{
	    .id = OPTS_CMD_COMPLETION,
	    .name = "completion",
	    .usage = "completion bash|zsh|fish",
	    .about = "Prints the completion script of a shell for boundary: its flags, "
		     "commands,\n--log-level's and --jail-type's values, files for --config. "
		     "make install puts\nthem where each shell looks.",
	    .examples = "boundary completion bash > ~/.local/share/bash-completion/completions/"
			"boundary\nboundary completion fish | source",
	    .args = CLI_ARGS_SHELL,
	    .action = OPTS_COMPLETION,
	},
};

const struct cli_cmd *cli_cmds(size_t *n)
{
	*n = OPTS__CMD_COUNT;
	return cmds;
}

/* The first word of cmd's name into buf ("log" for "log summary"). */
static const char *first_word(const struct cli_cmd *c, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s", (int)strcspn(c->name, " "), c->name);
	return buf;
}

const char *cli_suggest_cmd(const char *word)
{
	const char *best = NULL;
	size_t best_d = 3, d, i;
	char w[64];

	for (i = 1; i < OPTS__CMD_COUNT; i++) {
		d = opts_distance(word, first_word(&cmds[i], w, sizeof(w)));
		if (d < best_d && d < strlen(word)) {
			best_d = d;
			best = cmds[i].name;
		}
	}
	return best;
}

/* The table index of a subcommand's name, as cli_suggest_cmd() returns it. */
static size_t cli_cmd_of(const char *name)
{
	size_t i;

	for (i = 1; i < OPTS__CMD_COUNT && strcmp(cmds[i].name, name) != 0; i++)
		;
	return i < OPTS__CMD_COUNT ? i : 0;
}

bool cli_reads_config(const struct opts *o)
{
	if (o->action == OPTS_HELP_SHOW || o->action == OPTS_VERSION_SHOW)
		return false;
	return cmds[o->cmd].reads_config;
}

/* Puts "attach: " (the subcommand's name) in front of err; boundary's own errors have none. */
static int in_cmd(enum opts_cmd cmd, int ret, char *err, size_t errlen)
{
	char msg[1024];

	if (cmd != OPTS_CMD_RUN) {
		snprintf(msg, sizeof(msg), "%s", err);
		snprintf(err, errlen, "%s: %s", cmds[cmd].name, msg);
	}
	return ret;
}

static bool needs_quotes(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '"' || *s == '\\')
			return true;
	}
	return false;
}

/*
 * "unknown flag --alow (did you mean --allow?)", from the flags cmd takes; word is the argument
 * as typed.
 */
static int unknown_flag(enum opts_cmd cmd, const char *word, char *err, size_t errlen)
{
	char name[128], q[QLEN], see[128];
	const char *s = word, *hint, *sub;
	size_t n;

	while (*s == '-')
		s++;
	n = strcspn(s, "=");
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, s, n);
	name[n] = '\0';
	n = strcspn(word, "=");
	hint = opts_suggest_flag(name, OPTS_IN(cmd));
	opts_quote(word, q, sizeof(q));
	/* Print the flag bare unless it needs quoting to be read. */
	if (n < 128 && !needs_quotes(word))
		snprintf(q, sizeof(q), "%.*s", (int)n, word);
	snprintf(see, sizeof(see), "boundary%s%s --help", cmd ? " " : "", cmds[cmd].name);
	/* "--attach": a subcommand written as a flag. */
	sub = cmd == OPTS_CMD_RUN && !hint ? cli_suggest_cmd(name) : NULL;
	if (hint)
		snprintf(err, errlen, "unknown flag %s (did you mean --%s?)", q, hint);
	else if (sub)
		snprintf(err, errlen, "unknown flag %s (did you mean the subcommand: boundary %s?)",
			 q, sub);
	else
		snprintf(err, errlen, "unknown flag %s (see %s)", q, see);
	return in_cmd(cmd, -EINVAL, err, errlen);
}

/* A flag of the table that cmd does not take: whose it is. */
static int not_taken(enum opts_cmd cmd, const struct opts_def *d, char *err, size_t errlen)
{
	size_t i;

	if (cmd != OPTS_CMD_RUN) {
		snprintf(err, errlen, "%s does not take --%s (see boundary %s --help)",
			 cmds[cmd].name, d->flag, cmds[cmd].name);
		return -EINVAL;
	}
	for (i = 1; i < OPTS__CMD_COUNT && !(d->cmds & OPTS_IN(i)); i++)
		;
	if (i == OPTS__CMD_COUNT)
		i = OPTS_CMD_RUN;
	snprintf(err, errlen, "--%s is a flag of boundary %s (see boundary %s --help)", d->flag,
		 cmds[i].name, cmds[i].name);
	return -EINVAL;
}

/* A METHOD for --test: 1 to 32 of A-Z, '-' and '_'. */
static bool is_method(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 32)
		return false;
	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-' || s[i] == '_'))
			return false;
	}
	return true;
}

static void add_test(struct opts *o, const char *method, size_t mlen, const char *url)
{
	struct opts_test *t = realloc(o->tests, (o->n_tests + 1) * sizeof(*t));

	if (!t)
		fatal("out of memory");
	o->tests = t;
	t = &o->tests[o->n_tests++];
	t->method = strndup(method, mlen);
	t->url = strdup(url);
	if (!t->method || !t->url)
		fatal("out of memory");
}

/*
 * --test [METHOD] URL: arg is a METHOD if it looks like one and a next argument follows that
 * is not a flag (it is the URL, consumed here); "GET https://x" in one argument also works;
 * anything else is a URL tested with GET.
 */
static void parse_test(struct opts *o, const char *arg, int argc, char *argv[])
{
	const char *sp = strchr(arg, ' ');
	const char *url;

	if (is_method(arg, strlen(arg)) && optind < argc && argv[optind][0] != '-') {
		add_test(o, arg, strlen(arg), argv[optind]);
		optind++;
		return;
	}
	if (sp && is_method(arg, (size_t)(sp - arg))) {
		url = sp + strspn(sp, " ");
		if (*url) {
			add_test(o, arg, (size_t)(sp - arg), url);
			return;
		}
	}
	add_test(o, "GET", 3, arg);
}

/*
 * The flags of cmd in argv[1..argc) (argv[0] is the program or the subcommand's name), up to the
 * first argument that is not a flag, or "--". For a subcommand that takes files, the files among
 * the flags go into o->log_files, which must have room for argc - 1 of them. Stops at --help
 * (o->cmd = cmd) and --version. Returns 0 with *end the index of the first argument not read
 * and *dashdash whether "--" came before it, or -EINVAL with err set.
 */
static int parse_flags(struct opts *o, enum opts_cmd cmd, int argc, char *argv[], int *end,
		       bool *dashdash, char *err, size_t errlen)
{
	bool files = cmds[cmd].args == CLI_ARGS_FILES || cmds[cmd].args == CLI_ARGS_LISTS;
	struct option lo[OPTS__COUNT + 1];
	const struct opts_def *defs, *d;
	char who[64];
	size_t i, n;
	int c, prev;

	defs = opts_defs(&n);
	memset(lo, 0, sizeof(lo));
	for (i = 0; i < n; i++) {
		lo[i].name = defs[i].flag;
		if (defs[i].type == OPTS_T_BOOL)
			lo[i].has_arg = optional_argument;
		else if (defs[i].type == OPTS_T_ACTION)
			lo[i].has_arg = no_argument;
		else
			lo[i].has_arg = required_argument;
		lo[i].val = OPT_VAL_BASE + (int)i;
	}

	*end = argc;
	*dashdash = false;
	/* Our messages only; optind = 0 makes glibc start over, so this can run twice. */
	opterr = 0;
	optind = 0;
	for (;;) {
		prev = optind < 1 ? 1 : optind;
		/* "-": each file comes back as 1, in order; "+": stop at the command. */
		c = getopt_long(argc, argv, files ? "-:h" : "+:h", lo, NULL);
		if (c == -1) {
			if (optind == prev + 1 && strcmp(argv[prev], "--") == 0)
				*dashdash = true;
			break;
		}
		if (c == 1) {
			o->log_files[o->n_log_files++] = optarg;
			continue;
		}
		if (c == 'h') {
			o->action = OPTS_HELP_SHOW;
			o->cmd = cmd;
			return 0;
		}
		if (c == ':' || c == '?') {
			if (optopt >= OPT_VAL_BASE && optopt < OPT_VAL_BASE + (int)n) {
				d = &defs[optopt - OPT_VAL_BASE];
				if (!(d->cmds & OPTS_IN(cmd)))
					return not_taken(cmd, d, err, errlen);
				if (c == ':')
					snprintf(err, errlen, "--%s needs a value (--%s %s)",
						 d->flag, d->flag, d->arg ? d->arg : "VALUE");
				else
					snprintf(err, errlen, "--%s takes no value", d->flag);
				return in_cmd(cmd, -EINVAL, err, errlen);
			}
			return unknown_flag(cmd, argv[prev], err, errlen);
		}
		if (c < OPT_VAL_BASE || c >= OPT_VAL_BASE + (int)n)
			return unknown_flag(cmd, argv[prev], err, errlen);
		d = &defs[c - OPT_VAL_BASE];
		/* getopt_long takes unique prefixes ("--allo"); coder/boundary does not. */
		if (strncmp(argv[prev], "--", 2) != 0 ||
		    strncmp(argv[prev] + 2, d->flag, strlen(d->flag)) != 0 ||
		    (argv[prev][2 + strlen(d->flag)] != '\0' &&
		     argv[prev][2 + strlen(d->flag)] != '='))
			return unknown_flag(cmd, argv[prev], err, errlen);
		if (!(d->cmds & OPTS_IN(cmd)))
			return not_taken(cmd, d, err, errlen);
		snprintf(who, sizeof(who), "--%s", d->flag);
		switch (d->type) {
		case OPTS_T_ACTION:
			o->action = d->id == OPTS_VERSION ? OPTS_VERSION_SHOW : OPTS_HELP_SHOW;
			o->cmd = cmd;
			return 0;
		case OPTS_T_TEST:
			parse_test(o, optarg, argc, argv);
			break;
		case OPTS_T_BOOL:
			if (opts_set(o, d, optarg ? optarg : "true", OPTS_SRC_FLAG, who, err,
				     errlen) != 0)
				return in_cmd(cmd, -EINVAL, err, errlen);
			break;
		default:
			if (opts_set(o, d, optarg, OPTS_SRC_FLAG, who, err, errlen) != 0)
				return in_cmd(cmd, -EINVAL, err, errlen);
			break;
		}
	}
	*end = optind;
	return 0;
}

/* attach: exactly one of --cgroup, --container and --systemd-unit, and not empty. */
static int check_attach(const struct opts *o, char *err, size_t errlen)
{
	static const enum opts_id ids[] = {OPTS_CGROUP, OPTS_CONTAINER, OPTS_SYSTEMD_UNIT};
	const struct opts_def *defs;
	const char *v;
	int given = 0;
	size_t i, n;

	defs = opts_defs(&n);
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		v = *(char *const *)((const char *)o + defs[ids[i]].off);
		if (!v)
			continue;
		if (!v[0]) {
			snprintf(err, errlen, "attach: --%s is empty", defs[ids[i]].flag);
			return -EINVAL;
		}
		given++;
	}
	if (given != 1) {
		snprintf(err, errlen,
			 "attach needs exactly one of --cgroup, --container and --systemd-unit "
			 "(usage: boundary " ATTACH_USAGE ")");
		return -EINVAL;
	}
	return 0;
}

static int find_cmd(char **args, int nargs, enum opts_cmd *cmd, int *words, char *err,
		    size_t errlen);

/*
 * boundary help [TOPIC]: boundary's help, a subcommand's (one or two words, as typed after
 * boundary: "help log summary", or "help log"), or every flag ("help flags").
 */
static int help_topic(struct opts *o, int nargs, char **args, char *err, size_t errlen)
{
	const char *hint;
	enum opts_cmd cmd;
	char q[QLEN];
	int words;

	o->action = OPTS_HELP_SHOW;
	o->cmd = OPTS_CMD_RUN;
	/* "help attach --help" is attach's help too. */
	if (nargs > 0 &&
	    (strcmp(args[nargs - 1], "-h") == 0 || strcmp(args[nargs - 1], "--help") == 0))
		nargs--;
	if (nargs == 0)
		return 0;
	if (nargs == 1 && strcmp(args[0], "flags") == 0) {
		o->help_flags = true;
		return 0;
	}
	if (find_cmd(args, nargs, &cmd, &words, err, errlen) != 0) {
		/* "help log": the one log subcommand. */
		if (nargs != 1)
			return -EINVAL;
		words = 1;
	}
	if (cmd == OPTS_CMD_RUN) {
		hint = cli_suggest_cmd(args[0]);
		if (opts_distance(args[0], "flags") <= 2 &&
		    (!hint ||
		     opts_distance(args[0], "flags") <
			 opts_distance(args[0], first_word(&cmds[cli_cmd_of(hint)], q, sizeof(q)))))
			hint = "flags";
		opts_quote(args[0], q, sizeof(q));
		if (hint)
			snprintf(err, errlen, "help: no command %s (did you mean %s?)", q, hint);
		else
			snprintf(err, errlen,
				 "help: no command %s (boundary --help lists them; help flags "
				 "lists the flags)",
				 q);
		return -EINVAL;
	}
	if (words < nargs) {
		snprintf(err, errlen, "help takes one command (got %s after %s)",
			 opts_quote(args[words], q, sizeof(q)), cmds[cmd].name);
		return -EINVAL;
	}
	o->cmd = cmd;
	return 0;
}

/* Subcommand cmd: argv[0] is its (last) name, then its flags and arguments. */
static int parse_cmd(struct opts *o, enum opts_cmd cmd, int argc, char *argv[], char *err,
		     size_t errlen)
{
	const struct cli_cmd *c = &cmds[cmd];
	char q[QLEN];
	bool dashdash;
	int end, ret;

	o->cmd = cmd;
	if (c->args == CLI_ARGS_FILES || c->args == CLI_ARGS_LISTS || c->args == CLI_ARGS_WORDS) {
		/* At most argc - 1 files, and a NULL after them. */
		free(o->log_files);
		o->n_log_files = 0;
		o->log_files = calloc((size_t)argc, sizeof(*o->log_files));
		if (!o->log_files)
			fatal("out of memory");
	}
	ret = parse_flags(o, cmd, argc, argv, &end, &dashdash, err, errlen);
	if (ret || o->action == OPTS_HELP_SHOW || o->action == OPTS_VERSION_SHOW)
		return ret;
	if (end < argc)
		opts_quote(argv[end], q, sizeof(q));
	switch (c->args) {
	case CLI_ARGS_FILES:
		while (end < argc)
			o->log_files[o->n_log_files++] = argv[end++];
		if (o->n_log_files == 0) {
			snprintf(err, errlen,
				 "%s needs an audit log to read (usage: boundary %s; - reads "
				 "standard input)",
				 c->name, c->usage);
			return -EINVAL;
		}
		break;
	case CLI_ARGS_LISTS:
		while (end < argc)
			o->log_files[o->n_log_files++] = argv[end++];
		if (o->n_log_files == 0) {
			snprintf(err, errlen,
				 "%s needs a list to read (usage: boundary %s; - reads standard "
				 "input)",
				 c->name, c->usage);
			return -EINVAL;
		}
		break;
	case CLI_ARGS_WORDS:
		while (end < argc)
			o->log_files[o->n_log_files++] = argv[end++];
		break;
	case CLI_ARGS_NONE:
		if (end < argc) {
			snprintf(err, errlen, "%s takes no arguments (got %s)", c->name, q);
			return -EINVAL;
		}
		break;
	case CLI_ARGS_NO_COMMAND:
		if (end < argc) {
			snprintf(err, errlen,
				 "%s runs no command and takes no subcommand (drop %s; usage: "
				 "boundary %s)",
				 c->name, q, c->usage);
			return -EINVAL;
		}
		break;
	case CLI_ARGS_TOPIC:
		return help_topic(o, argc - end, argv + end, err, errlen);
	case CLI_ARGS_SHELL:
		if (end + 1 != argc ||
		    (strcmp(argv[end], "bash") != 0 && strcmp(argv[end], "zsh") != 0 &&
		     strcmp(argv[end], "fish") != 0)) {
			snprintf(err, errlen,
				 "%s needs one shell: " CLI_SHELLS " (usage: boundary %s)", c->name,
				 c->usage);
			return -EINVAL;
		}
		o->shell = argv[end];
		break;
	case CLI_ARGS_COMMAND:
		break;
	}
	if (cmd == OPTS_CMD_ATTACH && check_attach(o, err, errlen) != 0)
		return -EINVAL;
	o->argv = NULL;
	o->action = c->action;
	return 0;
}

/*
 * The subcommand that args (what follows boundary's flags) names, in *cmd, with *words the
 * number of its words read; OPTS_CMD_RUN when none. A two-word name whose first word matches
 * ("log") needs its second: a missing or mistyped one is an error. "log --help" is log
 * summary's help (the one log subcommand). Returns 0 or -EINVAL with err set.
 */
static int find_cmd(char **args, int nargs, enum opts_cmd *cmd, int *words, char *err,
		    size_t errlen)
{
	const char *second;
	char q[QLEN], w[64];
	size_t i, len;

	*cmd = OPTS_CMD_RUN;
	*words = 0;
	for (i = 1; i < OPTS__CMD_COUNT; i++) {
		len = strlen(first_word(&cmds[i], w, sizeof(w)));
		if (strcmp(args[0], w) != 0)
			continue;
		*cmd = (enum opts_cmd)i;
		*words = 1;
		if (!cmds[i].name[len])
			return 0;
		second = cmds[i].name + len + 1;
		if (nargs < 2) {
			snprintf(err, errlen, "%s needs a subcommand (usage: boundary %s)", w,
				 cmds[i].usage);
			return -EINVAL;
		}
		if (strcmp(args[1], "-h") == 0 || strcmp(args[1], "--help") == 0)
			return 0;
		if (strcmp(args[1], second) == 0) {
			*words = 2;
			return 0;
		}
		opts_quote(args[1], q, sizeof(q));
		if (opts_distance(args[1], second) <= 2)
			snprintf(err, errlen, "unknown %s subcommand %s (did you mean %s?)", w, q,
				 second);
		else
			snprintf(err, errlen,
				 "unknown %s subcommand %s (the one there is: boundary %s)", w, q,
				 cmds[i].usage);
		return -EINVAL;
	}
	return 0;
}

/* Whether name (no '/') is an executable in a directory of $PATH, as execvp() would find it. */
static bool on_path(const char *name)
{
	const char *path = getenv("PATH"), *p, *colon;
	char full[4096];
	size_t n;
	int len;

	if (!path)
		path = "/bin:/usr/bin";
	for (p = path;; p = colon + 1) {
		colon = strchr(p, ':');
		n = colon ? (size_t)(colon - p) : strlen(p);
		/* An empty entry is the current directory. */
		len = snprintf(full, sizeof(full), "%.*s%s%s", (int)n, p, n ? "/" : "", name);
		if (len > 0 && (size_t)len < sizeof(full) && access(full, X_OK) == 0)
			return true;
		if (!colon)
			return false;
	}
}

/*
 * A command that is a subcommand mistyped ("atach") would only fail in the jail as not found: it
 * is refused here with the subcommand it is nearest to. A program of that name on PATH runs.
 */
static int check_typo(const char *word, char *err, size_t errlen)
{
	const char *hint;
	char q[QLEN];

	if (strchr(word, '/'))
		return 0;
	hint = cli_suggest_cmd(word);
	if (!hint || on_path(word))
		return 0;
	snprintf(err, errlen, "%s is neither a subcommand nor a program on PATH (did you mean %s?)",
		 opts_quote(word, q, sizeof(q)), hint);
	return -EINVAL;
}

int cli_parse_args(struct opts *o, int argc, char *argv[], char *err, size_t errlen)
{
	enum opts_cmd cmd;
	bool dashdash;
	char q[QLEN];
	int end, nrest, words, ret;
	char **rest;

	o->cmd = OPTS_CMD_RUN;
	ret = parse_flags(o, OPTS_CMD_RUN, argc, argv, &end, &dashdash, err, errlen);
	if (ret || o->action == OPTS_HELP_SHOW || o->action == OPTS_VERSION_SHOW)
		return ret;
	rest = argv + end;
	nrest = argc - end;
	if (!dashdash && nrest > 0) {
		ret = find_cmd(rest, nrest, &cmd, &words, err, errlen);
		if (ret)
			return ret;
		if (cmd != OPTS_CMD_RUN)
			return parse_cmd(o, cmd, nrest - words + 1, rest + words - 1, err, errlen);
		ret = check_typo(rest[0], err, errlen);
		if (ret)
			return ret;
	}
	if (o->n_tests > 0) {
		if (nrest > 0) {
			snprintf(err, errlen,
				 "--test runs no command (drop %s, or the --test flags to run it)",
				 opts_quote(rest[0], q, sizeof(q)));
			return -EINVAL;
		}
		o->action = OPTS_TEST_URLS;
		return 0;
	}
	if (o->test_exe) {
		snprintf(err, errlen,
			 "--exe says which program makes --test's requests; give --test URL too");
		return -EINVAL;
	}
	o->action = OPTS_RUN;
	o->argv = nrest > 0 ? rest : NULL;
	return 0;
}

/* "  --flag ARG            help", as boundary --help lists a flag; a long left on its own line. */
static void usage_flag(FILE *f, const struct opts_def *d)
{
	char left[64];

	if (d->short_flag)
		snprintf(left, sizeof(left), "-%c, --%s", d->short_flag, d->flag);
	else
		snprintf(left, sizeof(left), "--%s%s%s", d->flag, d->arg ? " " : "",
			 d->arg ? d->arg : "");
	if (strlen(left) > 21)
		fprintf(f, "  %s\n  %-21s %s\n", left, "", d->help);
	else
		fprintf(f, "  %-21s %s\n", left, d->help);
}

/* Writes words after "Also:", wrapped at 80 columns. */
static void usage_also(FILE *f, const char *const *words, size_t n)
{
	size_t i, col = strlen("Also:");

	fputs("Also:", f);
	for (i = 0; i < n; i++) {
		if (col + 1 + strlen(words[i]) > 79) {
			fputs("\n ", f);
			col = 1;
		}
		fprintf(f, " %s", words[i]);
		col += 1 + strlen(words[i]);
	}
	fputc('\n', f);
}

/* "Examples:" and each line of ex, indented. */
static void usage_examples(FILE *f, const char *ex)
{
	size_t n;

	fputs("\nExamples:\n", f);
	for (; *ex; ex += n + (ex[n] == '\n')) {
		n = strcspn(ex, "\n");
		fprintf(f, "  %.*s\n", (int)n, ex);
	}
}

/* Whether flag d is one of the jail's that boundary --help leaves to boundary help flags. */
static bool jail_flag_unlisted(const struct opts_def *d)
{
	return !d->brief && (d->cmds & OPTS_IN(OPTS_CMD_RUN)) && d->id != OPTS_HELP &&
	       d->id != OPTS_VERSION;
}

/* boundary --help: one screen. */
static void usage_main(FILE *f)
{
	const struct opts_def *defs;
	size_t i, n, more = 0;

	defs = opts_defs(&n);
	fprintf(f,
		"Usage: boundary %s\n"
		"       boundary [flags] --test [METHOD] URL\n"
		"\n%s\n\nCommands (boundary help COMMAND: its usage, flags and examples):\n",
		cmds[OPTS_CMD_RUN].usage, cmds[OPTS_CMD_RUN].about);
	for (i = 1; i < OPTS__CMD_COUNT; i++)
		if (cmds[i].brief)
			fprintf(f, "  %-21s %s\n", cmds[i].name, cmds[i].brief);
	fputs("\nFlags:\n", f);
	for (i = 0; i < n; i++) {
		if (defs[i].brief && (defs[i].cmds & OPTS_IN(OPTS_CMD_RUN)))
			usage_flag(f, &defs[i]);
		else if (jail_flag_unlisted(&defs[i]))
			more++;
	}
	fprintf(f, "  -h, --help, --version and %zu more: boundary help flags, man boundary\n",
		more);
	usage_examples(f, cmds[OPTS_CMD_RUN].examples);
}

void cli_usage_flags(FILE *f)
{
	const struct opts_def *defs;
	size_t i, n;

	defs = opts_defs(&n);
	fputs("Usage: boundary [flags] -- command [args...]\n\nFlags (man boundary says more, "
	      "with each one's variable and config key):\n",
	      f);
	for (i = 0; i < n; i++)
		if (defs[i].cmds & OPTS_IN(OPTS_CMD_RUN))
			usage_flag(f, &defs[i]);
}

void cli_usage(FILE *f, enum opts_cmd cmd)
{
	const char *words[OPTS__COUNT + 6];
	char names[OPTS__COUNT][48];
	const struct opts_def *defs;
	size_t i, n, k = 0, shared = 0, left, last;

	if (cmd == OPTS_CMD_RUN) {
		usage_main(f);
		return;
	}
	defs = opts_defs(&n);
	fprintf(f, "Usage: boundary %s\n\n%s\n\nFlags:\n", cmds[cmd].usage, cmds[cmd].about);
	/* Its own flags in full; those every proxy takes, by reference to boundary help flags. */
	for (i = 0; i < n; i++) {
		if (!(defs[i].cmds & OPTS_IN(cmd)))
			continue;
		if (defs[i].id != OPTS_HELP && (defs[i].cmds & PROXY_CMDS) == PROXY_CMDS)
			shared++;
		else
			usage_flag(f, &defs[i]);
	}
	if (!shared)
		goto examples;
	/* Those it leaves out, or, when it takes fewer than it leaves (k8s-node), those it takes. */
	for (i = 0, left = 0; i < n; i++)
		if ((defs[i].cmds & OPTS_IN(OPTS_CMD_RUN)) && !(defs[i].cmds & OPTS_IN(cmd)))
			left++;
	if (left > shared) {
		words[k++] = "these";
		words[k++] = "of";
		words[k++] = "the";
		words[k++] = "jail's";
		words[k++] = "(boundary help flags):";
		for (i = 0, last = SIZE_MAX; i < n; i++) {
			if (defs[i].id != OPTS_HELP && (defs[i].cmds & PROXY_CMDS) == PROXY_CMDS &&
			    (defs[i].cmds & OPTS_IN(cmd))) {
				snprintf(names[i], sizeof(names[i]), "--%s,", defs[i].flag);
				words[k++] = names[i];
				last = i;
			}
		}
		names[last][strlen(names[last]) - 1] = '.';
		usage_also(f, words, k);
		goto examples;
	}
	words[k++] = "the";
	words[k++] = "jail's";
	words[k++] = "flags";
	words[k++] = "(boundary help flags)";
	words[k++] = "but";
	for (i = 0, last = SIZE_MAX; i < n; i++) {
		if ((defs[i].cmds & OPTS_IN(OPTS_CMD_RUN)) && !(defs[i].cmds & OPTS_IN(cmd))) {
			snprintf(names[i], sizeof(names[i]), "--%s,", defs[i].flag);
			words[k++] = names[i];
			last = i;
		}
	}
	if (last == SIZE_MAX)
		words[--k - 1] = "(boundary help flags).";
	else
		names[last][strlen(names[last]) - 1] = '.';
	usage_also(f, words, k);
examples:
	usage_examples(f, cmds[cmd].examples);
}
