/* SPDX-License-Identifier: MIT */
/*
 * What a sub-buffer from a file must satisfy before kbuffer and
 * libtraceevent may read it. Neither bounds its reads by anything but the
 * page's own header, and kbuffer loops forever on an event length that does
 * not move it forward; pages straight from the kernel are always sane, but
 * a ring file can be damaged or made up, and its reader must not crash or
 * hang on it (found by tests/fuzz, reproducers in tests/fuzz/crashes/).
 */
#include <stdint.h>
#include <string.h>
#include <event-parse.h>

#include "page-check.h"

#define COMMIT_MASK ((1u << 27) - 1)
#define MISSED_EVENTS (1ull << 31)
#define MISSED_STORED (1ull << 30)

/* One kernel event's data (@len bytes): every field of its format inside
 * it, every dynamic field's string inside it and NUL-terminated, because
 * libtraceevent prints those with %s. */
static int fields_inside(struct tep_handle *tep, const uint8_t *data, uint32_t len)
{
	struct tep_format_field *f;
	struct tep_event *ev;
	uint16_t type;

	if (len < 8) /* the common fields every lookup reads */
		return 0;
	memcpy(&type, data, 2);
	if (!tep || !(ev = tep_find_event(tep, type)))
		return 1; /* printed as unknown: nothing of it is read */
	for (f = ev->format.fields; f; f = f->next) {
		uint32_t v, off, n;

		if (f->offset < 0 || (uint64_t)f->offset + (uint64_t)(f->size > 0 ? f->size : 0) > len)
			return 0;
		if (!(f->flags & TEP_FIELD_IS_DYNAMIC))
			continue;
		if ((uint64_t)f->offset + 4 > len)
			return 0;
		memcpy(&v, data + f->offset, 4);
		off = (v & 0xffff) + (f->flags & TEP_FIELD_IS_RELATIVE ? (uint32_t)(f->offset + f->size) : 0);
		n = v >> 16;
		if (off > len || n > len - off || ((f->flags & TEP_FIELD_IS_STRING) && !memchr(data + off, 0, len - off)))
			return 0;
	}
	return 1;
}

/* The event framing is walked as kbuffer walks it, with bounds. */
int uev_page_check(struct tep_handle *tep, const void *page, size_t size, const char **why)
{
	const uint8_t *p = page, *d = p + 16;
	uint64_t flags;
	uint32_t commit, pos = 0;

	*why = "shorter than a sub-buffer header";
	if (size < 16)
		return 0;
	memcpy(&flags, p + 8, 8);
	commit = (uint32_t)(flags & COMMIT_MASK);
	*why = "its header commits more data than it holds";
	if (16 + (uint64_t)commit + ((flags & MISSED_EVENTS) && (flags & MISSED_STORED) ? 8 : 0) > size)
		return 0;
	*why = "an event runs past the committed data";
	while (pos < commit) {
		uint32_t w, tl, len, body, arg = 0;

		if (commit - pos < 4)
			return 0;
		memcpy(&w, d + pos, 4);
		tl = w & 31;
		if (tl >= 29 || tl == 0) { /* a second word follows */
			if (commit - pos < 8)
				return 0;
			memcpy(&arg, d + pos + 4, 4);
		}
		if (tl == 30 || tl == 31) { /* time extend, absolute time stamp */
			pos += 8;
			continue;
		}
		if (tl == 29) { /* padding: arg bytes after its header word */
			/* The kernel pads in words; an odd length would leave
			 * every later event (and its fields) misaligned. */
			if (arg > commit - pos - 4 || arg % 4)
				return 0;
			pos += 4 + arg;
			continue;
		}
		body = tl ? pos + 4 : pos + 8;
		if (!tl && (arg < 4 || arg > commit))
			return 0;
		len = tl ? tl * 4 : ((arg - 4) + 3) & ~3u;
		if (body > commit || len > commit - body)
			return 0;
		if (!fields_inside(tep, d + body, len)) {
			*why = "an event's fields or strings run past the event";
			return 0;
		}
		pos = body + len; /* at least 4 bytes on: progress */
	}
	return 1;
}
