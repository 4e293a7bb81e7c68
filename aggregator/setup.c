/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event-parse.h>
#include <tracefs.h>

#include "config.h"
#include "formats.h"
#include "seat.h"
#include "setup.h"

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

static int set_kevents(struct uev_seat *seat, const struct uev_config *c, int on, char *err, size_t errsize)
{
	int fail = 0;

	for (size_t i = 0; i < c->nkevents; i++) {
		struct enable_ctx e = { seat->instance, c->kevents[i].filter, on };

		each_event(&c->kevents[i], enable_one, &e, &fail);
		if (fail && err) {
			snprintf(err, errsize, "%s: cannot %s kernel event %s:%s", seat->instance_name,
				 on ? "enable" : "disable", c->kevents[i].system, c->kevents[i].event);
			return -EIO;
		}
	}
	return 0;
}

/* "module drm +p" is undone by "module drm -p". '=' has no inverse. */
static char *dyndbg_inverse(const char *q)
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

static int dyndbg_write(const char *q)
{
	FILE *f = fopen(DYNDBG, "we");
	int ok;

	if (!f)
		return -errno;
	ok = fputs(q, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -EINVAL;
}

int uev_setup_apply(struct uev_setup *s, struct uev_seat *seat, const struct uev_config *c,
		    char *err, size_t errsize)
{
	struct tracefs_instance *in = seat->instance;
	char num[32], *cur;
	int r, same;

	memset(s, 0, sizeof(*s));
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
	if (c->ndyndbg && access(DYNDBG, W_OK) != 0)
		fprintf(stderr, "uev-aggregator: %s: not available, %zu dyndbg queries skipped\n", DYNDBG,
			c->ndyndbg);
	else if (c->ndyndbg) {
		s->dyndbg_undo = calloc(c->ndyndbg, sizeof(char *));
		for (size_t i = 0; s->dyndbg_undo && i < c->ndyndbg; i++) {
			if (dyndbg_write(c->dyndbg[i]) < 0) {
				fprintf(stderr, "uev-aggregator: dyndbg query '%s' refused by the kernel\n",
					c->dyndbg[i]);
				continue;
			}
			s->dyndbg_undo[s->ndyndbg++] = dyndbg_inverse(c->dyndbg[i]);
		}
	}
	return 0;
}

void uev_setup_reload(struct uev_setup *s, struct uev_seat *seat, const struct uev_config *old,
		      const struct uev_config *fresh)
{
	char err[512];

	(void)s;
	set_kevents(seat, old, 0, NULL, 0);
	if (set_kevents(seat, fresh, 1, err, sizeof(err)) < 0)
		fprintf(stderr, "uev-aggregator: reload: %s\n", err);
}

void uev_setup_revert(struct uev_setup *s)
{
	for (size_t i = 0; i < s->ndyndbg; i++) {
		if (s->dyndbg_undo[i] && dyndbg_write(s->dyndbg_undo[i]) < 0)
			fprintf(stderr, "uev-aggregator: could not revert dyndbg '%s'\n", s->dyndbg_undo[i]);
		free(s->dyndbg_undo[i]);
	}
	free(s->dyndbg_undo);
	memset(s, 0, sizeof(*s));
}
