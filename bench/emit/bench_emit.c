/* SPDX-License-Identifier: MIT */
/*
 * bench_emit: ns per call of the emit paths, side by side in one run, on a
 * throw-away seat. Rounds alternate between the contenders so that drift of
 * the machine (the other core, the ring filling) hits all of them alike; the
 * median of the rounds is printed.
 *
 *   disabled       uev_enabled() + uev_emit() on a registered, unrecorded event
 *   uev_marker     uev_emit(seq, value, "frame presented") via trace_marker_raw
 *   uev_typed      the same through the uev-schema wrapper (uev_emit_packed)
 *   bare_write     write() of the same record bytes to the same trace_marker_raw
 *   syslog         syslog(3) of the same fields (to /dev/log; a draining sink
 *                  is bound there when no syslog daemon runs)
 *
 * usage: bench_emit [ITERATIONS] [ROUNDS]   (root: it creates a seat)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "uev-seat.h"
#include "uev-abi.h"
#include "uev/uev.h"

#define MSG "frame presented"
#define CHUNK 1000

#define UEV_BENCH_IMPLEMENTATION
#include "bench-uev.h"

#define ev uev_bench_emit

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* libuev's watcher follows the page asynchronously (futex wake). */
static void wait_state(int on)
{
	while (uev_enabled(&ev) != on)
		usleep(100);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The record uev writes, built by hand once: id, u32, u64, __rel_loc,
 * string; per call only seq and value change. */
static size_t bare_record(uint8_t *buf)
{
	uint32_t id = uev_marker_id("bench_emit u32 seq; u64 value; __rel_loc char[] msg");
	uint32_t loc = (uint32_t)sizeof(MSG) << 16 | 0;

	memset(buf, 0, 20);
	memcpy(buf, &id, 4);
	memcpy(buf + 16, &loc, 4);
	memcpy(buf + 20, MSG, sizeof(MSG));
	return 20 + sizeof(MSG);
}

static volatile int sink_stop;

static void *sink_main(void *arg)
{
	int fd = *(int *)arg;
	char buf[2048];

	while (!sink_stop)
		if (recv(fd, buf, sizeof(buf), 0) < 0)
			break;
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	enum { DISABLED, MARKER, TYPED, BARE, SYSLOG, N };
	static const char *names[N] = { "disabled", "uev_marker", "uev_typed", "bare_write", "syslog" };
	double res[N][64];
	char run_dir[] = "/tmp/uev-bench.XXXXXX", err[1200], seat[32], path[600];
	struct uev_seat s;
	struct uev_provider *p;
	struct uev_provider_options o = { 0 };
	uint8_t rec[64];
	size_t rec_len = bare_record(rec);
	int sink = -1, fd, rc = 0;
	pthread_t sink_thread;
	const char *syslog_target = "system syslog daemon";

	if (rounds < 1 || rounds > 64 || iters < CHUNK) {
		fprintf(stderr, "usage: bench_emit [ITERATIONS] [ROUNDS<=64]\n");
		return 2;
	}
	snprintf(seat, sizeof(seat), "bench%d", (int)getpid());
	if (!mkdtemp(run_dir) || uev_seat_open(&s, seat, run_dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_emit: %s (needs root and tracefs)\n", err);
		return 1;
	}
	uev_seat_markers_start(&s);
	o.seat = seat;
	o.run_dir = run_dir;
	o.backend = UEV_BACKEND_MARKER;
	if (uev_provider_open(&p, &o) < 0 || uev_bench_register(p) < 0) {
		fprintf(stderr, "bench_emit: %s\n", uev_provider_status(p));
		return 1;
	}
	snprintf(path, sizeof(path), "/sys/kernel/tracing/instances/uev.%s/trace_marker_raw", seat);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
	int probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == ECONNREFUSED)
		unlink("/dev/log"); /* a dead socket left by a killed run */
	if (probe >= 0)
		close(probe);
	if (access("/dev/log", F_OK) != 0) {
		sink = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (sink < 0 || bind(sink, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror("bench_emit: /dev/log sink");
			return 1;
		}
		pthread_create(&sink_thread, NULL, sink_main, &sink);
		syslog_target = "a draining /dev/log sink thread (no syslog daemon here)";
	}
	openlog("bench_emit", LOG_NDELAY, LOG_USER);

	for (int r = 0; r < rounds; r++) {
		double t;
		unsigned long hits = 0;

		uev_seat_markers_stop(&s);
		wait_state(0);
		t = now_ns();
		/* The hot verb as a program writes it; the enable word is an
		 * atomic load, which the compiler may not hoist out of the loop. */
		for (unsigned long i = 0; i < iters * 20; i++)
			hits += uev_emit(&ev, (uint32_t)i, (uint64_t)i * 3, MSG) != 0;
		res[DISABLED][r] = (now_ns() - t) / (double)(iters * 20);
		if (hits) {
			fprintf(stderr, "bench_emit: the disabled event emitted\n");
			rc = 3;
			goto out;
		}
		uev_seat_markers_start(&s);
		wait_state(1);

		/* uev and the bare write alternate in chunks of CHUNK calls,
		 * so that both see the same ring and machine state. */
		res[MARKER][r] = res[TYPED][r] = res[BARE][r] = 0;
		for (unsigned long c = 0; c < iters; c += CHUNK) {
			t = now_ns();
			for (unsigned long i = c; i < c + CHUNK; i++)
				uev_emit(&ev, (uint32_t)i, (uint64_t)i * 3, MSG);
			res[MARKER][r] += now_ns() - t;
			t = now_ns();
			for (unsigned long i = c; i < c + CHUNK; i++)
				uev_emit_bench_emit((uint32_t)i, (uint64_t)i * 3, MSG);
			res[TYPED][r] += now_ns() - t;
			t = now_ns();
			for (unsigned long i = c; i < c + CHUNK; i++) {
				uint32_t seq = (uint32_t)i;
				uint64_t value = (uint64_t)i * 3;

				memcpy(rec + 4, &seq, 4);
				memcpy(rec + 8, &value, 8);
				if (write(fd, rec, rec_len) < 0) {
					perror("bench_emit: write");
					rc = 4;
					goto out;
				}
			}
			res[BARE][r] += now_ns() - t;
		}
		res[MARKER][r] /= (double)(iters / CHUNK * CHUNK);
		res[TYPED][r] /= (double)(iters / CHUNK * CHUNK);
		res[BARE][r] /= (double)(iters / CHUNK * CHUNK);

		t = now_ns();
		for (unsigned long i = 0; i < iters / 4; i++)
			syslog(LOG_DEBUG, "emit seq=%u value=%llu msg=%s", (unsigned)i,
			       (unsigned long long)i * 3, MSG);
		res[SYSLOG][r] = (now_ns() - t) / (double)(iters / 4);
	}
	printf("# bench_emit: %lu iterations (x20 disabled, /4 syslog), %d rounds, median ns/call\n",
	       iters, rounds);
	printf("# syslog target: %s\n", syslog_target);
	for (int k = 0; k < N; k++) {
		qsort(res[k], (size_t)rounds, sizeof(double), cmp_double);
		printf("%-12s %8.1f ns/call  (min %.1f max %.1f)\n", names[k], res[k][rounds / 2],
		       res[k][0], res[k][rounds - 1]);
	}
	printf("ratio uev_marker/bare_write %.3f\n", res[MARKER][rounds / 2] / res[BARE][rounds / 2]);
	printf("ratio uev_typed/bare_write %.3f\n", res[TYPED][rounds / 2] / res[BARE][rounds / 2]);
	/* The fastest round is the least disturbed by the other tenants of a
	 * shared machine: its ratios are the steadier ones. */
	printf("ratio of minima uev_marker/bare_write %.3f  uev_typed/bare_write %.3f\n",
	       res[MARKER][0] / res[BARE][0], res[TYPED][0] / res[BARE][0]);
out:
	closelog();
	if (sink >= 0) {
		sink_stop = 1;
		pthread_cancel(sink_thread); /* it sits in recv(), a cancellation point */
		pthread_join(sink_thread, NULL);
		unlink("/dev/log");
		close(sink);
	}
	close(fd);
	uev_provider_close(p);
	uev_seat_close(&s, true);
	snprintf(path, sizeof(path), "%s/%s.enable", run_dir, seat);
	unlink(path);
	rmdir(run_dir);
	return rc;
}
