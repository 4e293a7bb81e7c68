/* SPDX-License-Identifier: MIT */
/*
 * The recovered pages (boot-import.h): leave out what the file holds
 * already, then write the rest as a run of its own.
 *
 * A page that loses events is encoded anew (uev_page_cut(), page-cut.h),
 * so every reader computes the same times as from the original page.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <kbuffer.h>

#include "boot-import.h"
#include "capture.h"
#include "uev-abi.h"
#include "uev-decode.h"

static int by_key(const void *a, const void *b)
{
	const struct uev_boot_seen *x = a, *y = b;

	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* The nearest unused written event of the same CPU and bytes as this one,
 * within @window of @ts, or NULL. */
static struct uev_boot_seen *nearest_copy(struct uev_boot_prev *p, unsigned cpu, uint64_t ts, const void *body,
					  uint32_t size, uint64_t window)
{
	struct uev_boot_seen key = { uev_boot_event_hash(p->tep, body, size), 0, cpu, size, 0, NULL }, *best = NULL;
	size_t lo = 0, hi = p->nseen;
	uint64_t best_gap = window + 1;

	while (lo < hi) { /* the first entry of (cpu, hash, size) */
		size_t mid = (lo + hi) / 2;

		if (by_key(&p->seen[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < p->nseen && p->seen[i].cpu == cpu && p->seen[i].hash == key.hash &&
			    p->seen[i].size == size; i++) {
		uint64_t gap = p->seen[i].ts > ts ? p->seen[i].ts - ts : ts - p->seen[i].ts;

		if (!p->seen[i].used && gap < best_gap) {
			best = &p->seen[i];
			best_gap = gap;
		}
	}
	return best;
}

/* Is this event a copy of one the file holds? The nearest unused written
 * event of the same CPU and bytes within the window accounts for it. */
static int written(struct uev_boot_prev *p, unsigned cpu, uint64_t ts, const void *body, uint32_t size)
{
	struct uev_boot_seen *best = nearest_copy(p, cpu, ts, body, size, UEV_BOOT_WINDOW_NS);

	if (best)
		best->used = 1;
	return best != NULL;
}

static int by_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * What is left of the two clocks' offset after the marks' mapping (their
 * clock readings come a syscall before the record's timestamp, which is
 * milliseconds under an emulator), as the copies themselves show it: the
 * median of instance time - written time over the nearest byte-equal
 * pairs within UEV_BOOT_COARSE_NS. The written times are moved by it
 * before the copies are matched within UEV_BOOT_WINDOW_NS.
 */
static int64_t copy_offset(struct kbuffer *kb, const struct uev_snapshot *snap, struct uev_boot_prev *p)
{
	size_t n = 0, cap = 65536;
	int64_t *d = malloc(cap * sizeof(*d)), off = 0;

	if (!d)
		return 0;
	for (size_t i = 0; i < snap->npages && n < cap; i++) {
		unsigned long long ts;

		if (!uev_boot_page_ok(snap->page[i].data, snap->page[i].size) ||
		    kbuffer_load_subbuffer(kb, snap->page[i].data) < 0)
			continue;
		for (void *e = kbuffer_read_event(kb, &ts); e && n < cap; e = kbuffer_next_event(kb, &ts)) {
			struct uev_boot_seen *c = nearest_copy(p, (unsigned)snap->page[i].cpu, ts, e,
							       (uint32_t)kbuffer_event_size(kb), UEV_BOOT_COARSE_NS);

			if (c)
				d[n++] = (int64_t)(ts - c->ts);
		}
	}
	if (n) {
		qsort(d, n, sizeof(*d), by_i64);
		off = d[n / 2];
	}
	free(d);
	return off;
}

/* Page @i again, with only the events @keep marks (in walk order). */
static int encode(struct kbuffer *kb, struct uev_snapshot *snap, size_t i, const uint8_t *keep)
{
	uint8_t *n;
	size_t len;
	int r = uev_page_cut(kb, NULL, snap->page[i].data, snap->page[i].size, keep, 0, &n, &len);

	if (r < 0)
		return r;
	free(snap->page[i].data);
	snap->page[i].data = n;
	snap->page[i].size = len > snap->page[i].size ? len : snap->page[i].size;
	return 0;
}

/* Count what page @i holds now (events, loss). */
static void count(struct kbuffer *kb, const struct uev_snapshot *snap, size_t i, struct uev_boot_cut_stats *st)
{
	unsigned long long ts;
	int missed;

	if (!uev_boot_page_ok(snap->page[i].data, snap->page[i].size) || kbuffer_load_subbuffer(kb, snap->page[i].data) < 0)
		return;
	missed = kbuffer_missed_events(kb);
	if (missed > 0)
		st->missed += (uint64_t)missed;
	else if (missed < 0)
		st->missed_unknown = 1;
	for (void *d = kbuffer_read_event(kb, &ts); d; d = kbuffer_next_event(kb, &ts))
		st->events++;
}

/* One of the aggregator's own marks (boot-ring.h): ftrace:raw_data, whose
 * id is the u32 at offset 8 of its body in every kernel. */
static int is_mark(const struct uev_boot_prev *p, const uint8_t *body, uint32_t size)
{
	uint16_t type;
	uint32_t id;

	if (p->mark_type < 0 || size < 12)
		return 0;
	memcpy(&type, body, 2);
	memcpy(&id, body + 8, 4);
	return type == p->mark_type && id == UEV_MARKER_BOOT;
}

/* One page: leave its copies out. 1 when it lost events, 0, -errno. */
static int cut_page(struct kbuffer *kb, struct uev_snapshot *snap, size_t i, struct uev_boot_prev *p,
		    struct uev_boot_cut_stats *st)
{
	size_t n = 0, dup = 0, drop = 0;
	unsigned long long ts;
	uint8_t *keep;
	int r;

	if (!uev_boot_page_ok(snap->page[i].data, snap->page[i].size) || kbuffer_load_subbuffer(kb, snap->page[i].data) < 0) {
		free(snap->page[i].data); /* what the check refuses is never imported */
		snap->page[i].data = NULL;
		return 0;
	}
	/* every event takes 4 bytes at least */
	if (!(keep = malloc(snap->page[i].size / 4 + 1)))
		return -ENOMEM;
	for (void *d = kbuffer_read_event(kb, &ts); d; d = kbuffer_next_event(kb, &ts), n++) {
		uint32_t size = (uint32_t)kbuffer_event_size(kb);
		int w;

		st->events_in++;
		if (is_mark(p, d, size)) { /* bookkeeping, not evidence */
			keep[n] = 0;
			st->marks++;
			drop++;
			continue;
		}
		w = written(p, (unsigned)snap->page[i].cpu, ts, d, size);
		keep[n] = !w;
		dup += (size_t)w;
	}
	st->events_dup += dup;
	if (!dup && !drop) {
		r = 0;
	} else if (dup + drop == n) {
		free(snap->page[i].data);
		snap->page[i].data = NULL;
		r = dup != 0;
	} else {
		r = encode(kb, snap, i, keep) < 0 ? -ENOMEM : dup != 0;
	}
	free(keep);
	return r;
}

int uev_boot_cut(struct uev_snapshot *snap, struct uev_boot_prev *p, struct uev_boot_cut_stats *st)
{
	struct kbuffer *kb = kbuffer_alloc(KBUFFER_LSIZE_SAME_AS_HOST, KBUFFER_ENDIAN_SAME_AS_HOST);
	int last_cpu = -1, r = 0;
	size_t k = 0;

	memset(st, 0, sizeof(*st));
	if (!kb)
		return -ENOMEM;
	for (size_t i = 0; i < p->nseen; i++)
		p->seen[i].hash = uev_boot_event_hash(p->tep, p->seen[i].body, p->seen[i].size);
	if (p->nseen) { /* (qsort wants a base even for none) */
		int64_t off;

		qsort(p->seen, p->nseen, sizeof(*p->seen), by_key);
		off = copy_offset(kb, snap, p);
		for (size_t i = 0; i < p->nseen; i++) /* (the order by key stays) */
			p->seen[i].ts = (uint64_t)((int64_t)p->seen[i].ts + off);
		st->clock_offset_ns = off;
	}
	st->pages_in = snap->npages;
	for (size_t i = 0; i < snap->npages && r >= 0; i++) {
		if ((r = cut_page(kb, snap, i, p, st)) == 1 && snap->page[i].cpu != last_cpu) {
			st->cpus_dup++;
			last_cpu = snap->page[i].cpu;
		}
		if (r >= 0 && snap->page[i].data) {
			st->pages++;
			count(kb, snap, i, st);
		}
	}
	kbuffer_free(kb);
	/* Pages left empty go. */
	for (size_t i = 0; i < snap->npages; i++)
		if (snap->page[i].data)
			snap->page[k++] = snap->page[i];
	snap->npages = k;
	return r < 0 ? r : 0;
}

/* ---- The recovered run -------------------------------------------------- */

static const struct uev_boot_name *name_of(const struct uev_boot_prev *p, int32_t pid)
{
	size_t lo = 0, hi = p->nnames;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (p->names[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->nnames && p->names[lo].pid == pid ? &p->names[lo] : NULL;
}

/* Every pid the page's events name (common_pid, at body offset 4 in every
 * kernel's common fields), named in the run as the recording run last
 * named it. */
static int name_pids(struct uev_ring_writer *w, struct kbuffer *kb, const struct uev_boot_prev *p, void *page)
{
	unsigned long long ts;

	if (kbuffer_load_subbuffer(kb, page) < 0)
		return 0;
	for (void *d = kbuffer_read_event(kb, &ts); d; d = kbuffer_next_event(kb, &ts)) {
		const struct uev_boot_name *n;
		int32_t pid;
		int r;

		if (kbuffer_event_size(kb) < 8)
			continue;
		memcpy(&pid, (uint8_t *)d + 4, 4);
		if ((r = uev_ring_writer_comm_use(w, pid)) == -ENOENT && (n = name_of(p, pid)))
			r = uev_ring_writer_comm(w, pid, n->comm);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	return 0;
}

/* A writer call that may ask for a write first. */
#define RETRY(call) ({ int r_ = (call); if (r_ == -ENOBUFS && uev_ring_writer_flush(w) == 0) r_ = (call); r_; })

/* A LOST record (count unknown) for @cpu, once, if the kernel dropped
 * some of its part: before its first page, or at the end for a CPU with
 * none left. */
static int said_loss(struct uev_ring_writer *w, const struct uev_boot_loss *loss, size_t nloss, uint8_t *said,
		     unsigned cpu)
{
	for (size_t i = 0; i < nloss; i++)
		if (loss[i].cpu == cpu && !said[i]) {
			said[i] = 1;
			return RETRY(uev_ring_writer_lost(w, cpu, 0));
		}
	return 0;
}

int uev_boot_write(struct uev_ring_writer *w, const struct uev_boot_prev *p, const struct uev_snapshot *snap,
		   const struct uev_boot_cut_stats *st, const struct uev_boot_loss *loss, size_t nloss)
{
	uint8_t said[64] = { 0 };
	struct uev_ring_run_info ri = p->info;
	struct uev_ring_counters end = { 0 };
	struct kbuffer *kb = kbuffer_alloc(KBUFFER_LSIZE_SAME_AS_HOST, KBUFFER_ENDIAN_SAME_AS_HOST);
	struct timespec now;
	int r;

	if (!kb)
		return -ENOMEM;
	clock_gettime(CLOCK_REALTIME, &now);
	ri.recovered_from = p->run_id;
	ri.aggregator_pid = (uint32_t)getpid();
	ri.start_realtime_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	ri.flush_interval_ms = 0;
	r = uev_ring_writer_begin_run(w, &ri);
	for (size_t i = 0; i < p->nfmt && r == 0; i++)
		r = RETRY(uev_ring_writer_format(w, p->fmt[i].kind, p->fmt[i].id, p->fmt[i].system, p->fmt[i].name,
						 p->fmt[i].text));
	for (size_t i = 0; i < p->nann && r == 0; i++)
		r = RETRY(uev_ring_writer_announce(w, p->ann[i].id, p->ann[i].def));
	if (r == 0 && p->have_sync)
		r = RETRY(uev_ring_writer_sync(w, &p->sync));
	for (size_t i = 0; i < snap->npages && r == 0; i++) {
		size_t keep = uev_capture_keep(snap->page[i].data, snap->page[i].size);

		if ((r = said_loss(w, loss, nloss, said, (unsigned)snap->page[i].cpu)) == 0 &&
		    (r = name_pids(w, kb, p, snap->page[i].data)) == 0)
			r = RETRY(uev_ring_writer_page(w, (unsigned)snap->page[i].cpu, snap->page[i].data, keep));
		end.pages++;
		end.bytes += keep;
	}
	for (size_t i = 0; i < nloss && i < sizeof(said) && r == 0; i++)
		r = said_loss(w, loss, nloss, said, loss[i].cpu);
	kbuffer_free(kb);
	end.lost = st->missed;
	if (r < 0) {
		uev_ring_writer_close(w, NULL);
		return r;
	}
	return uev_ring_writer_close(w, &end);
}
