/* SPDX-License-Identifier: MIT */
/*
 * Ring file writer, getting appended bytes to disk (docs/ring-format.md):
 * take() hands out extents in file order for the caller's writes (io_uring
 * in the aggregator), done() confirms or returns them, flush() does both
 * synchronously. Appending is ring-write.c.
 *
 * Direct I/O (w->align > 1, the file opened O_DIRECT): the device reads
 * the buffers itself, so no page-cache copy and no write-back of the file
 * later (a large part of the aggregator's CPU at high rates, bench/drain).
 * Such writes must cover whole aligned blocks: an extent starts at the
 * block holding its first new byte and ends at a block boundary, the
 * bytes past the last record zeroed. So the block where the segment's
 * tail is gets written again by the next extent, with the records added
 * since. Two writes of one block in flight could land in either order and
 * the older could win, losing records that memory already showed written;
 * hence in this mode a segment never has more than one extent out.
 *
 * A segment a run continued (seg.wipe, ring-resume.c) is written the same
 * way in both modes until its first extent is done: that extent runs to
 * the segment end, so records appended meanwhile lie inside it, and a
 * second extent out could land before it and be zeroed over.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ring-write.h"
#include "uev-grow.h"

unsigned uev_ring_writer_take(struct uev_ring_writer *w, struct uev_ring_extent *out, unsigned max)
{
	unsigned n = 0;

	/* Segment by segment, failed extents before new bytes, so the list
	 * is in file order; and a segment's new bytes are only taken once
	 * every older segment's have been, which keeps w->ext sorted. */
	for (size_t si = 0; si < w->nseg && n < max; si++) {
		struct seg *s = &w->seg[si];
		int has_ext = 0;
		uint32_t a = w->align, from, to;

		for (size_t i = 0; i < w->next && n < max; i++) {
			struct ext *e = &w->ext[i];

			if (e->seq != s->seq)
				continue;
			has_ext = 1;
			if (e->pending) {
				e->pending = 0;
				out[n++] = (struct uev_ring_extent){ s->buf + e->off, s->base + e->off,
								     e->len, e->cookie };
			}
		}
		if (n == max || s->taken == s->fill || ((a > 1 || s->wipe) && has_ext))
			continue;
		if (UEV_GROW(w->ext, w->ext_cap, w->next + 1) < 0)
			break; /* the bytes stay untaken; a later call retries */
		from = s->taken / a * a;
		to = (s->fill + a - 1) / a * a; /* <= segment_size, a multiple of 4096 */
		if (s->wipe) /* ring-resume.c: the earlier run's leftovers zeroed */
			to = w->sb.segment_size;
		memset(s->buf + s->fill, 0, to - s->fill);
		w->ext[w->next++] = (struct ext){ .seq = s->seq, .off = from, .len = to - from,
						  .cookie = ++w->cookie, .add = s->fill - s->taken,
						  .wipe = s->wipe };
		out[n++] = (struct uev_ring_extent){ s->buf + from, s->base + from, to - from, w->cookie };
		s->taken = s->fill;
	}
	return n;
}

void uev_ring_writer_done(struct uev_ring_writer *w, const struct uev_ring_extent *x, long result)
{
	for (size_t i = 0; i < w->next; i++) {
		struct ext *e = &w->ext[i];

		if (e->cookie != x->cookie || e->pending)
			continue;
		if (result != (long)e->len) { /* rewriting the same bytes later is harmless */
			e->pending = 1;
			return;
		}
		w->backlog -= e->add;
		for (size_t k = 0; e->wipe && k < w->nseg; k++)
			if (w->seg[k].seq == e->seq)
				w->seg[k].wipe = 0;
		memmove(e, e + 1, (w->next - i - 1) * sizeof(*e));
		w->next--;
		uev_ring_seg_reap(w);
		return;
	}
}

int uev_ring_writer_flush(struct uev_ring_writer *w)
{
	struct uev_ring_extent x[16];
	unsigned n;
	int err = 0;

	while (!err && (n = uev_ring_writer_take(w, x, 16))) {
		for (unsigned i = 0; i < n; i++) {
			ssize_t r = err ? -ECANCELED : uev_ring_pwrite(w->io_fd, x[i].buf, x[i].len, x[i].offset);

			err = err ? err : r < 0 ? (int)r : 0;
			uev_ring_writer_done(w, &x[i], (long)r);
		}
	}
	return err;
}

int uev_ring_writer_due(const struct uev_ring_writer *w, uint64_t batch)
{
	for (size_t i = 0; i < w->next; i++)
		if (w->ext[i].pending)
			return 1;
	for (size_t i = 0; i < w->nseg; i++) {
		const struct seg *s = &w->seg[i];

		if (s->taken < s->fill && (!s->open || s->fill - s->taken >= batch))
			return 1;
	}
	return 0;
}

uint64_t uev_ring_writer_backlog(const struct uev_ring_writer *w)
{
	return w->backlog;
}

uint64_t uev_ring_writer_run_id(const struct uev_ring_writer *w)
{
	return w->running ? w->run_id : 0;
}

const struct uev_ring_super *uev_ring_writer_super(const struct uev_ring_writer *w)
{
	return &w->sb;
}

int uev_ring_writer_fd(const struct uev_ring_writer *w)
{
	return w->io_fd;
}

int uev_ring_writer_direct(const struct uev_ring_writer *w)
{
	return w->align > 1;
}
