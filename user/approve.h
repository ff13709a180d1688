/* SPDX-License-Identifier: MIT */
/*
 * approve.h: boundary approve, --interactive answered from another terminal. Without arguments
 * it lists the requests every running boundary of this user waits to have answered (root: of
 * every user); with ID and once|always|deny it answers one. It talks to each boundary over its
 * unix socket under POLICY_SOCKET_ROOT/<uid>/ (proxy/policy.c serves it).
 */
#ifndef BOUNDARY_USER_APPROVE_H
#define BOUNDARY_USER_APPROVE_H

#include "user/opts.h"

/* Runs boundary approve [ID ANSWER]; returns the exit status. */
int approve_run(const struct opts *o);

#endif /* BOUNDARY_USER_APPROVE_H */
