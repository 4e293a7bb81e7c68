/* SPDX-License-Identifier: MIT */
/* Ring file writer, take/done as the page cache writer does it (ranges in
 * file order, memory unchanged while out, failed or short writes pending
 * again) and its memory bound; test_ring_direct.c has the O_DIRECT rules
 * (aligned blocks, one write out per segment). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ring-test.h"

#define MiB (1024ull * 1024)

START_TEST(t_take_done)
{
	const char *path = rt_path(0, "td.ring");
	struct uev_ring_extent x[64], y[64];
	uint8_t *copy[64], b[4096];
	struct uev_ring_writer *w = rt_open(path, 4 * MiB);
	uint64_t S, N, end, total = 0;
	unsigned n, m, k;
	int fd = uev_ring_writer_fd(w);

	rt_geometry(4 * MiB, &S, &N);
	ck_assert_int_ge(fd, 0);
	rt_begin(w);
	for (unsigned i = 0; i < 40; i++) {
		rt_gen(b, 3000, i);
		ck_assert_int_eq(uev_ring_writer_page(w, 0, b, 3000), 0);
	}
	/* 40 pages cross a 64 KiB segment: at least two extents. */
	n = uev_ring_writer_take(w, x, 64);
	ck_assert_uint_ge(n, 2);
	end = 0;
	for (unsigned i = 0; i < n; i++) {
		ck_assert_uint_ge(x[i].offset, end); /* file order, no overlap */
		ck_assert_uint_eq((x[i].offset - 4096) / S, (x[i].offset + x[i].len - 1 - 4096) / S);
		end = x[i].offset + x[i].len;
		total += x[i].len;
		copy[i] = malloc(x[i].len);
		memcpy(copy[i], x[i].buf, x[i].len);
	}
	ck_assert_uint_eq(uev_ring_writer_backlog(w), total);
	ck_assert_uint_eq(uev_ring_writer_take(w, y, 64), 0); /* all out */
	/* Appending more does not touch what is out. */
	for (unsigned i = 40; i < 60; i++) {
		rt_gen(b, 3000, i);
		ck_assert_int_eq(uev_ring_writer_page(w, 1, b, 3000), 0);
	}
	for (unsigned i = 0; i < n; i++)
		ck_assert_mem_eq(x[i].buf, copy[i], x[i].len);
	m = uev_ring_writer_take(w, y, 64);
	ck_assert_uint_ge(m, 1);
	ck_assert_uint_ge(y[0].offset, end);
	/* Write the first batch but fail its first extent, and the second
	 * batch's last extent comes back short. */
	for (unsigned i = 1; i < n; i++) {
		ck_assert_int_eq(pwrite(fd, x[i].buf, x[i].len, (off_t)x[i].offset), (ssize_t)x[i].len);
		uev_ring_writer_done(w, &x[i], (long)x[i].len);
	}
	uev_ring_writer_done(w, &x[0], -EIO);
	for (unsigned i = 0; i < m; i++) {
		ck_assert_int_eq(pwrite(fd, y[i].buf, y[i].len, (off_t)y[i].offset), (ssize_t)y[i].len);
		uev_ring_writer_done(w, &y[i], i + 1 == m ? (long)y[i].len - 1 : (long)y[i].len);
	}
	ck_assert_uint_eq(uev_ring_writer_backlog(w), x[0].len + y[m - 1].len);
	/* Pending again, in file order, same memory, unchanged. */
	k = uev_ring_writer_take(w, x + n, 2);
	ck_assert_uint_eq(k, 2);
	ck_assert_ptr_eq(x[n].buf, x[0].buf);
	ck_assert_uint_eq(x[n].offset, x[0].offset);
	ck_assert_uint_eq(x[n].len, x[0].len);
	ck_assert_mem_eq(x[n].buf, copy[0], x[0].len);
	ck_assert_uint_eq(x[n + 1].offset, y[m - 1].offset);
	ck_assert_uint_eq(x[n + 1].len, y[m - 1].len);
	for (unsigned i = 0; i < n; i++)
		free(copy[i]);
	for (unsigned i = n; i < n + 2; i++) {
		ck_assert_int_eq(pwrite(fd, x[i].buf, x[i].len, (off_t)x[i].offset), (ssize_t)x[i].len);
		uev_ring_writer_done(w, &x[i], (long)x[i].len);
	}
	ck_assert_uint_eq(uev_ring_writer_backlog(w), 0);
	ck_assert_uint_eq(uev_ring_writer_take(w, y, 64), 0);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	rt_check_pages(path, 60);
}
END_TEST

/* The writer's memory bound: unwritten segments, not ranges out. */
START_TEST(t_take_bound)
{
	const char *path = rt_path(0, "bound.ring");
	static struct uev_ring_extent out[1000];
	struct uev_ring_writer *w = rt_open(path, 4 * MiB);
	unsigned pages = 0, i, nout = 0;
	int fd = uev_ring_writer_fd(w);
	uint64_t S, N;
	uint8_t b[4096];

	rt_geometry(4 * MiB, &S, &N);
	rt_begin(w);
	/* Without writing, the fifth segment is refused. */
	for (i = 0; i < 1000; i++) {
		rt_gen(b, 4000, pages);
		int e = uev_ring_writer_page(w, 0, b, 4000);

		if (e == -ENOBUFS)
			break;
		ck_assert_int_eq(e, 0);
		pages++;
	}
	ck_assert_uint_lt(i, 1000);
	ck_assert_uint_gt(uev_ring_writer_backlog(w), 3 * S);
	ck_assert_uint_le(uev_ring_writer_backlog(w), 4 * S);
	ck_assert_int_eq(uev_ring_writer_flush(w), 0);
	ck_assert_uint_eq(uev_ring_writer_backlog(w), 0);
	rt_gen(b, 4000, pages++);
	ck_assert_int_eq(uev_ring_writer_page(w, 0, b, 4000), 0);
	/* Segments whose bytes are all out being written do not count: a
	 * caller with writes in flight can still append, and flush() makes
	 * room whatever is in flight. */
	for (i = 0; i < 1000; i++) {
		rt_gen(b, 4000, pages);
		int e = uev_ring_writer_page(w, 0, b, 4000);

		if (e == -ENOBUFS) {
			ck_assert_int_eq(uev_ring_writer_flush(w), 0);
			continue;
		}
		ck_assert_int_eq(e, 0);
		pages++;
		if (pages % 8 == 0) { /* take, do not write yet */
			ck_assert_uint_lt(nout, 1000);
			nout += uev_ring_writer_take(w, out + nout, (unsigned)(1000 - nout));
		}
	}
	ck_assert_uint_gt(uev_ring_writer_backlog(w), 10 * S);
	ck_assert_int_eq(uev_ring_writer_flush(w), 0);
	for (unsigned j = 0; j < nout; j++) {
		ck_assert_int_eq(pwrite(fd, out[j].buf, out[j].len, (off_t)out[j].offset),
				 (ssize_t)out[j].len);
		uev_ring_writer_done(w, &out[j], (long)out[j].len);
	}
	ck_assert_uint_eq(uev_ring_writer_backlog(w), 0);
	/* Too big for any segment. */
	ck_assert_int_eq(uev_ring_writer_page(w, 0, b, (size_t)S), -E2BIG);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);

	rt_check_pages(path, pages); /* the ring wrapped: the newest are there */
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ring-take");
	TCase *tc = tcase_create("take");

	tcase_add_unchecked_fixture(tc, rt_dir_setup, rt_dir_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, t_take_done);
	tcase_add_test(tc, t_take_bound);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rt_run(suite());
}
