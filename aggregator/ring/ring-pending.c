/* SPDX-License-Identifier: MIT */
/*
 * Data records, and the open units that compression gathers them in
 * (docs/ring-format.md, "Compressed units").
 *
 * With compression on, a page does not become a record at once: it goes
 * into its CPU's area, and the area is packed into one UNIT record when it
 * is sealed. Three invariants make that as safe and as ordered as PAGE
 * records were:
 *
 *  1. Every page the writer took lives in the stage until its record is
 *     in the ring file. Areas are part of the stage (ring-stage.c), and
 *     a page's bytes are in its area before the state word says so.
 *  2. Sealing appends the UNIT to the open segment (in the stage) before
 *     the area is emptied, in one call with no write in between. A kill
 *     between the two leaves the same pages twice in the stage, once
 *     packed; the next writer finds the packed one by its CPU, raw length
 *     and raw CRC among the recovered records and empties the area, so
 *     nothing is recorded twice and nothing never.
 *  3. A CPU's records stay in the order its pages came: its unit is
 *     sealed before anything else of that CPU is appended (a LOST, a
 *     PAGE that does not go into a unit, an explicit unit). Metadata a
 *     page needs (formats, names) is appended when the page is taken,
 *     so it always precedes the UNIT that carries the page.
 *
 * Pages of CPUs that find no free area go out as PAGE records, which
 * invariant 3 keeps in order too; so does turning compression off with
 * units still open from a killed writer (they are sealed at level 1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "ring-write.h"
#include "uev-grow.h"

static uint8_t *area(const struct uev_ring_writer *w, uint32_t k)
{
	return w->pend.areas + (size_t)k * w->pend.area_size;
}

static uint64_t state_get(const uint8_t *a)
{
	return __atomic_load_n((const uint64_t *)a, __ATOMIC_ACQUIRE);
}

/* The one store that makes an area's bytes count (invariant 1). */
static void state_set(uint8_t *a, uint32_t fill, unsigned n, unsigned cpu)
{
	__atomic_store_n((uint64_t *)a, (uint64_t)fill | (uint64_t)n << 32 | (uint64_t)cpu << 48,
			 __ATOMIC_RELEASE);
}

#define FILL(s) ((uint32_t)(s))
#define COUNT(s) ((unsigned)((s) >> 32 & 0xffff))
#define CPU(s) ((unsigned)((s) >> 48))

static uint32_t capacity(const struct uev_ring_writer *w)
{
	return w->pend.area_size - UEV_RING_AREA_HDR;
}

int uev_ring_zstd_max_level(void)
{
	return ZSTD_maxCLevel();
}

int uev_ring_pending_init(struct uev_ring_writer *w, const struct uev_ring_create *c, uint32_t *nareas,
			  uint32_t *area_size)
{
	uint32_t size = c->unit_size ? c->unit_size : UEV_RING_UNIT_SIZE, quarter = w->sb.segment_size / 4;
	long ncpu = c->unit_cpus ? (long)c->unit_cpus : sysconf(_SC_NPROCESSORS_CONF);

	*nareas = *area_size = 0;
	if (!c->compression)
		return 0;
	if (c->compression < 1 || c->compression > ZSTD_maxCLevel())
		return -EINVAL;
	size = size < quarter ? size : quarter;
	size = size < UEV_RING_UNIT_RAW_MAX ? size : UEV_RING_UNIT_RAW_MAX;
	size &= ~4095u;
	if (size < 4096)
		return -EINVAL;
	w->pend.level = c->compression;
	*nareas = (uint32_t)(ncpu > 0 ? (ncpu < UEV_RING_CPU_MAX ? ncpu : UEV_RING_CPU_MAX) : 1);
	*area_size = size;
	return 0;
}

/* The area holding @cpu's open unit, or -1. */
static int64_t find(const struct uev_ring_writer *w, unsigned cpu)
{
	for (uint32_t k = 0; k < w->pend.nareas; k++) {
		uint64_t s = state_get(area(w, k));

		if (FILL(s) && CPU(s) == cpu)
			return k;
	}
	return -1;
}

static int64_t find_free(const struct uev_ring_writer *w)
{
	for (uint32_t k = 0; k < w->pend.nareas; k++)
		if (!FILL(state_get(area(w, k))))
			return k;
	return -1;
}

/* Area @k's unit appended as a UNIT record, then the area emptied
 * (invariant 2). -ENOBUFS leaves it open and its packed bytes kept. */
static int seal(struct uev_ring_writer *w, uint32_t k)
{
	uint8_t *a = area(w, k);
	uint64_t s = state_get(a);
	int r, level = w->pend.level ? w->pend.level : 1;

	if (!FILL(s))
		return 0;
	if (w->pend.packed != (int64_t)k || w->pend.packed_fill != FILL(s)) {
		w->pend.packed = -1;
		r = uev_ring_unit_pack_raw(a + UEV_RING_AREA_HDR, FILL(s), COUNT(s), level, w->run_id, &w->unit,
					   &w->pend.packed_len);
		if (r < 0)
			return r;
		w->pend.packed = k;
		w->pend.packed_fill = FILL(s);
	}
	if ((r = uev_ring_put_data(w, UEV_RING_UNIT, CPU(s), w->unit.out, w->pend.packed_len, NULL)) < 0)
		return r;
	w->pend.ratio = (uint32_t)(((uint64_t)w->pend.packed_len << 16) / FILL(s));
	w->pend.packed = -1;
	state_set(a, 0, 0, 0);
	return 0;
}

/* @cpu's open unit sealed, if it has one (invariant 3). */
static int seal_cpu(struct uev_ring_writer *w, unsigned cpu)
{
	int64_t k = w->pend.nareas ? find(w, cpu) : -1;

	return k < 0 ? 0 : seal(w, (uint32_t)k);
}

int uev_ring_writer_seal(struct uev_ring_writer *w)
{
	int r;

	if (!w->running)
		return -EINVAL;
	for (uint32_t k = 0; k < w->pend.nareas; k++)
		if ((r = seal(w, k)) < 0)
			return r;
	return 0;
}

int uev_ring_pending_seal_all(struct uev_ring_writer *w)
{
	int r = 0;

	/* Each round seals at least one unit or writes everything. */
	for (uint32_t round = 0; round <= w->pend.nareas + 1; round++) {
		if ((r = uev_ring_writer_seal(w)) != -ENOBUFS)
			return r;
		if ((r = uev_ring_writer_flush(w)) < 0)
			return r;
	}
	return -ENOBUFS;
}

/* Bytes a unit of @fill raw bytes is expected to take as a record. */
static uint64_t expected(const struct uev_ring_writer *w, uint64_t fill)
{
	return ((fill * w->pend.ratio) >> 16) + UEV_RING_UNIT_HDR + 2 * UEV_RING_REC_HDR;
}

/*
 * A unit that would no longer fit the rest of the open segment once it
 * takes one more page is sealed now, while it fits: otherwise the unit
 * starts the next segment and the end of this one stays empty (2-3 % of
 * a full ring of 256 KiB units). By the last unit's ratio: a guess, and
 * a wrong one only costs that slack back.
 */
static int fits_now_only(struct uev_ring_writer *w, uint32_t fill, size_t entry)
{
	uint64_t room;

	if (!w->pend.ratio || !fill)
		return 0;
	room = uev_ring_room(w);
	return expected(w, fill) <= room && expected(w, fill + entry) > room;
}

/* A page (and the LOST before it, when @lost) into @cpu's open unit, or as
 * records of their own when it cannot go into one. */
static int page(struct uev_ring_writer *w, unsigned cpu, const void *p, size_t len, const uint8_t *lost)
{
	size_t entry = uev_ring_unit_entry_size(len);
	int64_t k;
	uint64_t s;
	uint8_t *a;
	int r;

	if (!w->running || cpu > UEV_RING_CPU_MAX)
		return -EINVAL;
	if (!w->pend.nareas)
		return uev_ring_put_data(w, UEV_RING_PAGE, cpu, p, len, lost);
	if (UEV_GROW(w->pend.first, w->pend.first_cap, w->pend.nareas) < 0)
		return -ENOMEM;
	for (; w->pend.nfirst < w->pend.nareas; w->pend.nfirst++)
		w->pend.first[w->pend.nfirst] = 0;
	k = find(w, cpu);
	if (k >= 0) {
		s = state_get(area(w, (uint32_t)k));
		/* A LOST goes between the pages it separates: the unit so far first. */
		if (!w->pend.level || lost || len < UEV_RING_PAGE_MIN || entry > capacity(w) - FILL(s) ||
		    COUNT(s) >= UEV_RING_UNIT_PAGES_MAX || fits_now_only(w, FILL(s), entry)) {
			if ((r = seal(w, (uint32_t)k)) < 0)
				return r;
			k = -1;
		}
	}
	if (k < 0 && w->pend.level && len >= UEV_RING_PAGE_MIN && entry <= capacity(w))
		k = find_free(w);
	if (k < 0)
		return uev_ring_put_data(w, UEV_RING_PAGE, cpu, p, len, lost);
	if (lost && (r = uev_ring_put_data(w, UEV_RING_LOST, cpu, lost, 8, NULL)) < 0)
		return r;
	a = area(w, (uint32_t)k);
	s = state_get(a);
	if (!FILL(s))
		w->pend.first[k] = w->tick;
	uev_ring_unit_entry_put(a + UEV_RING_AREA_HDR + FILL(s), p, len);
	state_set(a, FILL(s) + (uint32_t)entry, COUNT(s) + 1, cpu);
	return 0;
}

/* A page taken: the names used from now on are the next page's. */
static int took(struct uev_ring_writer *w, int r)
{
	w->tick += r == 0;
	return r;
}

uint64_t uev_ring_pending_horizon(const struct uev_ring_writer *w)
{
	uint64_t h = w->tick;

	for (uint32_t k = 0; k < w->pend.nareas; k++)
		if (FILL(state_get(area(w, k)))) {
			uint64_t t = k < w->pend.nfirst ? w->pend.first[k] : 0;

			h = t < h ? t : h;
		}
	return h;
}

int uev_ring_writer_page(struct uev_ring_writer *w, unsigned cpu, const void *p, size_t len)
{
	return took(w, page(w, cpu, p, len, NULL));
}

int uev_ring_writer_page_lost(struct uev_ring_writer *w, unsigned cpu, const void *p, size_t len,
			      int lost, uint64_t count)
{
	uint8_t b[8];

	uev_put64(b, count);
	return took(w, page(w, cpu, p, len, lost ? b : NULL));
}

int uev_ring_writer_lost(struct uev_ring_writer *w, unsigned cpu, uint64_t count)
{
	uint8_t b[8];
	int r;

	if (!w->running || cpu > UEV_RING_CPU_MAX)
		return -EINVAL;
	if ((r = seal_cpu(w, cpu)) < 0)
		return r;
	uev_put64(b, count);
	return uev_ring_put_data(w, UEV_RING_LOST, cpu, b, sizeof(b), NULL);
}

int uev_ring_writer_unit(struct uev_ring_writer *w, unsigned cpu, const struct uev_ring_page_in *pages,
			 unsigned n, int level)
{
	size_t len;
	int r;

	if (!w->running || cpu > UEV_RING_CPU_MAX)
		return -EINVAL;
	if ((r = seal_cpu(w, cpu)) < 0)
		return r;
	w->pend.packed = -1; /* its buffer is used here */
	if ((r = uev_ring_unit_pack(pages, n, level, w->run_id, &w->unit, &len)) < 0)
		return r;
	return took(w, uev_ring_put_data(w, UEV_RING_UNIT, cpu, w->unit.out, len, NULL));
}

/* ---- what a killed writer left open ------------------------------------- */

/* 1 when area @a's state describes whole entries of at least the smallest
 * page, exactly filling what it says. */
static int area_valid(const uint8_t *a, uint64_t s, uint32_t cap)
{
	uint32_t at = 0, fill = FILL(s);

	if (fill > cap || !COUNT(s) || CPU(s) > UEV_RING_CPU_MAX)
		return 0;
	for (unsigned i = 0; i < COUNT(s); i++) {
		uint32_t len;

		if (fill - at < 8)
			return 0;
		len = uev_get32(a + UEV_RING_AREA_HDR + at);
		if (len < UEV_RING_PAGE_MIN || uev_ring_unit_entry_size(len) > fill - at)
			return 0;
		at += (uint32_t)uev_ring_unit_entry_size(len);
	}
	return at == fill;
}

void uev_ring_pending_recover(struct uev_ring_writer *w, struct uev_ring_stage_report *rep)
{
	for (uint32_t k = 0; k < w->pend.nareas; k++) {
		uint8_t *a = area(w, k), *raw = a + UEV_RING_AREA_HDR;
		uint64_t s = state_get(a);

		if (!FILL(s))
			continue;
		if (!area_valid(a, s, capacity(w))) {
			snprintf(rep->discarded, sizeof(rep->discarded), "an open unit's area was not valid");
		} else if (!uev_ring_stage_had_unit(w, CPU(s), FILL(s), uev_crc32c(0, raw, FILL(s)))) {
			rep->units++;
			rep->unit_pages += COUNT(s);
			for (uint32_t at = 0; at < FILL(s);) {
				uint32_t len = uev_get32(raw + at);

				uev_ring_stage_note_page(w, CPU(s), raw + at + 8, len);
				at += (uint32_t)uev_ring_unit_entry_size(len);
			}
			continue;
		}
		state_set(a, 0, 0, 0);
	}
}

int uev_ring_writer_stage_pages(struct uev_ring_writer *w,
				int (*fn)(void *ctx, unsigned cpu, const void *page, size_t len), void *ctx)
{
	for (uint32_t k = 0; k < w->pend.nareas; k++) {
		uint8_t *raw = area(w, k) + UEV_RING_AREA_HDR;
		uint64_t s = state_get(area(w, k));

		for (uint32_t at = 0; at < FILL(s);) {
			uint32_t len = uev_get32(raw + at);
			int r = fn(ctx, CPU(s), raw + at + 8, len);

			if (r)
				return r;
			at += (uint32_t)uev_ring_unit_entry_size(len);
		}
	}
	return 0;
}
