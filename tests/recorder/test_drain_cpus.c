/* SPDX-License-Identifier: MIT */
/*
 * The recorder's CPUs are the instance's per_cpu/cpuN directories, by
 * number, however many and however sparse (issue 13, defect 1):
 *  - the listing (uev_seat_cpus_in) against made-up directories: sparse
 *    numbers above any count, names that are not CPUs, a number the ring
 *    cannot record refused by name;
 *  - the drain itself on a made-up instance whose trace_pipe_raw files are
 *    FIFOs for CPUs 0, 257 and 1000: every page is recorded with its CPU,
 *    and a page a killed run left in a slot that belonged to CPU 4095
 *    (no longer in the set) is recorded as CPU 4095's. The drain needs the
 *    kernel's event formats for its capture: root and tracefs, else that
 *    case is left out (said on stderr).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <tracefs.h>

#include "capture.h"
#include "drain.h"
#include "ring-common.h"
#include "seat.h"

#define SUBBUF 4096u

static char dir[256];

static void mk(const char *rel, int fifo)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	ck_assert_msg((fifo ? mkfifo(p, 0600) : mkdir(p, 0700)) == 0, "%s: %s", p, strerror(errno));
}

static void put(const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	ck_assert_ptr_nonnull(f = fopen(p, "w"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/uevcpus.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "test-drain-cpus: could not remove %s\n", dir);
}

START_TEST(list_sparse)
{
	unsigned *cpus, n;
	char err[256];

	mk("per_cpu", 0);
	/* readdir order is not numeric order; the non-CPU names are left out */
	const char *names[] = { "cpu1000", "cpu257", "cpu0", "cpu3", "cpu01", "cpuX", "cpu", "cpu7x", "foo" };
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "per_cpu/%s", names[i]);
		mk(rel, 0);
	}
	ck_assert_int_eq(uev_seat_cpus_in(dir, UEV_RING_CPU_MAX, &cpus, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(cpus[0], 0);
	ck_assert_uint_eq(cpus[1], 3);
	ck_assert_uint_eq(cpus[2], 257);
	ck_assert_uint_eq(cpus[3], 1000);
	free(cpus);
}
END_TEST

START_TEST(list_many)
{
	unsigned *cpus, n;
	char err[256], rel[64];

	mk("per_cpu", 0);
	for (unsigned c = 0; c < 8192; c += 8) { /* most numbers absent, as on a sparse machine */
		snprintf(rel, sizeof(rel), "per_cpu/cpu%u", c);
		mk(rel, 0);
	}
	ck_assert_int_eq(uev_seat_cpus_in(dir, UEV_RING_CPU_MAX, &cpus, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1024);
	for (unsigned i = 0; i < n; i++)
		ck_assert_uint_eq(cpus[i], 8 * i);
	free(cpus);
}
END_TEST

/* A CPU the ring file cannot record is refused, naming it and the limit,
 * rather than recording the others only. */
START_TEST(list_refused)
{
	unsigned *cpus = (unsigned *)1, n = 1;
	char err[256];

	mk("per_cpu", 0);
	mk("per_cpu/cpu0", 0);
	mk("per_cpu/cpu65535", 0);
	ck_assert_int_eq(uev_seat_cpus_in(dir, UEV_RING_CPU_MAX, &cpus, &n, err, sizeof(err)), -ERANGE);
	ck_assert_ptr_null(cpus);
	ck_assert_uint_eq(n, 0);
	ck_assert_msg(strstr(err, "per_cpu/cpu65535: CPU 65535 is above 65534, the highest CPU number a ring file can record"),
		      "message: %s", err);
	/* the limit is the caller's */
	ck_assert_int_eq(uev_seat_cpus_in(dir, 65535, &cpus, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	free(cpus);
}
END_TEST

START_TEST(list_none)
{
	unsigned *cpus, n;
	char err[256];

	ck_assert_int_eq(uev_seat_cpus_in(dir, UEV_RING_CPU_MAX, &cpus, &n, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "/per_cpu: No such file or directory"), "message: %s", err);
	mk("per_cpu", 0);
	mk("per_cpu/cpufreq", 0);
	ck_assert_int_eq(uev_seat_cpus_in(dir, UEV_RING_CPU_MAX, &cpus, &n, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "no cpuN directory"), "message: %s", err);
}
END_TEST

/* ---- the drain on a made-up instance ---------------------------------- */

static const unsigned fake_cpus[] = { 0, 257, 1000 };
#define NFAKE (sizeof(fake_cpus) / sizeof(*fake_cpus))
#define LEFT_CPU 4095u /* a killed run's slot 1 belonged to it */

/* An empty sub-buffer stamped @ts: which CPU's it is shows in the ring. */
static void page(uint8_t *p, uint64_t ts)
{
	memset(p, 0, SUBBUF);
	uev_put64(p, ts);
}

static unsigned ticks;

static void on_tick(void *ctx)
{
	(void)ctx;
	if (++ticks == 6)
		kill(getpid(), SIGTERM); /* blocked: the drain's signalfd reads it */
}

static void copy_kernel(const char *file, const char *rel)
{
	char *text = tracefs_instance_file_read(NULL, file, NULL);

	ck_assert_msg(text != NULL, "%s: %s", file, strerror(errno));
	put(rel, text);
	free(text);
}

static struct uev_ring_writer *writer(const char *ring, const char *stage)
{
	struct uev_ring_create c = { .path = ring, .size = 1 << 20, .seat = "cpus", .mode = 0600,
				     .gid = (gid_t)-1, .stage_path = stage,
				     .stage_extra = uev_drain_stage_bytes(NFAKE, SUBBUF) };
	struct uev_ring_run_info ri = { .boot_id = "00000000-0000-4000-8000-000000000000",
					.trace_clock = "boot", .seat = "cpus", .host = "h",
					.kernel_release = "test", .flush_interval_ms = 100 };
	struct uev_ring_writer *w;
	char err[256];

	ck_assert_msg(uev_ring_writer_open(&w, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(uev_ring_writer_begin_run(w, &ri), 0);
	return w;
}

/* The fake instance "fake" under dir: the kernel's page headers, and a
 * FIFO per CPU of fake_cpus holding one page stamped 1000 + the CPU,
 * kept open for writing in @fds. */
static void fake_instance(int *fds)
{
	char rel[128], path[512];
	uint8_t buf[SUBBUF];

	mk("instances", 0);
	mk("instances/fake", 0);
	mk("instances/fake/per_cpu", 0);
	mk("instances/fake/events", 0);
	put("instances/fake/buffer_subbuf_size_kb", "4\n");
	put("instances/fake/buffer_size_kb", "64\n");
	copy_kernel("events/header_page", "instances/fake/events/header_page");
	copy_kernel("events/header_event", "instances/fake/events/header_event");
	for (unsigned i = 0; i < NFAKE; i++) {
		snprintf(rel, sizeof(rel), "instances/fake/per_cpu/cpu%u", fake_cpus[i]);
		mk(rel, 0);
		snprintf(rel, sizeof(rel), "instances/fake/per_cpu/cpu%u/trace_pipe_raw", fake_cpus[i]);
		mk(rel, 1);
		snprintf(path, sizeof(path), "%s/%s", dir, rel);
		/* held open for writing: an empty FIFO reads EAGAIN, as an empty CPU does */
		ck_assert_int_ge(fds[i] = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC), 0);
		page(buf, 1000 + fake_cpus[i]);
		ck_assert_int_eq(write(fds[i], buf, SUBBUF), SUBBUF);
	}
}

/* The PAGE records of @ring counted per CPU of fake_cpus in @got[0..NFAKE-1],
 * LEFT_CPU's in @got[NFAKE]; each page's stamp checked. */
static void count_pages(const char *ring, uint64_t *got)
{
	struct uev_ring_reader *r;
	struct uev_ring_rec rec;
	char err[512];

	ck_assert_msg(uev_ring_reader_open(&r, ring, NULL, NULL, err, sizeof(err)) == 0, "%s", err);
	while (uev_ring_reader_next(r, &rec) > 0) {
		uint64_t ts;

		if (rec.type != UEV_RING_PAGE)
			continue;
		ck_assert_uint_ge(rec.len, 8);
		ts = uev_get64(rec.payload);
		for (unsigned i = 0; i < NFAKE; i++)
			if (rec.cpu == fake_cpus[i]) {
				ck_assert_uint_eq(ts, 1000 + fake_cpus[i]);
				got[i]++;
			}
		if (rec.cpu == LEFT_CPU) {
			ck_assert_uint_eq(ts, 77);
			got[NFAKE]++;
		}
	}
	uev_ring_reader_close(r);
}

START_TEST(drain_sparse)
{
	char ring[512], stage[300], err[512];
	struct tracefs_instance *inst;
	struct uev_ring_writer *w;
	struct uev_capture *cap;
	uint8_t *area;
	uint64_t got[NFAKE + 1] = { 0 };
	size_t alen = 0;
	int fds[NFAKE], sfd;
	sigset_t term;

	fake_instance(fds);
	ck_assert_ptr_nonnull(inst = tracefs_instance_alloc(dir, "fake"));
	snprintf(ring, sizeof(ring), "%s/r.ring", dir);
	snprintf(stage, sizeof(stage), "%s/r.stage", dir);
	w = writer(ring, stage);
	/* What a killed run left: slot 1 holds a page of CPU 4095 (the
	 * layout is drain-loop.h's: the slots, then the CPU of each). */
	ck_assert_ptr_nonnull(area = uev_ring_writer_stage_area(w, &alen));
	ck_assert_uint_ge(alen, uev_drain_stage_bytes(NFAKE, SUBBUF));
	page(area + SUBBUF, 77);
	uev_put32(area + NFAKE * SUBBUF + 4, LEFT_CPU);
	ck_assert_msg(uev_capture_new(&cap, w, inst, NULL, err, sizeof(err)) == 0, "%s", err);

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &term, NULL), 0);
	ck_assert_int_ge(sfd = signalfd(-1, &term, SFD_NONBLOCK | SFD_CLOEXEC), 0);
	struct uev_drain_opts o = { .instance = inst, .writer = w, .capture = cap, .flush_ms = 100,
				    .tick_ms = 50, .fsync = UEV_DRAIN_FSYNC_NEVER, .sigfd = sfd,
				    .hooks = { .on_tick = on_tick } };
	ck_assert_msg(uev_drain_run(&o, err, sizeof(err)) == 0, "drain: %s", err);
	uev_capture_free(cap);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	tracefs_instance_free(inst);

	count_pages(ring, got);
	for (unsigned i = 0; i < NFAKE; i++)
		ck_assert_msg(got[i] == 1, "CPU %u: %llu pages recorded, wanted 1", fake_cpus[i],
			      (unsigned long long)got[i]);
	ck_assert_msg(got[NFAKE] == 1, "the left page: recorded %llu times as CPU %u's, wanted once",
		      (unsigned long long)got[NFAKE], LEFT_CPU);
	for (unsigned i = 0; i < NFAKE; i++)
		close(fds[i]);
	close(sfd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("drain-cpus");
	TCase *tc = tcase_create("list");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, list_sparse);
	tcase_add_test(tc, list_many);
	tcase_add_test(tc, list_refused);
	tcase_add_test(tc, list_none);
	suite_add_tcase(s, tc);
	if (geteuid() == 0 && tracefs_tracing_dir()) {
		tc = tcase_create("drain");
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 30);
		tcase_add_test(tc, drain_sparse);
		suite_add_tcase(s, tc);
	} else {
		fprintf(stderr, "test-drain-cpus: the drain case needs root and tracefs; left out\n");
	}
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
