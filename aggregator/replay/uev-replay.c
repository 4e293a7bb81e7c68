/* SPDX-License-Identifier: MIT */
/*
 * uev-replay [options] FILE...: ring files into one merged, decoded
 * timeline (docs/uev-replay.1).
 *
 * The merge is a binary heap of streams (one per CPU per file) keyed by
 * their head event's time on the common timeline (replay.h): each stream is
 * already in order, so popping the smallest head and refilling it yields
 * every event in order with memory that depends on the number of streams,
 * never on the size of the files.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <trace-seq.h>

#include "replay-filter.h"
#include "replay-main.h"
#include "uev-grow.h"

static void usage(FILE *fp)
{
	fputs("usage: uev-replay [options] RING-FILE...\n"
	      "Merge ring files (every CPU of every file) into one decoded timeline.\n\n"
	      "  --time=wall|boot|relative  time column (default wall, from the files' sync points)\n"
	      "  --utc                      wall times in UTC instead of local time\n"
	      "  --event GLOB               only events whose name matches (repeatable); !GLOB excludes\n"
	      "  --pid PID[,PID...]         only these thread ids\n"
	      "  --comm GLOB                only tasks whose name matches (repeatable)\n"
	      "  --since TIME, --until TIME 'YYYY-MM-DD HH:MM:SS[.frac]', 'HH:MM:SS', '@EPOCH',\n"
	      "                             or -5m / +30s from the end / start of the recording\n"
	      "  --grep REGEX               only events whose text matches (POSIX extended)\n"
	      "  --follow, -f               keep reading files that an aggregator is writing\n"
	      "  --stats                    counts per event and per CPU, losses and span, no events\n"
	      "  --json                     JSON lines, one object per event\n"
	      "  --export=journal           the systemd Journal Export Format (systemd-journal-remote)\n"
	      "  --perfetto FILE            write a Chrome/Perfetto JSON trace (ui.perfetto.dev)\n"
	      "  --trace-dat FILE           write a trace-cmd trace.dat (trace-cmd report, KernelShark)\n"
	      "  --no-header                no '#' header and summary lines\n"
	      "  --verbose, -v              a line for each torn tail that a killed run left (else counted)\n"
	      "  --help, --version\n\n"
	      "Exit status: 0 files read (damage is reported on stderr and skipped), 1 nothing\n"
	      "could be read or a read failed part way (I/O error, file shrank), 2 bad usage.\n", fp);
}

enum { O_TIME = 256, O_UTC, O_EVENT, O_PID, O_COMM, O_SINCE, O_UNTIL, O_GREP, O_STATS,
       O_JSON, O_EXPORT, O_PERFETTO, O_TRACEDAT, O_NOHDR, O_VERSION, O_HELP };

/* Option @c (its value in optarg): 0, a negative errno or a message in
 * @err, or 1 when @c is no option (the usage was printed). --help and
 * --version exit here. */
static int take_option(struct rp_main *m, int c, char *err, size_t errsize)
{
	switch (c) {
	case O_TIME:
		if (!strcmp(optarg, "wall"))
			m->out.time = RP_TIME_WALL;
		else if (!strcmp(optarg, "boot"))
			m->out.time = RP_TIME_BOOT;
		else if (!strcmp(optarg, "relative"))
			m->out.time = RP_TIME_RELATIVE;
		else
			snprintf(err, errsize, "--time: '%s' is not wall, boot or relative", optarg);
		return 0;
	case O_UTC: m->out.utc = 1; return 0;
	case O_EVENT: return rp_filter_event_glob(&m->filter, optarg);
	case O_PID: return rp_filter_pids(&m->filter, optarg, err, errsize);
	case O_COMM: return rp_filter_comm(&m->filter, optarg);
	case O_SINCE:
		m->have_since = 1;
		return rp_time_parse("--since", optarg, &m->since, err, errsize);
	case O_UNTIL:
		m->have_until = 1;
		return rp_time_parse("--until", optarg, &m->until, err, errsize);
	case O_GREP: return rp_filter_grep(&m->filter, optarg, err, errsize);
	case 'f': m->follow = 1; return 0;
	case 'v': m->ctx.verbose = 1; return 0;
	case O_STATS: m->stats = 1; return 0;
	case O_JSON: m->json = 1; return 0;
	case O_EXPORT:
		if (strcmp(optarg, "journal"))
			snprintf(err, errsize, "--export: '%s' is not journal", optarg);
		m->journal = 1;
		return 0;
	case O_PERFETTO: m->perfetto_path = optarg; return 0;
	case O_TRACEDAT: m->tracedat_path = optarg; return 0;
	case O_NOHDR: m->no_header = 1; return 0;
	case O_VERSION: printf("uev-replay %s\n", UEV_VERSION_STRING); exit(0);
	case O_HELP: usage(stdout); exit(0);
	default: usage(stderr); return 1;
	}
}

/* The options that cannot go together. 0, or -1 with a message. */
static int check_options(const struct rp_main *m, int nfiles)
{
	const struct rp_filter *f = &m->filter;

	if (m->journal && (m->stats || m->json || m->perfetto_path)) {
		fprintf(stderr, "uev-replay: --export=journal is an output of its own: not with --stats, --json or "
				"--perfetto\n");
		return -1;
	}
	if (m->tracedat_path && (m->follow || m->stats || m->json || m->journal || m->perfetto_path || f->ninc ||
				 f->nexc ||
				 f->npids || f->ncomms || f->have_re || m->have_since || m->have_until ||
				 nfiles != 1)) {
		fprintf(stderr, "uev-replay: --trace-dat copies whole kernel pages of one file: it takes exactly one "
				"file and no filters or other outputs\n");
		return -1;
	}
	if (m->follow && (m->stats || m->perfetto_path)) {
		fprintf(stderr, "uev-replay: --follow does not end, so it cannot be used with --stats or --perfetto\n");
		return -1;
	}
	return 0;
}

static int parse_args(struct rp_main *m, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "time", required_argument, 0, O_TIME }, { "utc", no_argument, 0, O_UTC },
		{ "event", required_argument, 0, O_EVENT }, { "pid", required_argument, 0, O_PID },
		{ "comm", required_argument, 0, O_COMM }, { "since", required_argument, 0, O_SINCE },
		{ "until", required_argument, 0, O_UNTIL }, { "grep", required_argument, 0, O_GREP },
		{ "follow", no_argument, 0, 'f' }, { "stats", no_argument, 0, O_STATS },
		{ "json", no_argument, 0, O_JSON },
		{ "export", required_argument, 0, O_EXPORT }, { "perfetto", required_argument, 0, O_PERFETTO },
		{ "trace-dat", required_argument, 0, O_TRACEDAT }, { "no-header", no_argument, 0, O_NOHDR },
		{ "verbose", no_argument, 0, 'v' },
		{ "version", no_argument, 0, O_VERSION }, { "help", no_argument, 0, O_HELP },
		{ 0, 0, 0, 0 },
	};
	char err[512] = "";
	int c, r;

	while ((c = getopt_long(argc, argv, "fv", opts, NULL)) != -1) {
		if ((r = take_option(m, c, err, sizeof(err))) > 0)
			return -1;
		if (err[0] || r < 0) {
			fprintf(stderr, "uev-replay: %s\n", err[0] ? err : strerror(-r));
			return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "uev-replay: no ring file given\n");
		usage(stderr);
		return -1;
	}
	if (check_options(m, argc - optind) < 0)
		return -1;
	/* The statistics are the detailed account: every torn tail too. */
	m->ctx.verbose |= m->stats;
	m->nfiles = (unsigned)(argc - optind);
	m->files = calloc(m->nfiles, sizeof(*m->files));
	if (!m->files)
		return -1;
	for (unsigned i = 0; i < m->nfiles; i++)
		m->files[i].path = argv[optind + (int)i];
	return 0;
}

/* ---- the merge ---------------------------------------------------------- */

/* Ties by CPU: one file's order is then the one its cursors have
 * (rp_cursor_cmp), whatever the heap's shape. */
static int before(struct rp_stream *a, struct rp_stream *b)
{
	const struct rp_event *x = rp_stream_head(a), *y = rp_stream_head(b);

	return x->key < y->key || (x->key == y->key && x->r.cpu < y->r.cpu);
}

/*
 * Following, a stream with nothing yet may still get an event older than
 * the others' heads: its CPU's page reaches the file only with the
 * aggregator's next flush, up to the run's flush interval after the event.
 * Heads are held back while any stream waits, until they are older than
 * the longest flush interval of the runs followed (each file's newest run
 * at the start, then every run an event comes from) plus
 * FOLLOW_MARGIN_NS: a flush's own drain and write (milliseconds even at
 * high rates, BENCHMARKS.md), this loop's 200 ms poll, and the rest for
 * a loaded machine. A run that does not record its interval (ring
 * version 1) counts as the default 1 s: 1.5 s, as before it was recorded.
 */
#define FOLLOW_MARGIN_NS 500000000ll
#define FOLLOW_DEFAULT_FLUSH_MS 1000

static void follow_run(struct rp_main *m, const struct rp_run *run)
{
	int64_t ms = run && run->flush_interval_ms ? run->flush_interval_ms : FOLLOW_DEFAULT_FLUSH_MS;

	if (ms * 1000000 + FOLLOW_MARGIN_NS > m->follow_slack_ns)
		m->follow_slack_ns = ms * 1000000 + FOLLOW_MARGIN_NS;
}

static void heap_push(struct rp_main *m, struct rp_stream *s)
{
	size_t i = m->nheap++;

	if (m->follow)
		follow_run(m, rp_stream_head(s)->run);
	m->heap[i] = s;
	while (i && before(m->heap[i], m->heap[(i - 1) / 2])) {
		struct rp_stream *t = m->heap[i];

		m->heap[i] = m->heap[(i - 1) / 2];
		m->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static struct rp_stream *heap_pop(struct rp_main *m)
{
	struct rp_stream *top = m->heap[0];
	size_t i = 0;

	m->heap[0] = m->heap[--m->nheap];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, k = i;
		struct rp_stream *t;

		if (l < m->nheap && before(m->heap[l], m->heap[k]))
			k = l;
		if (r < m->nheap && before(m->heap[r], m->heap[k]))
			k = r;
		if (k == i)
			break;
		t = m->heap[i];
		m->heap[i] = m->heap[k];
		m->heap[k] = t;
		i = k;
	}
	return top;
}

/* Streams that had nothing the last time (following: the writer's end). */
static int refill_waiting(struct rp_main *m)
{
	size_t w = 0;

	for (size_t i = 0; i < m->nwait; i++) {
		struct rp_stream *s = m->wait[i];
		int r;

		if (m->follow && (r = rp_stream_refresh(s)) < 0)
			return r;
		if ((r = rp_stream_next(s)) < 0)
			return r;
		if (r)
			heap_push(m, s);
		else if (!rp_stream_dead(s))
			m->wait[w++] = s;
	}
	m->nwait = w;
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int merge(struct rp_main *m)
{
	int r;

	for (;;) {
		if ((r = refill_waiting(m)) < 0)
			return r;
		if (!m->nheap || (m->follow && m->nwait &&
				  rp_stream_head(m->heap[0])->key > now_ns() - m->follow_slack_ns)) {
			/* Following ends when every stream's file failed. */
			if (!m->follow || (!m->nheap && !m->nwait))
				return 0;
			if (fflush(stdout) != 0)
				return -errno; /* the reader of the output is gone */
			usleep(200000);
			continue;
		}
		struct rp_stream *s = heap_pop(m);

		rp_stream_resolve(s);
		if ((r = rp_show(m, rp_stream_head(s))) < 0)
			return r;
		if ((r = rp_stream_next(s)) < 0)
			return r;
		if (r)
			heap_push(m, s);
		else if (!rp_stream_dead(s))
			m->wait[m->nwait++] = s;
	}
}

/* This machine's CPUs, ascending: the kernel's possible CPUs ("0-3,8" in
 * sysfs), else 0..N-1 by sysconf(). A followed file may get pages of any
 * of them, also of those it has none of yet. */
static int local_cpus(unsigned **cpus, unsigned *n)
{
	FILE *fp = fopen("/sys/devices/system/cpu/possible", "re");
	unsigned long lo, hi, cap = 0;
	long conf = sysconf(_SC_NPROCESSORS_CONF);
	char list[4096] = "";
	int pass;

	if (fp) {
		if (!fgets(list, sizeof(list), fp))
			list[0] = 0;
		fclose(fp);
	}
	if (!strchr("0123456789", list[0]) || !list[0])
		snprintf(list, sizeof(list), "0-%ld", conf > 0 ? conf - 1 : 0);
	*cpus = NULL;
	*n = 0;
	/* Counted, then filled; ranges past the ring's cpu field are cut. */
	for (pass = 0; pass < 2; pass++) {
		for (char *p = list, *end; *p >= '0' && *p <= '9'; p = end + (*end == ',')) {
			lo = hi = strtoul(p, &end, 10);
			if (*end == '-')
				hi = strtoul(end + 1, &end, 10);
			for (unsigned long c = lo; c <= hi && c <= UEV_RING_CPU_MAX; c++)
				if (pass)
					(*cpus)[(*n)++] = (unsigned)c;
				else
					cap++;
		}
		if (!pass && !(*cpus = malloc((cap ? cap : 1) * sizeof(**cpus))))
			return -ENOMEM;
	}
	return 0;
}

/* The stream of CPU @cpu of @f added to m->all; 1 when the file cannot be
 * opened again (reported: it is left out, as a read of it that fails). */
static int add_stream(struct rp_main *m, struct rp_file *f, unsigned cpu)
{
	struct rp_stream *s;
	char err[512], what[600];
	size_t skip = strlen(f->path) + 2;
	int r;

	if ((r = rp_stream_open(&s, &m->ctx, f, cpu, m->follow, err, sizeof(err))) == -ENOMEM)
		return r;
	if (r < 0) { /* err is "path: why" */
		snprintf(what, sizeof(what), "opening it again for CPU %u: %s", cpu,
			 strncmp(err, f->path, skip - 2) == 0 && strlen(err) >= skip ? err + skip : err);
		rp_read_failed(&m->ctx, f, r, what);
		return 1;
	}
	if (UEV_GROW(m->all, m->capall, m->nall + 1) < 0) {
		rp_stream_close(s);
		return -ENOMEM;
	}
	m->all[m->nall++] = s;
	return 0;
}

/* A stream for every CPU of every file that has pages of it (with
 * --follow, every CPU of this machine too). A file that cannot be opened
 * again (replaced or removed since its first pass, out of descriptors) is
 * reported and left out, as a read of it that fails would be. */
static int open_streams(struct rp_main *m)
{
	unsigned *here = NULL, nhere = 0;
	int r = m->follow ? local_cpus(&here, &nhere) : 0;
	struct rlimit rl;
	rlim_t need = 64;

	/* A descriptor per stream: a soft limit below that is raised as far
	 * as the hard one allows (beyond it, the file is reported). */
	for (unsigned i = 0; i < m->nfiles; i++)
		need += m->files[i].ncpu + nhere;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ? rl.rlim_max : need;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	for (unsigned i = 0; i < m->nfiles && r >= 0; i++) {
		struct rp_file *f = &m->files[i];
		unsigned a = 0, b = 0;

		if (!f->usable)
			continue;
		/* The union of the two ascending lists. */
		for (r = 0; r == 0 && (a < f->ncpu || b < nhere);) {
			unsigned cpu = b >= nhere || (a < f->ncpu && f->cpu[a] <= here[b]) ? f->cpu[a] : here[b];

			a += a < f->ncpu && f->cpu[a] == cpu;
			b += b < nhere && here[b] == cpu;
			r = add_stream(m, f, cpu);
		}
	}
	free(here);
	if (r < 0)
		return r;
	m->heap = calloc(m->nall + 1, sizeof(*m->heap));
	m->wait = calloc(m->nall + 1, sizeof(*m->wait));
	if (!m->heap || !m->wait)
		return -ENOMEM;
	for (size_t i = 0; i < m->nall; i++)
		m->wait[m->nwait++] = m->all[i];
	return 0;
}

int main(int argc, char **argv)
{
	static struct rp_main m;
	unsigned usable = 0;
	char err[512];
	int r;

	m.out.fp = stdout;
	if (parse_args(&m, argc, argv) < 0)
		return 2;
	if (m.tracedat_path)
		return rp_tracedat(&m);
	for (unsigned i = 0; i < m.nfiles; i++) {
		if (rp_prescan(&m.ctx, &m.files[i], err, sizeof(err)) < 0)
			fprintf(stderr, "uev-replay: %s\n", err);
		else
			usable++;
	}
	if (!usable)
		return 1;
	rp_resolve_times(&m);
	if (m.follow)
		setvbuf(stdout, NULL, _IOLBF, 0);
	else
		setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	for (unsigned i = 0; m.follow && i < m.nfiles; i++)
		follow_run(&m, m.files[i].nruns ? &m.files[i].runs[m.files[i].nruns - 1] : NULL);
	if ((r = rp_begin(&m)) < 0 || (r = open_streams(&m)) < 0 || (r = merge(&m)) < 0 ||
	    (r = rp_end(&m)) < 0) {
		fprintf(stderr, "uev-replay: %s\n", strerror(-r));
		rp_main_free(&m);
		return 1;
	}
	rp_main_free(&m);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "uev-replay: writing the output: %s\n", strerror(errno));
		return 1;
	}
	/* Events are missing that the files held: not a success. */
	return m.ctx.io_errors ? 1 : 0;
}
