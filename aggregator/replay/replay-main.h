/* SPDX-License-Identifier: MIT */
/* uev-replay's command state, shared by uev-replay.c (options, merge) and
 * replay-show.c (header, per-event output, statistics, summary). */
#ifndef UEV_REPLAY_MAIN_H
#define UEV_REPLAY_MAIN_H

#include "replay-filter.h"
#include "replay.h"

struct rp_count {
	char *name;
	uint64_t n;
};

struct rp_main {
	struct rp_ctx ctx;
	struct rp_file *files;
	unsigned nfiles;
	struct rp_filter filter;
	struct rp_when since, until;
	int have_since, have_until;
	struct rp_out out;
	int follow, stats, json, no_header;
	int journal;             /* --export=journal */
	struct rp_journal jr;
	int64_t follow_slack_ns; /* uev-replay.c: follow_run() */
	const char *perfetto_path, *tracedat_path;
	struct rp_perfetto *perfetto;
	struct rp_stream **all, **heap, **wait;
	size_t nall, nheap, nwait, capall;
	/* what was shown */
	uint64_t read, shown;
	uint64_t recovered;            /* of those shown: from a recovered run */
	long long lost, lost_unknown;
	int64_t first, last;           /* merge keys of the first and last shown: the elapsed time */
	int64_t first_wall, last_wall; /* their wall times (the key where none is known) */
	struct rp_count *per_event;
	size_t nper_event, capper_event;
	uint64_t *per_cpu;   /* [nper_cpu], by CPU number; grown to the highest seen */
	size_t nper_cpu;
	struct trace_seq *seq;
	struct rp_buf text;  /* "name: fields" of the event being shown */
	struct rp_comm comm; /* names from kernel events, in time order */
	char comm_boot[37];  /* the boot those names belong to */
	const struct rp_run *comm_run; /* the run of the last event: its boot is comm_boot */
};

/* The recording's span on the merge timeline, then --since/--until. */
void rp_resolve_times(struct rp_main *m);
/* Header (and output files) before the first event; summary after the last. */
int rp_begin(struct rp_main *m);
int rp_show(struct rp_main *m, struct rp_event *e);
int rp_end(struct rp_main *m);
int rp_tracedat(struct rp_main *m);
void rp_main_free(struct rp_main *m);

#endif
