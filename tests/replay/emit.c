/* SPDX-License-Identifier: MIT */
/*
 * replay-emit SEAT RUN-DIR N TAG [SPAN_MS]: two threads, pinned to CPU 0 and CPU 1,
 * each emit N numbered events that carry the CLOCK_REALTIME at which they
 * were emitted (what the replay's wall clock is checked against) and a
 * string made from their numbers; every N/50 events the first thread also
 * writes a numbered line to /dev/kmsg. Exit 0 when all were emitted.
 * With SPAN_MS the two spread their events over that time, the second
 * thread emitting only N/100: one busy CPU, whose pages the watermark
 * releases early, and one quiet CPU, whose page waits for the flush.
 */
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

static struct uev_event tick = UEV_EVENT_INIT("rp_tick",
	"u32 seq; u32 thread; s64 wall_ns; __rel_loc char[] msg");
static unsigned n, span_ms;
static const char *tag;

static int64_t wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *run(void *arg)
{
	unsigned thread = (unsigned)(uintptr_t)arg;
	cpu_set_t set;
	char msg[64];

	CPU_ZERO(&set);
	CPU_SET(thread % 2, &set);
	sched_setaffinity(0, sizeof(set), &set);
	unsigned count = span_ms && thread == 1 ? (n + 99) / 100 : n;

	for (unsigned seq = 0; seq < count; seq++) {
		snprintf(msg, sizeof(msg), "%s-t%u-s%u-\xc3\xa9", tag, thread, seq);
		uev_emit(&tick, seq, thread, wall(), msg);
		/* A new open per line: /dev/kmsg rate-limits each open file
		 * to a burst of 10 lines. */
		if (thread == 0 && seq % (n / 50 ? n / 50 : 1) == 0) {
			char line[96];
			int len = snprintf(line, sizeof(line), "<6>uevreplay %s kmsg %u\n", tag, seq);
			int kfd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

			if (kfd < 0 || write(kfd, line, (size_t)len) != len)
				perror("/dev/kmsg");
			if (kfd >= 0)
				close(kfd);
		}
		if (span_ms && thread == 1)
			usleep((useconds_t)(span_ms * 1000ull / count));
		else if (span_ms && seq % 64 == 0)
			usleep((useconds_t)(span_ms * 64000ull / count));
		else if (seq % 64 == 0)
			usleep(500);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct uev_provider_options o = { 0 };
	struct uev_provider *p;
	pthread_t t[2];

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: replay-emit SEAT RUN-DIR N TAG [SPAN_MS]\n");
		return 2;
	}
	span_ms = argc == 6 ? (unsigned)atoi(argv[5]) : 0;
	o.seat = argv[1];
	o.run_dir = argv[2];
	n = (unsigned)atoi(argv[3]);
	tag = argv[4];
	if (uev_provider_open(&p, &o) < 0 || uev_event_register(p, &tick) < 0) {
		fprintf(stderr, "replay-emit: no provider\n");
		return 1;
	}
	for (int i = 0; i < 5000 && !uev_enabled(&tick); i++)
		usleep(1000);
	if (!uev_enabled(&tick)) {
		fprintf(stderr, "replay-emit: the seat never enabled the event\n");
		return 1;
	}
	for (uintptr_t i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, run, (void *)i);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	uev_provider_close(p);
	return 0;
}
