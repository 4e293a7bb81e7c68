/* SPDX-License-Identifier: MIT */
/*
 * uev-replay's text and JSON-lines output. The JSON keys are documented in
 * docs/uev-replay.1 and are a stable interface: add keys, never rename.
 * User fields, in text and JSON, are rendered by decode's one renderer
 * (uev_render_user_fields), as uev-ringdump prints them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <event-parse.h>
#include <trace-seq.h>

#include "replay.h"
#include "uev-grow.h"

/* ---- the line buffer ----------------------------------------------------- */

void rp_buf_put(struct rp_buf *b, const char *s, size_t n)
{
	/* + 1: the text stays NUL-terminated (--grep matches it as a string) */
	if (UEV_GROW(b->s, b->cap, b->len + n + 1) < 0) {
		b->oom = 1;
		return;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

void rp_buf_puts(struct rp_buf *b, const char *s)
{
	rp_buf_put(b, s, strlen(s));
}

void rp_buf_u64(struct rp_buf *b, uint64_t v)
{
	char d[24], *p = d + sizeof(d);

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	rp_buf_put(b, p, (size_t)(d + sizeof(d) - p));
}

void rp_buf_i64(struct rp_buf *b, int64_t v)
{
	if (v < 0) {
		rp_buf_put(b, "-", 1);
		rp_buf_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		rp_buf_u64(b, (uint64_t)v);
	}
}

/* @v as exactly @width digits, zero-padded. */
static void put_digits(struct rp_buf *b, uint64_t v, int width)
{
	char d[24];

	for (int i = width - 1; i >= 0; i--, v /= 10)
		d[i] = (char)('0' + v % 10);
	rp_buf_put(b, d, (size_t)width);
}

void rp_buf_free(struct rp_buf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

/* ---- time ------------------------------------------------------------------ */

void rp_format_wall(char *buf, size_t size, int64_t ns, int utc)
{
	time_t sec = (time_t)(ns / 1000000000);
	int64_t frac = ns % 1000000000;
	struct tm tm;
	size_t n;

	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	if (utc)
		gmtime_r(&sec, &tm);
	else
		localtime_r(&sec, &tm);
	n = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%06" PRId64, frac / 1000);
}

/* The wall clock, the date text made once per second. */
static void put_wall(struct rp_out *o, struct rp_buf *b, int64_t ns)
{
	int64_t sec = ns / 1000000000, frac = ns % 1000000000;

	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	if (sec != o->wall_sec || !o->wall_text[0]) {
		rp_format_wall(o->wall_text, sizeof(o->wall_text), sec * 1000000000, o->utc);
		o->wall_text[19] = 0; /* "YYYY-MM-DD HH:MM:SS" */
		o->wall_sec = sec;
	}
	rp_buf_put(b, o->wall_text, 19);
	rp_buf_put(b, ".", 1);
	put_digits(b, (uint64_t)frac / 1000, 6);
}

static void put_time(struct rp_out *o, struct rp_buf *b, const struct rp_event *e)
{
	int64_t d;

	switch (o->time) {
	case RP_TIME_WALL:
		if (e->have_wall) {
			put_wall(o, b, e->wall);
			return;
		}
		/* no sync point: say so rather than invent a date */
		rp_buf_puts(b, "trace:");
		/* fall through */
	case RP_TIME_BOOT:
		rp_buf_u64(b, e->r.ts / 1000000000ull);
		rp_buf_put(b, ".", 1);
		put_digits(b, e->r.ts % 1000000000ull, 9);
		return;
	case RP_TIME_RELATIVE:
		if (!o->have_rel_base) {
			o->rel_base = e->key;
			o->have_rel_base = 1;
		}
		d = e->key - o->rel_base;
		rp_buf_put(b, d < 0 ? "-" : "+", 1);
		d = d < 0 ? -d : d;
		rp_buf_u64(b, (uint64_t)d / 1000000000);
		rp_buf_put(b, ".", 1);
		put_digits(b, (uint64_t)d % 1000000000 / 1000, 6);
		return;
	}
}

/* ---- text ------------------------------------------------------------------ */

const char *rp_event_system(const struct rp_event *e)
{
	if (e->r.kind == UEV_REC_USER || e->r.kind == UEV_REC_UNKNOWN)
		return "user";
	return e->r.event && e->r.event->system ? e->r.event->system : "";
}

/* The line buffer as a sink of the renderer of user fields. */
static void buf_sink_put(void *ctx, const char *s, size_t n)
{
	rp_buf_put(ctx, s, n);
}

void rp_fields_text(struct rp_buf *b, const struct rp_event *e, struct trace_seq *seq)
{
	const struct uev_render_sink k = { buf_sink_put, b };
	const struct uev_rec *r = &e->r;

	if (!r->def || r->kind != UEV_REC_USER) {
		trace_seq_reset(seq);
		uev_rec_print_fields(NULL, r, seq);
		trace_seq_terminate(seq);
		rp_buf_put(b, seq->buffer, seq->len);
		return;
	}
	uev_render_user_fields(UEV_RENDER_TEXT, &k, r, 1);
}

void rp_event_text(struct rp_buf *t, const struct rp_event *e, struct trace_seq *seq)
{
	t->len = 0;
	rp_buf_puts(t, e->r.name);
	rp_buf_put(t, ": ", 2);
	rp_fields_text(t, e, seq);
}

struct trace_seq *rp_seq_new(void)
{
	struct trace_seq *seq = malloc(sizeof(*seq));

	if (seq)
		trace_seq_init(seq);
	return seq;
}

void rp_seq_free(struct trace_seq *seq)
{
	if (!seq)
		return;
	trace_seq_destroy(seq);
	free(seq);
}

/* "TIME SEAT [CPU] ", the CPU in at least three digits as ftrace has it */
static void put_head(struct rp_out *o, struct rp_buf *b, const struct rp_event *e)
{
	uint64_t cpu = (uint64_t)(e->r.cpu < 0 ? 0 : e->r.cpu);
	int width = 3;

	for (uint64_t v = cpu; v >= 1000; v /= 10)
		width++;
	put_time(o, b, e);
	rp_buf_put(b, " ", 1);
	rp_buf_puts(b, e->run->seat);
	rp_buf_put(b, " [", 2);
	put_digits(b, cpu, width);
	rp_buf_put(b, "] ", 2);
}

void rp_out_text(struct rp_out *o, const struct rp_event *e, const char *nf, size_t n)
{
	struct rp_buf *b = &o->line;
	size_t clen = strlen(e->comm), pad = clen < 16 ? 16 - clen : 0;
	static const char spaces[] = "                ";
	char pid[16];
	int plen;

	b->len = 0;
	if (e->lost) {
		put_head(o, b, e);
		rp_buf_puts(b, "CPU ");
		rp_buf_i64(b, e->r.cpu);
		if (e->lost > 0) {
			rp_buf_puts(b, ": ");
			rp_buf_i64(b, e->lost);
			rp_buf_puts(b, " events lost in the kernel before this point\n");
		} else {
			rp_buf_puts(b, ": events lost in the kernel before this point (count unknown)\n");
		}
	}
	/* "comm-pid" as "%16s-%-7d" */
	put_head(o, b, e);
	rp_buf_put(b, spaces, pad);
	rp_buf_put(b, e->comm, clen);
	plen = snprintf(pid, sizeof(pid), "-%-7d ", e->r.pid);
	rp_buf_put(b, pid, (size_t)plen);
	rp_buf_put(b, nf, n);
	rp_buf_put(b, "\n", 1);
	fwrite_unlocked(b->s, 1, b->len, o->fp);
}

/* ---- JSON ------------------------------------------------------------------ */

void rp_json_string(struct rp_buf *b, const char *s, size_t n)
{
	const struct uev_render_sink k = { buf_sink_put, b };

	uev_render_string(UEV_RENDER_JSON, &k, s, n);
}

static void json_key(struct rp_buf *b, int *first, const char *name)
{
	if (!*first)
		rp_buf_put(b, ",", 1);
	*first = 0;
	rp_json_string(b, name, strlen(name));
	rp_buf_put(b, ":", 1);
}

/* A kernel (or user_events) field, typed by its format. */
static void kernel_field(struct rp_buf *b, const struct rp_event *e, struct tep_format_field *f)
{
	const uint8_t *data = e->rec->data;
	int size = e->rec->size;
	unsigned long long v;

	if (f->flags & TEP_FIELD_IS_DYNAMIC) {
		unsigned off, len;

		if (f->offset < 0 || f->offset + 4 > size) {
			rp_buf_puts(b, "null");
			return;
		}
		v = tep_read_number(f->event->tep, data + f->offset, 4);
		off = (unsigned)(v & 0xffff);
		len = (unsigned)(v >> 16);
		if (f->flags & TEP_FIELD_IS_RELATIVE)
			off += (unsigned)(f->offset + f->size);
		if (off > (unsigned)size || len > (unsigned)size - off) {
			rp_buf_puts(b, "null");
			return;
		}
		if (f->flags & TEP_FIELD_IS_STRING) {
			rp_json_string(b, (const char *)data + off, strnlen((const char *)data + off, len));
			return;
		}
		rp_buf_put(b, "[", 1);
		for (unsigned i = 0; i < len; i++) {
			if (i)
				rp_buf_put(b, ",", 1);
			rp_buf_u64(b, data[off + i]);
		}
		rp_buf_put(b, "]", 1);
		return;
	}
	if (f->offset < 0 || f->size < 0 || f->offset + f->size > size) {
		rp_buf_puts(b, "null");
		return;
	}
	if (f->flags & TEP_FIELD_IS_STRING) {
		rp_json_string(b, (const char *)data + f->offset,
			       strnlen((const char *)data + f->offset, (size_t)f->size));
		return;
	}
	if ((f->flags & TEP_FIELD_IS_ARRAY) && f->elementsize && f->elementsize <= 8) {
		rp_buf_put(b, "[", 1);
		for (unsigned i = 0; i < f->arraylen && (i + 1) * f->elementsize <= (unsigned)f->size; i++) {
			if (i)
				rp_buf_put(b, ",", 1);
			rp_buf_u64(b, tep_read_number(f->event->tep, data + f->offset + i * f->elementsize,
						      (int)f->elementsize));
		}
		rp_buf_put(b, "]", 1);
		return;
	}
	if (f->size > 8 || tep_read_number_field(f, data, &v) < 0) {
		rp_buf_puts(b, "null");
		return;
	}
	if ((f->flags & TEP_FIELD_IS_SIGNED) && f->size < 8 && (v >> (f->size * 8 - 1)) & 1)
		v |= ~0ull << (f->size * 8);
	if (f->flags & TEP_FIELD_IS_SIGNED)
		rp_buf_i64(b, (int64_t)v);
	else
		rp_buf_u64(b, v);
}

void rp_json_fields(struct rp_buf *b, const struct rp_event *e, int first)
{
	const struct uev_rec *r = &e->r;

	if (r->def) {
		const struct uev_render_sink k = { buf_sink_put, b };

		uev_render_user_fields(UEV_RENDER_JSON, &k, r, first);
		return;
	}
	if (r->kind == UEV_REC_UNKNOWN) {
		static const char hex[] = "0123456789abcdef";

		json_key(b, &first, "marker_id");
		rp_buf_u64(b, r->marker_id);
		json_key(b, &first, "data");
		rp_buf_put(b, "\"", 1);
		for (size_t i = 0; i < r->len; i++) {
			char h[2] = { hex[r->payload[i] >> 4], hex[r->payload[i] & 15] };

			rp_buf_put(b, h, 2);
		}
		rp_buf_put(b, "\"", 1);
		return;
	}
	if (!r->event)
		return;
	for (struct tep_format_field *f = r->event->format.fields; f; f = f->next) {
		json_key(b, &first, f->name);
		kernel_field(b, e, f);
	}
}

void rp_out_json(struct rp_out *o, const struct rp_event *e)
{
	struct rp_buf *b = &o->line;
	const char *sys = rp_event_system(e);
	char when[64];

	b->len = 0;
	rp_buf_puts(b, "{\"time\":");
	if (e->have_wall) {
		rp_format_wall(when, sizeof(when), e->wall, 1);
		when[10] = 'T';
		rp_buf_put(b, "\"", 1);
		rp_buf_puts(b, when);
		rp_buf_puts(b, "Z\",\"wall_ns\":");
		rp_buf_i64(b, e->wall);
	} else {
		rp_buf_puts(b, "null,\"wall_ns\":null");
	}
	rp_buf_puts(b, ",\"trace_ns\":");
	rp_buf_u64(b, e->r.ts);
	rp_buf_puts(b, ",\"seat\":");
	rp_json_string(b, e->run->seat, strlen(e->run->seat));
	rp_buf_puts(b, ",\"run\":");
	rp_buf_u64(b, e->run->run_id);
	if (e->run->recovered_from)
		rp_buf_puts(b, ",\"recovered\":true");
	rp_buf_puts(b, ",\"cpu\":");
	rp_buf_i64(b, e->r.cpu);
	rp_buf_puts(b, ",\"pid\":");
	rp_buf_i64(b, e->r.pid);
	rp_buf_puts(b, ",\"comm\":");
	rp_json_string(b, e->comm, strlen(e->comm));
	rp_buf_puts(b, ",\"system\":");
	rp_json_string(b, sys, strlen(sys));
	rp_buf_puts(b, ",\"event\":");
	rp_json_string(b, e->r.name, strlen(e->r.name));
	if (e->lost) {
		rp_buf_puts(b, ",\"lost_before\":");
		rp_buf_i64(b, e->lost);
	}
	rp_buf_puts(b, ",\"fields\":{");
	rp_json_fields(b, e, 1);
	rp_buf_puts(b, "}}\n");
	fwrite_unlocked(b->s, 1, b->len, o->fp);
}
