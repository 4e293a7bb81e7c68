/* SPDX-License-Identifier: MIT */
/*
 * uev-ringdump [--last-run] FILE: everything a ring file holds, decoded from the file
 * alone, one line per event in time order within each run, wall-clock times
 * from the run's sync points. A debugging view: it sorts in memory. uev-replay
 * is the streaming, merging reader for people.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <trace-seq.h>

#include "uev-decode.h"
#include "uev-grow.h"

struct line {
	uint64_t run, ts;
	char *text;
};

struct dump {
	int last_run_only;
	uint64_t max_run;
	struct line *v;
	size_t n, cap;
	uint64_t reports, lost, announcements;
	struct uev_decoder *print_dec;
};

static void report(void *ctx, enum uev_ring_report_kind kind, uint64_t off, const char *msg)
{
	struct dump *d = ctx;

	(void)kind; /* a dump shows every report alike */

	d->reports++;
	fprintf(stderr, "uev-ringdump: at offset %llu: %s\n", (unsigned long long)off, msg);
}

static void wall(char *buf, size_t size, const struct uev_ringdec_run *run, uint64_t ts)
{
	time_t sec;
	struct tm tm;
	int64_t w;

	if (!run->have_sync) {
		snprintf(buf, size, "%llu.%06llu", (unsigned long long)(ts / 1000000000ull),
			 (unsigned long long)(ts / 1000 % 1000000));
		return;
	}
	w = (int64_t)run->sync_realtime_ns + ((int64_t)ts - (int64_t)run->sync_trace_ns);
	sec = (time_t)(w / 1000000000);
	localtime_r(&sec, &tm);
	size_t n = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);

	snprintf(buf + n, size - n, ".%06lld", (long long)(w % 1000000000 / 1000));
}

static int collect(void *ctx, const struct uev_ringdec_run *run, const struct uev_rec *r)
{
	struct dump *d = ctx;
	struct trace_seq s;
	char when[64];

	if (r->missed)
		d->lost += r->missed > 0 ? (uint64_t)r->missed : 0;
	if (r->kind == UEV_REC_ANNOUNCE) {
		d->announcements++;
		return 0;
	}
	if (UEV_GROW(d->v, d->cap, d->n + 1) < 0)
		return -ENOMEM;
	wall(when, sizeof(when), run, r->ts);
	trace_seq_init(&s);
	trace_seq_printf(&s, "%s %s cpu%d %6d %-22s ", when, run->seat, r->cpu, r->pid, r->name);
	if (r->missed)
		trace_seq_printf(&s, "[CPU %d: events lost in the kernel before this point] ", r->cpu);
	/* The decoder that made @r prints it; uev_rec_print_fields only
	 * needs its tep handle for kernel records, reached through r. */
	uev_rec_print_fields(NULL, r, &s);
	trace_seq_terminate(&s);
	if (run->run_id > d->max_run)
		d->max_run = run->run_id;
	d->v[d->n].run = run->run_id;
	d->v[d->n].ts = r->ts;
	d->v[d->n].text = strdup(s.buffer);
	trace_seq_destroy(&s);
	if (!d->v[d->n].text)
		return -ENOMEM;
	d->n++;
	return 0;
}

static int cmp(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	if (x->run != y->run)
		return x->run < y->run ? -1 : 1;
	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

int main(int argc, char **argv)
{
	struct dump d = { 0 };
	char err[1024];
	int r;

	if (argc == 3 && !strcmp(argv[1], "--last-run")) {
		d.last_run_only = 1;
		argv++, argc--;
	}
	if (argc != 2 || !strcmp(argv[1], "--help")) {
		fprintf(argc == 2 ? stdout : stderr, "usage: uev-ringdump [--last-run] RING-FILE\n");
		return argc == 2 ? 0 : 2;
	}
	r = uev_ring_decode(argv[1], report, &d, collect, &d, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "uev-ringdump: %s\n", err);
		return 1;
	}
	if (d.n)
		qsort(d.v, d.n, sizeof(*d.v), cmp);
	for (size_t i = 0; i < d.n; i++) {
		if (!d.last_run_only || d.v[i].run == d.max_run)
			puts(d.v[i].text);
		free(d.v[i].text);
	}
	free(d.v);
	printf("# %zu events, %llu announcements, %llu lost in the kernel, %llu problems reported\n", d.n,
	       (unsigned long long)d.announcements, (unsigned long long)d.lost,
	       (unsigned long long)d.reports);
	return 0;
}
