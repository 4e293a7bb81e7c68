/* SPDX-License-Identifier: MIT */
/*
 * Payload encoding, identical for both backends: fields packed in
 * declaration order without alignment (as the kernel lays out user events),
 * then the string data of the __rel_loc fields in the same order. A __rel_loc
 * word is (length << 16) | offset, length counting the NUL and offset counting
 * from the end of the 4-byte word itself; the kernel checks that the data lies
 * inside the record and ends with NUL, so every string here is terminated.
 *
 * Budget: the record never exceeds UEV_PAYLOAD_MAX. Strings are served in
 * order; each keeps one byte back for every string still to come, so a long
 * first string can never squeeze a later one out of the record. A cut string
 * ends at a UTF-8 boundary followed by U+2026, the visible truncation flag.
 *
 * Everything here is async-signal-safe: no allocation, no locks, no stdio.
 */
#include <string.h>

#include "uev-def.h"
#include "uev-internal.h"

static const char ellipsis[3] = { (char)0xe2, (char)0x80, (char)0xa6 };

size_t uev_utf8_cut(const char *s, size_t n)
{
	/* s[n] is the first byte dropped: if it continues a sequence, the kept
	 * part would end inside it, so back up to the sequence's lead byte. */
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* Fit a string of at least @avail bytes (NUL included) into @avail bytes. */
static size_t fit(const char *s, size_t avail, uint8_t *cut)
{
	size_t n = avail ? strnlen(s, avail) : 0;

	*cut = 0;
	if (n < avail)
		return n;
	if (avail == 0) /* cannot happen: the budget keeps a byte per string */
		return 0;
	*cut = avail > 4;
	return uev_utf8_cut(s, avail - 1 - (*cut ? sizeof(ellipsis) : 0));
}

size_t uev_encode_prepare(const struct uev_event *ev, va_list ap, struct uev_args *a)
{
	size_t left = UEV_PAYLOAD_MAX - ev->_fixed_size, total = ev->_fixed_size;

	a->flags = 0;
	for (unsigned i = 0; i < ev->_nfields; i++) {
		size_t used;

		switch (ev->_field[i].type) {
		case UEV_T_U64:
		case UEV_T_S64:
			a->v[i].u = va_arg(ap, uint64_t);
			break;
		case UEV_T_CHAR_ARRAY:
			a->v[i].s = va_arg(ap, const char *);
			if (!a->v[i].s)
				a->v[i].s = "";
			a->keep[i] = (uint16_t)fit(a->v[i].s, ev->_field[i].size, &a->cut[i]);
			if (a->v[i].s[a->keep[i]]) /* kept less than the whole string */
				a->flags |= UEV_EMIT_TRUNCATED;
			break;
		case UEV_T_REL_LOC:
			a->v[i].s = va_arg(ap, const char *);
			if (!a->v[i].s)
				a->v[i].s = "";
			a->keep[i] = (uint16_t)fit(a->v[i].s, left - ev->_field[i].strings_after, &a->cut[i]);
			used = a->keep[i] + 1u + (a->cut[i] ? sizeof(ellipsis) : 0);
			if (a->v[i].s[a->keep[i]])
				a->flags |= UEV_EMIT_TRUNCATED;
			left -= used;
			total += used;
			break;
		default: /* 8..32-bit integers travel as int through varargs */
			a->v[i].u = (uint32_t)va_arg(ap, int);
			break;
		}
	}
	return total;
}

void uev_encode_write(const struct uev_event *ev, const struct uev_args *a, uint8_t *out)
{
	uint8_t *fix = out, *data = out + ev->_fixed_size;

	for (unsigned i = 0; i < ev->_nfields; i++) {
		unsigned sz = ev->_field[i].size;
		uint8_t u8;
		uint16_t u16;
		uint32_t u32, loc;
		size_t n;

		switch (ev->_field[i].type) {
		case UEV_T_U8:
		case UEV_T_S8:
			u8 = (uint8_t)a->v[i].u;
			*fix = u8;
			break;
		case UEV_T_U16:
		case UEV_T_S16:
			u16 = (uint16_t)a->v[i].u;
			memcpy(fix, &u16, 2);
			break;
		case UEV_T_U32:
		case UEV_T_S32:
			u32 = (uint32_t)a->v[i].u;
			memcpy(fix, &u32, 4);
			break;
		case UEV_T_U64:
		case UEV_T_S64:
			memcpy(fix, &a->v[i].u, 8);
			break;
		case UEV_T_CHAR_ARRAY:
			n = a->keep[i];
			memcpy(fix, a->v[i].s, n);
			if (a->cut[i]) {
				memcpy(fix + n, ellipsis, sizeof(ellipsis));
				n += sizeof(ellipsis);
			}
			memset(fix + n, 0, sz - n);
			break;
		case UEV_T_REL_LOC:
			n = a->keep[i];
			memcpy(data, a->v[i].s, n);
			if (a->cut[i]) {
				memcpy(data + n, ellipsis, sizeof(ellipsis));
				n += sizeof(ellipsis);
			}
			data[n++] = 0;
			loc = (uint32_t)n << 16 | (uint32_t)(data - (fix + 4));
			memcpy(fix, &loc, 4);
			data += n;
			break;
		}
		fix += sz;
	}
}
