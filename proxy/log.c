// SPDX-License-Identifier: MIT
/*
 * log.c: the operator's log. Owns the destination (stderr or one file) and the level. It does
 * not own the audit stream, which has its own writer and never blocks on this one.
 */
#include "proxy/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static enum log_level cur_level = LOG_WARN;
static int log_fd = STDERR_FILENO;
static char log_file[4096]; /* what log_open() opened; "" for stderr */

static const char *const level_names[] = {
    [LOG_ERROR] = "error",
    [LOG_WARN] = "warn",
    [LOG_INFO] = "info",
    [LOG_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
	cur_level = level;
}

enum log_level log_get_level(void)
{
	return cur_level;
}

bool log_enabled(enum log_level level)
{
	return level <= cur_level;
}

int log_level_parse(const char *s, enum log_level *level)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	/* coder/boundary and slog also say "warning" in places. */
	if (strcasecmp(s, "warning") == 0) {
		*level = LOG_WARN;
		return 0;
	}
	return -EINVAL;
}

const char *log_level_name(enum log_level level)
{
	if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "?";
	return level_names[level];
}

int log_open(const char *path)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd == -1)
		return -errno;
	log_close();
	log_fd = fd;
	snprintf(log_file, sizeof(log_file), "%s", path);
	return 0;
}

void log_close(void)
{
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
	log_file[0] = '\0';
}

const char *log_path(void)
{
	return log_file[0] ? log_file : NULL;
}

void log_vwrite(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char line[2048];
	size_t n;
	int saved = errno;
	int r;

	if (!log_enabled(level))
		return;
	r = snprintf(line, sizeof(line), "boundary: ");
	n = (size_t)r;
	if (level != LOG_ERROR) {
		r = snprintf(line + n, sizeof(line) - n, "%s: ", log_level_name(level));
		n += (size_t)r;
	}
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n += (size_t)r;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	if (errnum != 0) {
		r = snprintf(line + n, sizeof(line) - n, ": %s", strerror(errnum));
		if (r > 0)
			n += (size_t)r;
		if (n > sizeof(line) - 2)
			n = sizeof(line) - 2;
	}
	line[n++] = '\n';
	/* One write per line, so lines from several threads never interleave. */
	if (write(log_fd, line, n) == -1) {
		/* Nowhere left to say it; the line is lost. */
	}
	errno = saved;
}

#define LOG_FN(name, level, with_errno)                                                            \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		int e = errno;                                                                     \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_vwrite(level, with_errno ? e : 0, fmt, ap);                                    \
		va_end(ap);                                                                        \
		errno = e;                                                                         \
	}

LOG_FN(log_error, LOG_ERROR, 0)
LOG_FN(log_warn, LOG_WARN, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_debug, LOG_DEBUG, 0)
LOG_FN(log_error_errno, LOG_ERROR, 1)
LOG_FN(log_warn_errno, LOG_WARN, 1)

void fatal(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERROR, e, fmt, ap);
	va_end(ap);
	exit(LOG_EXIT_FAILURE);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(LOG_EXIT_FAILURE);
}
