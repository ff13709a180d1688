// SPDX-License-Identifier: MIT
/*
 * doctor.c: boundary doctor. Each check asks what one part of a jail needs, through the probe the
 * jail itself uses where one exists (cgroup_find_root, jail_probe, landlock_abi,
 * privs_caps_check, reap's stale ids, ca_open/ca_ready, config_load_file), and records one line:
 * ok, info, warn or FAIL, with the reason and what to do. The modes are then judged from the
 * checks. It owns no probe of its own beyond those the jail has none for (user namespaces,
 * seccomp, the BPF filesystem's presence), and it changes nothing on the machine.
 */
#include "user/doctor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proxy/audit.h"
#include "proxy/ca.h"
#include "proxy/log.h"
#include "user/cgroup.h"
#include "user/config.h"
#include "user/jail.h"
#include "user/landlock.h"
#include "user/opts.h"
#include "user/privs.h"
#include "user/reap.h"
#include "user/setup.h"
#include "user/shared.h"

/* The oldest kernel with everything a jail uses: cgroup.kill came last (5.14). */
#define KERNEL_MIN_MAJOR 5
#define KERNEL_MIN_MINOR 14

#define MAX_CHECKS 16
#define DETAIL_MAX 1024

enum status {
	ST_OK = 0,
	ST_INFO,
	ST_WARN,
	ST_FAIL,
};

static const char *const status_names[] = {"ok", "info", "warn", "FAIL"};

struct check {
	const char *name;
	enum status st;
	char detail[DETAIL_MAX];
};

/* What the modes are judged on, filled by the checks. */
struct findings {
	bool kernel_ok;
	bool privileged; /* root, or every capability of PRIVS_SETCAP */
	char priv_why[DETAIL_MAX];
	bool cgroup_ok;
	bool bpf_ok;
	bool seccomp_ok;
	bool userns_ok;
	int landlock; /* ABI, or -errno */
	bool config_ok;
	enum opts_jail jail_type; /* the default mode: the config's or the environment's */
	bool as_root_in_userns;	  /* plain root without --user: the command gets a user namespace */
};

struct report {
	struct check c[MAX_CHECKS];
	size_t n;
	struct findings f;
	struct check config; /* read first (it names the mode and the user), listed last */
};

static void add(struct report *r, const char *name, enum status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add(struct report *r, const char *name, enum status st, const char *fmt, ...)
{
	struct check *c;
	va_list ap;

	if (r->n == MAX_CHECKS)
		fatalx("%s: too many checks", __func__);
	c = &r->c[r->n++];
	c->name = name;
	c->st = st;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

/* The first line of a small file under /proc or /sys, or -errno. */
static int read_line(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static void check_kernel(struct report *r)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) == -1 || sscanf(u.release, "%d.%d", &major, &minor) != 2) {
		add(r, "kernel", ST_WARN, "cannot tell the kernel's version");
		r->f.kernel_ok = true;
		return;
	}
	r->f.kernel_ok =
	    major > KERNEL_MIN_MAJOR || (major == KERNEL_MIN_MAJOR && minor >= KERNEL_MIN_MINOR);
	if (r->f.kernel_ok)
		add(r, "kernel", ST_OK, "Linux %s on %s", u.release, u.machine);
	else
		add(r, "kernel", ST_FAIL,
		    "Linux %s is older than %d.%d, the first with cgroup.kill, which a jail uses "
		    "to end its processes: boundary's own jail needs a newer kernel",
		    u.release, KERNEL_MIN_MAJOR, KERNEL_MIN_MINOR);
}

static void check_privileges(struct report *r)
{
	const struct passwd *pw;
	char err[512];

	if (!privs_unprivileged()) {
		r->f.privileged = true;
		add(r, "privileges", ST_OK, "root: boundary can load and attach its programs");
		return;
	}
	pw = getpwuid(getuid());
	if (privs_caps_check(err, sizeof(err)) == 0) {
		r->f.privileged = true;
		add(r, "privileges", ST_OK,
		    "user %s on file capabilities (%s): boundary can load and attach its programs",
		    pw ? pw->pw_name : "?", PRIVS_SETCAP);
		return;
	}
	snprintf(r->f.priv_why, sizeof(r->f.priv_why),
		 "neither root nor on file capabilities (run it with sudo, or: sudo setcap %s+ep "
		 "BINARY)",
		 PRIVS_SETCAP);
	add(r, "privileges", ST_WARN, "user %s: %s", pw ? pw->pw_name : "?", err);
}

/* The cgroup of this process below the cgroup2 mount ("/user.slice/..."), from the 0:: line. */
static int own_cgroup(char *buf, size_t len)
{
	char *line = NULL;
	size_t cap = 0;
	int ret = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) != -1) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(buf, len, "%s", line + 3);
		ret = 0;
		break;
	}
	free(line);
	fclose(f);
	return ret;
}

/*
 * Whether cgroups below root have cgroup.kill (5.14+), looked for in boundary's parent or else
 * this process's own cgroup; true when neither is there to look at (the root cgroup has none).
 */
static bool has_cgroup_kill(const char *root)
{
	char own[2048], path[8192];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, CGROUP_PARENT);
	if (stat(path, &st) == -1) {
		if (own_cgroup(own, sizeof(own)) < 0 || strcmp(own, "/") == 0)
			return true;
		snprintf(path, sizeof(path), "%s%s", root, own);
	}
	if ((size_t)snprintf(own, sizeof(own), "%.2000s/cgroup.kill", path) >= sizeof(own))
		return true;
	return stat(own, &st) == 0;
}

static void check_cgroup(struct report *r)
{
	char root[4096], own[2048], path[8192], err[512], deleg[160] = "";
	struct statvfs vf;
	struct statfs sf;
	struct stat st;

	if (cgroup_find_root(root, sizeof(root), err, sizeof(err)) < 0) {
		add(r, "cgroup2", ST_FAIL, "%s", err);
		return;
	}
	if (statfs(root, &sf) == -1 || (unsigned long)sf.f_type != CGROUP2_SUPER_MAGIC) {
		add(r, "cgroup2", ST_FAIL,
		    "%s is listed as the cgroup2 mount in /proc/self/mountinfo, but what is "
		    "there now is not cgroup2 (something is mounted over it): unmount what hides "
		    "it, or mount cgroup2 again (mount -t cgroup2 none %s)",
		    root, root);
		return;
	}
	if (statvfs(root, &vf) == 0 && (vf.f_flag & ST_RDONLY)) {
		add(r, "cgroup2", ST_FAIL,
		    "%s is mounted read-only (in a container?): boundary cannot make its jails' "
		    "cgroups; run it on the host, or give the container a writable cgroup2",
		    root);
		return;
	}
	if (!has_cgroup_kill(root)) {
		add(r, "cgroup2", ST_FAIL,
		    "mounted at %s, but without cgroup.kill (Linux 5.14+), which a jail uses to "
		    "end its processes",
		    root);
		return;
	}
	/* Delegation: the user's own cgroup, made theirs by systemd; boundary does not need it. */
	if (privs_unprivileged() && own_cgroup(own, sizeof(own)) == 0) {
		snprintf(path, sizeof(path), "%s%s", root, own);
		if (stat(path, &st) == 0)
			snprintf(deleg, sizeof(deleg), "; your cgroup is %sdelegated to you",
				 st.st_uid == getuid() ? "" : "not ");
	}
	r->f.cgroup_ok = true;
	add(r, "cgroup2", ST_OK, "mounted at %s; jails go under %s/%s%s", root, root, CGROUP_PARENT,
	    deleg);
}

static void check_bpf(struct report *r)
{
	char err[1024], jit[32] = "", progs[512];
	struct statfs sf;
	struct stat st;
	int ret;

	if (statfs("/sys/fs/bpf", &sf) == 0 && (unsigned long)sf.f_type == BPF_FS_MAGIC)
		add(r, "bpffs", ST_OK, "mounted at /sys/fs/bpf, where jails pin their programs");
	else
		add(r, "bpffs", ST_WARN,
		    "/sys/fs/bpf is not a BPF filesystem (not mounted): the first jail mounts one "
		    "there, but programs pinned in one that was hidden or unmounted are out of "
		    "sight (mount it at boot: mount -t bpf bpf /sys/fs/bpf)");
	if (stat("/sys/kernel/btf/vmlinux", &st) == 0)
		add(r, "btf", ST_OK, "the kernel's BTF is at /sys/kernel/btf/vmlinux");
	else
		add(r, "btf", ST_INFO,
		    "no /sys/kernel/btf/vmlinux: not needed, the programs use only UAPI types "
		    "(their own BTF is loaded with them)");
	if (!r->f.privileged) {
		add(r, "bpf", ST_WARN,
		    "the jail's programs were not tried: loading them needs root or the "
		    "capabilities above");
		return;
	}
	read_line("/proc/sys/net/core/bpf_jit_enable", jit, sizeof(jit));
	privs_raise();
	ret = jail_probe(err, sizeof(err));
	privs_lower();
	if (ret < 0) {
		add(r, "bpf", ST_FAIL,
		    "%s; the kernel needs BPF cgroup hooks (CONFIG_CGROUP_BPF) and socket storage; "
		    "boundary --log-level debug doctor shows the verifier's log",
		    err);
		return;
	}
	r->f.bpf_ok = true;
	if (jail_prog_sections(progs, sizeof(progs)) < 0)
		snprintf(progs, sizeof(progs), "?");
	add(r, "bpf", ST_OK,
	    "the jail's programs load, for a jail's cgroup and for a parent (loaded and closed "
	    "again; JIT %s): %s",
	    strcmp(jit, "0") == 0 ? "off" : "on", progs);
}

/* Whether this process may make a user namespace: tried in a child that then exits. */
static int try_userns(void)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid == -1)
		return -errno;
	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER) == -1 ? (errno & 0x7f) : 0);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status))
		return -EIO;
	return -WEXITSTATUS(status);
}

static void check_userns(struct report *r)
{
	char max[32] = "?", clone[32] = "", aa[32] = "", extra[256] = "";
	int ret, n = 0;

	read_line("/proc/sys/user/max_user_namespaces", max, sizeof(max));
	if (read_line("/proc/sys/kernel/unprivileged_userns_clone", clone, sizeof(clone)) == 0)
		n += snprintf(extra + n, sizeof(extra) - (size_t)n,
			      ", kernel.unprivileged_userns_clone=%s", clone);
	if (read_line("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", aa, sizeof(aa)) ==
	    0)
		snprintf(extra + n, sizeof(extra) - (size_t)n,
			 ", kernel.apparmor_restrict_unprivileged_userns=%s", aa);
	ret = try_userns();
	r->f.userns_ok = ret == 0;
	if (ret == 0) {
		add(r, "userns", ST_OK,
		    "user namespaces can be made (user.max_user_namespaces=%s%s)%s", max, extra,
		    r->f.as_root_in_userns
			? "; as plain root, the command runs as root of one, nobody on the host"
			: "");
		return;
	}
	add(r, "userns", r->f.as_root_in_userns ? ST_WARN : ST_INFO,
	    "cannot make a user namespace: %s (user.max_user_namespaces=%s%s); run as plain root, "
	    "boundary's jail needs one unless --user USER or --no-user-namespace is given (sudo "
	    "gives --user)",
	    strerror(-ret), max, extra);
}

static void check_landlock(struct report *r)
{
	int abi = landlock_abi();

	r->f.landlock = abi;
	if (abi >= 6)
		add(r, "landlock", ST_OK,
		    "ABI %d: --jail-type landlock works, with signals and abstract unix sockets "
		    "scoped",
		    abi);
	else if (abi >= LANDLOCK_ABI_NET)
		add(r, "landlock", ST_OK,
		    "ABI %d: --jail-type landlock works; abstract unix sockets and signals are "
		    "not scoped (ABI 6, Linux 6.12)",
		    abi);
	else if (abi >= 0)
		add(r, "landlock", ST_WARN,
		    "ABI %d: too old to restrict TCP connect (ABI %d, Linux 6.7+): --jail-type "
		    "landlock does not work",
		    abi, LANDLOCK_ABI_NET);
	else
		add(r, "landlock", ST_WARN,
		    "Landlock is %s: --jail-type landlock does not work (it needs Linux 6.7+ "
		    "with landlock in the lsm= boot list)",
		    abi == -EOPNOTSUPP ? "built in but disabled"
		    : abi == -ENOSYS   ? "not built into this kernel"
				       : strerror(-abi));
}

static void check_seccomp(struct report *r)
{
	unsigned int action = SECCOMP_RET_ERRNO;

	/* Asks only: SECCOMP_GET_ACTION_AVAIL installs nothing. */
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0) {
		r->f.seccomp_ok = true;
		add(r, "seccomp", ST_OK,
		    "filters work: the jail refuses other socket families, io_uring and TIOCSTI");
		return;
	}
	add(r, "seccomp", ST_FAIL,
	    "seccomp filters are not available (%s): boundary's jail refuses to run without "
	    "its filter (the kernel needs CONFIG_SECCOMP_FILTER)",
	    strerror(errno));
}

static void check_leftovers(struct report *r)
{
	bool other;
	int n;

	if (!r->f.privileged) {
		add(r, "leftovers", ST_INFO, "not looked for: %s and %s are root's", REAP_PIN_ROOT,
		    REAP_RUN_ROOT);
		return;
	}
	privs_raise();
	n = reap_count_stale();
	other = shared_other_abi_present();
	privs_lower();
	if (n > 0)
		add(r, "leftovers", ST_WARN,
		    "%d left by killed boundaries (cgroups, pins or run directories; their "
		    "cgroups stay closed): the next jail removes them, or now: sudo boundary "
		    "cleanup",
		    n);
	else
		add(r, "leftovers", ST_OK, "none from killed boundaries%s",
		    other ? " (a set of programs of another boundary version is pinned; it goes "
			    "when no jail uses it)"
			  : "");
}

static void check_ca(struct report *r, const struct opts *t)
{
	char dir[4096], cert[4200], key[4200], err[1024];
	struct stat cs, ks;
	bool owned, have_cert, have_key;
	struct ca *ca;

	setup_config_dir(t->user.set ? &t->user : NULL, dir, sizeof(dir), &owned);
	snprintf(cert, sizeof(cert), "%s/%s", dir, CA_CERT_FILE);
	snprintf(key, sizeof(key), "%s/%s", dir, CA_KEY_FILE);
	have_cert = lstat(cert, &cs) == 0 || errno != ENOENT;
	have_key = lstat(key, &ks) == 0 || errno != ENOENT;
	if (!have_cert && !have_key) {
		add(r, "ca", ST_INFO, "no CA yet in %s: the first jail makes one (key 0600)", dir);
		return;
	}
	if (!have_cert || !have_key) {
		add(r, "ca", ST_FAIL,
		    "%s exists but %s does not: put the missing file back, or remove %s to have a "
		    "new CA made",
		    have_cert ? cert : key, have_cert ? key : cert, dir);
		return;
	}
	if (lstat(key, &ks) == 0 && S_ISREG(ks.st_mode) && (ks.st_mode & 077)) {
		add(r, "ca", ST_FAIL,
		    "%s is mode %04o: others can read the key that lets anyone read your jailed "
		    "programs' TLS (chmod 600 %s, and think about making a new CA)",
		    key, (unsigned)(ks.st_mode & 07777), key);
		return;
	}
	/* Both there: ca_open only reads them then, and ca_ready checks them as a jail would. */
	ca = ca_open(dir, (uid_t)-1, (gid_t)-1, err, sizeof(err));
	if (ca && ca_ready(ca, err, sizeof(err)) == 0)
		add(r, "ca", ST_OK, "%s: certificate and key (mode 0600) load, match and are valid",
		    dir);
	else
		add(r, "ca", ST_FAIL, "%s", err);
	ca_free(ca);
}

/*
 * The config as a run would read it, into t: --config (or BOUNDARY_CONFIG), else the default
 * file if there is one; then the environment, then opts_finish (rules compiled, sudo's user).
 */
static void check_config(struct report *r, const struct opts *o, struct opts *t)
{
	const struct opts_def *defs;
	char path[4096], err[1024];
	bool named;
	size_t n;
	int ret;

	defs = opts_defs(&n);
	ret = opts_parse_env(t, err, sizeof(err));
	if (ret == 0 && o->src[OPTS_CONFIG] == OPTS_SRC_FLAG)
		ret = opts_set(t, &defs[OPTS_CONFIG], o->config, OPTS_SRC_FLAG, "--config", err,
			       sizeof(err));
	named = t->src[OPTS_CONFIG] != OPTS_SRC_DEFAULT;
	if (ret == 0 && config_path(t, path, sizeof(path))) {
		ret = config_load_file(t, path, named, err, sizeof(err));
		if (ret == -ENOENT)
			snprintf(err, sizeof(err),
				 "%.400s: no such file (create one with: boundary generate-config "
				 "> %.400s)",
				 path, path);
	} else if (ret == 0) {
		snprintf(path, sizeof(path), "%s", named ? "(none: --config \"\")" : "(no home)");
	}
	if (ret == 0)
		ret = opts_finish(t, err, sizeof(err));
	r->f.jail_type = t->jail_type;
	r->f.as_root_in_userns = geteuid() == 0 && !t->user.set && !t->no_user_namespace;
	r->config.name = "config";
	if (ret) {
		r->config.st = ST_FAIL;
		snprintf(r->config.detail, sizeof(r->config.detail), "%s", err);
		return;
	}
	r->f.config_ok = true;
	r->config.st = t->config_read ? ST_OK : ST_INFO;
	if (t->config_read)
		snprintf(r->config.detail, sizeof(r->config.detail),
			 "%.900s loads: %zu allow and %zu deny rules", t->config_read,
			 t->allow.file.n, t->deny.file.n);
	else
		snprintf(r->config.detail, sizeof(r->config.detail),
			 "no config file (%.900s): flags and defaults only", path);
}

struct mode {
	const char *name;
	bool works;
	char why[DETAIL_MAX];
};

#define N_MODES 5

/* Why boundary's own jail (and attach, which needs the same) does not work, or "". */
static void jail_blocker(const struct findings *f, bool attach, char *buf, size_t len)
{
	buf[0] = '\0';
	if (!f->config_ok)
		snprintf(buf, len, "the config file does not load (see config)");
	else if (!f->kernel_ok)
		snprintf(buf, len, "the kernel is too old (see kernel)");
	else if (!f->privileged)
		snprintf(buf, len, "%s", f->priv_why);
	else if (!f->cgroup_ok)
		snprintf(buf, len, "no usable cgroup2 (see cgroup2)");
	else if (!f->bpf_ok)
		snprintf(buf, len, "the BPF programs do not load (see bpf)");
	else if (!attach && !f->seccomp_ok)
		snprintf(buf, len, "no seccomp filters (see seccomp)");
}

static void judge(const struct findings *f, struct mode m[N_MODES])
{
	m[0].name = "nsjail";
	jail_blocker(f, false, m[0].why, sizeof(m[0].why));
	m[0].works = !m[0].why[0];
	if (m[0].works && f->as_root_in_userns && !f->userns_ok)
		snprintf(m[0].why, sizeof(m[0].why),
			 "as plain root, only with --user USER or --no-user-namespace (see "
			 "userns)");
	else if (m[0].works)
		snprintf(m[0].why, sizeof(m[0].why),
			 "every connection of the command redirected in the kernel");
	m[1].name = "attach";
	jail_blocker(f, true, m[1].why, sizeof(m[1].why));
	m[1].works = !m[1].why[0];
	if (m[1].works)
		snprintf(m[1].why, sizeof(m[1].why),
			 "boundary attach and k8s-node: a cgroup that exists, jailed");
	m[2].name = "landlock";
	m[2].works = f->config_ok && f->landlock >= LANDLOCK_ABI_NET;
	snprintf(m[2].why, sizeof(m[2].why), "%s",
		 !f->config_ok ? "the config file does not load (see config)"
		 : m[2].works  ? "proxy variables, TCP connect limited to the proxy's port"
			       : "no Landlock ABI 4 (see landlock)");
	m[3].name = "weak";
	m[3].works = f->config_ok;
	snprintf(m[3].why, sizeof(m[3].why), "%s",
		 f->config_ok ? "proxy variables only: a program that ignores them gets out"
			      : "the config file does not load (see config)");
	m[4].name = "serve";
	m[4].works = f->config_ok;
	snprintf(m[4].why, sizeof(m[4].why), "%s",
		 f->config_ok ? "the proxy alone, for clients told to use it"
			      : "the config file does not load (see config)");
}

static const char *default_mode(const struct findings *f)
{
	switch (f->jail_type) {
	case OPTS_JAIL_LANDJAIL:
		return "landlock";
	case OPTS_JAIL_WEAK:
		return "weak";
	default:
		return "nsjail";
	}
}

/* Writes text from column col on, wrapped at 79 columns, later lines indented to indent. */
static void wrap(FILE *out, const char *text, size_t col, size_t indent)
{
	const char *p = text;
	size_t n;

	while (*p) {
		n = strcspn(p, " ");
		if (col > indent && col + 1 + n > 79) {
			fprintf(out, "\n%*s", (int)indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", (int)n, p);
		col += n;
		p += n;
		p += strspn(p, " ");
	}
	fputc('\n', out);
}

static void write_text(FILE *out, const struct report *r, const struct mode m[N_MODES], bool ok)
{
	const char *def = default_mode(&r->f);
	char line[DETAIL_MAX + 64];
	size_t i;

	fprintf(out, "boundary %s on this machine:\n", BOUNDARY_VERSION);
	for (i = 0; i < r->n; i++) {
		fprintf(out, "  %-4s %-10s ", status_names[r->c[i].st], r->c[i].name);
		wrap(out, r->c[i].detail, 18, 18);
	}
	fputs("\nModes (--jail-type, and the subcommands that jail):\n", out);
	for (i = 0; i < N_MODES; i++) {
		snprintf(line, sizeof(line), "%s%s%s",
			 strcmp(m[i].name, def) == 0 ? "(the default) " : "",
			 m[i].works ? "" : "because ", m[i].why);
		fprintf(out, "  %-9s %-13s ", m[i].name, m[i].works ? "works" : "DOES NOT WORK");
		wrap(out, line, 26, 26);
	}
	fprintf(out, "\n%s\n",
		ok ? "The default mode works here."
		   : "The default mode does not work here: see its line above.");
}

/* Appends s to buf as a JSON string; fatal past the buffer, which is sized for the report. */
static void json_str(char *buf, size_t cap, size_t *len, const char *s)
{
	if (audit_json_string(buf, cap, len, s) < 0)
		fatalx("%s: the report does not fit", __func__);
}

static void json_raw(char *buf, size_t cap, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (*len + n >= cap)
		fatalx("%s: the report does not fit", __func__);
	memcpy(buf + *len, s, n + 1);
	*len += n;
}

static void write_json(FILE *out, const struct report *r, const struct mode m[N_MODES], bool ok)
{
	static char buf[(MAX_CHECKS + N_MODES) * (DETAIL_MAX * 2 + 128) + 256];
	const size_t cap = sizeof(buf);
	size_t len = 0, i;

	json_raw(buf, cap, &len, "{\"version\":");
	json_str(buf, cap, &len, BOUNDARY_VERSION);
	json_raw(buf, cap, &len, ",\"checks\":[");
	for (i = 0; i < r->n; i++) {
		json_raw(buf, cap, &len, i ? ",{\"name\":" : "{\"name\":");
		json_str(buf, cap, &len, r->c[i].name);
		json_raw(buf, cap, &len, ",\"status\":");
		json_str(buf, cap, &len, r->c[i].st == ST_FAIL ? "fail" : status_names[r->c[i].st]);
		json_raw(buf, cap, &len, ",\"detail\":");
		json_str(buf, cap, &len, r->c[i].detail);
		json_raw(buf, cap, &len, "}");
	}
	json_raw(buf, cap, &len, "],\"modes\":[");
	for (i = 0; i < N_MODES; i++) {
		json_raw(buf, cap, &len, i ? ",{\"mode\":" : "{\"mode\":");
		json_str(buf, cap, &len, m[i].name);
		json_raw(buf, cap, &len, m[i].works ? ",\"works\":true" : ",\"works\":false");
		json_raw(buf, cap, &len, ",\"why\":");
		json_str(buf, cap, &len, m[i].why);
		json_raw(buf, cap, &len, "}");
	}
	json_raw(buf, cap, &len, "],\"default_mode\":");
	json_str(buf, cap, &len, default_mode(&r->f));
	json_raw(buf, cap, &len,
		 ok ? ",\"default_mode_works\":true}\n" : ",\"default_mode_works\":false}\n");
	fputs(buf, out);
}

int doctor_run(const struct opts *o)
{
	static struct report r;
	struct mode m[N_MODES];
	const char *def;
	struct opts t;
	bool ok = false;
	size_t i;

	if (o->log_format == OPTS_LOG_MARKDOWN) {
		log_error("doctor --format: table (the default) or json");
		return LOG_EXIT_FAILURE;
	}
	memset(&r, 0, sizeof(r));
	memset(m, 0, sizeof(m));
	opts_init(&t);
	/* The config first: it names the default mode and the user whose CA it is. */
	check_config(&r, o, &t);
	check_kernel(&r);
	check_privileges(&r);
	check_cgroup(&r);
	check_bpf(&r);
	check_seccomp(&r);
	check_userns(&r);
	check_landlock(&r);
	check_leftovers(&r);
	check_ca(&r, &t);
	if (r.n == MAX_CHECKS)
		fatalx("%s: too many checks", __func__);
	r.c[r.n++] = r.config;
	opts_fini(&t);
	judge(&r.f, m);
	def = default_mode(&r.f);
	for (i = 0; i < N_MODES; i++)
		if (strcmp(m[i].name, def) == 0)
			ok = m[i].works;
	if (o->log_format == OPTS_LOG_JSON)
		write_json(stdout, &r, m, ok);
	else
		write_text(stdout, &r, m, ok);
	if (fflush(stdout) == EOF) {
		log_error_errno("doctor: cannot write the report");
		return LOG_EXIT_FAILURE;
	}
	return ok ? 0 : 1;
}
