/* SPDX-License-Identifier: MIT */
/* What a sub-buffer must satisfy before kbuffer and libtraceevent may read
 * it (page-check.h). */
#include <string.h>
#include <event-parse.h>

#include "page-check.h"

int fuzz_subbuffer_complete(const uint8_t *p, size_t size)
{
	uint64_t flags, commit;

	if (size < 16)
		return 0;
	memcpy(&flags, p + 8, 8);
	commit = flags & ((1u << 27) - 1);
	if ((flags & (1ull << 31)) && (flags & (1ull << 30)))
		commit += 8;
	return 16 + commit <= size;
}

/* One kernel event's data (@len bytes): every field of its format inside
 * it, every dynamic field's string inside it and NUL-terminated. */
static int fields_inside(struct tep_handle *tep, const uint8_t *data, uint32_t len)
{
	struct tep_format_field *f;
	struct tep_event *ev;
	uint16_t type;

	if (len < 8) /* the common fields every lookup reads */
		return 0;
	memcpy(&type, data, 2);
	ev = tep_find_event(tep, type);
	if (!ev)
		return 1; /* printed as unknown, nothing read */
	for (f = ev->format.fields; f; f = f->next) {
		uint32_t v, off, n;

		if ((uint64_t)f->offset + (uint64_t)(f->size > 0 ? f->size : 0) > len)
			return 0;
		if (!(f->flags & TEP_FIELD_IS_DYNAMIC))
			continue;
		memcpy(&v, data + f->offset, 4);
		off = (v & 0xffff) + (f->flags & TEP_FIELD_IS_RELATIVE ? (uint32_t)(f->offset + f->size) : 0);
		n = v >> 16;
		if (off + n > len || !memchr(data + off, 0, len - off))
			return 0;
	}
	return 1;
}

/* The event framing is walked as kbuffer walks it (translate_data in
 * kbuffer-parse.c), but with bounds. */
int fuzz_subbuffer_sane(struct tep_handle *tep, const uint8_t *p, size_t size)
{
	uint64_t flags;
	uint32_t commit, pos = 0;
	const uint8_t *d = p + 16;

	memcpy(&flags, p + 8, 8);
	commit = (uint32_t)(flags & ((1u << 27) - 1));
	if (!fuzz_subbuffer_complete(p, size))
		return 0;
	while (pos < commit) {
		uint32_t w, tl, len, body, arg;

		if (commit - pos < 4)
			return 0;
		memcpy(&w, d + pos, 4);
		tl = w & 31;
		if (tl >= 29 || tl == 0) { /* a second word follows */
			if (commit - pos < 8)
				return 0;
			memcpy(&arg, d + pos + 4, 4);
		}
		if (tl == 30 || tl == 31) { /* time extend, time stamp */
			pos += 8;
			continue;
		}
		if (tl == 29) { /* padding: skips arg bytes after its header */
			if (arg > commit - pos - 4)
				return 0;
			pos += 4 + arg;
			continue;
		}
		body = tl ? pos + 4 : pos + 8;
		len = tl ? tl * 4 : ((arg - 4) + 3) & ~3u;
		if (!tl && (arg < 4 || arg > commit))
			return 0;
		if (len > commit - body || !fields_inside(tep, d + body, len))
			return 0;
		pos = body + len; /* at least 4 bytes on: progress */
	}
	return 1;
}
