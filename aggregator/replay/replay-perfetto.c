/* SPDX-License-Identifier: MIT */
/*
 * --perfetto: the Chrome trace-event JSON format, which ui.perfetto.dev
 * and chrome://tracing open. Every event is an instant event ("ph":"i") on
 * its thread's track; names of processes and threads are metadata events
 * ("ph":"M"), written at the end because a name is only known for sure once
 * everything is read. Events are written as they come, so memory is one
 * entry per thread (and per output and recent surface below), not per
 * event.
 *
 * The kernel gives uev a thread id, not a process id, so each thread is
 * its own track, named "comm (seat)". Timestamps are microseconds since the
 * first event: absolute wall-clock microseconds would not survive the
 * double-precision numbers JSON readers use.
 *
 * Weston's timeline (the weston provider's events, recognised by name and
 * their fields by name, so a schema revision that keeps the names keeps
 * working) also gets one track per output, a thread of the compositor's
 * process: each frame a complete slice ("ph":"X") from repaint_begin to
 * repaint_finished, and the frame's vblank, the damage flushed for it and
 * the clients' commits as instants on it. A slice is written when its frame
 * finishes, so the track holds only whole frames and nests by construction
 * (frames of one output follow each other); a frame that never finishes is
 * an instant where it began, never an open slice.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "uev-grow.h"

struct track {
	int pid;
	char name[16 + 64 + 4];
};

/*
 * An output of one compositor: (seat, pid of the thread that emits its
 * points, Weston's output id). Its track is thread OUT_TID0 + its index
 * among all outputs, in that compositor's process: above any Linux pid
 * (pid_max <= 2^22), so it cannot take a real thread's track.
 */
#define OUT_TID0 (1 << 30)

struct output {
	char seat[64];
	int pid;
	uint32_t id;
	char name[64];
	uint64_t seq;            /* frames begun */
	int open;                /* frame seq began and has not finished */
	int64_t begin, posted;   /* keys of its begin and posted (0: none) */
};

/* A surface of one compositor, and where its damage was last flushed: its
 * commits go on that track. Only the SURFACES_MAX learnt last are kept, so a
 * long recording of short-lived surfaces (menus, tooltips) costs neither
 * memory nor search time; a forgotten surface is learnt again at its next
 * flush. */
#define SURFACES_MAX 1024

struct surface {
	int pid;
	uint32_t id;
	size_t out;              /* index in outputs, SIZE_MAX: none yet */
	char desc[128];          /* newest description */
};

struct rp_perfetto {
	FILE *fp;
	int64_t base;
	int have_base;
	unsigned long long n;
	struct track *t;
	size_t nt, cap;
	struct output *o;
	size_t no, ocap;
	struct surface *s;
	size_t ns, scap;
	struct rp_buf line, frame;
};

int rp_perfetto_open(struct rp_perfetto **out, const char *path)
{
	struct rp_perfetto *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	if (!(p->fp = fopen(path, "we"))) {
		int e = -errno;

		free(p);
		return e;
	}
	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n", p->fp);
	*out = p;
	return 0;
}

/* Remember the latest name of each thread (a linear table: threads are
 * few next to events, and the newest are found first). */
static void track(struct rp_perfetto *p, const struct rp_event *e)
{
	char name[sizeof(p->t->name)];

	snprintf(name, sizeof(name), "%s (%s)", e->comm, e->run->seat);
	for (size_t i = p->nt; i-- > 0;)
		if (p->t[i].pid == e->r.pid) {
			if (strcmp(e->comm, "<...>"))
				memcpy(p->t[i].name, name, sizeof(name));
			return;
		}
	if (UEV_GROW(p->t, p->cap, p->nt + 1) < 0)
		return;
	p->t[p->nt].pid = e->r.pid;
	memcpy(p->t[p->nt++].name, name, sizeof(name));
}

/* @ns as JSON microseconds with three decimals (negative: 0). */
static void put_us(struct rp_buf *b, int64_t ns)
{
	char num[64];

	ns = ns < 0 ? 0 : ns;
	snprintf(num, sizeof(num), "%" PRId64 ".%03" PRId64, ns / 1000, ns % 1000);
	rp_buf_puts(b, num);
}

/* The "ts" of @key: microseconds since the first event. */
static void put_ts(struct rp_buf *b, const struct rp_perfetto *p, int64_t key)
{
	put_us(b, key - p->base);
}

/* Field @name of a user event: 1 with *num (integers) or @str (strings,
 * cut to @size) filled, 0 when the event has no such readable field. */
static int field(const struct rp_event *e, const char *name, uint64_t *num, char *str, size_t size)
{
	const struct uev_def *def = e->r.def;

	for (unsigned i = 0; def && i < def->nfields; i++) {
		const char *s;
		size_t n;
		uint64_t v;
		int t;

		if (strcmp(def->field[i].name, name))
			continue;
		t = uev_payload_field(def, e->r.payload, e->r.len, i, &v, &s, &n);
		if (t < 0)
			return 0;
		if (t == UEV_T_CHAR_ARRAY || t == UEV_T_REL_LOC) {
			if (!str)
				return 0;
			n = n < size - 1 ? n : size - 1;
			memcpy(str, s, n);
			str[n] = '\0';
		} else if (num) {
			*num = v;
		} else {
			return 0;
		}
		return 1;
	}
	return 0;
}

/* The output named by @e's "output" field, created on first sight; its
 * name is the newest non-empty output_name. NULL without one (or memory). */
static struct output *output(struct rp_perfetto *p, const struct rp_event *e)
{
	const char *seat = e->run->seat;
	char name[sizeof(p->o->name)] = "";
	struct output *o = NULL;
	uint64_t id;

	if (!field(e, "output", &id, NULL, 0) || id == 0)
		return NULL;
	field(e, "output_name", NULL, name, sizeof(name));
	for (size_t i = 0; i < p->no && !o; i++)
		if (p->o[i].id == id && p->o[i].pid == e->r.pid && !strcmp(p->o[i].seat, seat))
			o = &p->o[i];
	if (!o) {
		if (UEV_GROW(p->o, p->ocap, p->no + 1) < 0)
			return NULL;
		o = memset(&p->o[p->no++], 0, sizeof(*o));
		snprintf(o->seat, sizeof(o->seat), "%s", seat);
		o->pid = e->r.pid;
		o->id = (uint32_t)id;
		snprintf(o->name, sizeof(o->name), "output %u", o->id);
	}
	if (name[0])
		memcpy(o->name, name, sizeof(name));
	return o;
}

/* Start a line for an event on @o's track: name "@what", phase @ph at @key. */
static void out_line(struct rp_perfetto *p, struct rp_buf *b, const struct output *o,
		     const char *what, const char *ph, int64_t key)
{
	rp_buf_puts(b, p->n++ ? ",{\"name\":" : "{\"name\":");
	rp_json_string(b, what, strlen(what));
	rp_buf_puts(b, ",\"cat\":\"weston\",\"ph\":\"");
	rp_buf_puts(b, ph);
	rp_buf_puts(b, ph[0] == 'i' ? "\",\"s\":\"t\",\"ts\":" : "\",\"ts\":");
	put_ts(b, p, key);
	rp_buf_puts(b, ",\"pid\":");
	rp_buf_i64(b, o->pid);
	rp_buf_puts(b, ",\"tid\":");
	rp_buf_i64(b, OUT_TID0 + (int64_t)(o - p->o));
}

static void frame_args(struct rp_buf *b, const struct output *o)
{
	rp_buf_puts(b, ",\"args\":{\"output\":");
	rp_buf_u64(b, o->id);
	rp_buf_puts(b, ",\"output_name\":");
	rp_json_string(b, o->name, strlen(o->name));
	rp_buf_puts(b, ",\"frame\":");
	rp_buf_u64(b, o->seq);
}

/* Frame o->seq will not finish: an instant where it began says so. */
static void unfinished(struct rp_perfetto *p, struct rp_buf *b, struct output *o, const char *why)
{
	char what[sizeof(o->name) + 48];

	if (!o->open)
		return;
	o->open = 0;
	snprintf(what, sizeof(what), "%s frame %" PRIu64 " unfinished", o->name, o->seq);
	out_line(p, b, o, what, "i", o->begin);
	frame_args(b, o);
	rp_buf_puts(b, ",\"why\":");
	rp_json_string(b, why, strlen(why));
	rp_buf_puts(b, "}}\n");
}

/* repaint_finished: the frame's slice and its vblank. A finished without a
 * begin is the one Weston makes when a repaint loop starts, to learn the
 * last vblank: only that vblank is shown. */
static void finished(struct rp_perfetto *p, struct rp_buf *b, struct output *o,
		     const struct rp_event *e)
{
	char what[sizeof(o->name) + 32];
	uint64_t mono = 0, vblank = 0;
	int was_open = o->open;

	field(e, "mono_ns", &mono, NULL, 0);
	field(e, "vblank_ns", &vblank, NULL, 0);
	if (o->open) {
		o->open = 0;
		snprintf(what, sizeof(what), "%s frame %" PRIu64, o->name, o->seq);
		out_line(p, b, o, what, "X", o->begin);
		rp_buf_puts(b, ",\"dur\":");
		put_us(b, e->key - o->begin);
		frame_args(b, o);
		if (o->posted) {
			rp_buf_puts(b, ",\"posted_after_us\":");
			put_us(b, o->posted - o->begin);
		}
		rp_buf_puts(b, ",\"vblank_ns\":");
		rp_buf_u64(b, vblank);
		rp_buf_puts(b, "}}\n");
	}
	if (!vblank || !mono)
		return;
	/* The vblank on the ring's timeline: this event's own offset between
	 * its key and its CLOCK_MONOTONIC time carries it over. */
	out_line(p, b, o, "vblank", "i", e->key + (int64_t)(vblank - mono));
	if (was_open) {
		frame_args(b, o);
	} else {
		rp_buf_puts(b, ",\"args\":{\"output\":");
		rp_buf_u64(b, o->id);
		rp_buf_puts(b, ",\"loop_start\":1");
	}
	rp_buf_puts(b, ",\"vblank_ns\":");
	rp_buf_u64(b, vblank);
	rp_buf_puts(b, "}}\n");
}

/* The surface @id of @e's compositor, created on first sight (out unknown:
 * SIZE_MAX). NULL without memory. */
static struct surface *surface(struct rp_perfetto *p, const struct rp_event *e, uint64_t id)
{
	for (size_t i = p->ns; i-- > 0;)
		if (p->s[i].id == id && p->s[i].pid == e->r.pid)
			return &p->s[i];
	if (p->ns == SURFACES_MAX) {
		p->ns /= 2;
		memmove(p->s, p->s + p->ns, p->ns * sizeof(*p->s));
	}
	if (UEV_GROW(p->s, p->scap, p->ns + 1) < 0)
		return NULL;
	p->s[p->ns].pid = e->r.pid;
	p->s[p->ns].id = (uint32_t)id;
	p->s[p->ns].out = SIZE_MAX;
	p->s[p->ns].desc[0] = '\0';
	return &p->s[p->ns++];
}

/*
 * commit_damage and flush_damage: an instant naming the surface, on the
 * output the damage was flushed for. A commit names no output: it goes
 * where that surface's damage was last flushed, and one before any flush
 * stays on the compositor thread's track alone. Weston describes a surface
 * once and the points after may carry an empty description: the newest
 * one seen for the surface is used.
 */
static void damage(struct rp_perfetto *p, struct rp_buf *b, struct output *o,
		   const struct rp_event *e)
{
	char desc[sizeof(p->s->desc)] = "";
	uint64_t id = 0;
	struct surface *s;

	field(e, "surface", &id, NULL, 0);
	field(e, "surface_desc", NULL, desc, sizeof(desc));
	if (!(s = surface(p, e, id)))
		return;
	if (desc[0])
		memcpy(s->desc, desc, sizeof(desc));
	if (o)
		s->out = (size_t)(o - p->o);
	else if (s->out < p->no)
		o = &p->o[s->out];
	else
		return;
	out_line(p, b, o, e->r.name + 7, "i", e->key);
	rp_buf_puts(b, ",\"args\":{\"surface\":");
	rp_buf_u64(b, id);
	rp_buf_puts(b, ",\"surface_desc\":");
	rp_json_string(b, s->desc, strlen(s->desc));
	if (o->open && e->r.name[7] == 'f') {
		rp_buf_puts(b, ",\"frame\":");
		rp_buf_u64(b, o->seq);
	}
	rp_buf_puts(b, "}}\n");
}

/* The weston provider's repaint and damage points onto the output tracks. */
static void weston(struct rp_perfetto *p, const struct rp_event *e)
{
	struct rp_buf *b = &p->frame;
	const char *n = e->r.name;
	struct output *o;

	if (e->r.kind != UEV_REC_USER || strncmp(n, "weston_", 7))
		return;
	n += 7;
	b->len = 0;
	if (!strcmp(n, "commit_damage")) {
		damage(p, b, NULL, e);
	} else if (!(o = output(p, e))) {
		return;
	} else if (!strcmp(n, "repaint_begin")) {
		unfinished(p, b, o, "the next frame began first");
		o->open = 1;
		o->seq++;
		o->begin = e->key;
		o->posted = 0;
	} else if (!strcmp(n, "repaint_posted")) {
		if (o->open)
			o->posted = e->key;
	} else if (!strcmp(n, "repaint_finished")) {
		finished(p, b, o, e);
	} else if (!strcmp(n, "repaint_exit_loop")) {
		unfinished(p, b, o, "the repaint loop stopped first");
	} else if (!strcmp(n, "flush_damage")) {
		damage(p, b, o, e);
	}
	if (b->len)
		fwrite_unlocked(b->s, 1, b->len, p->fp);
}

void rp_perfetto_event(struct rp_perfetto *p, const struct rp_event *e)
{
	struct rp_buf *b = &p->line;
	const char *sys = rp_event_system(e);

	if (!p->have_base) {
		p->base = e->key;
		p->have_base = 1;
	}
	track(p, e);
	b->len = 0;
	if (e->lost) {
		rp_buf_puts(b, p->n++ ? "," : "");
		rp_buf_puts(b, "{\"name\":\"events lost on CPU ");
		rp_buf_i64(b, e->r.cpu);
		rp_buf_puts(b, "\",\"ph\":\"i\",\"s\":\"g\",\"ts\":");
		put_ts(b, p, e->key);
		rp_buf_puts(b, ",\"pid\":0,\"tid\":0,\"args\":{\"lost\":");
		rp_buf_i64(b, e->lost);
		rp_buf_puts(b, "}}\n");
	}
	rp_buf_puts(b, p->n++ ? ",{\"name\":" : "{\"name\":");
	rp_json_string(b, e->r.name, strlen(e->r.name));
	rp_buf_puts(b, ",\"cat\":");
	rp_json_string(b, sys, strlen(sys));
	rp_buf_puts(b, ",\"ph\":\"i\",\"s\":\"t\",\"ts\":");
	put_ts(b, p, e->key);
	rp_buf_puts(b, ",\"pid\":");
	rp_buf_i64(b, e->r.pid);
	rp_buf_puts(b, ",\"tid\":");
	rp_buf_i64(b, e->r.pid);
	rp_buf_puts(b, ",\"args\":{\"cpu\":");
	rp_buf_i64(b, e->r.cpu);
	rp_json_fields(b, e, 0);
	rp_buf_puts(b, "}}\n");
	fwrite_unlocked(b->s, 1, b->len, p->fp);
	weston(p, e);
}

/* A metadata event @what = @name for track (@pid, @tid). */
static void meta(struct rp_perfetto *p, const char *what, int64_t pid, int64_t tid, const char *name)
{
	struct rp_buf *b = &p->line;

	b->len = 0;
	rp_buf_puts(b, p->n++ ? ",{\"name\":\"" : "{\"name\":\"");
	rp_buf_puts(b, what);
	rp_buf_puts(b, "\",\"ph\":\"M\",\"pid\":");
	rp_buf_i64(b, pid);
	rp_buf_puts(b, ",\"tid\":");
	rp_buf_i64(b, tid);
	rp_buf_puts(b, ",\"args\":{\"name\":");
	rp_json_string(b, name, strlen(name));
	rp_buf_puts(b, "}}\n");
	fwrite(b->s, 1, b->len, p->fp);
}

int rp_perfetto_close(struct rp_perfetto *p)
{
	char name[sizeof(p->o->name) + 8];
	int ret;

	for (size_t i = 0; i < p->nt; i++) {
		meta(p, "process_name", p->t[i].pid, p->t[i].pid, p->t[i].name);
		meta(p, "thread_name", p->t[i].pid, p->t[i].pid, p->t[i].name);
	}
	for (size_t i = 0; i < p->no; i++) {
		p->frame.len = 0;
		unfinished(p, &p->frame, &p->o[i], "the recording ended first");
		if (p->frame.len)
			fwrite(p->frame.s, 1, p->frame.len, p->fp);
		snprintf(name, sizeof(name), "output %s", p->o[i].name);
		meta(p, "thread_name", p->o[i].pid, OUT_TID0 + (int64_t)i, name);
	}
	fputs("]}\n", p->fp);
	ret = ferror(p->fp) ? -EIO : 0;
	if (fclose(p->fp) != 0 && !ret)
		ret = -errno;
	free(p->t);
	free(p->o);
	free(p->s);
	rp_buf_free(&p->line);
	rp_buf_free(&p->frame);
	free(p);
	return ret;
}
