/* SPDX-License-Identifier: MIT */
/*
 * uev-aggregator's start and stop (agg.h). The ring file is opened before
 * anything in tracefs is touched, so a ring that cannot be used costs no
 * data; the stop undoes the start in reverse and closes the ring with the
 * capture's counters.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agg.h"
#include "drain.h"
#include "ringfile.h"
#include "uev-abi.h"

static void say(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "uev-aggregator: %s\n", msg);
}

void agg_init(struct agg *a)
{
	memset(a, 0, sizeof(*a));
	a->userev.fd = -1;
	a->sigfd = -1;
	a->boot.marker_fd = -1;
	a->log.fn = say;
}

/* The stage (ringfile.h): on tmpfs beside the enable pages, so that what
 * was drained but not yet written survives a kill -9; the CPUs' read pages
 * are its caller's part, so every CPU is counted now. 0 or 1 (said). */
static int stage_plan(struct agg *a, struct uev_ring_create *rc)
{
	const char *dir = a->run_dir ? a->run_dir : UEV_RUN_DIR_DEFAULT;
	size_t page = a->cfg.subbuf_kb ? a->cfg.subbuf_kb * 1024u : (size_t)getpagesize();
	unsigned *cpus, ncpu;

	/* Every instance has the root's CPUs; the drain reads them all or
	 * refuses now, before anything is changed. */
	if (uev_seat_cpus(NULL, UEV_RING_CPU_MAX, &cpus, &ncpu, a->err, sizeof(a->err)) < 0) {
		fprintf(stderr, "uev-aggregator: %s\n", a->err);
		return 1;
	}
	free(cpus);
	snprintf(a->stage, sizeof(a->stage), "%s/%s.stage", dir, a->opt.seat);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		fprintf(stderr, "uev-aggregator: %s: cannot create: %s; a kill -9 can lose what was "
			"drained but not yet written\n", dir, strerror(errno));
	else
		rc->stage_path = a->stage;
	rc->stage_extra = uev_drain_stage_bytes(ncpu, page);
	rc->unit_cpus = ncpu; /* an open unit per CPU */
	return 0;
}

/* What opening the ring found: a stage a stopped aggregator left, a file
 * system without O_DIRECT. */
static void ring_report(const struct agg *a, const struct uev_ring_create *rc)
{
	const struct uev_ring_stage_report *sr = uev_ring_writer_stage_report(a->w);

	if (sr && sr->discarded[0])
		fprintf(stderr, "uev-aggregator: %s: reset: %s\n", rc->stage_path, sr->discarded);
	if (sr && sr->units)
		fprintf(stderr, "uev-aggregator: %s: %u open units (%llu pages) that a stopped aggregator "
			"had drained go into this run\n", a->cfg.ring_path, sr->units,
			(unsigned long long)sr->unit_pages);
	if (sr && sr->records)
		fprintf(stderr, "uev-aggregator: %s: wrote %llu records (%llu bytes) that a stopped "
			"aggregator had drained but not written\n", a->cfg.ring_path,
			(unsigned long long)sr->records, (unsigned long long)sr->bytes);
	if (rc->direct && !uev_ring_writer_direct(a->w))
		fprintf(stderr, "uev-aggregator: %s: its file system does not take O_DIRECT; "
			"writing through the page cache\n", a->cfg.ring_path);
}

struct uev_ring_create agg_ring_create(const struct agg *a)
{
	return (struct uev_ring_create){
		.path = a->cfg.ring_path,
		.size = a->cfg.ring_size,
		.seat = a->opt.seat,
		.mode = a->cfg.ring_mode,
		.gid = a->cfg.ring_gid >= 0 ? (gid_t)a->cfg.ring_gid : (gid_t)-1,
		.direct = a->cfg.ring_direct,
		.compression = a->cfg.ring_compression,
	};
}

int agg_ring_open(struct agg *a)
{
	struct uev_ring_create rc = agg_ring_create(a);
	int r;

	rc.recreate = a->opt.recreate;
	if (stage_plan(a, &rc))
		return 1;
	r = uev_ring_writer_open(&a->w, &rc, a->err, sizeof(a->err));
	if (r < 0) {
		fprintf(stderr, "uev-aggregator: %s\n", a->err);
		return r == -EBUSY || r == -ENOSPC || r == -EIO ? 1 : 2;
	}
	ring_report(a, &rc);
	return 0;
}

static void daemon_signals(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGHUP);
	sigaddset(sigs, SIGUSR1);
}

void agg_signals_block(void)
{
	sigset_t sigs;

	daemon_signals(&sigs);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
}

/* The daemon's signals to a non-blocking signalfd: io_uring then polls it
 * and reads in our own task, where the process-wide signals are; a
 * blocking read could be handed to an io-wq worker thread. */
static int signals_open(struct agg *a)
{
	sigset_t sigs;

	daemon_signals(&sigs);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	a->sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (a->sigfd < 0) { /* without it SIGTERM could never stop the drain */
		int r = -errno;

		snprintf(a->err, sizeof(a->err), "signalfd: %s", strerror(-r));
		return r;
	}
	return 0;
}

int agg_start(struct agg *a)
{
	const char *systems[65];
	int r = signals_open(a);

	if (r == 0)
		r = uev_seat_open(&a->seat, a->opt.seat, a->run_dir, a->err, sizeof(a->err));
	if (r == 0)
		r = uev_setup_apply(&a->setup, &a->seat, &a->cfg, a->run_dir, &a->log, a->err, sizeof(a->err));
	if (r == 0)
		r = uev_userev_setup(&a->userev, &a->seat, &a->cfg, a->err, sizeof(a->err));
	if (r < 0)
		return r;
	if (a->userev.warning[0])
		fprintf(stderr, "uev-aggregator: seat %s: user events %s exist with other fields and are in use, "
				"so they cannot be registered anew; they are not recorded until the aggregator "
				"is restarted after their users have gone\n", a->opt.seat, a->userev.warning);
	uev_setup_systems(&a->cfg, systems, 65);
	r = uev_capture_new(&a->cap, a->w, a->seat.instance, systems, a->err, sizeof(a->err));
	return r < 0 ? r : agg_triggers_setup(a);
}

/* The capture's totals, said and put in the ring file's counters. */
static void capture_report(const struct agg *a, struct uev_ring_counters *end)
{
	const struct uev_capture_stats *st = uev_capture_stats(a->cap);
	char unknown[96] = "";

	end->pages = st->pages;
	end->bytes = st->bytes;
	end->lost = st->lost;
	/* A page can say that events were lost without room for how many. */
	if (st->lost_unknown)
		snprintf(unknown, sizeof(unknown), ", and %llu more losses the kernel could not count",
			 (unsigned long long)st->lost_unknown);
	fprintf(stderr, "uev-aggregator: seat %s: %llu pages, %llu bytes, %llu events lost in the kernel%s\n",
		a->opt.seat, (unsigned long long)st->pages, (unsigned long long)st->bytes,
		(unsigned long long)st->lost, unknown);
}

int agg_stop(struct agg *a, int r)
{
	struct uev_ring_counters end = { 0 };

	if (r < 0)
		fprintf(stderr, "uev-aggregator: %s\n", a->err[0] ? a->err : strerror(-r));
	if (a->seat.page)
		uev_seat_markers_stop(&a->seat);
	if (a->cap)
		capture_report(a, &end);
	if (uev_ring_writer_close(a->w, &end) < 0 && r == 0) {
		fprintf(stderr, "uev-aggregator: %s: closing failed\n", a->cfg.ring_path);
		r = -EIO;
	}
	uev_capture_free(a->cap);
	uev_trigger_free(a->trig);
	uev_userev_close(&a->userev);
	uev_boot_ring_close(&a->boot); /* it records on: the next crash leaves the same evidence */
	uev_setup_revert(&a->setup);
	if (a->seat.instance)
		uev_seat_close(&a->seat, !a->cfg.keep_instance);
	uev_config_free(&a->cfg);
	if (a->sigfd >= 0)
		close(a->sigfd);
	return r < 0 ? 1 : 0;
}
