/* SPDX-License-Identifier: MIT */
/*
 * uev-replay's text and JSON-lines output. The JSON keys are documented in
 * docs/uev-replay.1 and are a stable interface: add keys, never rename.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <event-parse.h>
#include <trace-seq.h>

#include "replay.h"

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

static void format_time(struct rp_out *o, char *buf, size_t size, const struct rp_event *e)
{
	int64_t d;

	switch (o->time) {
	case RP_TIME_WALL:
		if (e->have_wall) {
			rp_format_wall(buf, size, e->wall, o->utc);
			return;
		}
		/* no sync point: say so rather than invent a date */
		/* fall through */
	case RP_TIME_BOOT:
		snprintf(buf, size, "%s%llu.%09llu", o->time == RP_TIME_WALL ? "trace:" : "",
			 e->r.ts / 1000000000ull, e->r.ts % 1000000000ull);
		return;
	case RP_TIME_RELATIVE:
		if (!o->have_rel_base) {
			o->rel_base = e->key;
			o->have_rel_base = 1;
		}
		d = e->key - o->rel_base;
		snprintf(buf, size, "%s%" PRId64 ".%06" PRId64, d < 0 ? "-" : "+",
			 (d < 0 ? -d : d) / 1000000000, (d < 0 ? -d : d) % 1000000000 / 1000);
		return;
	}
}

const char *rp_event_system(const struct rp_event *e)
{
	if (e->r.kind == UEV_REC_USER || e->r.kind == UEV_REC_UNKNOWN)
		return "user";
	return e->r.event && e->r.event->system ? e->r.event->system : "";
}

void rp_fields_text(const struct rp_event *e, struct trace_seq *s)
{
	uev_rec_print_fields(NULL, &e->r, s);
}

void rp_out_text(struct rp_out *o, const struct rp_event *e, const char *fields)
{
	char when[64];

	format_time(o, when, sizeof(when), e);
	if (e->lost > 0)
		fprintf(o->fp, "%s %s [%03d] CPU %d: %lld events lost in the kernel before this point\n",
			when, e->run->seat, e->r.cpu, e->r.cpu, e->lost);
	else if (e->lost < 0)
		fprintf(o->fp, "%s %s [%03d] CPU %d: events lost in the kernel before this point (count unknown)\n",
			when, e->run->seat, e->r.cpu, e->r.cpu);
	fprintf(o->fp, "%s %s [%03d] %16s-%-7d %s: %s\n", when, e->run->seat, e->r.cpu, e->comm,
		e->r.pid, e->r.name, fields);
}

void rp_json_string(FILE *fp, const char *s, size_t n)
{
	putc('"', fp);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", fp);
		else if (c == '\t')
			fputs("\\t", fp);
		else if (c < 0x20 || c == 0x7f)
			fprintf(fp, "\\u%04x", c);
		else
			putc(c, fp); /* UTF-8 passes through; libuev cuts strings on code points */
	}
	putc('"', fp);
}

static void json_key(FILE *fp, int *first, const char *name)
{
	fputs(*first ? "" : ",", fp);
	*first = 0;
	rp_json_string(fp, name, strlen(name));
	putc(':', fp);
}

/* A kernel (or user_events) field, typed by its format. */
static void kernel_field(FILE *fp, const struct rp_event *e, struct tep_format_field *f)
{
	const uint8_t *data = e->rec->data;
	int size = e->rec->size;
	unsigned long long v;

	if (f->flags & TEP_FIELD_IS_DYNAMIC) {
		unsigned off, len;

		if (f->offset < 0 || f->offset + 4 > size) {
			fputs("null", fp);
			return;
		}
		v = tep_read_number(f->event->tep, data + f->offset, 4);
		off = (unsigned)(v & 0xffff);
		len = (unsigned)(v >> 16);
		if (f->flags & TEP_FIELD_IS_RELATIVE)
			off += (unsigned)(f->offset + f->size);
		if (off > (unsigned)size || len > (unsigned)size - off) {
			fputs("null", fp);
			return;
		}
		if (f->flags & TEP_FIELD_IS_STRING) {
			rp_json_string(fp, (const char *)data + off, strnlen((const char *)data + off, len));
			return;
		}
		putc('[', fp);
		for (unsigned i = 0; i < len; i++)
			fprintf(fp, "%s%u", i ? "," : "", data[off + i]);
		putc(']', fp);
		return;
	}
	if (f->offset < 0 || f->size < 0 || f->offset + f->size > size) {
		fputs("null", fp);
		return;
	}
	if (f->flags & TEP_FIELD_IS_STRING) {
		rp_json_string(fp, (const char *)data + f->offset,
			       strnlen((const char *)data + f->offset, (size_t)f->size));
		return;
	}
	if ((f->flags & TEP_FIELD_IS_ARRAY) && f->elementsize && f->elementsize <= 8) {
		putc('[', fp);
		for (unsigned i = 0; i < f->arraylen && (i + 1) * f->elementsize <= (unsigned)f->size; i++)
			fprintf(fp, "%s%llu", i ? "," : "",
				tep_read_number(f->event->tep, data + f->offset + i * f->elementsize,
						(int)f->elementsize));
		putc(']', fp);
		return;
	}
	if (f->size > 8 || tep_read_number_field(f, data, &v) < 0) {
		fputs("null", fp);
		return;
	}
	if ((f->flags & TEP_FIELD_IS_SIGNED) && f->size < 8 && (v >> (f->size * 8 - 1)) & 1)
		v |= ~0ull << (f->size * 8);
	if (f->flags & TEP_FIELD_IS_SIGNED)
		fprintf(fp, "%lld", (long long)v);
	else
		fprintf(fp, "%llu", v);
}

void rp_json_fields(FILE *fp, const struct rp_event *e, int first)
{
	const struct uev_rec *r = &e->r;

	if (r->def) {
		for (unsigned i = 0; i < r->def->nfields; i++) {
			uint64_t num;
			const char *str;
			size_t slen;
			int t = uev_payload_field(r->def, r->payload, r->len, i, &num, &str, &slen);

			json_key(fp, &first, r->def->field[i].name);
			if (t < 0)
				fputs("null", fp);
			else if (t == UEV_T_CHAR_ARRAY || t == UEV_T_REL_LOC)
				rp_json_string(fp, str, slen);
			else if (t >= UEV_T_S8 && t <= UEV_T_S64)
				fprintf(fp, "%lld", (long long)num);
			else
				fprintf(fp, "%llu", (unsigned long long)num);
		}
		return;
	}
	if (r->kind == UEV_REC_UNKNOWN) {
		json_key(fp, &first, "marker_id");
		fprintf(fp, "%u", r->marker_id);
		json_key(fp, &first, "data");
		putc('"', fp);
		for (size_t i = 0; i < r->len; i++)
			fprintf(fp, "%02x", r->payload[i]);
		putc('"', fp);
		return;
	}
	if (!r->event)
		return;
	for (struct tep_format_field *f = r->event->format.fields; f; f = f->next) {
		json_key(fp, &first, f->name);
		kernel_field(fp, e, f);
	}
}

void rp_out_json(struct rp_out *o, const struct rp_event *e)
{
	FILE *fp = o->fp;
	char when[64];

	fputs("{\"time\":", fp);
	if (e->have_wall) {
		rp_format_wall(when, sizeof(when), e->wall, 1);
		when[10] = 'T';
		fprintf(fp, "\"%sZ\",\"wall_ns\":%" PRId64, when, e->wall);
	} else {
		fputs("null,\"wall_ns\":null", fp);
	}
	fprintf(fp, ",\"trace_ns\":%llu,\"seat\":", e->r.ts);
	rp_json_string(fp, e->run->seat, strlen(e->run->seat));
	fprintf(fp, ",\"run\":%llu,\"cpu\":%d,\"pid\":%d,\"comm\":", (unsigned long long)e->run->run_id,
		e->r.cpu, e->r.pid);
	rp_json_string(fp, e->comm, strlen(e->comm));
	fputs(",\"system\":", fp);
	rp_json_string(fp, rp_event_system(e), strlen(rp_event_system(e)));
	fputs(",\"event\":", fp);
	rp_json_string(fp, e->r.name, strlen(e->r.name));
	if (e->lost)
		fprintf(fp, ",\"lost_before\":%lld", e->lost);
	fputs(",\"fields\":{", fp);
	rp_json_fields(fp, e, 1);
	fputs("}}\n", fp);
}
