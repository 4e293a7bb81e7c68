/* SPDX-License-Identifier: MIT */
/*
 * --perfetto: the Chrome trace-event JSON format, which ui.perfetto.dev
 * and chrome://tracing open. Every event is an instant event ("ph":"i") on
 * its thread's track; names of processes and threads are metadata events
 * ("ph":"M"), written at the end because a name is only known for sure once
 * everything is read. Events are written as they come, so memory is one
 * entry per thread, not per event.
 *
 * The kernel gives uev a thread id, not a process id, so each thread is
 * its own track, named "comm (seat)". Timestamps are microseconds since the
 * first event: absolute wall-clock microseconds would not survive the
 * double-precision numbers JSON readers use.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

struct track {
	int pid;
	char name[16 + 64 + 4];
};

struct rp_perfetto {
	FILE *fp;
	int64_t base;
	int have_base;
	unsigned long long n;
	struct track *t;
	size_t nt, cap;
	struct rp_buf line;
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
	if (p->nt == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct track *t = realloc(p->t, cap * sizeof(*t));

		if (!t)
			return;
		p->t = t;
		p->cap = cap;
	}
	p->t[p->nt].pid = e->r.pid;
	memcpy(p->t[p->nt++].name, name, sizeof(name));
}

void rp_perfetto_event(struct rp_perfetto *p, const struct rp_event *e)
{
	struct rp_buf *b = &p->line;
	const char *sys = rp_event_system(e);
	char num[64];
	int64_t d;

	if (!p->have_base) {
		p->base = e->key;
		p->have_base = 1;
	}
	d = e->key - p->base;
	d = d < 0 ? 0 : d;
	snprintf(num, sizeof(num), "%" PRId64 ".%03" PRId64, d / 1000, d % 1000);
	track(p, e);
	b->len = 0;
	if (e->lost) {
		rp_buf_puts(b, p->n++ ? "," : "");
		rp_buf_puts(b, "{\"name\":\"events lost on CPU ");
		rp_buf_i64(b, e->r.cpu);
		rp_buf_puts(b, "\",\"ph\":\"i\",\"s\":\"g\",\"ts\":");
		rp_buf_puts(b, num);
		rp_buf_puts(b, ",\"pid\":0,\"tid\":0,\"args\":{\"lost\":");
		rp_buf_i64(b, e->lost);
		rp_buf_puts(b, "}}\n");
	}
	rp_buf_puts(b, p->n++ ? ",{\"name\":" : "{\"name\":");
	rp_json_string(b, e->r.name, strlen(e->r.name));
	rp_buf_puts(b, ",\"cat\":");
	rp_json_string(b, sys, strlen(sys));
	rp_buf_puts(b, ",\"ph\":\"i\",\"s\":\"t\",\"ts\":");
	rp_buf_puts(b, num);
	rp_buf_puts(b, ",\"pid\":");
	rp_buf_i64(b, e->r.pid);
	rp_buf_puts(b, ",\"tid\":");
	rp_buf_i64(b, e->r.pid);
	rp_buf_puts(b, ",\"args\":{\"cpu\":");
	rp_buf_i64(b, e->r.cpu);
	rp_json_fields(b, e, 0);
	rp_buf_puts(b, "}}\n");
	fwrite_unlocked(b->s, 1, b->len, p->fp);
}

int rp_perfetto_close(struct rp_perfetto *p)
{
	int ret;

	for (size_t i = 0; i < p->nt; i++) {
		for (int k = 0; k < 2; k++) {
			struct rp_buf *b = &p->line;

			b->len = 0;
			rp_buf_puts(b, p->n++ ? ",{\"name\":\"" : "{\"name\":\"");
			rp_buf_puts(b, k ? "thread_name" : "process_name");
			rp_buf_puts(b, "\",\"ph\":\"M\",\"pid\":");
			rp_buf_i64(b, p->t[i].pid);
			rp_buf_puts(b, ",\"tid\":");
			rp_buf_i64(b, p->t[i].pid);
			rp_buf_puts(b, ",\"args\":{\"name\":");
			rp_json_string(b, p->t[i].name, strlen(p->t[i].name));
			rp_buf_puts(b, "}}\n");
			fwrite(b->s, 1, b->len, p->fp);
		}
	}
	fputs("]}\n", p->fp);
	ret = ferror(p->fp) ? -EIO : 0;
	if (fclose(p->fp) != 0 && !ret)
		ret = -errno;
	free(p->t);
	rp_buf_free(&p->line);
	free(p);
	return ret;
}
