/* SPDX-License-Identifier: MIT */
/*
 * The previous boot's persistent pages into the ring file (boot-import.h).
 *
 * Why a run of its own: event ids mean something only within a run (a
 * user event's id is assigned when it is registered, so it differs from
 * boot to boot), and every reader keys formats by run. A run that carries
 * the recording run's formats, announcements and sync point, and says
 * which run that was, is decoded by any reader exactly as that run's own
 * pages, and merges with them by time (same boot, same trace clock).
 *
 * Why leave events out: during that boot the seat's instance and the
 * persistent one recorded the same events, each stamping its own copy, and
 * what the runs of that boot wrote before the crash is in the file
 * already. The events they wrote from the persistent instance's oldest on
 * are collected here (boot-cut.c matches the copies).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event-parse.h>
#include <kbuffer.h>

#include "boot-import.h"
#include "uev-decode.h"
#include "uev-grow.h"

/* ---- The run that recorded the previous boot --------------------------- */

struct load {
	struct uev_boot_prev *p;
	const char *boot_id;
	uint64_t order;
	int seen;
	uint64_t *runs;         /* the runs of that boot met so far */
	size_t nruns, capruns;
	struct kbuffer *kb;
};

static char *dup_or(const char *s, int *fail)
{
	char *d = strdup(s ? s : "");

	if (!d)
		*fail = 1;
	return d;
}

static int keep_format(struct load *l, const struct uev_ring_rec *rec)
{
	struct uev_boot_prev *p = l->p;
	struct uev_ring_format_rec f;
	struct uev_boot_fmt *x = NULL;
	int fail = 0;

	if (uev_ring_rec_format(rec, &f) < 0)
		return 0; /* reported by the reader's caller as malformed: skipped */
	for (size_t i = 0; i < p->nfmt && !x; i++)
		if (p->fmt[i].kind == f.kind && p->fmt[i].id == f.id)
			x = &p->fmt[i];
	if (!x) {
		if (UEV_GROW(p->fmt, p->capfmt, p->nfmt + 1) < 0)
			return -ENOMEM;
		x = &p->fmt[p->nfmt++];
		memset(x, 0, sizeof(*x));
	}
	free(x->system);
	free(x->name);
	free(x->text);
	x->kind = f.kind; /* the latest FORMAT of an id wins */
	x->id = f.id;
	x->system = dup_or(f.system, &fail);
	x->name = dup_or(f.name, &fail);
	x->text = dup_or(f.text, &fail);
	return fail ? -ENOMEM : 0;
}

static int keep_announce(struct load *l, const struct uev_ring_rec *rec)
{
	struct uev_boot_prev *p = l->p;
	struct uev_ring_announce_rec a;
	struct uev_boot_ann *x = NULL;
	int fail = 0;

	if (uev_ring_rec_announce(rec, &a) < 0)
		return 0;
	for (size_t i = 0; i < p->nann && !x; i++)
		if (p->ann[i].id == a.id)
			x = &p->ann[i];
	if (!x) {
		if (UEV_GROW(p->ann, p->capann, p->nann + 1) < 0)
			return -ENOMEM;
		x = &p->ann[p->nann++];
		x->def = NULL;
	}
	free(x->def);
	x->id = a.id;
	x->def = dup_or(a.def, &fail);
	return fail ? -ENOMEM : 0;
}

static int keep_comm(struct load *l, const struct uev_ring_rec *rec)
{
	struct uev_boot_prev *p = l->p;
	struct uev_ring_comm_rec c;

	if (uev_ring_rec_comm(rec, &c) < 0)
		return 0;
	if (UEV_GROW(p->names, p->capnames, p->nnames + c.count) < 0)
		return -ENOMEM;
	for (uint32_t i = 0; i < c.count; i++) {
		struct uev_boot_name *n = &p->names[p->nnames++];

		uev_ring_comm_entry(&c, i, &n->pid, n->comm);
		n->order = l->order++;
	}
	return 0;
}

/* Where the meaningful bytes of @body end: its last field, or the end of
 * its last dynamic array (data_loc: u32 offset | length << 16; rel_loc:
 * the offset counts from the end of the field). */
static uint32_t meaningful(struct tep_handle *tep, const uint8_t *body, uint32_t size)
{
	struct tep_event *ev;
	uint16_t type;
	uint32_t end = 0;

	if (!tep || size < 8)
		return size;
	memcpy(&type, body, 2);
	if (!(ev = tep_find_event(tep, type)))
		return size;
	for (int list = 0; list < 2; list++)
		for (struct tep_format_field *f = list ? ev->format.fields : ev->format.common_fields; f; f = f->next) {
			uint32_t fend = (uint32_t)(f->offset + f->size), v, off;

			if ((f->flags & TEP_FIELD_IS_DYNAMIC) && f->size == 4 && fend <= size) {
				memcpy(&v, body + f->offset, 4);
				off = (v & 0xffff) + ((f->flags & TEP_FIELD_IS_RELATIVE) ? fend : 0);
				if (off + (v >> 16) > fend)
					fend = off + (v >> 16);
			}
			if (fend > end)
				end = fend;
		}
	return end && end < size ? end : size;
}

/* Bytes 2 and 3 of every event are common_flags and common_preempt_count
 * (struct trace_entry: u16 type, u8 flags, u8 preempt_count, s32 pid): the
 * context as each instance's copy was taken, which may differ between the
 * two copies (a need-resched flag set in between). The rest must match. */
uint64_t uev_boot_event_hash(struct tep_handle *tep, const void *body, uint32_t size)
{
	const uint8_t *b = body;
	uint32_t n = meaningful(tep, b, size);
	uint64_t h = 14695981039346656037ull;

	for (uint32_t i = 0; i < n; i++)
		if (i != 2 && i != 3)
			h = (h ^ b[i]) * 1099511628211ull;
	return (h ^ n) * 1099511628211ull;
}

int uev_boot_seen_add(struct uev_boot_prev *p, unsigned cpu, uint64_t ts, const void *body, uint32_t size)
{
	uint8_t *copy;

	if (p->nseen >= UEV_BOOT_SEEN_MAX)
		return 0; /* older copies then stay in: memory stays bounded */
	if (UEV_GROW(p->seen, p->capseen, p->nseen + 1) < 0 || !(copy = malloc(size ? size : 1)))
		return -ENOMEM;
	memcpy(copy, body, size);
	p->seen[p->nseen++] = (struct uev_boot_seen){ 0, ts, cpu, size, 0, copy };
	return 0;
}

static int of_boot(const struct load *l, uint64_t run_id)
{
	for (size_t i = 0; i < l->nruns; i++)
		if (l->runs[i] == run_id)
			return 1;
	return 0;
}

/* A page of a run of that boot: its events from seen_from on. */
static int keep_page(struct load *l, const struct uev_ring_rec *rec)
{
	struct uev_ring_page_rec pg;
	unsigned long long ts;
	int r = 0;

	if (!of_boot(l, rec->run_id) || uev_ring_rec_page(rec, &pg) < 0 || !uev_boot_page_ok(pg.data, pg.len) ||
	    kbuffer_load_subbuffer(l->kb, (void *)pg.data) < 0)
		return 0;
	for (void *d = kbuffer_read_event(l->kb, &ts); d && r == 0; d = kbuffer_next_event(l->kb, &ts))
		if (ts + UEV_BOOT_WINDOW_NS >= l->p->seen_from)
			r = uev_boot_seen_add(l->p, pg.cpu, ts, d, (uint32_t)kbuffer_event_size(l->kb));
	return r;
}

static int load_rec(struct load *l, const struct uev_ring_rec *rec)
{
	struct uev_boot_prev *p = l->p;

	if (rec->type == UEV_RING_RUN_START) {
		struct uev_ring_run_start_rec rs;

		if (uev_ring_rec_run_start(rec, &rs) < 0)
			return 0;
		/* a recovered run of that boot holds nothing the instance has */
		if (!strcmp(rs.info.boot_id, l->boot_id) && !rs.info.recovered_from &&
		    uev_ring_layout_is_host(&rs.info) && !of_boot(l, rs.run_id)) {
			if (UEV_GROW(l->runs, l->capruns, l->nruns + 1) < 0)
				return -ENOMEM;
			l->runs[l->nruns++] = rs.run_id;
		}
		if (rs.run_id == p->run_id) {
			p->info = rs.info;
			l->seen = 1;
		}
		return 0;
	}
	if (rec->type == UEV_RING_PAGE)
		return keep_page(l, rec);
	if (rec->run_id != p->run_id)
		return 0;
	switch (rec->type) {
	case UEV_RING_SYNC:
		if (uev_ring_rec_sync(rec, &p->sync) == 0)
			p->have_sync = 1;
		return 0;
	case UEV_RING_FORMAT:
		return keep_format(l, rec);
	case UEV_RING_ANNOUNCE:
		return keep_announce(l, rec);
	case UEV_RING_COMM:
		return keep_comm(l, rec);
	default:
		return 0;
	}
}

static int by_pid_then_order(const void *a, const void *b)
{
	const struct uev_boot_name *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* One name per pid, the latest. */
static void names_settle(struct uev_boot_prev *p)
{
	size_t k = 0;

	if (p->nnames)
		qsort(p->names, p->nnames, sizeof(*p->names), by_pid_then_order);
	for (size_t i = 0; i < p->nnames; i++) {
		if (k && p->names[k - 1].pid == p->names[i].pid)
			k--;
		p->names[k++] = p->names[i];
	}
	p->nnames = k;
}

/* ---- The two clocks --------------------------------------------------- */

static uint64_t sample(const struct uev_boot_clockmap *m, const struct uev_boot_sync *s)
{
	return m->kind == UEV_BOOT_MAP_BOOT ? s->boot_ns : m->kind == UEV_BOOT_MAP_MONO ? s->mono_ns : s->real_ns;
}

int uev_boot_clockmap_init(struct uev_boot_clockmap *m, const char *run_clock, const char *inst_clock,
			   const struct uev_boot_sync *s, size_t n)
{
	memset(m, 0, sizeof(*m));
	m->s = s;
	m->n = n;
	if (!strcmp(run_clock, inst_clock))
		m->kind = UEV_BOOT_MAP_SAME;
	else if (!strcmp(run_clock, "boot"))
		m->kind = UEV_BOOT_MAP_BOOT;
	else if (!strcmp(run_clock, "mono") || !strcmp(run_clock, "mono_raw"))
		m->kind = UEV_BOOT_MAP_MONO;
	else
		m->kind = UEV_BOOT_MAP_WALL;
	return m->kind == UEV_BOOT_MAP_SAME || n ? 0 : -ENOENT;
}

/* The mark whose @key (instance time, or sample) is nearest @v; the
 * marks are in time order, and so are their samples. */
static const struct uev_boot_sync *nearest(const struct uev_boot_clockmap *m, uint64_t v, int by_sample)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if ((by_sample ? sample(m, &m->s[mid]) : m->s[mid].ts) < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == m->n || (lo > 0 && v - (by_sample ? sample(m, &m->s[lo - 1]) : m->s[lo - 1].ts) <
					     (by_sample ? sample(m, &m->s[lo]) : m->s[lo].ts) - v))
		lo--;
	return &m->s[lo];
}

/* A mark's record is stamped a syscall after its clocks were read: its
 * offset (record time - reading) is the clocks' offset plus that delay,
 * which is at times milliseconds (an emulator, a loaded machine). Of the
 * marks within MAP_SPAN of @k, the one with the smallest offset was
 * delayed least; the clocks drift far less than a delay over that span. */
#define MAP_SPAN 30000000000ll
static const struct uev_boot_sync *least_delayed(const struct uev_boot_clockmap *m, const struct uev_boot_sync *k)
{
	const struct uev_boot_sync *best = k;
	size_t i0 = (size_t)(k - m->s);

	for (size_t i = i0; i-- > 0 && (int64_t)(k->ts - m->s[i].ts) <= MAP_SPAN;)
		if ((int64_t)(m->s[i].ts - sample(m, &m->s[i])) < (int64_t)(best->ts - sample(m, best)))
			best = &m->s[i];
	for (size_t i = i0 + 1; i < m->n && (int64_t)(m->s[i].ts - k->ts) <= MAP_SPAN; i++)
		if ((int64_t)(m->s[i].ts - sample(m, &m->s[i])) < (int64_t)(best->ts - sample(m, best)))
			best = &m->s[i];
	return best;
}

uint64_t uev_boot_to_inst(const struct uev_boot_clockmap *m, uint64_t run_ts)
{
	const struct uev_boot_sync *k;
	uint64_t v = run_ts;

	if (m->kind == UEV_BOOT_MAP_SAME || !m->n)
		return run_ts;
	if (m->kind == UEV_BOOT_MAP_WALL)
		v = m->run_sync.realtime_ns + (run_ts - m->run_sync.trace_ns);
	k = least_delayed(m, nearest(m, v, 1));
	return k->ts + (v - sample(m, k));
}

uint64_t uev_boot_to_run(const struct uev_boot_clockmap *m, uint64_t inst_ts)
{
	const struct uev_boot_sync *k;
	uint64_t v;

	if (m->kind == UEV_BOOT_MAP_SAME || !m->n)
		return inst_ts;
	k = least_delayed(m, nearest(m, inst_ts, 0));
	v = sample(m, k) + (inst_ts - k->ts);
	if (m->kind == UEV_BOOT_MAP_WALL)
		return m->run_sync.trace_ns + (v - m->run_sync.realtime_ns);
	return v;
}

/* The run's formats as a tep handle: which bytes of an event mean
 * something. A format that does not parse leaves its events compared
 * whole. */
static int parse_formats(struct uev_boot_prev *p)
{
	if (!(p->tep = tep_alloc()))
		return -ENOMEM;
	for (size_t i = 0; i < p->nfmt; i++) {
		const struct uev_boot_fmt *f = &p->fmt[i];

		if (f->kind == UEV_RING_FMT_HEADER_PAGE)
			tep_parse_header_page(p->tep, f->text, strlen(f->text), (int)sizeof(long));
		else if (f->kind == UEV_RING_FMT_EVENT)
			uev_format_parse(p->tep, f->system, f->text);
	}
	return 0;
}

static void quiet(void *ctx, enum uev_ring_report_kind kind, uint64_t off, const char *msg)
{
	(void)ctx, (void)kind, (void)off, (void)msg; /* damage costs what it hit; replay reports it */
}

uint64_t uev_boot_first_ts(const struct uev_snapshot *snap)
{
	struct kbuffer *kb = kbuffer_alloc(KBUFFER_LSIZE_SAME_AS_HOST, KBUFFER_ENDIAN_SAME_AS_HOST);
	uint64_t first = UINT64_MAX;

	for (size_t i = 0; kb && i < snap->npages; i++) {
		unsigned long long ts;

		if (uev_boot_page_ok(snap->page[i].data, snap->page[i].size) &&
		    kbuffer_load_subbuffer(kb, snap->page[i].data) == 0 && kbuffer_read_event(kb, &ts) && ts < first)
			first = ts;
	}
	kbuffer_free(kb);
	return first;
}

int uev_boot_prev_load(const char *path, uint64_t run_id, const char *boot_id, uint64_t from,
		       struct uev_boot_prev *p, char *err, size_t errsize)
{
	struct load l = { .p = p, .boot_id = boot_id };
	struct uev_ring_reader *r;
	struct uev_ring_rec rec;
	int ret;

	memset(p, 0, sizeof(*p));
	p->run_id = run_id;
	p->seen_from = from;
	p->mark_type = -1;
	if (!(l.kb = kbuffer_alloc(KBUFFER_LSIZE_SAME_AS_HOST, KBUFFER_ENDIAN_SAME_AS_HOST)))
		return -ENOMEM;
	if ((ret = uev_ring_reader_open(&r, path, quiet, NULL, err, errsize)) < 0) {
		kbuffer_free(l.kb);
		return ret;
	}
	while ((ret = uev_ring_reader_next(r, &rec)) > 0)
		if ((ret = load_rec(&l, &rec)) < 0)
			break;
	if (ret < 0)
		snprintf(err, errsize, "%s: reading run %llu: %s", path, (unsigned long long)run_id,
			 uev_ring_reader_error(r)[0] ? uev_ring_reader_error(r) : strerror(-ret));
	uev_ring_reader_close(r);
	if (ret >= 0 && !l.seen) {
		snprintf(err, errsize, "%s holds no run %llu any more (overwritten since)", path,
			 (unsigned long long)run_id);
		ret = -ENOENT;
	}
	if (ret >= 0 && !uev_ring_layout_is_host(&p->info)) {
		snprintf(err, errsize, "%s: run %llu was recorded on a machine of another layout", path,
			 (unsigned long long)run_id);
		ret = -ENOTSUP;
	}
	if (ret >= 0) {
		names_settle(p);
		ret = parse_formats(p);
	}
	kbuffer_free(l.kb);
	free(l.runs);
	if (ret < 0)
		uev_boot_prev_free(p);
	return ret < 0 ? ret : 0;
}

void uev_boot_prev_free(struct uev_boot_prev *p)
{
	for (size_t i = 0; i < p->nfmt; i++) {
		free(p->fmt[i].system);
		free(p->fmt[i].name);
		free(p->fmt[i].text);
	}
	for (size_t i = 0; i < p->nann; i++)
		free(p->ann[i].def);
	for (size_t i = 0; i < p->nseen; i++)
		free(p->seen[i].body);
	tep_free(p->tep);
	free(p->fmt);
	free(p->ann);
	free(p->names);
	free(p->seen);
	memset(p, 0, sizeof(*p));
}
