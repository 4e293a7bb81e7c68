// SPDX-License-Identifier: MIT
/*
 * The snapshot key's request, on Weston's main loop (snapshot.h). The only
 * calls that may wait are connect() on a Unix socket (non-blocking: a full
 * backlog fails at once) and send() of one small message on a non-blocking
 * socket; the reply, which can take seconds, is read when the loop says the
 * socket is readable. At most one request is out; the connection is kept
 * between presses and dropped when the server closes it.
 */
#include "snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uev/uev.h>

struct uevw_snapshot {
	struct wl_event_loop *loop;
	struct wl_event_source *source;  /* while a request is out */
	struct uev_seat *seat;
	char *seat_name;                 /* NULL: libuev's default */
	char *reason;
	uevw_log_fn log;
	unsigned done, failed;
};

static const char *seat_label(const struct uevw_snapshot *sn)
{
	return sn->seat_name ? sn->seat_name : "(default)";
}

static void drop_connection(struct uevw_snapshot *sn)
{
	if (sn->source)
		wl_event_source_remove(sn->source);
	sn->source = NULL;
	uev_seat_disconnect(sn->seat);
	sn->seat = NULL;
}

static int on_reply(int fd, uint32_t mask, void *data)
{
	struct uevw_snapshot *sn = data;
	int bundle, r;

	(void)fd;
	(void)mask;  /* a hangup is read as -ECONNRESET below */
	r = uev_seat_reply_read(sn->seat, &bundle);
	if (r == -EAGAIN)
		return 0;
	wl_event_source_remove(sn->source);
	sn->source = NULL;
	if (r == 0) {
		sn->done++;
		sn->log("uev-weston: snapshot of seat %s: bundle %s bytes\n", seat_label(sn),
			uev_seat_message(sn->seat));
		close(bundle);
		return 0;
	}
	sn->failed++;
	sn->log("uev-weston: snapshot of seat %s refused: %s%s%s\n", seat_label(sn), strerror(-r),
		*uev_seat_message(sn->seat) ? ": " : "", uev_seat_message(sn->seat));
	if (uev_seat_fd(sn->seat) < 0)   /* the server went away: reconnect next time */
		drop_connection(sn);
	return 0;
}

static int send_request(struct uevw_snapshot *sn)
{
	int r;

	if (!sn->seat) {
		r = uev_seat_connect(sn->seat_name, &sn->seat);
		if (r < 0)
			return r;
	}
	r = uev_seat_snapshot_request(sn->seat, sn->reason);
	if (r < 0)
		return r;
	sn->source = wl_event_loop_add_fd(sn->loop, uev_seat_fd(sn->seat), WL_EVENT_READABLE,
					  on_reply, sn);
	return sn->source ? 0 : -ENOMEM;
}

void uevw_snapshot_trigger(struct uevw_snapshot *sn)
{
	int r;

	if (sn->source) {
		sn->log("uev-weston: snapshot of seat %s: the last request is not answered yet; "
			"key ignored\n", seat_label(sn));
		return;
	}
	r = send_request(sn);
	/* a connection the server closed since the last press: once more */
	if (r == -EPIPE || r == -ENOTCONN || r == -ECONNRESET) {
		drop_connection(sn);
		r = send_request(sn);
	}
	if (r == 0) {
		sn->log("uev-weston: snapshot of seat %s requested\n", seat_label(sn));
		return;
	}
	sn->failed++;
	sn->log("uev-weston: snapshot of seat %s not requested: %s%s%s%s\n", seat_label(sn),
		strerror(-r), sn->seat && *uev_seat_message(sn->seat) ? ": " : "",
		sn->seat ? uev_seat_message(sn->seat) : "",
		r == -ENOENT || r == -ECONNREFUSED ? " (no uev-aggregator control socket for the seat)" : "");
	if (r != -EBUSY)
		drop_connection(sn);
}

struct uevw_snapshot *uevw_snapshot_new(struct wl_event_loop *loop, const char *seat,
					const char *reason, uevw_log_fn log)
{
	struct uevw_snapshot *sn = calloc(1, sizeof(*sn));

	if (!sn)
		return NULL;
	sn->loop = loop;
	sn->log = log;
	sn->reason = strdup(reason ? reason : "");
	sn->seat_name = seat ? strdup(seat) : NULL;
	if (!sn->reason || (seat && !sn->seat_name)) {
		uevw_snapshot_destroy(sn);
		return NULL;
	}
	return sn;
}

void uevw_snapshot_counts(const struct uevw_snapshot *sn, unsigned *done, unsigned *failed)
{
	*done = sn->done;
	*failed = sn->failed;
}

void uevw_snapshot_destroy(struct uevw_snapshot *sn)
{
	if (!sn)
		return;
	drop_connection(sn);
	free(sn->seat_name);
	free(sn->reason);
	free(sn);
}
