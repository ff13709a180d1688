/* SPDX-License-Identifier: MIT */
/*
 * node.h: boundary k8s-node, the Kubernetes node agent. It lists the node's pod sandboxes through
 * the container runtime's CRI socket (cri.h) every --scan-interval seconds, and runs one
 * `boundary attach` per pod that asks to be jailed (annotation boundary.dev/allow,
 * boundary.dev/deny or boundary.dev/policy) on that pod's cgroup, a parent whose containers
 * are each a jail from their first instruction. Each pod's rules are written to a config file
 * in --state-dir that its attach reloads when it changes; its containers' names to a file the
 * attach's audit records read. A pod that goes, or stops asking, is detached; a pod whose
 * policy cannot be read is jailed with nothing allowed, never left open. When the agent is
 * stopped its attaches are killed, not detached: the pods stay cut off (their programs are
 * pinned) until an agent runs again and attaches anew.
 */
#ifndef BOUNDARY_USER_NODE_H
#define BOUNDARY_USER_NODE_H

#include <stddef.h>

struct opts;

/* The annotations a pod asks with. */
#define NODE_ANN_ALLOW	"boundary.dev/allow"
#define NODE_ANN_DENY	"boundary.dev/deny"
#define NODE_ANN_POLICY "boundary.dev/policy"
#define NODE_ANN_MODE	"boundary.dev/mode"

/* Runs until SIGTERM or SIGINT. Returns the status boundary exits with. */
int node_run(const struct opts *o);

/*
 * The cgroup2 path (relative to the mount, with a leading '/') of a CRI cgroup parent: a
 * cgroupfs path as it is, a systemd slice ("kubepods-besteffort-pod1.slice") expanded to the
 * slices it lies in ("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice").
 * Returns 0, or -EINVAL for a name that is neither (empty, "..", or a bad slice name).
 */
int node_cgroup_path(const char *parent, char *out, size_t len);

#endif /* BOUNDARY_USER_NODE_H */
