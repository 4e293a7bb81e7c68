/* SPDX-License-Identifier: MIT */
/*
 * Ring file reader (docs/ring-format.md, "Reader recovery rules").
 *
 * Memory is one window of a segment (UEV_RING_WINDOW, or more only for a
 * record longer than that) plus one small entry per segment header,
 * whatever the file holds: segments are read oldest first, a window at a
 * time with pread, and records are returned from the window in place. So a
 * reader of a 512 MiB ring costs what a reader of a 1 MiB ring does. Nothing
 * read from the file is trusted as a length or an offset before it has been
 * checked against the segment bounds (uev_ring_rec_check), so any input,
 * however damaged, ends in a report and a skip, never a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	uint8_t *buf;                  /* bytes [wbase, wbase+wlen) of segs[cur] */
	uint32_t bufsize, wbase, wlen;
	int loaded;
	uint32_t pos;      /* next record in buf */
	uint64_t expect;   /* its seq */
	uint16_t last_type; /* of the last valid record in this segment */
	uint64_t run_id;    /* the run the records read belong to (uev_ring_run_step) */
	uint32_t run_segment;
	uint64_t behind;   /* records of this segment not after the last returned */
	int have_last;
	uint64_t last_seq; /* of the last record returned */
	struct uev_ring_stats st;
	char error[192];   /* the read that failed: uev_ring_reader_error() */
};

/* Zero bytes fill most of a segment's tail and get scanned more than
 * anything else (tail_zero, resumes): a buffer is all zero when its first
 * byte is and it equals itself shifted by one, which libc's memcmp answers
 * many bytes at a time. */
static int all_zero(const uint8_t *p, size_t len)
{
	return !len || (!p[0] && !memcmp(p, p + 1, len - 1));
}

/* How many bytes from @p on are zero, a multiple of 8, at most @len:
 * blocks of 4 KiB while they are zero, then finer ones. */
static uint32_t zero_prefix(const uint8_t *p, uint32_t len)
{
	uint32_t z = 0;

	for (uint32_t blk = 4096; blk >= 8; blk /= 8)
		while (len - z >= blk && all_zero(p + z, blk))
			z += blk;
	return z;
}

static uint64_t seg_base(const struct uev_ring_reader *r, uint32_t index)
{
	return UEV_RING_SUPER_SIZE + (uint64_t)index * r->sb.segment_size;
}

/* ---- recovery rules 2 and 3: the segment headers ---------------------- */

static int seginfo_cmp(const void *a, const void *b)
{
	const struct uev_ring_seginfo *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void vsay(uev_ring_report_fn report, void *ctx, enum uev_ring_report_kind kind, uint64_t off,
		 const char *fmt, va_list ap)
{
	char msg[256];

	if (!report)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	report(ctx, kind, off, msg);
}

static void say_torn_end(uev_ring_report_fn report, void *ctx, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void say_torn_end(uev_ring_report_fn report, void *ctx, uint64_t off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(report, ctx, UEV_RING_TORN_END, off, fmt, ap);
	va_end(ap);
}

/* Report damage (every report but the torn end of a run: torn_tail()). */
static void say(uev_ring_report_fn report, void *ctx, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void say(uev_ring_report_fn report, void *ctx, uint64_t off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(report, ctx, UEV_RING_DAMAGE, off, fmt, ap);
	va_end(ap);
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
	qsort(v, nv, sizeof(*v), seginfo_cmp);
	/* Equal seqs sort by index: keep the last (highest index) of a run. */
	uint32_t w = 0;
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
	st->segments_valid = w;
	st->wraps = max_seq / N;
	*out = v;
	*n = w;
	return 0;
}

/* ---- reading records -------------------------------------------------- */

int uev_ring_reader_open(struct uev_ring_reader **out, const char *path, uev_ring_report_fn report,
			 void *ctx, char *err, size_t errsize)
{
	uint8_t b[UEV_RING_SUPER_SIZE];
	char why[160] = "";
	struct uev_ring_reader *r;
	struct stat st;
	ssize_t n;
	int e = -EINVAL, fd;

	*out = NULL;
	if (err && errsize)
		err[0] = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		e = -errno;
		snprintf(why, sizeof(why), "%s", strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(why, sizeof(why), "not a regular file");
	} else if ((n = uev_ring_pread(fd, b, sizeof(b), 0)) < 0) {
		e = (int)n;
		snprintf(why, sizeof(why), "%s", strerror((int)-n));
	} else if (n < (ssize_t)sizeof(b)) {
		snprintf(why, sizeof(why), "not a uev ring file (%zd bytes)", n);
	} else if (!(r = calloc(1, sizeof(*r)))) {
		e = -ENOMEM;
		snprintf(why, sizeof(why), "out of memory");
	} else if (uev_ring_super_decode(b, &r->sb, why, sizeof(why)) == 0 &&
		   (uint64_t)st.st_size != r->sb.file_size) {
		snprintf(why, sizeof(why), "size mismatch: %llu bytes on disk, the ring has %llu",
			 (unsigned long long)st.st_size, (unsigned long long)r->sb.file_size);
		free(r);
	} else if (why[0]) {
		free(r);
	} else {
		r->fd = fd;
		r->report = report;
		r->ctx = ctx;
		/* all_zero first: a byte loop here cost a reader's open more
		 * than its whole superblock check in a fuzzer's build */
		unsigned i = all_zero(b + UEV_RING_SUPER_USED, sizeof(b) - UEV_RING_SUPER_USED)
				     ? sizeof(b) : UEV_RING_SUPER_USED;

		for (; i < sizeof(b); i++)
			if (b[i]) {
				say(r->report, r->ctx, i, "superblock: unused bytes are not zero");
				break;
			}
		e = uev_ring_scan(fd, &r->sb, &r->segs, &r->nsegs, &r->st, report, ctx);
		if (e == 0) {
			*out = r;
			return 0;
		}
		snprintf(why, sizeof(why), "reading segment headers: %s", strerror(-e));
		uev_ring_reader_close(r);
		fd = -1;
	}
	if (fd >= 0)
		close(fd);
	if (err && errsize)
		snprintf(err, errsize, "%s: %s", path, why);
	return e;
}

const struct uev_ring_super *uev_ring_reader_super(const struct uev_ring_reader *r)
{
	return &r->sb;
}

const struct uev_ring_stats *uev_ring_reader_stats(const struct uev_ring_reader *r)
{
	return &r->st;
}

void uev_ring_reader_close(struct uev_ring_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->segs);
	free(r->buf);
	free(r);
}

const char *uev_ring_reader_error(const struct uev_ring_reader *r)
{
	return r->error;
}

/*
 * A read of @len bytes at @off that gave @got. A short read is never the
 * end of the data: the file had its ring's size when it was opened, so it
 * has shrunk since (truncated in place), and taking the missing bytes for
 * a torn tail would end the reading quietly where the file was cut.
 * Returns -errno, -EIO for a short read; the message names the offset.
 */
static int read_failed(struct uev_ring_reader *r, uint64_t off, size_t len, ssize_t got)
{
	struct stat st;

	if (got < 0) {
		snprintf(r->error, sizeof(r->error), "at offset %llu: reading %zu bytes: %s",
			 (unsigned long long)off, len, strerror((int)-got));
		return (int)got;
	}
	if (fstat(r->fd, &st) == 0 && (uint64_t)st.st_size < r->sb.file_size)
		snprintf(r->error, sizeof(r->error),
			 "at offset %llu: the file shrank to %llu bytes while being read (its ring has %llu)",
			 (unsigned long long)(off + (size_t)got), (unsigned long long)st.st_size,
			 (unsigned long long)r->sb.file_size);
	else
		snprintf(r->error, sizeof(r->error), "at offset %llu: short read (%zd of %zu bytes)",
			 (unsigned long long)(off + (size_t)got), got, len);
	return -EIO;
}

/*
 * Make bytes [pos, pos+len) of the current segment available at
 * r->buf + (pos - r->wbase). Reads forward from @pos a whole window (or
 * @len if longer; never past the segment end, so len <= S - pos is the
 * caller's promise). Returns 1, or -errno (read_failed()).
 */
static int window(struct uev_ring_reader *r, uint32_t pos, uint32_t len)
{
	uint32_t S = r->sb.segment_size, n;
	ssize_t got;

	if (pos >= r->wbase && pos - r->wbase <= r->wlen && r->wlen - (pos - r->wbase) >= len)
		return 1;
	n = len > UEV_RING_WINDOW ? len : UEV_RING_WINDOW;
	if (n > S - pos)
		n = S - pos;
	if (n > r->bufsize) {
		uint8_t *b = realloc(r->buf, n);

		if (!b)
			return -ENOMEM;
		r->buf = b;
		r->bufsize = n;
	}
	r->wlen = 0;
	got = uev_ring_pread(r->fd, r->buf, n, seg_base(r, r->segs[r->cur].index) + pos);
	if (got < (ssize_t)n)
		return read_failed(r, seg_base(r, r->segs[r->cur].index) + pos, n, got);
	r->wbase = pos;
	r->wlen = n;
	return 1;
}

/* Are bytes [pos, S) of the current segment all zero? -errno on I/O error. */
static int tail_zero(struct uev_ring_reader *r, uint32_t pos)
{
	uint32_t S = r->sb.segment_size;

	while (pos < S) {
		uint32_t n = S - pos < UEV_RING_WINDOW ? S - pos : UEV_RING_WINDOW;
		int w = window(r, pos, n);

		if (w < 0)
			return w;
		if (!all_zero(r->buf + (pos - r->wbase), n))
			return 0;
		pos += n;
	}
	return 1;
}

/*
 * The record at @pos of the current segment, checked as the format says
 * (uev_ring_rec_check, on the window: the record is handed over as if it
 * began a segment of the S - pos bytes that are left, which keeps every
 * bound the same). 1 valid, 0 invalid (*why), -errno.
 */
static int rec_at(struct uev_ring_reader *r, uint32_t pos, struct uev_ring_rechdr *h, const char **why)
{
	const struct uev_ring_seginfo *g = &r->segs[r->cur];
	uint32_t S = r->sb.segment_size, left = S > pos ? S - pos : 0, need;
	uint64_t len;
	int w;

	*why = "no room for another record";
	if (left < UEV_RING_REC_HDR)
		return 0;
	if ((w = window(r, pos, UEV_RING_REC_HDR)) < 0)
		return w;
	len = uev_get32(r->buf + (pos - r->wbase) + 4);
	need = uev_ring_rec_size(len) <= left ? (uint32_t)uev_ring_rec_size(len) : UEV_RING_REC_HDR;
	if ((w = window(r, pos, need)) < 0)
		return w;
	return uev_ring_rec_check(r->buf + (pos - r->wbase), left, 0, g->seq, r->expect, h, why);
}

/* Reads segs[cur] into the buffer: 1, 0 (skip it: reported), -errno. */
static int load(struct uev_ring_reader *r)
{
	const struct uev_ring_seginfo *g = &r->segs[r->cur];
	uint64_t off = seg_base(r, g->index);
	struct uev_ring_seghdr h;
	const char *why;
	int n;

	r->wlen = 0;
	n = window(r, 0, UEV_RING_SEG_HDR);
	if (n < 0)
		return n;
	/* The header was read at open; a live writer may have started the
	 * segment anew since. Its records belong to a later read then. */
	if (uev_ring_seghdr_decode(r->buf, &h, &why) != UEV_SEG_VALID || h.segment_seq != g->seq) {
		say(r->report, r->ctx, off, "segment %u: changed while reading; skipped", g->index);
		return 0;
	}
	r->pos = UEV_RING_SEG_HDR;
	r->expect = g->first_seq;
	r->last_type = 0;
	r->run_id = g->run_id;
	r->run_segment = g->run_segment;
	r->behind = 0;
	r->patience = 0;
	r->loaded = 1;
	return 1;
}

/*
 * Does a record of the current segment begin somewhere after @pos: valid,
 * with a seq beyond r->expect? 1, 0, -errno. Records are 8-byte aligned,
 * so every aligned offset is tried; the segment_lo and seq fields rule out
 * nearly all of them before a CRC is computed. Bytes made to pass those
 * at every offset would cost a CRC of up to S each: past a budget of 2 S
 * checked, the answer is yes (damage, reported), never a slow read.
 */
static int resumes(struct uev_ring_reader *r, uint32_t pos)
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
		int w = window(r, p, need);

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
			return 1;
		budget -= need;
		if ((w = window(r, p, need)) < 0)
			return w;
		if (uev_ring_rec_check(r->buf + (p - r->wbase), S - p, 0, g->seq, seq, &h, &why))
			return 1;
	}
	return 0;
}

/*
 * A run's last segment that does not end in RUN_END or zeros, at @off.
 * A writer only appends, so one that is killed or crashes leaves its last
 * segment ending in a partly written record, then zeros or stale bytes of
 * an earlier lap: never a record of this segment. That is the torn end of
 * the run, expected after a kill. A valid record of the segment further on
 * means bytes were damaged after they were written, and records with them.
 */
static int torn_tail(struct uev_ring_reader *r, uint64_t off, const char *why)
{
	const struct uev_ring_seginfo *g = &r->segs[r->cur];
	int k = resumes(r, r->pos);

	if (k < 0)
		return k;
	r->st.torn++;
	if (k) {
		say(r->report, r->ctx, off,
		    "segment %u: corrupt record at seq %llu (%s), records of the segment after it; skipped to its end",
		    g->index, (unsigned long long)r->expect, why);
		return 0;
	}
	r->st.torn_end++;
	say_torn_end(r->report, r->ctx, off,
		     "segment %u: torn tail at seq %llu, where a run stopped without a clean end (%s)",
		     g->index, (unsigned long long)r->expect, why);
	return 0;
}

/*
 * The segment ended at r->pos (the record there is invalid for @why).
 * Whatever follows is a clean end when the run current here went on in the
 * next segment exactly where this one stopped (the rest is slack, possibly
 * stale bytes of an earlier lap), when the run ended here, or when only
 * zeros follow. Anything else is a torn write or damage.
 *
 * A next segment (segment_seq + 1) with run_segment > 0 continues a run
 * that must have been current here: a run's segment 0 is the one holding
 * its RUN_START, the one before its segment 1. If it is not the run the
 * records here end in, the records between were lost.
 */
static int finish(struct uev_ring_reader *r, const char *why)
{
	const struct uev_ring_seginfo *g = &r->segs[r->cur];
	const struct uev_ring_seginfo *nx = r->cur + 1 < r->nsegs ? &r->segs[r->cur + 1] : NULL;
	uint64_t off = seg_base(r, g->index) + r->pos;
	int cont = nx && nx->seq == g->seq + 1 && nx->run_segment > 0;

	r->st.bytes_used += r->pos;
	if (r->behind)
		say(r->report, r->ctx, seg_base(r, g->index),
		    "segment %u: %llu records not after seq %llu already read; skipped", g->index,
		    (unsigned long long)r->behind, (unsigned long long)r->last_seq);
	if (cont && (nx->first_seq != r->expect || nx->run_id != r->run_id ||
		     nx->run_segment != r->run_segment + 1)) {
		r->st.torn++;
		say(r->report, r->ctx, off,
		    "segment %u: records stop at seq %llu of run %llu (%s), run %llu goes on at seq %llu",
		    g->index, (unsigned long long)r->expect, (unsigned long long)r->run_id, why,
		    (unsigned long long)nx->run_id, (unsigned long long)nx->first_seq);
	} else if (!cont && r->last_type != UEV_RING_RUN_END) {
		int z = tail_zero(r, r->pos);

		if (!z)
			z = torn_tail(r, off, why);
		if (z < 0)
			return z;
	}
	r->loaded = 0;
	r->cur++;
	return 0;
}

static void account(struct uev_ring_reader *r, const struct uev_ring_rec *rec)
{
	struct uev_ring_stats *st = &r->st;

	st->records++;
	if (rec->type == UEV_RING_PAGE) {
		st->pages++;
		st->page_bytes += rec->len;
	} else if (rec->type == UEV_RING_LOST && rec->len >= 8) {
		uint64_t c = uev_get64(rec->payload);

		st->lost_kernel += c;
		st->lost_unknown += c == 0;
	}
	if (!r->have_last)
		st->seq_first = rec->seq;
	else
		st->seq_gaps += rec->seq - r->last_seq - 1;
	st->seq_last = r->last_seq = rec->seq;
	r->have_last = 1;
}

/*
 * Following a live file: the newest segment's end is where the writer is,
 * so an invalid record there is "not written yet", not damage. A segment
 * that a newer one follows but whose records stop short of it may also
 * be a write still in flight (io_uring completes writes in any order), so
 * it gets a few polls before it is declared torn.
 */
static int wait_here(struct uev_ring_reader *r)
{
	const struct uev_ring_seginfo *nx = r->cur + 1 < r->nsegs ? &r->segs[r->cur + 1] : NULL;

	if (!r->follow)
		return 0;
	if (nx && nx->run_id == r->run_id && nx->first_seq == r->expect)
		return 0;
	if (nx && ++r->patience > 3)
		return 0;
	r->wlen = 0; /* read again from the file next time */
	return 1;
}

int uev_ring_reader_next(struct uev_ring_reader *r, struct uev_ring_rec *rec)
{
	for (;;) {
		const struct uev_ring_seginfo *g;
		struct uev_ring_rechdr h;
		const char *why;
		uint32_t at, pad;
		int l;

		if (!r->loaded) {
			if (r->cur >= r->nsegs)
				return 0;
			if ((l = load(r)) < 0)
				return l;
			if (l == 0) {
				r->cur++;
				continue;
			}
		}
		g = &r->segs[r->cur];
		if ((l = rec_at(r, r->pos, &h, &why)) < 0)
			return l;
		if (l == 0) {
			if (wait_here(r))
				return 0;
			if ((l = finish(r, why)) < 0)
				return l;
			continue;
		}
		at = r->pos;
		r->pos += (uint32_t)uev_ring_rec_size(h.len);
		r->expect++;
		r->last_type = h.type;
		uev_ring_run_step(h.type, r->buf + (at - r->wbase) + UEV_RING_REC_HDR, h.len, &r->run_id,
				  &r->run_segment);
		r->patience = 0;
		pad = r->pos - at - UEV_RING_REC_HDR - h.len;
		if (!all_zero(r->buf + (at - r->wbase) + UEV_RING_REC_HDR + h.len, pad))
			say(r->report, r->ctx, seg_base(r, g->index) + at, "record seq %llu: padding is not zero",
			    (unsigned long long)h.seq);
		/* Segments are ordered by segment_seq; a record that does not
		 * come after what was returned can only be damage (a header
		 * claiming a wrong seq), and returning it would break the
		 * one promise replay builds on: strictly increasing seq. */
		if (r->have_last && h.seq <= r->last_seq) {
			r->behind++;
			continue;
		}
		*rec = (struct uev_ring_rec){ (enum uev_ring_type)h.type, h.cpu, h.len, h.seq, g->seq,
					      r->run_id, seg_base(r, g->index) + at,
					      r->buf + (at - r->wbase) + UEV_RING_REC_HDR };
		account(r, rec);
		return 1;
	}
}

void uev_ring_reader_follow(struct uev_ring_reader *r)
{
	r->follow = 1;
}

int uev_ring_reader_refresh(struct uev_ring_reader *r)
{
	struct uev_ring_stats st = { 0 };
	struct uev_ring_seginfo *v, *keep;
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
		keep = realloc(r->segs, (size_t)(k + add) * sizeof(*keep));
		if (!keep) {
			free(v);
			return -ENOMEM;
		}
		r->segs = keep;
		for (uint32_t i = 0, j = k; i < n; i++)
			if (v[i].seq > after)
				keep[j++] = v[i];
		r->nsegs = k + add;
	} else {
		r->nsegs = k;
	}
	free(v);
	return (int)add;
}
