/* SPDX-License-Identifier: MIT */
/*
 * Snapshot: consume everything a seat's kernel ring holds right now, every
 * CPU, without blocking, and decode it. For uev-seat dump and the tests;
 * the aggregator drains continuously with io_uring instead.
 */
#ifndef UEV_SNAPSHOT_H
#define UEV_SNAPSHOT_H

#include "uev-decode.h"
#include "seat.h"

struct uev_snapshot {
	struct { int cpu; size_t size; void *data; } *page;
	size_t npages, pages_cap;
};

/* Read all sub-buffers of every CPU of @s. 0 or -errno. */
int uev_snapshot_take(struct uev_seat *s, struct uev_snapshot *snap);

/* Decode in CPU order after learning every announcement (see decode.h). */
int uev_snapshot_decode(const struct uev_snapshot *snap, struct uev_decoder *d,
			uev_rec_fn fn, void *ctx);

void uev_snapshot_free(struct uev_snapshot *snap);

#endif
