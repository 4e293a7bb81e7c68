/* SPDX-License-Identifier: MIT */
/*
 * The split form of a unit (docs/ring-format.md, "Compressed units",
 * codec 2): the same bytes as its entries, reordered so that zstd sees
 * like with like. Every event of a kernel page starts with a 4-byte word
 * (type_len:5, time_delta:27); those words go into one run, everything
 * else (entry headers, page headers, event bodies, what follows the
 * commit) into another in its order. On the mixed load the words alone
 * cost zstd about a tenth of the unit when they interleave with bodies.
 *
 * Invariant: split and unsplit walk the same way, and every choice of the
 * walk depends only on bytes already placed (the page header, the word,
 * the first bytes of a body): so the reordering is a bijection for any
 * bytes at all, kernel pages or not. Nothing is checked against the
 * kernel's rules here; a page that does not follow them round-trips the
 * same, only compresses less. unsplit() bounds every read and write and
 * fails unless both runs are used up exactly.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "ring-common.h"

#define PAGE_HDR 16u               /* u64 timestamp, u64 commit word (little-endian, 64-bit long) */
#define COMMIT_MASK ((1u << 27) - 1)

/* The body after an event's word @w, with @rest bytes left before the
 * commit end and @next the first 4 of them (valid when rest >= 4). */
static uint32_t body(uint32_t w, uint32_t rest, uint32_t next)
{
	uint32_t tl = w & 31, b;

	if (tl == 0 || (tl == 29 && w >> 5)) /* length in its first word */
		b = rest >= 4 ? next : rest;
	else if (tl == 29) /* padding to the end */
		b = rest;
	else if (tl >= 30) /* time extend, absolute time stamp */
		b = 4;
	else
		b = 4 * tl;
	return b < rest ? b : rest;
}


/* Where the walk of a page's events ends (all of it is the page header). */
static uint32_t commit_end(const uint8_t *page, uint32_t len)
{
	uint32_t c;

	if (len < PAGE_HDR)
		return len;
	c = uev_get32(page + 8) & COMMIT_MASK;
	return c < len - PAGE_HDR ? PAGE_HDR + c : len;
}

size_t uev_ring_split(const uint8_t *raw, size_t raw_len, uint8_t *out, uint8_t *words)
{
	uint8_t *p = out + 4;
	size_t nw = 0, a = 0;

	while (a + UEV_RING_UNIT_ENTRY_HDR <= raw_len) {
		uint32_t len = uev_get32(raw + a), end, pos;
		const uint8_t *page = raw + a + UEV_RING_UNIT_ENTRY_HDR;
		size_t tail;

		if (uev_ring_unit_entry_size(len) > raw_len - a) /* not an area's entry: the rest as it is */
			break;
		end = commit_end(page, len);
		pos = len < PAGE_HDR ? len : PAGE_HDR;
		memcpy(p, raw + a, UEV_RING_UNIT_ENTRY_HDR + pos);
		p += UEV_RING_UNIT_ENTRY_HDR + pos;
		while (end - pos >= 4) {
			uint32_t w = uev_get32(page + pos), b;

			memcpy(words + nw, page + pos, 4);
			nw += 4;
			pos += 4;
			b = body(w, end - pos, end - pos >= 4 ? uev_get32(page + pos) : 0);
			memcpy(p, page + pos, b);
			p += b;
			pos += b;
		}
		tail = (size_t)uev_ring_unit_entry_size(len) - UEV_RING_UNIT_ENTRY_HDR - pos;
		memcpy(p, page + pos, tail);
		p += tail;
		a += (size_t)uev_ring_unit_entry_size(len);
	}
	memcpy(p, raw + a, raw_len - a);
	p += raw_len - a;
	memcpy(p, words, nw);
	uev_put32(out, (uint32_t)nw);
	return raw_len + 4;
}

int uev_ring_unsplit(const uint8_t *in, size_t in_len, uint8_t *raw, size_t raw_len)
{
	const uint8_t *p, *pend, *wd, *wend;
	size_t a = 0;
	uint32_t nw;

	if (in_len != raw_len + 4 || (nw = uev_get32(in)) > raw_len || nw % 4)
		return -EINVAL;
	p = in + 4;
	pend = in + 4 + raw_len - nw;
	wd = pend;
	wend = in + in_len;
#define TAKE(dst, n)                                          \
	do {                                                  \
		if ((size_t)(pend - p) < (size_t)(n))         \
			return -EINVAL;                       \
		memcpy((dst), p, (n));                        \
		p += (n);                                     \
	} while (0)
	while (a + UEV_RING_UNIT_ENTRY_HDR <= raw_len) {
		uint32_t len, end, pos;
		uint8_t *page = raw + a + UEV_RING_UNIT_ENTRY_HDR;

		if (pend - p < (ptrdiff_t)UEV_RING_UNIT_ENTRY_HDR)
			return -EINVAL;
		len = uev_get32(p);
		if (uev_ring_unit_entry_size(len) > raw_len - a)
			break;
		TAKE(raw + a, UEV_RING_UNIT_ENTRY_HDR);
		pos = len < PAGE_HDR ? len : PAGE_HDR;
		TAKE(page, pos);
		end = commit_end(page, len);
		while (end - pos >= 4) {
			uint32_t w, b;

			if (wend - wd < 4)
				return -EINVAL;
			memcpy(page + pos, wd, 4);
			wd += 4;
			w = uev_get32(page + pos);
			pos += 4;
			if (end - pos >= 4 && pend - p < 4)
				return -EINVAL;
			b = body(w, end - pos, end - pos >= 4 ? uev_get32(p) : 0);
			TAKE(page + pos, b);
			pos += b;
		}
		TAKE(page + pos, (size_t)uev_ring_unit_entry_size(len) - UEV_RING_UNIT_ENTRY_HDR - pos);
		a += (size_t)uev_ring_unit_entry_size(len);
	}
	TAKE(raw + a, raw_len - a);
#undef TAKE
	return p == pend && wd == wend ? 0 : -EINVAL;
}
