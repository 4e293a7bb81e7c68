/* SPDX-License-Identifier: MIT */
/*
 * A ring file decoded run by run (ringdecode.h): each run's formats parsed
 * into a tep handle, its pages decoded with it, every record handed to the
 * caller with the run it belongs to.
 *
 * Tep handles are kept across decodes (tep-kept.c). Files are decoded
 * again and again with the same formats (a fuzzer above all: thousands of
 * times a second, and libtraceevent leaks a few bytes on some malformed
 * formats, which makes every such decode a leak scan of the whole
 * process), so a run's handle is kept with its steps (the header page and
 * the event formats, in file order), and a later run whose steps are the
 * same uses it instead of parsing the texts again.
 *
 * What a record is decoded with is always what a fresh parse of the run's
 * steps so far would give. Real files bring an event's format where the
 * event first appears, between pages, so a run usually needs the handle
 * at several points of its steps. A prescan of the file counts and hashes
 * each run's steps; a kept handle with all of the run's steps (and clean,
 * tkept_usable) is used from the first record on, the decoder told which
 * ids the run has brought so far (uev_decoder_visible) and taking the
 * others as ids without a format. While a run's steps match a kept
 * handle's, nothing is parsed; a step the handle does not have next (a
 * hash that lied) gives the run a handle of its own, parsed from its steps
 * so far (vetted as always, uev_format_parse), and the decoder moves to
 * it. A handle changed after records were decoded with it in a way a
 * later run could not undo (a header page, an unclean event) is not kept.
 * A step that failed reports again as it did. The decoder's layout (byte
 * order, long size) is part of the key: it is set on the handle.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event-parse.h>

#include "tep-kept.h"
#include "uev-grow.h"
#include "ringdecode.h"

struct ann {
	uint32_t id;
	char *def;
};

/* A run's steps in all, as the prescan found them. */
struct runsteps {
	size_t n;
	uint64_t hash;
};

struct state {
	struct ann *ann; /* every announcement in the file (see below) */
	size_t nann, ann_cap;
	struct runsteps *runs; /* every run of the file, in order (prescan) */
	size_t nruns, runs_cap, irun; /* irun: runs started in the decode so far */
	struct uev_ringdec_run run;
	struct tep_handle *tep; /* own->tep once a record needs one */
	struct uev_decoder *dec;
	int in_run; /* a RUN_START of a layout read was seen */
	unsigned layout;
	struct tkept *own;            /* this run's handle and its steps */
	struct tkept *cand[TKEPT_MAX]; /* kept handles whose steps match so far */
	size_t ncand, at;             /* at: steps of this run so far */
	uint64_t known[65536 / 64]; /* bit per event id: format parsed in this run */
	uev_ringdec_fn fn;
	void *ctx;
	uev_ring_report_fn report;
	void *rctx;
	const char *path;
	char *err;
	size_t errsize;
	int refused; /* a run of a layout no decoder reads: said in err */
	int foreign; /* the run's pages are not laid out as this machine's */
};

static void say_failed(struct state *s, uint64_t off)
{
	if (s->report)
		s->report(s->rctx, UEV_RING_DAMAGE, off, "an event format in the file does not parse; skipped");
}

/* A handle of its own for the run, made by the steps so far (those of
 * the kept handle @from, the first @at of them), the candidates given
 * back. 0, -ENOMEM. */
static int own_from(struct state *s, const struct tkept *from)
{
	struct tkept *k = tkept_new(s->layout);
	int e = 0, failed;

	if (!k)
		return -ENOMEM;
	/* each step's report was made when the step first came */
	for (size_t i = 0; from && i < s->at && e == 0; i++)
		e = tkept_step(k, from->steps[i].id, from->steps[i].system, from->steps[i].text,
			       s->run.long_size, &failed);
	for (size_t i = 0; i < s->ncand; i++)
		if (s->cand[i] != from)
			tkept_put(s->cand[i]);
	s->ncand = 0;
	if (from)
		tkept_put((struct tkept *)from);
	if (e < 0) {
		tkept_free(k);
		return e;
	}
	s->own = k;
	return 0;
}

/* What the decoder may look up: with a clean handle, the ids the run has
 * brought (the handle may hold more); an unclean one is only ever used
 * holding exactly the run's steps, all of it. */
static void sync_visible(struct state *s)
{
	if (s->dec)
		uev_decoder_visible(s->dec, s->own && s->own->clean ? s->known : NULL);
}

/* The run's handle, a kept one, does not have the step that came next:
 * one of the run's own, from the steps so far, the decoder on it. */
static int own_again(struct state *s)
{
	struct tkept *k = s->own;
	int e;

	s->own = NULL;
	if ((e = own_from(s, k)) == 0 && s->dec) {
		s->tep = s->own->tep;
		s->own->handed = 1;
		uev_decoder_set_tep(s->dec, s->tep);
	}
	return e;
}

/* The next step of the run: followed on the kept handles while one
 * matches, else taken on the run's own handle. 0, -ENOMEM. */
static int step(struct state *s, int id, const char *system, const char *text, uint64_t off)
{
	size_t w = 0;
	int e, failed;

	if (s->own && s->own->n > s->at) {
		if (tkept_step_is(s->own, s->at, id, system, text)) {
			if (s->own->steps[s->at++].failed)
				say_failed(s, off);
			return 0;
		}
		if ((e = own_again(s)) < 0)
			return e;
	} else if (!s->own) {
		struct tkept *from = s->ncand ? s->cand[0] : NULL;

		for (size_t i = 0; i < s->ncand; i++) {
			struct tkept *k = s->cand[i];

			if (tkept_step_is(k, s->at, id, system, text))
				s->cand[w++] = k;
			else if (k != from)
				tkept_put(k);
		}
		if (w) {
			if (from && s->cand[0] != from)
				tkept_put(from);
			s->ncand = w;
			if (s->cand[0]->steps[s->at++].failed)
				say_failed(s, off);
			return 0;
		}
		/* none matches: from (if any) still holds the steps so far */
		s->cand[0] = from;
		s->ncand = from ? 1 : 0;
		if ((e = own_from(s, from)) < 0)
			return e;
	}
	s->at++;
	if ((e = tkept_step(s->own, id, system, text, s->run.long_size, &failed)) < 0)
		return e;
	if (failed)
		say_failed(s, off);
	/* After records were decoded: a run like this one needs the handle
	 * without this step there, and again with it here. Only a clean
	 * handle can be both (the later ids hidden); a header page, or an
	 * event that made it unclean, leaves one for this run only. */
	if (id < 0 || !s->own->clean)
		s->own->spoilt |= s->own->handed;
	sync_visible(s);
	return 0;
}

/* The handle for a record to decode: one of the candidates that can stand
 * for the run's steps so far (tkept_usable), else one parsed from them. */
static int need_tep(struct state *s)
{
	/* s->irun runs have started, this one the last (prescan) */
	struct runsteps none = { 0, 0 };
	const struct runsteps *rs = s->irun && s->irun <= s->nruns ? &s->runs[s->irun - 1] : &none;

	if (!s->own) {
		for (size_t i = 0; i < s->ncand; i++)
			if (tkept_usable(s->cand[i], s->at, rs->n, rs->hash)) {
				s->own = s->cand[i];
				s->cand[i] = s->cand[--s->ncand];
				break;
			}
		if (!s->own && own_from(s, s->ncand ? s->cand[0] : NULL) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < s->ncand; i++)
			tkept_put(s->cand[i]);
		s->ncand = 0;
	}
	s->own->handed = 1;
	s->tep = s->own->tep;
	return 0;
}

static int trampoline(void *ctx, const struct uev_rec *r)
{
	struct state *s = ctx;

	return s->fn(s->ctx, &s->run, r);
}

/* The run is over: its handle is kept, the candidates given back. */
static void end_run(struct state *s)
{
	uev_decoder_free(s->dec);
	s->dec = NULL;
	s->tep = NULL;
	tkept_put(s->own); /* freed if spoilt */
	s->own = NULL;
	for (size_t i = 0; i < s->ncand; i++)
		tkept_put(s->cand[i]);
	s->ncand = 0;
	s->at = 0;
	s->in_run = 0;
}

/* A new run: new ids, so a new tep handle and decoder. */
static int new_run(struct state *s, const struct uev_ring_rec *rec)
{
	struct uev_ring_run_start_rec rs;
	struct uev_ring_run_info *ri = &rs.info;

	end_run(s);
	s->irun++;
	memset(s->known, 0, sizeof(s->known));
	memset(&s->run, 0, sizeof(s->run));
	s->run.run_id = rec->run_id;
	if (uev_ring_rec_run_start(rec, &rs) < 0) {
		/* malformed, nothing to say: laid out as the oldest writers' */
		ri->byte_order = UEV_RING_LITTLE_ENDIAN;
		ri->long_size = 8;
	}
	memcpy(s->run.boot_id, ri->boot_id, sizeof(ri->boot_id));
	memcpy(s->run.kernel_release, ri->kernel_release, sizeof(ri->kernel_release));
	memcpy(s->run.seat, ri->seat, sizeof(ri->seat));
	memcpy(s->run.trace_clock, ri->trace_clock, sizeof(ri->trace_clock));
	memcpy(s->run.host, ri->host, sizeof(ri->host));
	s->run.start_realtime_ns = ri->start_realtime_ns;
	s->run.byte_order = ri->byte_order;
	s->run.long_size = ri->long_size;
	s->foreign = !uev_ring_layout_is_host(ri);
	if (uev_ring_layout_check(ri, s->path, rec->run_id, s->err, s->errsize) < 0) {
		s->refused = 1;
		return -ENOTSUP;
	}
	s->layout = s->foreign ? 1u << 16 | (unsigned)s->run.byte_order << 8 | s->run.long_size : 0;
	s->ncand = tkept_take(s->layout, s->cand);
	s->in_run = 1;
	return 0;
}

/* Is FORMAT record @f a step of its run (@known: the ids the run has had
 * so far, updated)? 1 with *id (-1 the header page), or 0: an event id
 * seen before in the run, or beyond the ids tracked, is not. The one rule
 * for the prescan and the decode, which must count the same steps. */
static int format_step(const struct uev_ring_format_rec *f, uint64_t *known, int *id)
{
	if (f->kind == UEV_RING_FMT_HEADER_PAGE) {
		*id = -1;
		return 1;
	}
	if (f->kind != UEV_RING_FMT_EVENT || f->id >= 65536 || (known[f->id / 64] >> (f->id % 64) & 1))
		return 0;
	known[f->id / 64] |= 1ull << (f->id % 64);
	*id = (int)f->id;
	return 1;
}

static int format(struct state *s, const struct uev_ring_rec *rec)
{
	struct uev_ring_format_rec f;
	int id;

	if (!s->in_run || uev_ring_rec_format(rec, &f) < 0 || !format_step(&f, s->known, &id))
		return 0;
	return step(s, id, id < 0 ? "" : f.system, f.text, rec->offset);
}

/* What the prescan learns from one record: a run's steps (as format() will
 * take them), an announcement. 0, -ENOMEM. */
static int prescan_rec(struct state *s, const struct uev_ring_rec *rec, uint64_t *cur, uint64_t *known)
{
	struct uev_ring_announce_rec a;
	struct uev_ring_format_rec f;
	struct runsteps *rs = s->nruns ? &s->runs[s->nruns - 1] : NULL;
	int id;

	if (rec->type == UEV_RING_RUN_START && rec->run_id != *cur) {
		*cur = rec->run_id;
		memset(known, 0, sizeof(s->known));
		if (UEV_GROW(s->runs, s->runs_cap, s->nruns + 1) < 0)
			return -ENOMEM;
		s->runs[s->nruns++] = (struct runsteps){ 0, 0 };
	} else if (rec->type == UEV_RING_FORMAT && rs && uev_ring_rec_format(rec, &f) == 0) {
		if (format_step(&f, known, &id)) {
			rs->n++;
			rs->hash = uev_tstep_hash(rs->hash, id, id < 0 ? "" : f.system, f.text);
		}
	} else if (uev_ring_rec_announce(rec, &a) == 0) {
		if (UEV_GROW(s->ann, s->ann_cap, s->nann + 1) < 0 || !(s->ann[s->nann].def = strdup(a.def)))
			return -ENOMEM;
		s->ann[s->nann++].id = a.id;
	}
	return 0;
}

/*
 * Before decoding: every run's steps in all (the kept handle that has all
 * of them can be used from its first record on), and every announcement of
 * the file. Pages come CPU by CPU, so a marker record can come before the
 * page of another CPU that holds its announcement. Marker ids are
 * content-addressed (the same id means the same definition in every run),
 * so every announcement of the file is learnt up front, and the decoder of
 * each run starts knowing them all.
 */
static int prescan(struct state *s, const char *path)
{
	struct uev_ring_reader *r;
	struct uev_ring_rec rec;
	uint64_t cur = 0, *known = calloc(65536 / 64, sizeof(uint64_t));
	char err[256];
	int ret = known ? uev_ring_reader_open(&r, path, NULL, NULL, err, sizeof(err)) : -ENOMEM;

	if (ret < 0) {
		free(known);
		return ret;
	}
	while ((ret = uev_ring_reader_next(r, &rec)) > 0)
		if ((ret = prescan_rec(s, &rec, &cur, known)) < 0)
			break;
	uev_ring_reader_close(r);
	free(known);
	return ret < 0 ? ret : 0;
}

static int make_decoder(struct state *s)
{
	if (s->dec)
		return 0;
	if (need_tep(s) < 0 || uev_decoder_new(&s->dec, s->tep) < 0)
		return -ENOMEM;
	sync_visible(s);
	/* checked at RUN_START: a layout the decoder reads */
	if (s->foreign && uev_decoder_layout(s->dec, s->run.byte_order == UEV_RING_BIG_ENDIAN, s->run.long_size) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < s->nann; i++)
		uev_decoder_announce(s->dec, s->ann[i].id, s->ann[i].def);
	return 0;
}

static int page(struct state *s, const struct uev_ring_rec *rec)
{
	if (!s->in_run)
		return 0;
	if (make_decoder(s) < 0)
		return -ENOMEM;
	/* A page is at most one sub-buffer; kbuffer reads only what its
	 * header says is committed, so a cut-down copy is enough, once the
	 * decoder has checked that the record holds all of that. */
	int r = uev_decoder_page(s->dec, (void *)rec->payload, rec->len, rec->cpu, trampoline, s);

	if (r == -EBADMSG) {
		char msg[160];

		snprintf(msg, sizeof(msg), "PAGE of CPU %u: %s; skipped", rec->cpu, uev_decoder_why(s->dec));
		if (s->report)
			s->report(s->rctx, UEV_RING_DAMAGE, rec->offset, msg);
		return 0;
	}
	return r;
}

int uev_ring_decode(const char *path, uev_ring_report_fn report, void *rctx,
		    uev_ringdec_fn fn, void *ctx, char *err, size_t errsize)
{
	struct state s = { .fn = fn, .ctx = ctx, .report = report, .rctx = rctx, .path = path,
			   .err = err, .errsize = errsize };
	struct uev_ring_reader *r;
	struct uev_ring_rec rec;
	int ret;

	ret = uev_ring_reader_open(&r, path, report, rctx, err, errsize);
	if (ret < 0)
		return ret;
	ret = prescan(&s, path);
	while (ret == 0 && (ret = uev_ring_reader_next(r, &rec)) > 0) {
		struct uev_ring_announce_rec a;
		struct uev_ring_sync sy;

		if (rec.type == UEV_RING_RUN_START && rec.run_id != s.run.run_id)
			ret = new_run(&s, &rec);
		else if (rec.type == UEV_RING_FORMAT)
			ret = format(&s, &rec);
		else if (rec.type == UEV_RING_SYNC && uev_ring_rec_sync(&rec, &sy) == 0) {
			s.run.sync_trace_ns = sy.trace_ns;
			s.run.sync_realtime_ns = sy.realtime_ns;
			s.run.have_sync = 1;
		} else if (rec.type == UEV_RING_ANNOUNCE && s.in_run &&
			   uev_ring_rec_announce(&rec, &a) == 0) {
			if (make_decoder(&s) < 0)
				ret = -ENOMEM;
			if (s.dec)
				uev_decoder_announce(s.dec, a.id, a.def);
		} else if (rec.type == UEV_RING_PAGE)
			ret = page(&s, &rec);
		if (ret < 0)
			break;
		ret = 0;
	}
	end_run(&s);
	for (size_t i = 0; i < s.nann; i++)
		free(s.ann[i].def);
	free(s.ann);
	free(s.runs);
	/* A read that failed says where (uev_ring_reader_error). */
	if (ret < 0 && !s.refused)
		snprintf(err, errsize, "%s: %s", path,
			 uev_ring_reader_error(r)[0] ? uev_ring_reader_error(r) : strerror(-ret));
	uev_ring_reader_close(r);
	return ret < 0 ? ret : 0;
}
