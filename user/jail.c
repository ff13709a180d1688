// SPDX-License-Identifier: MIT
/*
 * jail.c: the jail supervisor, the only file that includes the BPF skeleton or calls libbpf.
 *
 * One jail, top to bottom: reap what killed boundaries left behind (reap.c); make the jail's
 * network namespace and open the listeners in it; make the cgroup; write its entry (the
 * listeners' ports) into the shared set of programs on <cgroup2>/boundary, loading and pinning
 * that set first if no jail has (shared.h; a killed boundary leaves the entry, so the jail stays
 * closed, never open); open the CA and start the proxy (proxy/) on the
 * listeners, handing it the original-destination lookup; spawn the command (spawn.c) with the
 * environment and the filesystem view it is given (setup.c, fsview.c); serve until it exits,
 * answering the jail's DNS queries (proxy/dns.c) and reloading the rules (reload.c) meanwhile;
 * take everything down. jail_attach() does the same for a cgroup that exists, with programs
 * loaded for it alone (.rodata holds the ports) and attached to it or to a parent of it.
 */
#include "user/jail.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/jail.h"
/* The generated skeleton casts away const on its embedded object; that is its business. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "jail.skel.h"
#pragma GCC diagnostic pop
#include "proxy/audit.h"
#include "proxy/dnssrv.h"
#include "proxy/ca.h"
#include "proxy/dns.h"
#include "proxy/jseval.h"
#include "proxy/log.h"
#include "proxy/policy.h"
#include "proxy/proxy.h"
#include "proxy/tls.h"
#include "proxy/util.h"
#include "user/attach.h"
#include "user/cgroup.h"
#include "user/fsview.h"
#include "user/netns.h"
#include "user/opts.h"
#include "user/parent.h"
#include "user/portfwd.h"
#include "user/privs.h"
#include "user/reap.h"
#include "user/reload.h"
#include "user/rootfs.h"
#include "user/setup.h"
#include "user/shared.h"
#include "user/spawn.h"

_Static_assert(sizeof(struct jail_config) == 16, "struct jail_config is part of the BPF ABI");
_Static_assert(sizeof(struct jail_entry) == 24, "struct jail_entry is part of the BPF ABI");
_Static_assert(sizeof(struct jail_orig) == 80, "struct jail_orig is part of the BPF ABI");
_Static_assert(sizeof(struct jail_client_key) == 32, "struct jail_client_key is part of the ABI");

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#define MAX_LINKS 16

struct jail {
	char id[64];
	char cg_root[PATH_MAX];
	char cg_path[PATH_MAX];
	char pin_dir[PATH_MAX];
	int cg_fd;
	int netns_fd;
	struct netns_listeners l;
	struct jail_bpf *skel;
	struct bpf_link *link[MAX_LINKS];
	size_t n_links;
	int orig_map_fd;
	char cfg_dir[PATH_MAX];	 /* boundary's config directory: the CA lives there */
	char bundle[PATH_MAX];	 /* system roots plus the CA, for the jail */
	char key_path[PATH_MAX]; /* the CA key, hidden from the jail */
	struct ca *ca;
	struct tls_ctxs tls;
	struct proxy *proxy;
	struct dns_table *dns;
	struct audit *audit;
	struct policy *policy;	/* --rules-program or --interactive, or NULL */
	char run_dir[PATH_MAX]; /* /run/boundary/<id>: files the jail is shown */
	char hosts[PATH_MAX];	/* the jail's /etc/hosts */
	struct portfwd *fwd;	/* --port-forward, or NULL */
	bool attached;		/* boundary attach: the cgroup is not ours to kill or remove */
	/*
	 * attach to processes with a network namespace of their own, without --resolve-on-host:
	 * the proxy resolves and connects from their namespace, names as their files say
	 */
	bool upstream_inside;
	pid_t member;	    /* one of the attached processes, as found at the attach */
	uint32_t cfg_flags; /* JAIL_CFG_* for the programs */
	/* the self-check, and an attached cgroup followed across restarts (see follow()) */
	uint64_t cg_id;	       /* the cgroup the links are on */
	unsigned link_gen;     /* pins of a relinked set are named PROGRAM_gGEN */
	const char *container; /* --container: whose runtime names the moved process */
	bool gone;	       /* the cgroup was removed, and none has taken its place yet */
	bool moving;	       /* relinked to a new cgroup: its namespace is still to find */
	uint64_t moving_since; /* ms */
	bool moving_said;
	bool keep_closed; /* stopping with the programs left pinned: the cgroup stays closed */
	int tick;	  /* the self-check's timer: faster while moving */
	/* attached to a parent: each cgroup one level below it is a jail (user/parent.h) */
	unsigned entry_level; /* that level; 0: not a parent */
	struct parent *parent;
	/*
	 * a jail of boundary's own: an entry in the shared set on <cgroup2>/boundary (shared.h),
	 * whose pinned links j->link holds only to check them; never unpinned by this jail
	 */
	bool shared;
	bool entry_made;   /* its entry and owner record are written (teardown removes them) */
	int entries_fd;	   /* the set's entries */
	int owners_fd;	   /* the owners map every set shares */
	uint64_t links_cg; /* the cgroup the links are on: the jail's, or the set's parent */
	unsigned fast;	   /* the timer's period, ms, as last set */
	/* the proxy's secrets (proxy_config), borrowed: the DNS server refuses names with them */
	const struct secret *secrets;
	size_t n_secrets;
};

#define SELF_CHECK_MS 1000  /* how often the programs are checked to be where they should */
#define MOVE_SLOW_MS  30000 /* a followed cgroup with no process to look at this long: said */
#define MOVE_POLL_MS  50    /* how often its processes are looked for meanwhile */

/* libbpf's messages, at debug level. Its format strings are its own, hence the pragma. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];

	if (level == LIBBPF_DEBUG && !log_enabled(LOG_DEBUG))
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("%s", line);
	return 0;
}
#pragma GCC diagnostic pop

/* --- stale jails ---------------------------------------------------------------------------- */

int jail_reap_stale(bool attached)
{
	return reap_stale(attached, NULL);
}

/* --- BPF ---------------------------------------------------------------------------------- */

static int ensure_bpffs(char *err, size_t errlen)
{
	struct statfs sf;

	if (statfs("/sys/fs/bpf", &sf) == 0 && (unsigned long)sf.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir("/sys/fs/bpf", 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create /sys/fs/bpf: %s", strerror(errno));
		return -errno;
	}
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") == -1) {
		snprintf(err, errlen,
			 "cannot mount the BPF filesystem on /sys/fs/bpf: %s (mount it with "
			 "\"mount -t bpf bpf /sys/fs/bpf\")",
			 strerror(errno));
		return -errno;
	}
	return 0;
}

/* The BPF filesystem and boundary's directory in it. Returns 0, or -errno with err filled. */
static int pin_root_ready(char *err, size_t errlen)
{
	int ret;

	ret = ensure_bpffs(err, errlen);
	if (ret < 0)
		return ret;
	if (mkdir(REAP_PIN_ROOT, 0700) == -1 && errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "cannot create %s: %s", REAP_PIN_ROOT, strerror(-ret));
		return ret;
	}
	return 0;
}

static int load_and_attach(struct jail *j, char *err, size_t errlen)
{
	struct bpf_program *prog;
	struct bpf_link *link;
	char path[PATH_MAX * 2];
	int ret;

	libbpf_set_print(libbpf_print);
	j->skel = jail_bpf__open();
	if (!j->skel) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the embedded BPF object: %s", strerror(-ret));
		return ret;
	}
	j->skel->rodata->cfg.abi_version = JAIL_ABI_VERSION;
	j->skel->rodata->cfg.proxy_port = j->l.proxy_port;
	j->skel->rodata->cfg.dns_port = j->l.dns_port;
	j->skel->rodata->cfg.flags = j->cfg_flags;
	j->skel->rodata->cfg.entry_level = j->entry_level;
	if (jail_bpf__load(j->skel) != 0) {
		ret = -errno;
		snprintf(err, errlen,
			 "cannot load the BPF programs: %s (run as root or grant CAP_BPF and "
			 "CAP_NET_ADMIN; --log-level debug shows the verifier's log)",
			 strerror(-ret));
		return ret;
	}
	j->orig_map_fd = bpf_map__fd(j->skel->maps.orig_by_client);
	ret = pin_root_ready(err, errlen);
	if (ret < 0)
		return ret;
	snprintf(j->pin_dir, sizeof(j->pin_dir), "%s/%s", REAP_PIN_ROOT, j->id);
	if (mkdir(j->pin_dir, 0700) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot create %.300s: %s", j->pin_dir, strerror(-ret));
		j->pin_dir[0] = '\0';
		return ret;
	}
	bpf_object__for_each_program(prog, j->skel->obj)
	{
		if (j->n_links == MAX_LINKS) {
			snprintf(err, errlen, "too many BPF programs");
			return -E2BIG;
		}
		link = bpf_program__attach_cgroup(prog, j->cg_fd);
		if (!link) {
			ret = -errno;
			snprintf(err, errlen,
				 "cannot attach BPF program %s to %.300s: %s (run as root or grant "
				 "CAP_BPF and CAP_NET_ADMIN)",
				 bpf_program__name(prog), j->cg_path, strerror(-ret));
			return ret;
		}
		j->link[j->n_links++] = link;
		snprintf(path, sizeof(path), "%s/%s", j->pin_dir, bpf_program__name(prog));
		ret = bpf_link__pin(link, path);
		if (ret < 0) {
			snprintf(err, errlen, "cannot pin %.300s: %s", path, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* The level of the cgroup at path below the cgroup2 mount root (the root is 0). */
static unsigned cgroup_level(const char *root, const char *path)
{
	char r[PATH_MAX];
	const char *p;
	unsigned n = 0;

	if (!realpath(root, r))
		snprintf(r, sizeof(r), "%s", root);
	for (p = path + strlen(r); *p; p++) {
		if (*p == '/' && p[1] && p[1] != '/')
			n++;
	}
	return n;
}

/* The id of the cgroup at path (on cgroup2, its directory's inode), or 0 when none is there. */
static uint64_t cgroup_id_at(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? (uint64_t)st.st_ino : 0;
}

/* Whether every one of j's links is still attached to cgroup id. */
static bool links_on(const struct jail *j, uint64_t id)
{
	struct bpf_link_info info;
	__u32 len;
	size_t i;

	for (i = 0; i < j->n_links; i++) {
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(bpf_link__fd(j->link[i]), &info, &len) != 0 ||
		    info.type != BPF_LINK_TYPE_CGROUP || info.cgroup.cgroup_id != id)
			return false;
	}
	return j->n_links > 0;
}

/*
 * Attaches the loaded programs to the cgroup cg_fd as a new set of links, pinned beside the old
 * set (PROGRAM_gGEN: bpffs takes no dots), and only then unpins and drops the old one: a boundary killed between the
 * two leaves both pinned, never neither. Returns 0, or -errno with err filled (the old set
 * stays).
 */
static int relink(struct jail *j, int cg_fd, char *err, size_t errlen)
{
	struct bpf_link *nl[MAX_LINKS];
	struct bpf_program *prog;
	char path[PATH_MAX * 2];
	unsigned gen = j->link_gen + 1;
	size_t n = 0, i;
	int ret = 0;

	bpf_object__for_each_program(prog, j->skel->obj)
	{
		if (n == j->n_links) {
			ret = -E2BIG;
			snprintf(err, errlen,
				 "the programs changed since they were first attached");
			goto fail;
		}
		nl[n] = bpf_program__attach_cgroup(prog, cg_fd);
		if (!nl[n]) {
			ret = -errno;
			snprintf(err, errlen, "cannot attach BPF program %s to %.300s: %s",
				 bpf_program__name(prog), j->cg_path, strerror(-ret));
			goto fail;
		}
		n++;
		snprintf(path, sizeof(path), "%s/%s_g%u", j->pin_dir, bpf_program__name(prog), gen);
		ret = bpf_link__pin(nl[n - 1], path);
		if (ret < 0) {
			snprintf(err, errlen, "cannot pin %.300s: %s", path, strerror(-ret));
			goto fail;
		}
	}
	for (i = 0; i < j->n_links; i++) {
		bpf_link__unpin(j->link[i]);
		bpf_link__destroy(j->link[i]);
		j->link[i] = nl[i];
	}
	j->link_gen = gen;
	return 0;
fail:
	for (i = 0; i < n; i++) {
		bpf_link__unpin(nl[i]);
		bpf_link__destroy(nl[i]);
	}
	return ret;
}

/* --- the shared set: boundary's own jails ---------------------------------------------------- */

/* Closes what shared_open() opened. */
static void shared_close(struct jail *j)
{
	size_t i;

	for (i = 0; i < j->n_links; i++)
		bpf_link__destroy(j->link[i]); /* closes our descriptor; the pin stays */
	j->n_links = 0;
	if (j->entries_fd >= 0)
		close(j->entries_fd);
	if (j->orig_map_fd >= 0)
		close(j->orig_map_fd);
	if (j->owners_fd >= 0)
		close(j->owners_fd);
	j->entries_fd = j->orig_map_fd = j->owners_fd = -1;
}

/*
 * Opens the set pinned in dir: its maps, the owners map and its links, which must be on the
 * cgroup parent_id. Returns 0, or -ENOENT when there is no whole set there (none, half made, or
 * no longer attached to the parent: a parent removed and made again).
 */
static int shared_open(struct jail *j, const char *dir, uint64_t parent_id)
{
	char path[PATH_MAX * 2];
	struct dirent *de;
	struct bpf_link *link;
	bool whole = true;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, SHARED_ENTRIES);
	j->entries_fd = bpf_obj_get(path);
	if (j->entries_fd < 0)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/%s", dir, SHARED_ORIG);
	j->orig_map_fd = bpf_obj_get(path);
	j->owners_fd = bpf_obj_get(SHARED_OWNERS_PIN);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "jail_", 5) != 0 || j->n_links == MAX_LINKS)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		link = bpf_link__open(path);
		if (!link) {
			whole = false;
			break;
		}
		j->link[j->n_links++] = link;
	}
	if (d)
		closedir(d);
	if (!whole || j->orig_map_fd < 0 || j->owners_fd < 0 || !links_on(j, parent_id)) {
		shared_close(j);
		return -ENOENT;
	}
	return 0;
}

/*
 * Loads the set for this ABI, attaches it to the parent cgroup parent_fd and pins it in dir, its entries map last. Called under the exclusive lock, with whatever
 * half-made set dir holds removed first. Returns 0, or -errno with err filled.
 */
static int shared_load(const char *dir, int parent_fd, char *err, size_t errlen)
{
	struct jail_bpf *skel;
	struct bpf_program *prog;
	struct bpf_link *link;
	char path[PATH_MAX * 2];
	int owners, ret = 0, n;

	setup_remove_dir(dir);
	libbpf_set_print(libbpf_print);
	skel = jail_bpf__open();
	if (!skel) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the embedded BPF object: %s", strerror(-ret));
		return ret;
	}
	skel->rodata->cfg.abi_version = JAIL_ABI_VERSION;
	/* No ports: each jail's are in its entry, found by the task's own cgroup. */
	skel->rodata->cfg.entry_level = JAIL_LEVEL_OWN;
	owners = bpf_obj_get(SHARED_OWNERS_PIN);
	if (owners >= 0 && bpf_map__reuse_fd(skel->maps.jail_owners, owners) != 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot use %s: %s", SHARED_OWNERS_PIN, strerror(-ret));
		goto out;
	}
	if (jail_bpf__load(skel) != 0) {
		ret = -errno;
		snprintf(err, errlen,
			 "cannot load the BPF programs: %s (run as root or grant CAP_BPF and "
			 "CAP_NET_ADMIN; --log-level debug shows the verifier's log)",
			 strerror(-ret));
		goto out;
	}
	if (owners < 0) {
		ret = bpf_map__pin(skel->maps.jail_owners, SHARED_OWNERS_PIN);
		if (ret < 0) {
			snprintf(err, errlen, "cannot pin %s: %s", SHARED_OWNERS_PIN,
				 strerror(-ret));
			goto out;
		}
	}
	/* Jails of older boundaries, with programs of their own: this set lets them be. */
	n = shared_mark_legacy(bpf_map__fd(skel->maps.jail_owners));
	if (n > 0)
		log_info("%d jail(s) of an older boundary keep their own programs", n);
	if (mkdir(dir, 0700) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot create %.300s: %s", dir, strerror(-ret));
		goto out;
	}
	bpf_object__for_each_program(prog, skel->obj)
	{
		link = bpf_program__attach_cgroup(prog, parent_fd);
		if (!link) {
			ret = -errno;
			snprintf(err, errlen,
				 "cannot attach BPF program %s to boundary's parent cgroup: %s",
				 bpf_program__name(prog), strerror(-ret));
			goto out;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_program__name(prog));
		ret = bpf_link__pin(link, path);
		bpf_link__destroy(link); /* the pin holds it, or nothing does */
		if (ret < 0) {
			snprintf(err, errlen, "cannot pin %.300s: %s", path, strerror(-ret));
			goto out;
		}
	}
	snprintf(path, sizeof(path), "%s/%s", dir, SHARED_ORIG);
	ret = bpf_map__pin(skel->maps.orig_by_client, path);
	if (ret == 0) {
		snprintf(path, sizeof(path), "%s/%s", dir, SHARED_ENTRIES);
		ret = bpf_map__pin(skel->maps.entries, path);
	}
	if (ret < 0)
		snprintf(err, errlen, "cannot pin %.300s: %s", path, strerror(-ret));
	else
		log_debug("loaded the shared BPF programs of ABI %u into %s", JAIL_ABI_VERSION,
			  dir);
out:
	if (ret < 0)
		setup_remove_dir(dir); /* unpinned, the links detach */
	if (owners >= 0)
		close(owners);
	jail_bpf__destroy(skel);
	return ret;
}

/*
 * A jail of boundary's own joins the shared set: loaded and pinned first if no whole set of
 * this ABI is (under the exclusive lock, so concurrent first jails load one), then the jail's
 * entry (its listeners' ports, flags and id) and owner record written under the shared lock,
 * so no sweep removes the set in between. Until then its cgroup, empty anyway, is refused
 * everything. Returns 0, or -errno with err filled.
 */
static int shared_join(struct jail *j, char *err, size_t errlen)
{
	char parent[PATH_MAX + 16], dir[PATH_MAX];
	struct jail_entry e;
	unsigned long long start = 0;
	__u32 abi = JAIL_ABI_VERSION;
	struct stat st, cs;
	int lock = -1, pfd = -1, ret, pid = 0;
	__u64 key;

	ret = pin_root_ready(err, errlen);
	if (ret < 0)
		return ret;
	snprintf(parent, sizeof(parent), "%s/%s", j->cg_root, CGROUP_PARENT);
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd == -1 || fstat(pfd, &st) == -1 || fstat(j->cg_fd, &cs) == -1) {
		ret = -errno;
		snprintf(err, errlen, "cannot open cgroup %.300s: %s", parent, strerror(-ret));
		goto out;
	}
	j->links_cg = (uint64_t)st.st_ino;
	j->cg_id = (uint64_t)cs.st_ino;
	shared_set_dir(JAIL_ABI_VERSION, dir, sizeof(dir));
	lock = shared_lock(false, err, errlen);
	if (lock < 0) {
		ret = lock;
		goto out;
	}
	if (shared_open(j, dir, j->links_cg) < 0) {
		shared_unlock(lock);
		lock = shared_lock(true, err, errlen);
		if (lock < 0) {
			ret = lock;
			goto out;
		}
		if (shared_open(j, dir, j->links_cg) < 0) {
			ret = shared_load(dir, pfd, err, errlen);
			if (ret == 0 && shared_open(j, dir, j->links_cg) < 0) {
				ret = -ENOENT;
				snprintf(err, errlen, "the BPF programs pinned in %.300s went away",
					 dir);
			}
			if (ret < 0)
				goto out;
		}
	}
	memset(&e, 0, sizeof(e));
	e.proxy_port = j->l.proxy_port;
	e.dns_port = j->l.dns_port;
	e.flags = j->cfg_flags;
	if (sscanf(j->id, "%d-%llu", &pid, &start) == 2) {
		e.pid = (__u32)pid;
		e.start_time = start;
	}
	key = j->cg_id;
	if (bpf_map_update_elem(j->entries_fd, &key, &e, BPF_ANY) != 0 ||
	    bpf_map_update_elem(j->owners_fd, &key, &abi, BPF_ANY) != 0) {
		ret = -errno;
		snprintf(err, errlen,
			 "cannot make the jail's entry in %.300s: %s (%d jails at most at once)",
			 dir, strerror(-ret), JAIL_MAX_ENTRIES);
		bpf_map_delete_elem(j->entries_fd, &key);
		goto out;
	}
	j->entry_made = true;
	/*
	 * An older boundary's jail made since the set was loaded is refused everything by it (it
	 * has no entry): let it be from now on. Its own programs decide for it.
	 */
	shared_mark_legacy(j->owners_fd);
	ret = 0;
out:
	shared_unlock(lock);
	if (pfd >= 0)
		close(pfd);
	return ret;
}

/* --- original destinations and DNS, for the proxy and the jail ----------------------------- */

/*
 * The key the jail files a socket's record under: its address and port as the listener sees
 * them, and the network namespace of fd (the accepted connection, or the listener a datagram
 * came in on). Returns 0, or -errno.
 */
static int client_key(int fd, const struct sockaddr_storage *ss, struct jail_client_key *key)
{
	socklen_t len = sizeof(key->netns);

	memset(key, 0, sizeof(*key));
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &key->netns, &len) == -1)
		return -errno;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		key->family = JAIL_AF_INET;
		key->addr[0] = sin->sin_addr.s_addr;
		key->port = sin->sin_port;
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		key->family = JAIL_AF_INET6;
		memcpy(key->addr, &sin6->sin6_addr, 16);
		key->port = sin6->sin6_port;
	}
	return 0;
}

/* Finds (and forgets) the original destination of an accepted connection. */
static int orig_lookup(struct jail *j, int fd, struct jail_orig *o)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct jail_client_key key;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1 || client_key(fd, &ss, &key) < 0)
		return -errno;
	if (bpf_map_lookup_and_delete_elem(j->orig_map_fd, &key, o) != 0)
		return -errno;
	return 0;
}

/*
 * The executable a record names, as stat() names files: false when it names none. The kernel's
 * dev_t is MAJOR << 20 | MINOR (new_encode_dev() is for stat only); makedev() gives the st_dev
 * that stat() reports, which exe= rules were bound to.
 */
static bool orig_exe(const struct jail_orig *o, uint64_t *dev, uint64_t *ino)
{
	if (!(o->flags & JAIL_ORIG_EXE))
		return false;
	*dev = makedev(o->exe_dev >> 20, o->exe_dev & 0xfffff);
	*ino = o->exe_ino;
	return true;
}

/* The proxy's way to the original destination, without knowing of BPF. */
static int proxy_orig(void *arg, int fd, struct proxy_orig *out)
{
	struct jail_orig o;
	int ret;

	ret = orig_lookup(arg, fd, &o);
	if (ret < 0)
		return ret;
	/* A UDP socket's record (for DNS) under the same address and port is not this one's. */
	if (o.proto != IPPROTO_TCP)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	if (o.family == JAIL_AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->dst;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, o.addr, 16);
		sin6->sin6_port = o.port;
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->dst;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = o.addr[0];
		sin->sin_port = o.port;
	}
	out->pid = o.pid;
	memcpy(out->comm, o.comm, sizeof(o.comm));
	out->comm[sizeof(out->comm) - 1] = '\0';
	out->direct = (o.flags & JAIL_ORIG_DIRECT) != 0;
	out->has_exe = orig_exe(&o, &out->exe_dev, &out->exe_ino);
	return 0;
}

/* Who sent a DNS query from peer: the jail's record of the socket (bpf/jail.bpf.c). */
static int dns_who(void *arg, int fd, const struct sockaddr_storage *peer, bool tcp,
		   struct dns_who *out)
{
	struct jail *j = arg;
	struct jail_client_key key;
	struct jail_orig o;
	int r;

	if (client_key(fd, peer, &key) < 0)
		return -errno;
	/* A TCP connection's record is used once; a UDP socket's serves each datagram. */
	r = tcp ? bpf_map_lookup_and_delete_elem(j->orig_map_fd, &key, &o)
		: bpf_map_lookup_elem(j->orig_map_fd, &key, &o);
	if (r != 0)
		return -errno;
	if (o.proto != (tcp ? IPPROTO_TCP : IPPROTO_UDP))
		return -ENOENT;
	out->pid = o.pid;
	memcpy(out->comm, o.comm, sizeof(out->comm));
	out->comm[sizeof(out->comm) - 1] = '\0';
	out->has_exe = orig_exe(&o, &out->exe_dev, &out->exe_ino);
	return 0;
}

/* --- the whole run ------------------------------------------------------------------------ */

static void jail_init(struct jail *j)
{
	memset(j, 0, sizeof(*j));
	j->cg_fd = -1;
	j->netns_fd = -1;
	j->orig_map_fd = -1;
	j->entries_fd = -1;
	j->owners_fd = -1;
	j->l.proxy4 = j->l.proxy6 = j->l.dns_udp4 = j->l.dns_udp6 = j->l.dns_tcp4 = -1;
	j->l.dns_tcp6 = j->l.probe6 = -1;
	j->tick = -1;
}

static void jail_teardown(struct jail *j)
{
	size_t i;
	int ret;

	/* The way in closes first: nothing reaches the jail while it is taken down. */
	portfwd_free(j->fwd);
	j->fwd = NULL;
	parent_free(j->parent);
	j->parent = NULL;
	if (j->cg_path[0] && !j->attached) {
		ret = cgroup_destroy(j->cg_path, 5000);
		if (ret < 0)
			log_warn(
			    "cannot remove the jail's cgroup %s: %s (boundary cleanup will retry)",
			    j->cg_path, strerror(-ret));
		else if (j->entry_made) {
			/* Only once the cgroup is gone: until then the entry keeps it closed. */
			__u64 key = j->cg_id;

			bpf_map_delete_elem(j->entries_fd, &key);
			bpf_map_delete_elem(j->owners_fd, &key);
		}
	}
	/*
	 * Only once nothing is left in the cgroup do the hooks go (an attached one: at once),
	 * unless it is to stay closed: then the pins and the record stay, as after a SIGKILL.
	 */
	for (i = 0; i < j->n_links && !j->shared; i++) {
		if (!j->keep_closed)
			bpf_link__unpin(j->link[i]);
		bpf_link__destroy(j->link[i]);
	}
	if (j->pin_dir[0] && !j->keep_closed)
		setup_remove_dir(j->pin_dir);
	if (j->run_dir[0] && !j->keep_closed)
		setup_remove_dir(j->run_dir);
	/* Workers stopped first; the policy then answers what still waits, then the proxy goes. */
	proxy_stop(j->proxy);
	policy_free(j->policy);
	proxy_free(j->proxy);
	tls_ctxs_fini(&j->tls);
	ca_free(j->ca);
	dns_table_free(j->dns);
	audit_close(j->audit);
	if (j->shared)
		shared_close(j); /* the set stays pinned for the next jail */
	jail_bpf__destroy(j->skel);
	netns_listeners_close(&j->l);
	if (j->netns_fd >= 0)
		close(j->netns_fd);
	if (j->cg_fd >= 0)
		close(j->cg_fd);
}

/*
 * The jail's /etc/hosts names only its own loopback: every other name is asked of boundary's
 * DNS responder, so the jail's view of names never depends on the host's (and a name the host
 * maps to its own loopback does not lead into the jail's).
 */
static int make_run_files(struct jail *j, char *err, size_t errlen)
{
	char name[256] = "localhost", path[PATH_MAX];
	FILE *f;

	if (mkdir(REAP_RUN_ROOT, 0755) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", REAP_RUN_ROOT, strerror(errno));
		return -errno;
	}
	snprintf(j->run_dir, sizeof(j->run_dir), "%s/%s", REAP_RUN_ROOT, j->id);
	if (mkdir(j->run_dir, 0755) == -1) {
		snprintf(err, errlen, "cannot create %.300s: %s", j->run_dir, strerror(errno));
		j->run_dir[0] = '\0';
		return -errno;
	}
	snprintf(j->hosts, sizeof(j->hosts), "%.4000s/hosts", j->run_dir);
	gethostname(name, sizeof(name) - 1);
	f = fopen(j->hosts, "we");
	if (!f) {
		snprintf(err, errlen, "cannot write %.300s: %s", j->hosts, strerror(errno));
		return -errno;
	}
	fprintf(f,
		"# the jail's own names; boundary answers every other\n"
		"127.0.0.1\tlocalhost\n"
		"::1\tlocalhost ip6-localhost ip6-loopback\n"
		"127.0.1.1\t%s\n",
		name);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "cannot write %.300s: %s", j->hosts, strerror(errno));
		return -errno;
	}
	chmod(j->hosts, 0644);
	if (!j->attached)
		return 0;
	/* Written before the programs are pinned: a killed attach is never mistaken for a jail. */
	snprintf(path, sizeof(path), "%.4000s/%s", j->run_dir, REAP_ATTACHED_FILE);
	f = fopen(path, "we");
	if (!f) {
		snprintf(err, errlen, "cannot write %.300s: %s", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "%s\n", j->cg_path);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "cannot write %.300s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * The proxy's upstream side goes where pid's processes are: j->netns_fd (theirs) for its
 * sockets and lookups, their root for /etc/hosts and /etc/resolv.conf. Returns 0, or -errno
 * with err filled.
 */
static int upstream_follow(struct jail *j, pid_t pid, char *err, size_t errlen)
{
	char path[64];
	int root, ret;

	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root == -1) {
		ret = -errno;
		snprintf(err, errlen,
			 "cannot open %s, the root under which pid %d finds its /etc/hosts and "
			 "/etc/resolv.conf: %s",
			 path, (int)pid, strerror(errno));
		return ret;
	}
	ret = proxy_set_upstream_ns(j->proxy, j->netns_fd, root);
	close(root);
	if (ret < 0)
		snprintf(err, errlen,
			 "cannot move the proxy's upstream side into pid %d's network namespace: "
			 "%s",
			 (int)pid, strerror(-ret));
	return ret;
}

/* Who ran boundary: sudo's caller, or the real user. The one who answers --interactive. */
static void invoking_user(uid_t *uid, gid_t *gid)
{
	const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");
	unsigned long v;
	char *end;

	*uid = getuid();
	*gid = getgid();
	if (!u || !*u || getuid() != 0)
		return;
	errno = 0;
	v = strtoul(u, &end, 10);
	if (errno || *end || v >= (uid_t)-1)
		return;
	*uid = (uid_t)v;
	if (g && *g) {
		v = strtoul(g, &end, 10);
		if (!*end && v < (gid_t)-1)
			*gid = (gid_t)v;
	}
}

struct policy *jail_policy_new(const struct opts *o, char *err, size_t errlen)
{
	struct policy_config yc;
	struct policy *p;
	char *code = NULL;
	long n;

	memset(&yc, 0, sizeof(yc));
	yc.mode = o->interactive	      ? POLICY_PERSON
		  : o->sh[0]		      ? POLICY_SH
		  : o->js[0] || o->js_file[0] ? POLICY_JS
					      : POLICY_PROGRAM;
	yc.program = o->sh[0] ? o->sh : o->rules_program;
	yc.drop = o->user.set && o->user.uid != 0;
	yc.uid = o->user.uid;
	yc.gid = o->user.gid;
	yc.save_rules = o->save_rules[0] ? o->save_rules : NULL;
	if (o->interactive) {
		yc.ask = (enum policy_ask)o->interactive_mode;
		yc.timeout_ms = o->interactive_timeout * 1000U;
		invoking_user(&yc.owner, &yc.owner_gid);
	}
	if (yc.mode == POLICY_SH)
		yc.timeout_ms = o->sh_timeout * 1000;
	if (yc.mode == POLICY_JS) {
		yc.timeout_ms = o->js_budget_ms;
		yc.js_memory = o->js_memory_bytes;
		yc.js_name = o->js[0] ? "--js" : o->js_file;
		if (o->js_file[0]) {
			code = jseval_read_file(o->js_file, err, errlen);
			if (!code)
				return NULL;
		}
		yc.js_code = code ? code : o->js;
	}
	/* As many evaluators (scripts) at work at once as the proxy has workers, up to 8. */
	n = sysconf(_SC_NPROCESSORS_ONLN);
	yc.lanes = n < 1 ? 1 : n > 8 ? 8 : (unsigned)n;
	/* The person's socket is made under /run, which is root's. */
	if (o->interactive)
		privs_raise();
	p = policy_new(&yc, err, errlen);
	if (o->interactive)
		privs_lower();
	free(code);
	return p;
}

static int setup_proxy(struct jail *j, const struct opts *o, char *err, size_t errlen)
{
	struct proxy_config pc;
	bool user_dir;
	int ret;

	setup_config_dir(&o->user, j->cfg_dir, sizeof(j->cfg_dir), &user_dir);
	j->ca = ca_open(j->cfg_dir, user_dir ? o->user.uid : (uid_t)-1,
			user_dir ? o->user.gid : (gid_t)-1, err, errlen);
	if (!j->ca)
		return -EINVAL;
	snprintf(j->key_path, sizeof(j->key_path), "%s", ca_key_path(j->ca));
	/* Per jail, in a directory the command can read whoever it runs as. */
	snprintf(j->bundle, sizeof(j->bundle), "%.4000s/ca-bundle.pem", j->run_dir);
	privs_raise();
	ret = ca_write_bundle(j->ca, j->bundle, err, errlen);
	privs_lower();
	if (ret < 0)
		return ret;
	ret = setup_proxy_common(o, j->ca, &j->tls, &pc, err, errlen);
	if (ret < 0)
		return ret;
	/*
	 * There before the jail is built, so that the jail hides it whatever boundary makes in it
	 * later: another --interactive boundary of the same user takes answers there.
	 */
	privs_raise();
	if (mkdir(POLICY_SOCKET_ROOT, 0755) == -1 && errno != EEXIST)
		log_debug("cannot make %s: %s", POLICY_SOCKET_ROOT, strerror(errno));
	privs_lower();
	if (o->rules_program[0] || o->interactive || o->js[0] || o->js_file[0] || o->sh[0]) {
		j->policy = jail_policy_new(o, err, errlen);
		if (!j->policy)
			return -EINVAL;
		if (o->js[0] || o->js_file[0] || o->sh[0])
			log_info("%s: requests the rules refuse are decided by it",
				 o->sh[0]   ? "--sh"
				 : o->js[0] ? "--js"
					    : o->js_file);
		else if (o->interactive)
			log_info("--interactive: requests the rules refuse are asked about %s%s%s",
				 o->interactive_mode == OPTS_ASK_SOCKET
				     ? "from another terminal (boundary approve)"
				     : "on this terminal, or from another one (boundary approve)",
				 o->save_rules[0] ? "; \"always\" answers go to " : "",
				 o->save_rules[0] ? o->save_rules : "");
		else
			log_info("--rules-program: requests the rules refuse go to \"%s\"",
				 o->rules_program);
	}
	pc.policy = j->policy;
	pc.dry_run = o->dry_run;
	pc.orig = proxy_orig;
	pc.audit = j->audit;
	pc.dns = j->dns;
	pc.orig_arg = j;
	pc.jail_only = (j->cfg_flags & JAIL_CFG_HOST_LOOPBACK) != 0;
	j->secrets = pc.secrets;
	j->n_secrets = pc.n_secrets;
	j->proxy = proxy_new(&pc, err, errlen);
	if (!j->proxy)
		return -ENOMEM;
	if (j->l.proxy4 >= 0)
		proxy_add_listener(j->proxy, j->l.proxy4, PROXY_JAIL);
	if (j->l.proxy6 >= 0)
		proxy_add_listener(j->proxy, j->l.proxy6, PROXY_JAIL);
	/* Before the first worker runs: no request is ever resolved or sent from elsewhere. */
	if (j->upstream_inside) {
		ret = upstream_follow(j, j->member, err, errlen);
		if (ret < 0) {
			snprintf(
			    err + strlen(err), errlen - strlen(err),
			    " (--resolve-on-host resolves and connects from the host instead)");
			return ret;
		}
	}
	ret = proxy_start(j->proxy);
	if (ret < 0) {
		snprintf(err, errlen, "cannot start the proxy: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

/* --- the self-check, and an attached cgroup followed across restarts ------------------------ */

/* Runs the self-check's timer every ms milliseconds. */
static void set_tick(struct jail *j, unsigned ms)
{
	struct itimerspec its = {
	    .it_interval = {.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L}};

	its.it_value = its.it_interval;
	if (j->fast == ms)
		return;
	j->fast = ms;
	if (j->tick >= 0 && timerfd_settime(j->tick, 0, &its, NULL) == -1)
		log_warn_errno("cannot set the self-check's timer");
}

/* Puts the listeners in l where j's are, under the same descriptors, and closes l. */
static void listeners_swap(struct jail *j, struct netns_listeners *l, struct dns_server *dns)
{
	int *const from[] = {&l->proxy4,   &l->proxy6,	 &l->dns_udp4, &l->dns_udp6,
			     &l->dns_tcp4, &l->dns_tcp6, &l->probe6};
	int *const to[] = {&j->l.proxy4,   &j->l.proxy6,   &j->l.dns_udp4, &j->l.dns_udp6,
			   &j->l.dns_tcp4, &j->l.dns_tcp6, &j->l.probe6};
	size_t i;
	int ret;

	for (i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		if (*from[i] < 0)
			continue;
		if (*to[i] < 0) {
			close(*from[i]); /* no family the programs send there: IPv6 off at first */
		} else if (i < 2) {
			ret = proxy_replace_listener(j->proxy, *to[i], *from[i]);
			if (ret < 0)
				log_warn("cannot move the proxy's listener: %s", strerror(-ret));
		} else {
			if (dup3(*from[i], *to[i], O_CLOEXEC) == -1)
				log_warn_errno("cannot move the DNS responder's socket");
			close(*from[i]);
		}
		*from[i] = -1;
	}
	dns_server_rewatch(dns);
}

/*
 * A followed cgroup's processes found: the listeners move to their network namespace, on the
 * ports the programs already send to. Returns 0 (done, or not yet: asked again on the next
 * tick), or -1 when boundary must stop (said why).
 */
static int follow_namespace(struct jail *j, struct dns_server *dns)
{
	struct attach_target t;
	struct netns_listeners nl;
	struct stat a, b;
	char err[512];
	int ret;

	memset(&t, 0, sizeof(t));
	snprintf(t.path, sizeof(t.path), "%s", j->cg_path);
	ret = attach_refind(j->cg_root, &t, j->container, err, sizeof(err));
	if (ret < 0) {
		log_error("%s", err);
		j->keep_closed = true;
		return -1;
	}
	if (ret == 0) {
		if (!j->moving_said && util_now_ms() - j->moving_since >= MOVE_SLOW_MS) {
			log_warn("%s has no process to find its network namespace by yet: its "
				 "connections are refused until one runs",
				 j->cg_path);
			j->moving_said = true;
		}
		return 0;
	}
	j->moving = false;
	set_tick(j, SELF_CHECK_MS);
	if ((t.netns_fd < 0) != (j->netns_fd < 0)) {
		log_error("%s's processes moved %s the host's network namespace: the programs "
			  "attached for it cannot follow",
			  j->cg_path, t.netns_fd < 0 ? "into" : "out of");
		if (t.netns_fd >= 0)
			close(t.netns_fd);
		j->keep_closed = true;
		return -1;
	}
	if (t.netns_fd < 0 || (fstat(t.netns_fd, &a) == 0 && fstat(j->netns_fd, &b) == 0 &&
			       a.st_ino == b.st_ino && a.st_dev == b.st_dev)) {
		log_info("%s: its processes are where they were (pid %d's network namespace): "
			 "jailed again",
			 j->cg_path, (int)t.member);
		if (t.netns_fd >= 0)
			close(t.netns_fd);
		/* The same namespace (a pod's), but maybe a new root with files of its own. */
		if (j->upstream_inside && upstream_follow(j, t.member, err, sizeof(err)) < 0)
			log_error("%s: its names may not resolve", err);
		return 0;
	}
	ret = netns_listen_in(t.netns_fd, j->l.proxy_port, j->l.dns_port, &nl, err, sizeof(err));
	if (ret < 0) {
		log_error("cannot listen inside the network namespace of pid %d, where %s's "
			  "processes are now: %s",
			  (int)t.member, j->cg_path, err);
		close(t.netns_fd);
		j->keep_closed = true;
		return -1;
	}
	listeners_swap(j, &nl, dns);
	close(j->netns_fd);
	j->netns_fd = t.netns_fd;
	if (j->upstream_inside && upstream_follow(j, t.member, err, sizeof(err)) < 0)
		log_error("%s: its allowed requests fail until it restarts again", err);
	log_info("followed %s into the network namespace of pid %d: boundary listens there on "
		 "127.0.0.1:%u (DNS on port %u)%s; jailed again",
		 j->cg_path, (int)t.member, j->l.proxy_port, j->l.dns_port,
		 j->upstream_inside ? ", and resolves names and connects upstream from there" : "");
	return 0;
}

/*
 * The self-check, on every tick and every change in the directory that holds the cgroup: the
 * programs must be attached to the cgroup at j->cg_path. When an attached cgroup is removed and
 * a new one made at its path (a container restarted), the programs go onto the new one at once,
 * connections it opened before that are shut down, and the listeners follow its processes into
 * their namespace. Returns 0, or -1 when boundary must stop: what it claims to jail is not
 * jailed (said why).
 */
static int self_check(struct jail *j, struct dns_server *dns)
{
	uint64_t id = cgroup_id_at(j->cg_path);
	char err[512];
	struct stat st;
	int fd, n;

	if (id == j->cg_id || (!id && !j->attached)) {
		if (links_on(j, j->shared ? j->links_cg : j->cg_id))
			return j->moving ? follow_namespace(j, dns) : 0;
		log_error("the BPF programs on %s are no longer attached (something detached "
			  "them): its processes are not jailed; boundary stops%s",
			  j->cg_path, j->attached ? " (run boundary attach again)" : "");
		return -1;
	}
	if (!j->attached)
		return 0;
	if (!id) {
		if (!j->gone)
			log_warn(
			    "%s is gone (%s): nothing runs there to jail; boundary attaches to "
			    "the cgroup that takes its place, if one does, as it appears",
			    j->cg_path,
			    j->container ? "the container stopped" : "its processes ended");
		j->gone = true;
		return 0;
	}
	fd = open(j->cg_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		if (fd >= 0)
			close(fd);
		return 0; /* removed again meanwhile: the next event says */
	}
	if (relink(j, fd, err, sizeof(err)) < 0) {
		log_error("%s is a new cgroup (%s restarted) and boundary cannot attach to it: "
			  "%s; its processes are not jailed, boundary stops",
			  j->cg_path, j->container ? "the container" : "its owner", err);
		close(fd);
		return -1;
	}
	close(j->cg_fd);
	j->cg_fd = fd;
	j->cg_id = (uint64_t)st.st_ino;
	j->gone = false;
	log_info("%s is a new cgroup (%s restarted): boundary's programs are on it", j->cg_path,
		 j->container ? "the container" : "its owner");
	if (j->parent)
		return 0; /* its children come and go on their own (parent_scan) */
	/* What it opened before the programs were on it never passed them: shut it down. */
	n = attach_existing_sockets(j->cg_path, true);
	if (n > 0)
		log_warn("%s: %d connection(s) opened before boundary attached to the new cgroup "
			 "were shut down",
			 j->cg_path, n);
	j->moving = true;
	j->moving_said = false;
	j->moving_since = util_now_ms();
	set_tick(j, MOVE_POLL_MS);
	return follow_namespace(j, dns);
}

/*
 * The watches of the self-check: a timer, and for an attached cgroup its parent directory (a
 * restart removes the cgroup and makes another of the same name there). Returns 0 with
 * *tick and *dir set (dir -1 when none), or -1 after saying why.
 */
static int self_check_watch(struct jail *j, int *tick, int *dir)
{
	char parent[PATH_MAX];
	char *slash;

	*dir = -1;
	*tick = j->tick = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (*tick == -1) {
		log_error_errno("cannot start the self-check's timer");
		return -1;
	}
	set_tick(j, SELF_CHECK_MS);
	if (!j->attached)
		return 0;
	snprintf(parent, sizeof(parent), "%s", j->cg_path);
	slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	*dir = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (*dir == -1 || inotify_add_watch(*dir, parent,
					    IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
						IN_ONLYDIR) == -1) {
		/* The timer still notices, within a second. */
		log_warn_errno("cannot watch %s for the cgroup's restarts", parent);
		if (*dir >= 0)
			close(*dir);
		*dir = -1;
	}
	return 0;
}

static int serve(struct jail *j, const struct opts *o, int pidfd, int sigfd)
{
	struct dns_server_config dc;
	struct dns_server *dns = NULL;
	struct epoll_event ev, evs[16];
	struct signalfd_siginfo ssi;
	int ep, n, i, fd, status = LOG_EXIT_FAILURE, tick = -1, dir = -1;
	int lfds[] = {sigfd, pidfd, -1, -1, -1, -1, -1};
	struct reload rl, jsr;
	char err[256], drain[4096];
	bool done = false, broken = false;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep == -1) {
		log_error_errno("cannot create an epoll instance");
		return LOG_EXIT_FAILURE;
	}
	reload_init(&rl, o);
	lfds[2] = rl.ino;
	/* --js-file: watched as the config file is; its new version is compile-checked first. */
	reload_init_path(&jsr, j->policy && o->js_file[0] ? o->js_file : "", true);
	lfds[6] = jsr.ino;
	if (self_check_watch(j, &tick, &dir) < 0) {
		if (tick >= 0)
			close(tick);
		reload_fini(&rl);
		reload_fini(&jsr);
		close(ep);
		return LOG_EXIT_FAILURE;
	}
	lfds[3] = tick;
	lfds[4] = dir;
	lfds[5] = j->parent ? parent_fd(j->parent) : -1;
	for (i = 0; i < (int)(sizeof(lfds) / sizeof(lfds[0])); i++) {
		if (lfds[i] < 0)
			continue; /* no command to wait for (attach), no file to watch */
		ev.events = EPOLLIN;
		ev.data.u64 = (uint64_t)lfds[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, lfds[i], &ev);
	}
	memset(&dc, 0, sizeof(dc));
	dc.table = j->dns;
	dc.rules = o->rules;
	dc.audit = j->audit;
	dc.use_real_dns = o->use_real_dns;
	dc.who = dns_who;
	dc.who_arg = j;
	dc.udp[0] = j->l.dns_udp4;
	dc.udp[1] = j->l.dns_udp6;
	dc.tcp[0] = j->l.dns_tcp4;
	dc.tcp[1] = j->l.dns_tcp6;
	dc.probe6 = j->l.probe6;
	dc.ep = ep;
	dc.secrets = j->secrets;
	dc.n_secrets = j->n_secrets;
	dns = dns_server_new(&dc, err, sizeof(err));
	if (!dns) {
		/* The jail is running: stop it rather than leave it without DNS. */
		log_error("cannot start the DNS server: %s", err);
		if (pidfd >= 0)
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		else
			done = true; /* an attached cgroup stays closed: its pins outlive us */
	}
	if (j->parent && dns) {
		parent_set_dns(j->parent, dns);
		parent_scan(j->parent);
	}
	while (!done) {
		if (j->parent)
			set_tick(j, parent_waiting(j->parent) ? MOVE_POLL_MS : SELF_CHECK_MS);
		n = epoll_wait(ep, evs, 16, dns ? dns_server_timeout_ms(dns) : -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_error_errno("epoll_wait");
			break;
		}
		if (dns)
			dns_server_tick(dns);
		for (i = 0; i < n; i++) {
			if (evs[i].data.u64 & DNS_SERVER_EV) {
				if (dns)
					dns_server_event(dns, evs[i].data.u64, evs[i].events);
				continue;
			}
			fd = evs[i].data.fd;
			if (j->parent && (fd == tick || fd == parent_fd(j->parent)) && dns)
				parent_scan(j->parent);
			if (j->parent && fd == parent_fd(j->parent))
				continue;
			if (fd == tick || fd == dir) {
				while (read(fd, drain, sizeof(drain)) > 0)
					;
				if (broken || self_check(j, dns) == 0)
					continue;
				broken = true;
				if (pidfd < 0) {
					if (j->keep_closed)
						log_error("boundary stops; %s stays closed (its "
							  "programs stay pinned) until boundary "
							  "cleanup, or a new boundary attach",
							  j->cg_path);
					done = true; /* status stays a failure */
					continue;
				}
				/* The command must not run on unjailed: it ends, and so do we. */
				syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
			} else if (fd == rl.ino) {
				if (reload_changed(&rl))
					reload_rules(&rl, o, j->proxy, dns, "the file changed");
			} else if (fd == jsr.ino) {
				if (reload_changed(&jsr))
					reload_js(&jsr, j->policy);
			} else if (fd == pidfd) {
				if (setup_child_status(pidfd, &status) < 0)
					continue;
				if (broken)
					status = LOG_EXIT_FAILURE;
				done = true;
			} else if (fd == sigfd) {
				if (read(sigfd, &ssi, sizeof(ssi)) != sizeof(ssi))
					continue;
				if (pidfd < 0) {
					/* Attached: the stopping signals detach, the rest are ignored. */
					if (ssi.ssi_signo == SIGTERM || ssi.ssi_signo == SIGINT ||
					    ssi.ssi_signo == SIGHUP || ssi.ssi_signo == SIGQUIT) {
						log_info("signal %u: detaching", ssi.ssi_signo);
						status = 0;
						done = true;
					}
					continue;
				}
				/* A terminal's signals reach the command's process group directly. */
				if (ssi.ssi_code == SI_KERNEL)
					continue;
				/* kill -HUP boundary: reload the rules; the command never sees it. */
				if (ssi.ssi_signo == SIGHUP) {
					reload_rules(&rl, o, j->proxy, dns, "SIGHUP");
					if (jsr.path[0])
						reload_js(&jsr, j->policy);
					continue;
				}
				log_debug("forwarding signal %u to the jail", ssi.ssi_signo);
				syscall(SYS_pidfd_send_signal, pidfd, (int)ssi.ssi_signo, NULL, 0);
			}
		}
	}
	/* The children's listeners leave the DNS server before it goes. */
	parent_free(j->parent);
	j->parent = NULL;
	dns_server_free(dns);
	reload_fini(&rl);
	reload_fini(&jsr);
	if (tick >= 0)
		close(tick);
	j->tick = -1;
	if (dir >= 0)
		close(dir);
	close(ep);
	return status;
}

/*
 * What a jail and an attachment share once the cgroup is known: the programs loaded and
 * attached to it, and the table of names the DNS responder hands out. Returns 0, or -errno
 * with err saying why.
 */
static int hook_up(struct jail *j, char *err, size_t errlen)
{
	struct stat st;
	int ret;

	ret = j->shared ? shared_join(j, err, errlen) : load_and_attach(j, err, errlen);
	if (ret < 0)
		return ret;
	if (!j->shared && fstat(j->cg_fd, &st) == 0)
		j->cg_id = (uint64_t)st.st_ino;
	log_debug("jail %s: cgroup %s, proxy port %u, DNS port %u, cgroup id %llu", j->id,
		  j->cg_path, j->l.proxy_port, j->l.dns_port, (unsigned long long)j->cg_id);
	j->dns = dns_table_new();
	if (!j->dns) {
		snprintf(err, errlen, "out of memory for the DNS responder");
		return -ENOMEM;
	}
	return 0;
}

int jail_run(const struct opts *o, char *const argv[])
{
	struct jail j;
	struct spawn_opts so;
	struct fsview_jail fj;
	struct fsview_user *view = NULL;
	struct rootfs_run rr;
	const char *hide[24], *ro[12], *binds[12];
	char err[512], store[PATH_MAX + 64];
	char **env = NULL;
	sigset_t old;
	int pidfd = -1, sigfd = -1, status = LOG_EXIT_FAILURE, ret;
	pid_t pid;

	jail_init(&j);
	j.shared = true;
	memset(&rr, 0, sizeof(rr));
	if (privs_caps_check(err, sizeof(err)) < 0) {
		log_error("%s", err);
		return LOG_EXIT_FAILURE;
	}
	if (setup_check_user(o, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return LOG_EXIT_FAILURE;
	}
	/* --rootfs, --image: the command must be in that root, said before anything is built. */
	privs_raise();
	ret = rootfs_prepare(o, argv, &rr, err, sizeof(err));
	privs_lower();
	if (ret < 0) {
		log_error("%s", err);
		rootfs_run_fini(&rr);
		return LOG_EXIT_FAILURE;
	}
	sigfd = setup_signals_take(&old, err, sizeof(err));
	if (sigfd < 0) {
		log_error("%s", err);
		goto out;
	}

	/* Capabilities are effective only while the jail is built, spawned and taken down. */
	privs_raise();
	ret = reap_stale(false, NULL);
	if (ret > 0)
		log_info("reaped %d stale jail object(s)", ret);

	reap_make_id(j.id, sizeof(j.id));
	ret = netns_create(o->src[OPTS_PROXY_PORT] == OPTS_SRC_DEFAULT ? 0 : o->proxy_port, &j.l,
			   err, sizeof(err));
	if (ret < 0) {
		log_error("%s", err);
		goto out;
	}
	j.netns_fd = ret;
	ret = cgroup_find_root(j.cg_root, sizeof(j.cg_root), err, sizeof(err));
	if (ret == 0) {
		ret =
		    cgroup_create(j.cg_root, j.id, j.cg_path, sizeof(j.cg_path), err, sizeof(err));
		if (ret >= 0)
			j.cg_fd = ret;
	}
	if (ret < 0) {
		j.cg_path[0] = '\0';
		log_error("%s", err);
		goto out;
	}
	if (hook_up(&j, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out;
	}
	privs_lower();
	ret = setup_audit_open(o, j.id, argv[0], &j.audit, err, sizeof(err));
	if (ret < 0) {
		log_error("%s", err);
		goto out;
	}
	privs_raise();
	ret = make_run_files(&j, err, sizeof(err));
	privs_lower();
	if (ret == 0)
		ret = setup_proxy(&j, o, err, sizeof(err));
	if (ret < 0) {
		log_error("%s", err);
		goto out;
	}
	if (o->forwards.n) {
		/* Its thread enters the jail's namespace, so it starts with the capabilities up. */
		privs_raise();
		j.fwd = portfwd_start(&o->forwards, j.netns_fd, err, sizeof(err));
		privs_lower();
		if (!j.fwd) {
			log_error("%s", err);
			goto out;
		}
	}

	if (rr.on) {
		privs_raise();
		ret = rootfs_stage(&rr, j.run_dir, j.bundle, j.hosts, err, sizeof(err));
		privs_lower();
		if (ret < 0) {
			log_error("%s", err);
			goto out;
		}
	}
	/* In a root of its own, the bundle is where every distribution looks. */
	env = setup_command_env(o, rr.on ? ROOTFS_BUNDLE : j.bundle,
				rr.on ? (const char *const *)rr.env : NULL);
	if (!env) {
		log_error("out of memory");
		goto out;
	}
	fj.cg_root = j.cg_root;
	fj.cfg_dir = j.cfg_dir;
	fj.key_path = j.key_path;
	fj.audit_path = j.audit ? audit_path(j.audit) : NULL;
	fsview_build(o, &fj, hide, sizeof(hide) / sizeof(hide[0]), ro, sizeof(ro) / sizeof(ro[0]),
		     store, sizeof(store));
	view = fsview_user_new(o, &fj, err, sizeof(err));
	if (!view) {
		log_error("%s", err);
		goto out;
	}
	memset(&so, 0, sizeof(so));
	so.cgroup_fd = j.cg_fd;
	so.netns_fd = j.netns_fd;
	/*
	 * An ordinary user runs as itself with nothing more. Root runs inside a user namespace of
	 * its own, or with --no-user-namespace (hosts that allow none) as uid 0 with no
	 * capabilities at all.
	 */
	so.as_user = (o->user.set && o->user.uid != 0) || o->no_user_namespace;
	so.uid = o->user.set && o->user.uid != 0 ? o->user.uid : PRIVS_USERNS_HOST_ID;
	so.gid = o->user.set && o->user.uid != 0 ? o->user.gid : PRIVS_USERNS_HOST_ID;
	if (rr.user_set) {
		/* The image's User: its uid 0 is root in a user namespace, as any root command. */
		so.as_user = rr.uid != 0 || o->no_user_namespace;
		so.uid = rr.uid != 0 ? rr.uid : PRIVS_USERNS_HOST_ID;
		so.gid = rr.uid != 0 ? rr.gid : PRIVS_USERNS_HOST_ID;
	}
	if (privs_unprivileged()) {
		so.as_user = true;
		so.uid = getuid();
		so.gid = getgid();
	}
	so.argv = argv;
	so.envp = env;
	so.hide = hide;
	so.rdonly = ro;
	so.view = view;
	binds[0] = j.bundle;
	binds[1] = "/etc/ssl/certs/ca-certificates.crt"; /* Debian, Ubuntu */
	binds[2] = j.bundle;
	binds[3] = "/etc/pki/tls/certs/ca-bundle.crt"; /* Fedora, RHEL */
	binds[4] = j.bundle;
	binds[5] = "/etc/ssl/ca-bundle.pem"; /* openSUSE */
	binds[6] = j.bundle;
	binds[7] = "/etc/ssl/cert.pem"; /* Alpine, Arch */
	binds[8] = j.hosts;
	binds[9] = "/etc/hosts";
	binds[10] = NULL;
	so.binds = binds;
	so.rootfs = rr.on ? &rr.spec : NULL;
	if (privs_unprivileged())
		log_info("the command runs as uid %u with no capabilities", (unsigned)so.uid);
	else if (!so.as_user)
		log_info(
		    "the command runs as root inside a user namespace, which is nobody on the "
		    "host: it can change nothing of the host's that nobody cannot (use --user or "
		    "sudo to run it as an ordinary user)");
	else if (o->no_user_namespace && !(o->user.set && o->user.uid != 0))
		log_info("the command runs as nobody with no capabilities (--no-user-namespace)");
	privs_raise();
	pidfd = spawn_jail(&so, &pid, err, sizeof(err));
	privs_lower();
	if (pidfd < 0) {
		log_error("%s", err);
		goto out;
	}
	if (j.policy)
		policy_set_jail(j.policy, j.cg_path);
	status = serve(&j, o, pidfd, sigfd);
	if (o->dry_run && j.audit && audit_path(j.audit) && strcmp(audit_path(j.audit), "-") != 0)
		log_warn("--dry-run is over: `boundary log summary %s` proposes the --allow lines "
			 "for what the rules would have refused",
			 audit_path(j.audit));
out:
	if (pidfd >= 0)
		close(pidfd);
	privs_raise();
	rootfs_run_fini(&rr);
	jail_teardown(&j);
	privs_lower();
	setup_command_env_free(env);
	fsview_user_free(view);
	setup_signals_give(sigfd, &old);
	return status;
}

int jail_attach(const struct opts *o)
{
	struct attach_target t;
	struct jail j;
	char err[512], where[64];
	const char *name;
	sigset_t old;
	int sigfd = -1, status = LOG_EXIT_FAILURE, ret;

	jail_init(&j);
	t.netns_fd = -1;
	if (geteuid() != 0) {
		log_error("cannot attach: boundary is not running as root (run it with sudo; "
			  "file capabilities serve boundary -- COMMAND only)");
		return LOG_EXIT_FAILURE;
	}
	sigfd = setup_signals_take(&old, err, sizeof(err));
	if (sigfd < 0) {
		log_error("%s", err);
		goto out;
	}

	ret = cgroup_find_root(j.cg_root, sizeof(j.cg_root), err, sizeof(err));
	if (ret == 0 && o->attach_create) {
		if (!o->attach_cgroup) {
			log_error("--create makes the cgroup --cgroup names: use the two together");
			goto out;
		}
		ret = attach_create(j.cg_root, o->attach_cgroup, err, sizeof(err));
	}
	if (ret == 0)
		ret = attach_resolve(j.cg_root, o->attach_cgroup, o->attach_container,
				     o->attach_unit, &t, err, sizeof(err));
	if (ret < 0) {
		log_error("%s", err);
		goto out;
	}
	if (t.parent) /* each child a jail: its entry is found at the level below */
		j.entry_level = cgroup_level(j.cg_root, t.path) + 1;
	/* A stale attachment to this cgroup stays until ours is in place: never an open instant. */
	ret = reap_stale(false, NULL);
	if (ret > 0)
		log_info("reaped %d stale jail object(s)", ret);
	ret = reap_attach_is_free(t.path, err, sizeof(err));
	if (ret < 0) {
		log_error("%s", err);
		goto out;
	}
	reap_make_id(j.id, sizeof(j.id));
	j.attached = true;
	if (!t.parent)
		j.container = o->attach_container;
	snprintf(j.cg_path, sizeof(j.cg_path), "%s", t.path);
	j.netns_fd = t.netns_fd;
	t.netns_fd = -1;
	/* Sharing the host's namespace, the cgroup's loopback is the host's: not its own. */
	if (j.netns_fd < 0)
		j.cfg_flags |= JAIL_CFG_HOST_LOOPBACK;
	j.cg_fd = open(j.cg_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j.cg_fd == -1) {
		log_error_errno("cannot open cgroup %s", j.cg_path);
		goto out;
	}
	ret = netns_listen_in(j.netns_fd,
			      o->src[OPTS_PROXY_PORT] == OPTS_SRC_DEFAULT ? 0 : o->proxy_port, 0,
			      &j.l, err, sizeof(err));
	if (ret < 0) {
		log_error("%s", err);
		goto out;
	}
	/* The record the reaper reads goes first, so a killed attach is never taken for a jail. */
	ret = make_run_files(&j, err, sizeof(err));
	if (ret < 0) {
		log_error("%s", err);
		goto out;
	}
	if (hook_up(&j, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out;
	}
	reap_stale(false, j.cg_path);
	name = o->attach_container ? o->attach_container
	       : o->attach_unit	   ? o->attach_unit
				   : strrchr(j.cg_path, '/') + 1;
	ret = setup_audit_open(o, j.id, name, &j.audit, err, sizeof(err));
	if (ret < 0) {
		log_error("%s", err);
		goto out;
	}
	j.upstream_inside = j.netns_fd >= 0 && !o->resolve_on_host;
	j.member = t.member;
	ret = setup_proxy(&j, o, err, sizeof(err));
	if (ret < 0) {
		log_error("%s", err);
		goto out;
	}
	if (t.parent) {
		struct parent_hooks ph = {.root = j.cg_root,
					  .entries_fd = bpf_map__fd(j.skel->maps.entries),
					  .proxy_port = j.l.proxy_port,
					  .dns_port = j.l.dns_port,
					  .proxy = j.proxy,
					  .table = j.dns};

		j.parent = parent_new(j.cg_path, &ph, err, sizeof(err));
		if (!j.parent) {
			log_error("%s", err);
			goto out;
		}
	}
	if (j.upstream_inside)
		log_info("allowed names are resolved as pid %d resolves them: its /etc/hosts, then "
			 "the nameservers of its /etc/resolv.conf, asked from inside its network "
			 "namespace, where upstream connections are made too (--resolve-on-host: "
			 "from the host's)",
			 (int)t.member);
	/* Attached first, then looked for: a socket made meanwhile is covered or found. */
	ret = attach_existing_sockets(j.cg_path, o->kill_existing_sockets);
	if (ret < 0) {
		errno = -ret;
		log_warn_errno("cannot look for connections opened before the attach");
	}
	if (t.parent)
		log_info(
		    "attached to %s, a parent: each cgroup below it, now or later, is a jail "
		    "of its own and reaches the network only through boundary on "
		    "127.0.0.1:%u (DNS on port %u) in its own network namespace, once its "
		    "first process shows which; HTTPS clients must trust %s; SIGTERM or SIGINT "
		    "detaches",
		    j.cg_path, j.l.proxy_port, j.l.dns_port, ca_cert_path(j.ca));
	else if (j.netns_fd < 0)
		snprintf(where, sizeof(where), "the host's network namespace");
	else
		snprintf(where, sizeof(where), "the network namespace of pid %d", (int)t.member);
	if (!t.parent)
		log_info("attached to %s: its processes (in %s) reach the network only through "
			 "boundary on 127.0.0.1:%u (DNS on port %u); HTTPS clients must trust %s; "
			 "SIGTERM or SIGINT detaches",
			 j.cg_path, where, j.l.proxy_port, j.l.dns_port, ca_cert_path(j.ca));
	status = serve(&j, o, -1, sigfd);
	if (status == 0)
		log_info("detached from %s", j.cg_path);
out:
	jail_teardown(&j);
	if (t.netns_fd >= 0)
		close(t.netns_fd);
	setup_signals_give(sigfd, &old);
	return status;
}

int jail_probe(char *err, size_t errlen)
{
	struct jail_bpf *skel;
	unsigned level;
	int ret = 0;

	libbpf_set_print(libbpf_print);
	/*
	 * Every shape: a jail's own cgroup (0), an attached parent whose children are jails (2),
	 * and boundary's shared set on its parent (JAIL_LEVEL_OWN, no ports: 1 here).
	 */
	for (level = 0; level <= 2 && !ret; level++) {
		skel = jail_bpf__open();
		if (!skel) {
			ret = -errno;
			snprintf(err, errlen, "cannot open the embedded BPF object: %s",
				 strerror(-ret));
			break;
		}
		skel->rodata->cfg.abi_version = JAIL_ABI_VERSION;
		skel->rodata->cfg.proxy_port = level == 1 ? 0 : 1;
		skel->rodata->cfg.dns_port = level == 1 ? 0 : 2;
		skel->rodata->cfg.entry_level = level == 1 ? JAIL_LEVEL_OWN : level;
		if (jail_bpf__load(skel) != 0) {
			ret = -errno;
			snprintf(err, errlen,
				 "cannot load the BPF programs%s: %s (run as root or grant CAP_BPF "
				 "and CAP_NET_ADMIN)",
				 level ? " for a parent cgroup" : "", strerror(-ret));
		}
		jail_bpf__destroy(skel);
	}
	return ret;
}

int jail_prog_sections(char *buf, size_t len)
{
	struct bpf_program *prog;
	struct jail_bpf *skel;
	size_t used = 0;
	int n;

	buf[0] = '\0';
	libbpf_set_print(libbpf_print);
	skel = jail_bpf__open();
	if (!skel)
		return -errno;
	bpf_object__for_each_program(prog, skel->obj)
	{
		n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
			     bpf_program__section_name(prog));
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	jail_bpf__destroy(skel);
	return 0;
}
