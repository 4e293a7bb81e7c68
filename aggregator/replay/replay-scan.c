/* SPDX-License-Identifier: MIT */
/*
 * The first pass over a ring file: everything the streams need to agree on
 * before the merge starts, and the numbers for the header. Memory: the
 * reader's window, one entry per run and per announcement.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kbuffer.h>

#include "uev-decode.h"
#include "replay.h"
#include "uev-grow.h"
#include "uev-hash.h"

/*
 * A run's end is its newest event, which only the newest page of each CPU
 * can tell: page headers give the time of a page's first event, and a page
 * drained at a flush may have begun long before. So the newest page of
 * each CPU is kept (one copy per CPU) and read through when the run ends.
 * The table is indexed by CPU number and grows to the highest one met (the
 * ring's cpu field is 16 bits); which CPUs had pages at all is the file's
 * CPU list, one stream each.
 */
struct last_page {
	int run; /* index in f->runs, -1: none */
	int seen; /* the file has a page of this CPU */
	uint32_t len;
	size_t cap;
	uint8_t *buf;
};

struct last_pages {
	struct last_page *v; /* [n], by CPU number */
	size_t n;
};

/* The layout of a run's pages (rp_prescan refused the file unless it is
 * one the format defines). */
static struct uev_page_layout run_layout(const struct rp_run *run)
{
	struct uev_page_layout l = uev_page_layout_host();

	(void)uev_page_layout_set(&l, run->byte_order == UEV_RING_BIG_ENDIAN, run->long_size);
	return l;
}

static int layout_check(const struct rp_run *run, const char *path, char *err, size_t errsize)
{
	struct uev_ring_run_info ri = { .byte_order = run->byte_order, .long_size = run->long_size };

	return uev_ring_layout_check(&ri, path, run->run_id, err, errsize);
}

static int last_events(struct rp_file *f, struct last_pages *lps)
{
	struct last_page *lp = lps->v;
	unsigned long long ts, last;
	const char *why;

	for (size_t i = 0; i < lps->n; i++) {
		struct uev_page_layout l;
		struct kbuffer *kb;

		if (lp[i].run < 0)
			continue;
		l = run_layout(&f->runs[lp[i].run]);
		kb = kbuffer_alloc(l.long_size == 4 ? KBUFFER_LSIZE_4 : KBUFFER_LSIZE_8,
				   l.big_endian ? KBUFFER_ENDIAN_BIG : KBUFFER_ENDIAN_LITTLE);
		if (!kb)
			return -ENOMEM;
		last = 0;
		if (uev_page_check_as(NULL, lp[i].buf, lp[i].len, &l, &why) &&
		    kbuffer_load_subbuffer(kb, lp[i].buf) >= 0)
			for (void *d = kbuffer_read_event(kb, &ts); d; d = kbuffer_next_event(kb, &ts))
				last = ts;
		kbuffer_free(kb);
		if (last > f->runs[lp[i].run].last_ts)
			f->runs[lp[i].run].last_ts = last;
		lp[i].run = -1;
	}
	return 0;
}

/* The entry of @cpu, the table grown (doubling) to hold it; NULL: ENOMEM.
 * The whole capacity is the table: new entries hold no page. */
static struct last_page *page_of(struct last_pages *lps, unsigned cpu)
{
	size_t n = lps->n;

	if (cpu >= n) {
		if (UEV_GROW(lps->v, lps->n, (size_t)cpu + 1) < 0)
			return NULL;
		for (size_t i = n; i < lps->n; i++)
			lps->v[i] = (struct last_page){ .run = -1 };
	}
	return &lps->v[cpu];
}

static int keep_page(struct last_pages *lps, int run, const struct uev_ring_rec *rec)
{
	struct last_page *lp = page_of(lps, rec->cpu);

	if (!lp)
		return -ENOMEM;
	lp->seen = 1;
	if (run < 0)
		return 0;
	if (UEV_GROW(lp->buf, lp->cap, rec->len) < 0)
		return -ENOMEM;
	memcpy(lp->buf, rec->payload, rec->len);
	lp->len = rec->len;
	lp->run = run;
	return 0;
}

/* The file's CPUs: those it has pages of, ascending. */
static int cpu_list(struct rp_file *f, const struct last_pages *lps)
{
	unsigned k = 0;

	for (size_t i = 0; i < lps->n; i++)
		k += lps->v[i].seen;
	free(f->cpu);
	f->ncpu = 0;
	if (!(f->cpu = malloc((k ? k : 1) * sizeof(*f->cpu))))
		return -ENOMEM;
	for (size_t i = 0; i < lps->n; i++)
		if (lps->v[i].seen)
			f->cpu[f->ncpu++] = (unsigned)i;
	return 0;
}

struct report_ctx {
	struct rp_ctx *c;
	struct rp_file *f;
};

void rp_report(struct rp_ctx *c, const char *path, uint64_t off, const char *msg)
{
	c->problems++;
	if (!c->quiet)
		fprintf(stderr, "uev-replay: %s: at offset %llu: %s\n", path, (unsigned long long)off, msg);
}

/*
 * Every aggregator that is killed leaves one of these, so after a crash
 * loop a line each would bury the damage reports that matter among
 * dozens that say the same thing; the header and the summary sum them up.
 */
void rp_report_torn_end(struct rp_ctx *c, struct rp_file *f, uint64_t off, const char *msg)
{
	c->torn_ends++;
	if (f->ntorn_off < sizeof(f->torn_off) / sizeof(f->torn_off[0]))
		f->torn_off[f->ntorn_off++] = off;
	if (c->verbose && !c->quiet)
		fprintf(stderr, "uev-replay: %s: at offset %llu: %s\n", f->path, (unsigned long long)off, msg);
}

int rp_read_failed(struct rp_ctx *c, struct rp_file *f, int err, const char *what)
{
	if (f->failed)
		return err;
	f->failed = 1;
	c->io_errors++;
	fprintf(stderr, "uev-replay: %s: %s; the rest of the file is not read\n", f->path,
		what && what[0] ? what : strerror(-err));
	return err;
}

void rp_report_once(struct rp_ctx *c, const char *path, uint64_t off, const char *msg, const char *what)
{
	uint64_t h = uev_hash_str(uev_hash_str(uev_hash_str(UEV_HASH_INIT, path), msg), what);

	for (size_t i = 0; i < c->nsaid; i++)
		if (c->said[i] == h)
			return;
	/* Without memory to remember it, it may be said again: no harm. */
	if (UEV_GROW(c->said, c->capsaid, c->nsaid + 1) == 0)
		c->said[c->nsaid++] = h;
	rp_report(c, path, off, msg);
}

static void scan_report(void *ctx, enum uev_ring_report_kind kind, uint64_t off, const char *msg)
{
	struct report_ctx *rc = ctx;

	if (kind == UEV_RING_TORN_END)
		rp_report_torn_end(rc->c, rc->f, off, msg);
	else
		rp_report(rc->c, rc->f->path, off, msg);
}

int64_t rp_clock_offset(struct rp_ctx *c, const char *boot_id, const char *trace_clock,
			int64_t sync_offset, int *known)
{
	struct rp_clock *n;

	for (unsigned i = 0; i < c->nclocks; i++)
		if (!strcmp(c->clocks[i].boot_id, boot_id) && !strcmp(c->clocks[i].trace_clock, trace_clock)) {
			*known = 1;
			return c->clocks[i].offset;
		}
	*known = 0;
	if (UEV_GROW(c->clocks, c->capclocks, (size_t)c->nclocks + 1) < 0)
		return sync_offset;
	n = &c->clocks[c->nclocks++];
	memset(n, 0, sizeof(*n));
	snprintf(n->boot_id, sizeof(n->boot_id), "%s", boot_id);
	snprintf(n->trace_clock, sizeof(n->trace_clock), "%s", trace_clock);
	n->offset = sync_offset;
	return sync_offset;
}

int rp_run_parse(struct rp_run *run, const struct uev_ring_rec *rec)
{
	struct uev_ring_run_start_rec rs;
	struct uev_ring_run_info ri;
	int r = uev_ring_rec_run_start(rec, &rs);

	ri = rs.info;
	if (r < 0) {
		ri.byte_order = UEV_RING_LITTLE_ENDIAN;
		ri.long_size = 8;
	}
	memset(run, 0, sizeof(*run));
	run->run_id = rec->run_id;
	memcpy(run->boot_id, ri.boot_id, sizeof(ri.boot_id));
	memcpy(run->kernel_release, ri.kernel_release, sizeof(ri.kernel_release));
	memcpy(run->seat, ri.seat, sizeof(ri.seat));
	memcpy(run->trace_clock, ri.trace_clock, sizeof(ri.trace_clock));
	memcpy(run->host, ri.host, sizeof(ri.host));
	run->start_realtime_ns = ri.start_realtime_ns;
	run->flush_interval_ms = ri.flush_interval_ms;
	run->byte_order = ri.byte_order;
	run->long_size = ri.long_size;
	run->compression = ri.compression;
	run->recovered_from = ri.recovered_from;
	return r;
}

static int add_ann(struct rp_ctx *c, const struct uev_ring_rec *rec)
{
	struct uev_ring_announce_rec a;

	if (uev_ring_rec_announce(rec, &a) < 0)
		return 0;
	return rp_ann_add(c, a.id, a.def);
}

int rp_ann_add(struct rp_ctx *c, uint32_t id, const char *def)
{
	struct rp_ann *n;

	for (size_t i = 0; i < c->nann; i++)
		if (c->ann[i].id == id && !strcmp(c->ann[i].def, def))
			return 0;
	if (UEV_GROW(c->ann, c->capann, c->nann + 1) < 0)
		return -ENOMEM;
	n = c->ann;
	n[c->nann].id = id;
	if (!(n[c->nann].def = strdup(def)))
		return -ENOMEM;
	c->nann++;
	return 0;
}

static struct rp_run *find_run(struct rp_file *f, uint64_t run_id)
{
	for (unsigned i = 0; i < f->nruns; i++)
		if (f->runs[i].run_id == run_id)
			return &f->runs[i];
	return NULL;
}

/* What the first pass carries from record to record. */
struct scan {
	struct rp_ctx *c;
	struct rp_file *f;
	struct rp_run *run;     /* the run of the records being read, NULL: none yet */
	struct last_pages lp;
	/* Pages of a run this file has no valid RUN_START of (damage hit
	 * it): they cannot be decoded, and are said once at the end. */
	uint64_t orphans, orphan_run, orphan_off;
	char *err;
	size_t errsize;
};

/* A RUN_START: a run met again, or a new one (refused when its pages'
 * layout is one no decoder reads: they would be misread). */
static int scan_run_start(struct scan *sc, const struct uev_ring_rec *rec)
{
	struct rp_file *f = sc->f;
	struct rp_run tmp;
	int ret;

	if (sc->run && sc->run->run_id == rec->run_id)
		return 0;
	if ((ret = last_events(f, &sc->lp)) < 0) /* the run before has ended */
		return ret;
	if ((sc->run = find_run(f, rec->run_id)))
		return 0;
	if (rp_run_parse(&tmp, rec) < 0)
		rp_report(sc->c, f->path, rec->offset, "RUN_START record malformed");
	if ((ret = layout_check(&tmp, f->path, sc->err, sc->errsize)) < 0)
		return ret;
	if (UEV_GROW(f->runs, f->capruns, (size_t)f->nruns + 1) < 0)
		return -ENOMEM;
	sc->run = &f->runs[f->nruns++];
	*sc->run = tmp;
	return 0;
}

static void scan_sync(struct scan *sc, const struct uev_ring_rec *rec)
{
	struct rp_run *run = sc->run;
	struct uev_ring_sync sy;
	int known;

	if (!run || run->run_id != rec->run_id || uev_ring_rec_sync(rec, &sy) < 0)
		return;
	rp_clock_offset(sc->c, run->boot_id, run->trace_clock, (int64_t)(sy.realtime_ns - sy.trace_ns), &known);
	if (!run->have_sync) {
		run->sync_trace = sy.trace_ns;
		run->sync_real = sy.realtime_ns;
		run->have_sync = 1;
	}
}

/* A PAGE: its CPU is seen; a page of the current run widens the run's
 * span by its header's timestamp, counts its events (for the header: what
 * the ring holds) and is kept as its CPU's newest. */
static int scan_page(struct scan *sc, const struct uev_ring_rec *rec)
{
	struct rp_run *run = sc->run;
	struct uev_ring_page_rec pg;
	struct uev_page_layout lay;
	struct uev_page_walk walk;
	const uint8_t *body;
	const char *why;
	uint32_t size;
	uint64_t ts;

	if (!run || run->run_id != rec->run_id || uev_ring_rec_page(rec, &pg) < 0) {
		if ((!run || run->run_id != rec->run_id) && !find_run(sc->f, rec->run_id) &&
		    !sc->orphans++) {
			sc->orphan_run = rec->run_id;
			sc->orphan_off = rec->offset;
		}
		return keep_page(&sc->lp, -1, rec); /* seen, nothing to keep */
	}
	lay = run_layout(run);
	if (uev_page_walk_init_as(&walk, pg.data, pg.len, &lay, &why) == 0) /* the events it holds */
		while (uev_page_walk_next(&walk, &body, &size, &why) > 0)
			sc->f->events++;
	ts = uev_page_get64(&lay, pg.data); /* the header's timestamp */
	if (!run->first_ts || ts < run->first_ts)
		run->first_ts = ts;
	if (ts > run->last_ts)
		run->last_ts = ts;
	return keep_page(&sc->lp, (int)(run - sc->f->runs), rec);
}

static int scan_rec(struct scan *sc, const struct uev_ring_rec *rec)
{
	switch (rec->type) {
	case UEV_RING_RUN_START:
		return scan_run_start(sc, rec);
	case UEV_RING_RUN_END:
		if (sc->run && sc->run->run_id == rec->run_id)
			sc->run->ended = 1;
		return 0;
	case UEV_RING_SYNC:
		scan_sync(sc, rec);
		return 0;
	case UEV_RING_ANNOUNCE:
		return add_ann(sc->c, rec);
	case UEV_RING_PAGE:
		return scan_page(sc, rec);
	case UEV_RING_INCIDENT: /* an incident bundle says what it holds (the latest wins) */
		if (uev_ring_rec_incident(rec, &sc->f->incident) == 0) {
			snprintf(sc->f->incident_reason, sizeof(sc->f->incident_reason), "%s", sc->f->incident.reason);
			snprintf(sc->f->incident_trigger, sizeof(sc->f->incident_trigger), "%s", sc->f->incident.trigger);
			sc->f->incident.reason = sc->f->incident_reason;
			sc->f->incident.trigger = sc->f->incident_trigger;
			sc->f->have_incident = 1;
		}
		return 0;
	default:
		return 0;
	}
}

int rp_prescan(struct rp_ctx *c, struct rp_file *f, char *err, size_t errsize)
{
	struct scan sc = { .c = c, .f = f, .err = err, .errsize = errsize };
	struct report_ctx rc = { c, f };
	struct uev_ring_reader *r;
	struct uev_ring_rec rec;
	int ret;

	f->usable = 0;
	ret = uev_ring_reader_open(&r, f->path, scan_report, &rc, err, errsize);
	if (ret < 0)
		return ret;
	f->sb = *uev_ring_reader_super(r);
	while ((ret = uev_ring_reader_next(r, &rec)) > 0)
		if ((ret = scan_rec(&sc, &rec)) < 0)
			goto out;
	/* A read that failed is reported, and the file replayed up to it:
	 * its streams meet the same failure at the same place and stop. */
	if (ret < 0 && ret != -ENOMEM) {
		rp_read_failed(c, f, ret, uev_ring_reader_error(r));
		ret = 0;
	}
	if (sc.orphans) {
		char msg[200];

		snprintf(msg, sizeof(msg), "%llu page%s skipped (the first of run %llu): no valid RUN_START of "
			 "their run in the file (damaged), so they cannot be decoded", (unsigned long long)sc.orphans,
			 sc.orphans == 1 ? "" : "s", (unsigned long long)sc.orphan_run);
		rp_report(c, f->path, sc.orphan_off, msg);
	}
	if (ret >= 0)
		ret = last_events(f, &sc.lp);
	if (ret >= 0)
		ret = cpu_list(f, &sc.lp);
out:
	for (size_t i = 0; i < sc.lp.n; i++)
		free(sc.lp.v[i].buf);
	free(sc.lp.v);
	f->st = *uev_ring_reader_stats(r);
	uev_ring_reader_close(r);
	if (ret < 0) {
		if (ret != -ENOTSUP) /* that one said what in @err */
			snprintf(err, errsize, "%s: %s", f->path, strerror(-ret));
		return ret;
	}
	for (unsigned i = 0; i < f->nruns; i++)
		f->unclean += !f->runs[i].ended;
	f->usable = 1;
	return 0;
}

void rp_file_free(struct rp_file *f)
{
	free(f->runs);
	f->runs = NULL;
	f->nruns = 0;
	f->capruns = 0;
	free(f->cpu);
	f->cpu = NULL;
	f->ncpu = 0;
}
