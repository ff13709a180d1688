// SPDX-License-Identifier: MIT
/*
 * approve.c: boundary approve (approve.h). The protocol is one line each way (policy.c):
 * "list" gets the pending requests, one a line, tab-separated (id, seconds waiting, pid, name,
 * method, URL, executable), then "end"; "answer N WORD" gets "ok ..." or "error ...". A
 * request's ID as shown is "<boundary's pid>.<N>".
 */
#include "user/approve.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "proxy/log.h"
#include "proxy/policy.h"

/* A connection to the socket at path, or -1 (a boundary that is gone leaves nothing to ask). */
static int dial(const char *path)
{
	struct sockaddr_un sa;
	struct timeval tv = {5, 0};
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends req, reads the whole answer into out (NUL-terminated). Returns its length or -1. */
static ssize_t talk(const char *path, const char *req, char *out, size_t cap)
{
	size_t len = 0;
	ssize_t n;
	int fd = dial(path);

	if (fd == -1)
		return -1;
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
		close(fd);
		return -1;
	}
	while (len + 1 < cap && (n = read(fd, out + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	out[len] = '\0';
	return (ssize_t)len;
}

/* The directories to look in: this user's, or (root) every user's. */
static int for_each_socket(int (*fn)(const char *path, long pid, void *arg), void *arg)
{
	char dir[300], path[600];
	struct dirent *de, *ue;
	DIR *root, *d;
	char *end;
	long pid;
	int n = 0;

	root = opendir(POLICY_SOCKET_ROOT);
	if (!root)
		return 0;
	while ((ue = readdir(root))) {
		if (ue->d_name[0] == '.')
			continue;
		if (getuid() != 0 && strtoul(ue->d_name, &end, 10) != getuid())
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", POLICY_SOCKET_ROOT, ue->d_name);
		d = opendir(dir);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			pid = strtol(de->d_name, &end, 10);
			if (pid <= 0 || strcmp(end, ".sock") != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			n += fn(path, pid, arg);
		}
		closedir(d);
	}
	closedir(root);
	return n;
}

static int list_one(const char *path, long pid, void *arg)
{
	char buf[65536], *line, *save = NULL, *f[7], *s, id[32], who[64], waited[16];
	int *shown = arg, n = 0, k;

	if (talk(path, "list\n", buf, sizeof(buf)) < 0)
		return 0;
	if (strncmp(buf, "error ", 6) == 0) {
		buf[strcspn(buf, "\n")] = '\0';
		log_error("boundary %ld: %s", pid, buf + 6);
		return 0;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strcmp(line, "end") == 0)
			break;
		for (k = 0, s = line; k < 7 && s; k++) {
			f[k] = s;
			s = strchr(s, '\t');
			if (s)
				*s++ = '\0';
		}
		if (k < 7)
			continue;
		if (!*shown)
			printf("%-12s %-8s %-22s %s\n", "ID", "WAITING", "PROCESS", "REQUEST");
		(*shown)++;
		n++;
		snprintf(id, sizeof(id), "%ld.%s", pid, f[0]);
		snprintf(waited, sizeof(waited), "%ss", f[1]);
		snprintf(who, sizeof(who), "%s[%s]", f[3], f[2]);
		printf("%-12s %-8s %-22s %s %s\n", id, waited, who, f[4], f[5]);
		if (strcmp(f[6], "-") != 0)
			printf("%-12s %-8s %-22s (it runs %s)\n", "", "", "", f[6]);
	}
	return n;
}

struct answer_arg {
	long pid;
	const char *req;
	int status;
};

static int answer_one(const char *path, long pid, void *arg)
{
	struct answer_arg *a = arg;
	char buf[1024];

	if (pid != a->pid)
		return 0;
	if (talk(path, a->req, buf, sizeof(buf)) <= 0) {
		log_error("cannot reach boundary %ld at %s: %s (has it stopped?)", pid, path,
			  strerror(errno));
		a->status = LOG_EXIT_FAILURE;
		return 1;
	}
	buf[strcspn(buf, "\n")] = '\0';
	if (strncmp(buf, "ok ", 3) == 0) {
		printf("boundary %ld: %s\n", pid, buf + 3);
		a->status = 0;
	} else {
		log_error("boundary %ld: %s", pid, strncmp(buf, "error ", 6) == 0 ? buf + 6 : buf);
		a->status = 1;
	}
	return 1;
}

/* Answers request id ("PID.N") with word. Returns the exit status. */
static int answer_id(const char *id, const char *word)
{
	struct answer_arg a = {0, NULL, 1};
	char req[96], *end;
	unsigned long n;

	errno = 0;
	a.pid = strtol(id, &end, 10);
	if (errno || a.pid <= 0 || *end != '.' || !end[1] ||
	    (n = strtoul(end + 1, &end, 10), *end) || n == 0 || n > 0xffffffffUL) {
		log_error("approve: \"%.64s\" is not a request's ID (like 1234.1: boundary approve "
			  "lists them)",
			  id);
		return LOG_EXIT_FAILURE;
	}
	if (strspn(word, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(word) ||
	    strlen(word) > 8) {
		log_error("approve: answer once, always or deny (not \"%.32s\")", word);
		return LOG_EXIT_FAILURE;
	}
	snprintf(req, sizeof(req), "answer %lu %s\n", n, word);
	a.req = req;
	if (!for_each_socket(answer_one, &a)) {
		log_error("approve: no boundary with pid %ld waits for answers from you (boundary "
			  "approve lists those that do)",
			  a.pid);
		return LOG_EXIT_FAILURE;
	}
	return a.status;
}

/*
 * On a terminal, the list, then "ID ANSWER" read and answered, again until an empty line or the
 * end of input: the picker. With nothing to answer it watches for new requests.
 */
static int pick(void)
{
	char line[256], id[64], word[16];
	struct pollfd pf = {STDIN_FILENO, POLLIN, 0};
	bool said = false;
	int shown;

	for (;;) {
		shown = 0;
		for_each_socket(list_one, &shown);
		if (!shown) {
			if (!said)
				printf("no request waits for an answer; watching for one (an empty "
				       "line or ^C ends)\n");
			fflush(stdout);
			said = true;
			if (poll(&pf, 1, 500) == 1 && (!fgets(line, sizeof(line), stdin) ||
						       line[strspn(line, " \t")] == '\n'))
				return 0;
			continue;
		}
		said = false;
		printf("\nanswer: ID once|always|deny (an empty line ends) > ");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin) || line[strspn(line, " \t")] == '\n')
			return 0;
		if (sscanf(line, "%63s %15s", id, word) != 2) {
			printf("give an ID and an answer, like: %s once\n", "1234.1");
			continue;
		}
		answer_id(id, word);
		printf("\n");
	}
}

int approve_run(const struct opts *o)
{
	int shown = 0;

	if (o->n_log_files == 0) {
		if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
			return pick();
		for_each_socket(list_one, &shown);
		if (!shown)
			printf("no request waits for an answer\n");
		else
			printf("\nanswer with: boundary approve ID once|always|deny\n");
		return 0;
	}
	if (o->n_log_files != 2) {
		log_error("approve: give an ID and an answer (usage: boundary approve [ID "
			  "once|always|deny]; boundary approve alone lists the IDs)");
		return LOG_EXIT_FAILURE;
	}
	return answer_id(o->log_files[0], o->log_files[1]);
}
