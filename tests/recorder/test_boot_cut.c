/* SPDX-License-Identifier: MIT */
/*
 * The cut of a boot import (boot-cut.c, uev_boot_cut) on real sub-buffers
 * of this kernel: markers of many sizes written into a fresh instance on
 * one CPU, with pauses long enough for the kernel to put time extends
 * between them, taken with uev_snapshot_take. For a "last event" at every
 * position, the pages left must hold exactly the events after it, byte for
 * byte and with the same timestamps as kbuffer reads them in the original
 * pages (a rebuilt page restamps its first event), and count what was cut.
 * A last event that matches no event cuts by time; none at all keeps
 * everything. Needs root and tracefs (else skipped, exit 77).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <kbuffer.h>
#include <tracefs.h>

#include "boot-import.h"

#define NEV 300

struct ev {
	unsigned long long ts;
	uint8_t *body;
	int size;
};

static struct tracefs_instance *inst;
static char name[64];
static struct uev_snapshot snap;
static struct ev evs[NEV * 2];
static size_t nev;

/* Every event of @s, in page order. */
static size_t walk(const struct uev_snapshot *s, struct ev *out, size_t max)
{
	struct kbuffer *kb = kbuffer_alloc(KBUFFER_LSIZE_SAME_AS_HOST, KBUFFER_ENDIAN_SAME_AS_HOST);
	size_t n = 0;

	ck_assert_ptr_nonnull(kb);
	for (size_t i = 0; i < s->npages; i++) {
		unsigned long long ts;

		ck_assert_int_eq(kbuffer_load_subbuffer(kb, s->page[i].data), 0);
		for (void *d = kbuffer_read_event(kb, &ts); d && n < max; d = kbuffer_next_event(kb, &ts)) {
			out[n].ts = ts;
			out[n].size = kbuffer_event_size(kb);
			out[n].body = malloc((size_t)out[n].size);
			memcpy(out[n].body, d, (size_t)out[n].size);
			n++;
		}
	}
	kbuffer_free(kb);
	return n;
}

static void copy_snap(struct uev_snapshot *to)
{
	memset(to, 0, sizeof(*to));
	to->npages = to->pages_cap = snap.npages;
	to->page = calloc(snap.npages, sizeof(*to->page));
	for (size_t i = 0; i < snap.npages; i++) {
		to->page[i] = snap.page[i];
		to->page[i].data = malloc(snap.page[i].size);
		memcpy(to->page[i].data, snap.page[i].data, snap.page[i].size);
	}
}

static void setup(void)
{
	struct uev_seat s = { 0 };
	cpu_set_t one;
	char path[512];
	int fd;

	snprintf(name, sizeof(name), "uevcut%d", getpid());
	inst = tracefs_instance_create(name);
	ck_assert_ptr_nonnull(inst);
	snprintf(path, sizeof(path), "%s/trace_marker_raw", tracefs_instance_get_dir(inst));
	fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	for (unsigned i = 0; i < NEV; i++) {
		uint8_t b[600];
		size_t len = 8 + (i * 37) % 500;

		memset(b, (int)i, sizeof(b));
		memcpy(b, &i, sizeof(i));
		ck_assert_int_eq(write(fd, b, len), (ssize_t)len);
		if (i % 60 == 59)
			usleep(150000); /* over 2^27 ns: a time extend follows */
	}
	close(fd);
	s.instance = inst;
	snprintf(s.instance_name, sizeof(s.instance_name), "%s", name);
	ck_assert_int_eq(uev_snapshot_take(&s, &snap), 0);
	nev = walk(&snap, evs, NEV * 2);
	ck_assert_uint_eq(nev, NEV);
	ck_assert_uint_gt(snap.npages, 3);
}

static void teardown(void)
{
	for (size_t i = 0; i < nev; i++)
		free(evs[i].body);
	uev_snapshot_free(&snap);
	tracefs_instance_destroy(inst);
	tracefs_instance_free(inst);
}

/* The events after @k (-1: all) are what is left, same bytes and times. */
static void check_left(const struct uev_snapshot *s, long k, const char *what)
{
	static struct ev left[NEV * 2];
	size_t n = walk(s, left, NEV * 2);

	ck_assert_msg(n == nev - (size_t)(k + 1), "%s %ld: %zu events left", what, k, n);
	for (size_t i = 0; i < n; i++) {
		const struct ev *o = &evs[(size_t)(k + 1) + i];

		ck_assert_msg(left[i].ts == o->ts, "%s %ld: event %zu at %llu, was %llu", what, k, i, left[i].ts,
			      o->ts);
		ck_assert_int_eq(left[i].size, o->size);
		ck_assert_mem_eq(left[i].body, o->body, (size_t)o->size);
		free(left[i].body);
	}
}

START_TEST(cut_at_every_event)
{
	for (long k = 0; k < (long)nev; k += (k % 7) ? 1 : 3) {
		struct uev_boot_last last = { (unsigned)snap.page[0].cpu, evs[k].ts, evs[k].body, (uint32_t)evs[k].size };
		struct uev_boot_prev p = { .last = &last, .nlast = 1 };
		struct uev_boot_cut_stats st;
		struct uev_snapshot s;

		copy_snap(&s);
		ck_assert_int_eq(uev_boot_cut(&s, &p, &st), 0);
		ck_assert_uint_eq(st.cpus_matched, 1);
		ck_assert_uint_eq(st.events_in, nev);
		ck_assert_uint_eq(st.events_dup, (uint64_t)k + 1);
		ck_assert_uint_eq(st.events, nev - (uint64_t)k - 1);
		check_left(&s, k, "cut after");
		uev_snapshot_free(&s);
	}
}
END_TEST

/* The copy in the other instance is stamped a little apart: still met. */
START_TEST(cut_within_window)
{
	long k = (long)nev / 2;
	struct uev_boot_last last = { (unsigned)snap.page[0].cpu, evs[k].ts + 800, evs[k].body, (uint32_t)evs[k].size };
	struct uev_boot_prev p = { .last = &last, .nlast = 1 };
	struct uev_boot_cut_stats st;
	struct uev_snapshot s;

	copy_snap(&s);
	ck_assert_int_eq(uev_boot_cut(&s, &p, &st), 0);
	ck_assert_uint_eq(st.cpus_matched, 1);
	check_left(&s, k, "near");
	uev_snapshot_free(&s);
}
END_TEST

/* No copy of the last event (other bytes): everything not later than it
 * goes; and no last event on the CPU at all keeps every page. */
START_TEST(cut_by_time_or_none)
{
	long k = (long)nev / 3;
	uint8_t other[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct uev_boot_last last = { (unsigned)snap.page[0].cpu, evs[k].ts, other, sizeof(other) };
	struct uev_boot_prev p = { .last = &last, .nlast = 1 };
	struct uev_boot_cut_stats st;
	struct uev_snapshot s;

	while (k + 1 < (long)nev && evs[k + 1].ts == evs[k].ts)
		k++;
	copy_snap(&s);
	ck_assert_int_eq(uev_boot_cut(&s, &p, &st), 0);
	ck_assert_uint_eq(st.cpus_matched, 0);
	check_left(&s, k, "by time");
	uev_snapshot_free(&s);

	last.cpu = (unsigned)snap.page[0].cpu + 1;
	copy_snap(&s);
	ck_assert_int_eq(uev_boot_cut(&s, &p, &st), 0);
	ck_assert_uint_eq(st.events_dup, 0);
	ck_assert_uint_eq(s.npages, snap.npages);
	check_left(&s, -1, "other CPU");
	uev_snapshot_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("boot-cut");
	TCase *tc = tcase_create("cut");
	SRunner *sr;
	int failed;

	if (geteuid() != 0 || !tracefs_tracing_dir()) {
		fprintf(stderr, "test-boot-cut: needs root and tracefs\n");
		return 77;
	}
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, cut_at_every_event);
	tcase_add_test(tc, cut_within_window);
	tcase_add_test(tc, cut_by_time_or_none);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
