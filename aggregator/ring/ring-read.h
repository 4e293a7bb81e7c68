/* SPDX-License-Identifier: MIT */
/*
 * The reader's state, shared by its three parts: reading records
 * (ring-read.c), the segment headers and following a live file
 * (ring-scan.c), and how a segment ends (ring-tail.c). Internal to the
 * ring module; the API is ringfile.h.
 */
#ifndef UEV_RING_READ_H
#define UEV_RING_READ_H

#include "ring-common.h"

#define UEV_RING_WINDOW (128u << 10)

struct uev_ring_reader {
	int fd;
	int follow;        /* the file is being written: wait at its end */
	unsigned patience; /* follow: polls spent on a segment that stopped early */
	struct uev_ring_super sb;
	uev_ring_report_fn report;
	void *ctx;
	struct uev_ring_seginfo *segs; /* valid headers, by segment_seq */
	uint32_t nsegs, cur;           /* segs[cur] is the one being read */
	size_t segs_cap;               /* elements allocated at segs */
	uint8_t *buf;                  /* bytes [wbase, wbase+wlen) of segs[cur] */
	size_t bufsize;
	uint32_t wbase, wlen;
	int loaded;
	uint32_t pos;      /* next record in buf */
	uint64_t expect;   /* its seq */
	uint16_t last_type; /* of the last valid record in this segment */
	uint64_t run_id;    /* the run the records read belong to (uev_ring_run_step) */
	uint32_t run_segment;
	uint64_t behind;   /* records of this segment not after the last returned */
	/* The UNIT being handed out page by page (ring-read.c): its record
	 * as the pages report it, and where the next page is in ubuf. */
	struct uev_ring_rec unit;
	struct uev_ring_unit_buf ubuf;
	size_t ucur;
	uint32_t uleft;
	uint32_t last_sub;
	int have_last;
	uint64_t last_seq; /* of the last record returned */
	struct uev_ring_stats st;
	char error[192];   /* the read that failed: uev_ring_reader_error() */
};

/* Zero bytes fill most of a segment's tail and get scanned more than
 * anything else (tail_zero, resumes): a buffer is all zero when its first
 * byte is and it equals itself shifted by one, which libc's memcmp answers
 * many bytes at a time. */
static inline int uev_ring_all_zero(const uint8_t *p, size_t len)
{
	return !len || (!p[0] && !memcmp(p, p + 1, len - 1));
}

static inline uint64_t uev_ring_seg_base(const struct uev_ring_reader *r, uint32_t index)
{
	return UEV_RING_SUPER_SIZE + (uint64_t)index * r->sb.segment_size;
}

/* Reports a problem at @off to @report (may be NULL), printf-style. Every
 * kind but UEV_RING_TORN_END is damage (ring-scan.c). */
void uev_ring_say(uev_ring_report_fn report, void *ctx, enum uev_ring_report_kind kind, uint64_t off,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define say(report, ctx, off, ...) uev_ring_say(report, ctx, UEV_RING_DAMAGE, off, __VA_ARGS__)

/* Bytes [pos, pos+len) of the current segment at r->buf + (pos - r->wbase),
 * len <= S - pos: 1, or -errno with r->error set (ring-read.c). */
int uev_ring_window(struct uev_ring_reader *r, uint32_t pos, uint32_t len);

/* The current segment's records ended at r->pos, the record there invalid
 * for @why: reports what the rest is, as the format says, and moves on to
 * the next segment. 0 or -errno (ring-tail.c). */
int uev_ring_segment_end(struct uev_ring_reader *r, const char *why);

#endif
