// SPDX-License-Identifier: MIT
/*
 * completion.c: boundary completion bash|zsh|fish, the shells' completion scripts, written from
 * the command table (cli.c) and the option table (opts.c) so they cannot drift from what
 * boundary parses: the subcommands (and a two-word one's second word), each one's flags, the
 * values of --log-level, --jail-type and --format, files for a flag whose value is a FILE or a
 * PATH, directories for a DIR. make install runs it and puts each script where its shell looks.
 * It writes text and reads nothing.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "user/cli.h"
#include "user/opts.h"

/* The flags whose values are a fixed list; the rest are files, directories or free text. */
static const struct {
	enum opts_id id;
	const char *words;
} fixed_values[] = {
    {OPTS_LOG_LEVEL, "error warn info debug"},
    {OPTS_JAIL_TYPE, "nsjail landlock weak"},
    {OPTS_FORMAT, "table json markdown"},
};

enum value_kind {
	V_NONE = 0, /* takes no value of its own (a bool takes one only after '=') */
	V_WORDS,    /* one of fixed_values' */
	V_FILE,
	V_DIR,
	V_TEXT,
};

static enum value_kind value_of(const struct opts_def *d, const char **words)
{
	size_t i;

	*words = NULL;
	if (d->type == OPTS_T_BOOL || d->type == OPTS_T_ACTION)
		return V_NONE;
	for (i = 0; i < sizeof(fixed_values) / sizeof(fixed_values[0]); i++)
		if (fixed_values[i].id == d->id) {
			*words = fixed_values[i].words;
			return V_WORDS;
		}
	if (d->arg && (strstr(d->arg, "FILE") || strstr(d->arg, "PATH")))
		return V_FILE;
	if (d->arg && strstr(d->arg, "DIR"))
		return V_DIR;
	return V_TEXT;
}

/* The first word of a subcommand's name ("log" of "log summary"), its length. */
static size_t first_len(const struct cli_cmd *c)
{
	return strcspn(c->name, " ");
}

/* Whether c is the first subcommand of the table with its first word (so it is said once). */
static bool first_of_word(const struct cli_cmd *cmds, size_t i)
{
	size_t j, len = first_len(&cmds[i]);

	for (j = 1; j < i; j++)
		if (first_len(&cmds[j]) == len && memcmp(cmds[j].name, cmds[i].name, len) == 0)
			return false;
	return true;
}

/* Every subcommand's first word, space-separated. */
static void put_cmd_words(FILE *f, const struct cli_cmd *cmds, size_t n)
{
	const char *sep = "";
	size_t i;

	for (i = 1; i < n; i++) {
		if (!first_of_word(cmds, i))
			continue;
		fprintf(f, "%s%.*s", sep, (int)first_len(&cmds[i]), cmds[i].name);
		sep = " ";
	}
}

/* The flags cmd takes, "--" and all, space-separated. */
static void put_flags(FILE *f, enum opts_cmd cmd)
{
	const struct opts_def *defs;
	const char *sep = "";
	size_t i, n;

	defs = opts_defs(&n);
	for (i = 0; i < n; i++) {
		if (!(defs[i].cmds & OPTS_IN(cmd)))
			continue;
		fprintf(f, "%s--%s", sep, defs[i].flag);
		sep = " ";
		if (defs[i].short_flag)
			fprintf(f, " -%c", defs[i].short_flag);
	}
}

/* The flags of any subcommand whose value is of kind k, as a case pattern ("--a|--b"). */
static bool put_flags_of_kind(FILE *f, enum value_kind k)
{
	const struct opts_def *defs;
	const char *sep = "", *words;
	size_t i, n;

	defs = opts_defs(&n);
	for (i = 0; i < n; i++) {
		if (value_of(&defs[i], &words) != k || k == V_WORDS)
			continue;
		fprintf(f, "%s--%s", sep, defs[i].flag);
		sep = "|";
	}
	return sep[0] != '\0';
}

/* Every flag that takes a value, as one shell pattern ("--a|--b|..."): its value is skipped. */
static void put_valued_flags(FILE *f)
{
	const struct opts_def *defs;
	const char *words;
	size_t i, n;

	defs = opts_defs(&n);
	put_flags_of_kind(f, V_FILE);
	fputs("|", f);
	put_flags_of_kind(f, V_DIR);
	fputs("|", f);
	put_flags_of_kind(f, V_TEXT);
	for (i = 0; i < n; i++)
		if (value_of(&defs[i], &words) == V_WORDS)
			fprintf(f, "|--%s", defs[i].flag);
}

/* The subcommands' first words, as one shell pattern ("generate-config|cleanup|..."). */
static void put_first_words(FILE *f)
{
	const struct cli_cmd *cmds;
	size_t i, n;

	cmds = cli_cmds(&n);
	for (i = 1; i < n; i++)
		if (first_of_word(cmds, i))
			fprintf(f, "%s%.*s", i > 1 ? "|" : "", (int)first_len(&cmds[i]),
				cmds[i].name);
}

/* The subcommands that take more words after their name, and what: "summary", or a list. */
static const char *second_words(const struct cli_cmd *c, char *buf, size_t len)
{
	const struct cli_cmd *cmds;
	size_t i, n, flen = first_len(c), used = 0;

	cmds = cli_cmds(&n);
	if (c->args == CLI_ARGS_SHELL)
		return "bash zsh fish";
	if (c->args == CLI_ARGS_TOPIC) {
		for (i = 1; i < n; i++)
			if (first_of_word(cmds, i) && used < len)
				used += (size_t)snprintf(buf + used, len - used, "%.*s ",
							 (int)first_len(&cmds[i]), cmds[i].name);
		snprintf(buf + (used < len ? used : len - 1), len - (used < len ? used : len - 1),
			 "flags");
		return buf;
	}
	if (!c->name[flen])
		return NULL;
	return c->name + flen + 1;
}

static void bash(FILE *f)
{
	const struct opts_def *defs;
	const struct cli_cmd *cmds;
	const char *words, *second;
	char buf[512];
	size_t i, n, nd;

	cmds = cli_cmds(&n);
	defs = opts_defs(&nd);
	fputs("# bash completion for boundary, written by `boundary completion bash` from the "
	      "tables\n# boundary parses with; make install puts it in "
	      "bash-completion/completions/boundary.\n"
	      "_boundary() {\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	      "\tlocal i w cmd= sub= skip=\n"
	      "\tCOMPREPLY=()\n"
	      "\t# The subcommand: the first word after boundary's flags and their values.\n"
	      "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "\t\tw=${COMP_WORDS[i]}\n"
	      "\t\tif [[ -n $skip ]]; then skip=; continue; fi\n"
	      "\t\tcase $w in\n"
	      "\t\t--) cmd=--; break ;;\n"
	      "\t\t--*=*) ;;\n",
	      f);
	fputs("\t\t", f);
	put_valued_flags(f);
	fputs(") skip=1 ;;\n"
	      "\t\t-*) ;;\n"
	      "\t\t*) if [[ -z $cmd ]]; then cmd=$w; elif [[ -z $sub ]]; then sub=$w; fi ;;\n"
	      "\t\tesac\n"
	      "\tdone\n"
	      "\tcase $cmd in ",
	      f);
	put_first_words(f);
	fputs(") ;; '') ;; *)\n"
	      "\t\t# The command to jail, and its arguments: the shell's own completion.\n"
	      "\t\t[[ $cmd == -- && $prev == -- ]] && COMPREPLY=($(compgen -c -- \"$cur\")) ||\n"
	      "\t\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	      "\t\treturn 0 ;;\n"
	      "\tesac\n"
	      "\tcase $prev in\n",
	      f);
	for (i = 0; i < nd; i++)
		if (value_of(&defs[i], &words) == V_WORDS)
			fprintf(
			    f,
			    "\t--%s) COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); return 0 ;;\n",
			    defs[i].flag, words);
	fputs("\t", f);
	if (put_flags_of_kind(f, V_FILE))
		fputs(") COMPREPLY=($(compgen -f -- \"$cur\")); return 0 ;;\n\t", f);
	if (put_flags_of_kind(f, V_DIR))
		fputs(") COMPREPLY=($(compgen -d -- \"$cur\")); return 0 ;;\n\t", f);
	if (put_flags_of_kind(f, V_TEXT))
		fputs(") return 0 ;;\n", f);
	fputs("\tesac\n"
	      "\tif [[ $cur == -* ]]; then\n"
	      "\t\tcase $cmd in\n",
	      f);
	for (i = 1; i < n; i++) {
		if (!first_of_word(cmds, i))
			continue;
		fprintf(f, "\t\t%.*s) w=\"", (int)first_len(&cmds[i]), cmds[i].name);
		put_flags(f, (enum opts_cmd)i);
		fputs("\" ;;\n", f);
	}
	fputs("\t\t*) w=\"", f);
	put_flags(f, OPTS_CMD_RUN);
	fputs("\" ;;\n"
	      "\t\tesac\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$w\" -- \"$cur\"))\n"
	      "\t\treturn 0\n"
	      "\tfi\n"
	      "\tcase $cmd in\n"
	      "\t'') COMPREPLY=($(compgen -W \"",
	      f);
	put_cmd_words(f, cmds, n);
	fputs("\" -- \"$cur\") $(compgen -c -- \"$cur\")) ;;\n", f);
	for (i = 1; i < n; i++) {
		if (!first_of_word(cmds, i))
			continue;
		second = second_words(&cmds[i], buf, sizeof(buf));
		fprintf(f, "\t%.*s) ", (int)first_len(&cmds[i]), cmds[i].name);
		if (second && cmds[i].args == CLI_ARGS_FILES)
			fprintf(f,
				"[[ -z $sub ]] && COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")) ||\n"
				"\t\tCOMPREPLY=($(compgen -f -- \"$cur\")) ;;\n",
				second);
		else if (second)
			fprintf(
			    f, "[[ -z $sub ]] && COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")) ;;\n",
			    second);
		else if (cmds[i].args == CLI_ARGS_FILES)
			fputs("COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n", f);
		else
			fputs(";;\n", f);
	}
	fputs("\tesac\n"
	      "\treturn 0\n"
	      "}\n"
	      "complete -F _boundary boundary\n",
	      f);
}

/* s as a single-quoted fish word: fish escapes ' and \ inside its single quotes. */
static void put_fish_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

static void zsh(FILE *f)
{
	const struct opts_def *defs;
	const struct cli_cmd *cmds;
	const char *words, *second;
	char buf[512];
	size_t i, n, nd;

	cmds = cli_cmds(&n);
	defs = opts_defs(&nd);
	fputs(
	    "#compdef boundary\n"
	    "# zsh completion for boundary, written by `boundary completion zsh` from the tables\n"
	    "# boundary parses with; make install puts it in site-functions/_boundary.\n"
	    "_boundary() {\n"
	    "\tlocal i w ci cmd= sub= skip= prev=${words[CURRENT-1]} cur=${words[CURRENT]}\n"
	    "\tfor ((i = 2; i < CURRENT; i++)); do\n"
	    "\t\tw=${words[i]}\n"
	    "\t\tif [[ -n $skip ]]; then skip=; continue; fi\n"
	    "\t\tcase $w in\n"
	    "\t\t--) cmd=--; break ;;\n"
	    "\t\t--*=*) ;;\n\t\t",
	    f);
	put_valued_flags(f);
	fputs(") skip=1 ;;\n"
	      "\t\t-*) ;;\n"
	      "\t\t*) if [[ -z $cmd ]]; then cmd=$w ci=$i; elif [[ -z $sub ]]; then sub=$w; fi "
	      ";;\n"
	      "\t\tesac\n"
	      "\tdone\n"
	      "\tcase $cmd in\n\t",
	      f);
	put_first_words(f);
	fputs("|'') ;;\n"
	      "\t# The command to jail, and its arguments: completed as the command's own.\n"
	      "\t--) words=(\"${(@)words[i+1,-1]}\"); (( CURRENT -= i )); _normal; return ;;\n"
	      "\t*) words=(\"${(@)words[ci,-1]}\"); (( CURRENT -= ci - 1 )); _normal; return ;;\n"
	      "\tesac\n"
	      "\tcase $prev in\n",
	      f);
	for (i = 0; i < nd; i++)
		if (value_of(&defs[i], &words) == V_WORDS)
			fprintf(f, "\t--%s) compadd -- %s; return ;;\n", defs[i].flag, words);
	fputs("\t", f);
	if (put_flags_of_kind(f, V_FILE))
		fputs(") _files; return ;;\n\t", f);
	if (put_flags_of_kind(f, V_DIR))
		fputs(") _files -/; return ;;\n\t", f);
	if (put_flags_of_kind(f, V_TEXT))
		fputs(") return ;;\n", f);
	fputs("\tesac\n"
	      "\tif [[ $cur == -* ]]; then\n"
	      "\t\tcase $cmd in\n",
	      f);
	for (i = 1; i < n; i++) {
		if (!first_of_word(cmds, i))
			continue;
		fprintf(f, "\t\t%.*s) compadd -- ", (int)first_len(&cmds[i]), cmds[i].name);
		put_flags(f, (enum opts_cmd)i);
		fputs(" ;;\n", f);
	}
	fputs("\t\t*) compadd -- ", f);
	put_flags(f, OPTS_CMD_RUN);
	fputs(" ;;\n"
	      "\t\tesac\n"
	      "\t\treturn\n"
	      "\tfi\n"
	      "\tcase $cmd in\n"
	      "\t'') local -a subs=(",
	      f);
	put_cmd_words(f, cmds, n);
	fputs(")\n\t\tcompadd -a subs; _command_names -e ;;\n", f);
	for (i = 1; i < n; i++) {
		if (!first_of_word(cmds, i))
			continue;
		second = second_words(&cmds[i], buf, sizeof(buf));
		fprintf(f, "\t%.*s) ", (int)first_len(&cmds[i]), cmds[i].name);
		if (second && cmds[i].args == CLI_ARGS_FILES)
			fprintf(f, "[[ -z $sub ]] && compadd -- %s || _files ;;\n", second);
		else if (second)
			fprintf(f, "[[ -z $sub ]] && compadd -- %s ;;\n", second);
		else if (cmds[i].args == CLI_ARGS_FILES)
			fputs("_files ;;\n", f);
		else
			fputs(";;\n", f);
	}
	fputs("\tesac\n"
	      "}\n"
	      "if [[ $funcstack[1] == _boundary ]]; then\n"
	      "\t_boundary \"$@\"\n"
	      "else\n"
	      "\tcompdef _boundary boundary\n"
	      "fi\n",
	      f);
}

static void fish(FILE *f)
{
	const struct opts_def *defs;
	const struct cli_cmd *cmds;
	const char *words, *second;
	char buf[512];
	size_t i, j, n, nd;

	cmds = cli_cmds(&n);
	defs = opts_defs(&nd);
	fputs("# fish completion for boundary, written by `boundary completion fish` from the "
	      "tables\n# boundary parses with; make install puts it in "
	      "vendor_completions.d/boundary.fish.\n"
	      "complete -c boundary -f\n"
	      "set -l __boundary_cmds ",
	      f);
	put_cmd_words(f, cmds, n);
	fputs("\n", f);
	for (i = 1; i < n; i++) {
		if (!cmds[i].brief && !first_of_word(cmds, i))
			continue;
		fprintf(f,
			"complete -c boundary -n \"not __fish_seen_subcommand_from "
			"$__boundary_cmds\" -a %.*s -d ",
			(int)first_len(&cmds[i]), cmds[i].name);
		put_fish_quoted(f, cmds[i].brief ? cmds[i].brief : cmds[i].usage);
		fputc('\n', f);
		second = second_words(&cmds[i], buf, sizeof(buf));
		if (second)
			fprintf(f,
				"complete -c boundary -n \"__fish_seen_subcommand_from %.*s\" -a "
				"'%s'\n",
				(int)first_len(&cmds[i]), cmds[i].name, second);
	}
	for (i = 0; i < nd; i++) {
		for (j = 0; j < n; j++) {
			enum value_kind k = value_of(&defs[i], &words);

			if (!(defs[i].cmds & OPTS_IN(j)) || (j && !first_of_word(cmds, j)))
				continue;
			if (j == 0)
				fputs("complete -c boundary -n \"not __fish_seen_subcommand_from "
				      "$__boundary_cmds\"",
				      f);
			else
				fprintf(f,
					"complete -c boundary -n \"__fish_seen_subcommand_from "
					"%.*s\"",
					(int)first_len(&cmds[j]), cmds[j].name);
			fprintf(f, " -l %s", defs[i].flag);
			if (defs[i].short_flag)
				fprintf(f, " -s %c", defs[i].short_flag);
			if (k == V_WORDS)
				fprintf(f, " -x -a '%s'", words);
			else if (k == V_FILE)
				fputs(" -r -F", f);
			else if (k == V_DIR)
				fputs(" -x -a '(__fish_complete_directories)'", f);
			else if (k == V_TEXT)
				fputs(" -x", f);
			fputs(" -d ", f);
			put_fish_quoted(f, defs[i].help);
			fputc('\n', f);
		}
	}
}

int cli_completion(FILE *f, const char *shell)
{
	if (strcmp(shell, "bash") == 0)
		bash(f);
	else if (strcmp(shell, "zsh") == 0)
		zsh(f);
	else if (strcmp(shell, "fish") == 0)
		fish(f);
	else
		return -EINVAL;
	return 0;
}
