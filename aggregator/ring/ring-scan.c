/* SPDX-License-Identifier: MIT */
/*
 * Ring file reader, the segment headers (docs/ring-format.md, "Reader
 * recovery rules" 2 and 3): which segments hold records, in what order,
 * read again while following a file that is being written. The writer
 * scans the same way to find where it goes on (ring-resume.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ring-read.h"
#include "uev-grow.h"

void uev_ring_say(uev_ring_report_fn report, void *ctx, enum uev_ring_report_kind kind, uint64_t off,
		  const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!report)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(ctx, kind, off, msg);
}

static int seginfo_cmp(const void *a, const void *b)
{
	const struct uev_ring_seginfo *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Sorts the @nv valid headers at @v by segment_seq and drops the lower
 * index of two that claim the same one (recovery rule 3): how many stay. */
static uint32_t by_seq(struct uev_ring_seginfo *v, uint32_t nv, const struct uev_ring_super *sb,
		       struct uev_ring_stats *st, uev_ring_report_fn report, void *ctx)
{
	uint32_t w = 0;

	qsort(v, nv, sizeof(*v), seginfo_cmp);
	/* Equal seqs sort by index: keep the last (highest index) of a run. */
	for (uint32_t k = 0; k < nv; k++) {
		if (k + 1 < nv && v[k + 1].seq == v[k].seq) {
			st->segments_damaged++;
			for (int j = 0; j < 2; j++)
				say(report, ctx,
				    UEV_RING_SUPER_SIZE + (uint64_t)v[k + j].index * sb->segment_size,
				    "segment %u: segment_seq %llu claimed by segments %u and %u; %s",
				    v[k + j].index, (unsigned long long)v[k].seq, v[k].index,
				    v[k + 1].index, j ? "kept" : "skipped");
			continue;
		}
		v[w++] = v[k];
	}
	return w;
}

int uev_ring_scan(int fd, const struct uev_ring_super *sb, struct uev_ring_seginfo **out,
		  uint32_t *n, struct uev_ring_stats *st, uev_ring_report_fn report, void *ctx)
{
	uint32_t N = sb->segment_count, nv = 0, nzero = 0;
	struct uev_ring_seginfo *v = calloc(N, sizeof(*v));
	uint32_t *zero = calloc(N, sizeof(*zero));
	uint64_t max_seq = 0;

	if (!v || !zero) {
		free(v);
		free(zero);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < N; i++) {
		uint64_t off = UEV_RING_SUPER_SIZE + (uint64_t)i * sb->segment_size;
		uint8_t b[UEV_RING_SEG_HDR];
		struct uev_ring_seghdr h;
		const char *why;
		ssize_t r = uev_ring_pread(fd, b, sizeof(b), off);
		enum uev_ring_seghdr_state s;

		/* Short: the file shrank below its ring's size since it was
		 * opened (a reader or writer checks the size at open). */
		if (r < (ssize_t)sizeof(b)) {
			free(v);
			free(zero);
			return r < 0 ? (int)r : -EIO;
		}
		s = uev_ring_seghdr_decode(b, &h, &why);
		if (s == UEV_SEG_ZERO) {
			zero[nzero++] = i;
		} else if (s == UEV_SEG_BAD) {
			st->segments_damaged++;
			say(report, ctx, off, "segment %u: %s; skipped", i, why);
		} else {
			v[nv++] = (struct uev_ring_seginfo){ h.segment_seq, h.first_record_seq,
							     h.run_id, i, h.run_segment };
			if (h.segment_seq > max_seq)
				max_seq = h.segment_seq;
		}
	}
	/* The writer fills segments in index order from 0 and a run goes on
	 * in the newest segment or starts right after it, so segment_seq s always lands in
	 * index (s-1) mod N. A zero header at index i is therefore only
	 * "not written yet" while no segment_seq beyond i exists. */
	for (uint32_t k = 0; k < nzero; k++) {
		uint64_t off = UEV_RING_SUPER_SIZE + (uint64_t)zero[k] * sb->segment_size;

		if (max_seq > zero[k]) {
			st->segments_damaged++;
			say(report, ctx, off,
			    "segment %u: header is zero though the writer has been past it; skipped",
			    zero[k]);
		} else {
			st->segments_empty++;
		}
	}
	free(zero);
	st->segments_valid = *n = by_seq(v, nv, sb, st, report, ctx);
	st->wraps = max_seq / N;
	*out = v;
	return 0;
}

/* ---- following a live file -------------------------------------------- */

void uev_ring_reader_follow(struct uev_ring_reader *r)
{
	r->follow = 1;
}

int uev_ring_reader_refresh(struct uev_ring_reader *r)
{
	struct uev_ring_stats st = { 0 };
	struct uev_ring_seginfo *v;
	uint32_t n, k = r->loaded ? r->cur + 1 : r->cur, add = 0;
	uint64_t after = k ? r->segs[k - 1].seq : 0;
	int e = uev_ring_scan(r->fd, &r->sb, &v, &n, &st, NULL, NULL);
	struct stat fst;

	if (e == -EIO && fstat(r->fd, &fst) == 0 && (uint64_t)fst.st_size < r->sb.file_size) {
		/* the first segment header the file no longer holds whole */
		uint64_t size = (uint64_t)fst.st_size, i = 0, at;

		if (size >= UEV_RING_SUPER_SIZE + UEV_RING_SEG_HDR)
			i = (size - UEV_RING_SUPER_SIZE - UEV_RING_SEG_HDR) / r->sb.segment_size + 1;
		at = UEV_RING_SUPER_SIZE + i * r->sb.segment_size;
		snprintf(r->error, sizeof(r->error),
			 "at offset %llu: segment header: the file shrank to %llu bytes while being read (its ring has %llu)",
			 (unsigned long long)at, (unsigned long long)fst.st_size, (unsigned long long)r->sb.file_size);
		return e;
	}
	if (e < 0) {
		snprintf(r->error, sizeof(r->error), "reading segment headers: %s", strerror(-e));
		return e;
	}
	/* Only segments newer than the one being read are new work; older
	 * ones were read already or have been overwritten since. */
	for (uint32_t i = 0; i < n; i++)
		add += v[i].seq > after;
	if (add) {
		if (UEV_GROW(r->segs, r->segs_cap, (size_t)k + add) < 0) {
			free(v);
			return -ENOMEM;
		}
		for (uint32_t i = 0, j = k; i < n; i++)
			if (v[i].seq > after)
				r->segs[j++] = v[i];
		r->nsegs = k + add;
	} else {
		r->nsegs = k;
	}
	free(v);
	return (int)add;
}
