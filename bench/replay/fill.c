/* SPDX-License-Identifier: MIT */
/*
 * fill: the replay benchmark's load. It fills a seat's ring file with
 * typed user events emitted through libuev, the way an application
 * would, so that uev-replay has real decoding work to do. Raw marker
 * records (bench/drain/produce) have no announcement and would print as
 * "unknown marker" hex, which is not what a real ring holds.
 *
 *   fill SEAT RUN-DIR N [KMSG_EVERY]
 *
 * SEAT        the seat the aggregator records (provider option seat)
 * RUN-DIR     the aggregator's --run-dir (provider option run_dir: the
 *             marker backend's enable pages live there)
 * N           events in total, split evenly over one thread per CPU, each
 *             thread pinned to its CPU and unpaced
 * KMSG_EVERY  thread 0 also writes one /dev/kmsg line (printk:console)
 *             every KMSG_EVERY of its events; 0 = none (default 20000)
 *
 * The event is frame(u32 seq; u32 output; s64 t_ns; __rel_loc char[] name):
 * three integers and a string of 6..14 bytes that changes with seq, so
 * the decoder cannot get away with one cached string.
 *
 * Output, one line on stdout:
 *   emitted E failed F kmsg K seconds T rate R threads N
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

#include <uev/uev.h>

static struct uev_event frame = UEV_EVENT_INIT("frame",
	"u32 seq; u32 output; s64 t_ns; __rel_loc char[] name");

struct worker {
	pthread_t th;
	int index, cpu;
	uint64_t n, emitted, failed, kmsg;
};

static uint64_t kmsg_every = 20000;
static pthread_barrier_t start;

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *run(void *arg)
{
	static const char *const outputs[] = { "HDMI-A-1", "eDP-1", "DP-2", "Virtual-1" };
	struct worker *w = arg;
	char name[32];

	bench_pin(w->cpu);
	pthread_barrier_wait(&start);
	for (uint64_t seq = 0; seq < w->n; seq++) {
		unsigned out = (unsigned)(seq % 4);

		snprintf(name, sizeof(name), "%s/%u", outputs[out], (unsigned)(seq % 1000));
		if (uev_emit(&frame, (unsigned)seq, out + 16u * (unsigned)w->index, mono_ns(), name) > 0)
			w->emitted++;
		else
			w->failed++;
		/* A new open per line: /dev/kmsg rate-limits each open file
		 * to a burst of 10 lines. */
		if (w->index == 0 && kmsg_every && seq % kmsg_every == 0) {
			char line[96];
			int len = snprintf(line, sizeof(line), "<6>uev-bench-replay: kmsg %llu\n",
					   (unsigned long long)seq);
			int kfd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

			if (kfd >= 0) {
				if (write(kfd, line, (size_t)len) == len)
					w->kmsg++;
				close(kfd);
			}
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct uev_provider_options o = { 0 };
	struct uev_provider *p;
	struct worker *w;
	uint64_t total, emitted = 0, failed = 0, kmsg = 0;
	int64_t t0, t1;
	int n, *cpus;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: fill SEAT RUN-DIR N [KMSG_EVERY]\n");
		return 2;
	}
	o.seat = argv[1];
	o.run_dir = argv[2];
	total = strtoull(argv[3], NULL, 10);
	if (argc == 5)
		kmsg_every = strtoull(argv[4], NULL, 10);
	if (uev_provider_open(&p, &o) < 0 || uev_event_register(p, &frame) < 0) {
		fprintf(stderr, "fill: no provider: %s\n", p ? uev_provider_status(p) : "?");
		return 1;
	}
	/* The aggregator enables the event once it has seen the announcement. */
	for (int i = 0; i < 5000 && !uev_enabled(&frame); i++)
		usleep(1000);
	if (!uev_enabled(&frame)) {
		fprintf(stderr, "fill: the seat never enabled the event (%s)\n", uev_provider_status(p));
		return 1;
	}
	if ((n = bench_allowed_cpus(&cpus)) < 0)
		return 1;
	w = calloc((size_t)n, sizeof(*w));
	if (!w)
		return 1;
	pthread_barrier_init(&start, NULL, (unsigned)n + 1);
	for (int i = 0; i < n; i++) {
		w[i].index = i;
		w[i].cpu = cpus[i];
		w[i].n = total / (uint64_t)n + ((uint64_t)i < total % (uint64_t)n);
		if (pthread_create(&w[i].th, NULL, run, &w[i]) != 0) {
			fprintf(stderr, "fill: pthread_create failed\n");
			return 1;
		}
	}
	free(cpus);
	t0 = mono_ns();
	pthread_barrier_wait(&start);
	for (int i = 0; i < n; i++) {
		pthread_join(w[i].th, NULL);
		emitted += w[i].emitted;
		failed += w[i].failed;
		kmsg += w[i].kmsg;
	}
	t1 = mono_ns();
	uev_provider_close(p);
	printf("emitted %llu failed %llu kmsg %llu seconds %.3f rate %.0f threads %d\n",
	       (unsigned long long)emitted, (unsigned long long)failed, (unsigned long long)kmsg,
	       (double)(t1 - t0) / 1e9, (double)emitted * 1e9 / (double)(t1 - t0), n);
	return failed ? 3 : 0;
}
