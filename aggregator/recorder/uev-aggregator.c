/* SPDX-License-Identifier: MIT */
/*
 * uev-aggregator --seat NAME: drain a seat's tracefs instance into its ring
 * file until SIGTERM. The order of start-up is the contract: everything that
 * can be refused (options, config, ring file) is checked before anything in
 * tracefs or on disk is touched, so bad input never costs data.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <tracefs.h>

#include "capture.h"
#include "uev-decode.h"
#include "config.h"
#include "drain.h"
#include "ringfile.h"
#include "uev-seat.h"
#include "setup.h"
#include "userev.h"
#include "uev-abi.h"

#ifndef UEV_SCHEMA_DIR
#define UEV_SCHEMA_DIR "/usr/share/uev/schemas"
#endif
#ifndef UEV_CONFIG_DIR
#define UEV_CONFIG_DIR "/etc/uev"
#endif

struct agg {
	struct uev_config cfg;
	const char *config_path, *run_dir;
	struct uev_seat seat;
	struct uev_ring_writer *w;
	struct uev_capture *cap;
	struct uev_setup setup;
	struct uev_userev userev;
	time_t last_sync;
	const struct uev_clock_info *clock; /* the instance's: a reload keeps it */
	int sync_final, sync_warned;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: uev-aggregator --seat NAME [options]\n"
		"Drain the seat's tracefs instance uev.NAME into its ring file until SIGTERM.\n"
		"  --config FILE         seat configuration (uev.conf(5)); default: " UEV_CONFIG_DIR "/NAME.conf\n"
		"                        if it exists, else the built-in default\n"
		"  --ring PATH           ring file (default /var/lib/uev/NAME.ring)\n"
		"  --size BYTES[K|M|G]   ring size when creating it (default 64M)\n"
		"  --flush-interval MS   data reaches the file within MS (default 1000)\n"
		"  --keep-instance       leave the instance (and what it holds) on exit\n"
		"  --recreate            replace a ring file of another format or size\n"
		"  --run-dir DIR         where marker enable pages live (default /run/uev)\n"
		"  --print-config        print the effective configuration and exit\n"
		"  --help, --version\n"
		"Signals: TERM/INT drain and stop, USR1 flush now, HUP reload the config.\n"
		"Exit status: 0 stopped cleanly, 1 runtime failure, 2 bad usage or input.\n");
}

/* sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void notify(const char *msg)
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
}

static void on_tick(void *ctx)
{
	uev_userev_rescan(&((struct agg *)ctx)->userev);
}

static void on_ready(void *ctx)
{
	(void)ctx;
	notify("READY=1\nSTATUS=draining");
}

static int on_signal(void *ctx, int signo)
{
	struct agg *a = ctx;
	struct uev_config fresh;
	char errs[8192] = "";

	/* A marker must be in the kernel before the final drain to be met. */
	if ((signo == SIGTERM || signo == SIGINT) && a->clock && a->clock->method == UEV_SYNC_MARKER) {
		sync_point(a);
		a->sync_final = 1;
	}
	if (signo != SIGHUP)
		return 0;
	if (uev_config_default(&fresh, a->cfg.seat, UEV_SCHEMA_DIR) < 0)
		return 0;
	if (a->config_path && uev_config_load(&fresh, a->config_path, errs, sizeof(errs)) < 0) {
		fprintf(stderr, "uev-aggregator: reload refused, keeping the running configuration:\n%s\n", errs);
		uev_config_free(&fresh);
		return 0;
	}
	if (strcmp(fresh.clock, a->cfg.clock))
		fprintf(stderr, "uev-aggregator: reload: clock %s applies at the next start; "
			"the instance keeps %s\n", fresh.clock, a->cfg.clock);
	snprintf(fresh.clock, sizeof(fresh.clock), "%s", a->cfg.clock);
	uev_setup_reload(&a->setup, &a->seat, &a->cfg, &fresh);
	uev_config_free(&a->cfg);
	a->cfg = fresh;
	a->userev.globs = a->cfg.user_events; /* the old lists are gone */
	a->userev.nglobs = a->cfg.nuser_events;
	fprintf(stderr, "uev-aggregator: configuration reloaded\n");
	return 0;
}

static void run_info(const struct agg *a, struct uev_ring_run_info *ri)
{
	struct utsname u;
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	memset(ri, 0, sizeof(*ri));
	if (f) {
		if (!fgets(ri->boot_id, sizeof(ri->boot_id), f))
			ri->boot_id[0] = 0;
		ri->boot_id[strcspn(ri->boot_id, "\n")] = 0;
		fclose(f);
	}
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

static int parse_args(int argc, char **argv, struct agg *a, const char **seat, char **opt_ring,
		      uint64_t *opt_size, long *opt_flush, int *keep, int *recreate, int *print)
{
	static const struct option lo[] = {
		{ "seat", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "ring", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 'S' },
		{ "flush-interval", required_argument, NULL, 'f' },
		{ "keep-instance", no_argument, NULL, 'k' },
		{ "recreate", no_argument, NULL, 'R' },
		{ "run-dir", required_argument, NULL, 'd' },
		{ "print-config", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': *seat = optarg; break;
		case 'c': a->config_path = optarg; break;
		case 'r': *opt_ring = optarg; break;
		case 'S':
			if (uev_parse_size(optarg, opt_size) < 0) {
				fprintf(stderr, "uev-aggregator: --size: '%s' is not a size (e.g. 64M)\n", optarg);
				return 2;
			}
			break;
		case 'f':
			*opt_flush = strtol(optarg, &end, 10);
			if (*end || *opt_flush < 10 || *opt_flush > 600000) {
				fprintf(stderr, "uev-aggregator: --flush-interval: '%s' is not 10..600000 ms\n", optarg);
				return 2;
			}
			break;
		case 'k': *keep = 1; break;
		case 'R': *recreate = 1; break;
		case 'd': a->run_dir = optarg; break;
		case 'p': *print = 1; break;
		case 'h': usage(stdout); return -1;
		case 'V': printf("uev-aggregator %s\n", UEV_VERSION_STRING); return -1;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "uev-aggregator: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!*seat) {
		fprintf(stderr, "uev-aggregator: --seat NAME is required\n");
		return 2;
	}
	if (!uev_seat_name_valid(*seat)) {
		fprintf(stderr, "uev-aggregator: --seat: bad seat name '%s' (A-Z a-z 0-9 _ -, at most 63)\n", *seat);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct agg a = { 0 };
	const char *seat = NULL;
	char *opt_ring = NULL, errs[16384] = "", err[8192] = "";
	uint64_t opt_size = 0;
	long opt_flush = 0;
	int keep = 0, recreate = 0, print = 0, r, sigfd;
	struct uev_ring_create rc = { 0 };
	struct uev_ring_counters end = { 0 };
	sigset_t sigs;

	a.userev.fd = -1;
	r = parse_args(argc, argv, &a, &seat, &opt_ring, &opt_size, &opt_flush, &keep, &recreate, &print);
	if (r)
		return r < 0 ? 0 : r;
	if (!a.config_path) {
		static char def[512];

		snprintf(def, sizeof(def), UEV_CONFIG_DIR "/%s.conf", seat);
		if (access(def, F_OK) == 0)
			a.config_path = def;
	}
	if (uev_config_default(&a.cfg, seat, UEV_SCHEMA_DIR) < 0 ||
	    (a.config_path && uev_config_load(&a.cfg, a.config_path, errs, sizeof(errs)) < 0)) {
		fprintf(stderr, "%s%s", errs[0] ? errs : "uev-aggregator: cannot set up the configuration\n",
			errs[0] && errs[strlen(errs) - 1] != '\n' ? "\n" : "");
		uev_config_free(&a.cfg);
		return 2;
	}
	if (opt_ring)
		snprintf(a.cfg.ring_path, sizeof(a.cfg.ring_path), "%s", opt_ring);
	if (opt_size)
		a.cfg.ring_size = opt_size;
	if (opt_flush)
		a.cfg.flush_interval_ms = (unsigned)opt_flush;
	a.cfg.keep_instance |= keep;
	if (print) {
		uev_config_write(&a.cfg, stdout);
		uev_config_free(&a.cfg);
		return 0;
	}
	if (!tracefs_tracing_dir()) {
		fprintf(stderr, "uev-aggregator: tracefs is not mounted and mounting it failed "
			"(mount -t tracefs nodev /sys/kernel/tracing; needs root)\n");
		uev_config_free(&a.cfg);
		return 1;
	}
	{
		char inst[600];

		snprintf(inst, sizeof(inst), "%s/instances", tracefs_tracing_dir());
		/* AT_EACCESS: the effective ids and capabilities decide, so a
		 * service user with CAP_DAC_OVERRIDE (the systemd unit) passes;
		 * plain access() would drop a non-root caller's capabilities. */
		if (faccessat(AT_FDCWD, inst, W_OK | X_OK, AT_EACCESS) != 0) {
			fprintf(stderr, "uev-aggregator: no write access to %s (%s): run it as root, "
				"or with the capabilities of uev-aggregator(8) SECURITY\n", inst, strerror(errno));
			uev_config_free(&a.cfg);
			return 1;
		}
	}

	/* Then what the kernel must have, then the ring file (symlink, other
	 * format, locked): all before anything is changed. */
	if (uev_setup_check(&a.cfg, err, sizeof(err)) < 0 || uev_userev_check(&a.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s%s", a.config_path ? a.config_path : "built-in configuration", ":\n");
		fprintf(stderr, "%s", err);
		uev_config_free(&a.cfg);
		return 2;
	}
	rc.path = a.cfg.ring_path;
	rc.size = a.cfg.ring_size;
	rc.seat = seat;
	rc.mode = a.cfg.ring_mode;
	rc.gid = a.cfg.ring_gid >= 0 ? (gid_t)a.cfg.ring_gid : (gid_t)-1;
	rc.recreate = recreate;
	rc.direct = a.cfg.ring_direct;
	{
		/* The stage (ringfile.h): on tmpfs beside the enable pages, so
		 * that what was drained but not yet written survives a kill -9;
		 * the CPUs' read pages are its caller's part. */
		static char stage[PATH_MAX];
		const char *dir = a.run_dir ? a.run_dir : UEV_RUN_DIR_DEFAULT;
		size_t page = a.cfg.subbuf_kb ? a.cfg.subbuf_kb * 1024u : (size_t)getpagesize();
		unsigned *cpus, ncpu;

		/* Every instance has the root's CPUs; the drain reads them all
		 * or refuses now, before anything is changed. */
		if (uev_seat_cpus(NULL, UEV_RING_CPU_MAX, &cpus, &ncpu, err, sizeof(err)) < 0) {
			fprintf(stderr, "uev-aggregator: %s\n", err);
			uev_config_free(&a.cfg);
			return 1;
		}
		free(cpus);
		snprintf(stage, sizeof(stage), "%s/%s.stage", dir, seat);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			fprintf(stderr, "uev-aggregator: %s: cannot create: %s; a kill -9 can lose what was "
				"drained but not yet written\n", dir, strerror(errno));
		else
			rc.stage_path = stage;
		rc.stage_extra = uev_drain_stage_bytes(ncpu, page);
	}
	r = uev_ring_writer_open(&a.w, &rc, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "uev-aggregator: %s\n", err);
		uev_config_free(&a.cfg);
		return r == -EBUSY || r == -ENOSPC || r == -EIO ? 1 : 2;
	}
	{
		const struct uev_ring_stage_report *sr = uev_ring_writer_stage_report(a.w);

		if (sr && sr->discarded[0])
			fprintf(stderr, "uev-aggregator: %s: reset: %s\n", rc.stage_path, sr->discarded);
		if (sr && sr->records)
			fprintf(stderr, "uev-aggregator: %s: wrote %llu records (%llu bytes) that a stopped "
				"aggregator had drained but not written\n", a.cfg.ring_path,
				(unsigned long long)sr->records, (unsigned long long)sr->bytes);
	}
	if (rc.direct && !uev_ring_writer_direct(a.w))
		fprintf(stderr, "uev-aggregator: %s: its file system does not take O_DIRECT; "
			"writing through the page cache\n", a.cfg.ring_path);

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	/* Non-blocking: io_uring then polls it and reads in our own task, where
	 * the process-wide signals are; a blocking read could be handed to an
	 * io-wq worker thread. */
	sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	r = sigfd < 0 ? -errno : 0;
	if (r < 0) /* without it SIGTERM could never stop the drain */
		snprintf(err, sizeof(err), "signalfd: %s", strerror(-r));

	if (r == 0)
		r = uev_seat_open(&a.seat, seat, a.run_dir, err, sizeof(err));
	if (r == 0)
		r = uev_setup_apply(&a.setup, &a.seat, &a.cfg, a.run_dir, err, sizeof(err));
	if (r == 0)
		r = uev_userev_setup(&a.userev, &a.seat, &a.cfg, err, sizeof(err));
	if (r == 0 && a.userev.warning[0])
		fprintf(stderr, "uev-aggregator: seat %s: user events %s exist with other fields and are in use, "
				"so they cannot be registered anew; they are not recorded until the aggregator "
				"is restarted after their users have gone\n", seat, a.userev.warning);
	if (r == 0) {
		const char *systems[65];

		uev_setup_systems(&a.cfg, systems, 65);
		r = uev_capture_new(&a.cap, a.w, a.seat.instance, systems, err, sizeof(err));
	}
	if (r == 0) {
		struct uev_ring_run_info ri;

		run_info(&a, &ri);
		r = uev_ring_writer_begin_run(a.w, &ri);
		if (r < 0)
			snprintf(err, sizeof(err), "%s: starting a run: %s", a.cfg.ring_path, strerror(-r));
	}
	if (r == 0) {
		struct uev_drain_opts o = {
			.instance = a.seat.instance,
			.writer = a.w,
			.capture = a.cap,
			.flush_ms = a.cfg.flush_interval_ms,
			.fsync = a.cfg.fsync == UEV_FSYNC_EVERY_FLUSH ? UEV_DRAIN_FSYNC_EVERY_FLUSH
			       : a.cfg.fsync == UEV_FSYNC_NEVER ? UEV_DRAIN_FSYNC_NEVER
								: UEV_DRAIN_FSYNC_INTERVAL,
			.fsync_interval_s = a.cfg.fsync_interval_s,
			.sigfd = sigfd,
			/* globs are followed within a second even when flushes are rarer */
			.tick_ms = a.userev.fd >= 0 && a.userev.nglobs ? 1000 : 0,
			.hooks = { .ctx = &a, .on_signal = on_signal, .on_flush = on_flush, .on_ready = on_ready,
				   .on_tick = on_tick },
		};

		r = uev_seat_markers_start(&a.seat);
		if (r < 0) {
			snprintf(err, sizeof(err), "seat %s: cannot start marker recording: %s", seat, strerror(-r));
		} else {
			sync_point(&a); /* a sync marker needs markers on */
			r = uev_drain_run(&o, err, sizeof(err));
		}
		notify("STOPPING=1");
		sync_point(&a);
	}
	if (r < 0)
		fprintf(stderr, "uev-aggregator: %s\n", err[0] ? err : strerror(-r));
	if (a.seat.page)
		uev_seat_markers_stop(&a.seat);
	if (a.cap) {
		const struct uev_capture_stats *st = uev_capture_stats(a.cap);

		end.pages = st->pages;
		end.bytes = st->bytes;
		end.lost = st->lost;
		char unknown[96] = "";

		/* A page can say that events were lost without room for how many. */
		if (st->lost_unknown)
			snprintf(unknown, sizeof(unknown), ", and %llu more losses the kernel could not count",
				 (unsigned long long)st->lost_unknown);
		fprintf(stderr, "uev-aggregator: seat %s: %llu pages, %llu bytes, %llu events lost in the kernel%s\n",
			seat, (unsigned long long)st->pages, (unsigned long long)st->bytes,
			(unsigned long long)st->lost, unknown);
	}
	if (uev_ring_writer_close(a.w, &end) < 0 && r == 0) {
		fprintf(stderr, "uev-aggregator: %s: closing failed\n", a.cfg.ring_path);
		r = -EIO;
	}
	uev_capture_free(a.cap);
	uev_userev_close(&a.userev);
	uev_setup_revert(&a.setup);
	if (a.seat.instance)
		uev_seat_close(&a.seat, !a.cfg.keep_instance);
	uev_config_free(&a.cfg);
	if (sigfd >= 0)
		close(sigfd);
	return r < 0 ? 1 : 0;
}
