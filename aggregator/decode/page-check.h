/* SPDX-License-Identifier: MIT */
/*
 * The event framing of a sub-buffer (events/header_page, header_event),
 * walked with bounds: the one walk shared by the safety check of pages
 * read from files and by the aggregator's scan of every page it drains.
 *
 * Why a walk of our own next to kbuffer: kbuffer also computes each
 * event's timestamp and reads every word through a byte-order callback,
 * about 60 ns per event here. The aggregator needs no timestamps, only
 * where each event's body is (for its id, pid and a few bodies it keeps),
 * and that per-event walk through kbuffer was half of its CPU under load
 * (bench/drain). Everything that decodes events (replay, trace.dat,
 * ringdump) still goes through kbuffer and libtraceevent; this walk only
 * finds event bodies. It must agree with kbuffer event for event:
 * tests/kernel/test_page_walk.c checks that on real pages of the running
 * kernel, tests/fuzz/fuzz_page.c on every made-up page uev_page_check()
 * accepts.
 */
#ifndef UEV_PAGE_CHECK_H
#define UEV_PAGE_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct tep_handle;

#define UEV_PAGE_HDR 16u                   /* u64 timestamp, u64 commit and flags */
#define UEV_PAGE_COMMIT_MASK ((1u << 27) - 1)
#define UEV_PAGE_MISSED_EVENTS (1ull << 31)
#define UEV_PAGE_MISSED_STORED (1ull << 30)

struct uev_page_walk {
	const uint8_t *d; /* the committed data, after the page header */
	uint32_t pos, commit;
};

/* Bytes of event data the header of @page (@size bytes) commits; 0 when
 * @size cannot hold a header. */
static inline uint32_t uev_page_commit(const void *page, size_t size)
{
	uint64_t flags;

	if (size < UEV_PAGE_HDR)
		return 0;
	memcpy(&flags, (const uint8_t *)page + 8, 8);
	return (uint32_t)(flags & UEV_PAGE_COMMIT_MASK);
}

/*
 * Starts a walk of @page (@size bytes). 0, or -1 with the reason in *why
 * when the header commits more than @size holds (with the stored
 * missed-events count behind the data when the flags say so).
 */
static inline int uev_page_walk_init(struct uev_page_walk *w, const void *page, size_t size,
				     const char **why)
{
	uint64_t flags;

	*why = "shorter than a sub-buffer header";
	if (size < UEV_PAGE_HDR)
		return -1;
	memcpy(&flags, (const uint8_t *)page + 8, 8);
	w->d = (const uint8_t *)page + UEV_PAGE_HDR;
	w->pos = 0;
	w->commit = (uint32_t)(flags & UEV_PAGE_COMMIT_MASK);
	*why = "its header commits more data than it holds";
	if (UEV_PAGE_HDR + (uint64_t)w->commit +
	    ((flags & UEV_PAGE_MISSED_EVENTS) && (flags & UEV_PAGE_MISSED_STORED) ? 8 : 0) > size)
		return -1;
	return 0;
}

/*
 * The next data event: 1 with its body in *@body (@*len bytes, a multiple
 * of 4, including the kernel's alignment padding), 0 at the end of the
 * committed data, -1 with the reason in *why when an event header or body
 * runs past it. Time extends, absolute stamps and padding are stepped over;
 * every step moves forward at least 4 bytes, so a walk always ends.
 */
static inline int uev_page_walk_next(struct uev_page_walk *w, const uint8_t **body, uint32_t *len,
				     const char **why)
{
	*why = "an event runs past the committed data";
	while (w->pos < w->commit) {
		uint32_t word, tl, arg = 0, at, n;

		if (w->commit - w->pos < 4)
			return -1;
		memcpy(&word, w->d + w->pos, 4);
		tl = word & 31;
		if (tl >= 29 || tl == 0) { /* a second word follows */
			if (w->commit - w->pos < 8)
				return -1;
			memcpy(&arg, w->d + w->pos + 4, 4);
		}
		if (tl == 30 || tl == 31) { /* time extend, absolute time stamp */
			w->pos += 8;
			continue;
		}
		if (tl == 29) { /* padding: arg bytes after its header word */
			/* The kernel pads in words; an odd length would leave
			 * every later event (and its fields) misaligned. */
			if (arg > w->commit - w->pos - 4 || arg % 4)
				return -1;
			w->pos += 4 + arg;
			continue;
		}
		at = tl ? w->pos + 4 : w->pos + 8;
		if (!tl && (arg < 4 || arg > w->commit))
			return -1;
		n = tl ? tl * 4 : ((arg - 4) + 3) & ~3u;
		if (at > w->commit || n > w->commit - at)
			return -1;
		*body = w->d + at;
		*len = n;
		w->pos = at + n;
		return 1;
	}
	return 0;
}

/*
 * Is the sub-buffer @page (@size bytes: header, committed data, and the
 * stored missed-events count when its header says so) safe to hand to
 * kbuffer and libtraceevent: every event header and body inside the
 * committed data, every event a step forward, and for each event whose
 * format @tep knows (may be NULL), every field inside the event and every
 * __data_loc/__rel_loc string inside it and NUL-terminated? 1, or 0 with
 * the reason in *why.
 */
int uev_page_check(struct tep_handle *tep, const void *page, size_t size, const char **why);

#endif
