/* SPDX-License-Identifier: MIT */
/* Ring file writer killed at random moments while appending and flushing:
 * every page whose flush returned is read back, pages in order, and what a
 * kill tore is reported only as the torn end of its run, never returned;
 * a clean run after all those reads back the same way. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ring-test.h"

#define MiB (1024ull * 1024)

struct shared {
	uint64_t appended; /* counter of the last page handed to page() */
	uint64_t flushed;  /* counter of the last page a returned flush() covered */
};

static __attribute__((noreturn)) void crash_child(const char *path, struct shared *sh, uint64_t seed)
{
	struct uev_ring_create c = { .path = path, .size = 1 * MiB, .seat = "seat0", .mode = 0600, .gid = (gid_t)-1, .recreate = 0, .direct = rt_direct };
	struct uev_ring_run_info ri;
	struct uev_ring_writer *w;
	uint8_t b[4096];
	char err[256];

	if (uev_ring_writer_open(&w, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "child: %s\n", err);
		_exit(2);
	}
	rt_run_info(&ri);
	if (uev_ring_writer_begin_run(w, &ri) < 0 ||
	    uev_ring_writer_format(w, 2, 1, "s", "e", "format text") < 0)
		_exit(3);
	for (;;) {
		uint64_t n = __atomic_add_fetch(&sh->appended, 1, __ATOMIC_SEQ_CST);
		size_t len = 16 + rt_rand(&seed) % 4000;
		int r;

		rt_gen(b, len, n);
		r = uev_ring_writer_page(w, (unsigned)(n % 2), b, len);
		if (r == -ENOBUFS && uev_ring_writer_flush(w) == 0)
			r = uev_ring_writer_page(w, (unsigned)(n % 2), b, len);
		if (r < 0)
			_exit(4);
		if (n % 3 == 0) {
			if (uev_ring_writer_flush(w) < 0)
				_exit(5);
			__atomic_store_n(&sh->flushed, n, __ATOMIC_SEQ_CST);
		}
	}
}

/* Every record valid and in order; pages intact, contiguous within a run,
 * and the last flushed one there. Returns the number of torn tails. */
static uint64_t check_after_crash(const char *path, uint64_t flushed, unsigned round)
{
	struct rt_read r;
	uint64_t prev_c = 0, prev_run = 0, torn;
	int found = flushed == 0;

	ck_assert_msg(rt_read(path, &r) == 0, "round %u: %s", round, r.errmsg);
	for (size_t i = 0; i < r.n; i++) {
		struct rt_rec *x = &r.rec[i];
		uint64_t c;

		if (i)
			ck_assert_uint_eq(x->seq, r.rec[i - 1].seq + 1); /* nothing missing */
		if (x->type != UEV_RING_PAGE)
			continue;
		ck_assert_msg(rt_gen_check(x->payload, x->len, &c), "round %u: seq %llu damaged",
			      round, (unsigned long long)x->seq);
		ck_assert_msg(c > prev_c, "round %u: page %llu after %llu", round,
			      (unsigned long long)c, (unsigned long long)prev_c);
		if (x->run_id == prev_run)
			ck_assert_msg(c == prev_c + 1, "round %u: page %llu after %llu in run %llu",
				      round, (unsigned long long)c, (unsigned long long)prev_c,
				      (unsigned long long)x->run_id);
		found |= c == flushed;
		prev_c = c;
		prev_run = x->run_id;
	}
	ck_assert_msg(found, "round %u: flushed page %llu not read back (last %llu)", round,
		      (unsigned long long)flushed, (unsigned long long)prev_c);
	ck_assert_uint_eq(r.st.seq_gaps, 0);
	/* A killed writer leaves torn tails, nothing else to report, and the
	 * reader tells them from damage: each is the torn end of a run. */
	ck_assert_msg(r.nreports == r.st.torn, "round %u: %u reports, %llu torn: %s", round,
		      r.nreports, (unsigned long long)r.st.torn, rt_report0(&r));
	ck_assert_msg(r.nkind[1] == r.nreports && r.st.torn_end == r.st.torn,
		      "round %u: %u of %u reports are torn ends (%llu counted): %s", round, r.nkind[1],
		      r.nreports, (unsigned long long)r.st.torn_end, rt_report0(&r));
	torn = r.st.torn;
	rt_read_free(&r);
	return torn;
}

START_TEST(t_crash)
{
	const char *path = rt_path(0, "crash.ring");
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				 -1, 0);
	uint64_t seed = 0x5eed0 + (uint64_t)time(NULL), torn = 0;
	unsigned rounds = 60;

	ck_assert_ptr_ne(sh, MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	fprintf(stderr, "crash: seed %llu\n", (unsigned long long)seed);
	for (unsigned round = 0; round < rounds; round++) {
		int status;
		pid_t pid = fork();

		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			crash_child(path, sh, seed + round);
		/* Killed at any moment: while creating, scanning, appending,
		 * or in the middle of a pwrite. */
		usleep((useconds_t)(rt_rand(&seed) % 25000));
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status), "round %u: child exited with %d", round,
			      WEXITSTATUS(status));
		if (access(path, F_OK) != 0) { /* killed before the file appeared */
			ck_assert_uint_eq(sh->flushed, 0);
			continue;
		}
		torn += check_after_crash(path, sh->flushed, round);
	}
	/* A clean run after all that. */
	struct uev_ring_writer *w = rt_open(path, 1 * MiB);

	rt_begin(w);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	check_after_crash(path, sh->flushed, rounds);
	fprintf(stderr, "crash: %u rounds, %llu pages, %llu torn tails seen\n", rounds,
		(unsigned long long)sh->appended, (unsigned long long)torn);
	munmap(sh, sizeof(*sh));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ring-crash");
	TCase *tc = tcase_create("crash");

	tcase_add_unchecked_fixture(tc, rt_dir_setup, rt_dir_teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, t_crash);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rt_run(suite());
}
