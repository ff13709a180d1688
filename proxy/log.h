/* SPDX-License-Identifier: MIT */
/*
 * log.h: human-readable log lines for boundary's operator (not the audit stream).
 *
 * One line per event: "boundary: <message>" on stderr, or to a file chosen with log_open().
 * Levels error < warn < info < debug; lines above the current level are dropped. The *_errno
 * variants append ": strerror(errno)" and leave errno as it was. fatal()/fatalx() log at error
 * level and exit with status 125 (boundary's own failure), for start-up and broken invariants only.
 */
#ifndef BOUNDARY_PROXY_LOG_H
#define BOUNDARY_PROXY_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_ERROR = 0,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

/* The exit status of boundary itself failing, as env(1) and timeout(1) use it. */
#define LOG_EXIT_FAILURE 125

/* Sets the level below which lines are written. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/*
 * Parses "error", "warn", "info" or "debug" (any case). Returns 0 and sets *level, or -EINVAL.
 */
int log_level_parse(const char *s, enum log_level *level);

/* The lower-case name of a level. */
const char *log_level_name(enum log_level level);

/*
 * Sends log lines to path (appended, created 0600) instead of stderr. Returns 0 or -errno; on
 * failure the destination is unchanged.
 */
int log_open(const char *path);

/* Goes back to stderr, closing any file log_open() opened. */
void log_close(void);

/* The file log_open() opened, or NULL while lines go to stderr. */
const char *log_path(void);

/* True when a line at this level would be written; for skipping costly formatting. */
bool log_enabled(enum log_level level);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void log_vwrite(enum log_level level, int errnum, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif /* BOUNDARY_PROXY_LOG_H */
