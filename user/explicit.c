// SPDX-License-Identifier: MIT
/*
 * explicit.c: the proxy as an explicit HTTP proxy (CONNECT and absolute-form), with no BPF, no
 * cgroup and no namespace: the landlock and weak jail types, and boundary serve.
 *
 * landlock and weak: listeners on 127.0.0.1 and [::1], one port; a CA made for this run alone
 * in a private directory, its key deleted from disk as soon as it is loaded (the command runs as
 * boundary's own user here, so a key on disk would be the command's to read); the command
 * started with HTTP_PROXY and friends naming the proxy, the CA variables naming the bundle, and,
 * for landlock, a Landlock ruleset that lets it connect over TCP to that port only.
 *
 * serve: listeners where --listen says, the user's persistent CA (clients elsewhere must be told
 * to trust it once), until a signal stops it.
 *
 * Both refuse to send a request to the proxy's own listeners (loop protection, proxy.h) and
 * name explicit clients by address and port, since no pid is known for them. This file owns the
 * listeners, the per-run directory and the command's process; the proxy itself is proxy/'s.
 */
#include "user/explicit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proxy/audit.h"
#include "proxy/ca.h"
#include "proxy/log.h"
#include "proxy/util.h"
#include "proxy/proxy.h"
#include "proxy/tls.h"
#include "rules/rules.h"
#include "user/landlock.h"
#include "user/opts.h"
#include "user/privs.h"
#include "user/setup.h"

#define MAX_LISTEN 8
#define MAX_SELF   64

struct xp {
	char id[64];
	char run_dir[PATH_MAX]; /* landlock/weak: this run's CA and bundle; "" for none */
	char cfg_dir[PATH_MAX]; /* serve: the user's CA directory */
	char bundle[PATH_MAX + 32];
	struct ca *ca;
	struct tls_ctxs tls;
	struct proxy *proxy;
	struct audit *audit;
	int lfd[MAX_LISTEN];
	size_t n_lfd;
	struct sockaddr_storage self[MAX_SELF];
	size_t n_self;
	char where[256];    /* the listeners, for people */
	bool own_user_only; /* landlock, weak: only the command's user may use the proxy */
	uid_t cmd_uid;
};

static void xp_init(struct xp *x)
{
	size_t i;

	memset(x, 0, sizeof(*x));
	for (i = 0; i < MAX_LISTEN; i++)
		x->lfd[i] = -1;
}

static void xp_fini(struct xp *x)
{
	size_t i;

	proxy_stop(x->proxy);
	proxy_free(x->proxy);
	tls_ctxs_fini(&x->tls);
	ca_free(x->ca);
	audit_close(x->audit);
	for (i = 0; i < x->n_lfd; i++)
		close(x->lfd[i]);
	if (x->run_dir[0])
		setup_remove_dir(x->run_dir);
}

static void add_self(struct xp *x, const struct sockaddr *sa, uint16_t port_be)
{
	struct sockaddr_storage *ss;

	if (x->n_self == MAX_SELF)
		return;
	ss = &x->self[x->n_self];
	memset(ss, 0, sizeof(*ss));
	if (sa->sa_family == AF_INET) {
		memcpy(ss, sa, sizeof(struct sockaddr_in));
		((struct sockaddr_in *)ss)->sin_port = port_be;
	} else if (sa->sa_family == AF_INET6) {
		memcpy(ss, sa, sizeof(struct sockaddr_in6));
		((struct sockaddr_in6 *)ss)->sin6_port = port_be;
	} else {
		return;
	}
	x->n_self++;
}

/*
 * Loop protection's list: the listener's own address, or for a wildcard one every address of
 * the host's (of both families for [::], which may accept IPv4 too).
 */
static void add_self_listener(struct xp *x, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	struct ifaddrs *ifa, *i;
	uint16_t port;
	bool any;

	any = ss->ss_family == AF_INET ? s4->sin_addr.s_addr == htonl(INADDR_ANY)
				       : IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
	port = ss->ss_family == AF_INET ? s4->sin_port : s6->sin6_port;
	if (!any) {
		add_self(x, (const struct sockaddr *)ss, port);
		return;
	}
	if (getifaddrs(&ifa) == -1) {
		log_warn_errno("cannot list the host's addresses for loop protection");
		return;
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == ss->ss_family ||
		    (ss->ss_family == AF_INET6 && i->ifa_addr->sa_family == AF_INET))
			add_self(x, i->ifa_addr, port);
	}
	freeifaddrs(ifa);
}

/*
 * Listens on sa (TCP, non-blocking; IPv6 sockets IPv6 only). Returns the socket, or -errno with
 * err filled.
 */
static int listen_on(struct xp *x, const struct sockaddr *sa, socklen_t salen, char *err,
		     size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char a[80];
	int fd, one = 1, ret;
	size_t used;

	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, sa, salen < sizeof(ss) ? salen : sizeof(ss));
	util_addr_str((const struct sockaddr *)&ss, true, a, sizeof(a));
	if (x->n_lfd == MAX_LISTEN) {
		snprintf(err, errlen, "cannot listen on %s: more than %d addresses", a, MAX_LISTEN);
		return -E2BIG;
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, sa, salen) == -1 || listen(fd, 1024) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		goto fail;
	x->lfd[x->n_lfd++] = fd;
	add_self_listener(x, &ss);
	util_addr_str((const struct sockaddr *)&ss, true, a, sizeof(a));
	used = strlen(x->where);
	snprintf(x->where + used, sizeof(x->where) - used, "%s%s", used ? " and " : "", a);
	return fd;
fail:
	ret = -errno;
	snprintf(err, errlen, "cannot listen on %s: %s", a, strerror(-ret));
	if (fd >= 0)
		close(fd);
	return ret;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port);
}

/*
 * The jail types' listeners: 127.0.0.1:port (a free one when port is 0) and [::1] on the same
 * port when the host has IPv6, so no other program can take that port on ::1 and receive what
 * the command sends there. Returns the port, or -errno with err filled.
 */
static int listen_loopback(struct xp *x, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	char why[256];
	int fd, fd6, tries;

	for (tries = 0; tries < 16; tries++) {
		s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s4.sin_port = htons(port);
		fd = listen_on(x, (struct sockaddr *)&s4, sizeof(s4), err, errlen);
		if (fd < 0)
			return fd;
		s6.sin6_port = htons(local_port(fd));
		fd6 = listen_on(x, (struct sockaddr *)&s6, sizeof(s6), why, sizeof(why));
		/* A host without IPv6 has no ::1 for anyone to take. */
		if (fd6 >= 0 || fd6 == -EADDRNOTAVAIL || fd6 == -EAFNOSUPPORT)
			return local_port(fd);
		/* ::1 has that port taken: with a port of our choosing, try another. */
		if (port != 0) {
			snprintf(err, errlen, "%s", why);
			return -EADDRINUSE;
		}
		close(x->lfd[--x->n_lfd]);
		x->n_self = 0;
		x->where[0] = '\0';
	}
	snprintf(err, errlen, "cannot find a port free on both 127.0.0.1 and ::1");
	return -EADDRINUSE;
}

/* serve's listeners: every address --listen's host resolves to. Returns 0 or -errno with err. */
static int listen_spec(struct xp *x, const char *spec, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], q[300];
	const char *colon, *port;
	int ret;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	colon = strrchr(spec, ':');
	if (spec[0] == '[') {
		colon = strstr(spec, "]:");
		if (colon)
			colon++;
	}
	if (!colon) {
		host[0] = '\0'; /* PORT alone: every address */
		port = spec;
	} else {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
		port = colon + 1;
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
	}
	if (!port[0] || strspn(port, "0123456789") != strlen(port) ||
	    strtoul(port, NULL, 10) > 65535) {
		snprintf(err, errlen,
			 "--listen %s: not ADDR:PORT (like 127.0.0.1:8080, [::1]:8080, "
			 "0.0.0.0:8080 or :8080 for every address)",
			 opts_quote(spec, q, sizeof(q)));
		return -EINVAL;
	}
	ret = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (ret) {
		snprintf(err, errlen, "--listen %s: cannot resolve %s: %s",
			 opts_quote(spec, q, sizeof(q)), host, gai_strerror(ret));
		return -EINVAL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		ret = listen_on(x, ai->ai_addr, ai->ai_addrlen, err, errlen);
		if (ret < 0)
			break;
		ret = 0;
	}
	freeaddrinfo(res);
	return ret;
}

/*
 * The uid that owns the socket at the other end of fd, a TCP connection within this host, as
 * the kernel's sock_diag reports it. Returns 0, or -errno.
 */
static int peer_uid(int fd, uid_t *uid)
{
	struct sockaddr_storage peer, local;
	socklen_t pl = sizeof(peer), ll = sizeof(local);
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req;
	union {
		struct nlmsghdr nh;
		char buf[1024];
	} resp;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	const struct inet_diag_msg *m;
	ssize_t n;
	int nl, ret = -ENOENT;

	if (getpeername(fd, (struct sockaddr *)&peer, &pl) == -1 ||
	    getsockname(fd, (struct sockaddr *)&local, &ll) == -1)
		return -errno;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.r.sdiag_family = (uint8_t)peer.ss_family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~0U;
	req.r.id.idiag_cookie[0] = req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	/* The client's socket: its source is our peer, its destination our end. */
	if (peer.ss_family == AF_INET) {
		req.r.id.idiag_sport = ((struct sockaddr_in *)&peer)->sin_port;
		req.r.id.idiag_dport = ((struct sockaddr_in *)&local)->sin_port;
		req.r.id.idiag_src[0] = ((struct sockaddr_in *)&peer)->sin_addr.s_addr;
		req.r.id.idiag_dst[0] = ((struct sockaddr_in *)&local)->sin_addr.s_addr;
	} else {
		req.r.id.idiag_sport = ((struct sockaddr_in6 *)&peer)->sin6_port;
		req.r.id.idiag_dport = ((struct sockaddr_in6 *)&local)->sin6_port;
		memcpy(req.r.id.idiag_src, &((struct sockaddr_in6 *)&peer)->sin6_addr, 16);
		memcpy(req.r.id.idiag_dst, &((struct sockaddr_in6 *)&local)->sin6_addr, 16);
	}
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl == -1)
		return -errno;
	if (sendto(nl, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) == -1) {
		ret = -errno;
		goto out;
	}
	n = recv(nl, &resp, sizeof(resp), 0);
	if (n == -1) {
		ret = -errno;
		goto out;
	}
	if (!NLMSG_OK(&resp.nh, (size_t)n))
		goto out;
	if (resp.nh.nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(&resp.nh);

		ret = e->error ? e->error : -ENOENT;
		goto out;
	}
	if (resp.nh.nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    resp.nh.nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		goto out;
	m = NLMSG_DATA(&resp.nh);
	*uid = m->idiag_uid;
	ret = 0;
out:
	close(nl);
	return ret;
}

/*
 * landlock and weak: the proxy is on the host's loopback, where every local user can reach it;
 * only the command's user may use it. Refuses when the owner cannot be told.
 */
static int admit_own_user(void *arg, int fd)
{
	const struct xp *x = arg;
	char who[80] = "?";
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	uid_t uid = 0;
	int ret;

	ret = peer_uid(fd, &uid);
	if (ret == 0 && uid == x->cmd_uid)
		return 0;
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		util_addr_str((const struct sockaddr *)&ss, true, who, sizeof(who));
	if (ret < 0)
		log_warn("refused a connection from %s: cannot tell whose it is (%s), and only "
			 "the command's user (uid %u) may use this proxy",
			 who, strerror(-ret), (unsigned)x->cmd_uid);
	else
		log_warn("refused a connection from %s: it is uid %u's, and only the command's "
			 "user (uid %u) may use this proxy",
			 who, (unsigned)uid, (unsigned)x->cmd_uid);
	return -1;
}

/* The TLS contexts, the audit stream and the proxy on every listener. */
static int start_proxy(struct xp *x, const struct opts *o, const char *argv0, char *err,
		       size_t errlen)
{
	struct proxy_config pc;
	size_t i;
	int ret;

	ret = setup_proxy_common(o, x->ca, &x->tls, &pc, err, errlen);
	if (ret < 0)
		return ret;
	ret = setup_audit_open(o, x->id, argv0, &x->audit, err, errlen);
	if (ret < 0)
		return ret;
	pc.audit = x->audit;
	pc.self = x->self;
	pc.n_self = x->n_self;
	if (x->own_user_only) {
		pc.admit = admit_own_user;
		pc.admit_arg = x;
	}
	x->proxy = proxy_new(&pc, err, errlen);
	if (!x->proxy)
		return -ENOMEM;
	for (i = 0; i < x->n_lfd; i++)
		proxy_add_listener(x->proxy, x->lfd[i], PROXY_EXPLICIT);
	ret = proxy_start(x->proxy);
	if (ret < 0)
		snprintf(err, errlen, "cannot start the proxy: %s", strerror(-ret));
	return ret;
}

/* --- landlock and weak ------------------------------------------------------------------- */

struct cmd {
	char *const *argv;
	char *const *envp;
	bool drop_to; /* boundary is root: become uid:gid */
	uid_t uid;
	gid_t gid;
	uint16_t landlock_port; /* 0: no Landlock (weak) */
	pid_t parent;
};

static void __attribute__((noreturn)) run_command(const struct cmd *c)
{
	char err[256];

	setup_reset_signals();
	/* The proxy is the only way out: without boundary, the command goes too. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 || getppid() != c->parent)
		_exit(125);
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == -1) {
		setup_say("cannot close inherited descriptors: %s", strerror(errno));
		_exit(125);
	}
	if (c->drop_to ? privs_drop_to(c->uid, c->gid, err, sizeof(err)) < 0
		       : privs_drop_caps(err, sizeof(err)) < 0) {
		setup_say("%s", err);
		_exit(125);
	}
	if (c->landlock_port && landlock_restrict_connect(c->landlock_port, err, sizeof(err)) < 0) {
		setup_say("%s", err);
		_exit(125);
	}
	setup_exec(c->argv, c->envp);
}

/* This run's CA, in a private directory, its key gone from disk once loaded. */
static int run_ca(struct xp *x, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	int ret;

	if (!tmp || tmp[0] != '/')
		tmp = "/tmp";
	snprintf(x->run_dir, sizeof(x->run_dir), "%s/boundary-%s-XXXXXX", tmp, x->id);
	if (!mkdtemp(x->run_dir)) {
		ret = -errno;
		snprintf(err, errlen, "cannot create a directory in %s for this run's CA: %s", tmp,
			 strerror(-ret));
		x->run_dir[0] = '\0';
		return ret;
	}
	x->ca = ca_open(x->run_dir, (uid_t)-1, (gid_t)-1, err, errlen);
	if (!x->ca)
		return -EINVAL;
	if (unlink(ca_key_path(x->ca)) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot remove this run's CA key from disk: %s",
			 strerror(-ret));
		return ret;
	}
	/* The command may run as another user (sudo): it must reach the bundle, nothing else. */
	chmod(x->run_dir, 0711);
	snprintf(x->bundle, sizeof(x->bundle), "%s/ca-bundle.pem", x->run_dir);
	return ca_write_bundle(x->ca, x->bundle, err, errlen);
}

/* Every tool's spelling of "use this proxy"; NO_PROXY empty, so localhost is judged too. */
static const struct {
	const char *name;
	bool url;	   /* the proxy's URL */
	const char *value; /* else this */
} proxy_vars[] = {
    {"HTTP_PROXY", true, NULL},	 {"HTTPS_PROXY", true, NULL}, {"http_proxy", true, NULL},
    {"https_proxy", true, NULL}, {"ALL_PROXY", true, NULL},   {"all_proxy", true, NULL},
    {"NO_PROXY", false, ""},	 {"no_proxy", false, ""},     {"NODE_USE_ENV_PROXY", false, "1"},
};

/*
 * exe= rules need the kernel's record of who connected, which only the BPF jail keeps: said
 * once at start, so that a policy written for the nsjail type does not fail here in silence.
 */
static void warn_exe_rules(const struct opts *o, const char *what)
{
	size_t i;

	for (i = 0; i < rules_count(o->rules); i++) {
		if (rules_exe_count(o->rules, i) > 0) {
			log_warn("rules with exe= (the first: %s) match no request under %s: it "
				 "cannot tell which program made a connection (--jail-type nsjail "
				 "and boundary attach can)",
				 rules_raw(o->rules, i), what);
			return;
		}
	}
}

int explicit_run(const struct opts *o, char *const argv[])
{
	const bool landlock = o->jail_type == OPTS_JAIL_LANDJAIL;
	const char *type = landlock ? "landlock" : "weak";
	char err[512], url[64], *vars[16];
	const char *extra[16];
	char **env = NULL;
	struct cmd c;
	struct xp x;
	sigset_t old;
	int sigfd, pidfd = -1, status = LOG_EXIT_FAILURE, ret, abi, n = 0;
	pid_t pid;
	size_t i;

	xp_init(&x);
	memset(vars, 0, sizeof(vars));
	memset(&c, 0, sizeof(c));
	if (setup_check_user(o, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return LOG_EXIT_FAILURE;
	}
	if (landlock) {
		abi = landlock_abi();
		if (abi < LANDLOCK_ABI_NET) {
			log_error("--jail-type landlock: this kernel cannot restrict connections "
				  "with Landlock (%s; Linux 6.7 or later with landlock in its LSM "
				  "list is needed); use --jail-type nsjail, or weak, which stops "
				  "nothing",
				  abi < 0 ? strerror(-abi) : "its Landlock ABI is older than 4");
			return LOG_EXIT_FAILURE;
		}
		log_debug("Landlock ABI %d", abi);
	}
	if (o->forwards.n)
		log_info("--port-forward changes nothing under --jail-type %s: the command "
			 "already listens on the host's own loopback",
			 type);
	warn_exe_rules(o, landlock ? "--jail-type landlock" : "--jail-type weak");
	c.drop_to = !privs_unprivileged();
	c.uid = o->user.set ? o->user.uid : PRIVS_USERNS_HOST_ID;
	c.gid = o->user.set ? o->user.gid : PRIVS_USERNS_HOST_ID;
	x.own_user_only = true;
	x.cmd_uid = c.drop_to ? c.uid : getuid();
	sigfd = setup_signals_take(&old, err, sizeof(err));
	if (sigfd < 0) {
		log_error("%s", err);
		goto out;
	}
	snprintf(x.id, sizeof(x.id), "%s-%d", type, (int)getpid());
	ret = listen_loopback(&x, o->src[OPTS_PROXY_PORT] == OPTS_SRC_DEFAULT ? 0 : o->proxy_port,
			      err, sizeof(err));
	if (ret >= 0) {
		snprintf(url, sizeof(url), "http://127.0.0.1:%d", ret);
		c.landlock_port = landlock ? (uint16_t)ret : 0;
		ret = run_ca(&x, err, sizeof(err));
	}
	if (ret >= 0)
		ret = start_proxy(&x, o, argv[0], err, sizeof(err));
	if (ret < 0) {
		log_error("%s", err);
		goto out;
	}
	ret = 0;
	for (i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++) {
		if (asprintf(&vars[n], "%s=%s", proxy_vars[i].name,
			     proxy_vars[i].url ? url : proxy_vars[i].value) < 0) {
			vars[n] = NULL; /* asprintf leaves it undefined */
			ret = -1;
			break;
		}
		extra[n] = vars[n];
		n++;
	}
	extra[n] = NULL;
	env = ret ? NULL : setup_command_env(o, x.bundle, extra);
	if (!env) {
		log_error("out of memory");
		goto out;
	}
	c.argv = argv;
	c.envp = env;
	c.parent = getpid();
	if (c.drop_to && !o->user.set)
		log_info("the command runs as nobody: boundary is root and no user was named "
			 "(use --user or sudo to run it as an ordinary user)");
	log_info("%s jail: the command is told of the proxy at %s (listening on %s)%s", type, url,
		 x.where,
		 landlock ? "; Landlock lets it make TCP connections to that port only"
			  : "; nothing stops a program that ignores HTTP_PROXY");
	pid = fork();
	if (pid == -1) {
		log_error_errno("cannot start the command");
		goto out;
	}
	if (pid == 0)
		run_command(&c);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd == -1) {
		log_error_errno("cannot watch the command");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto out;
	}
	status = setup_wait_command(pidfd, sigfd);
out:
	if (pidfd >= 0)
		close(pidfd);
	xp_fini(&x);
	setup_command_env_free(env);
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		free(vars[i]);
	setup_signals_give(sigfd, &old);
	return status;
}

/* --- serve --------------------------------------------------------------------------------- */

/* The CA directory of boundary's own user, as the jail's (setup_config_dir). */
static int serve_ca(struct xp *x, char *err, size_t errlen)
{
	bool owned;

	setup_config_dir(NULL, x->cfg_dir, sizeof(x->cfg_dir), &owned);
	x->ca = ca_open(x->cfg_dir, (uid_t)-1, (gid_t)-1, err, errlen);
	return x->ca ? 0 : -EINVAL;
}

int explicit_serve(const struct opts *o)
{
	struct signalfd_siginfo ssi;
	char err[512];
	struct xp x;
	sigset_t old;
	int status = LOG_EXIT_FAILURE, ret, ep = -1, n, sigfd;
	struct epoll_event ev;

	xp_init(&x);
	sigfd = setup_signals_take(&old, err, sizeof(err));
	if (sigfd < 0) {
		log_error("%s", err);
		return LOG_EXIT_FAILURE;
	}
	warn_exe_rules(o, "boundary serve");
	snprintf(x.id, sizeof(x.id), "serve-%d", (int)getpid());
	ret = listen_spec(&x, o->listen, err, sizeof(err));
	if (ret >= 0)
		ret = serve_ca(&x, err, sizeof(err));
	if (ret >= 0)
		ret = start_proxy(&x, o, NULL, err, sizeof(err));
	if (ret < 0) {
		log_error("%s", err);
		goto out;
	}
	printf("boundary serve: listening on %s; clients must trust %s\n", x.where,
	       ca_cert_path(x.ca));
	fflush(stdout);
	log_info("serving explicit proxy clients on %s (HTTP_PROXY=http://ADDR:PORT); loop "
		 "protection knows %zu address(es) as the proxy's own",
		 x.where, x.n_self);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep == -1) {
		log_error_errno("cannot create an epoll instance");
		goto out;
	}
	ev.events = EPOLLIN;
	ev.data.fd = sigfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sigfd, &ev);
	for (;;) {
		n = epoll_wait(ep, &ev, 1, -1);
		if (n == -1 && errno != EINTR) {
			log_error_errno("epoll_wait");
			break;
		}
		if (n != 1 || read(sigfd, &ssi, sizeof(ssi)) != sizeof(ssi))
			continue;
		if (ssi.ssi_signo == SIGINT || ssi.ssi_signo == SIGTERM ||
		    ssi.ssi_signo == SIGHUP || ssi.ssi_signo == SIGQUIT) {
			log_info("stopping on signal %u", ssi.ssi_signo);
			status = 0;
			break;
		}
	}
out:
	if (ep >= 0)
		close(ep);
	xp_fini(&x);
	setup_signals_give(sigfd, &old);
	return status;
}
