/* SPDX-License-Identifier: MIT */
/* uev-replay's selection of events (replay-filter.c). */
#ifndef UEV_REPLAY_FILTER_H
#define UEV_REPLAY_FILTER_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "replay.h"

struct rp_filter {
	char **inc, **exc, **comms;  /* fnmatch globs */
	size_t ninc, nexc, ncomms;
	size_t capinc, capexc, capcomms;
	int *pids;
	size_t npids, cappids;
	int64_t since, until;        /* on the merge timeline (wall ns) */
	int have_since, have_until;
	regex_t re;
	int have_re;
};

/* --event GLOB (a leading '!' excludes), --comm GLOB, --pid N[,N...],
 * --grep REGEX. Negative errno; a message in @err for bad values. */
int rp_filter_event_glob(struct rp_filter *f, const char *glob);
int rp_filter_comm(struct rp_filter *f, const char *glob);
int rp_filter_pids(struct rp_filter *f, const char *list, char *err, size_t errsize);
int rp_filter_grep(struct rp_filter *f, const char *re, char *err, size_t errsize);

/* A --since/--until value before the recording's span is known. */
enum rp_when_kind { RP_WHEN_ABS, RP_WHEN_FROM_END, RP_WHEN_FROM_START };
struct rp_when {
	enum rp_when_kind kind;
	int64_t ns; /* wall ns (ABS) or a duration */
};
int rp_time_parse(const char *opt, const char *s, struct rp_when *w, char *err, size_t errsize);
/* The wall time @w means for a recording from @first to @last. */
int64_t rp_when_resolve(const struct rp_when *w, int64_t first, int64_t last);

/* Does @e pass the event, pid, comm and time filters? */
int rp_filter_match(const struct rp_filter *f, const struct rp_event *e);
/* Does the formatted @line pass --grep? */
int rp_filter_grep_match(const struct rp_filter *f, const char *line);
void rp_filter_free(struct rp_filter *f);

#endif
