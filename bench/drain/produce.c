/* SPDX-License-Identifier: MIT */
/*
 * produce: the drain benchmark's load. One thread per online CPU, pinned,
 * each writing fixed-size marker records into a tracefs instance's
 * trace_marker_raw at a fixed rate for a fixed time.
 *
 *   produce PATH RATE SECONDS [SIZE]
 *
 * PATH     .../instances/NAME/trace_marker_raw
 * RATE     events per second in total (split evenly over the threads);
 *          0 = as fast as possible (no pacing)
 * SECONDS  how long to write
 * SIZE     bytes per write, 16..4096 (default 40): u32 id, u32 thread,
 *          u64 seq, zero padding. The id is DRAIN_MAGIC, so a counter can
 *          pick these records out of a trace.
 *
 * Pacing: each thread writes in batches of about 0.5 ms worth of records and
 * sleeps to an absolute deadline (clock_nanosleep TIMER_ABSTIME) between
 * batches. A thread that falls behind does not sleep until it has caught up;
 * it never writes past SECONDS, so the achieved rate can be below the target
 * (it is printed).
 *
 * Output, one line on stdout:
 *   written N failed F bytes B seconds T target R achieved A threads K
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bench-cpus.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "drain-bench.h"

struct worker {
	pthread_t th;
	int index, cpu;
	double rate;       /* events/s for this thread, 0 = unpaced */
	uint64_t written, failed;
	int err;
};

static const char *path;
static double seconds;
static size_t size = 40;
static struct timespec t0;
static pthread_barrier_t start;

static uint64_t ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000ull + (uint64_t)t->tv_nsec;
}

static struct timespec ts_of(uint64_t n)
{
	struct timespec t = { .tv_sec = (time_t)(n / 1000000000ull), .tv_nsec = (long)(n % 1000000000ull) };

	return t;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return ns(&t);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	unsigned char rec[4096] = { 0 };
	uint32_t magic = DRAIN_MAGIC, idx = (uint32_t)w->index;
	uint64_t seq = 0, begin, end, batch, next;
	double period_ns = 0;
	int fd;

	bench_pin(w->cpu);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		w->err = errno;
	memcpy(rec, &magic, 4);
	memcpy(rec + 4, &idx, 4);
	pthread_barrier_wait(&start);
	if (fd < 0)
		return NULL;

	begin = ns(&t0);
	end = begin + (uint64_t)(seconds * 1e9);
	batch = 1;
	if (w->rate > 0) {
		period_ns = 1e9 / w->rate;
		batch = (uint64_t)(w->rate / 2000.0); /* ~0.5 ms of records per batch */
		if (batch < 1)
			batch = 1;
	}
	next = begin;
	{
		struct timespec go = ts_of(begin);

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &go, NULL) == EINTR)
			;
	}
	for (;;) {
		uint64_t now = now_ns();

		if (now >= end)
			break;
		if (w->rate > 0 && now < next) {
			struct timespec dl = ts_of(next < end ? next : end);

			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &dl, NULL) == EINTR)
				;
			if (next >= end)
				break;
		}
		for (uint64_t i = 0; i < batch; i++) {
			memcpy(rec + 8, &seq, 8);
			seq++;
			if (write(fd, rec, size) == (ssize_t)size)
				w->written++;
			else
				w->failed++;
		}
		if (w->rate > 0)
			next = begin + (uint64_t)((double)seq * period_ns);
	}
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	double rate, elapsed;
	struct worker *w;
	uint64_t written = 0, failed = 0;
	int n, *cpus;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: produce PATH RATE SECONDS [SIZE]\n");
		return 2;
	}
	path = argv[1];
	rate = strtod(argv[2], NULL);
	seconds = strtod(argv[3], NULL);
	if (argc == 5)
		size = (size_t)strtoul(argv[4], NULL, 10);
	if (rate < 0 || seconds <= 0 || size < 16 || size > 4096) {
		fprintf(stderr, "produce: bad RATE, SECONDS or SIZE\n");
		return 2;
	}
	/* One thread per CPU we may run on. */
	if ((n = bench_allowed_cpus(&cpus)) < 0)
		return 1;
	w = calloc((size_t)n, sizeof(*w));
	if (!w)
		return 1;
	pthread_barrier_init(&start, NULL, (unsigned)n + 1);
	for (int i = 0; i < n; i++) {
		w[i].index = i;
		w[i].cpu = cpus[i];
		w[i].rate = rate / n;
		if (pthread_create(&w[i].th, NULL, run, &w[i]) != 0) {
			fprintf(stderr, "produce: pthread_create failed\n");
			return 1;
		}
	}
	free(cpus);
	/* Every thread starts on the same clock reading. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	t0.tv_nsec += 2000000; /* 2 ms from now: the threads are parked at the barrier */
	if (t0.tv_nsec >= 1000000000) {
		t0.tv_sec++;
		t0.tv_nsec -= 1000000000;
	}
	pthread_barrier_wait(&start);
	for (int i = 0; i < n; i++) {
		pthread_join(w[i].th, NULL);
		if (w[i].err) {
			fprintf(stderr, "produce: %s: %s\n", path, strerror(w[i].err));
			return 1;
		}
		written += w[i].written;
		failed += w[i].failed;
	}
	elapsed = (double)(now_ns() - ns(&t0)) / 1e9;
	printf("written %llu failed %llu bytes %llu seconds %.3f target %.0f achieved %.0f threads %d\n",
	       (unsigned long long)written, (unsigned long long)failed,
	       (unsigned long long)(written * size), elapsed, rate,
	       (double)written / seconds, n);
	return failed ? 3 : 0;
}
