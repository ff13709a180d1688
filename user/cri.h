/* SPDX-License-Identifier: MIT */
/*
 * cri.h: a client of the Kubernetes Container Runtime Interface (the kubelet's socket: containerd's
 * CRI plugin), for boundary k8s-node. Unary gRPC calls over a Unix socket: HTTP/2 by libnghttp2,
 * messages by protoc-c's code for user/cri.proto, nothing of the framing written here beyond
 * gRPC's five-byte message prefix. Blocking, with a deadline per call; one call at a time.
 */
#ifndef BOUNDARY_USER_CRI_H
#define BOUNDARY_USER_CRI_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

struct cri;

/* The largest response read, in bytes (a node's pod list with its annotations fits). */
#define CRI_RESPONSE_MAX (16u << 20)

/*
 * Connects to the CRI socket at path and opens the HTTP/2 session. Returns NULL with errno set
 * and err filled for a person ("cannot connect to the CRI socket /run/...: No such file or
 * directory (is containerd running? --cri-socket names another)").
 */
struct cri *cri_open(const char *path, unsigned timeout_ms, char *err, size_t errlen);

void cri_close(struct cri *c);

/*
 * Calls runtime.v1.RuntimeService/method with req and waits for its answer, unpacked as
 * resp_desc says into *resp (free it with protobuf_c_message_free_unpacked(*resp, NULL)).
 * Returns 0, or a negative errno with err filled: the gRPC status and message when the
 * runtime refused, a timeout, or a broken answer. After an error the connection is not reused.
 */
int cri_call(struct cri *c, const char *method, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp, char *err,
	     size_t errlen);

#endif /* BOUNDARY_USER_CRI_H */
