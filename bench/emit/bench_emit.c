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

enum { DISABLED, MARKER, TYPED, BARE, SYSLOG, N };
static const char *names[N] = { "disabled", "uev_marker", "uev_typed", "bare_write", "syslog" };

/* The syslog side: a draining /dev/log sink thread when no daemon listens. */
struct syslog_sink {
	int fd;                 /* -1: a system syslog daemon is the target */
	pthread_t thread;
	const char *target;
};

/* Binds the sink at /dev/log unless a daemon is there, then opens the log.
 * Returns 0, or -1 with the reason printed. */
static int syslog_sink_open(struct syslog_sink *k)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
	int probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	k->fd = -1;
	k->target = "system syslog daemon";
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == ECONNREFUSED)
		unlink("/dev/log"); /* a dead socket left by a killed run */
	if (probe >= 0)
		close(probe);
	if (access("/dev/log", F_OK) != 0) {
		k->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (k->fd < 0 || bind(k->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror("bench_emit: /dev/log sink");
			return -1;
		}
		pthread_create(&k->thread, NULL, sink_main, &k->fd);
		k->target = "a draining /dev/log sink thread (no syslog daemon here)";
	}
	openlog("bench_emit", LOG_NDELAY, LOG_USER);
	return 0;
}

static void syslog_sink_close(struct syslog_sink *k)
{
	closelog();
	if (k->fd >= 0) {
		sink_stop = 1;
		pthread_cancel(k->thread); /* it sits in recv(), a cancellation point */
		pthread_join(k->thread, NULL);
		unlink("/dev/log");
		close(k->fd);
	}
}

/* One run: the throw-away seat, its provider, the raw marker file, and
 * res[contender][round] in ns per call. */
struct bench {
	unsigned long iters;
	int rounds;
	char run_dir[32], seat[32];
	struct uev_seat s;
	struct uev_provider *p;
	int fd;                 /* trace_marker_raw of the seat's instance */
	uint8_t rec[64];
	size_t rec_len;
	double res[N][64];
};

/* Creates the seat with markers on and registers the event; 0 or -1 with
 * the reason printed. */
static int bench_open(struct bench *b)
{
	struct uev_provider_options o = { 0 };
	char err[1200], path[600];

	strcpy(b->run_dir, "/tmp/uev-bench.XXXXXX");
	snprintf(b->seat, sizeof(b->seat), "bench%d", (int)getpid());
	err[0] = '\0';
	if (!mkdtemp(b->run_dir) || uev_seat_open(&b->s, b->seat, b->run_dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_emit: %s (needs root and tracefs)\n", err);
		return -1;
	}
	uev_seat_markers_start(&b->s);
	o.seat = b->seat;
	o.run_dir = b->run_dir;
	o.backend = UEV_BACKEND_MARKER;
	if (uev_provider_open(&b->p, &o) < 0 || uev_bench_register(b->p) < 0) {
		fprintf(stderr, "bench_emit: %s\n", uev_provider_status(b->p));
		return -1;
	}
	snprintf(path, sizeof(path), "/sys/kernel/tracing/instances/uev.%s/trace_marker_raw", b->seat);
	b->fd = open(path, O_WRONLY | O_CLOEXEC);
	b->rec_len = bare_record(b->rec);
	return 0;
}

static void bench_close(struct bench *b)
{
	char path[600];

	close(b->fd);
	uev_provider_close(b->p);
	uev_seat_close(&b->s, true);
	snprintf(path, sizeof(path), "%s/%s.enable", b->run_dir, b->seat);
	unlink(path);
	rmdir(b->run_dir);
}

/* The disabled event, markers stopped: 0, or 3 if it emitted anyway. */
static int round_disabled(struct bench *b, int r)
{
	unsigned long n = b->iters * 20, hits = 0;
	double t;

	uev_seat_markers_stop(&b->s);
	wait_state(0);
	t = now_ns();
	/* The hot verb as a program writes it; the enable word is an
	 * atomic load, which the compiler may not hoist out of the loop. */
	for (unsigned long i = 0; i < n; i++)
		hits += uev_emit(&ev, (uint32_t)i, (uint64_t)i * 3, MSG) != 0;
	b->res[DISABLED][r] = (now_ns() - t) / (double)n;
	if (hits) {
		fprintf(stderr, "bench_emit: the disabled event emitted\n");
		return 3;
	}
	uev_seat_markers_start(&b->s);
	wait_state(1);
	return 0;
}

/* CHUNK bare writes of the record from call @c on: 0, or 4 on an error. */
static int bare_chunk(struct bench *b, unsigned long c)
{
	for (unsigned long i = c; i < c + CHUNK; i++) {
		uint32_t seq = (uint32_t)i;
		uint64_t value = (uint64_t)i * 3;

		memcpy(b->rec + 4, &seq, 4);
		memcpy(b->rec + 8, &value, 8);
		if (write(b->fd, b->rec, b->rec_len) < 0) {
			perror("bench_emit: write");
			return 4;
		}
	}
	return 0;
}

/* uev and the bare write alternate in chunks of CHUNK calls, so that both
 * see the same ring and machine state. 0, or 4 on a write error. */
static int round_enabled(struct bench *b, int r)
{
	unsigned long calls = b->iters / CHUNK * CHUNK;
	double t;

	b->res[MARKER][r] = b->res[TYPED][r] = b->res[BARE][r] = 0;
	for (unsigned long c = 0; c < b->iters; c += CHUNK) {
		t = now_ns();
		for (unsigned long i = c; i < c + CHUNK; i++)
			uev_emit(&ev, (uint32_t)i, (uint64_t)i * 3, MSG);
		b->res[MARKER][r] += now_ns() - t;
		t = now_ns();
		for (unsigned long i = c; i < c + CHUNK; i++)
			uev_emit_bench_emit((uint32_t)i, (uint64_t)i * 3, MSG);
		b->res[TYPED][r] += now_ns() - t;
		t = now_ns();
		if (bare_chunk(b, c))
			return 4;
		b->res[BARE][r] += now_ns() - t;
	}
	b->res[MARKER][r] /= (double)calls;
	b->res[TYPED][r] /= (double)calls;
	b->res[BARE][r] /= (double)calls;
	return 0;
}

static void round_syslog(struct bench *b, int r)
{
	unsigned long n = b->iters / 4;
	double t = now_ns();

	for (unsigned long i = 0; i < n; i++)
		syslog(LOG_DEBUG, "emit seq=%u value=%llu msg=%s", (unsigned)i,
		       (unsigned long long)i * 3, MSG);
	b->res[SYSLOG][r] = (now_ns() - t) / (double)n;
}

/* Medians (rounds sorted in place) and the ratios to the bare write. */
static void report(struct bench *b, const char *syslog_target)
{
	double (*res)[64] = b->res;
	int rounds = b->rounds;

	printf("# bench_emit: %lu iterations (x20 disabled, /4 syslog), %d rounds, median ns/call\n",
	       b->iters, rounds);
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
}

int main(int argc, char **argv)
{
	static struct bench b;
	struct syslog_sink sink;
	int rc = 0;

	b.iters = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	b.rounds = argc > 2 ? atoi(argv[2]) : 5;
	if (b.rounds < 1 || b.rounds > 64 || b.iters < CHUNK) {
		fprintf(stderr, "usage: bench_emit [ITERATIONS] [ROUNDS<=64]\n");
		return 2;
	}
	if (bench_open(&b) < 0 || syslog_sink_open(&sink) < 0)
		return 1;
	for (int r = 0; r < b.rounds && !rc; r++) {
		rc = round_disabled(&b, r);
		if (!rc)
			rc = round_enabled(&b, r);
		if (!rc)
			round_syslog(&b, r);
	}
	if (!rc)
		report(&b, sink.target);
	syslog_sink_close(&sink);
	bench_close(&b);
	return rc;
}
