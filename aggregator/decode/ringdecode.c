/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event-parse.h>

#include "format-vet.h"
#include "uev-grow.h"
#include "ringdecode.h"


/*
 * Tep handles kept across decodes. A run's handle is made by a sequence of
 * steps, the header page and the event formats in file order, and the
 * same sequence makes the same handle. Files are decoded again and again
 * with the same formats (a fuzzer above all: thousands of times a second,
 * and libtraceevent leaks a few bytes on some malformed formats, which
 * makes every such decode a leak scan of the whole process), so a run's
 * handle is kept with its steps, and a later run whose steps are the same
 * so far uses it instead of parsing the texts again.
 *
 * The result is the very handle a fresh parse would give at every point a
 * record is decoded: while a run's steps match a kept handle's, nothing is
 * parsed and no record is decoded; a record to decode (PAGE, ANNOUNCE)
 * takes the kept handle only when its steps are exactly the run's so far,
 * else a new handle is parsed from the steps so far (vetted as always,
 * uev_format_parse). A step that failed reports again as it did. The
 * decoder's layout (byte order, long size) is part of the key: it is set
 * on the handle.
 */
struct tstep {
	uint8_t event; /* 0 the header page, 1 an event format */
	uint8_t failed; /* did not parse: reported */
	char *system, *text;
};

struct tkept {
	struct tep_handle *tep;
	struct tstep *steps;
	size_t n, cap, bytes;
	unsigned layout;
	int handed; /* records were decoded with it: a later step makes it one no later run can use */
	int spoilt;
};

#define TKEPT_MAX 8u
#define TKEPT_BYTES (1u << 20) /* text of one handle's steps: larger is not kept */

static pthread_mutex_t tkept_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tkept *tkept[TKEPT_MAX]; /* not in use; [0] the newest */

struct ann {
	uint32_t id;
	char *def;
};

struct state {
	struct ann *ann; /* every announcement in the file (see below) */
	size_t nann, ann_cap;
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

static void tkept_free(struct tkept *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++) {
		free(k->steps[i].system);
		free(k->steps[i].text);
	}
	free(k->steps);
	tep_free(k->tep);
	free(k);
}

/* Back to the kept ones, the oldest giving way. */
static void tkept_put(struct tkept *k)
{
	struct tkept *out;

	if (!k)
		return;
	k->handed = 0;
	if (k->bytes > TKEPT_BYTES) {
		tkept_free(k);
		return;
	}
	pthread_mutex_lock(&tkept_lock);
	out = tkept[TKEPT_MAX - 1];
	memmove(tkept + 1, tkept, (TKEPT_MAX - 1) * sizeof(tkept[0]));
	tkept[0] = k;
	pthread_mutex_unlock(&tkept_lock);
	tkept_free(out);
}

/* Take every kept handle of @layout into @c (at most TKEPT_MAX). */
static size_t tkept_take(unsigned layout, struct tkept **c)
{
	size_t n = 0, w = 0;

	pthread_mutex_lock(&tkept_lock);
	for (unsigned i = 0; i < TKEPT_MAX; i++) {
		if (tkept[i] && tkept[i]->layout == layout)
			c[n++] = tkept[i];
		else
			tkept[w++] = tkept[i];
	}
	while (w < TKEPT_MAX)
		tkept[w++] = NULL;
	pthread_mutex_unlock(&tkept_lock);
	return n;
}

/* One step on @k's handle, remembered: 0, or -ENOMEM. */
static int tstep_do(struct state *s, struct tkept *k, int event, const char *system, const char *text,
		    uint64_t off)
{
	struct tstep *t;
	int failed = 0;

	if (!event)
		tep_parse_header_page(k->tep, (char *)text, strlen(text), s->run.long_size);
	else if (uev_format_parse(k->tep, system, text) < 0)
		failed = 1;
	if (failed && s->report)
		s->report(s->rctx, UEV_RING_DAMAGE, off, "an event format in the file does not parse; skipped");
	if (UEV_GROW(k->steps, k->cap, k->n + 1) < 0)
		return -ENOMEM;
	t = &k->steps[k->n];
	t->system = strdup(system);
	t->text = strdup(text);
	if (!t->system || !t->text) {
		free(t->system);
		free(t->text);
		return -ENOMEM;
	}
	t->event = (uint8_t)event;
	t->failed = (uint8_t)failed;
	k->n++;
	k->bytes += strlen(system) + strlen(text) + 2;
	return 0;
}

static int trampoline(void *ctx, const struct uev_rec *r)
{
	struct state *s = ctx;

	return s->fn(s->ctx, &s->run, r);
}

static int step_eq(const struct tstep *t, int event, const char *system, const char *text)
{
	return t->event == event && !strcmp(t->system, system) && !strcmp(t->text, text);
}

/* A handle of its own for the run, made by the steps so far (those of
 * the kept handle @from, the first @at of them), the candidates given
 * back. 0, -ENOMEM. */
static int own_from(struct state *s, const struct tkept *from)
{
	struct tkept *k = calloc(1, sizeof(*k));
	int e = 0;

	if (!k || !(k->tep = tep_alloc())) {
		free(k);
		return -ENOMEM;
	}
	k->layout = s->layout;
	for (size_t i = 0; from && i < s->at && e == 0; i++) {
		const struct tstep *t = &from->steps[i];

		/* its report was made when the step first came */
		uev_ring_report_fn report = s->report;

		s->report = NULL;
		e = tstep_do(s, k, t->event, t->system, t->text, 0);
		s->report = report;
	}
	for (size_t i = 0; i < s->ncand; i++)
		tkept_put(s->cand[i]);
	s->ncand = 0;
	if (e < 0) {
		tkept_free(k);
		return e;
	}
	s->own = k;
	return 0;
}

/* The next step of the run: followed on the kept handles while one
 * matches, else taken on the run's own handle. 0, -ENOMEM. */
static int step(struct state *s, int event, const char *system, const char *text, uint64_t off)
{
	struct tkept *from = s->ncand ? s->cand[0] : NULL;
	size_t w = 0;
	int e;

	if (!s->own) {
		for (size_t i = 0; i < s->ncand; i++) {
			struct tkept *k = s->cand[i];

			if (k->n > s->at && step_eq(&k->steps[s->at], event, system, text))
				s->cand[w++] = k;
			else if (k != from)
				tkept_put(k);
		}
		if (w) {
			if (from && s->cand[0] != from)
				tkept_put(from);
			s->ncand = w;
			if (s->cand[0]->steps[s->at].failed && s->report)
				s->report(s->rctx, UEV_RING_DAMAGE, off,
					  "an event format in the file does not parse; skipped");
			s->at++;
			return 0;
		}
		/* none matches: from (if any) still holds the steps so far */
		s->ncand = from ? 1 : 0;
		if ((e = own_from(s, from)) < 0)
			return e;
	}
	s->at++;
	/* A record was decoded before this step: a run like this one needs
	 * the handle without it there, and again with it here. Such a
	 * handle is used for this run only. */
	s->own->spoilt |= s->own->handed;
	return tstep_do(s, s->own, event, system, text, off);
}

/* The handle for a record to decode: exactly the run's steps so far. */
static int need_tep(struct state *s)
{
	if (!s->own) {
		for (size_t i = 0; i < s->ncand; i++)
			if (s->cand[i]->n == s->at) {
				struct tkept *k = s->cand[i];

				s->cand[i] = s->cand[--s->ncand];
				s->own = k;
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

/* The run is over: its handle is kept, the candidates given back. */
static void end_run(struct state *s)
{
	uev_decoder_free(s->dec);
	s->dec = NULL;
	s->tep = NULL;
	if (s->own && s->own->spoilt)
		tkept_free(s->own);
	else if (s->own)
		tkept_put(s->own);
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

static int format(struct state *s, const struct uev_ring_rec *rec)
{
	struct uev_ring_format_rec f;

	if (!s->in_run || uev_ring_rec_format(rec, &f) < 0)
		return 0;
	if (f.kind == UEV_RING_FMT_HEADER_PAGE)
		return step(s, 0, "", f.text, rec->offset);
	if (f.kind == UEV_RING_FMT_EVENT && f.id < 65536 && !(s->known[f.id / 64] >> (f.id % 64) & 1)) {
		s->known[f.id / 64] |= 1ull << (f.id % 64);
		return step(s, 1, f.system, f.text, rec->offset);
	}
	return 0;
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
		struct uev_ring_announce_rec a;

		if (uev_ring_rec_announce(&rec, &a) < 0)
			continue;
		if (UEV_GROW(s->ann, s->ann_cap, s->nann + 1) < 0) {
			ret = -ENOMEM;
			break;
		}
		s->ann[s->nann].id = a.id;
		s->ann[s->nann].def = strdup(a.def);
		if (!s->ann[s->nann].def) {
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
	if (need_tep(s) < 0 || uev_decoder_new(&s->dec, s->tep) < 0)
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
	ret = collect_announcements(&s, path);
	if (ret < 0) {
		uev_ring_reader_close(r);
		for (size_t i = 0; i < s.nann; i++)
			free(s.ann[i].def);
		free(s.ann);
		return ret;
	}
	while ((ret = uev_ring_reader_next(r, &rec)) > 0) {
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
	/* A read that failed says where (uev_ring_reader_error). */
	if (ret < 0 && !s.refused)
		snprintf(err, errsize, "%s: %s", path,
			 uev_ring_reader_error(r)[0] ? uev_ring_reader_error(r) : strerror(-ret));
	uev_ring_reader_close(r);
	return ret < 0 ? ret : 0;
}
