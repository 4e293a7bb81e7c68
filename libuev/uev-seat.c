/* SPDX-License-Identifier: MIT */
/*
 * Seat control, client side (uev_seat_* in <uev/uev.h>, protocol in
 * docs/uev-control.7): requests to the seat's recorder over its control
 * socket. libc only.
 *
 * Invariants:
 *  - the socket is non-blocking from connect on, so the event-loop calls
 *    never block; the blocking calls wait in poll() up to a deadline;
 *  - at most one request is outstanding (`pending`): replies carry no id,
 *    so the next reply that is not an unsolicited "incident" belongs to it.
 *    A request that timed out stays pending until its reply is read;
 *  - once the server closed (or a reply broke the protocol) the socket is
 *    closed and every call is -ENOTCONN: a later reply could no longer be
 *    matched to its request;
 *  - a received descriptor is handed to the caller or closed, never kept.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "uev-control.h"
#include "uev-internal.h"

#define SEAT_TIMEOUT_MS_DEFAULT 60000
#define SEAT_TIMEOUT_MS_MAX 3600000

struct uev_seat {
	int fd;
	int pending;    /* enum uev_ctl_verb of the outstanding request, 0: none */
	int timeout_ms;
	char message[UEV_CTL_REPLY_MAX + 1];
	struct uev_ctl_reply reply;           /* the last one read */
	char buf[UEV_CTL_REPLY_MAX + 1];      /* receive buffer */
};

/* Build RUN_DIR/SEAT.sock into @sa. */
static int socket_address(const char *seat, struct sockaddr_un *sa)
{
	const char *dir = getenv("UEV_RUN_DIR");
	int n;

	if (!dir || !*dir)
		dir = UEV_RUN_DIR_DEFAULT;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s%s", dir, seat, UEV_CTL_SOCKET_SUFFIX);
	return n < 0 || (size_t)n >= sizeof(sa->sun_path) ? -ENAMETOOLONG : 0;
}

UEV_EXPORT int uev_seat_connect(const char *seat, struct uev_seat **out)
{
	struct sockaddr_un sa;
	struct uev_seat *s;
	int r;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!seat)
		seat = getenv("XDG_SEAT");
	if (!seat || !*seat)
		seat = "seat0";
	if (!uev_seat_name_ok(seat))
		return -EINVAL;
	r = socket_address(seat, &sa);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->timeout_ms = SEAT_TIMEOUT_MS_DEFAULT;
	s->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

UEV_EXPORT void uev_seat_disconnect(struct uev_seat *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

UEV_EXPORT int uev_seat_set_timeout(struct uev_seat *s, int ms)
{
	if (!s || ms < 1 || ms > SEAT_TIMEOUT_MS_MAX)
		return -EINVAL;
	s->timeout_ms = ms;
	return 0;
}

UEV_EXPORT int uev_seat_fd(const struct uev_seat *s)
{
	return s ? s->fd : -1;
}

UEV_EXPORT const char *uev_seat_message(const struct uev_seat *s)
{
	return s ? s->message : "";
}

/* The connection can no longer be trusted to pair replies with requests. */
static int drop(struct uev_seat *s, int r, const char *why)
{
	close(s->fd);
	s->fd = -1;
	s->pending = 0;
	snprintf(s->message, sizeof(s->message), "%s", why);
	return r;
}

/* Format, check and send one request; it becomes the pending one. */
static int send_request(struct uev_seat *s, enum uev_ctl_verb verb, enum uev_ctl_kind kind,
			const char *arg)
{
	char msg[UEV_CTL_MAX + 1];
	int n, r;

	if (!s)
		return -EINVAL;
	s->message[0] = '\0';
	if (s->fd < 0)
		return -ENOTCONN;
	if (s->pending) {
		snprintf(s->message, sizeof(s->message), "a %s request is still waiting for its reply",
			 uev_ctl_verb_name(s->pending));
		return -EBUSY;
	}
	n = uev_ctl_request_format(msg, sizeof(msg), verb, kind, arg, s->message, sizeof(s->message));
	if (n < 0)
		return n == -ENOBUFS ? -EMSGSIZE : n;  /* msg holds any request that parses */
	r = uev_ctl_send(s->fd, msg, (size_t)n, -1);
	if (r == -EPIPE || r == -ECONNRESET)
		return drop(s, r, "the server closed the connection");
	if (r < 0) {
		snprintf(s->message, sizeof(s->message), "send: %s", strerror(-r));
		return r;
	}
	s->pending = verb;
	return 0;
}

UEV_EXPORT int uev_seat_reply_read(struct uev_seat *s, int *fd)
{
	int got = -1, verb;
	ssize_t n;

	if (fd)
		*fd = -1;
	if (!s)
		return -EINVAL;
	if (s->fd < 0)
		return -ENOTCONN;
	if (!s->pending)
		return -EINVAL;
	for (;;) {
		n = uev_ctl_recv(s->fd, s->buf, sizeof(s->buf), &got);
		if (n == -EMSGSIZE) {
			/* consumed whole by the kernel: the next message is intact */
			s->pending = 0;
			snprintf(s->message, sizeof(s->message), "reply over %d bytes", UEV_CTL_REPLY_MAX);
			return -EMSGSIZE;
		}
		if (n < 0)
			return (int)n;  /* -EAGAIN: not there yet */
		if (n == 0)
			return drop(s, -ECONNRESET, "the server closed the connection");
		if (uev_ctl_reply_parse(s->buf, (size_t)n, &s->reply) < 0) {
			if (got >= 0)
				close(got);
			return drop(s, -EPROTO, "the server's reply breaks the protocol");
		}
		if (s->reply.type != UEV_CTL_REPLY_INCIDENT)
			break;
		if (got >= 0)   /* incidents carry none */
			close(got);
	}
	verb = s->pending;
	s->pending = 0;
	/* what the caller may show: a refusal, or the bundle's name and size */
	snprintf(s->message, sizeof(s->message), "%s",
		 s->reply.type == UEV_CTL_REPLY_ERROR || verb == UEV_CTL_SNAPSHOT ? s->reply.text : "");
	if (s->reply.type == UEV_CTL_REPLY_ERROR) {
		if (got >= 0)
			close(got);
		return s->reply.error;
	}
	if (verb == UEV_CTL_SNAPSHOT) {
		char name[256];
		unsigned long long bytes;

		if (got < 0 || uev_ctl_snapshot_parse(s->reply.text, name, sizeof(name), &bytes) < 0) {
			if (got >= 0)
				close(got);
			snprintf(s->message, sizeof(s->message),
				 "the server's snapshot reply is not \"ok NAME BYTES\" with a descriptor");
			return -EPROTO;
		}
		if (fd)
			*fd = got;
		else
			close(got);
		return 0;
	}
	if (got >= 0)
		close(got);
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for the pending request's reply, at most the timeout. */
static int wait_reply(struct uev_seat *s, int *fd)
{
	long long deadline = now_ms() + s->timeout_ms;

	for (;;) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		long long left = deadline - now_ms();
		int r = uev_seat_reply_read(s, fd);

		if (r != -EAGAIN)
			return r;
		if (left <= 0) {
			snprintf(s->message, sizeof(s->message), "no reply within %d ms", s->timeout_ms);
			return -ETIMEDOUT;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
	}
}

static int request(struct uev_seat *s, enum uev_ctl_verb verb, enum uev_ctl_kind kind,
		   const char *arg, int *fd)
{
	int r = send_request(s, verb, kind, arg);

	return r < 0 ? r : wait_reply(s, fd);
}

UEV_EXPORT int uev_seat_snapshot_request(struct uev_seat *s, const char *reason)
{
	return send_request(s, UEV_CTL_SNAPSHOT, UEV_CTL_KIND_NONE, reason);
}

UEV_EXPORT int uev_seat_snapshot(struct uev_seat *s, const char *reason, int *fd)
{
	if (fd)
		*fd = -1;
	if (!fd)
		return -EINVAL;
	return request(s, UEV_CTL_SNAPSHOT, UEV_CTL_KIND_NONE, reason, fd);
}

static int kind_of(struct uev_seat *s, const char *kind, const char *selection,
		   enum uev_ctl_kind *k)
{
	*k = uev_ctl_kind_parse(kind);
	if (*k == UEV_CTL_KIND_NONE || !selection) {
		snprintf(s->message, sizeof(s->message), "%s", *k == UEV_CTL_KIND_NONE
			 ? "kind is not dyndbg, drm or event" : "no selection");
		return -EINVAL;
	}
	return 0;
}

UEV_EXPORT int uev_seat_enable(struct uev_seat *s, const char *kind, const char *selection)
{
	enum uev_ctl_kind k;

	if (!s)
		return -EINVAL;
	if (kind_of(s, kind, selection, &k) < 0)
		return -EINVAL;
	return request(s, UEV_CTL_ENABLE, k, selection, NULL);
}

UEV_EXPORT int uev_seat_disable(struct uev_seat *s, const char *kind, const char *selection)
{
	enum uev_ctl_kind k = UEV_CTL_KIND_NONE;

	if (!s)
		return -EINVAL;
	if (kind && kind_of(s, kind, selection, &k) < 0)
		return -EINVAL;
	return request(s, UEV_CTL_DISABLE, k, kind ? selection : NULL, NULL);
}

UEV_EXPORT int uev_seat_status(struct uev_seat *s, char *buf, size_t size)
{
	int r;

	if (!buf || !size)
		return -EINVAL;
	buf[0] = '\0';
	r = request(s, UEV_CTL_STATUS, UEV_CTL_KIND_NONE, NULL, NULL);
	if (r < 0)
		return r;
	snprintf(buf, size, "%s", s->reply.text);
	return s->reply.textlen >= size ? -ERANGE : 0;
}
