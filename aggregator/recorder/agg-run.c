/* SPDX-License-Identifier: MIT */
/*
 * uev-aggregator while it drains (agg.h): the run's header, the drain, and
 * what the drain calls back: sync points that put the trace clock on the
 * wall clock, SIGHUP's reload, sd_notify.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <tracefs.h>

#include "agg.h"
#include "drain.h"
#include "ringfile.h"

void agg_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!path || !*path || strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	/* Like sd_notify(): a supervisor that stopped listening is no error. */
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path))) < 0)
		(void)0;
	close(fd);
}

static uint64_t ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The marker half of a sync point for the kernel's own clocks: the SYNC
 * record follows when the capture meets the marker (clock-sync.h). */
static int sync_marker(struct agg *a)
{
	char *dir = tracefs_instance_get_dir(a->seat.instance);
	int fd = dir ? uev_sync_marker_open(dir) : -ENOMEM, r;

	tracefs_put_tracing_file(dir);
	r = fd < 0 ? fd : uev_sync_marker_write(fd);
	if (fd >= 0)
		close(fd);
	if (r < 0 && !a->sync_warned++)
		fprintf(stderr, "uev-aggregator: seat %s: cannot write a sync marker (%s); wall times "
			"come from the previous sync point until one succeeds\n", a->cfg.seat,
			r == -EAGAIN ? "every write took over 100 us" : strerror(-r));
	return r;
}

/* A sync point: the trace clock paired with the wall clock. Userspace
 * clocks are read between two reads of CLOCK_REALTIME, whose midpoint is
 * the wall time of the trace clock's reading. */
static int sync_point(struct agg *a)
{
	struct uev_ring_sync s = { 0 };
	uint64_t before;
	int r;

	if (!a->clock)
		a->clock = uev_clock_find(a->cfg.clock);
	if (a->clock && a->clock->method == UEV_SYNC_MARKER) {
		a->last_sync = time(NULL); /* a failed marker is said once; the next comes a period later */
		return a->sync_final ? 0 : sync_marker(a);
	}
	if (!a->clock || a->clock->method != UEV_SYNC_GETTIME)
		return 0; /* the configuration refuses every other clock */
	before = ns(CLOCK_REALTIME);
	s.trace_ns = ns(a->clock->id);
	s.realtime_ns = before / 2 + ns(CLOCK_REALTIME) / 2;
	s.monotonic_ns = ns(CLOCK_MONOTONIC);
	s.boottime_ns = ns(CLOCK_BOOTTIME);
	/* A sync point the writer had no room for is tried again at the
	 * next flush, not counted as taken. */
	if ((r = uev_ring_writer_sync(a->w, &s)) == 0)
		a->last_sync = time(NULL);
	return r;
}

static void on_flush(void *ctx)
{
	struct agg *a = ctx;

	/* Between sync points replay keeps the offset of the last one, so
	 * clocks that drift from the wall clock are synced more often. */
	if (time(NULL) - a->last_sync >= (a->clock ? a->clock->every_s : 60))
		sync_point(a);
	uev_drm_debug_poll(&a->setup.drm); /* DRM loaded after the start */
	uev_control_publish(&a->ctl, uev_capture_stats(a->cap));
}

static void on_tick(void *ctx)
{
	struct agg *a = ctx;

	uev_userev_rescan(&a->userev);
	/* a mark a second, whatever the flush interval: each CPU's share of
	 * the persistent instance must keep one however fast it wraps */
	if (a->boot.inst && time(NULL) != a->boot_marked)
		agg_boot_mark(a);
}

static void on_ready(void *ctx)
{
	(void)ctx;
	agg_notify("READY=1\nSTATUS=draining");
}

/* SIGHUP: the configuration file again. A file that does not load keeps
 * the running configuration; the trace clock stays the instance's. */
static void reload(struct agg *a)
{
	struct uev_config fresh;
	char errs[8192] = "";

	if (uev_config_default(&fresh, a->cfg.seat, UEV_SCHEMA_DIR) < 0)
		return;
	if (a->config_path && uev_config_load(&fresh, a->config_path, errs, sizeof(errs)) < 0) {
		fprintf(stderr, "uev-aggregator: reload refused, keeping the running configuration:\n%s\n", errs);
		uev_config_free(&fresh);
		return;
	}
	if (strcmp(fresh.clock, a->cfg.clock))
		fprintf(stderr, "uev-aggregator: reload: clock %s applies at the next start; "
			"the instance keeps %s\n", fresh.clock, a->cfg.clock);
	snprintf(fresh.clock, sizeof(fresh.clock), "%s", a->cfg.clock);
	if (uev_setup_reload(&a->setup, &a->seat, &a->cfg, &fresh, errs, sizeof(errs)) < 0)
		fprintf(stderr, "uev-aggregator: reload: %s\n", errs);
	uev_config_free(&a->cfg);
	a->cfg = fresh;
	a->userev.globs = a->cfg.user_events; /* the old lists are gone */
	a->userev.nglobs = a->cfg.nuser_events;
	uev_control_reload(&a->ctl, &a->cfg);
	fprintf(stderr, "uev-aggregator: configuration reloaded\n");
}

static int on_signal(void *ctx, int signo)
{
	struct agg *a = ctx;

	/* A marker must be in the kernel before the final drain to be met. */
	if ((signo == SIGTERM || signo == SIGINT) && a->clock && a->clock->method == UEV_SYNC_MARKER) {
		sync_point(a);
		a->sync_final = 1;
	}
	if (signo == SIGHUP)
		reload(a);
	return 0;
}

static void run_info(const struct agg *a, struct uev_ring_run_info *ri)
{
	struct utsname u;

	memset(ri, 0, sizeof(*ri));
	agg_boot_id(ri->boot_id);
	if (uname(&u) == 0) {
		snprintf(ri->kernel_release, sizeof(ri->kernel_release), "%s", u.release);
		snprintf(ri->host, sizeof(ri->host), "%s", u.nodename);
	}
	snprintf(ri->seat, sizeof(ri->seat), "%s", a->cfg.seat);
	snprintf(ri->trace_clock, sizeof(ri->trace_clock), "%s", a->cfg.clock);
	ri->aggregator_pid = (uint32_t)getpid();
	ri->start_realtime_ns = ns(CLOCK_REALTIME);
	ri->flush_interval_ms = a->cfg.flush_interval_ms;
}

int agg_run(struct agg *a)
{
	struct uev_drain_opts o = {
		.instance = a->seat.instance,
		.writer = a->w,
		.capture = a->cap,
		.flush_ms = a->cfg.flush_interval_ms,
		.fsync = a->cfg.fsync == UEV_FSYNC_EVERY_FLUSH ? UEV_DRAIN_FSYNC_EVERY_FLUSH
		       : a->cfg.fsync == UEV_FSYNC_NEVER ? UEV_DRAIN_FSYNC_NEVER
							: UEV_DRAIN_FSYNC_INTERVAL,
		.fsync_interval_s = a->cfg.fsync_interval_s,
		.sigfd = a->sigfd,
		/* globs are followed within a second even when flushes are rarer */
		.tick_ms = (a->userev.fd >= 0 && a->userev.nglobs) || a->boot.inst ? 1000 : 0,
		.hooks = { .ctx = a, .on_signal = on_signal, .on_flush = on_flush, .on_ready = on_ready,
			   .on_tick = on_tick },
		.log = a->log,
		.flush_req = &a->ctl.inc.flush_req,
		.flush_done = &a->ctl.inc.flush_done,
	};
	struct uev_ring_run_info ri;
	int r;

	run_info(a, &ri);
	r = uev_ring_writer_begin_run(a->w, &ri);
	if (r < 0) {
		snprintf(a->err, sizeof(a->err), "%s: starting a run: %s", a->cfg.ring_path, strerror(-r));
		return r;
	}
	r = uev_seat_markers_start(&a->seat);
	if (r < 0) {
		snprintf(a->err, sizeof(a->err), "seat %s: cannot start marker recording: %s", a->opt.seat,
			 strerror(-r));
	} else {
		sync_point(a); /* a sync marker needs markers on */
		agg_boot_arm(a);
		agg_control_start(a);
		r = uev_drain_run(&o, a->err, sizeof(a->err));
		agg_control_stop(a);
	}
	agg_notify("STOPPING=1");
	sync_point(a);
	return r;
}
