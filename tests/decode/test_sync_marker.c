/* SPDX-License-Identifier: MIT */
/*
 * The sync marker round trip of aggregator/decode/clock-sync.c on this machine's
 * kernel. With the trace clock set to a userspace clock (boot, mono) the
 * pair the marker gives must agree with that clock read directly: that
 * proves the marker's timestamp is taken inside the bracket its samples
 * claim. For the kernel clocks (local, global, perf) the pair's wall time
 * must lie inside the test's own bracket around the write. And only the
 * aggregator's own marker counts: the same bytes written by another
 * process, a tampered payload and a second look at a matched marker give
 * no sync point.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <kbuffer.h>
#include <tracefs.h>

#include "uev-decode.h"
#include "ktest.h"
#include "uev-abi.h"

#define RAW_BUF_OFF 12 /* ftrace raw_data: id @8, buf @12 */

static uint64_t now(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One read of CPU 0's ring: the page, its length. */
static size_t read_page(struct tracefs_instance *inst, uint8_t *page, size_t subbuf)
{
	char *file = tracefs_instance_get_file(inst, "per_cpu/cpu0/trace_pipe_raw");
	int fd = open(file, O_RDONLY | O_NONBLOCK);
	ssize_t got;

	ck_assert_msg(fd >= 0, "%s: %s", file, strerror(errno));
	got = read(fd, page, subbuf);
	ck_assert_msg(got > 0, "%s: %zd (%s)", file, got, strerror(errno));
	close(fd);
	tracefs_put_tracing_file(file);
	return (size_t)got;
}

/* The last UEVS marker of @page (NULL if none), its kbuffer timestamp
 * and its common_pid. The last: uev_sync_marker_write() writes again when
 * a write took longer than UEV_SYNC_MAX_SPREAD_NS (a loaded machine), and
 * only its last marker is one it will pair. */
static const uint8_t *find_sync(const uint8_t *page, size_t len, uint32_t *size, uint64_t *ts,
				int32_t *pid)
{
	struct kbuffer *kb = kbuffer_alloc(KBUFFER_LSIZE_SAME_AS_HOST, KBUFFER_ENDIAN_SAME_AS_HOST);
	unsigned long long t;
	const uint8_t *hit = NULL;
	void *d;
	uint32_t id;

	ck_assert_int_eq(kbuffer_load_subbuffer(kb, (void *)page), 0);
	for (d = kbuffer_read_event(kb, &t); d; d = kbuffer_next_event(kb, &t)) {
		if (kbuffer_event_size(kb) < RAW_BUF_OFF + 4)
			continue;
		memcpy(&id, (uint8_t *)d + RAW_BUF_OFF - 4, 4);
		if (id != UEV_MARKER_SYNC)
			continue;
		hit = d;
		*size = (uint32_t)kbuffer_event_size(kb);
		*ts = t;
		memcpy(pid, (uint8_t *)d + 4, 4);
	}
	kbuffer_free(kb);
	ck_assert_msg(hit && (size_t)(hit - page) < len, "no sync marker in the page");
	return hit;
}

static int write_sync(int fd)
{
	int r;

	for (int i = 0; i < 20; i++)
		if ((r = uev_sync_marker_write(fd)) != -EAGAIN)
			return r;
	return r;
}

/* The same bytes written by another process are not believed. */
static void forged_copy_refused(struct tracefs_instance *inst, int fd, const uint8_t *ev, uint32_t size)
{
	uint8_t copy[128], other[4096];
	struct uev_ring_sync sy;
	const uint8_t *oev;
	uint64_t ots;
	uint32_t osize;
	int32_t opid;
	size_t len;
	pid_t child;
	int st;

	memcpy(copy, ev + RAW_BUF_OFF - 4, size - (RAW_BUF_OFF - 4));
	child = fork();
	if (child == 0)
		_exit(write(fd, copy, 4 + 40) == 44 ? 0 : 1);
	ck_assert_int_eq(waitpid(child, &st, 0), child);
	ck_assert_int_eq(st, 0);
	len = read_page(inst, other, sizeof(other));
	oev = find_sync(other, len, &osize, &ots, &opid);
	ck_assert_int_eq(opid, child);
	ck_assert_int_eq(uev_sync_marker_match(other, len, oev, osize, RAW_BUF_OFF, opid, &sy), 0);
}

/* A tampered payload (its "before" realtime sample) is not believed. */
static void tampered_refused(const uint8_t *page, size_t len, const uint8_t *ev, uint32_t size, int32_t pid)
{
	uint8_t bad[4096];
	struct uev_ring_sync sy;
	size_t at = (size_t)(ev - page) + RAW_BUF_OFF + 16;
	uint64_t v;

	memcpy(bad, page, sizeof(bad));
	memcpy(&v, bad + at, 8);
	v += 1;
	memcpy(bad + at, &v, 8);
	ck_assert_int_eq(uev_sync_marker_match(bad, len, bad + (ev - page), size, RAW_BUF_OFF, pid, &sy), 0);
}

static const char *const clocks[] = { "boot", "mono", "local", "global", "perf" };

START_TEST(pairs_the_marker_timestamp)
{
	const char *clock = clocks[_i];
	struct uev_seat s;
	struct uev_ring_sync sy;
	char run_dir[256], *dir, *offered;
	uint8_t page[4096], filler[16] = { 0x34, 0x12 };
	const uint8_t *ev;
	uint64_t ts, t0, t1;
	uint32_t size;
	int32_t pid;
	cpu_set_t one;
	size_t len;
	int fd;

	ktest_seat_new(&s, run_dir, sizeof(run_dir), 0);
	offered = tracefs_instance_file_read(s.instance, "trace_clock", NULL);
	if (!offered || !strstr(offered, clock)) {
		free(offered);
		uev_seat_close(&s, true);
		return; /* not on this kernel */
	}
	free(offered);
	ck_assert_int_eq(uev_seat_set_clock(&s, clock), 0);
	ck_assert_int_eq(tracefs_instance_file_write(s.instance, "buffer_subbuf_size_kb", "4") > 0, 1);
	ck_assert_int_eq(tracefs_instance_file_write(s.instance, "tracing_on", "1") > 0, 1);
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	dir = tracefs_instance_get_dir(s.instance);
	fd = uev_sync_marker_open(dir);
	tracefs_put_tracing_file(dir);
	ck_assert_int_ge(fd, 0);
	/* Something before it, and a pause the event header's delta cannot
	 * hold, so the marker's time comes through a time extend. */
	ck_assert_int_eq(write(fd, filler, sizeof(filler)), (ssize_t)sizeof(filler));
	usleep(150000);
	t0 = now(CLOCK_REALTIME);
	ck_assert_int_eq(write_sync(fd), 0);
	t1 = now(CLOCK_REALTIME);
	len = read_page(s.instance, page, sizeof(page));
	ev = find_sync(page, len, &size, &ts, &pid);
	ck_assert_int_eq(pid, getpid());

	forged_copy_refused(s.instance, fd, ev, size);
	tampered_refused(page, len, ev, size, pid);

	ck_assert_int_eq(uev_sync_marker_match(page, len, ev, size, RAW_BUF_OFF, pid, &sy), 1);
	ck_assert_uint_eq(sy.trace_ns, ts);
	ck_assert_msg(sy.realtime_ns >= t0 && sy.realtime_ns <= t1, "clock %s: realtime %llu outside [%llu, %llu]",
		      clock, (unsigned long long)sy.realtime_ns, (unsigned long long)t0, (unsigned long long)t1);
	/* Where the trace clock is a userspace clock, the marker's pair must
	 * agree with it: within the write's spread and the 2-3 us the kernel
	 * stamps late (KERNEL-FACTS: ~+2.3 us). */
	if (!strcmp(clock, "boot") || !strcmp(clock, "mono")) {
		uint64_t same = !strcmp(clock, "boot") ? sy.boottime_ns : sy.monotonic_ns;
		long long d = (long long)(sy.trace_ns - same);

		fprintf(stderr, "clock %s: marker timestamp - midpoint of the samples: %lld ns\n", clock, d);
		ck_assert_msg(d > -(long long)UEV_SYNC_MAX_SPREAD_NS && d < (long long)UEV_SYNC_MAX_SPREAD_NS,
			      "clock %s: the marker's timestamp is %lld ns off the clock", clock, d);
	}
	/* One sync point per marker. */
	ck_assert_int_eq(uev_sync_marker_match(page, len, ev, size, RAW_BUF_OFF, pid, &sy), 0);
	close(fd);
	uev_seat_close(&s, true);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("sync_marker");
	TCase *tc = tcase_create("kernel");

	ktest_require_root_tracefs();
	tcase_add_loop_test(tc, pairs_the_marker_timestamp, 0, (int)(sizeof clocks / sizeof *clocks));
	tcase_set_timeout(tc, 30);
	suite_add_tcase(su, tc);
	return ktest_run(su);
}
