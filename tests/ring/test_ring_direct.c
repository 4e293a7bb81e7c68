/* SPDX-License-Identifier: MIT */
/*
 * The ring writer with O_DIRECT: what take() hands out is whole aligned
 * blocks that the real O_DIRECT descriptor accepts, the block holding a
 * segment's tail is written again with what came after it, a segment never
 * has two writes out, and -ENOBUFS stays until the writes out are done.
 * Every byte that goes to the file is then read back through the reader.
 * (The round trip, wrap, crash and damage tests also run in this mode:
 * tests/ring/meson.build.)
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ring-test.h"

#define KiB 1024ull
#define MiB (1024ull * 1024)
#define BLK 4096u

static void write_out(struct uev_ring_writer *w, const struct uev_ring_extent *x)
{
	ssize_t r = pwrite(uev_ring_writer_fd(w), x->buf, x->len, (off_t)x->offset);

	ck_assert_msg(r == (ssize_t)x->len, "O_DIRECT pwrite of %u at %llu: %zd (%s)", x->len,
		      (unsigned long long)x->offset, r, r < 0 ? strerror(errno) : "short");
	uev_ring_writer_done(w, x, (long)r);
}

static void assert_blocks(const struct uev_ring_extent *x)
{
	ck_assert_uint_eq((uintptr_t)x->buf % BLK, 0);
	ck_assert_uint_eq(x->offset % BLK, 0);
	ck_assert_uint_eq(x->len % BLK, 0);
	ck_assert_uint_gt(x->len, 0);
}

START_TEST(t_tail_block)
{
	const char *path = rt_path(0, "direct.ring");
	struct uev_ring_writer *w;
	struct uev_ring_extent x[8], y[8];
	uint8_t b[4096], *copy;
	uint64_t end0, next = 0;

	w = rt_open(path, 4 * MiB); /* 64 KiB segments */
	rt_begin(w);
	for (; next < 3; next++) {
		rt_gen(b, 1000, next);
		ck_assert_int_eq(uev_ring_writer_page(w, 0, b, 1000), 0);
	}
	/* One segment, one extent: from the segment's start to past its tail,
	 * the bytes after the last record zero. */
	ck_assert_uint_eq(uev_ring_writer_take(w, x, 8), 1);
	assert_blocks(&x[0]);
	end0 = uev_ring_writer_backlog(w);
	ck_assert_uint_lt(end0, x[0].len);
	ck_assert_uint_gt(end0 + BLK, x[0].len);
	for (uint64_t i = end0; i < x[0].len; i++)
		ck_assert_uint_eq(((const uint8_t *)x[0].buf)[i], 0);
	copy = malloc(end0);
	memcpy(copy, x[0].buf, end0);
	/* While it is out, the segment's new bytes wait. */
	ck_assert_uint_eq(uev_ring_writer_take(w, y, 8), 0);
	for (; next < 5; next++) {
		rt_gen(b, 1000, next);
		ck_assert_int_eq(uev_ring_writer_page(w, 1, b, 1000), 0);
	}
	ck_assert_uint_eq(uev_ring_writer_take(w, y, 8), 0);
	ck_assert_mem_eq(x[0].buf, copy, end0); /* the records out are untouched */
	free(copy);
	write_out(w, &x[0]);
	/* The next write starts at the block that held the tail. */
	ck_assert_uint_eq(uev_ring_writer_take(w, y, 8), 1);
	assert_blocks(&y[0]);
	ck_assert_uint_eq(y[0].offset, x[0].offset + end0 / BLK * BLK);
	write_out(w, &y[0]);
	ck_assert_uint_eq(uev_ring_writer_backlog(w), 0);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);

	ck_assert_uint_eq(rt_check_pages(path, next), next);
}
END_TEST

/* The memory bound with writes out: flush() cannot write a segment whose
 * write is out, so -ENOBUFS persists until those are done; then flush()
 * writes the rest and nothing is lost. */
START_TEST(t_bound_with_writes_out)
{
	const char *path = rt_path(0, "bound.ring");
	static struct uev_ring_extent out[256];
	struct uev_ring_writer *w;
	uint8_t b[4000];
	uint64_t pages = 0;
	unsigned nout = 0;
	int e = 0;

	w = rt_open(path, 4 * MiB);
	rt_begin(w);
	/* Take after every page: each new segment gets a write out while it is
	 * nearly empty, and the rest of it then waits behind that write. */
	for (int i = 0; i < 1000; i++) {
		rt_gen(b, sizeof(b), pages);
		e = uev_ring_writer_page(w, 0, b, sizeof(b));
		if (e == -ENOBUFS)
			break;
		ck_assert_int_eq(e, 0);
		pages++;
		nout += uev_ring_writer_take(w, out + nout, 256 - nout);
		ck_assert_uint_lt(nout, 256);
	}
	ck_assert_int_eq(e, -ENOBUFS);
	ck_assert_uint_ge(nout, 4);
	ck_assert_int_eq(uev_ring_writer_flush(w), 0);
	ck_assert_int_eq(uev_ring_writer_page(w, 0, b, sizeof(b)), -ENOBUFS);
	for (unsigned j = 0; j < nout; j++) {
		assert_blocks(&out[j]);
		write_out(w, &out[j]);
	}
	ck_assert_int_eq(uev_ring_writer_flush(w), 0);
	ck_assert_uint_eq(uev_ring_writer_backlog(w), 0);
	ck_assert_int_eq(uev_ring_writer_page(w, 0, b, sizeof(b)), 0);
	pages++;
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);

	ck_assert_uint_eq(rt_check_pages(path, pages), pages);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ring_direct");
	TCase *tc = tcase_create("direct");

	setenv("UEV_RING_TEST_DIRECT", "1", 1); /* rt_dir_setup(): skip without O_DIRECT */
	tcase_add_unchecked_fixture(tc, rt_dir_setup, rt_dir_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, t_tail_block);
	tcase_add_test(tc, t_bound_with_writes_out);
	suite_add_tcase(s, tc);
	return rt_run(s);
}
