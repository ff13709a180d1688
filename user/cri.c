// SPDX-License-Identifier: MIT
/*
 * cri.c: unary gRPC calls to the CRI runtime (cri.h). libnghttp2 keeps the HTTP/2 session,
 * protobuf-c packs and unpacks the messages; this file moves bytes between the socket and the
 * session under one deadline, and reads gRPC's status from the trailers.
 */
#include "user/cri.h"

#include <errno.h>
#include <fcntl.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SERVICE "/runtime.v1.RuntimeService/"

struct cri {
	int fd;
	nghttp2_session *ng;
	unsigned timeout_ms;
	bool broken;
	/* the call under way */
	int32_t stream;
	bool closed;	      /* its stream ended */
	uint32_t close_error; /* the stream's RST_STREAM code, 0 when it ended well */
	int http_status;
	int grpc_status; /* -1: none seen */
	char grpc_message[256];
	unsigned char *body;
	size_t len, cap;
	bool too_big;
	const unsigned char *out;
	size_t out_len, out_off;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static ssize_t send_cb(nghttp2_session *ng, const uint8_t *data, size_t len, int flags, void *user)
{
	struct cri *c = user;
	ssize_t n;

	(void)ng;
	(void)flags;
	n = send(c->fd, data, len, MSG_NOSIGNAL);
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? NGHTTP2_ERR_WOULDBLOCK
							 : NGHTTP2_ERR_CALLBACK_FAILURE;
	return n;
}

static int header_cb(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *user)
{
	struct cri *c = user;
	char v[16], *end;
	size_t i, k = 0;

	(void)ng;
	(void)flags;
	if (frame->hd.stream_id != c->stream)
		return 0;
	if (namelen == 7 && memcmp(name, ":status", 7) == 0 && valuelen < sizeof(v)) {
		memcpy(v, value, valuelen);
		v[valuelen] = '\0';
		c->http_status = (int)strtol(v, &end, 10);
		if (*end)
			c->http_status = 0;
	} else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0 && valuelen < sizeof(v)) {
		memcpy(v, value, valuelen);
		v[valuelen] = '\0';
		c->grpc_status = (int)strtol(v, &end, 10);
		if (*end || !valuelen)
			c->grpc_status = 2; /* UNKNOWN: a status that is not a number */
	} else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0) {
		/* Percent-encoded by the sender; kept printable, cut to fit. */
		for (i = 0; i < valuelen && k + 1 < sizeof(c->grpc_message); i++)
			c->grpc_message[k++] =
			    value[i] >= 0x20 && value[i] < 0x7f ? (char)value[i] : '?';
		c->grpc_message[k] = '\0';
	}
	return 0;
}

static int data_cb(nghttp2_session *ng, uint8_t flags, int32_t stream, const uint8_t *data,
		   size_t len, void *user)
{
	struct cri *c = user;
	unsigned char *b;
	size_t cap;

	(void)flags;
	if (stream != c->stream || c->too_big)
		return 0;
	if (c->len + len > CRI_RESPONSE_MAX) {
		c->too_big = true;
		nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, stream, NGHTTP2_CANCEL);
		return 0;
	}
	if (c->len + len > c->cap) {
		cap = c->cap ? c->cap : 4096;
		while (cap < c->len + len)
			cap *= 2;
		b = realloc(c->body, cap);
		if (!b)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		c->body = b;
		c->cap = cap;
	}
	memcpy(c->body + c->len, data, len);
	c->len += len;
	return 0;
}

static int close_cb(nghttp2_session *ng, int32_t stream, uint32_t error, void *user)
{
	struct cri *c = user;

	(void)ng;
	if (stream == c->stream) {
		c->closed = true;
		c->close_error = error;
	}
	return 0;
}

static ssize_t read_out(nghttp2_session *ng, int32_t stream, uint8_t *buf, size_t len,
			uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct cri *c = user;
	size_t n = c->out_len - c->out_off;

	(void)ng;
	(void)stream;
	(void)src;
	if (n > len)
		n = len;
	memcpy(buf, c->out + c->out_off, n);
	c->out_off += n;
	if (c->out_off == c->out_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/*
 * Moves bytes both ways until done() or the deadline. Returns 0, -ETIMEDOUT, -ECONNRESET (the
 * runtime closed the connection), -EPROTO (the session broke), or another negative errno.
 */
static int pump(struct cri *c, uint64_t deadline, bool (*done)(const struct cri *))
{
	unsigned char in[16384];
	struct pollfd p;
	uint64_t now;
	ssize_t n;
	int r;

	for (;;) {
		r = nghttp2_session_send(c->ng);
		if (r != 0)
			return -EPROTO;
		if (done(c))
			return 0;
		if (!nghttp2_session_want_read(c->ng) && !nghttp2_session_want_write(c->ng))
			return -ECONNRESET;
		now = now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		p.fd = c->fd;
		p.events = POLLIN | (nghttp2_session_want_write(c->ng) ? POLLOUT : 0);
		p.revents = 0;
		r = poll(&p, 1, (int)(deadline - now));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = recv(c->fd, in, sizeof(in), 0);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n == -1)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		if (nghttp2_session_mem_recv(c->ng, in, (size_t)n) < 0)
			return -EPROTO;
	}
}

static bool settled(const struct cri *c)
{
	(void)c;
	return true;
}

static bool call_done(const struct cri *c)
{
	return c->closed;
}

struct cri *cri_open(const char *path, unsigned timeout_ms, char *err, size_t errlen)
{
	nghttp2_session_callbacks *cb = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct cri *c;
	int e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "the CRI socket's path is too long: %s", path);
		errno = ENAMETOOLONG;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->timeout_ms = timeout_ms;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		e = errno;
		snprintf(err, errlen, "cannot make a Unix socket: %s", strerror(e));
		goto fail;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		e = errno;
		snprintf(err, errlen,
			 "cannot connect to the CRI socket %s: %s (is containerd running with its "
			 "CRI plugin? --cri-socket names another socket)",
			 path, strerror(e));
		goto fail;
	}
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK) == -1) {
		e = errno;
		snprintf(err, errlen, "cannot make the CRI socket non-blocking: %s", strerror(e));
		goto fail;
	}
	if (nghttp2_session_callbacks_new(&cb) != 0) {
		e = ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	nghttp2_session_callbacks_set_send_callback(cb, send_cb);
	nghttp2_session_callbacks_set_on_header_callback(cb, header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, data_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, close_cb);
	e = nghttp2_session_client_new(&c->ng, cb, c);
	nghttp2_session_callbacks_del(cb);
	if (e != 0) {
		c->ng = NULL;
		e = ENOMEM;
		snprintf(err, errlen, "cannot start an HTTP/2 session: %s",
			 nghttp2_strerror(-ENOMEM));
		goto fail;
	}
	if (nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, NULL, 0) != 0 ||
	    pump(c, now_ms() + timeout_ms, settled) != 0) {
		e = EPROTO;
		snprintf(err, errlen, "cannot start an HTTP/2 session on the CRI socket %s", path);
		goto fail;
	}
	return c;
fail:
	cri_close(c);
	errno = e;
	return NULL;
}

void cri_close(struct cri *c)
{
	if (!c)
		return;
	if (c->ng)
		nghttp2_session_del(c->ng);
	if (c->fd >= 0)
		close(c->fd);
	free(c->body);
	free(c);
}

/* What a gRPC status code means, for a person; NULL for the ones that need no words. */
static const char *grpc_hint(int status)
{
	switch (status) {
	case 5:
		return " (no such pod or container)";
	case 12:
		return " (the runtime does not serve CRI runtime.v1: containerd 1.6 or later with "
		       "its CRI plugin enabled does)";
	case 14:
		return " (the runtime is not ready)";
	default:
		return "";
	}
}

int cri_call(struct cri *c, const char *method, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp, char *err,
	     size_t errlen)
{
	char path[128];
	nghttp2_nv nv[7];
	nghttp2_data_provider dp = {.read_callback = read_out};
	unsigned char *msg = NULL;
	size_t n, mlen;
	int r;

	*resp = NULL;
	if (c->broken) {
		snprintf(err, errlen, "the CRI connection broke earlier");
		return -EPIPE;
	}
	snprintf(path, sizeof(path), SERVICE "%s", method);
/* nghttp2 copies names and values (no NO_COPY flag), so it never writes through these. */
#define NV(k, v)                                                                                   \
	((nghttp2_nv){(uint8_t *)(uintptr_t)(k), (uint8_t *)(uintptr_t)(v), sizeof(k) - 1,         \
		      strlen(v), NGHTTP2_NV_FLAG_NONE})
	nv[0] = NV(":method", "POST");
	nv[1] = NV(":scheme", "http");
	nv[2] = NV(":path", path);
	nv[3] = NV(":authority", "localhost");
	nv[4] = NV("content-type", "application/grpc");
	nv[5] = NV("te", "trailers");
	nv[6] = NV("user-agent", "boundary-node");
#undef NV
	mlen = protobuf_c_message_get_packed_size(req);
	msg = malloc(5 + mlen);
	if (!msg) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	msg[0] = 0; /* not compressed */
	msg[1] = (unsigned char)(mlen >> 24);
	msg[2] = (unsigned char)(mlen >> 16);
	msg[3] = (unsigned char)(mlen >> 8);
	msg[4] = (unsigned char)mlen;
	protobuf_c_message_pack(req, msg + 5);
	c->out = msg;
	c->out_len = 5 + mlen;
	c->out_off = 0;
	c->closed = false;
	c->close_error = 0;
	c->http_status = 0;
	c->grpc_status = -1;
	c->grpc_message[0] = '\0';
	c->len = 0;
	c->too_big = false;
	c->stream = nghttp2_submit_request(c->ng, NULL, nv, 7, &dp, NULL);
	if (c->stream < 0) {
		snprintf(err, errlen, "%s: cannot start the request: %s", method,
			 nghttp2_strerror(c->stream));
		r = -EPROTO;
		goto fail;
	}
	r = pump(c, now_ms() + c->timeout_ms, call_done);
	if (r == -ETIMEDOUT) {
		snprintf(err, errlen, "%s: the runtime did not answer within %u ms", method,
			 c->timeout_ms);
		goto fail;
	}
	if (r < 0) {
		snprintf(err, errlen, "%s: the CRI connection failed: %s", method,
			 r == -EPROTO ? "broken HTTP/2" : strerror(-r));
		goto fail;
	}
	if (c->too_big) {
		snprintf(err, errlen, "%s: the answer is larger than %u bytes", method,
			 CRI_RESPONSE_MAX);
		r = -EMSGSIZE;
		goto fail;
	}
	if (c->http_status != 200) {
		snprintf(err, errlen, "%s: the runtime answered HTTP status %d, not a gRPC answer",
			 method, c->http_status);
		r = -EPROTO;
		goto fail;
	}
	if (c->grpc_status != 0) {
		snprintf(err, errlen, "%s: the runtime refused: gRPC status %d%s%s%s", method,
			 c->grpc_status, c->grpc_message[0] ? ": " : "", c->grpc_message,
			 grpc_hint(c->grpc_status));
		free(msg);
		c->out = NULL;
		return c->grpc_status == 5 ? -ENOENT : -EREMOTEIO;
	}
	if (c->close_error != 0 || c->len < 5 || c->body[0] != 0) {
		snprintf(err, errlen, "%s: the runtime's answer is %s", method,
			 c->close_error ? "cut short"
			 : c->len < 5	? "empty"
					: "compressed");
		r = -EPROTO;
		goto fail;
	}
	n = (size_t)c->body[1] << 24 | (size_t)c->body[2] << 16 | (size_t)c->body[3] << 8 |
	    c->body[4];
	if (n != c->len - 5) {
		snprintf(err, errlen, "%s: the runtime's answer is not one message", method);
		r = -EPROTO;
		goto fail;
	}
	*resp = protobuf_c_message_unpack(resp_desc, NULL, n, c->body + 5);
	if (!*resp) {
		snprintf(err, errlen, "%s: the runtime's answer does not read as %s", method,
			 resp_desc->name);
		r = -EPROTO;
		goto fail;
	}
	free(msg);
	c->out = NULL;
	return 0;
fail:
	c->broken = true;
	free(msg);
	c->out = NULL;
	return r;
}
