// SPDX-License-Identifier: MIT
/*
 * setup_test.c: what every jail type shares (user/setup.c). The command's environment (the CA
 * variables and the caller's replaced, the rest kept), the CA directory's choice, the command's
 * exec (127 "command not found" also when a PATH directory cannot be searched, the case in which
 * the landlock and weak types once said 126) and the status of an exited child.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "user/opts.h"
#include "user/setup.h"

extern char **environ;

/* How many of env's entries are exactly kv. */
static int count(char **env, const char *kv)
{
	int n = 0;

	for (; *env; env++)
		if (strcmp(*env, kv) == 0)
			n++;
	return n;
}

static bool has_value(char **env, const char *value)
{
	for (; *env; env++)
		if (strstr(*env, value))
			return true;
	return false;
}

static void test_command_env(void **state)
{
	const char *extra[] = {"HTTP_PROXY=http://127.0.0.1:1", NULL};
	struct opts o;
	char **env;

	(void)state;
	opts_init(&o);
	setenv("SSL_CERT_FILE", "/caller/bundle.pem", 1);
	setenv("NODE_EXTRA_CA_CERTS", "/caller/extra.pem", 1);
	setenv("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", "/caller/grpc-roots.pem", 1);
	setenv("HTTP_PROXY", "http://caller:3128", 1);
	setenv("BOUNDARY_TEST_KEPT", "yes", 1);
	/* The operator's proxy URL may carry its password: never the jail's to read. */
	setenv("BOUNDARY_UPSTREAM_PROXY", "http://u:proxy-password@proxy:3128", 1);
	env = setup_command_env(&o, "/run/jail/ca-bundle.pem", extra);
	assert_non_null(env);
	assert_int_equal(count(env, "SSL_CERT_FILE=/run/jail/ca-bundle.pem"), 1);
	assert_int_equal(count(env, "NODE_EXTRA_CA_CERTS=/run/jail/ca-bundle.pem"), 1);
	assert_int_equal(count(env, "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=/run/jail/ca-bundle.pem"), 1);
	assert_int_equal(count(env, "CURL_CA_BUNDLE=/run/jail/ca-bundle.pem"), 1);
	assert_int_equal(count(env, "SSL_CERT_DIR=/etc/ssl/certs"), 1);
	assert_int_equal(count(env, "HTTP_PROXY=http://127.0.0.1:1"), 1);
	assert_int_equal(count(env, "BOUNDARY_TEST_KEPT=yes"), 1);
	assert_false(has_value(env, "/caller/"));
	assert_false(has_value(env, "caller:3128"));
	assert_false(has_value(env, "proxy-password"));
	setup_command_env_free(env);
	setup_command_env_free(NULL);
	unsetenv("BOUNDARY_UPSTREAM_PROXY");
	opts_fini(&o);
}

static void test_config_dir(void **state)
{
	struct opts_user user = {.set = true, .uid = 0, .gid = 0};
	char dir[4096];
	bool owned;

	(void)state;
	setenv("XDG_CONFIG_HOME", "/xdg/home", 1);
	setup_config_dir(NULL, dir, sizeof(dir), &owned);
	assert_string_equal(dir, "/xdg/home/coder_boundary");
	assert_false(owned);
	/* Another user's directory is never taken from boundary's own environment. */
	user.uid = getuid();
	setup_config_dir(&user, dir, sizeof(dir), &owned);
	assert_null(strstr(dir, "/xdg/home"));
	assert_true(strcmp(dir, "/var/lib/boundary") == 0 ? !owned : owned);
	/* A relative XDG_CONFIG_HOME is ignored, as the XDG spec says. */
	setenv("XDG_CONFIG_HOME", "xdg", 1);
	setup_config_dir(NULL, dir, sizeof(dir), &owned);
	assert_int_equal(dir[0], '/');
	unsetenv("XDG_CONFIG_HOME");
}

/*
 * Runs setup_exec(argv) in a child with PATH set to path, as uid (or as itself for -1), and
 * returns its exit status; what it said goes to said.
 */
static int exec_status(char *const argv[], const char *path, uid_t uid, char *said, size_t len)
{
	int fds[2], status = -1;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		setenv("PATH", path, 1);
		if (uid != (uid_t)-1 &&
		    (setgroups(0, NULL) == -1 || setgid(uid) == -1 || setuid(uid) == -1))
			_exit(99);
		setup_exec(argv, environ);
	}
	close(fds[1]);
	n = read(fds[0], said, len - 1);
	said[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_exec_not_found(void **state)
{
	char cmd[] = "boundary-no-such-command", said[512];
	char *argv[] = {cmd, NULL};

	(void)state;
	assert_int_equal(exec_status(argv, "/usr/bin:/bin", (uid_t)-1, said, sizeof(said)), 127);
	assert_non_null(strstr(said, "boundary: cannot run boundary-no-such-command: command not "
				     "found"));
}

/* execvpe says EACCES for a PATH directory it cannot search; the command is still not found. */
static void test_exec_not_found_past_unsearchable_dir(void **state)
{
	char cmd[] = "boundary-no-such-command", dir[] = "/tmp/setup_test.XXXXXX";
	char *argv[] = {cmd, NULL};
	char path[256], said[512];
	uid_t uid = (uid_t)-1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* Root searches any directory: the command then runs as nobody, as a jail's does. */
	if (geteuid() == 0)
		uid = 65534;
	else
		assert_int_equal(chmod(dir, 0), 0);
	snprintf(path, sizeof(path), "%s:/usr/bin:/bin", dir);
	assert_int_equal(exec_status(argv, path, uid, said, sizeof(said)), 127);
	assert_non_null(strstr(said, "command not found"));
	rmdir(dir);
}

static void test_exec_not_executable(void **state)
{
	char file[] = "/tmp/setup_test.XXXXXX", said[512];
	char *argv[] = {file, NULL};
	int fd;

	(void)state;
	fd = mkstemp(file);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(exec_status(argv, "/usr/bin:/bin", (uid_t)-1, said, sizeof(said)), 126);
	unlink(file);
}

static void test_child_status(void **state)
{
	int pidfd, status = -1;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(7);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	assert_true(pidfd >= 0);
	assert_int_equal(setup_child_status(pidfd, &status), 0);
	assert_int_equal(status, 7);
	close(pidfd);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	assert_true(pidfd >= 0);
	kill(pid, SIGTERM);
	status = -1;
	assert_int_equal(setup_child_status(pidfd, &status), 0);
	assert_int_equal(status, 128 + SIGTERM);
	close(pidfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_command_env),
	    cmocka_unit_test(test_config_dir),
	    cmocka_unit_test(test_exec_not_found),
	    cmocka_unit_test(test_exec_not_found_past_unsearchable_dir),
	    cmocka_unit_test(test_exec_not_executable),
	    cmocka_unit_test(test_child_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
