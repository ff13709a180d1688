/* SPDX-License-Identifier: MIT */
/*
 * summary.h: `boundary log summary`: what audit logs say, host by host.
 *
 * Reads audit records (user/auditlog.h) and counts, for each host, the requests boundary allowed
 * and refused and the DNS lookups of its name; a connection not read as HTTP ("kind" "tcp", or
 * "tls" spliced by a stream rule) counts for its host and port. "end" records (an allowed exchange finishing) are not decisions and
 * count for nothing. It then writes a table for a person, refused hosts first, with the --allow
 * lines that would admit them, the same as one JSON document for a program, or as Markdown for a
 * CI job's summary. Each suggested
 * line is checked with the rules engine: a line boundary would refuse is never suggested.
 */
#ifndef BOUNDARY_USER_SUMMARY_H
#define BOUNDARY_USER_SUMMARY_H

#include <stdio.h>

#include "user/auditlog.h"

struct summary;

/* An empty summary. Returns NULL with errno set. */
struct summary *summary_new(void);

/* Frees s and all it holds. Accepts NULL. */
void summary_free(struct summary *s);

/* Counts one record (borrowed: nothing of it is kept past the call). */
void summary_add(struct summary *s, const struct auditlog_record *r);

/*
 * Reads f to its end, one record a line; name says where lines come from in messages ("-" for
 * standard input is fine). Blank lines are skipped. A line that is not a record is counted (see
 * summary_invalid()), never fatal. Returns 0, or -errno when f cannot be read (what was read
 * before still counts).
 */
int summary_read(struct summary *s, FILE *f, const char *name);

/*
 * The number of lines that were not audit records. When there was any, *first (if not NULL) is
 * set to where the first one was and why, "audit.jsonl:7: not JSON", valid while s lives.
 */
unsigned long long summary_invalid(const struct summary *s, const char **first);

/* The number of records the audit writer said it dropped ("dropped" records). */
unsigned long long summary_dropped(const struct summary *s);

/*
 * Writes the table (at most 100 columns, but for a host name longer than that) or the JSON
 * document to out. Returns 0, or -EIO when out could not be written.
 */
int summary_write_table(struct summary *s, FILE *out);
int summary_write_json(struct summary *s, FILE *out);

/*
 * Writes Markdown for a CI job's summary ($GITHUB_STEP_SUMMARY, a merge request's note): a
 * heading, the totals, one table row per host (refused first), the rules that would admit the
 * refused as a fenced `allow: |` block ready to paste into the GitHub Action's input, and what no
 * rule would change. Every name from the records (hosts, processes, executables, reasons) is
 * escaped, so none can be read as markup or HTML. Returns 0, or -EIO when out could not be
 * written.
 */
int summary_write_markdown(struct summary *s, FILE *out);

#endif /* BOUNDARY_USER_SUMMARY_H */
