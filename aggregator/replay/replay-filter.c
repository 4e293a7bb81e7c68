/* SPDX-License-Identifier: MIT */
/*
 * uev-replay's selection: --event, --pid, --comm, --since/--until, --grep.
 * Parsing errors name the option and the value; main prints them.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replay-filter.h"
#include "uev-grow.h"

static int push(char ***v, size_t *n, size_t *cap, const char *s)
{
	char *copy;

	if (UEV_GROW(*v, *cap, *n + 1) < 0 || !(copy = strdup(s)))
		return -ENOMEM;
	(*v)[(*n)++] = copy;
	return 0;
}

int rp_filter_event_glob(struct rp_filter *f, const char *glob)
{
	if (glob[0] == '!')
		return push(&f->exc, &f->nexc, &f->capexc, glob + 1);
	return push(&f->inc, &f->ninc, &f->capinc, glob);
}

int rp_filter_comm(struct rp_filter *f, const char *glob)
{
	return push(&f->comms, &f->ncomms, &f->capcomms, glob);
}

int rp_filter_pids(struct rp_filter *f, const char *list, char *err, size_t errsize)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		long v = strtol(tok, &end, 10);

		if (*end || end == tok || v < 0 || v > 0x7fffffff) {
			snprintf(err, errsize, "--pid: '%s' is not a process id", tok);
			ret = -EINVAL;
			break;
		}
		if (UEV_GROW(f->pids, f->cappids, f->npids + 1) < 0) {
			ret = -ENOMEM;
			break;
		}
		f->pids[f->npids++] = (int)v;
	}
	free(copy);
	return ret;
}

int rp_filter_grep(struct rp_filter *f, const char *re, char *err, size_t errsize)
{
	int e = regcomp(&f->re, re, REG_EXTENDED | REG_NOSUB);

	if (e) {
		char msg[128];

		regerror(e, &f->re, msg, sizeof(msg));
		snprintf(err, errsize, "--grep: '%s': %s", re, msg);
		return -EINVAL;
	}
	f->have_re = 1;
	return 0;
}

/* "90", "1.5", with an optional unit us ms s m h d (default s). */
static int duration(const char *s, int64_t *ns)
{
	static const struct { const char *u; double mul; } units[] = {
		{ "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "", 1e9 },
		{ "m", 60e9 }, { "min", 60e9 }, { "h", 3600e9 }, { "d", 86400e9 },
	};
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].u)) {
			*ns = (int64_t)(v * units[i].mul);
			return 0;
		}
	return -EINVAL;
}

/* Fraction of a second after a parsed date: ".123456". */
static int fraction(const char *s, int64_t *ns)
{
	int64_t mul = 100000000;

	*ns = 0;
	if (!*s)
		return 0;
	if (*s++ != '.')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++, mul /= 10)
		*ns += (*s - '0') * mul;
	return *s ? -EINVAL : 0;
}

int rp_time_parse(const char *opt, const char *s, struct rp_when *w, char *err, size_t errsize)
{
	static const char *formats[] = { "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%H:%M:%S",
					 "%Y-%m-%d" };
	struct tm tm;
	time_t now = time(NULL);
	int64_t frac;

	memset(w, 0, sizeof(*w));
	if (s[0] == '-' || s[0] == '+') {
		w->kind = s[0] == '-' ? RP_WHEN_FROM_END : RP_WHEN_FROM_START;
		if (duration(s + 1, &w->ns) == 0)
			return 0;
	} else if (s[0] == '@') {
		char *end;
		double v = strtod(s + 1, &end);

		w->kind = RP_WHEN_ABS;
		w->ns = (int64_t)(v * 1e9);
		if (end != s + 1 && !*end)
			return 0;
	} else {
		for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
			const char *rest;

			localtime_r(&now, &tm);
			tm.tm_isdst = -1;
			if (i == 3)
				tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
			if (!(rest = strptime(s, formats[i], &tm)) || fraction(rest, &frac) < 0)
				continue;
			w->kind = RP_WHEN_ABS;
			w->ns = (int64_t)mktime(&tm) * 1000000000 + frac;
			return 0;
		}
	}
	snprintf(err, errsize,
		 "%s: '%s' is not a time (use 'YYYY-MM-DD HH:MM:SS[.frac]', 'HH:MM:SS', '@EPOCH', "
		 "or '-5m' / '+30s' from the end / start of the recording)", opt, s);
	return -EINVAL;
}

int64_t rp_when_resolve(const struct rp_when *w, int64_t first, int64_t last)
{
	switch (w->kind) {
	case RP_WHEN_FROM_END:
		return last - w->ns;
	case RP_WHEN_FROM_START:
		return first + w->ns;
	default:
		return w->ns;
	}
}

static int glob_any(char **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (fnmatch(v[i], name, 0) == 0)
			return 1;
	return 0;
}

int rp_filter_match(const struct rp_filter *f, const struct rp_event *e)
{
	if (f->have_since && rp_event_when(e) < f->since)
		return 0;
	if (f->have_until && rp_event_when(e) > f->until)
		return 0;
	if (f->ninc && !glob_any(f->inc, f->ninc, e->r.name))
		return 0;
	if (f->nexc && glob_any(f->exc, f->nexc, e->r.name))
		return 0;
	if (f->ncomms && !glob_any(f->comms, f->ncomms, e->comm))
		return 0;
	if (f->npids) {
		size_t i;

		for (i = 0; i < f->npids && f->pids[i] != e->r.pid; i++)
			;
		if (i == f->npids)
			return 0;
	}
	return 1;
}

int rp_filter_grep_match(const struct rp_filter *f, const char *line)
{
	return !f->have_re || regexec(&f->re, line, 0, NULL, 0) == 0;
}

void rp_filter_free(struct rp_filter *f)
{
	for (size_t i = 0; i < f->ninc; i++)
		free(f->inc[i]);
	for (size_t i = 0; i < f->nexc; i++)
		free(f->exc[i]);
	for (size_t i = 0; i < f->ncomms; i++)
		free(f->comms[i]);
	free(f->inc);
	free(f->exc);
	free(f->comms);
	free(f->pids);
	if (f->have_re)
		regfree(&f->re);
}
