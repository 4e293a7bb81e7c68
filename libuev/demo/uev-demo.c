/* SPDX-License-Identifier: MIT */
/*
 * uev-demo: a small emitter, the way a compositor would use libuev: open a
 * provider, register the schema's events, emit through the typed wrappers
 * generated from schemas/demo.uev. Two threads, one per CPU where possible.
 */
#define UEV_DEMO_IMPLEMENTATION
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "demo-uev.h"

struct worker {
	pthread_t thread;
	unsigned id, count, interval_ms, written;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;
	char msg[64];

	CPU_ZERO(&set);
	CPU_SET(w->id % (ncpu > 0 ? (unsigned)ncpu : 1u), &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	for (unsigned i = 0; i < w->count; i++) {
		snprintf(msg, sizeof(msg), "thread %u says hello #%u", w->id, i);
		if (uev_emit_demo_tick(i, w->id, mono_ns(), msg) > 0)
			w->written++;
		if (w->interval_ms)
			usleep(w->interval_ms * 1000u);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct uev_provider_options po = { 0 };
	struct worker w[2] = { 0 };
	unsigned count = 10, interval = 1;
	struct uev_provider *p;
	int c, r;

	while ((c = getopt(argc, argv, "n:i:s:h")) != -1) {
		switch (c) {
		case 'n': count = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'i': interval = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': po.seat = optarg; break;
		default:
			fprintf(c == 'h' ? stdout : stderr,
				"usage: uev-demo [-s SEAT] [-n EVENTS_PER_THREAD] [-i INTERVAL_MS]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	r = uev_provider_open(&p, &po);
	if (r < 0) {
		fprintf(stderr, "uev-demo: uev_provider_open: %s\n", strerror(-r));
		return 1;
	}
	printf("uev-demo: %s\n", uev_provider_status(p));
	r = uev_demo_register(p);
	if (r < 0)
		fprintf(stderr, "uev-demo: registering events: %s (continuing, events stay off)\n", strerror(-r));
	uev_emit_demo_hello(argv[0], (int32_t)getpid());
	uev_emit_demo_label("demo-start", 1);
	for (unsigned i = 0; i < 2; i++) {
		w[i].id = i;
		w[i].count = count;
		w[i].interval_ms = interval;
		pthread_create(&w[i].thread, NULL, work, &w[i]);
	}
	for (unsigned i = 0; i < 2; i++)
		pthread_join(w[i].thread, NULL);
	uev_emit_demo_label("demo-end", 2);
	printf("uev-demo: %u + %u tick events written\n", w[0].written, w[1].written);
	uev_provider_close(p);
	return 0;
}
