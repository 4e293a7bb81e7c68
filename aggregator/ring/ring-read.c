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
 *
 * This file reads records; the segment headers and following a live file
 * are ring-scan.c, where a segment's records end ring-tail.c, the state
 * they share ring-read.h.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring-read.h"
#include "uev-grow.h"

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
		unsigned i = uev_ring_all_zero(b + UEV_RING_SUPER_USED, sizeof(b) - UEV_RING_SUPER_USED)
				     ? sizeof(b) : UEV_RING_SUPER_USED;

		for (; i < sizeof(b); i++)
			if (b[i]) {
				say(r->report, r->ctx, i, "superblock: unused bytes are not zero");
				break;
			}
		e = uev_ring_scan(fd, &r->sb, &r->segs, &r->nsegs, &r->st, report, ctx);
		r->segs_cap = r->sb.segment_count; /* what uev_ring_scan() allocated */
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
	uev_ring_unit_buf_free(&r->ubuf);
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
int uev_ring_window(struct uev_ring_reader *r, uint32_t pos, uint32_t len)
{
	uint32_t S = r->sb.segment_size, n;
	ssize_t got;

	if (pos >= r->wbase && pos - r->wbase <= r->wlen && r->wlen - (pos - r->wbase) >= len)
		return 1;
	n = len > UEV_RING_WINDOW ? len : UEV_RING_WINDOW;
	if (n > S - pos)
		n = S - pos;
	if (UEV_GROW(r->buf, r->bufsize, n) < 0)
		return -ENOMEM;
	r->wlen = 0;
	got = uev_ring_pread(r->fd, r->buf, n, uev_ring_seg_base(r, r->segs[r->cur].index) + pos);
	if (got < (ssize_t)n)
		return read_failed(r, uev_ring_seg_base(r, r->segs[r->cur].index) + pos, n, got);
	r->wbase = pos;
	r->wlen = n;
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
	if ((w = uev_ring_window(r, pos, UEV_RING_REC_HDR)) < 0)
		return w;
	len = uev_get32(r->buf + (pos - r->wbase) + 4);
	need = uev_ring_rec_size(len) <= left ? (uint32_t)uev_ring_rec_size(len) : UEV_RING_REC_HDR;
	if ((w = uev_ring_window(r, pos, need)) < 0)
		return w;
	return uev_ring_rec_check(r->buf + (pos - r->wbase), left, 0, g->seq, r->expect, h, why);
}

/* Reads segs[cur] into the buffer: 1, 0 (skip it: reported), -errno. */
static int load(struct uev_ring_reader *r)
{
	const struct uev_ring_seginfo *g = &r->segs[r->cur];
	uint64_t off = uev_ring_seg_base(r, g->index);
	struct uev_ring_seghdr h;
	const char *why;
	int n;

	r->wlen = 0;
	n = uev_ring_window(r, 0, UEV_RING_SEG_HDR);
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

/* @seq (and @sub, within a unit) as the last one read: the order every
 * record returned must keep. */
static void note_seq(struct uev_ring_reader *r, uint64_t seq, uint32_t sub)
{
	struct uev_ring_stats *st = &r->st;

	if (!r->have_last)
		st->seq_first = seq;
	else if (seq != r->last_seq)
		st->seq_gaps += seq - r->last_seq - 1;
	st->seq_last = r->last_seq = seq;
	r->last_sub = sub;
	r->have_last = 1;
}

static void account(struct uev_ring_reader *r, const struct uev_ring_rec *rec)
{
	struct uev_ring_stats *st = &r->st;
	struct uev_ring_lost_rec lost;

	st->records++;
	if (rec->type == UEV_RING_PAGE) {
		st->pages++;
		st->page_bytes += rec->len;
		st->unit_pages += rec->unit_pages != 0;
		st->unit_page_bytes += rec->unit_pages ? rec->len : 0;
	} else if (uev_ring_rec_lost(rec, &lost) == 0) {
		st->lost_kernel += lost.count;
		st->lost_unknown += lost.count == 0;
	}
	note_seq(r, rec->seq, rec->sub);
}

/*
 * A valid UNIT record @u: unpacked, its pages are handed out by next()
 * one by one before anything after it (1). One that does not unpack is
 * damage: reported, its pages lost, reading goes on after it (0).
 */
static int unit_begin(struct uev_ring_reader *r, const struct uev_ring_rec *u)
{
	struct uev_ring_unit_rec ur;
	const char *why = "its header is malformed";
	int e;

	r->st.units++;
	r->st.unit_bytes += u->len;
	if ((e = uev_ring_rec_unit(u, &ur)) == 0 && ur.run_lo != (uint32_t)u->run_id) {
		why = "it names another run"; /* read under the wrong run: not decodable as this one's */
		e = -EINVAL;
	}
	if (e == 0)
		e = uev_ring_unit_unpack(&ur, &r->ubuf, &why);
	if (e == -ENOMEM)
		return e;
	if (e < 0) {
		r->st.units_bad++;
		note_seq(r, u->seq, 0);
		say(r->report, r->ctx, u->offset, "record seq %llu: a compressed unit of CPU %u: %s; its pages skipped",
		    (unsigned long long)u->seq, u->cpu, why);
		return 0;
	}
	r->unit = *u;
	r->unit.type = UEV_RING_PAGE;
	r->unit.unit_pages = ur.pages;
	r->uleft = ur.pages;
	r->ucur = 0;
	return 1;
}

/* The next page of the unit being handed out. */
static void unit_next(struct uev_ring_reader *r, struct uev_ring_rec *rec)
{
	*rec = r->unit;
	rec->sub = rec->unit_pages - r->uleft--;
	rec->payload = uev_ring_unit_page(r->ubuf.data, &r->ucur, &rec->len);
	assert(rec->sub == 0 ? !r->have_last || rec->seq > r->last_seq
			     : r->have_last && rec->seq == r->last_seq && rec->sub == r->last_sub + 1);
	account(r, rec);
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

		if (r->uleft) {
			unit_next(r, rec);
			return 1;
		}
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
			if ((l = uev_ring_segment_end(r, why)) < 0)
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
		if (!uev_ring_all_zero(r->buf + (at - r->wbase) + UEV_RING_REC_HDR + h.len, pad))
			say(r->report, r->ctx, uev_ring_seg_base(r, g->index) + at, "record seq %llu: padding is not zero",
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
					      r->run_id, uev_ring_seg_base(r, g->index) + at,
					      r->buf + (at - r->wbase) + UEV_RING_REC_HDR, 0, 0 };
		/* What every caller builds on (the fuzzers run every input
		 * through here): a record lies in the file, after the
		 * superblock and its segment's header, its payload inside the
		 * bytes read, and seq only grows. */
		assert(rec->offset >= UEV_RING_SUPER_SIZE + UEV_RING_SEG_HDR &&
		       rec->offset + UEV_RING_REC_HDR + rec->len <= r->sb.file_size);
		assert(at >= r->wbase && at - r->wbase + UEV_RING_REC_HDR + (uint64_t)h.len <= r->wlen);
		assert(!r->have_last || rec->seq > r->last_seq);
		if (rec->type == UEV_RING_UNIT) {
			if ((l = unit_begin(r, rec)) < 0)
				return l;
			continue;
		}
		account(r, rec);
		return 1;
	}
}

