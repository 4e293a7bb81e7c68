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
	int64_t d;
	const char *sys = rp_event_system(e);

	if (!p->have_base) {
		p->base = e->key;
		p->have_base = 1;
	}
	d = e->key - p->base;
	track(p, e);
	if (e->lost)
		fprintf(p->fp, "%s{\"name\":\"events lost on CPU %d\",\"ph\":\"i\",\"s\":\"g\",\"ts\":%" PRId64
			".%03" PRId64 ",\"pid\":0,\"tid\":0,\"args\":{\"lost\":%lld}}\n",
			p->n++ ? "," : "", e->r.cpu, d / 1000, d % 1000, e->lost);
	fprintf(p->fp, "%s{\"name\":", p->n++ ? "," : "");
	rp_json_string(p->fp, e->r.name, strlen(e->r.name));
	fputs(",\"cat\":", p->fp);
	rp_json_string(p->fp, sys, strlen(sys));
	fprintf(p->fp, ",\"ph\":\"i\",\"s\":\"t\",\"ts\":%" PRId64 ".%03" PRId64 ",\"pid\":%d,\"tid\":%d,\"args\":{\"cpu\":%d",
		d / 1000, d % 1000, e->r.pid, e->r.pid, e->r.cpu);
	rp_json_fields(p->fp, e, 0);
	fputs("}}\n", p->fp);
}

int rp_perfetto_close(struct rp_perfetto *p)
{
	int ret;

	for (size_t i = 0; i < p->nt; i++) {
		for (int k = 0; k < 2; k++) {
			fprintf(p->fp, "%s{\"name\":\"%s\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":",
				p->n++ ? "," : "", k ? "thread_name" : "process_name", p->t[i].pid, p->t[i].pid);
			rp_json_string(p->fp, p->t[i].name, strlen(p->t[i].name));
			fputs("}}\n", p->fp);
		}
	}
	fputs("]}\n", p->fp);
	ret = ferror(p->fp) ? -EIO : 0;
	if (fclose(p->fp) != 0 && !ret)
		ret = -errno;
	free(p->t);
	free(p);
	return ret;
}
