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
 * tests/decode/test_page_walk.c checks that on real pages of the running
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

/*
 * How the kernel that wrote a sub-buffer laid it out: a sub-buffer is the
 * kernel's memory byte for byte, in its byte order, and its header's
 * commit word (local_t) and the stored missed count are its long. The
 * event header's type_len is the low 5 bits of its word on a little-endian
 * kernel and the high 5 bits on a big-endian one (a C bitfield). UEV_PAGE_HDR
 * and uev_page_commit() are this machine's, for pages it drains itself.
 */
struct uev_page_layout {
	uint8_t big_endian; /* the writer's byte order */
	uint8_t long_size;  /* 4 or 8 */
	uint8_t swap;       /* the writer's byte order is not this machine's */
};

static inline int uev_page_host_big_endian(void)
{
	const uint16_t one = 1;

	return !*(const uint8_t *)&one;
}

/* 0 with @l set, or -1 for a long size no kernel has. */
static inline int uev_page_layout_set(struct uev_page_layout *l, int big_endian, unsigned long_size)
{
	if (long_size != 4 && long_size != 8)
		return -1;
	l->big_endian = !!big_endian;
	l->long_size = (uint8_t)long_size;
	l->swap = l->big_endian != uev_page_host_big_endian();
	return 0;
}

static inline struct uev_page_layout uev_page_layout_host(void)
{
	struct uev_page_layout l;

	uev_page_layout_set(&l, uev_page_host_big_endian(), sizeof(long));
	return l;
}

/* Words of the writer's byte order, read at any alignment. */
static inline uint16_t uev_page_get16(const struct uev_page_layout *l, const void *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return l->swap ? __builtin_bswap16(v) : v;
}
static inline uint32_t uev_page_get32(const struct uev_page_layout *l, const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return l->swap ? __builtin_bswap32(v) : v;
}
static inline uint64_t uev_page_get64(const struct uev_page_layout *l, const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return l->swap ? __builtin_bswap64(v) : v;
}
/* The writer's kernel long: the commit word, the stored missed count. */
static inline uint64_t uev_page_getlong(const struct uev_page_layout *l, const void *p)
{
	return l->long_size == 4 ? uev_page_get32(l, p) : uev_page_get64(l, p);
}
/* Bytes of the sub-buffer header: u64 timestamp, long commit. */
static inline uint32_t uev_page_hdr(const struct uev_page_layout *l)
{
	return 8u + l->long_size;
}

struct uev_page_walk {
	const uint8_t *d; /* the committed data, after the page header */
	uint32_t pos, commit;
	struct uev_page_layout lay;
};

/* Bytes of event data the header of @page (@size bytes) commits; 0 when
 * @size cannot hold a header. This machine's layout. */
static inline uint32_t uev_page_commit(const void *page, size_t size)
{
	uint64_t flags;

	if (size < UEV_PAGE_HDR)
		return 0;
	memcpy(&flags, (const uint8_t *)page + 8, 8);
	return (uint32_t)(flags & UEV_PAGE_COMMIT_MASK);
}

/*
 * Starts a walk of @page (@size bytes) laid out as @l says (NULL: as this
 * machine's kernel does). 0, or -1 with the reason in *why when the header
 * commits more than @size holds (with the stored missed-events count
 * behind the data when the flags say so).
 */
static inline int uev_page_walk_init_as(struct uev_page_walk *w, const void *page, size_t size,
					const struct uev_page_layout *l, const char **why)
{
	uint64_t flags;
	uint32_t hdr;

	w->lay = l ? *l : uev_page_layout_host();
	hdr = uev_page_hdr(&w->lay);
	*why = "shorter than a sub-buffer header";
	if (size < hdr)
		return -1;
	flags = uev_page_getlong(&w->lay, (const uint8_t *)page + 8);
	w->d = (const uint8_t *)page + hdr;
	w->pos = 0;
	w->commit = (uint32_t)(flags & UEV_PAGE_COMMIT_MASK);
	*why = "its header commits more data than it holds";
	if (hdr + (uint64_t)w->commit +
	    ((flags & UEV_PAGE_MISSED_EVENTS) && (flags & UEV_PAGE_MISSED_STORED) ? w->lay.long_size : 0) >
	    size)
		return -1;
	return 0;
}

static inline int uev_page_walk_init(struct uev_page_walk *w, const void *page, size_t size,
				     const char **why)
{
	return uev_page_walk_init_as(w, page, size, NULL, why);
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
		word = uev_page_get32(&w->lay, w->d + w->pos);
		tl = w->lay.big_endian ? word >> 27 : word & 31;
		if (tl >= 29 || tl == 0) { /* a second word follows */
			if (w->commit - w->pos < 8)
				return -1;
			arg = uev_page_get32(&w->lay, w->d + w->pos + 4);
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
 * the reason in *why. _as: laid out as @l says (NULL: this machine's).
 */
int uev_page_check(struct tep_handle *tep, const void *page, size_t size, const char **why);
int uev_page_check_as(struct tep_handle *tep, const void *page, size_t size,
		      const struct uev_page_layout *l, const char **why);

/* Is event id @id one a reader may look up? @visible has a bit per id
 * below 65536; NULL makes every id visible. A tep handle kept from an
 * earlier decode of the same formats may hold formats that the file being
 * read brings only later (ringdecode.c): those stay unknown until then. */
static inline int uev_id_visible(const uint64_t *visible, int id)
{
	return !visible || (id >= 0 && id < 65536 && (visible[id / 64] >> (id % 64) & 1));
}

/* uev_page_check_as() where only the events of @tep whose ids are
 * visible (uev_id_visible) count as known. */
int uev_page_check_visible(struct tep_handle *tep, const uint64_t *visible, const void *page, size_t size,
			   const struct uev_page_layout *l, const char **why);

#endif
