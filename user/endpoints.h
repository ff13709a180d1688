/* SPDX-License-Identifier: MIT */
/*
 * endpoints.h: harden-runner's `allowed-endpoints:` list read as boundary rules, so a workflow
 * that used step-security/harden-runner can switch by moving its list as it is.
 *
 * The list is entries separated by white space (spaces, tabs, new lines): `host:port`, the host a
 * name or an address (`[v6]` in brackets), which may start with one `*.` label
 * (`*.blob.core.windows.net:443`: every name below it, as in boundary's domain=). Each becomes
 * a stream rule, `domain=HOST port=PORT`: like harden-runner, it allows connections to that
 * host and port whatever they carry, and boundary splices TLS there unread (the program sees the
 * server's own certificate, and boundary judges it by its server name, not per request). A rule
 * that names methods or paths is written as an allow rule of its own. Pure: no I/O, no state.
 */
#ifndef BOUNDARY_USER_ENDPOINTS_H
#define BOUNDARY_USER_ENDPOINTS_H

#include <stddef.h>

/* The longest rule endpoints_next() writes, with its NUL: a 253-byte name and a port. */
#define ENDPOINTS_RULE_MAX 300

/*
 * Reads the entry of list (NUL-terminated) that starts at or after *pos, and writes its rule
 * into rule (rulelen bytes, ENDPOINTS_RULE_MAX is enough). Returns 1 with the rule and *pos past
 * the entry; 0 when only white space is left; or -EINVAL with err filled for a person, the
 * entry and where it is: `line 2, column 5: "github.com": no port (write host:port, as
 * github.com:443)`. The rule is checked with the rules engine: one it would refuse is an error.
 */
int endpoints_next(const char *list, size_t *pos, char *rule, size_t rulelen, char *err,
		   size_t errlen);

#endif /* BOUNDARY_USER_ENDPOINTS_H */
