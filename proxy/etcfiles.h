/* SPDX-License-Identifier: MIT */
/*
 * etcfiles.h: strict readers of the two files a container's name lookups follow, /etc/hosts and
 * /etc/resolv.conf, for boundary attach (proxy/names.c), which reads them from the container's
 * root rather than letting glibc do it. Pure: no I/O, no allocation; the caller hands the bytes.
 * What glibc would skip (a line with no valid address, a nameserver that does not parse) is
 * skipped here too; nothing is guessed. Both read at most the first ETC_MAX_FILE bytes the caller
 * read.
 */
#ifndef BOUNDARY_PROXY_ETCFILES_H
#define BOUNDARY_PROXY_ETCFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETC_MAX_FILE	65536 /* what the caller reads of either file, at most */
#define ETC_MAX_NS	3     /* glibc's MAXNS: further nameserver lines are ignored */
#define ETC_MAX_SEARCH	6     /* glibc's MAXDNSRCH */
#define ETC_MAX_NAMELEN 253

/* One address: family AF_INET (4 bytes of addr) or AF_INET6 (16). */
struct etc_addr {
	int family;
	unsigned char addr[16];
};

/*
 * The addresses that the hosts file text[0..len) gives name (compared without case, one trailing
 * dot of name ignored), in file order, on every line that names it as canonical name or alias,
 * copied into out[0..max). A line is "ADDRESS NAME [ALIAS...]" with blanks between and anything
 * after '#' a comment; a line whose address is not a plain IPv4 or IPv6 literal (a scope id, a
 * prefix, junk) is skipped, as glibc does. Returns how many (0: the file does not know name).
 */
size_t etc_hosts_find(const char *text, size_t len, const char *name, struct etc_addr *out,
		      size_t max);

/* What resolv.conf says, with glibc's defaults for what it does not. */
struct etc_resolv {
	struct etc_addr ns[ETC_MAX_NS];
	size_t n_ns; /* 0 after parsing means none was given: glibc then asks 127.0.0.1 */
	char search[ETC_MAX_SEARCH][ETC_MAX_NAMELEN + 1];
	size_t n_search;
	unsigned ndots;	   /* options ndots:N (default 1, at most 15) */
	unsigned timeout;  /* options timeout:N seconds (default 5, 1..30) */
	unsigned attempts; /* options attempts:N (default 2, 1..5) */
	bool rotate;	   /* options rotate */
};

/*
 * Reads resolv.conf text[0..len) into out: nameserver (IPv4 or IPv6 literal, no scope id; the
 * first ETC_MAX_NS), search and domain (the last such line wins, as in glibc), options ndots,
 * timeout, attempts, rotate. Unknown keywords and options are ignored, as glibc ignores them.
 * Never fails.
 */
void etc_resolv_parse(const char *text, size_t len, struct etc_resolv *out);

#endif /* BOUNDARY_PROXY_ETCFILES_H */
