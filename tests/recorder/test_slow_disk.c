/* SPDX-License-Identifier: MIT */
/*
 * uev-aggregator on a disk slower than the events: its ring file's device
 * is throttled for the daemon alone (blkio cgroup, 4 MiB/s), and a burst of
 * ~40 MiB of events arrives. With direct I/O the writer's memory bound is
 * reached while writes are still out, so the drain must hold pages back
 * (the kernel's ring buffer then overwrites its oldest and counts it) and
 * must neither fail nor spin. Afterwards: exit 0, a clean file, the newest
 * event there, and every gap in the sequence announced by a loss mark.
 * Skips (77) without root, tracefs, a blkio throttle, or a block device
 * under the scratch directory.  usage: test-slow-disk PATH-TO-uev-aggregator
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "aggtest.h"
#include "ktest.h"
#include "uev-decode.h"

#define TOTAL 160000u   /* ~256 B each: ~40 MiB, five times the kernel buffer */
#define BPS (4u << 20)  /* the daemon's write rate */

static char cg[256];

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -1;
}

/* The whole disk under @path (throttles take disks, not partitions). */
static int disk_of(const char *path, unsigned *maj, unsigned *min)
{
	char sys[128], dev[32] = "";
	struct stat st;
	FILE *f;

	if (stat(path, &st) < 0 || major(st.st_dev) == 0)
		return -1; /* tmpfs and the like: no block device */
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/partition", major(st.st_dev), minor(st.st_dev));
	if (access(sys, F_OK) == 0)
		snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/../dev", major(st.st_dev), minor(st.st_dev));
	else
		snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/dev", major(st.st_dev), minor(st.st_dev));
	if (!(f = fopen(sys, "r")))
		return -1;
	if (!fgets(dev, sizeof(dev), f) || sscanf(dev, "%u:%u", maj, min) != 2) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

/* A blkio cgroup (v1) that throttles writes to the disk under agg_dir. */
static int throttle_setup(void)
{
	char file[300], rule[64];
	unsigned maj, min;

	if (disk_of(agg_dir, &maj, &min) < 0)
		return -1;
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/blkio/uevslow.%d", (int)getpid());
	if (mkdir(cg, 0755) < 0) {
		cg[0] = '\0';
		return -1;
	}
	snprintf(file, sizeof(file), "%s/blkio.throttle.write_bps_device", cg);
	snprintf(rule, sizeof(rule), "%u:%u %u", maj, min, BPS);
	return write_file(file, rule);
}

static void join_throttle(void)
{
	char file[300], pid[32];

	snprintf(file, sizeof(file), "%s/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (write_file(file, pid) < 0)
		_exit(126);
}

struct seqs {
	uint64_t n, prev, last, gaps, unannounced, lost, lost_unknown;
	int started, pending_loss, bad;
};

static int collect(void *ctx, const struct uev_ringdec_run *run, const struct uev_rec *r)
{
	struct seqs *s = ctx;
	uint64_t v;
	const char *str;
	size_t len;

	(void)run;
	if (r->missed) { /* lost before this record: the next gap is announced */
		s->pending_loss = 1;
		if (r->missed > 0)
			s->lost += (uint64_t)r->missed;
		else
			s->lost_unknown++;
	}
	if (r->kind != UEV_REC_USER || strcmp(r->name, "agg_tick"))
		return 0;
	if (uev_payload_field(r->def, r->payload, r->len, 0, &v, &str, &len) < 0) {
		s->bad++;
		return 0;
	}
	if (s->started && v <= s->prev)
		s->bad++; /* a duplicate or out of order */
	if (s->started && v != s->prev + 1) {
		s->gaps++;
		s->unannounced += !s->pending_loss;
	}
	s->pending_loss = 0;
	s->started = 1;
	s->prev = s->last = v;
	s->n++;
	return 0;
}

START_TEST(a_slow_disk_holds_pages_back_and_loses_nothing_silently)
{
	struct daemon d;
	struct seqs s = { 0 };
	char err[512], pad[240];
	cpu_set_t set;

	agg_in_child = join_throttle;
	agg_start(&d, "[ring]\ndirect_io = yes\n", 100);
	agg_in_child = NULL;
	struct uev_provider *p = agg_emitter(&d);

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	pad[sizeof(pad) - 1] = 0;
	for (unsigned i = 0, x = 1; i < TOTAL; i++) {
		/* letters no compressor can shrink much: the ring's units
		 * (on by default) must not make the disk fast enough */
		for (size_t k = 0; k + 1 < sizeof(pad); k++) {
			x = x * 1103515245u + 12345u;
			pad[k] = (char)('!' + (x >> 16) % 90);
		}
		ck_assert_int_eq(uev_emit(&agg_tick, i, 3u, pad), UEV_EMIT_WRITTEN);
	}
	uev_provider_close(p);
	sleep(1);
	agg_stop(&d); /* drains the kernel buffer through the throttle: ~2 s */
	ck_assert_int_eq(uev_ring_decode(d.ring, agg_report, NULL, collect, &s, err, sizeof(err)), 0);
	fprintf(stderr, "slow disk: %llu of %u events recorded, %llu gaps, lost %llu (+%llu marks without a count)\n",
		(unsigned long long)s.n, TOTAL, (unsigned long long)s.gaps, (unsigned long long)s.lost,
		(unsigned long long)s.lost_unknown);
	ck_assert_int_eq(s.bad, 0);
	ck_assert_uint_eq(s.last, TOTAL - 1); /* the newest survive */
	ck_assert_uint_lt(s.n, TOTAL);        /* the disk really was too slow */
	ck_assert_uint_gt(s.gaps, 0);
	ck_assert_uint_eq(s.unannounced, 0);  /* loss is never silent */
	ck_assert_uint_le(s.lost, TOTAL - s.n);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *su = suite_create("slow_disk");
	TCase *tc = tcase_create("throttled");
	SRunner *sr;
	int failed;

	agg_setup(argc, argv);
	if (throttle_setup() < 0) {
		printf("SKIP: no blkio write throttle for the disk under %s\n", agg_dir);
		if (cg[0])
			rmdir(cg);
		agg_cleanup();
		return 77;
	}
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_slow_disk_holds_pages_back_and_loses_nothing_silently);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (rmdir(cg) < 0)
		fprintf(stderr, "removing %s: %s\n", cg, strerror(errno));
	agg_cleanup();
	return failed ? 1 : 0;
}
