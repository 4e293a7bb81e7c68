/* SPDX-License-Identifier: MIT */
/*
 * The writer's stage (ring-stage.c): bytes appended but not written survive
 * a kill -9 of the writer and are written by the next one; a stage that is
 * not this ring's is reset, never written into it; LOST and PAGE go in
 * together or not at all.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ring-test.h"

#define MiB (1024u * 1024u)

static int open_staged(struct uev_ring_writer **w, const char *ring, const char *stage, char *err,
		       size_t errsize)
{
	struct uev_ring_create c = { .path = ring, .size = 1 * MiB, .seat = "seat0", .mode = 0600,
				     .gid = (gid_t)-1, .direct = rt_direct, .stage_path = stage,
				     .stage_extra = 8192 };

	return uev_ring_writer_open(w, &c, err, errsize);
}

struct shared {
	uint64_t appended; /* counter of the last page page() took */
};

/* Appends pages, flushing only now and then, until killed. */
static __attribute__((noreturn)) void child(const char *ring, const char *stage, struct shared *sh,
					    uint64_t seed, uint64_t first)
{
	struct uev_ring_writer *w;
	uint8_t b[4096];
	char err[256];
	size_t alen = 0;
	uint8_t *area;

	if (open_staged(&w, ring, stage, err, sizeof(err)) < 0) {
		fprintf(stderr, "child: %s\n", err);
		_exit(2);
	}
	rt_begin(w);
	area = uev_ring_writer_stage_area(w, &alen);
	for (uint64_t n = first;; n++) {
		size_t len = 16 + rt_rand(&seed) % 3000;
		int r;

		rt_gen(b, len, n);
		r = uev_ring_writer_page(w, (unsigned)(n % 2), b, len);
		if (r == -ENOBUFS && uev_ring_writer_flush(w) == 0)
			r = uev_ring_writer_page(w, (unsigned)(n % 2), b, len);
		if (r < 0)
			_exit(4);
		if (area && alen >= 8)
			memcpy(area, &n, 8); /* the caller's part survives too */
		__atomic_store_n(&sh->appended, n, __ATOMIC_SEQ_CST);
		if (rt_rand(&seed) % 64 == 0 && uev_ring_writer_flush(w) < 0)
			_exit(5);
	}
}

/* The file's pages are rt_gen() pages with consecutive counters (the
 * oldest may have been overwritten), the last one @have or @have + 1 (a
 * kill after the page was sealed, before page() returned); a killed
 * writer's torn tail is the only report allowed. Returns the last. */
static uint64_t check_pages(const char *path, uint64_t have, unsigned round)
{
	struct rt_read r;
	uint64_t last = 0;

	ck_assert_int_eq(rt_read(path, &r), 0);
	ck_assert_msg(r.nreports == r.st.torn, "round %u: %s", round, rt_report0(&r));
	ck_assert_uint_eq(r.st.seq_gaps, 0);
	for (size_t j = 0; j < r.n; j++) {
		uint64_t c;

		if (r.rec[j].type != UEV_RING_PAGE)
			continue;
		ck_assert_msg(rt_gen_check(r.rec[j].payload, r.rec[j].len, &c), "round %u: page seq %llu damaged",
			      round, (unsigned long long)r.rec[j].seq);
		ck_assert_msg(!last || c == last + 1, "round %u: page %llu after %llu", round,
			      (unsigned long long)c, (unsigned long long)last);
		last = c;
	}
	ck_assert_msg(last == have || last == have + 1, "round %u: last page %llu, %llu appended", round,
		      (unsigned long long)last, (unsigned long long)have);
	rt_read_free(&r);
	return last;
}

START_TEST(t_kill)
{
	const char *ring = rt_path(0, "k.ring"), *stage = rt_path(1, "k.stage");
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				 -1, 0);
	uint64_t seed = 0x57a9e + (uint64_t)time(NULL), next = 1;
	unsigned recovered_rounds = 0;

	ck_assert_ptr_ne(sh, MAP_FAILED);
	for (unsigned round = 0; round < 40; round++) {
		struct uev_ring_writer *w;
		const struct uev_ring_stage_report *rep;
		char err[256];
		size_t alen = 0;
		uint64_t have, area_n = 0;
		uint8_t *area;
		pid_t pid;

		sh->appended = 0;
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			child(ring, stage, sh, seed + round, next);
		/* Until it has appended something, then a while longer. */
		have = rt_kill_child(pid, &sh->appended, &seed);

		ck_assert_msg(open_staged(&w, ring, stage, err, sizeof(err)) == 0, "%s", err);
		rep = uev_ring_writer_stage_report(w);
		ck_assert(rep && rep->recovered);
		ck_assert_msg(!rep->discarded[0], "round %u: %s", round, rep->discarded);
		recovered_rounds += rep->records > 0;
		area = uev_ring_writer_stage_area(w, &alen);
		ck_assert_ptr_nonnull(area);
		ck_assert_uint_ge(alen, 8192);
		memcpy(&area_n, area, 8);
		ck_assert_msg(area_n == have || area_n == have + 1, "round %u: area %llu, appended %llu",
			      round, (unsigned long long)area_n, (unsigned long long)have);
		memset(area, 0, alen);
		rt_begin(w);
		ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
		ck_assert_int_eq(access(stage, F_OK), -1); /* a clean close removes it */
		next = check_pages(ring, have, round) + 1;
	}
	/* The kills did land before flushes: the stage had records to give. */
	ck_assert_uint_gt(recovered_rounds, 10);
	munmap(sh, sizeof(*sh));
}
END_TEST

/* A stage left by another ring's writer is reset and never written in. */
START_TEST(t_other_ring)
{
	const char *a = rt_path(0, "a.ring"), *b = rt_path(1, "b.ring"), *stage = rt_path(2, "x.stage");
	struct uev_ring_writer *w;
	uint8_t page[512];
	struct rt_read r;
	char err[256];
	pid_t pid;
	int st;

	pid = fork();
	if (pid == 0) {
		if (open_staged(&w, a, stage, err, sizeof(err)) < 0)
			_exit(2);
		rt_begin(w);
		rt_gen(page, sizeof(page), 7);
		_exit(uev_ring_writer_page(w, 0, page, sizeof(page)) < 0 ? 3 : 0); /* no close */
	}
	waitpid(pid, &st, 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(access(stage, F_OK), 0);

	ck_assert_msg(open_staged(&w, b, stage, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(uev_ring_writer_stage_report(w)->discarded, "it belongs to another ring file");
	ck_assert_int_eq(uev_ring_writer_stage_report(w)->recovered, 0);
	rt_begin(w);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	ck_assert_int_eq(rt_read(b, &r), 0);
	for (size_t i = 0; i < r.n; i++)
		ck_assert_int_ne(r.rec[i].type, UEV_RING_PAGE);
	rt_read_free(&r);
	/* ... and ring A never got its page: it died with A's stage. */
	ck_assert_int_eq(rt_read(a, &r), 0);
	for (size_t i = 0; i < r.n; i++)
		ck_assert_int_ne(r.rec[i].type, UEV_RING_PAGE);
	rt_read_free(&r);

	ck_assert_int_eq(symlink(a, rt_path(3, "link.stage")), 0);
	ck_assert_int_eq(open_staged(&w, b, rt_path(3, "link.stage"), err, sizeof(err)), -ELOOP);
	ck_assert_msg(strstr(err, "link.stage"), "%s", err);
}
END_TEST

/* uev_ring_writer_stage_had_page(): the killed writer's pages, exactly. */
START_TEST(t_had_page)
{
	const char *ring = rt_path(0, "h.ring"), *stage = rt_path(1, "h.stage");
	struct uev_ring_writer *w;
	uint8_t p1[700], p2[700];
	char err[256];
	pid_t pid;
	int st;

	rt_gen(p1, sizeof(p1), 11);
	rt_gen(p2, sizeof(p2), 12);
	pid = fork();
	if (pid == 0) {
		if (open_staged(&w, ring, stage, err, sizeof(err)) < 0)
			_exit(2);
		rt_begin(w);
		_exit(uev_ring_writer_page(w, 1, p1, sizeof(p1)) < 0 ? 3 : 0);
	}
	waitpid(pid, &st, 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_msg(open_staged(&w, ring, stage, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(uev_ring_writer_stage_had_page(w, 1, p1, sizeof(p1)), 1);
	ck_assert_int_eq(uev_ring_writer_stage_had_page(w, 0, p1, sizeof(p1)), 0); /* other CPU */
	ck_assert_int_eq(uev_ring_writer_stage_had_page(w, 1, p1, sizeof(p1) - 8), 0);
	ck_assert_int_eq(uev_ring_writer_stage_had_page(w, 1, p2, sizeof(p2)), 0);
	ck_assert_uint_ge(uev_ring_writer_stage_report(w)->records, 1);
	rt_begin(w);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	ck_assert_uint_eq(rt_check_pages(ring, 12), 1);
}
END_TEST

/* LOST and PAGE together: after -ENOBUFS nothing is appended, and a retry
 * leaves one LOST right before its PAGE (issue 10, defect 4). */
START_TEST(t_page_lost_enobufs)
{
	const char *ring = rt_path(0, "l.ring");
	struct uev_ring_writer *w = rt_open(ring, 1 * MiB);
	uint8_t b[4000];
	uint64_t n = 0, backlog;
	struct rt_read r;
	int rc, losts = 0;

	rt_begin(w);
	for (;;) { /* fill every buffer the writer may hold unwritten */
		rt_gen(b, sizeof(b), ++n);
		if ((rc = uev_ring_writer_page(w, 0, b, sizeof(b))) == -ENOBUFS)
			break;
		ck_assert_int_eq(rc, 0);
	}
	backlog = uev_ring_writer_backlog(w);
	ck_assert_int_eq(uev_ring_writer_page_lost(w, 0, b, sizeof(b), 1, 42), -ENOBUFS);
	ck_assert_uint_eq(uev_ring_writer_backlog(w), backlog); /* nothing went in */
	ck_assert_int_eq(uev_ring_writer_flush(w), 0);
	ck_assert_int_eq(uev_ring_writer_page_lost(w, 0, b, sizeof(b), 1, 42), 0);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	ck_assert_int_eq(rt_read(ring, &r), 0);
	for (size_t i = 0; i < r.n; i++) {
		if (r.rec[i].type != UEV_RING_LOST)
			continue;
		losts++;
		ck_assert_uint_lt(i + 1, r.n);
		ck_assert_int_eq(r.rec[i + 1].type, UEV_RING_PAGE);
		ck_assert(rt_gen_check(r.rec[i + 1].payload, r.rec[i + 1].len, &backlog) && backlog == n);
	}
	ck_assert_int_eq(losts, 1);
	rt_read_free(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ring-stage");
	TCase *tc = tcase_create("stage");

	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, rt_dir_setup, rt_dir_teardown);
	tcase_add_test(tc, t_kill);
	tcase_add_test(tc, t_other_ring);
	tcase_add_test(tc, t_had_page);
	tcase_add_test(tc, t_page_lost_enobufs);
	suite_add_tcase(s, tc);
	return rt_run(s);
}
