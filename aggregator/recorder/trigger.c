/* SPDX-License-Identifier: MIT */
/*
 * Incident triggers. An event matches a trigger by its name (system:event,
 * user events as "user:NAME", globs) and, when the trigger has "~ REGEX",
 * by its text: a kernel event's as its format prints it (printk:console:
 * the message), a marker user event's string fields one by one. The text
 * is only made for events of watched ids, so a seat pays for what it asks.
 */
#include <errno.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event-parse.h>

#include "config.h"
#include "trigger.h"
#include "uev-decode.h"
#include "uev-def.h"

#define MAX_MARKERS 4096

struct trig {
	char spec[200];
	char system[64], event[128];
	regex_t re;
	int has_re;
};

struct marker_watch {
	uint32_t mid;
	struct uev_def def;
};

struct uev_trigger {
	struct trig *t;
	size_t n;
	int user;                  /* a trigger names user events */
	struct marker_watch *mk;   /* watched marker ids */
	size_t nmk;
	uint32_t *known;           /* every announced marker id, watched or not */
	size_t nknown;
	uint64_t min_interval_ns, last_fire;
	int fired_once;
	uint64_t hits, fired;
	uev_trigger_fn fire;
	void *ctx;
	struct trace_seq seq;
};

int uev_trigger_new(struct uev_trigger **out, const struct uev_config *c, uev_trigger_fn fire, void *ctx,
		    char *err, size_t errsize)
{
	struct uev_trigger *t;

	*out = NULL;
	if (!c->ntriggers)
		return 0;
	if (!(t = calloc(1, sizeof *t)) || !(t->t = calloc(c->ntriggers, sizeof *t->t))) {
		free(t);
		snprintf(err, errsize, "triggers: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->ntriggers; i++) {
		struct uev_cfg_trigger ct;
		struct trig *g = &t->t[t->n];

		if (uev_cfg_trigger_split(c->triggers[i], &ct, err, errsize) < 0) {
			uev_trigger_free(t);
			return -EINVAL;
		}
		snprintf(g->spec, sizeof g->spec, "%s", c->triggers[i]);
		snprintf(g->system, sizeof g->system, "%s", ct.system);
		snprintf(g->event, sizeof g->event, "%s", ct.event);
		if (ct.regex && regcomp(&g->re, ct.regex, REG_EXTENDED | REG_NOSUB) != 0) {
			snprintf(err, errsize, "trigger '%s': bad regular expression", c->triggers[i]);
			uev_trigger_free(t);
			return -EINVAL;
		}
		g->has_re = ct.regex != NULL;
		t->user |= !strcmp(g->system, "user");
		t->n++;
	}
	t->min_interval_ns = (uint64_t)c->incident_min_interval_s * 1000000000ull;
	t->fire = fire;
	t->ctx = ctx;
	trace_seq_init(&t->seq);
	*out = t;
	return 0;
}

void uev_trigger_free(struct uev_trigger *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		if (t->t[i].has_re)
			regfree(&t->t[i].re);
	if (t->t)
		trace_seq_destroy(&t->seq);
	free(t->t);
	free(t->mk);
	free(t->known);
	free(t);
}

static int name_match(const struct trig *g, const char *system, const char *name)
{
	return !fnmatch(g->system, system, 0) && !fnmatch(g->event, name, 0);
}

/* The user_events kernel system is "user" in the timeline, as replay names it. */
static const char *shown_system(const char *system)
{
	return !strcmp(system, "user_events") ? "user" : system;
}

int uev_trigger_wants(const struct uev_trigger *t, const char *system, const char *name)
{
	if (!t || !system || !name)
		return 0;
	for (size_t i = 0; i < t->n; i++)
		if (name_match(&t->t[i], shown_system(system), name))
			return 1;
	return 0;
}

int uev_trigger_announce(struct uev_trigger *t, uint32_t mid, const char *def)
{
	struct marker_watch *m;
	struct uev_def_error de;
	char name[128];
	size_t n = strcspn(def, " ");

	if (!t || !t->user || n >= sizeof name || t->nmk == MAX_MARKERS)
		return 0;
	if (!uev_trigger_marker_known(t, mid) && t->nknown < MAX_MARKERS) {
		uint32_t *k = realloc(t->known, (t->nknown + 1) * sizeof *k);

		if (k) {
			t->known = k;
			t->known[t->nknown++] = mid;
		}
	}
	memcpy(name, def, n);
	name[n] = 0;
	if (!uev_trigger_wants(t, "user", name) || uev_trigger_marker_watched(t, mid))
		return 0;
	if (!(m = realloc(t->mk, (t->nmk + 1) * sizeof *m)))
		return 0;
	t->mk = m;
	m += t->nmk;
	m->mid = mid;
	if (uev_def_parse(name, def[n] ? def + n + 1 : "", &m->def, &de) < 0)
		memset(&m->def, 0, sizeof m->def); /* no fields: matched by name only */
	snprintf(m->def.canonical, sizeof m->def.canonical, "%s", name);
	t->nmk++;
	return 1;
}

static struct marker_watch *marker_find(const struct uev_trigger *t, uint32_t mid)
{
	for (size_t i = 0; t && i < t->nmk; i++)
		if (t->mk[i].mid == mid)
			return &t->mk[i];
	return NULL;
}

int uev_trigger_user(const struct uev_trigger *t)
{
	return t && t->user;
}

int uev_trigger_marker_known(const struct uev_trigger *t, uint32_t mid)
{
	for (size_t i = 0; t && i < t->nknown; i++)
		if (t->known[i] == mid)
			return 1;
	return 0;
}

int uev_trigger_marker_watched(const struct uev_trigger *t, uint32_t mid)
{
	return marker_find(t, mid) != NULL;
}

/* A marker user event's string fields against @re, one by one. */
static int marker_text_match(const struct marker_watch *m, const regex_t *re, const uint8_t *p, uint32_t len,
			     char *what, size_t whatsize)
{
	for (unsigned i = 0; i < m->def.nfields; i++) {
		const char *s = NULL;
		size_t sl = 0;
		uint64_t num;
		char buf[512];

		if (uev_payload_field(&m->def, p, len, i, &num, &s, &sl) < 0 || !s)
			continue;
		snprintf(buf, sizeof buf, "%.*s", (int)(sl < sizeof buf ? sl : sizeof buf - 1), s);
		if (!regexec(re, buf, 0, NULL, 0)) {
			snprintf(what, whatsize, "%s", buf);
			return 1;
		}
	}
	return 0;
}

int uev_trigger_event(struct uev_trigger *t, struct tep_handle *tep, unsigned cpu, const void *page, size_t len,
		      const uint8_t *data, uint32_t size, int marker, uint32_t mid, const uint8_t *body,
		      uint32_t bodylen)
{
	struct uev_trigger_hit hit = { .cpu = cpu };
	struct tep_event *ev = NULL;
	const char *system, *name;
	const struct marker_watch *m = NULL;
	int text_made = 0, matched = -1;
	char text[512] = "";

	if (marker) {
		if (!(m = marker_find(t, mid)))
			return 0;
		system = "user";
		name = m->def.canonical;
	} else {
		unsigned short type;

		memcpy(&type, data, 2);
		if (!tep || !(ev = tep_find_event(tep, type)))
			return 0;
		system = shown_system(ev->system);
		name = ev->name;
	}
	for (size_t i = 0; i < t->n && matched < 0; i++) {
		const struct trig *g = &t->t[i];

		if (!name_match(g, system, name))
			continue;
		if (!g->has_re) {
			matched = (int)i;
		} else if (m) {
			if (marker_text_match(m, &g->re, body, bodylen, text, sizeof text))
				matched = (int)i;
		} else {
			if (!text_made) {
				struct tep_record rec = { .data = (void *)data, .size = (int)size, .cpu = (int)cpu };

				trace_seq_reset(&t->seq);
				tep_print_event(tep, &t->seq, &rec, "%s", TEP_PRINT_INFO);
				trace_seq_terminate(&t->seq);
				snprintf(text, sizeof text, "%s", t->seq.buffer ? t->seq.buffer : "");
				text[strcspn(text, "\n")] = 0;
				text_made = 1;
			}
			if (!regexec(&g->re, text, 0, NULL, 0))
				matched = (int)i;
		}
	}
	if (matched < 0)
		return 0;
	t->hits++;
	if (!uev_page_event_ts(page, len, data, &hit.trace_ns))
		return 0;
	if (t->fired_once && hit.trace_ns >= t->last_fire && hit.trace_ns - t->last_fire < t->min_interval_ns)
		return 0;
	t->fired_once = 1;
	t->last_fire = hit.trace_ns;
	t->fired++;
	memcpy(hit.spec, t->t[matched].spec, sizeof hit.spec);
	if (!text[0])
		snprintf(hit.what, sizeof hit.what, "%.60s:%.120s", system, name);
	else
		snprintf(hit.what, sizeof hit.what, "%.40s:%.60s: %.150s", system, name, text);
	t->fire(t->ctx, &hit);
	return 1;
}

void uev_trigger_counts(const struct uev_trigger *t, uint64_t *hits, uint64_t *fired)
{
	*hits = t ? t->hits : 0;
	*fired = t ? t->fired : 0;
}
