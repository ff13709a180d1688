/* SPDX-License-Identifier: MIT */
/*
 * internal.h: the compiled form of a rule set, shared by rules.c (which builds it) and match.c
 * (which reads it). Private to rules/: nothing outside this folder includes it.
 */
#ifndef BOUNDARY_RULES_INTERNAL_H
#define BOUNDARY_RULES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/rules.h"

/* One ip= network: family AF_INET (the first 4 bytes of a) or AF_INET6, and its prefix length. */
struct rules_cidr {
	int family;
	unsigned char a[16];
	unsigned bits;
};

/* One path pattern: its segments, percent-decoded; "*" is a wildcard segment. */
struct rules_path {
	char **seg;
	size_t *seg_len;
	bool *seg_star;
	size_t n;
};

/*
 * One exe= path, and the file it names once the caller has bound it (rules_exe_bind()): until
 * then it matches no process, so a rule whose paths were never looked up allows nothing.
 */
struct rules_exe {
	char *path;
	uint64_t dev, ino;
	bool bound;
};

enum rules_domain_kind {
	RULES_DOMAIN_ANY = 0, /* no domain= key, or domain=* */
	RULES_DOMAIN_LABELS,  /* a name or IPv4 literal, labels lower-cased, "*" a wildcard */
	RULES_DOMAIN_IP6,     /* domain=[v6] */
};

struct rules_rule {
	char *raw;
	/* methods: n_methods == 0 means any method */
	char **method;
	size_t *method_len;
	size_t n_methods;
	enum rules_domain_kind dkind;
	char **label;
	size_t *label_len;
	size_t n_labels;
	unsigned char ip6[16];
	/* paths: n_paths == 0 means any path */
	struct rules_path *path;
	size_t n_paths;
	/* ports: inclusive ranges; n_ports == 0 means any port (no port= key) */
	uint16_t (*port)[2];
	size_t n_ports;
	/* ip=: the addresses a connection it allows may go to; n_cidr == 0 means any */
	struct rules_cidr *cidr;
	size_t n_cidr;
	bool deny; /* added by rules_add_deny(): it refuses what it matches */
	/* max_body=: the most body bytes a request it allows may carry; 0: no limit (no key) */
	uint64_t max_body;
	/* exe=: the executables the rule is for; n_exes == 0 means any (no exe= key) */
	struct rules_exe *exe;
	size_t n_exes;
};

/* A growable list of rule indices, kept ascending. */
struct rules_idxvec {
	size_t *v;
	size_t n, cap;
};

/*
 * The domain index: rules whose domain is an exact name ("github.com") are found under that
 * name; rules whose domain is "*." plus an exact name are found under the name after "*.".
 * Every other rule is on the list `other`, scanned for every request.
 */
struct rules_bucket {
	char *key; /* lower case; NULL when the slot is empty */
	size_t key_len;
	unsigned long hash;
	struct rules_idxvec exact;
	struct rules_idxvec leading;
};

struct rules {
	struct rules_rule *rule;
	size_t n, cap;
	struct rules_bucket *bucket;
	size_t n_buckets; /* a power of two, or 0 */
	size_t n_keys;
	struct rules_idxvec other;
	size_t n_deny; /* rules with deny set; none: matching looks for allow rules only */
};

/* FNV-1a over the lower-cased bytes: the same for "GitHub.com" and "github.com". */
unsigned long rules_hash_lower(const char *s, size_t len);

/* The bucket for key (any case), or NULL. */
const struct rules_bucket *rules_index_find(const struct rules *r, const char *key, size_t len);

/* The value of one hex digit, or -1. */
static inline int rules_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline char rules_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

#endif /* BOUNDARY_RULES_INTERNAL_H */
