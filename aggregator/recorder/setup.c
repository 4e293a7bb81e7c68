/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event-parse.h>
#include <tracefs.h>

#include "config.h"
#include "uev-seat.h"
#include "setup.h"
#include "uev-grow.h"

#define DYNDBG "/proc/dynamic_debug/control"

static void add_err(char *err, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void add_err(char *err, size_t size, const char *fmt, ...)
{
	size_t n = strlen(err);
	va_list ap;

	if (n + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, size - n, fmt, ap);
	va_end(ap);
}

/* Call @fn for every event of @k (EVENT may be a glob); returns matches. */
static int each_event(const struct uev_kevent *k, int (*fn)(void *, const char *, const char *), void *ctx,
		      int *fail)
{
	char **evs = tracefs_system_events(NULL, k->system);
	int n = 0;

	for (size_t i = 0; evs && evs[i]; i++)
		if (fnmatch(k->event, evs[i], 0) == 0) {
			n++;
			if (fn && fn(ctx, k->system, evs[i]) < 0)
				(*fail)++;
		}
	tracefs_list_free(evs);
	return n;
}

int uev_setup_systems(const struct uev_config *c, const char **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nkevents && n + 1 < max; i++) {
		size_t j = 0;

		while (j < n && strcmp(out[j], c->kevents[i].system))
			j++;
		if (j == n)
			out[n++] = c->kevents[i].system;
	}
	out[n] = NULL;
	return (int)n;
}

int uev_setup_check(const struct uev_config *c, char *err, size_t errsize)
{
	const char *systems[65];
	struct tep_handle *tep;
	int bad = 0, fail = 0;

	uev_setup_systems(c, systems, 65);
	tep = systems[0] ? uev_formats_load(systems) : NULL;

	err[0] = 0;
	for (size_t i = 0; i < c->nkevents; i++) {
		const struct uev_kevent *k = &c->kevents[i];
		char **evs;

		if (each_event(k, NULL, NULL, &fail) == 0) {
			add_err(err, errsize, "[kernel] event %s:%s: no such kernel event\n", k->system, k->event);
			bad++;
			continue;
		}
		if (!k->filter || !tep)
			continue;
		evs = tracefs_system_events(NULL, k->system);
		for (size_t j = 0; evs && evs[j]; j++) {
			struct tep_event *ev;
			char *why = NULL;

			if (fnmatch(k->event, evs[j], 0) ||
			    !(ev = tep_find_event_by_name(tep, k->system, evs[j])))
				continue;
			if (tracefs_filter_string_verify(ev, k->filter, &why) < 0) {
				add_err(err, errsize, "[kernel] event %s:%s: bad filter '%s'%s%s\n", k->system,
					evs[j], k->filter, why ? ": " : "", why ? why : "");
				bad++;
			}
			free(why);
		}
		tracefs_list_free(evs);
	}
	tep_free(tep);
	return bad ? -EINVAL : 0;
}

struct enable_ctx {
	struct tracefs_instance *inst;
	const char *filter;
	int on;
};

static int enable_one(void *ctx, const char *sys, const char *ev)
{
	struct enable_ctx *e = ctx;

	if (e->on && e->filter &&
	    tracefs_event_file_write(e->inst, sys, ev, "filter", e->filter) < 0)
		return -EINVAL;
	if (!e->on)
		return tracefs_event_file_write(e->inst, sys, ev, "enable", "0") < 0 ? -EIO : 0;
	return tracefs_event_file_write(e->inst, sys, ev, "enable", "1") < 0 ? -EIO : 0;
}

int uev_setup_kevents(struct tracefs_instance *inst, const char *inst_name, const struct uev_config *c, int on,
		      char *err, size_t errsize)
{
	int fail = 0;

	for (size_t i = 0; i < c->nkevents; i++) {
		struct enable_ctx e = { inst, c->kevents[i].filter, on };

		each_event(&c->kevents[i], enable_one, &e, &fail);
		if (fail && err) {
			snprintf(err, errsize, "%s: cannot %s kernel event %s:%s", inst_name,
				 on ? "enable" : "disable", c->kevents[i].system, c->kevents[i].event);
			return -EIO;
		}
	}
	return 0;
}

static int set_kevents(struct uev_seat *seat, const struct uev_config *c, int on, char *err, size_t errsize)
{
	return uev_setup_kevents(seat->instance, seat->instance_name, c, on, err, errsize);
}

/*
 * dyndbg queries are undone callsite by callsite: the control file is read
 * before the queries are written and after, and every callsite whose flags
 * differ gets its earlier flags back at exit, through a query that names it
 * alone ("module M file F line N func FN [class C] =FLAGS"). So a callsite
 * that was on before the aggregator started stays on ("-p", the inverse of
 * "+p", would turn it off), and one that someone else changed meanwhile
 * (its flags are no longer what the queries left) is left alone. Only when
 * the control file cannot be read are the queries inverted as a whole.
 */

char *uev_dyndbg_inverse(const char *q)
{
	char *u = strdup(q), *f;

	if (!u)
		return NULL;
	for (f = u + strlen(u); f > u && f[-1] != ' '; f--)
		;
	if (*f == '+')
		*f = '-';
	else if (*f == '-')
		*f = '+';
	else {
		free(u);
		return NULL;
	}
	return u;
}

int uev_dyndbg_write(const char *q)
{
	const char *env = getenv("UEV_DYNDBG_PATH");
	int fd = open(env && *env ? env : DYNDBG, O_WRONLY | O_CLOEXEC), r = 0;
	size_t n = strlen(q);

	if (fd < 0)
		return -errno;
	if (write(fd, q, n) != (ssize_t)n)
		r = -EINVAL;
	close(fd);
	return r;
}

/* A callsite of the control file: its line without " =FLAGS" ("FILE:LINE
 * [MODULE]FUNC "FORMAT"[ class:NAME]"), and its flags ("_" is none). */
struct dd_entry {
	char *key;
	char flags[16];
};

struct dd_snap {
	struct dd_entry *e;
	size_t n, cap;
};

static void dd_free(struct dd_snap *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->e[i].key);
	free(s->e);
	memset(s, 0, sizeof(*s));
}

static int dd_read(struct dd_snap *s)
{
	FILE *f = fopen(DYNDBG, "re");
	char *line = NULL, *b, *fl, *end;
	size_t cap = 0;
	ssize_t len;
	int r = 0;

	memset(s, 0, sizeof(*s));
	if (!f)
		return -errno;
	while (r == 0 && (len = getline(&line, &cap, f)) > 0) {
		struct dd_entry *e;

		if (line[len - 1] == '\n')
			line[--len] = 0;
		if (line[0] == '#' || !(b = strchr(line, ']')) || !(fl = strstr(b, " =")))
			continue;
		fl += 2;
		end = fl + strcspn(fl, " ");
		if ((r = UEV_GROW(s->e, s->cap, s->n + 1)) < 0)
			break;
		e = &s->e[s->n];
		snprintf(e->flags, sizeof(e->flags), "%.*s", (int)(end - fl), fl);
		memmove(fl - 2, end, strlen(end) + 1);
		if (!(e->key = strdup(line)))
			r = -ENOMEM;
		else
			s->n++;
	}
	if (r == 0 && ferror(f))
		r = -EIO;
	free(line);
	fclose(f);
	if (r < 0)
		dd_free(s);
	return r;
}

/* The flags of @key in @s, looking from *@hint on (both snapshots list the
 * callsites in the same order, so this is one step at a time). */
static const char *dd_find(const struct dd_snap *s, const char *key, size_t *hint)
{
	for (size_t k = 0; k < s->n; k++) {
		size_t i = (*hint + k) % s->n;

		if (!strcmp(s->e[i].key, key)) {
			*hint = i + 1;
			return s->e[i].flags;
		}
	}
	return NULL;
}

/* The query that names the callsite @key alone, without its flags; NULL
 * for one it cannot name (a class the kernel does not know by name). */
static char *dd_query(const char *key)
{
	const char *sp = strchr(key, ' '), *colon, *mod, *mend, *fn, *fend, *cls = NULL, *c;
	char *q;

	if (!sp || sp[1] != '[')
		return NULL;
	for (colon = sp; colon > key && *colon != ':'; colon--)
		;
	mod = sp + 2;
	if (colon == key || !(mend = strchr(mod, ']')))
		return NULL;
	fn = mend + 1;
	fend = fn + strcspn(fn, " ");
	/* a class, if any, ends the line: '" class:NAME' */
	for (c = fend; (c = strstr(c, "\" class")); c++)
		cls = c + 2;
	if (cls && !strncmp(cls, "class ", 6))
		return NULL; /* "class unknown, _id:N": no name to give */
	if (cls && (strncmp(cls, "class:", 6) || cls[6 + strcspn(cls + 6, " \"")]))
		cls = NULL; /* in the format, not after it */
	if (asprintf(&q, "module %.*s file %.*s line %.*s func %.*s%s%s", (int)(mend - mod), mod,
		     (int)(colon - key), key, (int)(sp - colon - 1), colon + 1, (int)(fend - fn), fn,
		     cls ? " class " : "", cls ? cls + 6 : "") < 0)
		return NULL;
	return q;
}

/* Remember every callsite whose flags differ between @before and @after. */
static int dd_diff(struct uev_setup *s, const struct dd_snap *before, const struct dd_snap *after)
{
	size_t hint = 0;

	for (size_t i = 0; i < after->n; i++) {
		const struct dd_entry *a = &after->e[i];
		const char *was = dd_find(before, a->key, &hint);
		struct uev_dd_site *d;

		if (!was || !strcmp(was, a->flags))
			continue; /* unchanged, or new (a module loaded meanwhile) */
		if (UEV_GROW(s->dd, s->dd_cap, s->ndd + 1) < 0)
			return -ENOMEM;
		d = &s->dd[s->ndd];
		if (!(d->key = strdup(a->key)))
			return -ENOMEM;
		if (!(d->query = dd_query(a->key))) {
			free(d->key);
			continue;
		}
		snprintf(d->before, sizeof(d->before), "%s", was);
		snprintf(d->after, sizeof(d->after), "%s", a->flags);
		s->ndd++;
	}
	return 0;
}

static void dd_apply(struct uev_setup *s, const struct uev_config *c)
{
	struct dd_snap before, after;
	int exact = dd_read(&before) == 0;

	s->dyndbg_undo = calloc(c->ndyndbg, sizeof(char *));
	for (size_t i = 0; s->dyndbg_undo && i < c->ndyndbg; i++) {
		if (uev_dyndbg_write(c->dyndbg[i]) < 0) {
			uev_log_say(&s->log, "dyndbg query '%s' refused by the kernel", c->dyndbg[i]);
			continue;
		}
		s->dyndbg_undo[s->ndyndbg++] = uev_dyndbg_inverse(c->dyndbg[i]);
	}
	if (exact && dd_read(&after) == 0) {
		s->dd_exact = dd_diff(s, &before, &after) == 0;
		dd_free(&after);
	}
	if (exact)
		dd_free(&before);
	if (!s->dd_exact)
		uev_log_say(&s->log, "%s: cannot read it; the dyndbg queries will be reverted as a whole "
			    "at exit", DYNDBG);
}

/* Give each remembered callsite its earlier flags, unless someone changed
 * it since; the queries go in batches of whole lines. */
static void dd_restore(const struct uev_setup *s)
{
	struct dd_snap now;
	int have = dd_read(&now) == 0, bad = 0;
	size_t hint = 0, n = 0;
	char buf[3072], q[1024];

	for (size_t i = 0; i < s->ndd; i++) {
		const struct uev_dd_site *d = &s->dd[i];
		const char *cur = have ? dd_find(&now, d->key, &hint) : d->after;
		int len;

		if (!cur || strcmp(cur, d->after))
			continue; /* changed by someone else since, or gone */
		len = snprintf(q, sizeof(q), "%s =%s\n", d->query, d->before);
		if (len < 0 || (size_t)len >= sizeof(q))
			continue;
		if (n + (size_t)len >= sizeof(buf)) {
			bad += uev_dyndbg_write(buf) < 0;
			n = 0;
		}
		memcpy(buf + n, q, (size_t)len + 1);
		n += (size_t)len;
	}
	if (n)
		bad += uev_dyndbg_write(buf) < 0;
	if (bad)
		uev_log_say(&s->log, "could not give every dyndbg callsite its earlier flags back");
	if (have)
		dd_free(&now);
}

int uev_setup_apply(struct uev_setup *s, struct uev_seat *seat, const struct uev_config *c,
		    const char *run_dir, const struct uev_log *log, char *err, size_t errsize)
{
	struct tracefs_instance *in = seat->instance;
	char num[32], *cur;
	int r, same;

	memset(s, 0, sizeof(*s));
	if (log)
		s->log = *log;
	/* Writing these empties the instance's ring: the seat writes only
	 * what differs, so a restart on a kept instance loses nothing (as
	 * does the sub-buffer size below). */
	if (uev_seat_set_clock(seat, c->clock) < 0) {
		snprintf(err, errsize, "%s: the kernel refused trace clock '%s'", seat->instance_name, c->clock);
		return -EINVAL;
	}
	r = uev_seat_set_buffer_kb(seat, c->buffer_kb);
	if (r < 0) {
		snprintf(err, errsize, "%s: cannot set the buffer to %u KiB per CPU: %s",
			 seat->instance_name, c->buffer_kb, strerror(-r));
		return r;
	}
	snprintf(num, sizeof(num), "%u", c->subbuf_kb);
	cur = tracefs_instance_file_read(in, "buffer_subbuf_size_kb", NULL);
	same = !cur || strtoul(cur, NULL, 10) == c->subbuf_kb;
	free(cur);
	if (c->subbuf_kb && !same &&
	    tracefs_instance_file_write(in, "buffer_subbuf_size_kb", num) < 0) {
		snprintf(err, errsize, "%s: the kernel refused a %u KiB sub-buffer", seat->instance_name,
			 c->subbuf_kb);
		return -EINVAL;
	}
	/* Reads complete at half a buffer when busy; the flush timer takes
	 * care of the rest. */
	tracefs_instance_file_write(in, "buffer_percent", "50");
	r = set_kevents(seat, c, 1, err, errsize);
	if (r < 0)
		return r;
	/* AT_EACCESS: a service user's CAP_DAC_OVERRIDE counts (access()
	 * would drop it and skip the queries of a working setup). */
	if (c->ndyndbg && faccessat(AT_FDCWD, DYNDBG, W_OK, AT_EACCESS) != 0)
		uev_log_say(&s->log, "%s: not available, %zu dyndbg queries skipped", DYNDBG, c->ndyndbg);
	else if (c->ndyndbg)
		dd_apply(s, c);
	uev_drm_debug_start(&s->drm, seat->name, run_dir, c->drm_debug, &s->log);
	return 0;
}

int uev_setup_reload(struct uev_setup *s, struct uev_seat *seat, const struct uev_config *old,
		     const struct uev_config *fresh, char *err, size_t errsize)
{
	int r;

	set_kevents(seat, old, 0, NULL, 0);
	r = set_kevents(seat, fresh, 1, err, errsize);
	uev_drm_debug_reload(&s->drm, fresh->drm_debug);
	return r;
}

void uev_setup_revert(struct uev_setup *s)
{
	uev_drm_debug_stop(&s->drm);
	if (s->dd_exact)
		dd_restore(s);
	for (size_t i = 0; i < s->ndyndbg; i++) {
		if (!s->dd_exact && s->dyndbg_undo[i] && uev_dyndbg_write(s->dyndbg_undo[i]) < 0)
			uev_log_say(&s->log, "could not revert dyndbg '%s'", s->dyndbg_undo[i]);
		free(s->dyndbg_undo[i]);
	}
	for (size_t i = 0; i < s->ndd; i++) {
		free(s->dd[i].key);
		free(s->dd[i].query);
	}
	free(s->dd);
	free(s->dyndbg_undo);
	memset(s, 0, sizeof(*s));
}
