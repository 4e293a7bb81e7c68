/* SPDX-License-Identifier: MIT */
/* Ring file writer: what opening refuses (size, a second writer, another
 * geometry, a symbolic link, a file that is not a ring), what it creates,
 * and the limits of metadata (a checkpoint never takes more than half a
 * segment). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring-test.h"

#define KiB 1024ull
#define MiB (1024ull * 1024)

static int try_open(const char *path, uint64_t size, int recreate, char *err, size_t errsize,
		    struct uev_ring_writer **w)
{
	struct uev_ring_create c = { .path = path, .size = size, .seat = "seat0", .mode = 0600, .gid = (gid_t)-1, .recreate = recreate, .direct = rt_direct };

	return uev_ring_writer_open(w, &c, err, errsize);
}

/* Sizes: too small, the mode of a new file, a second writer, another
 * geometry refused unless recreate, a file whose size is not its ring's. */
START_TEST(t_refuse_size)
{
	const char *ring = rt_path(0, "ref.ring");
	struct uev_ring_writer *w, *w2;
	char err[512];
	struct rt_read r;
	struct stat st;

	/* Too small: nothing created. */
	ck_assert_int_eq(try_open(ring, 200 * KiB, 0, err, sizeof(err), &w), -EINVAL);
	ck_assert_ptr_null(w);
	ck_assert_msg(strstr(err, "too small") && strstr(err, "266240"), "%s", err);
	ck_assert_int_eq(access(ring, F_OK), -1);

	/* New file: mode as asked despite the umask. */
	umask(077);
	{
		struct uev_ring_create c = { .path = ring, .size = 1 * MiB, .seat = "seat0", .mode = 0644, .gid = (gid_t)-1, .recreate = 0, .direct = rt_direct };

		ck_assert_int_eq(uev_ring_writer_open(&w, &c, err, sizeof(err)), 0);
	}
	ck_assert_int_eq(stat(ring, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0644);
	ck_assert_uint_eq(st.st_size, 987136);
	/* A second writer on the same file. */
	ck_assert_int_eq(try_open(ring, 1 * MiB, 0, err, sizeof(err), &w2), -EBUSY);
	ck_assert_msg(strstr(err, "in use by another uev-aggregator") && strstr(err, ring), "%s", err);
	rt_begin(w);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	/* Same geometry from a slightly different size: accepted. */
	ck_assert_int_eq(try_open(ring, 1 * MiB - 1000, 0, err, sizeof(err), &w), 0);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);

	/* Another size: refused with both sizes, file untouched. */
	ck_assert_int_eq(try_open(ring, 64 * MiB, 0, err, sizeof(err), &w), -EEXIST);
	ck_assert_ptr_null(w);
	ck_assert_msg(strstr(err, ring) && strstr(err, "987136") && strstr(err, "67108864") &&
			      strstr(err, "--recreate"),
		      "%s", err);
	ck_assert_uint_eq(rt_file_size(ring), 987136);
	/* ... unless recreate. */
	ck_assert_int_eq(try_open(ring, 2 * MiB, 1, err, sizeof(err), &w), 0);
	rt_begin(w);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	ck_assert_int_eq(rt_read(ring, &r), 0);
	ck_assert_uint_eq(r.sb.file_size, rt_file_size(ring));
	ck_assert_uint_eq(r.sb.segment_count, (2 * MiB - 4096) / (64 * KiB));
	ck_assert_uint_eq(r.rec[0].run_id, 1); /* a new file: runs start over */
	rt_read_free(&r);

	/* Size on disk differs from the superblock's. */
	ck_assert_int_eq(truncate(ring, (off_t)rt_file_size(ring) - 4096), 0);
	ck_assert_int_eq(try_open(ring, 2 * MiB, 0, err, sizeof(err), &w), -EEXIST);
	ck_assert_msg(strstr(err, ring) && strstr(err, "--recreate"), "%s", err);
	ck_assert_int_eq(rt_read(ring, &r), -EINVAL);
	ck_assert_msg(strstr(r.errmsg, "size mismatch"), "%s", r.errmsg);
}
END_TEST

/* Files that are not a ring to write: a symbolic link (even to a good
 * ring, or dangling), a text file, an empty file, a directory. */
START_TEST(t_refuse_files)
{
	const char *ring = rt_path(0, "files.ring"), *link = rt_path(1, "ref.link"),
		   *text = rt_path(2, "notes.txt");
	struct uev_ring_writer *w;
	char err[512], want[128];
	struct rt_read r;
	FILE *f;
	int fd;

	/* Symbolic link, even to a good ring. */
	ck_assert_int_eq(try_open(ring, 2 * MiB, 1, err, sizeof(err), &w), 0);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	ck_assert_int_eq(symlink(ring, link), 0);
	ck_assert_int_eq(try_open(link, 2 * MiB, 1, err, sizeof(err), &w), -ELOOP);
	snprintf(want, sizeof(want), "%s: is a symbolic link; refusing", link);
	ck_assert_str_eq(err, want);
	unlink(link);
	ck_assert_int_eq(symlink(rt_path(3, "nowhere"), link), 0); /* dangling */
	ck_assert_int_eq(try_open(link, 2 * MiB, 1, err, sizeof(err), &w), -ELOOP);
	ck_assert_int_eq(access(rt_path(3, "nowhere"), F_OK), -1);

	/* Not a ring: refused and left alone, then replaced on request. */
	f = fopen(text, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 1000; i++)
		fprintf(f, "line %d of somebody's notes\n", i);
	fclose(f);
	ck_assert_int_eq(try_open(text, 2 * MiB, 0, err, sizeof(err), &w), -EEXIST);
	ck_assert_msg(strstr(err, text) && strstr(err, "not a uev ring file"), "%s", err);
	ck_assert_int_eq(rt_read(text, &r), -EINVAL);
	ck_assert_msg(strstr(r.errmsg, "not a uev ring file"), "%s", r.errmsg);
	f = fopen(text, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "line %d", &fd), 1);
	fclose(f);
	ck_assert_int_eq(try_open(text, 2 * MiB, 1, err, sizeof(err), &w), 0);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	ck_assert_int_eq(rt_read(text, &r), 0);
	ck_assert_uint_eq(r.n, 0); /* no run was begun */
	rt_read_free(&r);

	/* An empty file is not a ring either. */
	fd = open(rt_path(3, "empty"), O_CREAT | O_WRONLY, 0600);
	close(fd);
	ck_assert_int_eq(try_open(rt_path(3, "empty"), 2 * MiB, 0, err, sizeof(err), &w), -EEXIST);
	ck_assert_msg(strstr(err, "not a uev ring file"), "%s", err);
	/* Nor a directory. */
	ck_assert_int_lt(try_open(rt_dir, 2 * MiB, 1, err, sizeof(err), &w), 0);
}
END_TEST

/* Metadata limits: a checkpoint never takes more than half a segment. */
START_TEST(t_limits)
{
	const char *path = rt_path(0, "lim.ring");
	struct uev_ring_writer *w = rt_open(path, 1 * MiB);
	static char text[8192];
	uint8_t b[64] = { 0 };
	int i, e = 0;

	memset(text, 'x', sizeof(text) - 1);
	rt_begin(w);
	ck_assert_int_eq(uev_ring_writer_format(w, 2, 1, "s", "e", text), 0);
	for (i = 2; i < 100 && e == 0; i++)
		e = uev_ring_writer_format(w, 2, (uint32_t)i, "s", "e", text);
	ck_assert_int_eq(e, -E2BIG);
	ck_assert_int_lt(i, 10);
	ck_assert_int_eq(uev_ring_writer_format(w, 9, 1, "s", "e", "t"), -EINVAL);
	ck_assert_int_eq(uev_ring_writer_page(w, 0xffff, b, 8), -EINVAL);
	for (i = 0; i < 10000; i++) { /* many pids: the checkpoint caps them */
		char name[16];

		snprintf(name, sizeof(name), "p%d", i);
		ck_assert_int_eq(uev_ring_writer_comm(w, i, name), 0);
		if (i % 100 == 0)
			ck_assert_int_eq(rt_page(w, 0, b, 8), 0);
	}
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(rt_page(w, 0, text, 3000), 0);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	struct rt_read r;
	ck_assert_int_eq(rt_read(path, &r), 0);
	ck_assert_msg(r.nreports == 0, "reports: %u, %s", r.nreports, rt_report0(&r));
	for (size_t j = 0; j < r.n; j++)
		if (r.rec[j].type == UEV_RING_COMM)
			ck_assert_uint_le(r.rec[j].len, 32 * 1024);
	rt_read_free(&r);

	/* A page before the run, and metadata before it (kept for the run). */
	w = rt_open(path, 1 * MiB);
	ck_assert_int_eq(uev_ring_writer_page(w, 0, b, 8), -EINVAL);
	ck_assert_int_eq(uev_ring_writer_format(w, 2, 5, "s", "early", "t"), 0);
	rt_begin(w);
	ck_assert_int_eq(uev_ring_writer_begin_run(w, NULL), -EINVAL);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	ck_assert_int_eq(rt_read(path, &r), 0);
	ck_assert_int_eq(r.rec[r.n - 3].type, UEV_RING_FORMAT); /* RUN_START FORMAT COMM RUN_END */
	ck_assert_int_eq(r.rec[r.n - 4].type, UEV_RING_RUN_START);
	ck_assert_uint_eq(r.rec[r.n - 1].run_id, 2);
	rt_read_free(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ring-open");
	TCase *tc = tcase_create("open");

	tcase_add_unchecked_fixture(tc, rt_dir_setup, rt_dir_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, t_refuse_size);
	tcase_add_test(tc, t_refuse_files);
	tcase_add_test(tc, t_limits);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rt_run(suite());
}
