/* SPDX-License-Identifier: MIT */
/*
 * The test's hands on the tracedat module and the ring decoder.
 *   tracedat-cli write RING OUT [RUN]  uev_tracedat_write: prints "pages N",
 *                                      or "error -E: message" on stderr, exit 1
 *   tracedat-cli count RING            per run: "RUN RECORDS LOST": every record
 *                                      of every PAGE (uev_ring_decode), marker
 *                                      announcements included, and the sum of
 *                                      the loss counts the pages carry
 *   tracedat-cli records RING RUN      "CPU PID TS" of each of those records
 *   tracedat-cli kmsg NAME PREFIX N    fork (on the last CPU) a child that
 *                                      renames itself NAME (on CPU 0) and
 *                                      writes "PREFIX i" to /dev/kmsg for
 *                                      i = 1..N, each from CPU i % ncpu;
 *                                      prints "pid P", then "i CPU" lines
 * Ring problems are reported on stderr as "report @OFFSET: message".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "uev-decode.h"
#include "tracedat.h"

static void report(void *ctx, enum uev_ring_report_kind kind, uint64_t off, const char *msg)
{
	(void)ctx, (void)kind;
	fprintf(stderr, "report @%" PRIu64 ": %s\n", off, msg);
}

struct runcount {
	uint64_t run[64], n[64], lost[64];
	unsigned nrun;
	uint64_t list; /* "records": the run to list */
};

static int count_rec(void *ctx, const struct uev_ringdec_run *run, const struct uev_rec *r)
{
	struct runcount *c = ctx;
	unsigned i = 0;

	if (c->list) {
		if (run->run_id == c->list)
			printf("%d %d %llu\n", r->cpu, r->pid, r->ts);
		return 0;
	}
	while (i < c->nrun && c->run[i] != run->run_id)
		i++;
	if (i == c->nrun) {
		if (c->nrun == 64)
			return -E2BIG;
		c->run[c->nrun] = run->run_id, c->n[c->nrun] = c->lost[c->nrun] = 0;
		c->nrun++;
	}
	c->n[i]++;
	c->lost[i] += r->missed > 0 ? (uint64_t)r->missed : 0;
	return 0;
}

static int pin(long cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/*
 * The fork is seen on the last CPU and the rename on CPU 0: the aggregator
 * drains CPU 0 first, so its COMM records name the child after its parent
 * last, and only names taken from the events by time come out right.
 * /dev/kmsg is opened for each line: each opener may write a burst of 10.
 */
static int kmsg(const char *name, const char *prefix, int n)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int st;
	pid_t pid;

	ncpu = ncpu > 0 ? ncpu : 1;
	fflush(stdout);
	if (pin(ncpu - 1) < 0 || (pid = fork()) < 0) {
		perror("kmsg");
		return 1;
	}
	if (pid > 0)
		return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	if (pin(0) < 0 || prctl(PR_SET_NAME, name) < 0) {
		perror("kmsg");
		return 1;
	}
	printf("pid %d\n", (int)getpid());
	for (int i = 1; i <= n; i++) {
		char line[128];
		int len = snprintf(line, sizeof(line), "%s %d\n", prefix, i), fd;

		if (pin(i % ncpu) < 0 || (fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC)) < 0 || write(fd, line, (size_t)len) != len) {
			perror("kmsg");
			return 1;
		}
		close(fd);
		printf("%d %d\n", i, sched_getcpu());
	}
	return 0;
}

int main(int argc, char **argv)
{
	char err[512];
	int r;

	if (argc >= 4 && !strcmp(argv[1], "write")) {
		r = uev_tracedat_write(argv[2], argc > 4 ? strtoull(argv[4], NULL, 10) : 0, argv[3],
				       report, NULL, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "error %d: %s\n", r, err);
			return 1;
		}
		printf("pages %d\n", r);
		return 0;
	}
	if ((argc == 3 && !strcmp(argv[1], "count")) || (argc == 4 && !strcmp(argv[1], "records"))) {
		struct runcount c = { .list = argc == 4 ? strtoull(argv[3], NULL, 10) : 0 };

		r = uev_ring_decode(argv[2], report, NULL, count_rec, &c, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "error %d: %s\n", r, err);
			return 1;
		}
		for (unsigned i = 0; i < c.nrun; i++)
			printf("%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", c.run[i], c.n[i], c.lost[i]);
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "kmsg"))
		return kmsg(argv[2], argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: tracedat-cli write RING OUT [RUN] | count RING | records RING RUN |\n"
			"       kmsg NAME PREFIX N\n");
	return 2;
}
