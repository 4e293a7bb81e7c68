/* SPDX-License-Identifier: MIT */
/*
 * One CPU of one ring file as a stream of decoded events.
 *
 * A stream reads the whole file in record order but decodes only its own
 * CPU's pages; every other record it reads is metadata it must see anyway
 * (runs, formats, sync points, names), and seeing it in file order is what
 * keeps each event paired with the formats of its own run. Formats are per
 * run: a new run starts a new tep handle, and so does a FORMAT that gives
 * an id a new text within a run (a user event deleted and registered
 * again).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event-parse.h>

#include "uev-decode.h"
#include "replay.h"
#include "uev-abi.h"
#include "uev-grow.h"

struct fmt {
	uint32_t id;
	char *sys, *text;
	uint64_t offset; /* of its FORMAT record, for a report */
};

struct rp_stream {
	struct rp_ctx *c;
	struct rp_file *f;
	unsigned cpu;
	struct uev_ring_reader *rd;
	int dead;          /* a read of the file failed (reported): no more */
	struct rp_run run;
	int have_run;
	struct tep_handle *tep;
	struct uev_decoder *dec;
	int in_page;
	char *header_page;
	uint64_t header_page_off;
	struct fmt *fmts;
	size_t nfmts, capfmts;
	int64_t key_off;
	int have_key;
	uint64_t sync_trace, sync_real;
	int have_sync;
	struct rp_comm comm;
	long long pending_lost;
	uint64_t last_ts, last_run; /* of the last event: head.index */
	int have_last;
	struct rp_event head;
	struct tep_record rec;
};

static void drop_formats(struct rp_stream *s)
{
	uev_decoder_free(s->dec);
	s->dec = NULL;
	tep_free(s->tep);
	s->tep = NULL;
	s->in_page = 0;
}

static void free_formats(struct rp_stream *s)
{
	drop_formats(s);
	for (size_t i = 0; i < s->nfmts; i++) {
		free(s->fmts[i].sys);
		free(s->fmts[i].text);
	}
	free(s->fmts);
	s->fmts = NULL;
	s->nfmts = 0;
	s->capfmts = 0;
	free(s->header_page);
	s->header_page = NULL;
}

/* A format the file gives that libtraceevent does not take: its events
 * print as unknown. Every stream of the file meets it: said once. */
static void parse_format(struct rp_stream *s, const struct fmt *f)
{
	if (uev_format_parse(s->tep, f->sys, f->text) < 0)
		rp_report_once(s->c, s->f->path, f->offset,
			       "an event format in the file does not parse; its events are shown undecoded", f->text);
}

/* The tep handle and decoder for what the run has said so far. */
static int build(struct rp_stream *s)
{
	if (s->dec)
		return 0;
	if (!s->tep) {
		if (!(s->tep = tep_alloc()))
			return -ENOMEM;
		if (s->header_page &&
		    tep_parse_header_page(s->tep, s->header_page, strlen(s->header_page), s->run.long_size) < 0)
			rp_report_once(s->c, s->f->path, s->header_page_off,
				       "the header_page format in the file does not parse; the host's layout is assumed",
				       s->header_page);
		for (size_t i = 0; i < s->nfmts; i++)
			parse_format(s, &s->fmts[i]);
	}
	if (uev_decoder_new(&s->dec, s->tep) < 0)
		return -ENOMEM;
	/* Pages of another machine's layout (the prescan refused the file
	 * unless it is one the decoder reads). */
	if (!uev_ring_layout_is_host(&(struct uev_ring_run_info){ .byte_order = s->run.byte_order,
								  .long_size = s->run.long_size }) &&
	    uev_decoder_layout(s->dec, s->run.byte_order == UEV_RING_BIG_ENDIAN, s->run.long_size) < 0)
		return -ENOMEM;
	/* One the decoder refuses was reported where its record was read
	 * (rp_stream_next); its marker records print as hex. */
	for (size_t i = 0; i < s->c->nann; i++)
		(void)uev_decoder_announce(s->dec, s->c->ann[i].id, s->c->ann[i].def);
	return 0;
}

static int format(struct rp_stream *s, const struct uev_ring_rec *rec)
{
	struct uev_ring_format_rec f;
	struct fmt *n;

	if (uev_ring_rec_format(rec, &f) < 0)
		return 0;
	if (f.kind == UEV_RING_FMT_EVENT && !uev_format_vet(f.system, f.text)) {
		rp_report_once(s->c, s->f->path, rec->offset, "an event format in the file crashes libtraceevent; skipped",
			       f.text);
		return 0;
	}
	if (f.kind == UEV_RING_FMT_HEADER_PAGE) {
		if (s->header_page && !strcmp(s->header_page, f.text))
			return 0;
		free(s->header_page);
		if (!(s->header_page = strdup(f.text)))
			return -ENOMEM;
		s->header_page_off = rec->offset;
		drop_formats(s);
		return 0;
	}
	if (f.kind != UEV_RING_FMT_EVENT)
		return 0;
	for (size_t i = 0; i < s->nfmts; i++) {
		if (s->fmts[i].id != f.id)
			continue;
		if (!strcmp(s->fmts[i].text, f.text))
			return 0;
		/* The id means something else from here on: tep cannot
		 * forget an event, so start a handle without the old one. */
		free(s->fmts[i].text);
		if (!(s->fmts[i].text = strdup(f.text)))
			return -ENOMEM;
		s->fmts[i].offset = rec->offset;
		drop_formats(s);
		return 0;
	}
	if (UEV_GROW(s->fmts, s->capfmts, s->nfmts + 1) < 0)
		return -ENOMEM;
	n = &s->fmts[s->nfmts];
	n->id = f.id;
	n->offset = rec->offset;
	n->sys = strdup(f.system);
	n->text = strdup(f.text);
	if (!n->sys || !n->text) {
		free(n->sys);
		free(n->text);
		return -ENOMEM;
	}
	s->nfmts++;
	if (s->tep)
		parse_format(s, n);
	return 0;
}

static void comm(struct rp_stream *s, const struct uev_ring_rec *rec)
{
	struct uev_ring_comm_rec c;
	char name[16];
	int32_t pid;

	if (uev_ring_rec_comm(rec, &c) < 0)
		return;
	for (uint32_t i = 0; i < c.count; i++) {
		uev_ring_comm_entry(&c, i, &pid, name);
		rp_comm_put(&s->comm, pid, name);
	}
}

static void use_sync(struct rp_stream *s, const struct uev_ring_sync *sy)
{
	int known;

	s->sync_trace = sy->trace_ns;
	s->sync_real = sy->realtime_ns;
	s->have_sync = 1;
	if (!s->have_key) {
		s->key_off = rp_clock_offset(s->c, s->run.boot_id, s->run.trace_clock,
					     (int64_t)(s->sync_real - s->sync_trace), &known);
		s->have_key = 1;
	}
}

static void new_run(struct rp_stream *s, const struct uev_ring_rec *rec)
{
	free_formats(s);
	rp_comm_clear(&s->comm);
	s->have_key = s->have_sync = 0;
	s->have_run = 1;
	if (rp_run_parse(&s->run, rec) < 0)
		rp_report(s->c, s->f->path, rec->offset, "RUN_START record malformed");
	/* The head points into the run's description: point it at the
	 * file's copy, which outlives the stream's. */
	for (unsigned i = 0; i < s->f->nruns; i++)
		if (s->f->runs[i].run_id == rec->run_id)
			s->head.run = &s->f->runs[i];
	if (!s->head.run || s->head.run->run_id != rec->run_id)
		s->head.run = &s->run;
	/* A run's first SYNC can come after pages of this CPU (a trace clock
	 * synced by a marker is synced when the marker is drained): until
	 * the stream meets one, the run's first holds. */
	if (s->head.run->have_sync) {
		struct uev_ring_sync sy = { .trace_ns = s->head.run->sync_trace,
					    .realtime_ns = s->head.run->sync_real };

		use_sync(s, &sy);
	}
}

static void sync_point(struct rp_stream *s, const struct uev_ring_rec *rec)
{
	struct uev_ring_sync sy;

	if (s->have_run && uev_ring_rec_sync(rec, &sy) == 0)
		use_sync(s, &sy);
}

/* The next record of the page being decoded that is an event to show:
 * 1, 0 at the page end, -ENOMEM. */
static int page_next(struct rp_stream *s)
{
	struct rp_event *e = &s->head;

	while (uev_decoder_next(s->dec, &e->r, &s->rec)) {
		uint64_t ts = e->r.ts;

		if (e->r.missed)
			s->pending_lost = e->r.missed < 0 || s->pending_lost < 0 ? -1 :
					  s->pending_lost + e->r.missed;
		/* the aggregator's sync marker: its SYNC record says it */
		if (e->r.kind == UEV_REC_UNKNOWN && e->r.marker_id == UEV_MARKER_SYNC)
			continue;
		if (e->r.kind == UEV_REC_ANNOUNCE) {
			uint32_t id;

			/* the decoder checked the text is terminated */
			memcpy(&id, e->r.payload, 4);
			if (rp_ann_add(s->c, id, (const char *)e->r.payload + 4) < 0)
				return -ENOMEM;
			continue;
		}
		e->rec = &s->rec;
		/* user_events records are named like marker ones: no system */
		if (e->r.kind == UEV_REC_USER && !e->r.def && e->r.event)
			e->r.name = e->r.event->name;
		e->key = s->have_key ? (int64_t)ts + s->key_off : (int64_t)ts;
		e->have_wall = s->have_sync;
		e->wall = s->have_sync ? (int64_t)s->sync_real + ((int64_t)ts - (int64_t)s->sync_trace) : 0;
		e->comm = rp_comm_get(&s->comm, e->r.pid);
		e->lost = s->pending_lost;
		s->pending_lost = 0;
		e->file = s->f;
		/* the events of one time on this CPU, counted in file order */
		e->index = s->have_last && ts == s->last_ts && s->run.run_id == s->last_run ? e->index + 1 : 0;
		s->have_last = 1;
		s->last_ts = ts;
		s->last_run = s->run.run_id;
		return 1;
	}
	s->in_page = 0;
	return 0;
}

/* A read of the file failed: the stream ends, reported once per file.
 * Running out of memory is the caller's to report. */
static int read_failed(struct rp_stream *s, int err)
{
	if (err == -ENOMEM)
		return err;
	s->dead = 1;
	rp_read_failed(s->c, s->f, err, uev_ring_reader_error(s->rd));
	return 0;
}

int rp_stream_next(struct rp_stream *s)
{
	struct uev_ring_rec rec;
	int ret;

	if (s->dead)
		return 0;
	if (s->in_page && (ret = page_next(s)) != 0)
		return ret;
	while ((ret = uev_ring_reader_next(s->rd, &rec)) > 0) {
		if (rec.type == UEV_RING_RUN_START) {
			if (!s->have_run || rec.run_id != s->run.run_id)
				new_run(s, &rec);
			continue;
		}
		if (!s->have_run || rec.run_id != s->run.run_id)
			continue; /* a run whose start was overwritten: no formats */
		switch (rec.type) {
		case UEV_RING_FORMAT:
			ret = format(s, &rec);
			break;
		case UEV_RING_SYNC:
			sync_point(s, &rec);
			break;
		case UEV_RING_COMM:
			comm(s, &rec);
			break;
		case UEV_RING_ANNOUNCE: {
			struct uev_ring_announce_rec a;

			if (uev_ring_rec_announce(&rec, &a) < 0)
				break;
			if (s->dec && uev_decoder_announce(s->dec, a.id, a.def) < 0)
				rp_report_once(s->c, s->f->path, rec.offset,
					       "a marker announcement in the file is malformed; its records print as hex",
					       a.def);
			if ((ret = rp_ann_add(s->c, a.id, a.def)) < 0)
				return ret;
			break;
		}
		case UEV_RING_PAGE:
			if (rec.cpu != s->cpu)
				break;
			if ((ret = build(s)) < 0)
				return ret;
			if (uev_decoder_load(s->dec, (void *)rec.payload, rec.len, (int)s->cpu) < 0) {
				char msg[160];

				snprintf(msg, sizeof(msg), "PAGE of CPU %u: %s; skipped", s->cpu, uev_decoder_why(s->dec));
				rp_report(s->c, s->f->path, rec.offset, msg);
				break;
			}
			s->in_page = 1;
			if ((ret = page_next(s)) != 0)
				return ret;
			break;
		default:
			break;
		}
		if (ret < 0)
			return ret;
	}
	return ret < 0 ? read_failed(s, ret) : ret;
}

int rp_stream_open(struct rp_stream **out, struct rp_ctx *c, struct rp_file *f, unsigned cpu,
		   int follow, char *err, size_t errsize)
{
	struct rp_stream *s = calloc(1, sizeof(*s));
	int ret;

	if (!s || rp_comm_init(&s->comm) < 0) {
		free(s);
		return -ENOMEM;
	}
	s->c = c;
	s->f = f;
	s->cpu = cpu;
	/* No report: every stream of a file meets the same damage, and the
	 * first pass has reported it once already. */
	ret = uev_ring_reader_open(&s->rd, f->path, NULL, NULL, err, errsize);
	if (ret < 0) {
		rp_comm_free(&s->comm);
		free(s);
		return ret;
	}
	if (follow)
		uev_ring_reader_follow(s->rd);
	*out = s;
	return 0;
}

void rp_stream_close(struct rp_stream *s)
{
	if (!s)
		return;
	free_formats(s);
	uev_ring_reader_close(s->rd);
	rp_comm_free(&s->comm);
	free(s);
}

struct rp_event *rp_stream_head(struct rp_stream *s)
{
	return &s->head;
}

void rp_stream_resolve(struct rp_stream *s)
{
	struct rp_event *e = &s->head;

	if (e->r.kind != UEV_REC_UNKNOWN || !s->dec)
		return;
	for (size_t i = 0; i < s->c->nann; i++)
		if (s->c->ann[i].id == e->r.marker_id) {
			/* refused (malformed, reported where it was read):
			 * not resolved below, and the record stays hex */
			(void)uev_decoder_announce(s->dec, e->r.marker_id, s->c->ann[i].def);
			(void)uev_decoder_resolve(s->dec, &e->r);
			return;
		}
}

int rp_stream_refresh(struct rp_stream *s)
{
	int r = s->dead ? 0 : uev_ring_reader_refresh(s->rd);

	return r < 0 ? read_failed(s, r) : 0;
}

int rp_stream_dead(const struct rp_stream *s)
{
	return s->dead;
}

const struct rp_file *rp_stream_file(const struct rp_stream *s)
{
	return s->f;
}
