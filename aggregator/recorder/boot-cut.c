/* SPDX-License-Identifier: MIT */
/*
 * The recovered pages (boot-import.h): cut away what the recording run
 * already holds, then write the rest as a run of its own.
 *
 * The cut works per CPU, because each CPU's buffer is its own ordered
 * stream in both instances: the persistent copy of the run's last event
 * on a CPU is the same bytes (type, pid, flags, fields) stamped within
 * CUT_WINDOW_NS of it, and everything after it there is what the run
 * never got to write. A page where the cut falls mid-way is rebuilt: the
 * same event bytes from the first kept one on, the page's timestamp set
 * to that event's time and its own delta to 0, so every reader computes
 * the same times as before.
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
#include "uev-decode.h"

#define CUT_WINDOW_NS 1000000ull

static const struct uev_boot_last *last_of(const struct uev_boot_prev *p, unsigned cpu)
{
	for (size_t i = 0; i < p->nlast; i++)
		if (p->last[i].cpu == cpu)
			return &p->last[i];
	return NULL;
}

static int page_ok(const void *page, size_t size)
{
	return size >= UEV_PAGE_HDR && uev_page_commit(page, size) + UEV_PAGE_HDR <= size;
}

/* Where the cut falls on one CPU (pages [lo, hi) of @snap): after event
 * @idx (counted from 0 over those pages); -1 keeps everything. */
static long long cut_index(struct kbuffer *kb, const struct uev_snapshot *snap, size_t lo, size_t hi,
			   const struct uev_boot_last *last, int *matched)
{
	long long idx = 0, best = -1, before = -1;
	uint64_t best_gap = UINT64_MAX;

	*matched = 0;
	for (size_t i = lo; i < hi; i++) {
		unsigned long long ts;
		void *d;

		if (!page_ok(snap->page[i].data, snap->page[i].size) ||
		    kbuffer_load_subbuffer(kb, snap->page[i].data) < 0)
			continue;
		for (d = kbuffer_read_event(kb, &ts); d; d = kbuffer_next_event(kb, &ts), idx++) {
			uint64_t gap = ts > last->ts ? ts - last->ts : last->ts - ts;

			if (ts <= last->ts)
				before = idx;
			if (gap <= CUT_WINDOW_NS && gap < best_gap && kbuffer_event_size(kb) == (int)last->size &&
			    !memcmp(d, last->body, last->size)) {
				best = idx;
				best_gap = gap;
			}
		}
	}
	if (best >= 0)
		*matched = 1;
	return best >= 0 ? best : before;
}

/* The page from the event kbuffer is at on: same bytes, its own delta 0,
 * the page stamped with its time. NULL on ENOMEM. */
static void *rebuild(struct kbuffer *kb, const uint8_t *page, size_t size, unsigned long long ts)
{
	size_t start = (size_t)kbuffer_start_of_data(kb), off = (size_t)kbuffer_curr_offset(kb);
	size_t end = start + uev_page_commit(page, size);
	uint8_t *n = calloc(1, size);
	unsigned long commit = (unsigned long)(end - off);
	uint32_t w;

	if (!n)
		return NULL;
	memcpy(n, &ts, 8);
	memcpy(n + 8, &commit, sizeof(commit));
	memcpy(n + start, page + off, end - off);
	memcpy(&w, n + start, 4);
	w &= uev_page_host_big_endian() ? 0xf8000000u : 0x1fu; /* keep type_len, time_delta 0 */
	memcpy(n + start, &w, 4);
	return n;
}

/* Count what page @i holds now (events, loss). */
static void count(struct kbuffer *kb, const struct uev_snapshot *snap, size_t i, struct uev_boot_cut_stats *st)
{
	unsigned long long ts;
	int missed;

	if (!page_ok(snap->page[i].data, snap->page[i].size) || kbuffer_load_subbuffer(kb, snap->page[i].data) < 0)
		return;
	missed = kbuffer_missed_events(kb);
	if (missed > 0)
		st->missed += (uint64_t)missed;
	else if (missed < 0)
		st->missed_unknown = 1;
	for (void *d = kbuffer_read_event(kb, &ts); d; d = kbuffer_next_event(kb, &ts))
		st->events++;
}

/* Apply the cut to pages [lo, hi) of one CPU: drop or rebuild; dropped
 * pages get data NULL. */
static int apply(struct kbuffer *kb, struct uev_snapshot *snap, size_t lo, size_t hi, long long cut,
		 struct uev_boot_cut_stats *st)
{
	long long idx = 0;

	for (size_t i = lo; i < hi; i++) {
		unsigned long long ts;
		long long first = idx, n = 0;
		void *d, *page = snap->page[i].data;

		if (!page_ok(page, snap->page[i].size) || kbuffer_load_subbuffer(kb, page) < 0) {
			free(page); /* what the check refuses is never imported */
			snap->page[i].data = NULL;
			continue;
		}
		for (d = kbuffer_read_event(kb, &ts); d; d = kbuffer_next_event(kb, &ts))
			n++;
		idx += n;
		if (cut < first) {
			/* kept whole */
		} else if (cut >= first + n - 1) {
			st->events_dup += (uint64_t)n;
			free(page);
			snap->page[i].data = NULL;
		} else {
			void *nw;

			kbuffer_load_subbuffer(kb, page);
			d = kbuffer_read_event(kb, &ts);
			for (long long k = first; k <= cut; k++)
				d = kbuffer_next_event(kb, &ts);
			if (!d || !(nw = rebuild(kb, page, snap->page[i].size, ts)))
				return -ENOMEM;
			st->events_dup += (uint64_t)(cut - first + 1);
			free(page);
			snap->page[i].data = nw;
		}
		if (snap->page[i].data) {
			st->pages++;
			count(kb, snap, i, st);
		}
	}
	return 0;
}

int uev_boot_cut(struct uev_snapshot *snap, const struct uev_boot_prev *p, struct uev_boot_cut_stats *st)
{
	struct kbuffer *kb = kbuffer_alloc(KBUFFER_LSIZE_SAME_AS_HOST, KBUFFER_ENDIAN_SAME_AS_HOST);
	size_t k = 0;
	int r = 0;

	memset(st, 0, sizeof(*st));
	if (!kb)
		return -ENOMEM;
	st->pages_in = snap->npages;
	for (size_t i = 0; i < snap->npages; i++) {
		unsigned long long ts;

		if (page_ok(snap->page[i].data, snap->page[i].size) &&
		    kbuffer_load_subbuffer(kb, snap->page[i].data) == 0)
			for (void *d = kbuffer_read_event(kb, &ts); d; d = kbuffer_next_event(kb, &ts))
				st->events_in++;
	}
	/* The snapshot holds each CPU's pages together, oldest first. */
	for (size_t lo = 0, hi; lo < snap->npages && r == 0; lo = hi) {
		const struct uev_boot_last *last = last_of(p, (unsigned)snap->page[lo].cpu);
		long long cut = -1;
		int matched = 0;

		for (hi = lo; hi < snap->npages && snap->page[hi].cpu == snap->page[lo].cpu; hi++)
			;
		if (last)
			cut = cut_index(kb, snap, lo, hi, last, &matched);
		st->cpus_matched += (unsigned)matched;
		r = apply(kb, snap, lo, hi, cut, st);
	}
	kbuffer_free(kb);
	/* Pages left empty go. */
	for (size_t i = 0; i < snap->npages; i++)
		if (snap->page[i].data)
			snap->page[k++] = snap->page[i];
	snap->npages = k;
	return r;
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

int uev_boot_write(struct uev_ring_writer *w, const struct uev_boot_prev *p, const struct uev_snapshot *snap,
		   const struct uev_boot_cut_stats *st)
{
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

		if ((r = name_pids(w, kb, p, snap->page[i].data)) == 0)
			r = RETRY(uev_ring_writer_page(w, (unsigned)snap->page[i].cpu, snap->page[i].data, keep));
		end.pages++;
		end.bytes += keep;
	}
	kbuffer_free(kb);
	end.lost = st->missed;
	if (r < 0) {
		uev_ring_writer_close(w, NULL);
		return r;
	}
	return uev_ring_writer_close(w, &end);
}
