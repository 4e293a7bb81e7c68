/* SPDX-License-Identifier: MIT */
/*
 * Payload encoding, identical for both backends: fields packed in
 * declaration order without alignment (as the kernel lays out user events),
 * then the string data of the __rel_loc fields in the same order. A __rel_loc
 * word is (length << 16) | offset, length counting the NUL and offset counting
 * from the end of the 4-byte word itself; the kernel checks that the data lies
 * inside the record and ends with NUL, so every string here is terminated.
 *
 * Budget: the payload never exceeds UEV_PAYLOAD_MAX. Strings are served in
 * order; each keeps one byte back for every string still to come, so a long
 * first string can never squeeze a later one out of the record. A cut string
 * ends at a UTF-8 boundary followed by U+2026, the visible truncation flag.
 * What is cut depends only on that budget, never on @cap, so a measuring pass
 * and a writing pass always agree.
 *
 * One pass, no allocation, no locks, no stdio: async-signal-safe. The emit
 * path encodes into a small stack buffer first and only measures and
 * re-encodes into an exactly sized one when the record is larger.
 */
#include <stdint.h>
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

/* Bytes of @s to keep in @room bytes that must also hold the NUL; *cut says
 * whether the ellipsis follows them. */
static inline __attribute__((always_inline)) size_t fit(const char *s, size_t room, int *cut)
{
	size_t n = strnlen(s, room);

	*cut = 0;
	if (n < room)
		return n;
	*cut = room > sizeof(ellipsis) + 1;
	return uev_utf8_cut(s, room - 1 - (*cut ? sizeof(ellipsis) : 0));
}

/* Store @n bytes of @s (+ ellipsis if @cut) at @dst; returns bytes stored. */
static inline __attribute__((always_inline)) size_t put_text(uint8_t *dst, const char *s, size_t n, int cut)
{
	memcpy(dst, s, n);
	if (cut) {
		memcpy(dst + n, ellipsis, sizeof(ellipsis));
		n += sizeof(ellipsis);
	}
	return n;
}

/*
 * The text fields of @ev from @texts: char[N] into their slot of the fixed
 * part, __rel_loc strings appended behind it in field order. The fixed part
 * (integers) is already in @out. Returns the payload length or 0 (see
 * uev-internal.h).
 */
static inline __attribute__((always_inline)) size_t put_texts(const struct uev_event *ev, uint8_t *out, size_t cap,
			const char *const *texts, int *flags)
{
	size_t data = ev->_p.fixed_size, left = UEV_PAYLOAD_MAX - data;

	for (unsigned t = 0; t < ev->_p.ntext; t++) {
		unsigned i = ev->_p.text[t], size = ev->_p.field[i].size, off = ev->_p.field[i].offset;
		const char *s = texts[t] ? texts[t] : "";
		size_t n, used;
		uint32_t loc;
		int cut;

		if (ev->_p.field[i].type == UEV_T_CHAR_ARRAY) {
			n = fit(s, size, &cut);
			if (s[n]) /* kept less than the whole string */
				*flags |= UEV_EMIT_TRUNCATED;
			if (out) {
				n = put_text(out + off, s, n, cut);
				memset(out + off + n, 0, size - n);
			}
		} else {
			size_t room = left - ev->_p.field[i].strings_after;

			n = strnlen(s, room);
			if (__builtin_expect(n < room, 1)) { /* whole string and its NUL */
				used = n + 1;
				if (data + used > cap)
					return 0;
				if (out)
					memcpy(out + data, s, used);
			} else {
				n = fit(s, room, &cut);
				*flags |= UEV_EMIT_TRUNCATED;
				used = n + 1 + (cut ? sizeof(ellipsis) : 0);
				if (data + used > cap)
					return 0;
				if (out) {
					put_text(out + data, s, n, cut);
					out[data + used - 1] = 0;
				}
			}
			if (out) {
				loc = (uint32_t)used << 16 | (uint32_t)(data - (off + 4));
				memcpy(out + off, &loc, 4);
			}
			data += used;
			left -= used;
		}
	}
	return data;
}

size_t uev_encode_packed(const struct uev_event *ev, uint8_t *out, size_t cap,
			 const void *fixed, const char *const *texts, int *flags)
{
	if (ev->_p.fixed_size > cap)
		return 0;
	if (out && fixed)
		memcpy(out, fixed, ev->_p.fixed_size);
	return put_texts(ev, out, cap, texts, flags);
}

size_t uev_encode_va(const struct uev_event *ev, uint8_t *out, size_t cap, va_list ap, int *flags)
{
	const char *texts[UEV_MAX_FIELDS];
	unsigned ntext = 0;

	if (ev->_p.fixed_size > cap)
		return 0;
	for (unsigned i = 0; i < ev->_p.nfields; i++) {
		unsigned type = ev->_p.field[i].type, off = ev->_p.field[i].offset;
		uint64_t v64;
		uint32_t v32;
		uint16_t v16;

		if (type == UEV_T_U64 || type == UEV_T_S64) {
			v64 = va_arg(ap, uint64_t);
			if (out)
				memcpy(out + off, &v64, 8);
		} else if (type == UEV_T_CHAR_ARRAY || type == UEV_T_REL_LOC) {
			texts[ntext++] = va_arg(ap, const char *);
		} else { /* 8..32-bit integers travel as int through varargs */
			v32 = (uint32_t)va_arg(ap, int);
			if (!out)
				continue;
			if (ev->_p.field[i].size == 4) {
				memcpy(out + off, &v32, 4);
			} else if (ev->_p.field[i].size == 2) {
				v16 = (uint16_t)v32;
				memcpy(out + off, &v16, 2);
			} else {
				out[off] = (uint8_t)v32;
			}
		}
	}
	return put_texts(ev, out, cap, texts, flags);
}
