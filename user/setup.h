/* SPDX-License-Identifier: MIT */
/*
 * setup.h: what every jail type (the BPF jail of jail.c, landlock and weak and serve of
 * explicit.c) sets up the same way: the command's environment, the CA directory, the audit
 * sinks, the proxy's common configuration, boundary's signals, the wait for the command, and
 * the last steps of the command's own process (signals reset, exec). Functions that can fail
 * fill a caller's buffer with a sentence for a person and return -errno; only the caller logs.
 */
#ifndef BOUNDARY_USER_SETUP_H
#define BOUNDARY_USER_SETUP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

struct opts;
struct opts_user;
struct audit;
struct ca;
struct proxy_config;
struct tls_ctxs;
typedef struct ssl_ctx_st SSL_CTX;

/* The signals boundary forwards to the command (and so blocks for itself while it runs). */
extern const int setup_forwarded_signals[];

/*
 * Refuses --user naming another user when boundary runs unprivileged (on file capabilities):
 * it may run commands as its own user only. Returns 0, or -EPERM with err filled.
 */
int setup_check_user(const struct opts *o, char *err, size_t errlen);

/*
 * Ignores SIGPIPE (a peer that vanishes mid-write must not kill boundary) and blocks the
 * forwarded signals, so they wait in a queue until the caller's loop reads them and setup is
 * never cut in half. Returns a signalfd for them (the mask before in *old), or -errno with err
 * filled and the mask as it was. setup_signals_give() closes it and restores the mask; it does
 * nothing for fd < 0.
 */
int setup_signals_take(sigset_t *old, char *err, size_t errlen);
void setup_signals_give(int fd, const sigset_t *old);

/*
 * The status of the exited child behind pidfd, as boundary exits with it: its exit code, or
 * 128+N if signal N killed it. Returns 0 with *status set, or -errno (not exited yet: -ECHILD
 * or -EAGAIN, as waitid says).
 */
int setup_child_status(int pidfd, int *status);

/*
 * Waits for the command behind pidfd, forwarding the signals read from sigfd (a signalfd of
 * setup_signals_take) to it, except those the kernel sent on a terminal's behalf, which reach
 * the command's process group directly. Returns its status as setup_child_status() makes it, or
 * 125 (LOG_EXIT_FAILURE) after logging why it could not wait.
 */
int setup_wait_command(int pidfd, int sigfd);

/*
 * The environment a command is started with: boundary's own, less the CA variables (each then
 * set to bundle, SSL_CERT_DIR to /etc/ssl/certs), with HOME, USER and LOGNAME of --user's user,
 * and extra's "NAME=value" strings (NULL-terminated, or NULL), which replace the caller's
 * variables of the same names, and last each secret's NAME set to its placeholder (never its
 * value), which replaces any other NAME. Returns a NULL-terminated array the caller frees with
 * setup_command_env_free() (which accepts NULL), or NULL when out of memory.
 */
char **setup_command_env(const struct opts *o, const char *bundle, const char *const *extra);
void setup_command_env_free(char **env);

/*
 * boundary's config directory, where the persistent CA lives, for user (NULL: boundary's own
 * user): $XDG_CONFIG_HOME/coder_boundary (when user is not set), else that user's
 * ~/.config/coder_boundary, else, for a user with no home, /var/lib/boundary (root's only).
 * *owned_by_user says whether the directory is to be made user's.
 */
void setup_config_dir(const struct opts_user *user, char *buf, size_t len, bool *owned_by_user);

/*
 * Opens where audit records go, as o says (--audit-log, --log-dir, the Coder agent's socket),
 * records tagged with id and the command argv0 (or NULL). *out is NULL when they go nowhere.
 * Returns 0, or -errno with err filled.
 */
int setup_audit_open(const struct opts *o, const char *id, const char *argv0, struct audit **out,
		     char *err, size_t errlen);

/*
 * What every proxy boundary runs shares, as o says: the TLS contexts (interception with ca,
 * upstream trust with --upstream-ca) and, in pc (zeroed first), the rules, the contexts, the
 * timeouts and o's secrets (borrowed from o->secrets, which outlives the proxy; each named
 * in an info line with where its value may go). The caller adds what is its own. Returns 0, or -EINVAL with err filled (contexts
 * made before the failure are left in *server and *client for the caller to free).
 */
int setup_proxy_common(const struct opts *o, struct ca *ca, struct tls_ctxs *tls,
		       struct proxy_config *pc, char *err, size_t errlen);

/* Removes the files in dir (a run directory, or a jail's pins), then dir; warns of what stays. */
void setup_remove_dir(const char *dir);

/*
 * For the command's own process, which cannot use the logger (another thread may have held its
 * lock at fork): "boundary: " and the message on stderr, in one write.
 */
void setup_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* For the command's own process: every signal's action back to default, none blocked. */
void setup_reset_signals(void);

/*
 * The command's last step: execs argv (argv[0] looked up in boundary's PATH) with envp. On
 * failure says why and exits 127 when the command was not found (as a shell would: also when
 * execvpe says EACCES only because a directory on PATH could not be searched), else 126.
 */
void setup_exec(char *const argv[], char *const envp[]) __attribute__((noreturn));

#endif /* BOUNDARY_USER_SETUP_H */
