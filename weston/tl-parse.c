// SPDX-License-Identifier: MIT
/*
 * Parsers for Weston 10's "timeline" and "log" scope lines (see tl-parse.h).
 *
 * Weston writes its timeline as JSON-like text but does not escape strings:
 * a surface description may hold quotes of its own ("top-level window
 * 'x' of ..." today, any client-chosen title tomorrow). A string value
 * therefore ends at the first '"' that is followed by what can only come
 * after a value: optional blanks, then either ',' and the next key's '"', or
 * the closing '}' at the end of the line.
 */
#include "tl-parse.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

void uevw_lines_feed(struct uevw_lines *lb, const char *data, size_t len,
		     uevw_line_fn fn, void *ctx)
{
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;

		if (!lb->overlong) {
			if (lb->len + n < sizeof(lb->buf)) {
				memcpy(lb->buf + lb->len, data, n);
				lb->len += n;
			} else {
				lb->overlong = true;
			}
		}
		if (!nl)
			return;
		if (lb->overlong) {
			lb->dropped++;
		} else {
			lb->buf[lb->len] = '\0';
			fn(ctx, lb->buf, lb->len);
		}
		lb->len = 0;
		lb->overlong = false;
		data += n + 1;
		len -= n + 1;
	}
}

struct scan {
	const char *p, *end;
};

static void blanks(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r'))
		s->p++;
}

static bool eat(struct scan *s, char c)
{
	blanks(s);
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return true;
	}
	return false;
}

static bool number(struct scan *s, uint64_t *v)
{
	uint64_t x = 0;
	const char *start;

	blanks(s);
	start = s->p;
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
		unsigned d = (unsigned)(*s->p - '0');

		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
		s->p++;
	}
	*v = x;
	return s->p > start;
}

/* [sec, nsec] -> nanoseconds; nsec is not zero-padded by Weston. */
static bool timespec_pair(struct scan *s, uint64_t *ns)
{
	uint64_t sec, nsec;

	if (!eat(s, '[') || !number(s, &sec) || !eat(s, ',') || !number(s, &nsec) ||
	    !eat(s, ']') || nsec >= 1000000000u || sec > UINT64_MAX / 1000000000u - 1)
		return false;
	*ns = sec * 1000000000u + nsec;
	return true;
}

static bool id32(struct scan *s, uint32_t *v)
{
	uint64_t x;

	if (!number(s, &x) || x > UINT32_MAX)
		return false;
	*v = (uint32_t)x;
	return true;
}

/* Is this '"' the end of a string value? (see the comment at the top) */
static bool string_end(const char *q, const char *end)
{
	const char *p = q + 1;

	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	if (p < end && *p == '}') {
		for (p++; p < end; p++)
			if (*p != ' ' && *p != '\t' && *p != '\r')
				return false;
		return true;
	}
	if (p >= end || *p != ',')
		return false;
	for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	return p < end && *p == '"';
}

/* A string value or null (str->p NULL). */
static bool string_or_null(struct scan *s, struct uevw_str *str)
{
	blanks(s);
	if (s->end - s->p >= 4 && !memcmp(s->p, "null", 4)) {
		s->p += 4;
		str->p = NULL;
		str->len = 0;
		return true;
	}
	if (!eat(s, '"'))
		return false;
	for (const char *q = s->p; q < s->end; q++) {
		if (*q == '"' && string_end(q, s->end)) {
			str->p = s->p;
			str->len = (size_t)(q - s->p);
			s->p = q + 1;
			return true;
		}
	}
	return false;
}

/* Keys are Weston's own names: they end at the next quote. */
static bool key(struct scan *s, struct uevw_str *k)
{
	const char *q;

	if (!eat(s, '"') || !(q = memchr(s->p, '"', (size_t)(s->end - s->p))))
		return false;
	k->p = s->p;
	k->len = (size_t)(q - s->p);
	s->p = q + 1;
	return eat(s, ':');
}

static bool key_is(const struct uevw_str *k, const char *name)
{
	return k->len == strlen(name) && !memcmp(k->p, name, k->len);
}

/* Any value of a key this parser does not know: skip it. */
static bool skip_value(struct scan *s)
{
	struct uevw_str str;
	uint64_t v;

	blanks(s);
	if (s->p < s->end && *s->p == '[')
		return timespec_pair(s, &v);
	if (s->p < s->end && (*s->p == '"' || *s->p == 'n'))
		return string_or_null(s, &str);
	return number(s, &v);
}

enum { SEEN_T = 1, SEEN_N = 2, SEEN_ID = 4, SEEN_TEXT = 8, TYPE_OUTPUT = 16, TYPE_SURFACE = 32 };

static bool member(struct scan *s, struct uevw_record *rec, unsigned *seen)
{
	struct uevw_str key_, type;

	if (!key(s, &key_))
		return false;
	if (key_is(&key_, "T")) {
		*seen |= SEEN_T;
		return timespec_pair(s, &rec->mono_ns);
	}
	if (key_is(&key_, "N")) {
		*seen |= SEEN_N;
		return string_or_null(s, &rec->name) && rec->name.p;
	}
	if (key_is(&key_, "wo"))
		return (rec->has_output = true) && id32(s, &rec->output);
	if (key_is(&key_, "ws"))
		return (rec->has_surface = true) && id32(s, &rec->surface);
	if (key_is(&key_, "vblank_monotonic"))
		return (rec->has_vblank = true) && timespec_pair(s, &rec->vblank_ns);
	if (key_is(&key_, "gpu"))
		return (rec->has_gpu = true) && timespec_pair(s, &rec->gpu_ns);
	if (key_is(&key_, "id")) {
		*seen |= SEEN_ID;
		return id32(s, &rec->id);
	}
	if (key_is(&key_, "type")) {
		if (!string_or_null(s, &type) || !type.p)
			return false;
		if (key_is(&type, "weston_output"))
			*seen |= TYPE_OUTPUT;
		else if (key_is(&type, "weston_surface"))
			*seen |= TYPE_SURFACE;
		return true;
	}
	if (key_is(&key_, "name") || key_is(&key_, "desc")) {
		*seen |= SEEN_TEXT;
		return string_or_null(s, &rec->text);
	}
	if (key_is(&key_, "main_surface"))
		return id32(s, &rec->main_surface);
	return skip_value(s);
}

enum uevw_kind uevw_parse_timeline(const char *line, size_t len, struct uevw_record *rec)
{
	struct scan s = { line, line + len };
	unsigned seen = 0;

	memset(rec, 0, sizeof(*rec));
	if (!eat(&s, '{'))
		return UEVW_OTHER;
	if (!eat(&s, '}')) {
		do {
			if (!member(&s, rec, &seen))
				return rec->kind = UEVW_OTHER;
		} while (eat(&s, ','));
		if (!eat(&s, '}'))
			return rec->kind = UEVW_OTHER;
	}
	blanks(&s);
	if (s.p != s.end)
		return rec->kind = UEVW_OTHER;
	if ((seen & (SEEN_T | SEEN_N)) == (SEEN_T | SEEN_N))
		rec->kind = UEVW_POINT;
	else if ((seen & (SEEN_ID | SEEN_TEXT | TYPE_OUTPUT)) == (SEEN_ID | SEEN_TEXT | TYPE_OUTPUT))
		rec->kind = UEVW_OBJ_OUTPUT;
	else if ((seen & (SEEN_ID | SEEN_TEXT | TYPE_SURFACE)) == (SEEN_ID | SEEN_TEXT | TYPE_SURFACE))
		rec->kind = UEVW_OBJ_SURFACE;
	return rec->kind;
}

static bool digits(const char **p, int n)
{
	for (int i = 0; i < n; i++, (*p)++)
		if (**p < '0' || **p > '9')
			return false;
	return true;
}

const char *uevw_log_strip(const char *line)
{
	const char *p = line;

	/* "[HH:MM:SS.mmm]" then one blank (Weston writes "%s %s") */
	if (*p++ != '[' || !digits(&p, 2) || *p++ != ':' || !digits(&p, 2) ||
	    *p++ != ':' || !digits(&p, 2) || *p++ != '.' || !digits(&p, 3) || *p++ != ']')
		return line;
	return *p == ' ' ? p + 1 : p;
}

bool uevw_log_is_date(const char *line)
{
	return !strncmp(line, "Date: ", 6);
}

/* Weston 10's messages carry no level; these words are how its own messages
 * say it ("fatal: ...", "Error: ...", "warning: ...", "failed to ..."). */
int uevw_log_level(const char *msg, int dflt)
{
	static const char *const err[] = { "error", "fatal", "failed", "failure", "cannot", "could not", "couldn't" };
	static const char *const warn[] = { "warning", "warn:" };
	int level = dflt;

	/* whole words only: "error" but not "terror", at any position */
	for (size_t i = 0; msg[i]; i++) {
		if (i && isalpha((unsigned char)msg[i - 1]))
			continue;
		for (size_t k = 0; k < sizeof(err) / sizeof(err[0]); k++)
			if (!strncasecmp(msg + i, err[k], strlen(err[k])))
				return 3;
		for (size_t k = 0; k < sizeof(warn) / sizeof(warn[0]); k++)
			if (!strncasecmp(msg + i, warn[k], strlen(warn[k])))
				level = 4;
	}
	return level;
}
