/* SPDX-License-Identifier: MIT */
/*
 * uev-weston's snapshot key: a request for an incident bundle of the seat,
 * sent without ever blocking the compositor's loop (libuev's uev_seat_*
 * non-blocking pair, the reply watched on the wl_event_loop). Needs
 * libwayland-server and libuev only, so its tests run without Weston.
 */
#ifndef UEVW_SNAPSHOT_H
#define UEVW_SNAPSHOT_H

#include <wayland-server-core.h>

struct uevw_snapshot;

/* How the outcome is told (weston_log in the module). */
typedef int (*uevw_log_fn)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* @seat: NULL for libuev's default; @reason: sent with each request
 * (printable ASCII, at most 200 bytes). Return: NULL without memory. */
struct uevw_snapshot *uevw_snapshot_new(struct wl_event_loop *loop, const char *seat,
					const char *reason, uevw_log_fn log);

/* Ask for a bundle now: connects on first use (and again after the server
 * went away), sends the request and returns; the reply is logged when it
 * arrives. A press while a request is out is logged and ignored. */
void uevw_snapshot_trigger(struct uevw_snapshot *sn);

/* Requests answered (0) or refused/failed so far, for the tests. */
void uevw_snapshot_counts(const struct uevw_snapshot *sn, unsigned *done, unsigned *failed);

void uevw_snapshot_destroy(struct uevw_snapshot *sn);

#endif
