/* SPDX-License-Identifier: MIT */
/*
 * Collecting a bundle's window from a ring file that is being written
 * (incident.h). Each collect reads the file from its oldest record with a
 * reader of its own (the reader copes with records the writer tears or
 * overwrites under it: they fail their checks and are reported), learns
 * every run's metadata as it goes, and copies what lies after the last
 * record the previous collect read:
 *
 * - a PAGE of a run that counts (@run_id, or an earlier one of the same
 *   boot and trace clock) whose events fall in the window: whole when all
 *   of them do, else encoded anew with those inside (uev_page_cut());
 * - the run's checkpoint before its first such page (or at the end, so an
 *   empty window still gives the run with its metadata); after it, the
 *   run's metadata records as they come (SYNC, FORMAT, ANNOUNCE, COMM,
 *   RUN_END);
 * - a LOST before a copied page of its CPU whose first event is kept (the
 *   loss came before that event, as do the page's missed-events flags).
 *
 * Earlier runs are copied before the run they must match is read (runs
 * come in id order): they stay pending in the scratch and are cut off
 * again when @run_id's RUN_START shows another boot or clock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <kbuffer.h>

#include "bundle-int.h"
#include "uev-grow.h"

struct lost_pend {
	uint64_t count;
	int have, unknown;
};

struct collect {
	struct uev_bundle *b;
	struct run_meta m;
	struct kbuffer *kb;
	uint8_t kb_order, kb_long;
	struct lost_pend *lost;
	size_t nlost;
	uint8_t *keep;
	size_t capkeep;
	uint64_t oldest_run, oldest_ts; /* the first record read, the oldest page of its run */
	int have_oldest;
};

static void report(void *ctx, enum uev_ring_report_kind kind, uint64_t off, const char *msg)
{
	struct uev_bundle *b = ctx;

	if (kind == UEV_RING_TORN_END)
		return; /* where a run stopped uncleanly: expected, not damage */
	if (!b->st.problems++)
		snprintf(b->st.first_problem, sizeof(b->st.first_problem), "%s: at offset %llu: %s", b->path,
			 (unsigned long long)off, msg);
}

static struct bundle_run *run_find(struct uev_bundle *b, uint64_t run_id)
{
	for (size_t i = 0; i < b->nruns; i++)
		if (b->runs[i].run_id == run_id)
			return &b->runs[i];
	return NULL;
}

static int same_key(const struct bundle_run *x, const struct run_meta *m)
{
	return !strcmp(x->boot_id, m->rs.info.boot_id) && !strcmp(x->clock, m->rs.info.trace_clock);
}

/* Drop the pending earlier runs from the scratch. */
static int cut_pending(struct uev_bundle *b)
{
	if (!b->pending)
		return 0;
	b->pending = 0;
	b->nruns = b->pend_run;
	if (fflush(b->scr) || ftruncate(fileno(b->scr), b->pend_off) < 0 || fseeko(b->scr, b->pend_off, SEEK_SET))
		return -errno;
	return 0;
}

/* The run's checkpoint in the scratch, once: 1 when it is there. */
static int checkpoint(struct collect *c)
{
	struct uev_bundle *b = c->b;
	struct bundle_run *x;
	int r;

	if (run_find(b, c->m.run_id))
		return 1;
	if (!c->m.run_start)
		return 0; /* a run whose RUN_START is gone or damaged: its pages cannot be told */
	if (c->m.run_id != b->run_id) {
		if (b->pending && !same_key(&b->runs[b->pend_run], &c->m) && (r = cut_pending(b)) < 0)
			return r;
		if (!b->pending) {
			b->pending = 1;
			b->pend_off = ftello(b->scr);
			b->pend_run = b->nruns;
		}
	} else if (b->pending) {
		if (!same_key(&b->runs[b->pend_run], &c->m) && (r = cut_pending(b)) < 0)
			return r;
		b->pending = 0;
	}
	if (UEV_GROW(b->runs, b->capruns, b->nruns + 1) < 0)
		return -ENOMEM;
	x = &b->runs[b->nruns++];
	x->run_id = c->m.run_id;
	snprintf(x->boot_id, sizeof(x->boot_id), "%s", c->m.rs.info.boot_id);
	snprintf(x->clock, sizeof(x->clock), "%s", c->m.rs.info.trace_clock);
	return (r = meta_put_checkpoint(&c->m, b->scr)) < 0 ? r : 1;
}

static struct lost_pend *lost_of(struct collect *c, unsigned cpu)
{
	if (cpu >= c->nlost) {
		size_t n = c->nlost;

		if (UEV_GROW(c->lost, c->nlost, (size_t)cpu + 1) < 0)
			return NULL;
		memset(c->lost + n, 0, (c->nlost - n) * sizeof(*c->lost));
	}
	return &c->lost[cpu];
}

static int layout(struct collect *c)
{
	uint8_t order = c->m.rs.info.byte_order, lsize = c->m.rs.info.long_size;

	if (c->kb && c->kb_order == order && c->kb_long == lsize)
		return 0;
	if (c->kb)
		kbuffer_free(c->kb);
	c->kb = kbuffer_alloc(lsize == 4 ? KBUFFER_LSIZE_4 : KBUFFER_LSIZE_8,
			      order == UEV_RING_BIG_ENDIAN ? KBUFFER_ENDIAN_BIG : KBUFFER_ENDIAN_LITTLE);
	c->kb_order = order;
	c->kb_long = lsize;
	return c->kb ? 0 : -ENOMEM;
}

/* A PAGE of a run that counts: copied, cut, or left out. */
static int page(struct collect *c, const struct uev_ring_rec *rec, int fresh)
{
	struct uev_bundle *b = c->b;
	struct uev_ring_page_rec pg;
	struct uev_page_layout lay;
	struct lost_pend *lp;
	unsigned long long ts;
	size_t n = 0, in = 0, len;
	const char *why;
	uint8_t *cut = NULL;
	int r;

	if (!fresh || uev_ring_rec_page(rec, &pg) < 0 || uev_ring_layout_check(&c->m.rs.info, b->path, rec->run_id, NULL, 0) < 0)
		return 0;
	uev_page_layout_set(&lay, c->m.rs.info.byte_order == UEV_RING_BIG_ENDIAN, c->m.rs.info.long_size);
	if (!uev_page_check_as(NULL, pg.data, pg.len, &lay, &why)) {
		char msg[160];

		snprintf(msg, sizeof(msg), "page of cpu %u skipped: %s", pg.cpu, why);
		report(b, UEV_RING_DAMAGE, rec->offset, msg);
		return 0;
	}
	ts = uev_page_get64(&lay, pg.data); /* no event of the page is older */
	if (!c->have_oldest || (c->oldest_run == rec->run_id && ts < c->oldest_ts)) {
		c->oldest_run = rec->run_id;
		c->oldest_ts = ts;
		c->have_oldest = 1;
	}
	if (!(lp = lost_of(c, pg.cpu)))
		return -ENOMEM;
	if (ts > b->to_ns) {
		*lp = (struct lost_pend){ 0 };
		return 0;
	}
	if ((r = layout(c)) < 0)
		return r;
	if (UEV_GROW(c->keep, c->capkeep, pg.len / 4 + 1) < 0)
		return -ENOMEM;
	if (kbuffer_load_subbuffer(c->kb, (void *)pg.data) < 0)
		return 0;
	for (void *d = kbuffer_read_event(c->kb, &ts); d; d = kbuffer_next_event(c->kb, &ts), n++) {
		c->keep[n] = ts >= b->from_ns && ts <= b->to_ns;
		in += c->keep[n];
	}
	if (!in) {
		*lp = (struct lost_pend){ 0 };
		return 0;
	}
	if ((r = checkpoint(c)) <= 0)
		return r;
	if (lp->have && c->keep[0]) { /* the count, little-endian as the format has it */
		uint8_t cnt[8];

		for (int j = 0; j < 8; j++)
			cnt[j] = (uint8_t)((lp->unknown ? 0 : lp->count) >> (8 * j));
		if ((r = scr_put(b->scr, UEV_RING_LOST, pg.cpu, rec->run_id, cnt, 8)) < 0)
			return r;
	}
	*lp = (struct lost_pend){ 0 };
	if (in == n) {
		r = scr_put(b->scr, UEV_RING_PAGE, pg.cpu, rec->run_id, pg.data, pg.len);
	} else {
		if ((r = uev_page_cut(c->kb, &lay, pg.data, pg.len, c->keep, c->keep[0], &cut, &len)) < 0)
			return r;
		r = scr_put(b->scr, UEV_RING_PAGE, pg.cpu, rec->run_id, cut, (uint32_t)len);
		free(cut);
		b->st.pages_cut++;
	}
	b->st.pages++;
	b->st.events += in;
	return r;
}

static int lost(struct collect *c, const struct uev_ring_rec *rec)
{
	struct uev_ring_lost_rec l;
	struct lost_pend *lp;

	if (uev_ring_rec_lost(rec, &l) < 0)
		return 0;
	if (!(lp = lost_of(c, l.cpu)))
		return -ENOMEM;
	lp->have = 1;
	lp->count += l.count;
	lp->unknown |= l.count == 0;
	return 0;
}

static int one(struct collect *c, const struct uev_ring_rec *rec)
{
	struct uev_bundle *b = c->b;
	int fresh = !b->have_last || rec->seq > b->last_seq || (rec->seq == b->last_seq && rec->sub > b->last_sub);
	int r;

	if (rec->run_id > b->run_id)
		return 0; /* a later run: another clock's times, or none of ours */
	if (rec->run_id != c->m.run_id) {
		meta_reset(&c->m, rec->run_id);
		for (size_t i = 0; i < c->nlost; i++)
			c->lost[i] = (struct lost_pend){ 0 };
	}
	if ((r = meta_learn(&c->m, rec)) < 0)
		return r;
	if (rec->type == UEV_RING_PAGE)
		return page(c, rec, fresh);
	if (!fresh)
		return 0;
	if (rec->type == UEV_RING_LOST)
		return lost(c, rec);
	/* after the run's checkpoint, its metadata as it comes */
	switch (rec->type) {
	case UEV_RING_SYNC:
	case UEV_RING_FORMAT:
	case UEV_RING_ANNOUNCE:
	case UEV_RING_COMM:
	case UEV_RING_RUN_END:
		if (run_find(b, rec->run_id))
			return scr_put(b->scr, (uint16_t)rec->type, 0xffff, rec->run_id, rec->payload, rec->len);
		return 0;
	default:
		return 0;
	}
}

int uev_bundle_collect(struct uev_bundle *b, char *err, size_t errsize)
{
	struct collect c = { .b = b };
	struct uev_ring_reader *rd;
	struct uev_ring_rec rec;
	uint64_t first_seq = 0, prev_last = b->last_seq;
	int r = 0, n, have_first = 0, had_last = b->have_last, first_collect = !b->collects++;

	if (b->finished)
		return -EINVAL;
	if ((r = uev_ring_reader_open(&rd, b->path, report, b, err, errsize)) < 0)
		return r;
	memcpy(b->seat, uev_ring_reader_super(rd)->seat, sizeof(b->seat));
	b->seat[sizeof(b->seat) - 1] = 0;
	while ((n = uev_ring_reader_next(rd, &rec)) > 0) {
		if (!have_first) {
			first_seq = rec.seq;
			have_first = 1;
		}
		if ((r = one(&c, &rec)) < 0)
			break;
		if (!b->have_last || rec.seq > b->last_seq || (rec.seq == b->last_seq && rec.sub > b->last_sub)) {
			b->last_seq = rec.seq;
			b->last_sub = rec.sub;
			b->have_last = 1;
		}
	}
	if (n < 0 && r >= 0) {
		r = n;
		snprintf(err, errsize, "%s: %s", b->path, uev_ring_reader_error(rd));
	} else if (r < 0) {
		snprintf(err, errsize, "%s: copying the window into the scratch file: %s", b->path, strerror(-r));
	}
	/* What the ring overwrote: between two collects, or, at the first,
	 * the window's start when the ring lost its beginning and its oldest
	 * data belongs to a run we copy and is newer than the window's start. */
	if (have_first && had_last && first_seq > prev_last + 1 && r >= 0)
		b->st.lost_records += first_seq - prev_last - 1;
	if (r >= 0 && first_collect && uev_ring_reader_stats(rd)->seq_first > 1 && c.have_oldest &&
	    c.oldest_ts > b->from_ns && run_find(b, c.oldest_run) && !(b->pending && c.oldest_run != b->run_id))
		b->st.overwritten_to_ns = c.oldest_ts;
	/* an earlier run that @run_id never confirmed; @run_id's checkpoint
	 * even without pages (an empty window is a run with its metadata) */
	if (r >= 0 && c.m.run_id != b->run_id)
		meta_reset(&c.m, 0);
	if (r >= 0 && c.m.run_id == b->run_id && (r = checkpoint(&c)) > 0)
		r = 0;
	if (r >= 0 && b->pending && !run_find(b, b->run_id))
		r = cut_pending(b);
	if (r >= 0 && fflush(b->scr))
		r = -errno;
	b->st.bytes = (uint64_t)ftello(b->scr);
	uev_ring_reader_close(rd);
	meta_free(&c.m);
	if (c.kb)
		kbuffer_free(c.kb);
	free(c.lost);
	free(c.keep);
	return r < 0 ? r : 0;
}

const struct uev_bundle_stats *uev_bundle_stats(const struct uev_bundle *b)
{
	return &b->st;
}
