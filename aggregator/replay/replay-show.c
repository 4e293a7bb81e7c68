/* SPDX-License-Identifier: MIT */
/*
 * What uev-replay prints around and for each event: the header (what the
 * files are), the events in the chosen output, the statistics and the
 * summary (what was lost, what was damaged).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <trace-seq.h>

#include "replay-main.h"
#include "tracedat.h"
#include "uev-grow.h"

static int clock_find(const struct rp_ctx *c, const struct rp_run *run, int64_t *off)
{
	for (unsigned i = 0; i < c->nclocks; i++)
		if (!strcmp(c->clocks[i].boot_id, run->boot_id) &&
		    !strcmp(c->clocks[i].trace_clock, run->trace_clock)) {
			*off = c->clocks[i].offset;
			return 1;
		}
	return 0;
}

/* A run's span in wall time, by the run's own first sync point (the
 * wall clock may have been stepped between two runs of one boot, which
 * share the merge timeline); 0 when it has no pages or no sync. */
static int run_span(const struct rp_ctx *c, const struct rp_run *run, int64_t *a, int64_t *b)
{
	int64_t off;

	if (!run->first_ts)
		return 0;
	if (run->have_sync)
		off = (int64_t)run->sync_real - (int64_t)run->sync_trace;
	else if (!clock_find(c, run, &off))
		return 0;
	*a = (int64_t)run->first_ts + off;
	*b = (int64_t)run->last_ts + off;
	return 1;
}

void rp_resolve_times(struct rp_main *m)
{
	int64_t first = INT64_MAX, last = INT64_MIN, a, b;

	for (unsigned i = 0; i < m->nfiles; i++)
		for (unsigned k = 0; k < m->files[i].nruns; k++)
			if (run_span(&m->ctx, &m->files[i].runs[k], &a, &b)) {
				first = a < first ? a : first;
				last = b > last ? b : last;
			}
	if (first == INT64_MAX)
		first = last = 0;
	if (m->have_since) {
		m->filter.since = rp_when_resolve(&m->since, first, last);
		m->filter.have_since = 1;
	}
	if (m->have_until) {
		m->filter.until = rp_when_resolve(&m->until, first, last);
		m->filter.have_until = 1;
	}
}

/*
 * The runs of @f that stopped without a clean end and the torn tails they
 * left: one line, however many (a crash loop leaves dozens), with the
 * first offsets; --verbose gives a line for each on stderr.
 */
static void unclean_line(FILE *fp, const struct rp_main *m, const struct rp_file *f)
{
	uint64_t torn = f->st.torn_end;

	if (!f->unclean && !torn)
		return;
	fprintf(fp, "#   %u run%s ended without a clean stop (killed, crashed or still running)", f->unclean,
		f->unclean == 1 ? "" : "s");
	if (torn) {
		fprintf(fp, ": %llu torn tail%s skipped, at offset%s", (unsigned long long)torn,
			torn == 1 ? "" : "s", torn == 1 ? "" : "s");
		for (unsigned i = 0; i < f->ntorn_off; i++)
			fprintf(fp, "%s %llu", i ? "," : "", (unsigned long long)f->torn_off[i]);
		if (torn > f->ntorn_off)
			fprintf(fp, " and %llu more%s", (unsigned long long)(torn - f->ntorn_off),
				m->ctx.verbose ? "" : " (--verbose lists them)");
	}
	fputc('\n', fp);
}

/* How the pages are stored: "none compressed", or the units' ratio. */
static void storage(FILE *fp, uint64_t unit_pages, uint64_t units, uint64_t page_bytes, uint64_t packed)
{
	if (!units) {
		fputs("none compressed", fp);
		return;
	}
	fprintf(fp, "%llu in %llu compressed unit%s, %.2f MiB in %.2f MiB (%.2f:1)",
		(unsigned long long)unit_pages, (unsigned long long)units, units == 1 ? "" : "s",
		(double)page_bytes / 1048576.0, (double)packed / 1048576.0,
		packed ? (double)page_bytes / (double)packed : 0.0);
}

/* An incident bundle's line: what triggered it, when, the window around it. */
static void incident_line(FILE *fp, const struct rp_main *m, const struct rp_file *f)
{
	const struct uev_ring_incident *inc = &f->incident;
	char when[64];

	if (!f->have_incident)
		return;
	if (inc->trigger_realtime_ns)
		rp_format_wall(when, sizeof(when), (int64_t)inc->trigger_realtime_ns, m->out.utc);
	else
		snprintf(when, sizeof(when), "trace time %llu", (unsigned long long)inc->trigger_ns);
	fprintf(fp, "# incident: %s, triggered by %s at %s, window -%.3fs..+%.3fs", inc->reason, inc->trigger, when,
		(double)(inc->trigger_ns - (inc->from_ns < inc->trigger_ns ? inc->from_ns : inc->trigger_ns)) / 1e9,
		(double)((inc->to_ns > inc->trigger_ns ? inc->to_ns : inc->trigger_ns) - inc->trigger_ns) / 1e9);
	if (inc->overwritten_to_ns > inc->from_ns)
		fprintf(fp, ", its first %.3fs were overwritten before the copy",
			(double)(inc->overwritten_to_ns - inc->from_ns) / 1e9);
	if (inc->lost_records)
		fprintf(fp, ", %llu records lost while copying", (unsigned long long)inc->lost_records);
	if (inc->problems)
		fprintf(fp, ", %llu problems in the source", (unsigned long long)inc->problems);
	fputc('\n', fp);
}

static void header(struct rp_main *m, FILE *fp)
{
	char a[64], b[64];
	int64_t x, y;

	for (unsigned i = 0; i < m->nfiles; i++) {
		const struct rp_file *f = &m->files[i];
		double size = (double)f->sb.segment_size * f->sb.segment_count;

		if (!f->usable)
			continue;
		fprintf(fp, "# %s: seat %s, %.1f MiB ring, %.0f%% used, wrapped %llu times, %u run%s, %llu records, "
			    "%llu events, %llu lost in the kernel\n", f->path, f->sb.seat,
			(double)f->sb.file_size / 1048576.0, size > 0 ? 100.0 * (double)f->st.bytes_used / size : 0.0,
			(unsigned long long)f->st.wraps, f->nruns, f->nruns == 1 ? "" : "s",
			(unsigned long long)f->st.records, (unsigned long long)f->events,
			(unsigned long long)f->st.lost_kernel);
		incident_line(fp, m, f);
		if (f->st.units) {
			fputs("#   pages: ", fp);
			storage(fp, f->st.unit_pages, f->st.units, f->st.unit_page_bytes, f->st.unit_bytes);
			fputc('\n', fp);
		}
		for (unsigned k = 0; k < f->nruns; k++) {
			const struct rp_run *run = &f->runs[k];

			fprintf(fp, "#   run %llu: kernel %s, boot %s, host %s, clock %s",
				(unsigned long long)run->run_id, run->kernel_release, run->boot_id, run->host,
				run->trace_clock);
			/* pages of another machine's layout, decoded as such */
			if (!uev_ring_layout_is_host(&(struct uev_ring_run_info){
				    .byte_order = run->byte_order, .long_size = run->long_size }))
				fprintf(fp, ", pages %s", uev_ring_layout_name(a, sizeof(a), run->byte_order,
									      run->long_size));
			if (run->compression)
				fprintf(fp, ", compression zstd:%u", run->compression);
			if (run->recovered_from)
				fprintf(fp, ", recovered from kernel memory after a reboot: the last of run %llu",
					(unsigned long long)run->recovered_from);
			if (run_span(&m->ctx, run, &x, &y)) {
				rp_format_wall(a, sizeof(a), x, m->out.utc);
				rp_format_wall(b, sizeof(b), y, m->out.utc);
				fprintf(fp, ", %s to %s (%.3f s)", a, b, (double)(y - x) / 1e9);
			}
			fputs(run->ended ? "\n" : ", no clean stop\n", fp);
		}
		unclean_line(fp, m, f);
	}
}

int rp_begin(struct rp_main *m)
{
	int r;

	if (!(m->seq = malloc(sizeof(*m->seq))) || rp_comm_init(&m->comm) < 0)
		return -ENOMEM;
	trace_seq_init(m->seq);
	m->first = INT64_MAX;
	m->last = INT64_MIN;
	if (m->perfetto_path && (r = rp_perfetto_open(&m->perfetto, m->perfetto_path)) < 0) {
		fprintf(stderr, "uev-replay: %s: %s\n", m->perfetto_path, strerror(-r));
		return r;
	}
	/* With --json or --perfetto, standard output is the data alone. */
	if (!m->no_header)
		header(m, m->json || m->perfetto || m->journal ? stderr : stdout);
	return 0;
}

/* One more event of @cpu: the table grows (doubling) only for a CPU
 * number above every one seen, so no event allocates after the first few. */
static int count_cpu(struct rp_main *m, unsigned cpu)
{
	size_t n = m->nper_cpu;

	/* The whole capacity is the table; new entries count nothing yet. */
	if (cpu >= n) {
		if (UEV_GROW(m->per_cpu, m->nper_cpu, (size_t)cpu + 1) < 0)
			return -ENOMEM;
		memset(m->per_cpu + n, 0, (m->nper_cpu - n) * sizeof(*m->per_cpu));
	}
	m->per_cpu[cpu]++;
	return 0;
}

static int count_event(struct rp_main *m, const char *name)
{
	for (size_t i = 0; i < m->nper_event; i++)
		if (!strcmp(m->per_event[i].name, name)) {
			m->per_event[i].n++;
			return 0;
		}
	if (UEV_GROW(m->per_event, m->capper_event, m->nper_event + 1) < 0 ||
	    !(m->per_event[m->nper_event].name = strdup(name)))
		return -ENOMEM;
	m->per_event[m->nper_event++].n = 1;
	return 0;
}

int rp_show(struct rp_main *m, struct rp_event *e)
{
	const char *name;

	m->read++;
	/* Names as the kernel gave them (fork, exec, rename), met in time
	 * order, win over the file's COMM table: the aggregator writes that
	 * table in drain order, so an exec drained from one CPU after the
	 * exec'd task's events on another CPU would leave them under the
	 * name before the exec. pids are per boot: a new boot forgets. */
	if (e->run && e->run != m->comm_run) { /* the boot is compared per run, not per event */
		if (strcmp(m->comm_boot, e->run->boot_id)) {
			rp_comm_clear(&m->comm);
			memcpy(m->comm_boot, e->run->boot_id, sizeof(m->comm_boot));
		}
		m->comm_run = e->run;
	}
	rp_comm_learn(&m->comm, e);
	if (e->r.pid > 0 && (name = rp_comm_find(&m->comm, e->r.pid)))
		e->comm = name;
	/* Losses count where they happened, whatever the filters hide. */
	if (e->lost > 0)
		m->lost += e->lost;
	else if (e->lost < 0)
		m->lost_unknown++;
	if (!rp_filter_match(&m->filter, e))
		return 0;
	if (m->filter.have_re || (!m->json && !m->stats && !m->perfetto)) {
		struct rp_buf *t = &m->text;

		t->len = 0;
		rp_buf_puts(t, e->r.name);
		rp_buf_put(t, ": ", 2);
		rp_fields_text(t, e, m->seq);
		if (t->oom)
			return -ENOMEM;
		if (!rp_filter_grep_match(&m->filter, t->s))
			return 0;
	}
	m->shown++;
	m->recovered += e->run->recovered_from != 0;
	if (e->key < m->first) {
		m->first = e->key;
		m->first_wall = rp_event_when(e);
	}
	if (e->key > m->last) {
		m->last = e->key;
		m->last_wall = rp_event_when(e);
	}
	if (m->stats) {
		if (e->r.cpu >= 0 && count_cpu(m, (unsigned)e->r.cpu) < 0)
			return -ENOMEM;
		return count_event(m, e->r.name);
	}
	if (m->perfetto)
		rp_perfetto_event(m->perfetto, e);
	else if (m->json)
		rp_out_json(&m->out, e);
	else if (m->journal)
		return rp_out_journal(&m->out, &m->jr, e, m->text.s, m->text.len);
	else
		rp_out_text(&m->out, e, m->text.s, m->text.len);
	return 0;
}

static int cmp_count(const void *a, const void *b)
{
	const struct rp_count *x = a, *y = b;

	return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->name, y->name);
}

struct totals {
	unsigned runs, unclean;
	/* pages, their bytes; of those, the ones unpacked from units, their
	 * bytes, and the units' packed bytes */
	uint64_t pages, page_bytes, unit_pages, unit_page_bytes, units, unit_bytes;
};

static struct totals totals(const struct rp_main *m)
{
	struct totals t = { 0 };

	for (unsigned i = 0; i < m->nfiles; i++) {
		const struct uev_ring_stats *st = &m->files[i].st;

		t.runs += m->files[i].nruns;
		t.unclean += m->files[i].unclean;
		t.pages += st->pages;
		t.page_bytes += st->page_bytes;
		t.unit_pages += st->unit_pages;
		t.unit_page_bytes += st->unit_page_bytes;
		t.units += st->units;
		t.unit_bytes += st->unit_bytes;
	}
	return t;
}

/* --stats --json: the same numbers as one object, keys as uev-replay(1)
 * lists them. */
static void stats_json(struct rp_main *m)
{
	struct totals t = totals(m);
	struct rp_buf *b = &m->out.line;
	char num[32];

	b->len = 0;
	rp_buf_puts(b, "{\"events_shown\":");
	rp_buf_u64(b, m->shown);
	rp_buf_puts(b, ",\"events_read\":");
	rp_buf_u64(b, m->read);
	rp_buf_puts(b, ",\"events_recovered\":");
	rp_buf_u64(b, m->recovered);
	rp_buf_puts(b, ",\"lost_kernel\":");
	rp_buf_i64(b, m->lost);
	rp_buf_puts(b, ",\"lost_unknown\":");
	rp_buf_i64(b, m->lost_unknown);
	rp_buf_puts(b, ",\"per_cpu\":{");
	for (size_t i = 0, first = 1; i < m->nper_cpu; i++)
		if (m->per_cpu[i]) {
			snprintf(num, sizeof(num), "%s\"%zu\":", first ? "" : ",", i);
			rp_buf_puts(b, num);
			rp_buf_u64(b, m->per_cpu[i]);
			first = 0;
		}
	rp_buf_puts(b, "},\"per_event\":{");
	for (size_t i = 0; i < m->nper_event; i++) {
		if (i)
			rp_buf_put(b, ",", 1);
		rp_json_string(b, m->per_event[i].name, strlen(m->per_event[i].name));
		rp_buf_put(b, ":", 1);
		rp_buf_u64(b, m->per_event[i].n);
	}
	rp_buf_puts(b, "}");
	for (unsigned i = 0; i < m->nfiles; i++) /* an incident bundle's description: the first file's */
		if (m->files[i].have_incident) {
			const struct uev_ring_incident *inc = &m->files[i].incident;
			const uint64_t v[] = { inc->run_id, inc->trigger_ns, inc->trigger_realtime_ns, inc->from_ns,
					       inc->to_ns, inc->overwritten_to_ns, inc->lost_records, inc->problems };
			const char *k[] = { "run", "trigger_ns", "trigger_wall_ns", "from_ns", "to_ns",
					    "overwritten_to_ns", "lost_records", "problems" };

			rp_buf_puts(b, ",\"incident\":{\"reason\":");
			rp_json_string(b, inc->reason, strlen(inc->reason));
			rp_buf_puts(b, ",\"trigger\":");
			rp_json_string(b, inc->trigger, strlen(inc->trigger));
			for (size_t j = 0; j < sizeof(v) / sizeof(v[0]); j++) {
				snprintf(num, sizeof(num), ",\"%s\":", k[j]);
				rp_buf_puts(b, num);
				rp_buf_u64(b, v[j]);
			}
			rp_buf_puts(b, "}");
			break;
		}
	const struct {
		const char *key;
		uint64_t v;
	} keys[] = {
		{ "pages", t.pages },
		{ "page_bytes", t.page_bytes },
		{ "units", t.units },
		{ "unit_pages", t.unit_pages },
		{ "unit_page_bytes", t.unit_page_bytes },
		{ "unit_bytes", t.unit_bytes },
		{ "runs", t.runs },
		{ "unclean_runs", t.unclean },
		{ "torn_tails", m->ctx.torn_ends },
		{ "problems", m->ctx.problems },
		{ "read_failures", m->ctx.io_errors },
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(num, sizeof(num), ",\"%s\":", keys[i].key);
		rp_buf_puts(b, num);
		rp_buf_u64(b, keys[i].v);
	}
	rp_buf_puts(b, "}\n");
	if (!b->oom)
		fwrite(b->s, 1, b->len, stdout);
}

static void stats(struct rp_main *m)
{
	struct totals t = totals(m);
	char a[64], b[64];

	printf("events: %llu shown of %llu read\n", (unsigned long long)m->shown, (unsigned long long)m->read);
	if (m->shown) {
		rp_format_wall(a, sizeof(a), m->first_wall, m->out.utc);
		rp_format_wall(b, sizeof(b), m->last_wall, m->out.utc);
		int64_t tr = m->last - m->first, wa = m->last_wall - m->first_wall;

		/* they differ when the wall clock was stepped in between */
		if (llabs(tr - wa) > 1000000)
			printf("span: %s to %s (%.6f s on the trace clock, %.6f s on the wall clock)\n", a, b,
			       (double)tr / 1e9, (double)wa / 1e9);
		else
			printf("span: %s to %s (%.6f s)\n", a, b, (double)tr / 1e9);
	}
	if (m->recovered)
		printf("recovered from kernel memory: %llu of them (the end of a boot that a persistent "
		       "ring kept across a reboot)\n", (unsigned long long)m->recovered);
	printf("lost in the kernel: %lld", m->lost);
	if (m->lost_unknown)
		printf(" (and %lld times a count unknown)", m->lost_unknown);
	printf("\nper CPU:\n");
	for (size_t i = 0; i < m->nper_cpu; i++)
		if (m->per_cpu[i])
			printf("  cpu%-5zu %12llu\n", i, (unsigned long long)m->per_cpu[i]);
	printf("per event:\n");
	for (size_t i = 0; i < m->nper_event; i++)
		printf("  %-40s %12llu\n", m->per_event[i].name, (unsigned long long)m->per_event[i].n);
	printf("pages: %llu (%.2f MiB), ", (unsigned long long)t.pages, (double)t.page_bytes / 1048576.0);
	storage(stdout, t.unit_pages, t.units, t.unit_page_bytes, t.unit_bytes);
	printf("\nruns: %u, %u ended without a clean stop (killed, crashed or still running)\n", t.runs, t.unclean);
	printf("torn tails of those runs, skipped: %llu\n", (unsigned long long)m->ctx.torn_ends);
	printf("problems in the files: %llu\n", (unsigned long long)m->ctx.problems);
	printf("files whose reading failed part way: %llu\n", (unsigned long long)m->ctx.io_errors);
}

static void summary_line(const struct rp_main *m, FILE *fp)
{
	struct totals t = totals(m);

	fprintf(fp, "# %llu events shown of %llu read, %lld lost in the kernel%s", (unsigned long long)m->shown,
		(unsigned long long)m->read, m->lost, m->lost_unknown ? " (and more, count unknown)" : "");
	if (t.unclean || m->ctx.torn_ends)
		fprintf(fp, ", %u run%s without a clean stop (%llu torn tail%s skipped)", t.unclean,
			t.unclean == 1 ? "" : "s", (unsigned long long)m->ctx.torn_ends,
			m->ctx.torn_ends == 1 ? "" : "s");
	fprintf(fp, ", %llu problems in the files", (unsigned long long)m->ctx.problems);
	if (m->ctx.io_errors)
		fprintf(fp, ", %llu file%s not read to the end", (unsigned long long)m->ctx.io_errors,
			m->ctx.io_errors == 1 ? "" : "s");
	fputc('\n', fp);
}

int rp_end(struct rp_main *m)
{
	FILE *summary = m->json || m->perfetto || m->journal ? stderr : stdout;
	int r = 0;

	if (m->perfetto) {
		r = rp_perfetto_close(m->perfetto);
		m->perfetto = NULL;
		if (r < 0)
			fprintf(stderr, "uev-replay: %s: %s\n", m->perfetto_path, strerror(-r));
	}
	if (m->stats) {
		qsort(m->per_event, m->nper_event, sizeof(*m->per_event), cmp_count);
		if (m->json)
			stats_json(m);
		else
			stats(m);
		return r;
	}
	if (m->no_header && summary == stdout)
		return r;
	summary_line(m, summary);
	return r;
}

static void tracedat_report(void *ctx, enum uev_ring_report_kind kind, uint64_t off, const char *msg)
{
	struct rp_main *m = ctx;

	if (kind == UEV_RING_TORN_END)
		rp_report_torn_end(&m->ctx, &m->files[0], off, msg);
	else
		rp_report(&m->ctx, m->files[0].path, off, msg);
}

int rp_tracedat(struct rp_main *m)
{
	char err[512];
	int r = uev_tracedat_write(m->files[0].path, 0, m->tracedat_path, tracedat_report, m, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "uev-replay: %s\n", err);
		return 1;
	}
	fprintf(stderr, "uev-replay: wrote %d pages to %s (%llu problems in the file, %llu torn tails of runs "
			"without a clean stop skipped)\n", r, m->tracedat_path, (unsigned long long)m->ctx.problems,
		(unsigned long long)m->ctx.torn_ends);
	return 0;
}

void rp_main_free(struct rp_main *m)
{
	for (size_t i = 0; i < m->nall; i++)
		rp_stream_close(m->all[i]);
	free(m->all);
	free(m->heap);
	free(m->wait);
	for (unsigned i = 0; i < m->nfiles; i++)
		rp_file_free(&m->files[i]);
	free(m->files);
	for (size_t i = 0; i < m->nper_event; i++)
		free(m->per_event[i].name);
	free(m->per_event);
	free(m->per_cpu);
	for (size_t i = 0; i < m->ctx.nann; i++)
		free(m->ctx.ann[i].def);
	free(m->ctx.ann);
	free(m->ctx.clocks);
	free(m->ctx.said);
	rp_filter_free(&m->filter);
	rp_comm_free(&m->comm);
	rp_buf_free(&m->text);
	rp_buf_free(&m->out.line);
	rp_journal_free(&m->jr);
	if (m->seq) {
		trace_seq_destroy(m->seq);
		free(m->seq);
	}
}
