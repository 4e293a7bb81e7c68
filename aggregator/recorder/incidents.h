/* SPDX-License-Identifier: MIT */
/*
 * Incidents of a running seat: the jobs that turn a trigger (trigger.h) or
 * a snapshot request (control.h) into an incident bundle
 * (aggregator/incident/incident.h) under [incident] dir. They run on the
 * control thread; the drain only flushes when asked, so recording never
 * pauses. A job's life:
 *   1. it asks the drain for a flush, and once the file holds everything
 *      up to the trigger, copies the part of the window before it (the
 *      ring may wrap over it while the rest of the window is recorded);
 *   2. after_s later, another flush, the rest of the window, the bundle
 *      written (temp name, rename), the directory bounded
 *      (max_count/max_size, oldest dropped first, counted);
 *   3. the requester (if any) gets the bundle's descriptor, every watcher
 *      a note.
 * At most UEV_INCIDENT_JOBS run at once; more are refused (counted), not
 * queued without bound.
 */
#ifndef UEV_INCIDENTS_H
#define UEV_INCIDENTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "trigger.h"

#define UEV_INCIDENT_JOBS 8
#define UEV_INCIDENT_REASON_MAX 200

struct uev_config;
struct uev_bundle;

/* Who waits for a job's bundle: a control client's id (control.c), or 0. */
typedef void (*uev_incident_done_fn)(void *ctx, uint64_t client, int err, const char *name, int fd,
				     uint64_t bytes, const char *msg);

struct uev_incident_job {
	int used;
	int phase;                    /* 1: first flush, 2: waiting for the window's end, 3: last flush */
	uint64_t client;
	uint64_t trigger_ns;          /* trace clock */
	uint64_t trigger_real_ns;     /* wall clock, for the name */
	int64_t due_mono_ns;          /* phase 2 ends */
	unsigned long long gen;       /* the flush it waits for */
	char reason[UEV_INCIDENT_REASON_MAX + 1];
	char what[256];               /* what triggered it */
	struct uev_bundle *b;
};

struct uev_incidents {
	const struct uev_config *cfg;
	const char *ring_path;
	uint64_t run_id;
	clockid_t clock;              /* the trace clock as a userspace clock, or -1 */
	_Atomic unsigned long long flush_req, flush_done;
	_Atomic unsigned long long newest_ns; /* the newest page the capture took (clock -1) */
	pthread_mutex_t lock;         /* hits from the drain */
	struct uev_trigger_hit hits[UEV_INCIDENT_JOBS];
	unsigned nhits;
	int wake_fd;                  /* eventfd: hits queued */
	struct uev_incident_job job[UEV_INCIDENT_JOBS];
	uev_incident_done_fn done;
	void *done_ctx;
	/* counts, for status */
	uint64_t written, dropped, dropped_bytes, failed, refused, lost_hits;
	char last[160];
	char last_err[256];
};

/* Set up for the run @run_id of @ring_path (the seat's clock @clock_name).
 * 0 or -errno. */
int uev_incidents_init(struct uev_incidents *m, const struct uev_config *c, const char *ring_path,
		       uint64_t run_id, const char *clock_name, uev_incident_done_fn done, void *ctx);
void uev_incidents_fini(struct uev_incidents *m);

/* trigger.h's fire callback (the drain's thread): queue, wake, never wait
 * on anything but a short lock. */
void uev_incidents_hit(void *ctx, const struct uev_trigger_hit *hit);

/* A snapshot asked for now by @client (control.c), with @reason. 0, or
 * -EBUSY when UEV_INCIDENT_JOBS are running. */
int uev_incidents_request(struct uev_incidents *m, uint64_t client, const char *reason, const char *who);

/* Move every job on (control thread); *@timeout_ms: when to call again
 * (-1: only when woken). */
void uev_incidents_step(struct uev_incidents *m, int *timeout_ms);

/* The drain has ended and the file holds all there is: every job still
 * running is written now with the part of its window it has. */
void uev_incidents_complete(struct uev_incidents *m);

/* The client went away: its jobs finish without it. */
void uev_incidents_forget(struct uev_incidents *m, uint64_t client);

/* Jobs running (status). */
unsigned uev_incidents_running(const struct uev_incidents *m);

#endif
