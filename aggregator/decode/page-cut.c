/* SPDX-License-Identifier: MIT */
/* A sub-buffer encoded anew with a subset of its events (page-cut.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <kbuffer.h>

#include "page-cut.h"

#define TYPE_TIME_EXTEND 30u
#define DELTA_BITS 27u
#define DELTA_MAX ((1u << DELTA_BITS) - 1)

static void put32(const struct uev_page_layout *l, uint8_t *at, uint32_t v)
{
	if (l->swap)
		v = __builtin_bswap32(v);
	memcpy(at, &v, 4);
}

static void put64(const struct uev_page_layout *l, uint8_t *at, uint64_t v)
{
	if (l->swap)
		v = __builtin_bswap64(v);
	memcpy(at, &v, 8);
}

static void putlong(const struct uev_page_layout *l, uint8_t *at, uint64_t v)
{
	if (l->long_size == 4)
		put32(l, at, (uint32_t)v);
	else
		put64(l, at, v);
}

/* The C bitfield of struct ring_buffer_event, as the page's kernel lays it. */
static void put_word(const struct uev_page_layout *l, uint8_t *at, uint32_t type_len, uint32_t delta)
{
	put32(l, at, l->big_endian ? (type_len << DELTA_BITS) | delta : type_len | (delta << 5));
}

int uev_page_cut(struct kbuffer *kb, const struct uev_page_layout *l, const void *page, size_t size,
		 const uint8_t *keep, int keep_missed, uint8_t **out, size_t *len)
{
	struct uev_page_layout lay = l ? *l : uev_page_layout_host();
	const uint8_t *src = page;
	/* A kept event gains at most a TIME_EXTEND (8 bytes), and every
	 * event takes 8 bytes at least: twice the page is room enough. */
	size_t start, pos, cap = size * 2 + 64, k = 0;
	unsigned long long ts, prev = 0;
	uint64_t flags;
	uint8_t *n;
	int first = 1;

	*out = NULL;
	*len = 0;
	if (size < uev_page_hdr(&lay) || !(n = calloc(1, cap)))
		return size < uev_page_hdr(&lay) ? -EINVAL : -ENOMEM;
	if (kbuffer_load_subbuffer(kb, (void *)src) < 0) {
		free(n);
		return -EINVAL;
	}
	flags = uev_page_getlong(&lay, src + 8);
	/* The new page's data starts right after its header, not where
	 * kbuffer_start_of_data() says the source's does: that skips a
	 * TIME_EXTEND the page begins with (a CPU quiet for over 2^27 ns),
	 * and the new page would begin with that many unwritten zero bytes
	 * outside its commit. */
	start = pos = uev_page_hdr(&lay);
	for (void *d = kbuffer_read_event(kb, &ts); d; d = kbuffer_next_event(kb, &ts), k++) {
		size_t off = (size_t)kbuffer_curr_offset(kb), hdr = (size_t)((const uint8_t *)d - (src + off));
		size_t elen = hdr + (((size_t)kbuffer_event_size(kb) + 3) & ~(size_t)3);
		uint64_t delta = first ? 0 : ts - prev;
		uint32_t w;

		if (!keep[k])
			continue;
		if (first)
			put64(&lay, n, ts); /* the page's time: its first kept event's */
		if (delta > DELTA_MAX) {
			put_word(&lay, n + pos, TYPE_TIME_EXTEND, (uint32_t)(delta & DELTA_MAX));
			put32(&lay, n + pos + 4, (uint32_t)(delta >> DELTA_BITS));
			pos += 8;
			delta = 0;
		}
		w = uev_page_get32(&lay, src + off);
		memcpy(n + pos, src + off, elen);
		put_word(&lay, n + pos, lay.big_endian ? w >> DELTA_BITS : w & 0x1f, (uint32_t)delta);
		pos += elen;
		prev = ts;
		first = 0;
	}
	flags = keep_missed ? flags & (UEV_PAGE_MISSED_EVENTS | UEV_PAGE_MISSED_STORED) : 0;
	putlong(&lay, n + 8, (uint64_t)(pos - start) | flags);
	if ((flags & UEV_PAGE_MISSED_EVENTS) && (flags & UEV_PAGE_MISSED_STORED)) {
		/* the count the kernel stored behind the committed data */
		size_t at = start + (size_t)(uev_page_getlong(&lay, src + 8) & UEV_PAGE_COMMIT_MASK);

		if (at + lay.long_size <= size)
			memcpy(n + pos, src + at, lay.long_size);
		pos += lay.long_size;
	}
	*out = n;
	*len = pos;
	return 0;
}
