/* SPDX-License-Identifier: MIT */
/* Emit micro-benchmark, LTTng-UST peer: times ITERATIONS calls of the
 * uev_bench:emit tracepoint.  Usage: bench_lttng [--disabled] ITERATIONS
 * (--disabled only changes the label; the caller leaves the event off). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lttng_tp.h"

#define WARMUP_CALLS 10000u

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--disabled] ITERATIONS\n", argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *label = "lttng_ust_tracepoint";
	int argi = 1;

	if (argi < argc && strcmp(argv[argi], "--disabled") == 0) {
		label = "lttng_ust_disabled";
		argi++;
	}
	if (argc - argi != 1)
		usage(argv[0]);

	char *end;
	errno = 0;
	unsigned long long iters = strtoull(argv[argi], &end, 10);
	if (errno || *end || end == argv[argi] || iters == 0 || argv[argi][0] == '-')
		usage(argv[0]);

	uint32_t seq = 0;
	for (unsigned i = 0; i < WARMUP_CALLS; i++, seq++)
		tracepoint(uev_bench, emit, seq, (uint64_t)seq * 3, "frame presented");

	uint64_t t0 = now_ns();
	for (unsigned long long i = 0; i < iters; i++, seq++)
		tracepoint(uev_bench, emit, seq, (uint64_t)seq * 3, "frame presented");
	uint64_t t1 = now_ns();

	printf("%s %.1f ns/call\n", label, (double)(t1 - t0) / (double)iters);
	return 0;
}
