/* SPDX-License-Identifier: MIT */
/*
 * The writer's open units (ring-pending.c): with compression on, pages
 * given one by one come back from the file in order, each CPU's packed
 * into UNIT records; a LOST stays between the pages it separates; a CPU
 * with no free area writes PAGE records; and a kill -9 at any instant
 * loses no page and records none twice, also when the next writer turns
 * compression off.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
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

/* A compressible page: an 8-byte counter, then text that names it. */
static void gen(uint8_t *p, size_t len, uint64_t n)
{
	char line[64];
	size_t k = (size_t)snprintf(line, sizeof(line), "page %llu of cpu %llu; ", (unsigned long long)n,
				    (unsigned long long)(n % 2));

	memcpy(p, &n, 8);
	for (size_t i = 8; i < len; i++)
		p[i] = (uint8_t)line[(i - 8) % k];
}

static int gen_check(const uint8_t *p, size_t len, uint64_t *n)
{
	uint8_t want[4096];

	if (len < 8 || len > sizeof(want))
		return 0;
	memcpy(n, p, 8);
	gen(want, len, *n);
	return !memcmp(p, want, len);
}

static int open_units(struct uev_ring_writer **w, const char *ring, const char *stage, int level,
		      unsigned cpus, char *err, size_t errsize)
{
	struct uev_ring_create c = { .path = ring, .size = 2 * MiB, .seat = "seat0", .mode = 0600,
				     .gid = (gid_t)-1, .direct = rt_direct, .stage_path = stage,
				     .compression = level, .unit_size = 16384, .unit_cpus = cpus };

	return uev_ring_writer_open(w, &c, err, errsize);
}

static size_t page_len(uint64_t n)
{
	return 16 + (size_t)(n * 2654435761u % 3000);
}

/* Pages n..n+count of CPUs n % 2 (3 with @third: every fifth page of CPU
 * 2), with @lost_every a LOST before every such page (0: none). */
static void put_pages(struct uev_ring_writer *w, uint64_t n, uint64_t count, unsigned lost_every)
{
	uint8_t b[4096];

	for (uint64_t i = n; i < n + count; i++) {
		size_t len = page_len(i);

		gen(b, len, i);
		if (lost_every && i % lost_every == 0) {
			int r = uev_ring_writer_page_lost(w, (unsigned)(i % 2), b, len, 1, i);

			if (r == -ENOBUFS && uev_ring_writer_flush(w) == 0)
				r = uev_ring_writer_page_lost(w, (unsigned)(i % 2), b, len, 1, i);
			ck_assert_int_eq(r, 0);
		} else {
			ck_assert_int_eq(rt_page(w, (unsigned)(i % 2), b, len), 0);
		}
	}
}

START_TEST(t_pages_become_units)
{
	const char *ring = rt_path(0, "u.ring");
	struct uev_ring_writer *w;
	struct uev_ring_run_start_rec rs;
	struct rt_read r;
	char err[256];
	uint64_t last[2] = { 0, 0 }, units = 0, pages = 0, c;
	int lost_before[2] = { 0, 0 };

	ck_assert_msg(open_units(&w, ring, NULL, 3, 2, err, sizeof(err)) == 0, "%s", err);
	rt_begin(w);
	put_pages(w, 1, 600, 37);
	ck_assert_int_eq(uev_ring_writer_seal(w), 0); /* a flush interval ends */
	put_pages(w, 601, 11, 0);                     /* left open: close seals them */
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);

	ck_assert_int_eq(rt_read(ring, &r), 0);
	ck_assert_msg(r.nreports == 0, "%s", rt_report0(&r));
	for (size_t i = 0; i < r.n; i++) {
		const struct rt_rec *x = &r.rec[i];
		struct uev_ring_rec rec = { .type = x->type, .len = x->len, .payload = x->payload };

		if (x->type == UEV_RING_RUN_START) {
			ck_assert_int_eq(uev_ring_rec_run_start(&rec, &rs), 0);
			ck_assert_uint_eq(rs.info.compression, 3);
		}
		if (x->type == UEV_RING_LOST) {
			ck_assert_uint_lt(x->cpu, 2);
			lost_before[x->cpu] = 1;
			continue;
		}
		if (x->type != UEV_RING_PAGE)
			continue;
		ck_assert_msg(gen_check(x->payload, x->len, &c), "page at seq %llu.%u damaged",
			      (unsigned long long)x->seq, x->sub);
		ck_assert_uint_eq(x->len, page_len(c));
		ck_assert_uint_eq(x->cpu, c % 2);
		/* every page of its CPU, in order; a LOST right before its page */
		ck_assert_msg(c == (last[c % 2] ? last[c % 2] + 2 : c), "cpu %u: page %llu after %llu",
			      (unsigned)(c % 2), (unsigned long long)c, (unsigned long long)last[c % 2]);
		ck_assert_msg(lost_before[c % 2] == (c % 37 == 0), "page %llu: LOST before it %d",
			      (unsigned long long)c, lost_before[c % 2]);
		lost_before[c % 2] = 0;
		last[c % 2] = c;
		pages++;
		units += x->unit_pages > 0;
	}
	ck_assert_uint_eq(pages, 611);
	ck_assert_uint_eq(last[0] + last[1], 611 + 610);
	ck_assert_uint_eq(units, pages); /* every page went into a unit */
	ck_assert_uint_gt(r.st.units, 611 * 1000 / 16384); /* at most 16 KiB of pages each */
	ck_assert_uint_lt(r.st.unit_bytes * 3, r.st.unit_page_bytes); /* and they shrank */
	rt_read_free(&r);
}
END_TEST

/* One area, two CPUs: the second writes PAGE records while the first
 * holds it, and order holds on both. A bad level is refused at open. */
START_TEST(t_no_free_area)
{
	const char *ring = rt_path(0, "n.ring");
	struct uev_ring_writer *w;
	struct rt_read r;
	char err[256];
	uint64_t last[2] = { 0, 0 }, c, plain = 0;

	ck_assert_int_eq(open_units(&w, ring, NULL, 99, 1, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "compression level 99"), "%s", err);
	ck_assert_msg(open_units(&w, ring, NULL, 1, 1, err, sizeof(err)) == 0, "%s", err);
	rt_begin(w);
	put_pages(w, 1, 300, 0);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	ck_assert_int_eq(rt_read(ring, &r), 0);
	ck_assert_msg(r.nreports == 0, "%s", rt_report0(&r));
	for (size_t i = 0; i < r.n; i++) {
		if (r.rec[i].type != UEV_RING_PAGE)
			continue;
		ck_assert(gen_check(r.rec[i].payload, r.rec[i].len, &c));
		ck_assert(!last[c % 2] || c == last[c % 2] + 2);
		last[c % 2] = c;
		plain += !r.rec[i].unit_pages;
	}
	ck_assert_uint_eq(last[0] + last[1], 300 + 299);
	ck_assert_uint_gt(plain, 0);
	ck_assert_uint_gt(r.st.units, 0);
	rt_read_free(&r);
}
END_TEST

/* A flipped byte in a unit, in a run's one and only segment: that
 * unit's pages are lost, reading goes on after it (the next unit names
 * the run), and nothing else is. */
START_TEST(t_flip_costs_one_unit)
{
	const char *ring = rt_path(0, "f.ring");
	struct uev_ring_writer *w;
	struct rt_read r;
	char err[256];
	uint64_t off = 0, lost_pages = 0, pages = 0, c;
	size_t n;
	int fd;

	ck_assert_msg(open_units(&w, ring, NULL, 1, 2, err, sizeof(err)) == 0, "%s", err);
	rt_begin(w);
	put_pages(w, 1, 60, 0);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	ck_assert_int_eq(rt_read(ring, &r), 0);
	n = r.n;
	for (size_t i = 0, units = 0; i < r.n && !off; i++)
		if (r.rec[i].unit_pages && r.rec[i].sub == 0 && ++units == 3) {
			off = r.rec[i].offset;
			lost_pages = r.rec[i].unit_pages;
		}
	ck_assert_uint_gt(off, 0);
	ck_assert_uint_eq(r.rec[r.n - 1].segment_seq, r.rec[0].segment_seq);
	rt_read_free(&r);
	fd = open(ring, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "\xff\xff", 2, (off_t)(off + 24 + 40)), 2);
	close(fd);
	ck_assert_int_eq(rt_read(ring, &r), 0);
	ck_assert_msg(r.nreports == 1 && strstr(r.report[0], "1 record lost, reading goes on"), "%s",
		      rt_report0(&r));
	ck_assert_uint_eq(r.n, n - lost_pages);
	for (size_t i = 0; i < r.n; i++)
		if (r.rec[i].type == UEV_RING_PAGE) {
			ck_assert(gen_check(r.rec[i].payload, r.rec[i].len, &c));
			pages++;
		}
	ck_assert_uint_eq(pages, 60 - lost_pages);
	ck_assert_int_eq(r.rec[r.n - 1].type, UEV_RING_RUN_END);
	rt_read_free(&r);
}
END_TEST

/* A SYNC seals the open units first: every page taken before it comes
 * before it in the file, every page taken after it after. */
START_TEST(t_sync_seals_first)
{
	const char *ring = rt_path(0, "s.ring");
	struct uev_ring_writer *w;
	struct uev_ring_sync sy = { 1, 2, 3, 4 };
	struct rt_read r;
	char err[256];
	uint64_t c;
	int after_sync = 0, syncs = 0;

	ck_assert_msg(open_units(&w, ring, NULL, 1, 2, err, sizeof(err)) == 0, "%s", err);
	rt_begin(w);
	put_pages(w, 1, 7, 0);   /* both CPUs have a unit open */
	ck_assert_int_eq(uev_ring_writer_sync(w, &sy), 0);
	put_pages(w, 8, 5, 0);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	ck_assert_int_eq(rt_read(ring, &r), 0);
	for (size_t i = 0; i < r.n; i++) {
		if (r.rec[i].type == UEV_RING_SYNC) { /* no checkpoint after it: one segment */
			syncs++;
			after_sync = 1;
		}
		if (r.rec[i].type != UEV_RING_PAGE)
			continue;
		ck_assert(gen_check(r.rec[i].payload, r.rec[i].len, &c));
		ck_assert_msg(after_sync == (c >= 8), "page %llu on the wrong side of the SYNC", (unsigned long long)c);
	}
	ck_assert_int_eq(syncs, 1);
	rt_read_free(&r);
}
END_TEST

struct shared {
	uint64_t appended; /* counter of the last page page() took */
};

/* Appends pages, sealing and flushing now and then, until killed. */
static __attribute__((noreturn)) void child(const char *ring, const char *stage, struct shared *sh,
					    uint64_t seed, uint64_t first)
{
	struct uev_ring_writer *w;
	uint8_t b[4096];
	char err[256];

	if (open_units(&w, ring, stage, 1, 2, err, sizeof(err)) < 0) {
		fprintf(stderr, "child: %s\n", err);
		_exit(2);
	}
	rt_begin(w);
	for (uint64_t n = first;; n++) {
		size_t len = page_len(n);
		int r;

		gen(b, len, n);
		r = uev_ring_writer_page_lost(w, (unsigned)(n % 2), b, len, n % 53 == 0, n);
		if (r == -ENOBUFS && uev_ring_writer_flush(w) == 0)
			r = uev_ring_writer_page_lost(w, (unsigned)(n % 2), b, len, n % 53 == 0, n);
		if (r < 0)
			_exit(4);
		__atomic_store_n(&sh->appended, n, __ATOMIC_SEQ_CST);
		if (rt_rand(&seed) % 64 == 0 && (r = uev_ring_writer_seal(w)) < 0 && r != -ENOBUFS)
			_exit(5);
		if (rt_rand(&seed) % 64 == 0 && uev_ring_writer_flush(w) < 0)
			_exit(6);
	}
}

/* Every page from the oldest each CPU still has up to the last one taken
 * (@have, or @have + 1: a kill after the page went in, before the counter
 * did), each once, in order per CPU. Returns the highest. */
static uint64_t check_file(const char *path, uint64_t have, unsigned round)
{
	struct rt_read r;
	uint64_t last[2] = { 0, 0 }, c;

	ck_assert_int_eq(rt_read(path, &r), 0);
	ck_assert_msg(r.nreports == r.st.torn, "round %u: %s", round, rt_report0(&r));
	ck_assert_uint_eq(r.st.units_bad, 0);
	for (size_t j = 0; j < r.n; j++) {
		if (r.rec[j].type != UEV_RING_PAGE)
			continue;
		ck_assert_msg(gen_check(r.rec[j].payload, r.rec[j].len, &c), "round %u: page damaged", round);
		ck_assert_msg(!last[c % 2] || c == last[c % 2] + 2, "round %u: cpu %u: page %llu after %llu",
			      round, (unsigned)(c % 2), (unsigned long long)c, (unsigned long long)last[c % 2]);
		last[c % 2] = c;
	}
	for (unsigned k = 0; k < 2; k++)
		ck_assert_msg(last[k] + 2 > have && last[k] <= have + 1,
			      "round %u: cpu %u ends at page %llu, %llu taken", round, k,
			      (unsigned long long)last[k], (unsigned long long)have);
	rt_read_free(&r);
	return last[0] > last[1] ? last[0] : last[1];
}

/*
 * kill -9 at random instants. After half of the kills the next child
 * recovers the stage itself (units left open become its own); after the
 * others a writer with compression off recovers it (areas kept as they
 * are, sealed at its close).
 */
START_TEST(t_kill_units)
{
	const char *ring = rt_path(0, "k.ring"), *stage = rt_path(1, "k.stage");
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				 -1, 0);
	uint64_t seed = 0x5eed + (uint64_t)time(NULL), next = 1, have = 0;
	unsigned open_rounds = 0;

	ck_assert_ptr_ne(sh, MAP_FAILED);
	for (unsigned round = 0; round < 40; round++) {
		struct uev_ring_writer *w;
		const struct uev_ring_stage_report *rep;
		char err[256];
		pid_t pid;

		sh->appended = 0;
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			child(ring, stage, sh, seed + round, next);
		/* Until it has appended something, then a while longer. */
		have = rt_kill_child(pid, &sh->appended, &seed);
		if (round % 2 == 0) {
			/* Whether page have + 1 went in before the kill, as the
			 * stage says; a writer that never runs leaves the stage
			 * as it found it, and the next child recovers it again. */
			uint8_t b[4096];

			ck_assert_msg(open_units(&w, ring, stage, 1, 2, err, sizeof(err)) == 0, "%s", err);
			gen(b, page_len(have + 1), have + 1);
			next = have + 1 + (uint64_t)uev_ring_writer_stage_had_page(w, (unsigned)((have + 1) % 2), b,
										     page_len(have + 1));
			ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
			ck_assert_int_eq(access(stage, F_OK), 0);
			continue;
		}
		ck_assert_msg(open_units(&w, ring, stage, 0, 2, err, sizeof(err)) == 0, "%s", err);
		rep = uev_ring_writer_stage_report(w);
		ck_assert(rep && rep->recovered);
		ck_assert_msg(!rep->discarded[0], "round %u: %s", round, rep->discarded);
		open_rounds += rep->units > 0;
		rt_begin(w);
		ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
		ck_assert_int_eq(access(stage, F_OK), -1);
		next = check_file(ring, have, round) + 1;
	}
	/* The kills did land while units were open. */
	ck_assert_uint_gt(open_rounds, 5);
	munmap(sh, sizeof(*sh));
}
END_TEST

/* had_page() knows the pages of a unit left open, and the adopting
 * writer's stage_pages() hands them out in order. */
static int collect(void *ctx, unsigned cpu, const void *page, size_t len)
{
	uint64_t *seen = ctx, c;

	ck_assert(gen_check(page, len, &c));
	ck_assert_uint_eq(cpu, c % 2);
	ck_assert_uint_eq(c, seen[0] + 2); /* CPU 1's pages, oldest first */
	seen[0] = c;
	return 0;
}

START_TEST(t_had_page_in_open_unit)
{
	const char *ring = rt_path(0, "h.ring"), *stage = rt_path(1, "h.stage");
	struct uev_ring_writer *w;
	uint8_t b[4096];
	uint64_t seen[1] = { 0 };
	char err[256];
	pid_t pid;
	int st;

	pid = fork();
	if (pid == 0) {
		if (open_units(&w, ring, stage, 1, 2, err, sizeof(err)) < 0)
			_exit(2);
		rt_begin(w);
		for (uint64_t n = 1; n <= 5; n += 2) { /* CPU 1 only */
			gen(b, page_len(n), n);
			if (uev_ring_writer_page(w, 1, b, page_len(n)) < 0)
				_exit(3);
		}
		_exit(0); /* as a kill: nothing sealed, nothing written */
	}
	waitpid(pid, &st, 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_msg(open_units(&w, ring, stage, 1, 2, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(uev_ring_writer_stage_report(w)->units, 1);
	ck_assert_uint_eq(uev_ring_writer_stage_report(w)->unit_pages, 3);
	gen(b, page_len(3), 3);
	ck_assert_int_eq(uev_ring_writer_stage_had_page(w, 1, b, page_len(3)), 1);
	ck_assert_int_eq(uev_ring_writer_stage_had_page(w, 0, b, page_len(3)), 0);
	gen(b, page_len(7), 7);
	ck_assert_int_eq(uev_ring_writer_stage_had_page(w, 1, b, page_len(7)), 0);
	seen[0] = (uint64_t)-1;
	ck_assert_int_eq(uev_ring_writer_stage_pages(w, collect, seen), 0);
	ck_assert_uint_eq(seen[0], 5);
	rt_begin(w);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	{ /* in the file once, in one unit */
		struct rt_read r;
		uint64_t c, n = 0;

		ck_assert_int_eq(rt_read(ring, &r), 0);
		ck_assert_msg(r.nreports == 0, "%s", rt_report0(&r));
		for (size_t i = 0; i < r.n; i++)
			if (r.rec[i].type == UEV_RING_PAGE) {
				ck_assert(gen_check(r.rec[i].payload, r.rec[i].len, &c));
				ck_assert_uint_eq(c, 2 * n++ + 1);
				ck_assert_uint_eq(r.rec[i].unit_pages, 3);
			}
		ck_assert_uint_eq(n, 3);
		rt_read_free(&r);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ring-pending");
	TCase *tc = tcase_create("pending");

	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, rt_dir_setup, rt_dir_teardown);
	tcase_add_test(tc, t_pages_become_units);
	tcase_add_test(tc, t_no_free_area);
	tcase_add_test(tc, t_flip_costs_one_unit);
	tcase_add_test(tc, t_sync_seals_first);
	tcase_add_test(tc, t_kill_units);
	tcase_add_test(tc, t_had_page_in_open_unit);
	suite_add_tcase(s, tc);
	return rt_run(s);
}
