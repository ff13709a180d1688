/* SPDX-License-Identifier: MIT */
/*
 * shared.h: the sets of programs boundary's own jails share. One set per BPF ABI, loaded by the
 * first jail that finds none, attached to <cgroup2>/boundary and pinned under
 * /sys/fs/bpf/boundary/shared-<ABI>/ (its links, its maps entries and orig_by_client); a jail is
 * then an entry in that set's map, keyed by its cgroup's id, and an owner record in the one map
 * every set shares (/sys/fs/bpf/boundary/owners: see bpf/jail.h). This file holds what needs
 * no skeleton: the lock, the paths, forgetting a jail's entries, and sweeping away entries whose
 * cgroup is gone and sets no jail uses. Loading a set is jail.c's (it owns the skeleton).
 */
#ifndef BOUNDARY_USER_SHARED_H
#define BOUNDARY_USER_SHARED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "user/reap.h"

#define SHARED_PREFIX	  "shared-"
#define SHARED_OWNERS_PIN REAP_PIN_ROOT "/owners"
#define SHARED_LOCK_FILE  REAP_RUN_ROOT "/shared.lock"
/* In a set's pin directory: its maps (entries pinned last: a set without it is half made). */
#define SHARED_ENTRIES "entries"
#define SHARED_ORIG    "orig_by_client"

/*
 * Takes the lock on the shared sets: shared while a jail opens its set and writes its entry,
 * exclusive while a set is loaded or removed, so a set is never removed between a jail finding
 * it and its entry being written, and two first jails never load two sets. Returns the lock's
 * descriptor (give it to shared_unlock()), or -errno with err filled.
 */
int shared_lock(bool exclusive, char *err, size_t errlen);

/* Releases (and closes) a lock from shared_lock(); -1 is ignored. */
void shared_unlock(int fd);

/* The pin directory of the set of ABI abi. */
void shared_set_dir(unsigned abi, char *buf, size_t len);

/*
 * Records in owners, as JAIL_OWNER_LEGACY, each jail below <cgroup2>/boundary that has programs
 * of its own (a pin directory of its id, made by a boundary from before the shared sets), so
 * that a new set lets it be. Returns the number recorded.
 */
int shared_mark_legacy(int owners_fd);

/*
 * Forgets the jail whose cgroup had the id cg_id: its entry in every set and its owner record.
 * Called once the cgroup is gone (never before: the entry is what keeps it closed meanwhile).
 */
void shared_forget(uint64_t cg_id);

/*
 * Forgets the entries (in this ABI's set) and owner records of cgroups that no longer exist,
 * without the lock: safe at any time (see shared.c). For every start, since a boundary from
 * before the shared sets reaps a killed jail's cgroup but not its entry.
 */
void shared_forget_gone(void);

/*
 * Under the exclusive lock: forgets the entries and owner records of cgroups that no longer
 * exist, then removes (detaches and unpins) each set no jail uses, every one when all (boundary
 * cleanup), otherwise only those of other ABIs; the owners map goes with the last set. Says what
 * it removes. Returns the number of sets removed, or -errno.
 */
int shared_sweep(bool all);

/* Whether a set of another ABI than this boundary's is pinned (then a sweep may remove it). */
bool shared_other_abi_present(void);

#endif /* BOUNDARY_USER_SHARED_H */
