/* SPDX-License-Identifier: MIT */
/*
 * The cut of a boot import (boot-cut.c, uev_boot_cut) on real sub-buffers
 * of this kernel: markers of many sizes written into a fresh instance on
 * one CPU, with pauses long enough for the kernel to put time extends
 * between them, taken with uev_snapshot_take. With the file holding every
 * prefix of them, the pages left must hold exactly the rest, byte for byte
 * and with the same timestamps as kbuffer reads them in the original pages,
 * and count what was left out.
 * The same with holes anywhere (kept events re-expressed over gaps that
 * need time extends), copies stamped a little apart, the two clocks 20 ms
 * apart (measured from the copies), and written events that must not
 * match: twice the window off where the others are not, or of another CPU. Needs root and tracefs (else skipped, exit 77).
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
	char path[512], *dir;
	int fd;

	snprintf(name, sizeof(name), "uevcut%d", getpid());
	inst = tracefs_instance_create(name);
	ck_assert_ptr_nonnull(inst);
	dir = tracefs_instance_get_dir(inst);
	snprintf(path, sizeof(path), "%s/trace_marker_raw", dir);
	tracefs_put_tracing_file(dir);
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

/* What is left must be exactly the events @want marks, same bytes and
 * times as kbuffer reads them in the original pages. */
static void check_left(const struct uev_snapshot *s, const uint8_t *want, const char *what)
{
	static struct ev left[NEV * 2];
	size_t n = walk(s, left, NEV * 2), o = 0;

	for (size_t i = 0; i < n; i++, o++) {
		while (o < nev && !want[o])
			o++;
		ck_assert_msg(o < nev, "%s: %zu events left, more than kept", what, n);
		ck_assert_msg(left[i].ts == evs[o].ts, "%s: event %zu (was %zu) at %llu, was %llu", what, i, o,
			      left[i].ts, evs[o].ts);
		ck_assert_int_eq(left[i].size, evs[o].size);
		ck_assert_mem_eq(left[i].body, evs[o].body, (size_t)evs[o].size);
		free(left[i].body);
	}
	while (o < nev && !want[o])
		o++;
	ck_assert_msg(o == nev, "%s: %zu events left, fewer than kept", what, n);
}

/* The file "holds" the events @written marks, stamped @shift ns apart from
 * the instance's copies: those go, the rest stays. */
static void cut_case(const uint8_t *written, int64_t shift, const char *what)
{
	struct uev_boot_prev p = { .mark_type = -1 };
	struct uev_boot_cut_stats st;
	struct uev_snapshot s;
	uint8_t want[NEV * 2];
	uint64_t dup = 0;

	for (size_t i = 0; i < nev; i++) {
		want[i] = !written[i];
		dup += written[i];
		if (written[i])
			ck_assert_int_eq(uev_boot_seen_add(&p, (unsigned)snap.page[0].cpu,
							   (uint64_t)((int64_t)evs[i].ts + shift), evs[i].body,
							   (uint32_t)evs[i].size), 0);
	}
	copy_snap(&s);
	ck_assert_int_eq(uev_boot_cut(&s, &p, &st), 0);
	ck_assert_uint_eq(st.events_in, nev);
	ck_assert_msg(st.events_dup == dup, "%s: %llu left out, want %llu", what, (unsigned long long)st.events_dup,
		      (unsigned long long)dup);
	ck_assert_uint_eq(st.events, nev - dup);
	ck_assert_uint_eq(st.cpus_dup, dup ? 1 : 0);
	check_left(&s, want, what);
	uev_snapshot_free(&s);
	uev_boot_prev_free(&p);
}

/* The file holds everything up to event k: the end is left, for every k
 * (a rebuilt page restamps its first event). */
START_TEST(cut_prefix)
{
	uint8_t w[NEV * 2];

	for (size_t k = 0; k <= nev; k += (k % 7) ? 1 : 3) {
		for (size_t i = 0; i < nev; i++)
			w[i] = i < k;
		cut_case(w, 0, "prefix");
	}
}
END_TEST

/* Holes: every third event written, and a run across a 150 ms pause, so
 * kept events are re-expressed over gaps that need a time extend; the
 * file's copies stamped 800 ns off still match; a whole 20 ms offset
 * between the clocks is measured from the copies and taken out. */
START_TEST(cut_holes)
{
	uint8_t w[NEV * 2];

	for (size_t i = 0; i < nev; i++)
		w[i] = i % 3 == 1 || (i >= 50 && i < 70);
	cut_case(w, 0, "holes");
	cut_case(w, 800, "holes, 800 ns apart");
	cut_case(w, -800, "holes, -800 ns apart");
	cut_case(w, 20000000, "holes, the clocks 20 ms apart");
	cut_case(w, -20000000, "holes, the clocks -20 ms apart");
}
END_TEST

/* A written event twice the window away from where its copy is, when the
 * others are where theirs are, is another event with the same bytes: not
 * a copy. */
START_TEST(cut_not_copies)
{
	struct uev_boot_prev p = { .mark_type = -1 };
	struct uev_boot_cut_stats st;
	struct uev_snapshot s;
	uint8_t want[NEV * 2];
	uint64_t dup = 0;

	for (size_t i = 0; i < nev; i++) {
		uint64_t off = i % 10 == 5 ? 2 * UEV_BOOT_WINDOW_NS : 0;

		want[i] = off != 0;
		dup += off == 0;
		ck_assert_int_eq(uev_boot_seen_add(&p, (unsigned)snap.page[0].cpu, evs[i].ts + off, evs[i].body,
						   (uint32_t)evs[i].size), 0);
	}
	copy_snap(&s);
	ck_assert_int_eq(uev_boot_cut(&s, &p, &st), 0);
	ck_assert_uint_eq(st.events_dup, dup);
	ck_assert_int_eq(st.clock_offset_ns, 0);
	check_left(&s, want, "twice the window apart");
	uev_snapshot_free(&s);
	uev_boot_prev_free(&p);
}
END_TEST

/* Another CPU's written events never account for this CPU's. */
START_TEST(cut_other_cpu)
{
	struct uev_boot_prev p = { .mark_type = -1 };
	struct uev_boot_cut_stats st;
	struct uev_snapshot s;
	uint8_t all[NEV * 2];

	for (size_t i = 0; i < nev; i++)
		ck_assert_int_eq(uev_boot_seen_add(&p, (unsigned)snap.page[0].cpu + 1, evs[i].ts, evs[i].body,
						   (uint32_t)evs[i].size), 0);
	copy_snap(&s);
	ck_assert_int_eq(uev_boot_cut(&s, &p, &st), 0);
	ck_assert_uint_eq(st.events_dup, 0);
	ck_assert_uint_eq(s.npages, snap.npages);
	memset(all, 1, sizeof(all));
	check_left(&s, all, "other CPU");
	uev_snapshot_free(&s);
	uev_boot_prev_free(&p);
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
	tcase_add_test(tc, cut_prefix);
	tcase_add_test(tc, cut_holes);
	tcase_add_test(tc, cut_not_copies);
	tcase_add_test(tc, cut_other_cpu);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
