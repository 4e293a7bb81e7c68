/* SPDX-License-Identifier: MIT */
/* What the reader says about a file, and how: the torn end of a run that
 * stopped without RUN_END told from damage (uev_ring_report_kind), and a
 * file that shrinks while it is read, which is an error naming the
 * offset, never the quiet end of the records. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring-test.h"

#define MiB (1024ull * 1024)

/* A run of @pages pages of 1000 bytes that stops without RUN_END, as a
 * killed writer's does: written by a child that exits without closing. */
static void unclean_run(const char *path, unsigned pages)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct uev_ring_create c = { .path = path, .size = 1 * MiB, .seat = "seat0", .mode = 0600, .gid = (gid_t)-1, .direct = rt_direct };
		struct uev_ring_run_info ri;
		struct uev_ring_writer *w;
		uint8_t b[1000];
		char err[256];

		rt_run_info(&ri);
		if (uev_ring_writer_open(&w, &c, err, sizeof(err)) < 0 || uev_ring_writer_begin_run(w, &ri) < 0)
			_exit(2);
		for (unsigned i = 0; i < pages; i++) {
			rt_gen(b, sizeof(b), i + 1);
			if (uev_ring_writer_page(w, 0, b, sizeof(b)) < 0)
				_exit(3);
		}
		_exit(uev_ring_writer_flush(w) < 0 ? 4 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer child: status %d", status);
}

static void poke(const char *path, uint64_t off, const void *b, size_t len)
{
	int fd = open(path, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, b, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void flip(const char *path, uint64_t off)
{
	uint8_t c;
	int fd = open(path, O_RDWR);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &c, 1, (off_t)off), 1);
	c ^= 0x40;
	ck_assert_int_eq(pwrite(fd, &c, 1, (off_t)off), 1);
	close(fd);
}

/*
 * A killed writer's last segment: its last record written in part, then
 * nothing of the segment. A torn end, one report of that kind. The same
 * segment with a byte flipped in a record that others follow: damage.
 */
START_TEST(t_torn_end_or_damage)
{
	const char *path = rt_path(0, "killed.ring");
	struct rt_read r;
	struct rt_rec *last, *mid;
	uint64_t end;
	uint8_t part[24 + 300];

	unclean_run(path, 30);
	ck_assert_int_eq(rt_read(path, &r), 0);
	ck_assert_msg(r.nreports == 0, "%s", rt_report0(&r)); /* zeros after the last record */
	last = &r.rec[r.n - 1];
	mid = &r.rec[r.n / 2];
	end = last->offset + ((24 + last->len + 7) & ~7ull);
	ck_assert_uint_eq(mid->segment_seq, last->segment_seq);
	/* the next record's header and the start of its payload, no more */
	memset(part, 0x5a, sizeof(part));
	for (int i = 0; i < 8; i++)
		part[8 + i] = (uint8_t)((last->seq + 1) >> (8 * i));
	for (int i = 0; i < 4; i++)
		part[16 + i] = (uint8_t)(last->segment_seq >> (8 * i));
	part[0] = UEV_RING_PAGE, part[1] = 0, part[2] = part[3] = 0;
	part[4] = 1000 & 0xff, part[5] = 1000 >> 8, part[6] = part[7] = 0;
	poke(path, end, part, sizeof(part));
	{
		uint64_t mid_off = mid->offset + 24 + 100, mid_rec = mid->offset;
		size_t n = r.n;

		rt_read_free(&r);
		ck_assert_int_eq(rt_read(path, &r), 0);
		ck_assert_uint_eq(r.n, n);
		ck_assert_msg(r.nreports == 1 && r.nkind[1] == 1, "%u reports, %u torn ends: %s", r.nreports,
			      r.nkind[1], rt_report0(&r));
		ck_assert_uint_eq(r.report_off[0], end);
		ck_assert_msg(strstr(r.report[0], "where a run stopped without a clean end"), "%s", r.report[0]);
		ck_assert_uint_eq(r.st.torn, 1);
		ck_assert_uint_eq(r.st.torn_end, 1);
		rt_read_free(&r);

		/* A flipped byte costs its record only: reading goes on at
		 * the next one, and the torn end after it is still one. */
		flip(path, mid_off);
		ck_assert_int_eq(rt_read(path, &r), 0);
		ck_assert_uint_eq(r.n, n - 1);
		ck_assert_msg(r.nreports == 2 && r.nkind[0] == 1 && r.nkind[1] == 1, "%u reports, %u damage: %s",
			      r.nreports, r.nkind[0], rt_report0(&r));
		ck_assert_msg(strstr(r.report[0], "; 1 record lost, reading goes on at seq"), "%s", r.report[0]);
		ck_assert_uint_eq(r.report_off[0], mid_rec);
		ck_assert_uint_eq(r.st.torn, 2);
		ck_assert_uint_eq(r.st.torn_end, 1);
		ck_assert_uint_eq(r.st.seq_gaps, 1);
	}
	rt_read_free(&r);
}
END_TEST

/*
 * The tail of a killed run's last segment forged so that every header in
 * it claims a record of the segment, each as long as the segment allows:
 * checking them all would cost a CRC of up to a segment each. The reader
 * stops at a budget and calls it damage, which is what such bytes are.
 */
START_TEST(t_forged_tail)
{
	const char *path = rt_path(3, "forged.ring");
	struct rt_read r;
	uint64_t end, seq, seg, base, S;
	uint8_t h[24];
	int fd;

	unclean_run(path, 30);
	ck_assert_int_eq(rt_read(path, &r), 0);
	S = r.sb.segment_size;
	end = r.rec[r.n - 1].offset + ((24 + r.rec[r.n - 1].len + 7) & ~7ull);
	seq = r.rec[r.n - 1].seq + 2;
	seg = r.rec[r.n - 1].segment_seq;
	base = 4096 + (end - 4096) / S * S;
	rt_read_free(&r);
	fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	for (uint64_t p = end; p + 24 <= base + S; p += 24, seq++) {
		uint32_t len = (uint32_t)(base + S - p - 24);

		memset(h, 0, sizeof(h));
		h[0] = UEV_RING_PAGE;
		for (int i = 0; i < 4; i++) {
			h[4 + i] = (uint8_t)(len >> (8 * i));
			h[16 + i] = (uint8_t)(seg >> (8 * i));
			h[20 + i] = 0xa5;
		}
		for (int i = 0; i < 8; i++)
			h[8 + i] = (uint8_t)(seq >> (8 * i));
		ck_assert_int_eq(pwrite(fd, h, sizeof(h), (off_t)p), (ssize_t)sizeof(h));
	}
	close(fd);
	ck_assert_int_eq(rt_read(path, &r), 0);
	ck_assert_msg(r.nreports == 1 && r.nkind[0] == 1 && r.st.torn_end == 0, "%u reports, %u damage: %s",
		      r.nreports, r.nkind[0], rt_report0(&r));
	rt_read_free(&r);
}
END_TEST

/* A run that ended cleanly, damaged in its last segment: records of the
 * segment follow the damage, so it is not taken for a torn end, and
 * reading goes on after the damaged record, RUN_END included. */
START_TEST(t_clean_run_damaged)
{
	const char *path = rt_path(1, "clean.ring");
	struct uev_ring_writer *w = rt_open(path, 1 * MiB);
	struct rt_read r;
	uint8_t b[1000];
	size_t n;

	rt_begin(w);
	for (unsigned i = 0; i < 30; i++) {
		rt_gen(b, sizeof(b), i + 1);
		ck_assert_int_eq(rt_page(w, 1, b, sizeof(b)), 0);
	}
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	ck_assert_int_eq(rt_read(path, &r), 0);
	ck_assert_int_eq(r.nreports, 0);
	ck_assert_int_eq(r.rec[r.n - 1].type, UEV_RING_RUN_END);
	n = r.n;
	flip(path, r.rec[n - 3].offset + 24 + 7);
	rt_read_free(&r);
	ck_assert_int_eq(rt_read(path, &r), 0);
	ck_assert_uint_eq(r.n, n - 1);
	ck_assert_int_eq(r.rec[r.n - 1].type, UEV_RING_RUN_END);
	ck_assert_msg(r.nreports == 1 && r.nkind[0] == 1 && r.st.torn_end == 0, "%u reports, %u damage: %s",
		      r.nreports, r.nkind[0], rt_report0(&r));
	rt_read_free(&r);
}
END_TEST

/* Records in three segments, then the file cut in the middle of the
 * second while a reader is in the first: the reader returns -EIO with the
 * offset where the bytes stop, not a torn tail and an early end. */
START_TEST(t_shrink_while_reading)
{
	const char *path = rt_path(2, "shrink.ring");
	struct uev_ring_writer *w = rt_open(path, 1 * MiB);
	struct uev_ring_reader *rd;
	struct uev_ring_rec rec;
	uint64_t S, cut, seen = 0;
	uint8_t b[4000];
	char err[256];
	int k;

	rt_begin(w);
	for (unsigned i = 0; i < 60; i++) { /* 240 KB: about four segments */
		rt_gen(b, sizeof(b), i + 1);
		ck_assert_int_eq(rt_page(w, 0, b, sizeof(b)), 0);
	}
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	ck_assert_int_eq(uev_ring_reader_open(&rd, path, NULL, NULL, err, sizeof(err)), 0);
	S = uev_ring_reader_super(rd)->segment_size;
	cut = 4096 + S + S / 2;
	ck_assert_int_eq(uev_ring_reader_next(rd, &rec), 1);
	ck_assert_int_eq(truncate(path, (off_t)cut), 0);
	while ((k = uev_ring_reader_next(rd, &rec)) == 1)
		seen++;
	ck_assert_msg(k == -EIO, "next() after the file shrank: %d (%llu records)", k, (unsigned long long)seen);
	ck_assert_uint_gt(seen, 0); /* the first segment's were read */
	snprintf(err, sizeof(err), "at offset %llu: the file shrank to %llu bytes while being read",
		 (unsigned long long)cut, (unsigned long long)cut);
	ck_assert_msg(strstr(uev_ring_reader_error(rd), err), "'%s'", uev_ring_reader_error(rd));
	/* Following, the segment headers are read again: the same. */
	uev_ring_reader_follow(rd);
	ck_assert_int_eq(uev_ring_reader_refresh(rd), -EIO);
	snprintf(err, sizeof(err), "at offset %llu: segment header: the file shrank to %llu bytes",
		 (unsigned long long)(4096 + 2 * S), (unsigned long long)cut);
	ck_assert_msg(strstr(uev_ring_reader_error(rd), err), "'%s'", uev_ring_reader_error(rd));
	uev_ring_reader_close(rd);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ring-reports");
	TCase *tc = tcase_create("reports");

	tcase_add_unchecked_fixture(tc, rt_dir_setup, rt_dir_teardown);
	tcase_add_test(tc, t_torn_end_or_damage);
	tcase_add_test(tc, t_clean_run_damaged);
	tcase_add_test(tc, t_forged_tail);
	tcase_add_test(tc, t_shrink_while_reading);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rt_run(suite());
}
