/* SPDX-License-Identifier: MIT */
/*
 * One ring file's events as journal entries, in replay's merge order: a
 * stream per CPU (replay's), the smallest head first, ties by CPU, which is
 * the order rp_cursor_cmp() knows, so "every entry after the cursor" is
 * exactly what was not acknowledged. A file has few CPUs: a linear pick of
 * the smallest head is cheaper here than a heap, and the HTTP round trip
 * of a batch dwarfs either.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "upload.h"

enum { S_NEED, S_HEAD, S_END };

struct up_source {
	struct rp_ctx ctx;
	struct rp_file f;
	struct rp_stream **st;
	int *state;           /* [n]: S_* */
	unsigned n;
	int follow;
	int64_t slack_ns;     /* following: how old a head must be to go out (uev-replay's rule) */
	struct rp_namer names;
	struct trace_seq *seq;
	struct rp_buf text;
	struct rp_journal jr;
	struct rp_cursor after;
	int have_after;
};

/* A followed file's page reaches it up to a flush interval after its
 * events: a head waits until it is older than that and half a second, as
 * uev-replay --follow holds it (1 s when the run does not record it). */
static void follow_slack(struct up_source *s, const struct rp_run *run)
{
	int64_t ms = run && run->flush_interval_ms ? run->flush_interval_ms : 1000;

	if (ms * 1000000 + 500000000 > s->slack_ns)
		s->slack_ns = ms * 1000000 + 500000000;
}

static int add_stream(struct up_source *s, unsigned cpu, char *err, size_t errsize)
{
	int r = rp_stream_open(&s->st[s->n], &s->ctx, &s->f, cpu, s->follow, err, errsize);

	if (r < 0)
		return r;
	s->state[s->n++] = S_NEED;
	return 0;
}

static int open_all(struct up_source *s, const char *path, int follow, char *err, size_t errsize);

int up_source_open(struct up_source **out, const char *path, int follow, char *err, size_t errsize)
{
	struct up_source *s = calloc(1, sizeof(*s));
	int r;

	if (!s || rp_namer_init(&s->names) < 0 || !(s->seq = rp_seq_new())) {
		if (s)
			rp_namer_free(&s->names);
		free(s);
		snprintf(err, errsize, "%s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	if ((r = open_all(s, path, follow, err, errsize)) < 0) {
		if (r == -ENOMEM)
			snprintf(err, errsize, "%s: %s", path, strerror(ENOMEM));
		up_source_close(s);
		s = NULL;
	}
	*out = s;
	return r;
}

static int open_all(struct up_source *s, const char *path, int follow, char *err, size_t errsize)
{
	long here = follow ? sysconf(_SC_NPROCESSORS_CONF) : 0;
	unsigned max;
	int r;

	s->ctx.quiet = 1; /* counted: uev-replay FILE shows them */
	s->f.path = path;
	s->follow = follow;
	if ((r = rp_prescan(&s->ctx, &s->f, err, errsize)) < 0)
		return r;
	/* the file's CPUs, and when following this machine's as well: a
	 * CPU that has no page yet may get one */
	max = s->f.ncpu + (here > 0 ? (unsigned)here : 0);
	s->st = calloc(max ? max : 1, sizeof(*s->st));
	s->state = calloc(max ? max : 1, sizeof(*s->state));
	if (!s->st || !s->state)
		return -ENOMEM;
	for (unsigned i = 0; i < s->f.ncpu; i++)
		if ((r = add_stream(s, s->f.cpu[i], err, errsize)) < 0)
			return r;
	for (long c = 0; c < here; c++) {
		int have = 0;

		for (unsigned i = 0; i < s->f.ncpu; i++)
			have |= s->f.cpu[i] == (unsigned)c;
		if (!have && (r = add_stream(s, (unsigned)c, err, errsize)) < 0)
			return r;
	}
	if (follow)
		follow_slack(s, s->f.nruns ? &s->f.runs[s->f.nruns - 1] : NULL);
	return 0;
}

const uint8_t *up_source_uuid(const struct up_source *s)
{
	return s->f.sb.uuid;
}

void up_source_resume(struct up_source *s, const struct rp_cursor *after)
{
	s->after = *after;
	s->have_after = 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Heads for the streams that need one: 0 or -ENOMEM. */
static int fill(struct up_source *s, int *waiting)
{
	int r;

	*waiting = 0;
	for (unsigned i = 0; i < s->n; i++) {
		if (s->state[i] == S_END && s->follow && !rp_stream_dead(s->st[i])) {
			if ((r = rp_stream_refresh(s->st[i])) < 0)
				return r;
			s->state[i] = S_NEED;
		}
		if (s->state[i] != S_NEED)
			continue;
		if ((r = rp_stream_next(s->st[i])) < 0)
			return r;
		s->state[i] = r ? S_HEAD : S_END;
		if (r && s->follow)
			follow_slack(s, rp_stream_head(s->st[i])->run);
		*waiting |= !r && s->follow && !rp_stream_dead(s->st[i]);
	}
	return 0;
}

int up_source_next(struct up_source *s, struct rp_buf *body, char *cursor)
{
	for (;;) {
		struct rp_event *e, *b = NULL;
		struct rp_cursor c;
		unsigned best = 0;
		int waiting, r;

		if ((r = fill(s, &waiting)) < 0)
			return r;
		for (unsigned i = 0; i < s->n; i++) {
			if (s->state[i] != S_HEAD)
				continue;
			e = rp_stream_head(s->st[i]);
			if (!b || e->key < b->key || (e->key == b->key && e->r.cpu < b->r.cpu)) {
				b = e;
				best = i;
			}
		}
		if (!b || (waiting && b->key > now_ns() - s->slack_ns))
			return 0;
		rp_stream_resolve(s->st[best]);
		s->state[best] = S_NEED; /* the head stays valid until the next fill */
		rp_namer_name(&s->names, b);
		rp_cursor_of(&c, b);
		if (s->have_after && rp_cursor_cmp(&c, &s->after) <= 0)
			continue;
		rp_event_text(&s->text, b, s->seq);
		rp_journal_entry(&s->jr, body, b, s->text.s, s->text.len);
		if (s->text.oom || body->oom)
			return -ENOMEM;
		rp_cursor_format(cursor, RP_CURSOR_TEXT, &c);
		return 1;
	}
}

uint64_t up_source_problems(const struct up_source *s)
{
	return s->ctx.problems;
}

uint64_t up_source_failures(const struct up_source *s)
{
	return s->ctx.io_errors;
}

void up_source_close(struct up_source *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->n; i++)
		rp_stream_close(s->st[i]);
	free(s->st);
	free(s->state);
	rp_file_free(&s->f);
	for (size_t i = 0; i < s->ctx.nann; i++)
		free(s->ctx.ann[i].def);
	free(s->ctx.ann);
	free(s->ctx.clocks);
	free(s->ctx.said);
	rp_namer_free(&s->names);
	rp_seq_free(s->seq);
	rp_buf_free(&s->text);
	rp_journal_free(&s->jr);
	free(s);
}
