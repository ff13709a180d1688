/* SPDX-License-Identifier: MIT */
/*
 * config.h: the YAML config file (coder/boundary's ~/.config/coder_boundary/config.yaml).
 *
 * Reads one YAML document whose root is a mapping of the keys in the option table (opts.h) and
 * hands each value to opts_set() as a file value, so flags and the environment still win. It
 * is strict where coder/boundary is lax: an unknown or duplicated key, a value of the wrong
 * type and a bad rule are errors that name the file, line and column. It also writes the
 * commented template that generate-config prints. It also decides which file to read when:
 * config_load() reads the command line, the environment and then the file, and
 * config_reload_rules() reads the file again for a reload. It does nothing with the values beyond
 * storing them (opts.c checks them).
 */
#ifndef BOUNDARY_USER_CONFIG_H
#define BOUNDARY_USER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct opts;
struct opts_user;
struct rules;

/* The largest config file read, in bytes. */
#define CONFIG_MAX_SIZE (1024 * 1024)

/*
 * Loads buf[0..len) (not NUL-terminated) into o; name is what error messages call it. An empty
 * document, or one of only comments, sets nothing. Stops at the first problem. Returns 0, or
 * -EINVAL with err set to "name:line:column: message" (1-based), or -ENOMEM. On error o may
 * hold values read before the problem: the caller gives up on it.
 */
int config_load_buffer(struct opts *o, const char *name, const unsigned char *buf, size_t len,
		       char *err, size_t errlen);

/*
 * Reads path and loads it as config_load_buffer() does, recording it in o->config_read. A
 * missing file is fine (returns 0, nothing read) unless must_exist. Returns 0 or a negative
 * errno with err set ("--config \"x.yaml\": No such file or directory").
 */
int config_load_file(struct opts *o, const char *path, bool must_exist, char *err, size_t errlen);

/* The name of boundary's directory under ~/.config or $XDG_CONFIG_HOME. */
#define CONFIG_DIR_NAME "coder_boundary"

/*
 * Writes home's boundary directory, HOME/.config/coder_boundary, to buf (len bytes; cut to fit
 * as snprintf cuts). Returns 0, or -ENAMETOOLONG when it did not fit.
 */
int config_dir_in(const char *home, char *buf, size_t len);

/*
 * The home directory in the passwd entry of user, or of the real uid when user is NULL or not
 * set; NULL when there is no entry. The string is getpwuid()'s, valid until the next getpw*
 * call.
 */
const char *config_user_home(const struct opts_user *user);

/*
 * Writes the default path, ~/.config/coder_boundary/config.yaml of the invoking user: under sudo
 * (euid 0 and SUDO_USER set and not root) SUDO_USER's home, otherwise $HOME (or the passwd
 * entry's home when HOME is unset). Returns 0, -ENOENT when no home is known, or
 * -ENAMETOOLONG.
 */
int config_default_path(char *buf, size_t len);

/*
 * Writes a complete, commented config with every key set to its default, which loads back
 * through config_load_buffer() without error. For `boundary generate-config`.
 */
void config_generate(FILE *f);

/*
 * Everything in order: the command line (cli_parse_args()), the environment, the config file
 * (the named one, which must exist, or the default one if it exists), opts_finish(). Stops after
 * the arguments for help, version and the subcommands the command table says read no config
 * (generate-config, cleanup, log summary), which read no environment either. argv must outlive o. Returns 0, or a negative
 * errno with err set.
 */
int config_load(struct opts *o, int argc, char *argv[], char *err, size_t errlen);

/*
 * The config file a reload reads: the one --config or BOUNDARY_CONFIG named, or the default
 * path (whether or not it existed at start). Returns buf, or NULL when there is none to read
 * (--config "", or no home to find the default in).
 */
const char *config_path(const struct opts *o, char *buf, size_t len);

/*
 * Compiles the rules a reload would switch to: the allowlist of the config file at path, read
 * afresh, then o's --allow rules (or BOUNDARY_ALLOW's) and the --save-rules file. The whole file
 * is checked as at start, so a bad value anywhere in it refuses the reload. A missing file is an
 * error only when must_exist (a file --config named); else it holds no rules. Only the allow
 * rules change: other keys take effect at the next start. Returns 0 with *out (owned by the
 * caller) and *n_file (how many rules came from the file), or a negative errno with err set
 * ("config.yaml:3:5: rule ...") and *out untouched.
 */
int config_reload_rules(const struct opts *o, const char *path, bool must_exist, struct rules **out,
			size_t *n_file, char *err, size_t errlen);

#endif /* BOUNDARY_USER_CONFIG_H */
