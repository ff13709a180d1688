/* SPDX-License-Identifier: MIT */
/*
 * jseval.h: the --js engine's evaluator, MuJS (Debian's libmujs) in a process of its own.
 *
 * boundary runs itself again as "boundary __js-eval MEMORY" (policy.c starts it, one per policy
 * lane, as the invoking user): the code arrives on fd 3, the requests as JSON lines on stdin,
 * the same lines --rules-program reads. For each it sets the global r to JSON.parse(line), runs
 * the compiled code and writes, on stdout,
 *
 *   #TEXT          zero or more lines from console.log and friends (for boundary's debug log)
 *   !memory        the code went over its memory cap (the evaluator exits after it)
 *   !error TEXT    the code threw, or its result could not be read
 *   TEXT           the result as httpjail stringifies it: true/false, a string, JSON of an object
 *
 * The last kind is read by policy_parse_reply(), exactly as a rules program's reply. MuJS has no
 * hook to stop a running script, so the time budget is the parent's: it kills the process.
 */
#ifndef BOUNDARY_PROXY_JSEVAL_H
#define BOUNDARY_PROXY_JSEVAL_H

#include <stddef.h>

/* argv[1] of the evaluator process. */
#define JSEVAL_ARGV1 "__js-eval"

/* The largest script boundary takes (--js or --js-file), and the largest request line. */
#define JSEVAL_CODE_MAX (1024u * 1024u)
#define JSEVAL_LINE_MAX 8192

/*
 * Compiles code (named name in messages: "--js" or the file's path) without running it. Returns
 * 0, or -EINVAL with err filled ("rules.js:3:14: unexpected token ..."; line and column).
 */
int jseval_check(const char *name, const char *code, char *err, size_t errlen);

/*
 * The whole of the file at path (at most JSEVAL_CODE_MAX bytes, no NUL inside), NUL-terminated;
 * the caller frees it. NULL with err filled when it cannot be read.
 */
char *jseval_read_file(const char *path, char *err, size_t errlen);

/* The evaluator's main(): argv is {"boundary", JSEVAL_ARGV1, MEMORY_BYTES}. Never returns. */
int jseval_main(int argc, char **argv) __attribute__((noreturn));

/*
 * Exposed for the unit tests and the fuzz target: one request line evaluated by a fresh state
 * running code, the reply line (as written to stdout, without console lines or newline) into
 * out. Returns 0, or -EINVAL when code does not compile.
 */
int jseval_once(const char *code, const char *line, size_t mem_cap, char *out, size_t cap);

#endif /* BOUNDARY_PROXY_JSEVAL_H */
