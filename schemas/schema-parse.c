/* SPDX-License-Identifier: MIT */
/*
 * .uev schema parser. Line oriented: '#' starts a comment anywhere, a line
 * that starts with a blank is a field of the event above it, anything else
 * is a 'provider' or 'event' statement.
 *
 * The parser keeps going after an error so that one run reports everything it
 * can; diagnostics are collected and printed sorted by line, because the
 * whole-definition checks of an event only run once its last field is known.
 * To avoid cascades, fields are attached to an event even when its line was
 * bad, and fields after an unknown statement are skipped silently.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "schema-parse.h"
#include "uev-grow.h"

/* Current event index; the two negative states decide what a field line means. */
enum { NO_EVENT_YET = -1, SKIP_FIELDS = -2 };

struct parser {
	struct schema *s;
	long cur;                  /* index into s->event, or one of the states */
	unsigned provider_seen;    /* line of the 'provider' statement, even a bad one */
	int missing_provider_told; /* "missing provider" is said once, not per event */
};

#define Q(n) ((int)((n) > 40 ? 40 : (n))) /* quote at most 40 bytes of user text */

/*
 * Running out of memory is not a schema error: the first failed allocation
 * records -ENOMEM in s->error, which is sticky. Every step below checks it
 * and does nothing more, the read loop stops, and schema_parse() returns it;
 * what was built so far stays owned by @s for schema_free(). Nothing here
 * prints or exits: the program that called decides how to say it.
 */
static void *no_memory(struct schema *s)
{
	s->error = -ENOMEM;
	return NULL;
}

static char *dup_n(struct schema *s, const char *src, size_t n)
{
	char *d = malloc(n + 1);

	if (!d)
		return no_memory(s);
	memcpy(d, src, n);
	d[n] = '\0';
	return d;
}

/* Make room for element @n of @arr (capacity @cap, a size_t). On failure
 * @arr and @cap are unchanged, s->error is set, and the value is -ENOMEM;
 * else 0. */
#define GROW(s, arr, n, cap) \
	(UEV_GROW((arr), (cap), (size_t)(n) + 1) < 0 ? (no_memory(s), -ENOMEM) : 0)

void schema_error(struct schema *s, unsigned line, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int r;

	if (s->error)
		return; /* the schema is incomplete: more messages would mislead */
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0) {
		no_memory(s);
		return;
	}
	if (GROW(s, s->diag, s->ndiag, s->diagcap) < 0) {
		free(msg);
		return;
	}
	s->diag[s->ndiag] = (struct schema_diag){ line, (unsigned)s->ndiag, msg };
	s->ndiag++;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static char *skip_blank(char *p)
{
	while (is_blank(*p))
		p++;
	return p;
}

static size_t token_len(const char *p)
{
	size_t n = 0;

	while (p[n] && !is_blank(p[n]))
		n++;
	return n;
}

static size_t word_len(const char *p)
{
	size_t n = 0;

	while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
	       (p[n] >= '0' && p[n] <= '9') || p[n] == '_')
		n++;
	return n;
}

static int is_word(const char *p, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(p, word, n) == 0;
}

/*
 * The whole-definition checks (duplicate fields, the 512-byte canonical
 * definition, field count, fixed payload size) belong to uev_def_parse(),
 * which stops at its first error. Duplicates are reported on their own line
 * and dropped one at a time until the rest parses, so every duplicate shows
 * up; a size limit concerns the event as a whole and ends the check.
 */
static void check_definition(struct schema *s, struct schema_event *ev)
{
	/* Without a valid provider the bare event name still finds duplicates;
	 * a size error found with the shorter name is real all the same. */
	const char *name = ev->full ? ev->full : ev->name;

	if (!name)
		return;
	while (!s->error) {
		size_t cap = 1 + ev->nfields * (sizeof("; __rel_loc char[] ") + UEV_NAME_MAX);
		char *text = malloc(cap), type[32];
		size_t len = 0, total;
		struct uev_def def;
		struct uev_def_error err;
		int r;

		if (!text) {
			no_memory(s);
			return;
		}
		text[0] = '\0';
		for (unsigned i = 0; i < ev->nfields; i++)
			len += (size_t)snprintf(text + len, cap - len, "%s%s %s", i ? "; " : "",
						uev_def_type_text(&ev->field[i].def, type, sizeof(type)),
						ev->field[i].def.name);
		r = uev_def_parse(name, text, &def, &err);
		if (r == 0) {
			if (ev->full)
				ev->fields = strdup(def.canonical + strlen(name) + (ev->nfields ? 1 : 0));
			if (ev->full && !ev->fields)
				no_memory(s);
			free(text);
			return;
		}
		if (r == -EINVAL && err.field >= 1 && err.field <= ev->nfields) {
			struct schema_field *f = &ev->field[err.field - 1];

			schema_error(s, f->line, "%s", err.msg);
			memmove(f, f + 1, (ev->nfields - err.field) * sizeof(*f));
			ev->nfields--;
			free(text);
			continue;
		}
		total = strlen(name) + (ev->nfields ? 1 : 0) + len + 1;
		if (total > UEV_DEF_MAX)
			schema_error(s, ev->line, "event '%s': %s (\"%s <fields>\" takes %zu bytes with its NUL, the limit is %d)",
				     name, err.msg, name, total, UEV_DEF_MAX);
		else
			schema_error(s, ev->line, "event '%s': %s", name, err.msg);
		free(text);
		return;
	}
}

static void finish_event(struct parser *p)
{
	if (p->cur >= 0)
		check_definition(p->s, &p->s->event[p->cur]);
}

static void provider_stmt(struct parser *p, unsigned line, char *rest)
{
	struct schema *s = p->s;
	size_t n = token_len(rest);
	char *extra = skip_blank(rest + n);

	p->cur = s->nevents ? SKIP_FIELDS : NO_EVENT_YET;
	if (p->provider_seen) {
		schema_error(s, line, "duplicate 'provider' statement (the first is on line %u)",
			     p->provider_seen);
		return;
	}
	p->provider_seen = line;
	if (s->nevents) { /* its events were already named without it */
		schema_error(s, line, "'provider' must come before the first event (line %u)",
			     s->event[0].line);
		return;
	}
	if (n == 0)
		schema_error(s, line, "missing provider name: write 'provider NAME'");
	else if (!uev_def_valid_name(rest, n))
		schema_error(s, line, "bad provider name '%.*s' (letters, digits, '_', not starting with a digit, < %d bytes)",
			     Q(n), rest, UEV_NAME_MAX);
	else if (*extra)
		schema_error(s, line, "unexpected '%.*s' after the provider name", Q(token_len(extra)), extra);
	else {
		s->provider = dup_n(s, rest, n);
		s->provider_line = line;
	}
}

static void event_stmt(struct parser *p, unsigned line, char *rest)
{
	struct schema *s = p->s;
	struct schema_event *ev;
	char *name = skip_blank(rest), *colon, *desc;
	size_t n = 0, dn;

	if (!p->provider_seen && !p->missing_provider_told) {
		schema_error(s, line, "missing 'provider NAME' statement before the first event");
		p->missing_provider_told = 1;
	}
	if (GROW(s, s->event, s->nevents, s->cap) < 0)
		return;
	ev = &s->event[s->nevents];
	memset(ev, 0, sizeof(*ev));
	ev->line = line;
	p->cur = (long)s->nevents++;

	while (name[n] && name[n] != ':' && !is_blank(name[n]))
		n++;
	if (n == 0) {
		schema_error(s, line, "missing event name: write 'event NAME: description'");
		if (*skip_blank(name) != ':')
			return; /* one mistake, one message */
	} else if (!uev_def_valid_name(name, n)) {
		schema_error(s, line, "bad event name '%.*s' (letters, digits, '_', not starting with a digit, < %d bytes)",
			     Q(n), name, UEV_NAME_MAX);
	} else {
		ev->name = dup_n(s, name, n);
		if (!ev->name)
			return;
		for (size_t i = 0; i + 1 < s->nevents; i++)
			if (s->event[i].name && !strcmp(s->event[i].name, ev->name)) {
				schema_error(s, line, "duplicate event '%s' (the first is on line %u)",
					     ev->name, s->event[i].line);
				break;
			}
		if (s->provider) {
			size_t full = strlen(s->provider) + 1 + n;

			if (full >= UEV_NAME_MAX) {
				schema_error(s, line, "event name '%s_%s' is too long: %zu bytes, at most %d",
					     s->provider, ev->name, full, UEV_NAME_MAX - 1);
			} else {
				ev->full = malloc(full + 1);
				if (!ev->full) {
					no_memory(s);
					return;
				}
				snprintf(ev->full, full + 1, "%s_%s", s->provider, ev->name);
			}
		}
	}

	colon = skip_blank(name + n);
	if (*colon != ':') {
		if (*colon)
			schema_error(s, line, "expected ':' after the event name, not '%.*s'",
				     Q(token_len(colon)), colon);
		else
			schema_error(s, line, "missing description: write 'event %.*s: what it means'",
				     Q(n), name);
		return;
	}
	desc = skip_blank(colon + 1);
	dn = strlen(desc); /* trailing blanks are already gone */
	if (dn == 0)
		schema_error(s, line, "missing description after ':' (one line saying what the event means)");
	else
		ev->desc = dup_n(s, desc, dn);
}

static void field_line(struct parser *p, unsigned line, char *text)
{
	struct schema *s = p->s;
	struct schema_event *ev;
	struct schema_field *f;
	struct uev_def_error err;
	size_t n = token_len(text), len;
	char *def = text, *alias = NULL;
	int r;

	if (is_word(text, n, "event") || is_word(text, n, "provider")) {
		finish_event(p);
		p->cur = SKIP_FIELDS; /* its fields must not land in the event above */
		schema_error(s, line, "'%.*s' must start at the beginning of the line (indented lines are fields)",
			     (int)n, text);
		return;
	}
	if (p->cur == SKIP_FIELDS)
		return;
	if (p->cur == NO_EVENT_YET) {
		schema_error(s, line, "field '%.*s' before the first event (fields follow their 'event' line)",
			     Q(strlen(text)), text);
		return;
	}
	ev = &s->event[p->cur];

	/* 'string' is the schema's spelling of the kernel's variable string;
	 * uev-def only knows the latter, so rewrite before handing it over. */
	if (is_word(text, n, "string")) {
		if (asprintf(&alias, "__rel_loc char[]%s", text + n) < 0) {
			no_memory(s);
			return;
		}
		def = alias;
	}
	len = strlen(def);
	if (GROW(s, ev->field, ev->nfields, ev->cap) < 0) {
		free(alias);
		return;
	}
	f = &ev->field[ev->nfields];
	r = uev_def_parse_field(def, len, &f->def, &err);
	free(alias);
	if (r < 0) {
		/* uev-def lists the kernel's spellings; add the schema's own. */
		schema_error(s, line, "%s%s", err.msg, strncmp(err.msg, "unknown type", 12) ? "" :
			     "; 'string' is short for '__rel_loc char[]'");
		return;
	}
	/* The generated macros use field names as parameters; '__' names
	 * (__VA_ARGS__) and uev__ names (the macros' own helpers) would break. */
	if (!strncmp(f->def.name, "__", 2) || !strncasecmp(f->def.name, "uev__", 5)) {
		schema_error(s, line, "field name '%s' is reserved (names starting with '__' or 'uev__' belong to C and the generated code)",
			     f->def.name);
		return;
	}
	f->line = line;
	ev->nfields++;
}

static void parse_line(struct parser *p, unsigned line, char *text)
{
	char *hash = strchr(text, '#');
	size_t n, kw;

	if (hash)
		*hash = '\0';
	n = strlen(text);
	while (n && is_blank(text[n - 1]))
		text[--n] = '\0';
	if (n == 0)
		return;
	if (is_blank(text[0])) {
		field_line(p, line, skip_blank(text));
		return;
	}
	finish_event(p);
	kw = word_len(text);
	if (is_word(text, kw, "provider") && (!text[kw] || is_blank(text[kw]))) {
		provider_stmt(p, line, skip_blank(text + kw));
	} else if (is_word(text, kw, "event") && (!text[kw] || is_blank(text[kw]) || text[kw] == ':')) {
		event_stmt(p, line, text + kw);
	} else {
		p->cur = SKIP_FIELDS;
		schema_error(p->s, line, "unknown statement '%.*s' (expected 'provider' or 'event'; field lines must be indented)",
			     Q(token_len(text)), text);
	}
}

ssize_t schema_parse(struct schema *s, const char *path)
{
	struct parser p = { .s = s, .cur = NO_EVENT_YET };
	char *buf = NULL;
	size_t cap = 0;
	unsigned line = 0;
	ssize_t n;
	FILE *f;

	memset(s, 0, sizeof(*s));
	s->path = path;
	f = fopen(path, "r");
	if (!f) {
		if (errno == ENOMEM)
			no_memory(s);
		else
			schema_error(s, 0, "cannot open: %s", strerror(errno));
		return s->error ? s->error : (ssize_t)s->ndiag;
	}
	while (!s->error && (n = getline(&buf, &cap, f)) >= 0) {
		line++;
		if (strlen(buf) != (size_t)n) {
			schema_error(s, line, "NUL byte in the line");
			continue;
		}
		if (n && buf[n - 1] == '\n')
			buf[n - 1] = '\0';
		/* Editors on some systems start UTF-8 files with a byte order mark. */
		if (line == 1 && !strncmp(buf, "\xef\xbb\xbf", 3))
			memmove(buf, buf + 3, strlen(buf + 3) + 1);
		parse_line(&p, line, buf);
	}
	if (s->error) {
		/* stopped: nothing more to say */
	} else if (ferror(f)) {
		/* The rest of the file is unknown: say nothing about what is missing. */
		schema_error(s, 0, "read error: %s", strerror(errno));
	} else if (!feof(f)) {
		/* getline() failed without a stream error: it could not grow the
		 * line. Going on would parse a truncated schema as if complete. */
		no_memory(s);
	} else {
		finish_event(&p);
		if (!p.provider_seen && !p.missing_provider_told)
			schema_error(s, 1, "missing 'provider NAME' statement (it must be the first statement)");
	}
	free(buf);
	fclose(f);
	return s->error ? s->error : (ssize_t)s->ndiag;
}

static int diag_cmp(const void *a, const void *b)
{
	const struct schema_diag *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void schema_print_errors(struct schema *s, FILE *out)
{
	if (s->ndiag) /* qsort() wants a real array even for no elements */
		qsort(s->diag, s->ndiag, sizeof(*s->diag), diag_cmp);
	for (size_t i = 0; i < s->ndiag; i++) {
		if (s->diag[i].line)
			fprintf(out, "%s:%u: %s\n", s->path, s->diag[i].line, s->diag[i].msg);
		else
			fprintf(out, "%s: %s\n", s->path, s->diag[i].msg);
	}
}

void schema_free(struct schema *s)
{
	for (size_t i = 0; i < s->nevents; i++) {
		free(s->event[i].name);
		free(s->event[i].full);
		free(s->event[i].desc);
		free(s->event[i].fields);
		free(s->event[i].field);
	}
	for (size_t i = 0; i < s->ndiag; i++)
		free(s->diag[i].msg);
	free(s->event);
	free(s->diag);
	free(s->provider);
	memset(s, 0, sizeof(*s));
}
