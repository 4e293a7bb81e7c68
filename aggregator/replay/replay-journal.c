/* SPDX-License-Identifier: MIT */
/*
 * Events as entries of the systemd Journal Export Format, what
 * systemd-journal-remote reads (on a pipe or as an HTTP upload) and stores
 * as an ordinary journal. The fields are listed in docs/uev-replay.1.
 *
 * The typed fields come from the JSON output's one code path
 * (rp_json_fields): its members are walked back into name and raw value,
 * so an event's fields are the same in --json and in the journal, and the
 * JSON escaping is undone exactly (it escapes control bytes, '"' and '\'
 * only; everything else, UTF-8 or not, passes through).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "replay.h"

/* A value goes in the binary form (name, newline, 64-bit little-endian
 * length, bytes, newline) when the text form would not carry it as
 * printable text: a control byte (a newline would end it) or bytes that
 * are not UTF-8. Everything else is NAME=value on one line. */
static int needs_binary(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t len;

		if (c < 0x20 || c == 0x7f)
			return 1;
		if (c < 0x80) {
			i++;
			continue;
		}
		len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
		if (!len || c > 0xf4 || i + len > n)
			return 1;
		for (size_t k = 1; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 1;
		/* overlong 3/4-byte forms, surrogates, above U+10FFFF */
		if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0) ||
		    (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] >= 0x90))
			return 1;
		i += len;
	}
	return 0;
}

static void put_field(struct rp_buf *b, const char *name, size_t nlen, const char *v, size_t n)
{
	rp_buf_put(b, name, nlen);
	if (needs_binary((const unsigned char *)v, n)) {
		unsigned char le[8];

		for (int i = 0; i < 8; i++)
			le[i] = (unsigned char)((uint64_t)n >> (8 * i));
		rp_buf_put(b, "\n", 1);
		rp_buf_put(b, (const char *)le, 8);
	} else {
		rp_buf_put(b, "=", 1);
	}
	rp_buf_put(b, v, n);
	rp_buf_put(b, "\n", 1);
}

static void put_str(struct rp_buf *b, const char *name, const char *v)
{
	put_field(b, name, strlen(name), v, strlen(v));
}

static void put_num(struct rp_buf *b, const char *name, int64_t v, int is_signed)
{
	rp_buf_puts(b, name);
	rp_buf_put(b, "=", 1);
	if (is_signed)
		rp_buf_i64(b, v);
	else
		rp_buf_u64(b, (uint64_t)v);
	rp_buf_put(b, "\n", 1);
}

/* The fields uev writes itself: a typed field whose name maps to one of
 * them is written as UEV_FIELD_<NAME>, so that e.g. sched_wakeup's pid
 * (the woken task) never reads as the event's own UEV_PID. */
static const char *const reserved[] = {
	"SEAT", "RUN", "EVENT", "CPU", "PID", "COMM", "TRACE_NS", "CLOCK",
	"RECOVERED", "LOST_BEFORE", "WALL_UNKNOWN",
};

/*
 * The journal field name of typed field @name: "UEV_" and the name upper
 * cased, every byte outside A-Z0-9_ as '_'. journald's rules (1 to 64
 * bytes of A-Z, 0-9 and '_', no leading digit; a leading '_' is a trusted
 * field) hold by construction: the prefix starts it; a name too long is
 * cut and ends in 8 hex digits of a hash of the whole name, so two long
 * names stay apart.
 */
static size_t field_name(char nm[RP_JOURNAL_NAME_MAX + 1], const char *name, size_t n)
{
	size_t k = 4, room;
	uint32_t h = 2166136261u;

	memcpy(nm, "UEV_", 4);
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strlen(reserved[i]) == n && !strncasecmp(reserved[i], name, n)) {
			memcpy(nm + k, "FIELD_", 6);
			k += 6;
			break;
		}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		h = (h ^ c) * 16777619u;
	}
	/* too long: cut, and 9 bytes "_%08X" of the hash (upper case: journald takes A-Z only) at the end */
	room = k + n <= RP_JOURNAL_NAME_MAX ? n : RP_JOURNAL_NAME_MAX - k - 9;
	for (size_t i = 0; i < room; i++) {
		char c = name[i];

		c = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
		nm[k++] = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_';
	}
	if (room < n)
		k += (size_t)snprintf(nm + k, 10, "_%08X", h);
	nm[k] = 0;
	return k;
}

/* A JSON string at @p (after its '"') unescaped into @out; returns the
 * position after the closing quote. Only what uev_render_string writes
 * is met; \uNNNN above 0xff (never written) becomes UTF-8. */
static const char *unescape(const char *p, const char *end, struct rp_buf *out)
{
	while (p < end && *p != '"') {
		const char *run = p;

		while (p < end && *p != '"' && *p != '\\')
			p++;
		rp_buf_put(out, run, (size_t)(p - run));
		if (p >= end || *p == '"')
			break;
		if (++p >= end)
			break;
		char c = *p++, u[4];

		switch (c) {
		case 'n': rp_buf_put(out, "\n", 1); break;
		case 't': rp_buf_put(out, "\t", 1); break;
		case 'r': rp_buf_put(out, "\r", 1); break;
		case 'b': rp_buf_put(out, "\b", 1); break;
		case 'f': rp_buf_put(out, "\f", 1); break;
		case 'u': {
			unsigned v = 0;

			for (int i = 0; i < 4 && p < end; i++, p++)
				v = v * 16 + (unsigned)(*p <= '9' ? *p - '0' : (*p | 32) - 'a' + 10);
			if (v < 0x100) { /* a byte, as the renderer escaped it */
				u[0] = (char)v;
				rp_buf_put(out, u, 1);
			} else if (v < 0x800) {
				u[0] = (char)(0xc0 | v >> 6), u[1] = (char)(0x80 | (v & 63));
				rp_buf_put(out, u, 2);
			} else {
				u[0] = (char)(0xe0 | v >> 12), u[1] = (char)(0x80 | ((v >> 6) & 63));
				u[2] = (char)(0x80 | (v & 63));
				rp_buf_put(out, u, 3);
			}
			break;
		}
		default: rp_buf_put(out, &c, 1); break; /* '"', '\\', '/' */
		}
	}
	return p < end ? p + 1 : p;
}

/* Every member of the JSON fields in @j->json as UEV_<NAME>=value: strings
 * raw, numbers and arrays as JSON has them, null (unreadable) left out. */
static void typed_fields(struct rp_journal *j, struct rp_buf *out)
{
	const char *p = j->json.s, *end = j->json.s + j->json.len;

	while (p && p < end && *p == '"') {
		const char *v;

		j->name.len = 0;
		j->value.len = 0;
		p = unescape(p + 1, end, &j->name);
		if (p >= end || *p != ':')
			return; /* not what rp_json_fields writes */
		v = ++p;
		if (p < end && *p == '"') {
			p = unescape(p + 1, end, &j->value);
		} else {
			while (p < end && *p != ',')
				p += *p == '[' ? strcspn(p, "]") : 1;
			rp_buf_put(&j->value, v, (size_t)(p - v));
		}
		if (p < end && *p == ',')
			p++;
		if (j->value.len == 4 && !memcmp(j->value.s, "null", 4) && *v != '"')
			continue;
		char nm[RP_JOURNAL_NAME_MAX + 1];
		size_t nlen = field_name(nm, j->name.s ? j->name.s : "", j->name.len);

		put_field(out, nm, nlen, j->value.s ? j->value.s : "", j->value.len);
	}
}

void rp_cursor_of(struct rp_cursor *c, const struct rp_event *e)
{
	memset(c, 0, sizeof(*c));
	if (e->file)
		memcpy(c->uuid, e->file->sb.uuid, 16);
	c->run = e->run->run_id;
	c->cpu = e->r.cpu;
	c->ts = e->r.ts;
	c->index = e->index;
	c->key = e->key;
}

/* @v in decimal at @p, a '-' first when @neg; the end. */
static char *put_dec(char *p, uint64_t v, int neg)
{
	char d[24], *q = d + sizeof(d);

	do
		*--q = (char)('0' + v % 10);
	while (v /= 10);
	if (neg)
		*p++ = '-';
	memcpy(p, q, (size_t)(d + sizeof(d) - q));
	return p + (d + sizeof(d) - q);
}

/* Written by hand: it is made for every event, and snprintf was a fifth of
 * the export's time. */
void rp_cursor_format(char *buf, size_t size, const struct rp_cursor *c)
{
	static const char hex[] = "0123456789abcdef";
	char t[RP_CURSOR_TEXT], *p = t;

	memcpy(p, "uev1;f=", 7);
	p += 7;
	for (int i = 0; i < 16; i++) {
		*p++ = hex[c->uuid[i] >> 4];
		*p++ = hex[c->uuid[i] & 15];
	}
	memcpy(p, ";r=", 3);
	p = put_dec(p + 3, c->run, 0);
	memcpy(p, ";c=", 3);
	p = put_dec(p + 3, c->cpu < 0 ? 0 - (uint64_t)(int64_t)c->cpu : (uint64_t)c->cpu, c->cpu < 0);
	memcpy(p, ";t=", 3);
	p = put_dec(p + 3, c->ts, 0);
	memcpy(p, ";i=", 3);
	p = put_dec(p + 3, c->index, 0);
	memcpy(p, ";k=", 3);
	p = put_dec(p + 3, c->key < 0 ? 0 - (uint64_t)c->key : (uint64_t)c->key, c->key < 0);
	if (!size)
		return;
	size = (size_t)(p - t) < size ? (size_t)(p - t) : size - 1;
	memcpy(buf, t, size);
	buf[size] = 0;
}

int rp_cursor_parse(struct rp_cursor *c, const char *s)
{
	char u[33];
	unsigned long long run, ts;
	long long key;
	int cpu, n = 0;
	unsigned idx;

	if (sscanf(s, "uev1;f=%32[0-9a-f];r=%llu;c=%d;t=%llu;i=%u;k=%lld%n", u, &run, &cpu, &ts, &idx, &key, &n) != 6 ||
	    s[n] || strlen(u) != 32)
		return -EINVAL;
	for (int i = 0; i < 16; i++) {
		char h[3] = { u[2 * i], u[2 * i + 1], 0 };

		c->uuid[i] = (uint8_t)strtoul(h, NULL, 16);
	}
	c->run = run;
	c->cpu = cpu;
	c->ts = ts;
	c->index = idx;
	c->key = key;
	return 0;
}

#define CMP(a, b) ((a) < (b) ? -1 : (a) > (b))

int rp_cursor_cmp(const struct rp_cursor *a, const struct rp_cursor *b)
{
	int r;

	/* One run: its trace clock, exact. Runs of one file follow each other
	 * in time, so between two runs the merge key decides; it moves only
	 * by the drift between two sync points when the ring wraps. */
	if (a->run != b->run && (r = CMP(a->key, b->key)))
		return r;
	if (a->run != b->run)
		return CMP(a->run, b->run);
	if ((r = CMP(a->ts, b->ts)) || (r = CMP(a->cpu, b->cpu)))
		return r;
	return CMP(a->index, b->index);
}

/* "0123abcd-…" as 32 hex digits (journald's boot id form). */
static void put_boot_id(struct rp_buf *b, const char *uuid)
{
	char hex[33];
	size_t k = 0;

	for (const char *p = uuid; *p && k < 32; p++)
		if (*p != '-')
			hex[k++] = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
	if (k != 32)
		return; /* none recorded: journald takes the entry without */
	rp_buf_puts(b, "_BOOT_ID=");
	rp_buf_put(b, hex, 32);
	rp_buf_put(b, "\n", 1);
}

void rp_journal_entry(struct rp_journal *j, struct rp_buf *out, const struct rp_event *e, const char *text,
		      size_t n)
{
	const struct rp_run *run = e->run;
	const char *sys = rp_event_system(e);
	size_t slen = strlen(sys);
	struct rp_cursor c;
	char cur[RP_CURSOR_TEXT];

	rp_cursor_of(&c, e);
	rp_cursor_format(cur, sizeof(cur), &c);
	put_str(out, "__CURSOR", cur);
	/* journald refuses an entry without a wall time: an event before its
	 * run's first sync point gets the run's start, and says so */
	put_num(out, "__REALTIME_TIMESTAMP", (e->have_wall ? e->wall : (int64_t)run->start_realtime_ns) / 1000, 1);
	/* journald's monotonic time is CLOCK_MONOTONIC of that boot: only the
	 * "mono" trace clock is that (boot counts suspend, the others are the
	 * scheduler's clocks) */
	if (!strcmp(run->trace_clock, "mono"))
		put_num(out, "__MONOTONIC_TIMESTAMP", (int64_t)(e->r.ts / 1000), 0);
	put_boot_id(out, run->boot_id);
	if (run->host[0])
		put_str(out, "_HOSTNAME", run->host);
	put_field(out, "MESSAGE", 7, text, n);
	put_str(out, "SYSLOG_IDENTIFIER", e->comm[0] && e->comm[0] != '<' ? e->comm : "uev");
	if (e->r.pid > 0)
		put_num(out, "SYSLOG_PID", e->r.pid, 1);
	put_str(out, "UEV_SEAT", run->seat);
	put_num(out, "UEV_RUN", (int64_t)run->run_id, 0);
	/* "system:name": kernel events are named so already */
	rp_buf_puts(out, "UEV_EVENT=");
	if (strncmp(e->r.name, sys, slen) || e->r.name[slen] != ':') {
		rp_buf_put(out, sys, slen);
		rp_buf_put(out, ":", 1);
	}
	rp_buf_puts(out, e->r.name);
	rp_buf_put(out, "\n", 1);
	put_num(out, "UEV_CPU", e->r.cpu, 1);
	put_num(out, "UEV_PID", e->r.pid, 1);
	put_str(out, "UEV_COMM", e->comm);
	put_num(out, "UEV_TRACE_NS", (int64_t)e->r.ts, 0);
	put_str(out, "UEV_CLOCK", run->trace_clock);
	if (run->recovered_from)
		rp_buf_puts(out, "UEV_RECOVERED=1\n");
	if (!e->have_wall)
		rp_buf_puts(out, "UEV_WALL_UNKNOWN=1\n");
	if (e->lost)
		put_num(out, "UEV_LOST_BEFORE", e->lost, 1);
	j->json.len = 0;
	rp_json_fields(&j->json, e, 1);
	typed_fields(j, out);
	rp_buf_put(out, "\n", 1);
	/* a field cut short by a failed allocation: the entry is not whole */
	out->oom |= j->json.oom | j->name.oom | j->value.oom;
}

int rp_out_journal(struct rp_out *o, struct rp_journal *j, const struct rp_event *e, const char *text, size_t n)
{
	o->line.len = 0;
	rp_journal_entry(j, &o->line, e, text, n);
	if (o->line.oom)
		return -ENOMEM; /* never half an entry: the reader would take it for a whole one */
	fwrite_unlocked(o->line.s, 1, o->line.len, o->fp);
	return 0;
}

void rp_journal_free(struct rp_journal *j)
{
	rp_buf_free(&j->json);
	rp_buf_free(&j->name);
	rp_buf_free(&j->value);
}
