/* SPDX-License-Identifier: MIT */
/* libuev internals shared by its modules (never installed). */
#ifndef UEV_INTERNAL_H
#define UEV_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include "uev/uev.h"
#include "uev-abi.h"

#define UEV_EXPORT __attribute__((visibility("default")))

/* marker_fd before the first successful open */
#define UEV_FD_UNOPENED (-1)

struct uev_provider {
	int backend;
	int debug;
	char seat[UEV_SEAT_MAX];
	/* Bounded so that every path built from them fits its buffer. */
	char tracefs[512];
	char run_dir[512];
	char status[1536];

	/* user_events */
	int data_fd;

	/* marker: the fd is opened lazily (the instance may appear later) */
	int marker_fd;
	uint32_t marker_tried_epoch;
	char marker_path[1024];
	/* The seat's enable page, at a fixed address (see uev-marker.c). */
	const struct uev_enable_page *page;
	int page_mapped; /* the page file is mapped (else the zero page) */
	char page_path[1024];
	int watch_fd;  /* eventfd that wakes the watcher out of poll() */
	int watching;  /* a watcher thread runs */
	int stopping;  /* the watcher is asked to exit */
	pthread_t watcher;

	pthread_mutex_t lock; /* events list and their enable words; never taken on the emit path */
	struct uev_event **events;
	size_t nevents, cap;
	struct uev_provider *next_provider; /* fork list */
};

/* uev-encode.c. Both encoders write the payload (user_events layout) into
 * @out, at most @cap bytes, and return its length, or 0 when it needs more
 * than @cap: the caller then measures (@out NULL, @cap SIZE_MAX) and retries
 * with a buffer of exactly that size. UEV_EMIT_TRUNCATED is ORed into *flags
 * when a string was cut. */
size_t uev_encode_va(const struct uev_event *ev, uint8_t *out, size_t cap, va_list ap, int *flags);
size_t uev_encode_packed(const struct uev_event *ev, uint8_t *out, size_t cap,
			 const void *fixed, const char *const *texts, int *flags);
/* Largest prefix of s[0..n) that does not end inside a UTF-8 sequence. */
size_t uev_utf8_cut(const char *s, size_t n);

/* uev-user-events.c */
int uev_ue_open(struct uev_provider *p);
int uev_ue_register(struct uev_provider *p, struct uev_event *ev);
void uev_ue_unregister(struct uev_provider *p, struct uev_event *ev);

/* uev-marker.c */
int uev_marker_open(struct uev_provider *p);
void uev_marker_close(struct uev_provider *p);
int uev_marker_register(struct uev_provider *p, struct uev_event *ev);
int uev_marker_send(struct uev_provider *p, struct uev_event *ev, const uint8_t *buf, size_t len);

/* fork() safety for every provider (kept in uev-marker.c with the watcher). */
void uev_fork_track(struct uev_provider *p);
void uev_fork_untrack(struct uev_provider *p);

void uev_debug(const struct uev_provider *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
