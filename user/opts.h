/* SPDX-License-Identifier: MIT */
/*
 * opts.h: boundary's options, from the command line, the environment and the config file.
 *
 * One table (opts_defs()) names every option once: its flag, environment variable, config-file
 * key, type, default and help line. Parsing, the environment lookup, the YAML loader (config.c),
 * generate-config and --help all read that table, so an option cannot exist in one place and
 * be missing in another. Precedence is flag, then environment, then file, then default; each
 * value remembers where it came from (opts.src[]). The allow rules are the exception: the
 * file's allowlist always comes first, then the --allow flags (or BOUNDARY_ALLOW when no flag
 * is given), all compiled into one rule set by opts_finish(); the secrets (--secret, YAML
 * secrets:, BOUNDARY_SECRET) merge the same way. The table's last column says which
 * subcommands take each flag; the command line itself is cli.c's. This module checks and
 * stores; it reads no argv and runs nothing (main.c does).
 */
#ifndef BOUNDARY_USER_OPTS_H
#define BOUNDARY_USER_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "proxy/log.h"

struct rules;
struct secrets;
struct upchain;

/* Every option, in the order of the table. */
enum opts_id {
	OPTS_ALLOW = 0,
	OPTS_DENY,
	OPTS_SECRET,
	OPTS_CONFIG,
	OPTS_LOG_LEVEL,
	OPTS_LOG_DIR,
	OPTS_PROXY_PORT,
	OPTS_USER,
	OPTS_USE_REAL_DNS,
	OPTS_TEST,
	OPTS_TEST_IP,
	OPTS_VERSION,
	OPTS_HELP,
	OPTS_JAIL_TYPE,
	OPTS_NO_USER_NAMESPACE,
	OPTS_DISABLE_AUDIT_LOGS,
	OPTS_LOG_PROXY_SOCKET_PATH,
	OPTS_PPROF,
	OPTS_PPROF_PORT,
	OPTS_SESSION_CORRELATION,
	OPTS_INJECT_TARGET,
	OPTS_UPSTREAM_CA,
	OPTS_UPSTREAM_PROXY,
	OPTS_UPSTREAM_PROXY_BYPASS,
	OPTS_UPSTREAM_PROXY_CONNECT_ALWAYS,
	OPTS_UPSTREAM_TIMEOUT,
	OPTS_AUDIT_LOG,
	OPTS_LISTEN,
	OPTS_PORT_FORWARD,
	OPTS_DRY_RUN,
	OPTS_INTERACTIVE, /* a bool that also takes auto, terminal or socket (OPTS_ASK_*) */
	OPTS_INTERACTIVE_TIMEOUT,
	OPTS_SAVE_RULES,
	OPTS_RULES_PROGRAM,
	OPTS_PROC, /* httpjail's name of --rules-program */
	OPTS_JS,
	OPTS_JS_FILE,
	OPTS_SH,
	OPTS_JS_BUDGET,
	OPTS_JS_MEMORY,
	OPTS_SH_TIMEOUT,
	OPTS_HEADER_TIMEOUT,
	OPTS_IDLE_TIMEOUT,
	OPTS_HIDE, /* the filesystem view's (fsview.c) from here */
	OPTS_UNHIDE,
	OPTS_READ_ONLY,
	OPTS_WRITABLE,
	OPTS_PROTECT_STARTUP_FILES,
	OPTS_SHOW_HIDDEN,
	OPTS_ROOTFS, /* the root file system: --rootfs, --rootfs-upper, --bind, --image */
	OPTS_ROOTFS_UPPER,
	OPTS_BIND,
	OPTS_IMAGE,
	OPTS_IMAGE_CACHE,
	OPTS_CGROUP, /* attach's own from here */
	OPTS_CONTAINER,
	OPTS_SYSTEMD_UNIT,
	OPTS_KILL_EXISTING_SOCKETS,
	OPTS_CREATE,
	OPTS_RESOLVE_ON_HOST,
	OPTS_K8S_POD, /* what boundary k8s-node tells the attaches it runs */
	OPTS_K8S_NAMES,
	OPTS_CRI_SOCKET, /* node's own from here */
	OPTS_POLICY_DIR,
	OPTS_STATE_DIR,
	OPTS_SCAN_INTERVAL,
	OPTS_FORMAT,   /* log summary's */
	OPTS_TEST_EXE, /* --test's --exe */
	OPTS_NO_COMPAT_WARNINGS,
	OPTS__COUNT,
};

/* The subcommands (cli.c's command table); OPTS_CMD_RUN is none: a command to jail, or --test. */
enum opts_cmd {
	OPTS_CMD_RUN = 0,
	OPTS_CMD_GENERATE_CONFIG,
	OPTS_CMD_CLEANUP,
	OPTS_CMD_SERVE,
	OPTS_CMD_LOG_SUMMARY,
	OPTS_CMD_ATTACH,
	OPTS_CMD_RULES_FROM_ENDPOINTS,
	OPTS_CMD_NODE,
	OPTS_CMD_DOCTOR,
	OPTS_CMD_HELP,	     /* help [COMMAND|flags] */
	OPTS_CMD_COMPLETION, /* completion bash|zsh|fish: not listed in boundary --help */
	OPTS_CMD_APPROVE,
	OPTS__CMD_COUNT,
};

/* opts_def.cmds: the subcommands that take a flag. */
#define OPTS_IN(cmd) (1u << (cmd))
#define OPTS_IN_ALL  ((1u << OPTS__CMD_COUNT) - 1)

/* How a value is read and where it is stored (the field at opts_def.off). */
enum opts_type {
	OPTS_T_STRING,	  /* char *, owned */
	OPTS_T_BOOL,	  /* bool; Go's strconv.ParseBool spellings */
	OPTS_T_PORT,	  /* uint16_t, 1..65535 */
	OPTS_T_SECONDS,	  /* unsigned, 1..86400 */
	OPTS_T_LOG_LEVEL, /* enum log_level */
	OPTS_T_JAIL,	  /* enum opts_jail */
	OPTS_T_USER,	  /* struct opts_user, USER[:GROUP] resolved at once */
	OPTS_T_RULES,	  /* struct opts_list of rule specs, each checked with rules_add() */
	OPTS_T_SECRETS,	  /* struct opts_list of secret specs, checked by secrets_parse() */
	OPTS_T_FORWARD,	  /* struct opts_forwards: HOST:JAIL[,...]; a repeated flag appends */
	OPTS_T_PATHS,	  /* struct opts_list of paths (absolute, ~/..., or relative); env: A:B */
	OPTS_T_BINDS,	  /* struct opts_list of SRC:DST[:ro|:rw], both absolute */
	OPTS_T_TEST,	  /* --test [METHOD] URL, command line only */
	OPTS_T_FORMAT,	  /* enum opts_log_format: "table", "json" or "markdown" */
	OPTS_T_ACTION,	  /* --version, --help */
};

/* Where a value came from; a later source overrides an earlier one only if it ranks higher. */
enum opts_src {
	OPTS_SRC_DEFAULT = 0,
	OPTS_SRC_FILE,
	OPTS_SRC_ENV,
	OPTS_SRC_FLAG,
};

/* What main() should do once the options are read. */
enum opts_action {
	OPTS_RUN = 0,	      /* run argv (or a shell) in the jail */
	OPTS_TEST_URLS,	      /* --test: decide each URL, run nothing */
	OPTS_HELP_SHOW,	      /* -h, --help */
	OPTS_VERSION_SHOW,    /* --version */
	OPTS_GENERATE_CONFIG, /* the generate-config subcommand */
	OPTS_CLEANUP,	      /* the cleanup subcommand: reap stale jails */
	OPTS_LOG_SUMMARY,     /* log summary [--format FORMAT] FILE...: read audit logs */
	OPTS_ATTACH,	      /* attach --cgroup|--container|--systemd-unit: jail a cgroup */
	OPTS_SERVE,	      /* serve [flags]: the proxy alone, for explicit clients */
	/* rules from-endpoints LIST...: harden-runner's allowed-endpoints as rules */
	OPTS_RULES_FROM_ENDPOINTS,
	OPTS_NODE,	 /* node: jail the annotated pods of a Kubernetes node */
	OPTS_DOCTOR,	 /* doctor [--format table|json]: what works on this machine, and why not */
	OPTS_COMPLETION, /* completion SHELL: print the shell's completion script */
	OPTS_APPROVE,	 /* approve [ID ANSWER]: list or answer --interactive's questions */
};

/* log summary --format: for a person, for a program, for a CI job's summary page. */
enum opts_log_format {
	OPTS_LOG_TABLE = 0,
	OPTS_LOG_JSON,
	OPTS_LOG_MARKDOWN,
};

enum opts_jail {
	OPTS_JAIL_NSJAIL = 0, /* boundary's cgroup BPF jail */
	OPTS_JAIL_LANDJAIL, /* "landjail" or "landlock": proxy variables, Landlock on TCP connect */
	OPTS_JAIL_WEAK,	    /* "weak": proxy variables only, no isolation */
};

/* One option as the table describes it. */
struct opts_def {
	enum opts_id id;
	const char *flag; /* long flag without "--" */
	char short_flag;  /* or 0 */
	const char *env;  /* environment variable, or NULL */
	const char *yaml; /* config file key, or NULL */
	enum opts_type type;
	const char *def;  /* the default as a user would write it, or NULL for none */
	const char *arg;  /* placeholder in --help ("PORT"), or NULL */
	const char *help; /* one line for --help and generate-config */
	bool brief;	  /* listed with its help line in --help (the rest are only named) */
	size_t off;	  /* offsetof(struct opts, field) */
	unsigned cmds;	  /* OPTS_IN() of each subcommand that takes it */
};

/* A growable array of owned strings. */
struct opts_strv {
	char **v;
	size_t n;
};

/* A repeatable option: the file's entries come first, then the flags' (or the env's). */
struct opts_list {
	struct opts_strv file;
	struct opts_strv cli;
};

/* --user, resolved: set is false when nobody was named and boundary was not run by sudo. */
struct opts_user {
	bool set;
	uid_t uid;
	gid_t gid;
	char *spec; /* as written ("alice:staff"), or NULL when taken from SUDO_UID/SUDO_GID */
};

/* --port-forward: host loopback port HOST reaches port JAIL on the jail's loopback. */
struct opts_forward {
	uint16_t host;
	uint16_t jail;
};

#define OPTS_MAX_FORWARDS 32

struct opts_forwards {
	struct opts_forward v[OPTS_MAX_FORWARDS];
	size_t n;
};

/* One --test: both owned. */
struct opts_test {
	char *method;
	char *url;
};

/* Everything boundary was asked to do. Fields are read directly; only this module writes them. */
/* --interactive=MODE: where the person answers (policy.h's enum policy_ask, in its order). */
enum { OPTS_ASK_AUTO, OPTS_ASK_TERMINAL, OPTS_ASK_SOCKET };

struct opts {
	enum opts_action action;
	enum opts_cmd cmd; /* the subcommand named, also for its --help */
	bool help_flags;   /* boundary help flags: every flag of the jail, with its help */
	const char *shell; /* completion's SHELL, argv's */

	struct opts_list allow;	 /* rule specs, as written */
	struct opts_list deny;	 /* deny rule specs, as written */
	struct opts_list secret; /* --secret specs, as written: names unique, SECRET_MAX at most */
	char *config;		 /* --config / BOUNDARY_CONFIG; NULL: the default path */
	enum log_level log_level;
	char *log_dir; /* "" means stderr */
	uint16_t proxy_port;
	struct opts_user user;
	bool use_real_dns;
	enum opts_jail jail_type;
	bool no_user_namespace; /* root command: uid 0 with no capabilities, no userns */
	bool disable_audit_logs;
	char *log_proxy_socket_path; /* the Coder agent's audit socket; "" is an error */
	bool pprof;		     /* accepted for compatibility; no effect */
	uint16_t pprof_port;	     /* accepted for compatibility; no effect */
	bool session_correlation;    /* session fields on requests to inject targets */
	struct opts_list inject;   /* session-id inject targets, as written (rules with a domain) */
	unsigned upstream_timeout; /* seconds an upstream may stay silent before a 504 */
	char *upstream_ca;	   /* also trusted for upstream servers; "" for none */
	char *test_ip;		   /* --test's answers for a connection to this address; "": none */
	char *audit_log;	   /* "-", a file or a directory; "" for none (or --log-dir's) */
	char *listen;		   /* boundary serve's ADDR:PORT */
	struct opts_forwards forwards; /* --port-forward, in order */
	bool dry_run;		       /* allow everything, record what the rules would refuse */
	bool interactive;	       /* ask the person about what the rules refuse */
	int interactive_mode; /* where: OPTS_ASK_AUTO, OPTS_ASK_TERMINAL or OPTS_ASK_SOCKET */
	unsigned interactive_timeout; /* seconds a request waits for the person's answer */
	char *save_rules;	      /* rules read at start, "always" answers appended; "": none */
	char *rules_program;	      /* asked about what the rules refuse; "": none */
	char *js;		      /* --js: a JavaScript expression decides instead; "": none */
	char *js_file;		      /* --js-file: the same from a file, reloaded; "": none */
	char *sh;		      /* --sh: a script run per request decides instead; "": none */
	char *js_budget;	      /* ms one --js evaluation may take, as written */
	char *js_memory;	      /* MiB the --js evaluator may hold, as written */
	unsigned sh_timeout;	      /* seconds one --sh run may take */
	unsigned js_budget_ms;	      /* js_budget, read by opts_finish() */
	size_t js_memory_bytes;	      /* js_memory, read by opts_finish() */
	unsigned header_timeout;      /* seconds a client has to send a request head */
	unsigned idle_timeout;	      /* seconds a connection may stay silent */

	/* The filesystem view (fsview.c): paths as written, "~/" still unexpanded. */
	struct opts_list hide;	    /* hidden besides the defaults */
	struct opts_list unhide;    /* defaults shown after all */
	struct opts_list read_only; /* made read-only, with what is mounted under them */
	struct opts_list writable;  /* writable again under a --read-only path */
	bool protect_startup_files; /* shell, git and direnv start-up files read-only */
	bool show_hidden;	    /* print what the jail would hide, and exit */

	/* The command's own root (user/rootfs.c); "" for the host's. */
	char *rootfs;		/* --rootfs: the overlay's lower layer, never written */
	char *rootfs_upper;	/* --rootfs-upper: keeps the changes; "": a tmpfs gone at exit */
	struct opts_list binds; /* --bind SRC:DST[:ro], as written */
	char *image;		/* --image: an OCI image layout directory */
	char *image_cache;	/* where --image's layers are unpacked, once */

	/* log summary's files (rules from-endpoints' lists), "-" for stdin; NULL-ended, argv's */
	char **log_files;
	size_t n_log_files;
	enum opts_log_format log_format; /* log summary --format, doctor --format */

	/* attach: exactly one of the three names the cgroup; all owned */
	char *attach_cgroup;	    /* --cgroup: a cgroup2 directory, or a path relative to it */
	char *attach_container;	    /* --container: an id or name a container runtime knows */
	char *attach_unit;	    /* --systemd-unit */
	bool kill_existing_sockets; /* shut down connections opened before the attach */
	bool attach_create;	    /* --create: make the --cgroup directory; a parent of jails */
	bool
	    resolve_on_host; /* names resolved and upstreams reached on the host, not in the netns */
	/* attach, as boundary k8s-node runs it: the pod's "NAMESPACE/NAME", its containers' names */
	char *k8s_pod;
	char *k8s_names; /* a file of "CGROUP NAME" lines, one per container */

	/* node: where pods are listed, named policies read, each pod's files written */
	char *cri_socket;
	char *policy_dir;
	char *state_dir;
	unsigned scan_interval; /* seconds between looks at the node's pods */

	struct opts_test *tests; /* --test, in order */
	size_t n_tests;
	char **argv;	     /* the command, borrowed from main()'s argv; NULL if none */
	char *config_read;   /* the config file actually read, or NULL */
	struct rules *rules; /* every allow rule, file first; set by opts_finish() */
	/*
	 * The secrets' values and records, loaded by main() (secrets_load()) for the commands
	 * that run a proxy, after opts_finish(); NULL when there are none. opts_fini() wipes them.
	 */
	struct secrets *secrets;
	/*
	 * With session_correlation: the inject targets (the file's, then the flags', or else the
	 * one CODER_AGENT_URL names), set by opts_finish(); NULL without it.
	 */
	struct rules *inject_rules;
	/*
	 * --upstream-proxy: its URL, credentials and all ("" for none), the host patterns reached
	 * directly (comma-separated), whether plain HTTP goes through CONNECT too, and what
	 * opts_finish() made of them for the proxy (NULL: none).
	 */
	char *upstream_proxy;
	char *upstream_proxy_bypass;
	bool upstream_proxy_connect_always;
	struct upchain *upchain;
	enum opts_src src[OPTS__COUNT];
	/* --exe: --test answers as if this file (stat()ed) made the requests; NULL: none */
	char *test_exe;
	/* say nothing of rules coder/boundary reads otherwise (rules_compat()) */
	bool no_compat_warnings;
};

/* The option table: *n entries, indexed by enum opts_id. */
const struct opts_def *opts_defs(size_t *n);

/* The option a config file key names, or NULL. */
const struct opts_def *opts_def_by_yaml(const char *key);

/* Fills o with every default. Pair with opts_fini(). */
void opts_init(struct opts *o);

/* Frees everything o owns (not argv) and leaves it zeroed. Accepts an already-finished o. */
void opts_fini(struct opts *o);

/*
 * Checks value for option d and stores it unless o already holds a value from a higher-ranking
 * source. A value that is overridden is still checked, so a bad file value is an error even when
 * a flag wins. who starts the error message: "--proxy-port", "PROXY_PORT",
 * "config.yaml:2:13: proxy_port". List options append (file entries to .file, others to .cli).
 * Returns 0, or -EINVAL with err set ("--proxy-port \"0\": not a port number (use 1-65535)").
 */
int opts_set(struct opts *o, const struct opts_def *d, const char *value, enum opts_src src,
	     const char *who, char *err, size_t errlen);

/*
 * Splits a --bind spec "SRC:DST[:ro|:rw]" into src and dst (srclen, dstlen bytes with the NUL)
 * and *ro. Both must be absolute, and DST free of "..". Returns 0, or -EINVAL.
 */
int opts_bind_split(const char *spec, char *src, size_t srclen, char *dst, size_t dstlen, bool *ro);

/* Reads the environment variable of every option no flag set. Returns 0 or -EINVAL. */
int opts_parse_env(struct opts *o, char *err, size_t errlen);

/*
 * Checks what only the whole picture can tell (landjail, --user's sudo default) and compiles the
 * allow rules, file first, into o->rules. Returns 0, or -EINVAL / -ENOMEM with err set.
 */
int opts_finish(struct opts *o, char *err, size_t errlen);

/*
 * Compiles into r, in this order: the rule specs in file (a config file's allowlist), o's --allow
 * rules (or BOUNDARY_ALLOW's), then the rules of o's --save-rules file (a missing file holds
 * none), and as deny rules those of deny_file (the file's deny: list) and o's --deny. opts_finish()
 * and a reload (config_reload_rules()) share it, so both read the same sources in the same order.
 * Returns 0, or -EINVAL / -ENOMEM with err set.
 */
int opts_rules_compile(const struct opts *o, const struct opts_strv *file,
		       const struct opts_strv *deny_file, struct rules *r, char *err,
		       size_t errlen);

/*
 * The known flag (without "--") of a subcommand in cmds (OPTS_IN() bits), or the config key,
 * nearest to word within an edit distance of 2, or NULL. word is what the user typed, without
 * leading dashes.
 */
const char *opts_suggest_flag(const char *word, unsigned cmds);
const char *opts_suggest_yaml(const char *word);

/*
 * Levenshtein distance between a and b, ASCII case-insensitive, with '-' and '_' equal; SIZE_MAX
 * when either is longer than 64 bytes.
 */
size_t opts_distance(const char *a, const char *b);

/*
 * Writes s into buf as a double-quoted string with control characters, quotes and backslashes
 * escaped, cut short with "..." if it does not fit. For echoing user input in messages.
 * Returns buf.
 */
const char *opts_quote(const char *s, char *buf, size_t len);

#endif /* BOUNDARY_USER_OPTS_H */
