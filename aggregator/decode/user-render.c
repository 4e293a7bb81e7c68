/* SPDX-License-Identifier: MIT */
/*
 * User fields, read and rendered (user-render.h). The renderer walks a
 * record's fields once and hands bytes to a sink: a trace_seq for the
 * programs that print with libtraceevent, uev-replay's line buffer for its
 * outputs. Runs of bytes that need no escaping go to the sink whole, and
 * numbers are converted without printf: uev-replay renders hundreds of
 * thousands of records a second (bench/replay).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <event-parse.h>
#include <trace-seq.h>

#include "decode.h"
#include "user-render.h"

int uev_payload_field(const struct uev_def *def, const uint8_t *p, size_t len, unsigned i,
		      uint64_t *num, const char **str, size_t *slen)
{
	size_t off = 0;
	const struct uev_def_field *f;
	uint32_t loc, dlen, doff;

	if (i >= def->nfields || def->fixed_size > len)
		return -EBADMSG;
	for (unsigned k = 0; k < i; k++)
		off += def->field[k].size;
	f = &def->field[i];
	*num = 0;
	switch (f->type) {
	case UEV_T_U8: *num = p[off]; break;
	case UEV_T_S8: *num = (uint64_t)(int64_t)(int8_t)p[off]; break;
	case UEV_T_U16: case UEV_T_S16: {
		uint16_t v;
		memcpy(&v, p + off, 2);
		*num = f->type == UEV_T_S16 ? (uint64_t)(int64_t)(int16_t)v : v;
		break;
	}
	case UEV_T_U32: case UEV_T_S32: {
		uint32_t v;
		memcpy(&v, p + off, 4);
		*num = f->type == UEV_T_S32 ? (uint64_t)(int64_t)(int32_t)v : v;
		break;
	}
	case UEV_T_U64: case UEV_T_S64:
		memcpy(num, p + off, 8);
		break;
	case UEV_T_CHAR_ARRAY:
		*str = (const char *)p + off;
		*slen = strnlen(*str, f->size);
		break;
	case UEV_T_REL_LOC:
		memcpy(&loc, p + off, 4);
		dlen = loc >> 16;
		doff = (uint32_t)off + 4 + (loc & 0xffff);
		if (dlen == 0 || doff + dlen > len || p[doff + dlen - 1] != 0)
			return -EBADMSG;
		*str = (const char *)p + doff;
		*slen = strnlen(*str, dlen);
		break;
	default:
		return -EBADMSG;
	}
	return f->type;
}

static void put(const struct uev_render_sink *k, const char *s, size_t n)
{
	k->put(k->ctx, s, n);
}

static void put_u64(const struct uev_render_sink *k, uint64_t v)
{
	char d[24], *p = d + sizeof(d);

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	put(k, p, (size_t)(d + sizeof(d) - p));
}

static void put_i64(const struct uev_render_sink *k, int64_t v)
{
	if (v < 0) {
		put(k, "-", 1);
		put_u64(k, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(k, (uint64_t)v);
	}
}

/* The escape of byte @c in @style into @esc (its length), or 0 when @c
 * stands for itself: '"' and '\' are backslashed, other control bytes
 * (and DEL) spelled in hex, the rest (UTF-8 too) passes through. */
static size_t escape(enum uev_render_style style, unsigned char c, char esc[6])
{
	static const char hex[] = "0123456789abcdef";

	if (c != '"' && c != '\\' && c >= 0x20 && c != 0x7f)
		return 0;
	esc[0] = '\\';
	if (c == '"' || c == '\\') {
		esc[1] = (char)c;
		return 2;
	}
	if (style == UEV_RENDER_TEXT) {
		esc[1] = 'x', esc[2] = hex[c >> 4], esc[3] = hex[c & 15];
		return 4;
	}
	if (c == '\n' || c == '\t') {
		esc[1] = c == '\n' ? 'n' : 't';
		return 2;
	}
	esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
	return 6;
}

void uev_render_string(enum uev_render_style style, const struct uev_render_sink *k, const char *s, size_t n)
{
	size_t run = 0;

	put(k, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		char esc[6];
		size_t elen = escape(style, (unsigned char)s[i], esc);

		if (!elen)
			continue;
		put(k, s + run, i - run);
		run = i + 1;
		put(k, esc, elen);
	}
	put(k, s + run, n - run);
	put(k, "\"", 1);
}

void uev_render_user_fields(enum uev_render_style style, const struct uev_render_sink *k,
			    const struct uev_rec *r, int first)
{
	const int json = style == UEV_RENDER_JSON;

	for (unsigned i = 0; r->def && i < r->def->nfields; i++) {
		const char *name = r->def->field[i].name, *str;
		uint64_t num;
		size_t slen;
		int t = uev_payload_field(r->def, r->payload, r->len, i, &num, &str, &slen);

		if (!first || i)
			put(k, json ? "," : " ", 1);
		if (json)
			uev_render_string(style, k, name, strlen(name));
		else
			put(k, name, strlen(name));
		put(k, json ? ":" : "=", 1);
		if (t < 0)
			put(k, json ? "null" : "<bad>", json ? 4 : 5);
		else if (t == UEV_T_CHAR_ARRAY || t == UEV_T_REL_LOC)
			uev_render_string(style, k, str, slen);
		else if (t >= UEV_T_S8 && t <= UEV_T_S64)
			put_i64(k, (int64_t)num);
		else
			put_u64(k, num);
	}
}

/* The trace_seq sink: its bytes never hold a NUL (strings were cut at it). */
static void seq_put(void *ctx, const char *s, size_t n)
{
	trace_seq_printf(ctx, "%.*s", (int)n, s);
}

void uev_rec_print_fields(struct uev_decoder *d, const struct uev_rec *r, struct trace_seq *s)
{
	const struct uev_render_sink k = { seq_put, s };
	uint32_t id;

	(void)d; /* kernel records carry their tep handle */
	switch (r->kind) {
	case UEV_REC_ANNOUNCE:
		memcpy(&id, r->payload, 4);
		trace_seq_printf(s, "announce id=%#x def=\"%s\"", id, r->def->canonical);
		return;
	case UEV_REC_UNKNOWN:
		trace_seq_printf(s, "unknown marker id=%#x len=%zu:", r->marker_id, r->len);
		for (size_t i = 0; i < r->len && i < 64; i++)
			trace_seq_printf(s, " %02x", r->payload[i]);
		return;
	case UEV_REC_USER:
		if (r->def)
			break;
		/* user_events records print by their kernel format */
		/* fall through */
	case UEV_REC_KERNEL:
		if (r->event)
			tep_print_event(r->event->tep, s, r->record, "%s", TEP_PRINT_INFO);
		return;
	}
	uev_render_user_fields(UEV_RENDER_TEXT, &k, r, 1);
}
