/* SPDX-License-Identifier: MIT */
/*
 * The parts of the trace.dat export, private to aggregator/tracedat/:
 * tracedat.c lays a run out in a work directory shaped like tracefs (the
 * passes over the ring file), tracedat-comm.c collects its task names, and
 * tracedat-write.c has libtracecmd write the file from that directory (the
 * only code that calls libtracecmd, and its version check).
 */
#ifndef UEV_TRACEDAT_INT_H
#define UEV_TRACEDAT_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uev-decode.h"
#include "tracedat.h"

/* A file per CPU number up to the highest: bounded by the most CPUs any
 * kernel has (NR_CPUS 8192), not by the ring's 16-bit cpu field. */
#define MAX_CPUS 8192u

struct comm {
	int32_t pid;
	uint32_t order;  /* of COMM entries: the later in the file wins */
	uint64_t ts;     /* of names from events: 1 + their time; 0 for COMM */
	char name[16];
};

struct td {
	const char *path;
	uev_ring_report_fn report;
	void *ctx;
	char *err;
	size_t errsize;
	char dir[PATH_MAX];      /* the work directory */
	uint64_t want, run;      /* run asked for (0: the newest), run collected */
	char clock[16], release[65], host[65];
	uint8_t border, lsize;   /* the run's page layout (0: no RUN_START read) */
	char *hpage;             /* the run's header_page */
	uint64_t hpoff;          /* its record's offset */
	uint32_t hpsize;         /* the sub-buffer size it gives */
	uint32_t maxlen;         /* of the run's PAGE records */
	uint32_t subbuf;         /* the page size written */
	bool hevent, ftrace;     /* header_event / an ftrace format laid out */
	struct comm *comm;
	size_t ncomm, capcomm;
	uint32_t order;
	unsigned ncpu;           /* highest CPU with a page + 1 */
	uint64_t *pages;         /* [ncpu]: pages in each CPU's data file */
	uint64_t total;
};

/* ---- tracedat.c ---- */

/* A problem of the ring file at @off, to the caller's report function. */
void td_note(struct td *t, uint64_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* -@e with "@what: strerror" in the caller's buffer. */
int td_fail(struct td *t, int e, const char *what);
/* Write @rel (under the work directory, made as needed): replaced, or
 * appended to. 0 or -errno (td_fail). */
int td_put(struct td *t, const char *rel, const void *data, size_t len, bool append);

/* ---- tracedat-comm.c ---- */

/* The names of a COMM record (pass 1). 0 or -ENOMEM. */
int td_comms(struct td *t, const struct uev_ring_rec *rec);
/* Pass 2, a uev_ring_decode() callback: names from the kernel's events. */
int td_event_name(void *ctx, const struct uev_ringdec_run *run, const struct uev_rec *r);
/* saved_cmdlines in the work directory: each pid's latest name. */
int td_cmdlines(struct td *t);

/* ---- tracedat-write.c ---- */

/* 0 when the libtracecmd built against and loaded is one the writer was
 * checked against, else -ENOTSUP with the reason in @err. */
int td_check_loaded(char *err, size_t errsize);
/* Have libtracecmd write the work directory as a trace.dat to @fd (a new
 * file @tmp beside @out; @fd is closed) and read it back. 0 or -errno
 * with the reason in t->err. */
int td_write_dat(struct td *t, int fd, const char *tmp, const char *out);

#endif
