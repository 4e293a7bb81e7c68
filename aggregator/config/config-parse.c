/* SPDX-License-Identifier: MIT */
/*
 * Seat configuration syntax (docs/uev.conf.5): lines, sections, keys, quoted
 * values, duplicate and cross-key checks, error collection. The values
 * themselves are checked by uev_cfg_apply() (config-check.c). Everything is
 * staged in a copy: the caller's configuration changes only on success.
 */
#include "config.h"
#include "uev-grow.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES 8192
#define MAX_ERRORS 50

enum { SEC_NONE = -1, SEC_SKIP = -2 };

static const char *const sections[] = { "seat", "ring", "user", "kernel", "dyndbg", "boot", "incident", "control" };
#define NSECTIONS (int)(sizeof sections / sizeof *sections)

struct parser {
	const char *name;
	char *errs;
	size_t errsize;
	unsigned nerr, line;
	struct { unsigned line; char *msg; } err[MAX_ERRORS];
	int sec, stop, oom;
	unsigned seen[UEV_CFG_NKEYS];  /* line of the first occurrence, 0: not given */
	unsigned *lines[UEV_CFG_NKEYS]; /* repeatable keys: line of each list entry */
	size_t nlines[UEV_CFG_NKEYS], lines_cap[UEV_CFG_NKEYS];
	struct uev_config n;            /* staged result */
};

/* Messages are kept with their line and appended in line order at the end
 * (the cross-key checks find theirs after the last line). */
__attribute__((format(printf, 5, 6)))
static void perr(struct parser *p, unsigned line, const char *sec, const char *key,
		 const char *fmt, ...)
{
	char msg[1024], *m;
	va_list ap;
	int n;

	if (p->nerr >= MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (key)
		n = asprintf(&m, "%s:%u: [%s] %s: %s", p->name, line, sec, key, msg);
	else
		n = asprintf(&m, "%s:%u: %s", p->name, line, msg);
	if (n < 0) {
		p->oom = p->stop = 1;
		return;
	}
	p->err[p->nerr].line = line;
	p->err[p->nerr++].msg = m;
	if (p->nerr == MAX_ERRORS)
		p->stop = 1;
}

static void flush_errors(struct parser *p)
{
	for (unsigned i = 0; i < p->nerr; i++) {
		unsigned best = i;

		for (unsigned j = i + 1; j < p->nerr; j++)
			if (p->err[j].line < p->err[best].line)
				best = j;
		if (best != i) { /* stable: shift the others down */
			__typeof__(p->err[0]) e = p->err[best];

			memmove(&p->err[i + 1], &p->err[i], (best - i) * sizeof e);
			p->err[i] = e;
		}
		uev_cfg_errf(p->errs, p->errsize, "%s", p->err[i].msg);
		free(p->err[i].msg);
	}
	if (p->nerr == MAX_ERRORS)
		uev_cfg_errf(p->errs, p->errsize, "%s: too many errors, stopped after line %u",
			     p->name, p->line);
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static char *skip_ws(char *s)
{
	while (is_ws(*s))
		s++;
	return s;
}

static int word_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!uev_cfg_word_char(*s))
			return 0;
	return 1;
}

/* Offset of the first byte that is not well-formed UTF-8 (no overlong forms,
 * no surrogates, nothing above U+10FFFF), or @n if all is well. */
static size_t utf8_bad(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], need, min, cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, min = 0x80, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, min = 0x800, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, min = 0x10000, cp = c & 0x07;
		else
			return i;
		if (n - i <= need)
			return i;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += need + 1;
	}
	return n;
}

static void section(struct parser *p, char *s)
{
	char *close = strchr(s, ']'), *rest, q[128];

	p->sec = SEC_SKIP; /* keys up to the next valid header are not checked */
	if (!close) {
		perr(p, p->line, NULL, NULL, "unterminated section header (missing ']')");
		return;
	}
	*close = '\0';
	for (int i = 0; i < NSECTIONS; i++)
		if (!strcmp(s + 1, sections[i]))
			p->sec = i;
	if (p->sec == SEC_SKIP)
		perr(p, p->line, NULL, NULL,
		     "unknown section [%s] (known: seat, ring, user, kernel, dyndbg, boot, incident, control)",
		     word_ok(s + 1) ? s + 1 : uev_cfg_quote(s + 1, q, sizeof q));
	rest = skip_ws(close + 1);
	if (*rest && !(*rest == '#' && rest > close + 1))
		perr(p, p->line, NULL, NULL, "unexpected text after the section header: %s",
		     uev_cfg_quote(rest, q, sizeof q));
}

/* Unquote or trim @v in place. 0, or -1 after reporting. */
static int value(struct parser *p, const char *sec, const char *key, char *v)
{
	char *r, *w;

	if (*v != '"') {
		/* '#' starts a comment only after whitespace; v[-1] is '=' or blank */
		for (r = v; *r && !(*r == '#' && is_ws(r[-1])); r++)
			;
		while (r > v && is_ws(r[-1]))
			r--;
		*r = '\0';
		return 0;
	}
	for (w = v, r = v + 1; *r != '"'; ) {
		if (!*r || (*r == '\\' && !r[1])) {
			perr(p, p->line, sec, key, "unterminated quoted value (missing '\"')");
			return -1;
		}
		if (*r == '\\') {
			if (r[1] != '"' && r[1] != '\\') {
				perr(p, p->line, sec, key,
				     "invalid escape in quoted value (only \\\" and \\\\ are allowed)");
				return -1;
			}
			r++;
		}
		*w++ = *r++;
	}
	*w = '\0'; /* w < r: the rest of the line is intact */
	w = skip_ws(r + 1);
	if (*w && !(*w == '#' && w > r + 1)) {
		char q[128];

		perr(p, p->line, sec, key, "unexpected text after the closing quote: %s",
		     uev_cfg_quote(w, q, sizeof q));
		return -1;
	}
	return 0;
}

static int push_line(struct parser *p, int k)
{
	int r = UEV_GROW(p->lines[k], p->lines_cap[k], p->nlines[k] + 1);

	if (r < 0)
		return r;
	p->lines[k][p->nlines[k]++] = p->line;
	return 0;
}

static void key_line(struct parser *p, char *s)
{
	char *e = s, *v, msg[768], q[128];
	const char *sec;
	size_t dup = 0;
	int k, r, eq;

	while (*e && *e != '=' && !is_ws(*e))
		e++;
	v = skip_ws(e);
	eq = *v == '=';
	if (e == s) {
		perr(p, p->line, NULL, NULL, "missing key name before '='");
		return;
	}
	*e = '\0';
	if (!eq) {
		perr(p, p->line, NULL, NULL, "missing '=' after %s", uev_cfg_quote(s, q, sizeof q));
		return;
	}
	if (!word_ok(s)) {
		perr(p, p->line, NULL, NULL, "invalid key name %s (letters, digits and '_' only)",
		     uev_cfg_quote(s, q, sizeof q));
		return;
	}
	if (p->sec == SEC_NONE) {
		perr(p, p->line, NULL, NULL, "key '%s' before any [section]", s);
		return;
	}
	if (p->sec == SEC_SKIP)
		return;
	sec = sections[p->sec];
	for (k = 0; k < UEV_CFG_NKEYS; k++)
		if (!strcmp(uev_cfg_keys[k].section, sec) && !strcmp(uev_cfg_keys[k].key, s))
			break;
	if (k == UEV_CFG_NKEYS) {
		perr(p, p->line, sec, s, "unknown key");
		return;
	}
	v = skip_ws(v + 1);
	if (value(p, sec, s, v) < 0)
		return;
	if (p->seen[k] && !uev_cfg_keys[k].repeatable) {
		perr(p, p->line, sec, s, "given twice (first on line %u)", p->seen[k]);
		return;
	}
	if (!p->seen[k])
		p->seen[k] = p->line;
	msg[0] = '\0';
	r = uev_cfg_apply(&p->n, (enum uev_cfg_key)k, v, &dup, msg, sizeof msg);
	if (r == -EEXIST)
		perr(p, p->line, sec, s, "%s is already listed on line %u",
		     uev_cfg_quote(v, q, sizeof q), dup < p->nlines[k] ? p->lines[k][dup] : 0);
	else if (r == -ENOMEM)
		p->oom = p->stop = 1;
	else if (r < 0)
		perr(p, p->line, sec, s, "%s", msg);
	else if (uev_cfg_keys[k].repeatable && !*v)
		p->nlines[k] = 0; /* the list was emptied */
	else if (uev_cfg_keys[k].repeatable && push_line(p, k) < 0)
		p->oom = p->stop = 1;
}

static void one_line(struct parser *p, const char *s, size_t len)
{
	char buf[LINE_MAX_BYTES + 1], *t;
	size_t bad;

	if (len && s[len - 1] == '\r')
		len--;
	if (len > LINE_MAX_BYTES) {
		perr(p, p->line, NULL, NULL, "line too long (%zu bytes, at most %d)",
		     len, LINE_MAX_BYTES);
		return;
	}
	if (memchr(s, '\0', len)) {
		perr(p, p->line, NULL, NULL, "NUL byte at column %zu",
		     (size_t)((const char *)memchr(s, '\0', len) - s) + 1);
		return;
	}
	if (p->line == 1 && len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
		s += 3; /* byte order mark */
		len -= 3;
	}
	bad = utf8_bad((const unsigned char *)s, len);
	if (bad < len) {
		perr(p, p->line, NULL, NULL, "invalid UTF-8 at column %zu (byte 0x%02x)",
		     bad + 1, (unsigned char)s[bad]);
		return;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	t = skip_ws(buf);
	if (!*t || *t == '#')
		return;
	if (*t == '[')
		section(p, t);
	else
		key_line(p, t);
}

/* Checks that need the whole file. */
static void cross_checks(struct parser *p)
{
	static const char *const fsync_names[] = { "every-flush", "interval", "never" };
	unsigned l = p->seen[UEV_CFG_FSYNC_INTERVAL];

	if (l && p->n.fsync != UEV_FSYNC_INTERVAL)
		perr(p, l, "seat", "fsync_interval_s",
		     "only applies to fsync = interval (fsync is %s)",
		     (unsigned)p->n.fsync < 3 ? fsync_names[p->n.fsync] : "?");
}

/* The string lists, by key: where each keeps its array, count and capacity. */
struct strv_ref {
	char ***v;
	size_t *n, *cap;
};

static struct strv_ref strv_of(struct uev_config *c, enum uev_cfg_key k)
{
	switch (k) {
	case UEV_CFG_SCHEMA: return (struct strv_ref){ &c->schemas, &c->nschemas, &c->schemas_cap };
	case UEV_CFG_USER_EVENT: return (struct strv_ref){ &c->user_events, &c->nuser_events, &c->user_events_cap };
	case UEV_CFG_TRIGGER: return (struct strv_ref){ &c->triggers, &c->ntriggers, &c->triggers_cap };
	case UEV_CFG_CTL_SNAPSHOT:
		return (struct strv_ref){ &c->snapshot_allow, &c->nsnapshot_allow, &c->snapshot_allow_cap };
	case UEV_CFG_CTL_ALLOW: return (struct strv_ref){ &c->allow, &c->nallow, &c->allow_cap };
	default: return (struct strv_ref){ &c->dyndbg, &c->ndyndbg, &c->dyndbg_cap };
	}
}

int uev_cfg_parse_buf(struct uev_config *c, const char *name, const char *text, size_t len,
		      char *errs, size_t errsize)
{
	static const enum uev_cfg_key strv_keys[] = {
		UEV_CFG_SCHEMA, UEV_CFG_USER_EVENT, UEV_CFG_DYNDBG_QUERY,
		UEV_CFG_TRIGGER, UEV_CFG_CTL_SNAPSHOT, UEV_CFG_CTL_ALLOW,
	};
	struct parser *p = calloc(1, sizeof *p);
	const char *s = text, *end = text + len;
	int r = 0;

	if (!p)
		return -ENOMEM;
	p->name = name ? name : "(config)";
	p->errs = errs;
	p->errsize = errsize;
	p->sec = SEC_NONE;
	p->n = *c; /* scalars; the lists below start empty and belong to @c */
	for (size_t i = 0; i < sizeof strv_keys / sizeof *strv_keys; i++) {
		struct strv_ref l = strv_of(&p->n, strv_keys[i]);

		*l.v = NULL;
		*l.n = *l.cap = 0;
	}
	p->n.kevents = NULL;
	p->n.nkevents = p->n.kevents_cap = 0;

	while (len && s < end && !p->stop) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));

		p->line++;
		one_line(p, s, nl ? (size_t)(nl - s) : (size_t)(end - s));
		s = nl ? nl + 1 : end;
	}
	if (!p->stop)
		cross_checks(p);
	flush_errors(p);

	if (p->oom) {
		r = -ENOMEM;
		uev_cfg_errf(errs, errsize, "%s: %s", p->name, strerror(ENOMEM));
	} else if (p->nerr) {
		r = -EINVAL;
	}
	if (r < 0) {
		uev_config_free(&p->n); /* only lists built here */
	} else {
		/* Commit: a list given in the file replaces the old one. */
		for (size_t i = 0; i < sizeof strv_keys / sizeof *strv_keys; i++) {
			struct strv_ref old = strv_of(c, strv_keys[i]), new = strv_of(&p->n, strv_keys[i]);

			if (p->seen[strv_keys[i]]) {
				uev_cfg_strv_free(old.v, old.n, old.cap);
			} else {
				*new.v = *old.v;
				*new.n = *old.n;
				*new.cap = *old.cap;
			}
		}
		if (p->seen[UEV_CFG_KERNEL_EVENT]) {
			uev_cfg_kevents_free(c);
		} else {
			p->n.kevents = c->kevents;
			p->n.nkevents = c->nkevents;
			p->n.kevents_cap = c->kevents_cap;
		}
		*c = p->n;
	}
	for (int k = 0; k < UEV_CFG_NKEYS; k++)
		free(p->lines[k]);
	free(p);
	return r;
}
