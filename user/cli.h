/* SPDX-License-Identifier: MIT */
/*
 * cli.h: boundary's command line: argv into struct opts, the subcommands, their --help, and the
 * did-you-mean of a mistyped subcommand or flag.
 *
 * One command table names every subcommand once: its name, usage line, what it is, the
 * arguments it takes and whether it reads the environment and the config file. The flags come
 * from the option table (opts.h), whose last column says which subcommands take each one, so a
 * subcommand's parsing, its --help and its suggestions cannot disagree with each other. Flags
 * before a subcommand's name are the jail's (all of boundary --help's), as they always were;
 * after the name, only the subcommand's own are taken. This module parses; it reads no file
 * (config.c) and runs nothing (main.c dispatches on opts.action).
 */
#ifndef BOUNDARY_USER_CLI_H
#define BOUNDARY_USER_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "user/opts.h"

/* What follows a subcommand's flags. */
enum cli_args {
	CLI_ARGS_COMMAND = 0, /* the command to jail, and its arguments */
	CLI_ARGS_NONE,	      /* nothing: "cleanup takes no arguments" */
	CLI_ARGS_NO_COMMAND,  /* nothing, since it runs none: "serve runs no command" */
	CLI_ARGS_FILES,	      /* one or more files, "-" for standard input, among the flags */
	CLI_ARGS_LISTS,	      /* one or more lists of words, "-" for standard input: as FILES */
	CLI_ARGS_TOPIC,	      /* help's: nothing, a subcommand's name, or "flags" */
	CLI_ARGS_SHELL,	      /* completion's: bash, zsh or fish */
	CLI_ARGS_WORDS,	      /* words, in log_files, for the action to check: approve's */
};

/* One subcommand, as the command table describes it. */
struct cli_cmd {
	enum opts_cmd id;
	const char *name;	 /* as typed after boundary's flags; "log summary" is two words */
	const char *usage;	 /* after "boundary ", in its own --help */
	const char *brief;	 /* its line in boundary --help's Commands; NULL: not listed */
	const char *about;	 /* what it does, for its own --help */
	const char *examples;	 /* one or two command lines, '\n' between them */
	enum cli_args args;	 /* what may follow its flags */
	bool reads_config;	 /* reads the environment and the config file */
	enum opts_action action; /* what main() does for it */
};

/* The command table: *n entries, indexed by enum opts_cmd. */
const struct cli_cmd *cli_cmds(size_t *n);

/*
 * Parses the command line into o: boundary's flags (stopping at the first non-flag or "--"), then
 * a subcommand and its own flags and arguments, or --test, or the command, which o->argv (or
 * o->log_files) then points into (argv must outlive o). A subcommand's flags must be its own:
 * another's is refused naming the subcommand ("cleanup does not take --allow"). Stops at
 * --version or --help (o->cmd says whose help). A first word one or two edits from a subcommand
 * that is not a program on PATH is refused with a suggestion. Returns 0, or -EINVAL / -ENOMEM
 * with err set.
 */
int cli_parse_args(struct opts *o, int argc, char *argv[], char *err, size_t errlen);

/*
 * Whether o's action reads the environment and the config file: not help, not version, and not
 * a subcommand whose row in the command table says it does not.
 */
bool cli_reads_config(const struct opts *o);

/*
 * The subcommand name nearest to word within an edit distance of 2 (and less than word's
 * length), or NULL; for "log summary", the first word ("log").
 */
const char *cli_suggest_cmd(const char *word);

/*
 * Writes cmd's --help, at most 80 columns: for OPTS_CMD_RUN boundary's own, one screen with
 * a line for every listed subcommand; for a subcommand, its usage, what it does, its flags and
 * its examples.
 */
void cli_usage(FILE *f, enum opts_cmd cmd);

/* boundary help flags: every flag of the jail with its help line, in the table's order. */
void cli_usage_flags(FILE *f);

/* The shells cli_completion() writes a script for. */
#define CLI_SHELLS "bash, zsh or fish"

/*
 * Writes shell's ("bash", "zsh" or "fish") completion script for boundary, made from the
 * command and option tables. Returns 0, or -EINVAL for another shell.
 */
int cli_completion(FILE *f, const char *shell);

#endif /* BOUNDARY_USER_CLI_H */
