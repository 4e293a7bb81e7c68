/* SPDX-License-Identifier: MIT */
/*
 * Ring file reader, where a segment's records end (docs/ring-format.md,
 * "Edge cases": stale bytes, torn ends, damage): slack behind a segment
 * its run went on from, the clean end of a run, zeros, the torn end of a
 * run a kill stopped, or damage with records after it (read on from the
 * first of them).
 */
#include <stdint.h>

#include "ring-read.h"

/* How many bytes from @p on are zero, a multiple of 8, at most @len:
 * blocks of 4 KiB while they are zero, then finer ones. */
static uint32_t zero_prefix(const uint8_t *p, uint32_t len)
{
	uint32_t z = 0;

	for (uint32_t blk = 4096; blk >= 8; blk /= 8)
		while (len - z >= blk && uev_ring_all_zero(p + z, blk))
			z += blk;
	return z;
}

/* Are bytes [pos, S) of the current segment all zero? -errno on I/O error. */
static int tail_zero(struct uev_ring_reader *r, uint32_t pos)
{
	uint32_t S = r->sb.segment_size;

	while (pos < S) {
		uint32_t n = S - pos < UEV_RING_WINDOW ? S - pos : UEV_RING_WINDOW;
		int w = uev_ring_window(r, pos, n);

		if (w < 0)
			return w;
		if (!uev_ring_all_zero(r->buf + (pos - r->wbase), n))
			return 0;
		pos += n;
	}
	return 1;
}

/*
 * Does a record of the current segment begin somewhere after @pos: valid,
 * with a seq beyond r->expect? 1 with its offset and seq in *@at, *@seq;
 * 2 (there is damage, but no record was located), 0, -errno. Records are
 * 8-byte aligned, so every aligned offset is tried; the segment_lo and seq
 * fields rule out nearly all of them before a CRC is computed. Bytes made
 * to pass those at every offset would cost a CRC of up to S each: past a
 * budget of 2 S checked, the answer is 2, never a slow read.
 */
static int resumes(struct uev_ring_reader *r, uint32_t pos, uint32_t *at, uint64_t *seq_at)
{
	const struct uev_ring_seginfo *g = &r->segs[r->cur];
	uint32_t S = r->sb.segment_size;
	uint64_t budget = 2ull * S;
	struct uev_ring_rechdr h;
	const char *why;

	for (uint32_t p = pos + 8; p + UEV_RING_REC_HDR <= S; p += 8) {
		uint32_t need = UEV_RING_REC_HDR;
		const uint8_t *b;
		uint64_t seq, len;
		int w = uev_ring_window(r, p, need);

		if (w < 0)
			return w;
		b = r->buf + (p - r->wbase);
		seq = uev_get64(b + 8);
		if (!seq) {
			/* No record at p (seq > expect), nor at any p' whose
			 * seq lies in the zeros from b + 8 on: the unwritten
			 * rest of a segment is skipped in a few steps. */
			p += zero_prefix(b + 8, r->wlen - (p - r->wbase) - 8) - 8;
			continue;
		}
		len = uev_get32(b + 4);
		if (uev_get32(b + 16) != (uint32_t)g->seq || seq <= r->expect ||
		    seq - r->expect > S / UEV_RING_REC_HDR)
			continue;
		if (uev_ring_rec_size(len) <= S - p)
			need = (uint32_t)uev_ring_rec_size(len);
		if (need > budget)
			return 2;
		budget -= need;
		if ((w = uev_ring_window(r, p, need)) < 0)
			return w;
		if (uev_ring_rec_check(r->buf + (p - r->wbase), S - p, 0, g->seq, seq, &h, &why)) {
			*at = p;
			*seq_at = seq;
			return 1;
		}
	}
	return 0;
}

/*
 * A run's last segment that does not end in RUN_END or zeros, at @off.
 * A writer only appends, so one that is killed or crashes leaves its last
 * segment ending in a partly written record, then zeros or stale bytes of
 * an earlier lap: never a record of this segment. That is the torn end of
 * the run, expected after a kill. (A valid record of the segment further
 * on is damage, which uev_ring_segment_end() has ruled out.)
 */
static void torn_tail(struct uev_ring_reader *r, uint64_t off, const char *why)
{
	const struct uev_ring_seginfo *g = &r->segs[r->cur];

	r->st.torn++;
	r->st.torn_end++;
	uev_ring_say(r->report, r->ctx, UEV_RING_TORN_END, off,
		     "segment %u: torn tail at seq %llu, where a run stopped without a clean end (%s)",
		     g->index, (unsigned long long)r->expect, why);
}

/*
 * 1 when the records lost between r->pos and @at (seq @seq) still have
 * their headers: each has the seq expected, a type that starts no run, and
 * a length that leads exactly to the next one and the last to @at. The
 * damage then hit their payloads only (the usual case: a payload is most
 * of a record), so no RUN_START can hide among them.
 */
static int lost_chain(struct uev_ring_reader *r, uint32_t at, uint64_t seq)
{
	uint32_t p = r->pos;

	for (uint64_t want = r->expect; want < seq; want++) {
		const uint8_t *b;
		uint64_t size;
		uint16_t type;

		if (p >= at || at - p < UEV_RING_REC_HDR || uev_ring_window(r, p, UEV_RING_REC_HDR) < 0)
			return 0;
		b = r->buf + (p - r->wbase);
		type = uev_get16(b);
		size = uev_ring_rec_size(uev_get32(b + 4));
		if (uev_get64(b + 8) != want || type <= UEV_RING_RUN_START || type > UEV_RING_UNIT ||
		    size > at - p)
			return 0;
		p += (uint32_t)size;
	}
	return p == at;
}

/*
 * The run of the records from @at on (the first valid record after damage
 * at r->pos, seq @seq), when it can be told for sure; 0 when not. Damage
 * may have hidden a RUN_START, and a record handed out under the wrong run
 * would be decoded with another run's formats. Sure answers: a UNIT
 * further on, which names its run, with no RUN_START before it; a
 * RUN_START further on (runs are numbered one by one, so what precedes
 * run X's start is run X - 1); the next segment going on with this run
 * exactly where these records stop; or records lost whose headers still
 * chain to the next with types that start no run (lost_chain()).
 */
static uint64_t run_after(struct uev_ring_reader *r, uint32_t at, uint64_t seq)
{
	const struct uev_ring_seginfo *g = &r->segs[r->cur];
	const struct uev_ring_seginfo *nx = r->cur + 1 < r->nsegs ? &r->segs[r->cur + 1] : NULL;
	uint32_t S = r->sb.segment_size, p = at;
	uint64_t seq_at = seq;
	struct uev_ring_rechdr h;
	const char *why;
	int w;

	for (;;) {
		uint32_t need = UEV_RING_REC_HDR;
		uint64_t len;

		if (S - p < UEV_RING_REC_HDR || uev_ring_window(r, p, need) < 0)
			break;
		len = uev_get32(r->buf + (p - r->wbase) + 4);
		if (uev_ring_rec_size(len) <= S - p)
			need = (uint32_t)uev_ring_rec_size(len);
		if ((w = uev_ring_window(r, p, need)) < 0 ||
		    !uev_ring_rec_check(r->buf + (p - r->wbase), S - p, 0, g->seq, seq, &h, &why))
			break;
		if (h.type == UEV_RING_RUN_START && h.len >= 8) {
			uint64_t x = uev_get64(r->buf + (p - r->wbase) + UEV_RING_REC_HDR);

			return x > r->run_id ? x - 1 : x == r->run_id ? x : 0;
		}
		if (h.type == UEV_RING_UNIT && h.len > UEV_RING_UNIT_HDR) /* runs only grow */
			return r->run_id + (uint32_t)(uev_get32(r->buf + (p - r->wbase) + UEV_RING_REC_HDR + 12) -
						      (uint32_t)r->run_id);
		p += need;
		seq++;
	}
	if (nx && nx->seq == g->seq + 1 && nx->run_segment > 0 && nx->first_seq == seq)
		return nx->run_id >= r->run_id ? nx->run_id : 0;
	return lost_chain(r, at, seq_at) ? r->run_id : 0;
}

/*
 * Bytes damaged after they were written: the invalid record at r->pos is
 * followed by valid records of the same segment. Reading resumes at the
 * first of them, so damage costs the records it hit (a unit of pages, at
 * worst), not the rest of the segment. 1 resumed, 0 not (the record after
 * could not be located within the budget: skipped to the segment's end,
 * reported), or no damage found (2), -errno.
 */
static int resume(struct uev_ring_reader *r, uint64_t off, const char *why)
{
	const struct uev_ring_seginfo *g = &r->segs[r->cur];
	uint64_t seq = 0, run;
	uint32_t at = 0;
	int k = resumes(r, r->pos, &at, &seq);

	if (k <= 0)
		return k < 0 ? k : 2;
	r->st.torn++;
	if (k == 2) {
		say(r->report, r->ctx, off,
		    "segment %u: corrupt record at seq %llu (%s), records of the segment after it; skipped to its end",
		    g->index, (unsigned long long)r->expect, why);
		return 0;
	}
	if (!(run = run_after(r, at, seq))) {
		say(r->report, r->ctx, off,
		    "segment %u: corrupt record at seq %llu (%s), records of the segment after it, whose run "
		    "cannot be told; skipped to its end", g->index, (unsigned long long)r->expect, why);
		return 0;
	}
	say(r->report, r->ctx, off, "segment %u: corrupt record at seq %llu (%s); %llu record%s lost, "
	    "reading goes on at seq %llu", g->index, (unsigned long long)r->expect, why,
	    (unsigned long long)(seq - r->expect), seq - r->expect == 1 ? "" : "s", (unsigned long long)seq);
	if (run != r->run_id)
		r->run_segment = 0; /* its RUN_START was lost here: this is its first segment */
	r->run_id = run;
	r->pos = at;
	r->expect = seq;
	return 1;
}

/*
 * The segment ended at r->pos (the record there is invalid for @why).
 * A valid record of this segment further on means the bytes between were
 * damaged: reading resumes at that record. Otherwise, whatever follows
 * is a clean end when the run current here went on in the
 * next segment exactly where this one stopped (the rest is slack, possibly
 * stale bytes of an earlier lap), when the run ended here, or when only
 * zeros follow. Anything else is a torn write or damage.
 *
 * A next segment (segment_seq + 1) with run_segment > 0 continues a run
 * that must have been current here: a run's segment 0 is the one holding
 * its RUN_START, the one before its segment 1. If it is not the run the
 * records here end in, the records between were lost.
 */
int uev_ring_segment_end(struct uev_ring_reader *r, const char *why)
{
	const struct uev_ring_seginfo *g = &r->segs[r->cur];
	const struct uev_ring_seginfo *nx = r->cur + 1 < r->nsegs ? &r->segs[r->cur + 1] : NULL;
	uint64_t off = uev_ring_seg_base(r, g->index) + r->pos;
	int cont = nx && nx->seq == g->seq + 1 && nx->run_segment > 0, k;

	if ((k = resume(r, off, why)) < 0)
		return k;
	if (k == 1)
		return 0; /* the segment goes on after the damage */
	r->st.bytes_used += r->pos;
	if (r->behind)
		say(r->report, r->ctx, uev_ring_seg_base(r, g->index),
		    "segment %u: %llu records not after seq %llu already read; skipped", g->index,
		    (unsigned long long)r->behind, (unsigned long long)r->last_seq);
	if (k == 0) {
		/* damage, reported */
	} else if (cont && (nx->first_seq != r->expect || nx->run_id != r->run_id ||
		     nx->run_segment != r->run_segment + 1)) {
		r->st.torn++;
		say(r->report, r->ctx, off,
		    "segment %u: records stop at seq %llu of run %llu (%s), run %llu goes on at seq %llu",
		    g->index, (unsigned long long)r->expect, (unsigned long long)r->run_id, why,
		    (unsigned long long)nx->run_id, (unsigned long long)nx->first_seq);
	} else if (!cont && r->last_type != UEV_RING_RUN_END) {
		int z = tail_zero(r, r->pos);

		if (z < 0)
			return z;
		if (!z)
			torn_tail(r, off, why);
	}
	r->loaded = 0;
	r->cur++;
	return 0;
}

