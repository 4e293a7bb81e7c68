/* SPDX-License-Identifier: MIT */
/*
 * Test-side helpers shared by the unit tests: an independent decoder of a
 * user_events payload written from the kernel's rules (not from libuev's
 * encoder) and a strict UTF-8 validator.
 *
 * Kernel rules the decoder enforces:
 *   - fields are packed from offset 0 in declaration order, no alignment,
 *     host endian;
 *   - a __rel_loc word is (len << 16) | off, off counting from the END of the
 *     4-byte word, len including the terminating NUL;
 *   - the data must lie inside the payload and its last byte must be NUL
 *     (what the user_events validator checks).
 * On top of that it checks what uev promises: string data after the fixed
 * part, in field order, without embedded NULs, and char[N] NUL-terminated.
 */
#ifndef UNIT_DECODE_H
#define UNIT_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum ukind { UK_U, UK_S, UK_CHAR, UK_REL };

struct ufield {
	enum ukind kind;
	unsigned size; /* 1/2/4/8 for integers, N for char[N], 4 for __rel_loc */
};

struct uval {
	uint64_t u;
	int64_t s;
	const uint8_t *str; /* char[N] / __rel_loc text */
	size_t slen;        /* bytes before the NUL */
	size_t data_off;    /* __rel_loc: payload offset of the data */
};

static inline uint64_t u_load(const uint8_t *p, unsigned size)
{
	uint8_t a; uint16_t b; uint32_t c; uint64_t d;

	switch (size) {
	case 1: memcpy(&a, p, 1); return a;
	case 2: memcpy(&b, p, 2); return b;
	case 4: memcpy(&c, p, 4); return c;
	default: memcpy(&d, p, 8); return d;
	}
}

static inline int64_t s_load(const uint8_t *p, unsigned size)
{
	int8_t a; int16_t b; int32_t c; int64_t d;

	switch (size) {
	case 1: memcpy(&a, p, 1); return a;
	case 2: memcpy(&b, p, 2); return b;
	case 4: memcpy(&c, p, 4); return c;
	default: memcpy(&d, p, 8); return d;
	}
}

/* Decode @len bytes at @p as @n fields. NULL on success, else why not.
 * *end receives the offset just past the last string's data (or the fixed
 * part when there are no strings), so callers can check compactness. */
static inline const char *udecode(const uint8_t *p, size_t len, const struct ufield *f,
				  unsigned n, struct uval *v, size_t *end)
{
	size_t off = 0, fixed = 0, last_data = 0;

	for (unsigned i = 0; i < n; i++)
		fixed += f[i].size;
	if (fixed > len)
		return "fixed part longer than the payload";
	*end = fixed;
	for (unsigned i = 0; i < n; i++) {
		memset(&v[i], 0, sizeof(v[i]));
		switch (f[i].kind) {
		case UK_U:
			v[i].u = u_load(p + off, f[i].size);
			break;
		case UK_S:
			v[i].s = s_load(p + off, f[i].size);
			break;
		case UK_CHAR:
			v[i].str = p + off;
			v[i].slen = strnlen((const char *)p + off, f[i].size);
			if (v[i].slen == f[i].size)
				return "char[N] without a NUL";
			break;
		case UK_REL: {
			uint32_t loc = (uint32_t)u_load(p + off, 4);
			size_t dlen = loc >> 16, doff = off + 4 + (loc & 0xffff);

			if (dlen == 0)
				return "__rel_loc length 0 (no room for the NUL)";
			if (doff + dlen > len)
				return "__rel_loc data outside the payload";
			if (p[doff + dlen - 1] != 0)
				return "__rel_loc data does not end in NUL";
			if (memchr(p + doff, 0, dlen - 1))
				return "__rel_loc data has an embedded NUL";
			if (doff < fixed)
				return "__rel_loc data overlaps the fixed part";
			if (doff < last_data)
				return "__rel_loc data not in field order";
			last_data = doff + dlen;
			*end = last_data;
			v[i].str = p + doff;
			v[i].slen = dlen - 1;
			v[i].data_off = doff;
			break;
		}
		}
		off += f[i].size;
	}
	return NULL;
}

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
static inline int utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		unsigned k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1; cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2; cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3; cp = c & 0x07;
		} else {
			return 0;
		}
		for (unsigned j = 1; j <= k; j++) {
			if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

#define U_ELLIPSIS "\xe2\x80\xa6"

#endif
