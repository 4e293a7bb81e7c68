/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event-parse.h>

#include "format-vet.h"
#include "ringdecode.h"

struct ann {
	uint32_t id;
	char *def;
};

struct state {
	struct ann *ann; /* every announcement in the file (see below) */
	size_t nann;
	struct uev_ringdec_run run;
	struct tep_handle *tep;
	struct uev_decoder *dec;
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

static int trampoline(void *ctx, const struct uev_rec *r)
{
	struct state *s = ctx;

	return s->fn(s->ctx, &s->run, r);
}

/* A new run: new ids, so a new tep handle and decoder. */
static int new_run(struct state *s, const struct uev_ring_rec *rec)
{
	struct uev_ring_run_info ri;
	uint64_t id;

	uev_decoder_free(s->dec);
	s->dec = NULL;
	tep_free(s->tep);
	memset(s->known, 0, sizeof(s->known));
	memset(&s->run, 0, sizeof(s->run));
	s->run.run_id = rec->run_id;
	if (uev_ring_rec_run_start(rec, &id, &ri) < 0) {
		/* too short to say anything: laid out as the oldest writers' */
		memset(&ri, 0, sizeof(ri));
		ri.byte_order = UEV_RING_LITTLE_ENDIAN;
		ri.long_size = 8;
	}
	memcpy(s->run.boot_id, ri.boot_id, sizeof(ri.boot_id));
	memcpy(s->run.kernel_release, ri.kernel_release, sizeof(ri.kernel_release));
	memcpy(s->run.seat, ri.seat, sizeof(ri.seat));
	memcpy(s->run.trace_clock, ri.trace_clock, sizeof(ri.trace_clock));
	memcpy(s->run.host, ri.host, sizeof(ri.host));
	s->run.start_realtime_ns = ri.start_realtime_ns;
	s->run.byte_order = ri.byte_order;
	s->run.long_size = ri.long_size;
	s->foreign = !uev_ring_layout_is_host(&ri);
	if (uev_ring_layout_check(&ri, s->path, rec->run_id, s->err, s->errsize) < 0) {
		s->refused = 1;
		return -ENOTSUP;
	}
	s->tep = tep_alloc();
	return s->tep ? 0 : -ENOMEM;
}

static void format(struct state *s, const struct uev_ring_rec *rec)
{
	struct uev_ring_format_rec f;

	if (!s->tep || uev_ring_rec_format(rec, &f) < 0)
		return;
	if (f.kind == UEV_RING_FMT_HEADER_PAGE) {
		tep_parse_header_page(s->tep, (char *)f.text, strlen(f.text), s->run.long_size);
	} else if (f.kind == UEV_RING_FMT_EVENT && f.id < 65536 && !(s->known[f.id / 64] >> (f.id % 64) & 1)) {
		s->known[f.id / 64] |= 1ull << (f.id % 64);
		if (uev_format_parse(s->tep, f.system, f.text) < 0 && s->report)
			s->report(s->rctx, UEV_RING_DAMAGE, rec->offset, "an event format in the file does not parse; skipped");
	}
}

/*
 * Pages come CPU by CPU, so a marker record can come before the page of
 * another CPU that holds its announcement. Marker ids are content-addressed
 * (the same id means the same definition in every run), so every
 * announcement of the file is learnt up front, and the decoder of each run
 * starts knowing them all.
 */
static int collect_announcements(struct state *s, const char *path)
{
	struct uev_ring_reader *r;
	struct uev_ring_rec rec;
	char err[256];
	int ret = uev_ring_reader_open(&r, path, NULL, NULL, err, sizeof(err));

	if (ret < 0)
		return ret;
	while ((ret = uev_ring_reader_next(r, &rec)) > 0) {
		struct ann *n;
		const char *def;
		uint32_t id;

		if (rec.type != UEV_RING_ANNOUNCE || uev_ring_rec_announce(&rec, &id, &def) < 0)
			continue;
		n = realloc(s->ann, (s->nann + 1) * sizeof(*n));
		if (!n) {
			ret = -ENOMEM;
			break;
		}
		s->ann = n;
		n[s->nann].id = id;
		n[s->nann].def = strdup(def);
		if (!n[s->nann].def) {
			ret = -ENOMEM;
			break;
		}
		s->nann++;
	}
	uev_ring_reader_close(r);
	return ret < 0 ? ret : 0;
}

static int make_decoder(struct state *s)
{
	if (s->dec)
		return 0;
	if (uev_decoder_new(&s->dec, s->tep) < 0)
		return -ENOMEM;
	/* checked at RUN_START: a layout the decoder reads */
	if (s->foreign && uev_decoder_layout(s->dec, s->run.byte_order == UEV_RING_BIG_ENDIAN, s->run.long_size) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < s->nann; i++)
		uev_decoder_announce(s->dec, s->ann[i].id, s->ann[i].def);
	return 0;
}

static int page(struct state *s, const struct uev_ring_rec *rec)
{
	if (!s->tep)
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
	ret = collect_announcements(&s, path);
	if (ret < 0) {
		uev_ring_reader_close(r);
		for (size_t i = 0; i < s.nann; i++)
			free(s.ann[i].def);
		free(s.ann);
		return ret;
	}
	while ((ret = uev_ring_reader_next(r, &rec)) > 0) {
		struct uev_ring_sync sy;
		const char *def;
		uint32_t id;

		if (rec.type == UEV_RING_RUN_START && rec.run_id != s.run.run_id)
			ret = new_run(&s, &rec);
		else if (rec.type == UEV_RING_FORMAT)
			format(&s, &rec);
		else if (rec.type == UEV_RING_SYNC && uev_ring_rec_sync(&rec, &sy) == 0) {
			s.run.sync_trace_ns = sy.trace_ns;
			s.run.sync_realtime_ns = sy.realtime_ns;
			s.run.have_sync = 1;
		} else if (rec.type == UEV_RING_ANNOUNCE && s.tep &&
			   uev_ring_rec_announce(&rec, &id, &def) == 0) {
			if (make_decoder(&s) < 0)
				ret = -ENOMEM;
			if (s.dec)
				uev_decoder_announce(s.dec, id, def);
		} else if (rec.type == UEV_RING_PAGE)
			ret = page(&s, &rec);
		if (ret < 0)
			break;
		ret = 0;
	}
	uev_decoder_free(s.dec);
	tep_free(s.tep);
	for (size_t i = 0; i < s.nann; i++)
		free(s.ann[i].def);
	free(s.ann);
	/* A read that failed says where (uev_ring_reader_error). */
	if (ret < 0 && !s.refused)
		snprintf(err, errsize, "%s: %s", path,
			 uev_ring_reader_error(r)[0] ? uev_ring_reader_error(r) : strerror(-ret));
	uev_ring_reader_close(r);
	return ret < 0 ? ret : 0;
}
