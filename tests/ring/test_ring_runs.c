/* SPDX-License-Identifier: MIT */
/* Runs sharing a segment (docs/ring-format.md, "Runs"): a restart, clean or
 * killed, continues the newest segment after its last record and costs
 * only its own records; what a killed run left behind is zeroed over; a
 * version 1 or 2 file is read and upgraded; records belong to the run of the
 * RUN_START before them. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring-common.h"
#include "ring-test.h"

#define MiB (1024ull * 1024)

static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;

	ck_assert_ptr_nonnull(f);
	*size = rt_file_size(path);
	b = malloc(*size);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(fread(b, 1, *size, f), *size);
	fclose(f);
	return b;
}

static void spill(const char *path, const uint8_t *b, size_t size)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(b, 1, size, f), size);
	fclose(f);
}

/* One run: FORMAT 7 with @fmt, then pages with counters [c0, c0 + n). */
static void run_pages(struct uev_ring_writer *w, const char *fmt, uint64_t c0, unsigned n,
		      size_t len)
{
	uint8_t b[4096];

	rt_begin(w);
	ck_assert_int_eq(uev_ring_writer_format(w, 2, 7, "s", "e", fmt), 0);
	for (unsigned i = 0; i < n; i++) {
		rt_gen(b, len, c0 + i);
		ck_assert_int_eq(rt_page(w, i % 2, b, len), 0);
	}
}

static void one_run(const char *path, const char *fmt, uint64_t c0, unsigned n, size_t len)
{
	struct uev_ring_writer *w = rt_open(path, 1 * MiB);

	run_pages(w, fmt, c0, n, len);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
}

/* A writer that dies after flushing: no RUN_END, nothing closed by it. */
static void killed_run(const char *path, const char *fmt, uint64_t c0, unsigned n, size_t len)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct uev_ring_writer *w = rt_open(path, 1 * MiB);

		run_pages(w, fmt, c0, n, len);
		_exit(uev_ring_writer_flush(w) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static uint64_t rec_end(const struct rt_rec *x)
{
	return x->offset + uev_ring_rec_size(x->len);
}

/*
 * @after is @before with one more run: the same records first, byte for
 * byte; the new run's RUN_START right after the last of them, in the same
 * segment, when its checkpoint and a quarter segment fit there (else at
 * the start of the next segment; @rule 0: either); every record from there on of the new
 * run; used bytes grown by exactly the new records (and a segment header
 * when it took a new segment). Returns 1 when it went on in the segment.
 */
static int check_restart(const struct rt_read *before, const struct rt_read *after, int rule)
{
	uint64_t S = after->sb.segment_size, used = 0, ck = 0;
	const struct rt_rec *last = &before->rec[before->n - 1], *rs;
	uint64_t tail = (last->offset - 4096) % S + uev_ring_rec_size(last->len);
	int same;

	ck_assert_msg(after->nreports == 0, "reports: %u, %s", after->nreports, rt_report0(after));
	ck_assert_uint_eq(after->st.seq_gaps, 0);
	ck_assert_uint_gt(after->n, before->n);
	for (size_t i = 0; i < before->n; i++) {
		const struct rt_rec *x = &before->rec[i], *y = &after->rec[i];

		ck_assert(x->seq == y->seq && x->offset == y->offset && x->type == y->type &&
			  x->len == y->len && x->run_id == y->run_id && x->segment_seq == y->segment_seq);
		ck_assert_mem_eq(x->payload, y->payload, x->len);
	}
	rs = &after->rec[before->n];
	ck_assert_int_eq(rs->type, UEV_RING_RUN_START);
	ck_assert_uint_eq(rs->seq, last->seq + 1);
	ck_assert_uint_eq(rs->run_id, last->run_id + 1);
	ck_assert_uint_eq(uev_get64(rs->payload), rs->run_id);
	for (size_t i = before->n; i < after->n; i++) {
		const struct rt_rec *x = &after->rec[i];

		ck_assert_uint_eq(x->run_id, rs->run_id);
		used += uev_ring_rec_size(x->len);
	}
	for (size_t i = before->n; i < after->n && after->rec[i].segment_seq == rs->segment_seq; i++) {
		ck += uev_ring_rec_size(after->rec[i].len);
		if (after->rec[i].type == UEV_RING_COMM)
			break;
	}
	same = rs->segment_seq == last->segment_seq;
	if (same) {
		ck_assert_uint_eq(rs->offset, rec_end(last));
		ck_assert_msg(!rule || tail + ck + S / 4 <= S, "went on at %llu with a %llu-byte checkpoint",
			      (unsigned long long)tail, (unsigned long long)ck);
	} else {
		ck_assert_uint_eq(rs->segment_seq, last->segment_seq + 1);
		ck_assert_uint_eq((rs->offset - 4096) % S, 64);
		ck_assert_msg(!rule || tail + ck + S / 4 > S, "new segment though %llu + %llu fit",
			      (unsigned long long)tail, (unsigned long long)ck);
	}
	/* A new segment's header, and a segment left behind: not counted
	 * as used past its last record. */
	ck_assert_uint_eq(after->st.bytes_used, before->st.bytes_used + used +
				  (after->rec[after->n - 1].segment_seq - last->segment_seq) * 64);
	return same;
}

/* Bytes from the end of the last record to its segment's end are zero. */
static void check_zero_tail(const char *path, const struct rt_read *r)
{
	size_t size;
	uint8_t *b = slurp(path, &size);
	uint64_t S = r->sb.segment_size, end = rec_end(&r->rec[r->n - 1]);
	uint64_t seg_end = 4096 + (end - 4096 - 1) / S * S + S;

	for (uint64_t o = end; o < seg_end; o++)
		ck_assert_msg(!b[o], "byte %llu after the last record (%llu) is %u",
			      (unsigned long long)o, (unsigned long long)end, b[o]);
	free(b);
}

START_TEST(t_restart_clean)
{
	const char *path = rt_path(0, "clean.ring");
	struct rt_read r[2];
	unsigned same = 0, fresh = 0;
	uint64_t c = 0;

	one_run(path, "fmt A", c, 10, 1000);
	c += 10;
	ck_assert_int_eq(rt_read(path, &r[0]), 0);
	/* Restarts until some took a new segment: the runs differ in size
	 * so that the segment's tail lands on both sides of the rule. */
	for (unsigned k = 1; k < 24 && (k < 4 || !fresh || !same); k++) {
		struct rt_read *b = &r[(k - 1) % 2], *a = &r[k % 2];
		unsigned n = 3 + (k * 7) % 19;

		one_run(path, k % 2 ? "fmt B" : "fmt A", c, n, 1000);
		c += n;
		ck_assert_int_eq(rt_read(path, a), 0);
		if (check_restart(b, a, 1))
			same++;
		else
			fresh++;
		check_zero_tail(path, a);
		rt_read_free(b);
	}
	ck_assert_uint_gt(same, 2);
	ck_assert_uint_gt(fresh, 0);
	rt_check_pages(path, c);
	for (int i = 0; i < 2; i++)
		rt_read_free(&r[i]);
}
END_TEST

/* A killed run's torn tail and stale bytes further on: reported until the
 * next run, gone after it. */
START_TEST(t_restart_killed)
{
	const char *path = rt_path(0, "killed.ring");
	struct rt_read r0, r1, r2, r3;
	uint64_t S, tail, seg_end;
	uint8_t *b;
	size_t size;

	one_run(path, "fmt A", 0, 5, 1000);
	killed_run(path, "fmt B", 5, 5, 1000);
	ck_assert_int_eq(rt_read(path, &r0), 0);
	ck_assert_msg(r0.nreports == 0, "%s", rt_report0(&r0));
	ck_assert_int_ne(r0.rec[r0.n - 1].type, UEV_RING_RUN_END);
	ck_assert_uint_eq(r0.rec[r0.n - 1].run_id, 2);
	S = r0.sb.segment_size;
	tail = rec_end(&r0.rec[r0.n - 1]);
	seg_end = 4096 + (tail - 4096) / S * S + S;

	/* What a kill in the middle of a write leaves: part of a record at
	 * the tail, and further on, bytes of some other write. */
	b = slurp(path, &size);
	rt_gen(b + tail, 600, 12345);
	memset(b + seg_end - 200, 0xa5, 100);
	spill(path, b, size);
	free(b);
	ck_assert_int_eq(rt_read(path, &r1), 0);
	ck_assert_uint_eq(r1.n, r0.n);
	ck_assert_uint_eq(r1.st.torn, 1);
	ck_assert_msg(rt_reported_at(&r1, tail), "%s", rt_report0(&r1));

	killed_run(path, "fmt A", 10, 3, 1000); /* killed again, in the same segment */
	ck_assert_int_eq(rt_read(path, &r2), 0);
	ck_assert_uint_eq(check_restart(&r0, &r2, 1), 1);
	ck_assert_uint_eq(r2.rec[r0.n].offset, tail);
	check_zero_tail(path, &r2); /* the torn record and the stale bytes too */
	one_run(path, "fmt B", 13, 4, 1000);
	ck_assert_int_eq(rt_read(path, &r3), 0);
	ck_assert_uint_eq(check_restart(&r2, &r3, 1), 1);
	ck_assert_uint_eq(r3.rec[r3.n - 1].run_id, 4);
	check_zero_tail(path, &r3);
	rt_check_pages(path, 17);
	rt_read_free(&r0);
	rt_read_free(&r1);
	rt_read_free(&r2);
	rt_read_free(&r3);
}
END_TEST

/* A kill that tore the header of the segment its run was moving on to:
 * the next run starts a new segment there (the header healed), though
 * the segment before has room. */
START_TEST(t_torn_next_header)
{
	const char *path = rt_path(0, "torn-hdr.ring");
	struct rt_read r0, r1;
	uint64_t S, next;
	uint8_t *b;
	size_t size;

	killed_run(path, "fmt A", 0, 5, 1000);
	ck_assert_int_eq(rt_read(path, &r0), 0);
	S = r0.sb.segment_size;
	next = 4096 + ((r0.rec[r0.n - 1].offset - 4096) / S + 1) * S;
	b = slurp(path, &size);
	memcpy(b + next, "USEG", 4);
	rt_gen(b + next + 4, 40, 7); /* CRC and fields half written */
	spill(path, b, size);
	free(b);
	ck_assert_int_eq(rt_read(path, &r1), 0);
	ck_assert_uint_eq(r1.st.segments_damaged, 1);
	rt_read_free(&r1);

	one_run(path, "fmt B", 5, 3, 1000);
	ck_assert_int_eq(rt_read(path, &r1), 0);
	ck_assert_uint_eq(r1.st.segments_damaged, 0);
	ck_assert_uint_eq(check_restart(&r0, &r1, 0), 0);
	ck_assert_uint_eq(r1.rec[r0.n].offset, next + 64);
	rt_check_pages(path, 8);
	rt_read_free(&r0);
	rt_read_free(&r1);
}
END_TEST

/* A run that went on in a segment, continued in the next: the segment
 * after it names the run (run_segment 1) and reads without a report. */
START_TEST(t_run_spans)
{
	const char *path = rt_path(0, "spans.ring");
	struct rt_read r;
	uint64_t S, run2_first_seg = 0;
	uint8_t *b;
	size_t size;

	one_run(path, "fmt A", 0, 10, 1000);
	one_run(path, "fmt B", 10, 150, 1000);
	ck_assert_int_eq(rt_read(path, &r), 0);
	ck_assert_msg(r.nreports == 0, "%s", rt_report0(&r));
	S = r.sb.segment_size;
	b = slurp(path, &size);
	for (size_t i = 0; i < r.n; i++) {
		const struct rt_rec *x = &r.rec[i];
		const uint8_t *h = b + 4096 + (x->offset - 4096) / S * S;

		if (x->run_id == 2 && !run2_first_seg)
			run2_first_seg = x->segment_seq;
		if (x->run_id != 2 || x->segment_seq == run2_first_seg)
			continue;
		/* later segments of run 2 are its segments 1, 2, ... */
		ck_assert_uint_eq(uev_get64(h + 24), 2);
		ck_assert_uint_eq(uev_get32(h + 32), x->segment_seq - run2_first_seg);
	}
	ck_assert_uint_eq(uev_get64(b + 4096 + 24), 1); /* run 2 began in run 1's segment */
	ck_assert_uint_eq(r.rec[0].segment_seq, run2_first_seg);
	free(b);
	rt_check_pages(path, 160);
	rt_read_free(&r);
}
END_TEST

/* Two runs in one segment whose FORMAT 7 differ: a reader keying formats
 * by (rec->run_id, id), as replay does, finds each page's own. */
START_TEST(t_run_attribution)
{
	const char *path = rt_path(0, "attr.ring");
	const char *fmt_of[8] = { NULL };
	struct rt_read r;
	unsigned pages[3] = { 0 };

	one_run(path, "fmt of run 1", 0, 4, 500);
	killed_run(path, "fmt of run 2", 4, 4, 500);
	ck_assert_int_eq(rt_read(path, &r), 0);
	ck_assert_uint_eq(r.rec[0].segment_seq, r.rec[r.n - 1].segment_seq);
	for (size_t i = 0; i < r.n; i++) {
		const struct rt_rec *x = &r.rec[i];
		char want[32];

		ck_assert_uint_le(x->run_id, 2);
		if (x->type == UEV_RING_FORMAT)
			fmt_of[x->run_id] = (const char *)x->payload + 8 + 4; /* "s\0e\0" text */
		if (x->type != UEV_RING_PAGE)
			continue;
		snprintf(want, sizeof(want), "fmt of run %llu", (unsigned long long)x->run_id);
		ck_assert_ptr_nonnull(fmt_of[x->run_id]);
		ck_assert_str_eq(fmt_of[x->run_id], want);
		pages[x->run_id]++;
	}
	ck_assert_uint_eq(pages[1], 4);
	ck_assert_uint_eq(pages[2], 4);
	rt_read_free(&r);
}
END_TEST

/* A version 1 or 2 file, as such a writer made it: a 267-byte RUN_START
 * (version 1), a 271-byte one without the page layout (version 2); here
 * every run starts a segment, as in version 1. */
static uint32_t old_run_start_len(uint32_t version)
{
	return version == 1 ? UEV_RING_RUN_START_V1_LEN
	     : version == 2 ? UEV_RING_RUN_START_V2_LEN : version == 3 ? UEV_RING_RUN_START_V3_LEN : UEV_RING_RUN_START_LEN;
}

static void make_old(const char *path, uint32_t version, uint8_t **out, size_t *size)
{
	struct uev_ring_super sb = { .version = version, .seat = "seat0" };
	struct uev_ring_run_info ri;
	uint32_t pos = UEV_RING_SEG_HDR;
	uint64_t seq = 1;
	uint8_t *f, *seg;

	ck_assert_int_eq(uev_ring_geometry(1 * MiB, &sb.segment_size, &sb.segment_count), 0);
	sb.file_size = 4096 + (uint64_t)sb.segment_count * sb.segment_size;
	f = calloc(1, sb.file_size);
	ck_assert_ptr_nonnull(f);
	seg = f + 4096;
	uev_ring_super_encode(f, &sb);
	uev_ring_seghdr_encode(seg, &(struct uev_ring_seghdr){ 1, 1, 1, 0 });
	rt_run_info(&ri);
	for (unsigned i = 0; i < 6; i++) {
		uint8_t *p = seg + pos + UEV_RING_REC_HDR;
		uint16_t type = i == 0 ? UEV_RING_RUN_START : i == 5 ? UEV_RING_RUN_END : UEV_RING_PAGE;
		uint32_t len = i == 0 ? old_run_start_len(version) : i == 5 ? 32 : 700;

		if (i == 0) {
			uint8_t rs[UEV_RING_RUN_START_LEN];

			uev_ring_run_start_encode(rs, 1, &ri);
			memcpy(p, rs, len);
		} else if (type == UEV_RING_PAGE) {
			rt_gen(p, len, i - 1);
		}
		uev_ring_rechdr_seal(seg + pos, &(struct uev_ring_rechdr){ type, 0xffff, len, seq++, 1 });
		pos += (uint32_t)uev_ring_rec_size(len);
	}
	spill(path, f, sb.file_size);
	*out = f;
	*size = sb.file_size;
}

/* Files of versions 1 to 3 (_i) read as they are, with the page layout
 * of the only machines that wrote them (little-endian, 8-byte long), and
 * a writer upgrades them to this version. */
START_TEST(t_old_upgrade)
{
	const char *path = rt_path(0, "old.ring");
	const uint32_t v = (uint32_t)_i;
	struct uev_ring_run_start_rec rs;
	struct rt_read r0, r1;
	uint8_t *old, *now;
	size_t size;

	make_old(path, v, &old, &size);
	ck_assert_int_eq(rt_read(path, &r0), 0);
	ck_assert_msg(r0.nreports == 0, "%s", rt_report0(&r0));
	ck_assert_uint_eq(r0.sb.version, v);
	ck_assert_uint_eq(r0.n, 6);
	ck_assert_uint_eq(r0.rec[0].len, old_run_start_len(v));
	ck_assert_int_eq(uev_ring_rec_run_start(&(struct uev_ring_rec){ .type = UEV_RING_RUN_START,
						.len = r0.rec[0].len, .payload = r0.rec[0].payload },
						&rs), 0);
	ck_assert_uint_eq(rs.run_id, 1);
	ck_assert_uint_eq(rs.info.flush_interval_ms, v == 1 ? 0 : 1000); /* 0: unknown */
	ck_assert_uint_eq(rs.info.byte_order, UEV_RING_LITTLE_ENDIAN);
	ck_assert_uint_eq(rs.info.long_size, 8);

	/* Torn upgrades, either field written alone, still read as the old
	 * version. */
	for (int k = 0; k < 2; k++) {
		struct rt_read t;
		uint8_t *b = malloc(size), sb[4096];
		struct uev_ring_super s = r0.sb;

		memcpy(b, old, size);
		s.version = UEV_RING_VERSION;
		uev_ring_super_encode(sb, &s);
		memcpy(b + (k ? 124 : 8), sb + (k ? 124 : 8), 4);
		spill(path, b, size);
		ck_assert_msg(rt_read(path, &t) == 0, "%s", t.errmsg);
		ck_assert_uint_eq(t.sb.version, v);
		ck_assert_uint_eq(t.n, 6);
		rt_read_free(&t);
		/* and a newer version than this build knows is refused */
		uev_put32(b + 8, UEV_RING_VERSION + 1);
		uev_put32(b + 124, uev_crc32c(0, b, 124));
		spill(path, b, size);
		ck_assert_int_eq(rt_read(path, &t), -EINVAL);
		snprintf((char *)sb, sizeof(sb), "unsupported ring version %u", UEV_RING_VERSION + 1);
		ck_assert_msg(strstr(t.errmsg, (char *)sb), "%s", t.errmsg);
		free(b);
	}

	spill(path, old, size);
	one_run(path, "fmt A", 4, 3, 700);
	now = slurp(path, &size);
	ck_assert_uint_eq(uev_get32(now + 8), UEV_RING_VERSION);
	ck_assert_uint_eq(uev_get32(now + 124), uev_crc32c(0, now, 124));
	ck_assert_mem_eq(now + 12, old + 12, 124 - 12); /* nothing else changed */
	ck_assert_int_eq(rt_read(path, &r1), 0);
	ck_assert_uint_eq(r1.sb.version, UEV_RING_VERSION);
	ck_assert_uint_eq(check_restart(&r0, &r1, 1), 1);
	ck_assert_uint_eq(r1.rec[6].len, UEV_RING_RUN_START_LEN);
	ck_assert_int_eq(uev_ring_rec_run_start(&(struct uev_ring_rec){ .type = UEV_RING_RUN_START,
						.len = r1.rec[6].len, .payload = r1.rec[6].payload },
						&rs), 0);
	ck_assert_uint_eq(rs.info.flush_interval_ms, 1000);
	/* this machine's layout, recorded by the writer */
	ck_assert_uint_eq(rs.info.byte_order, uev_ring_host_byte_order());
	ck_assert_uint_eq(rs.info.long_size, sizeof(long));
	rt_check_pages(path, 7);
	free(old);
	free(now);
	rt_read_free(&r0);
	rt_read_free(&r1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ring-runs");
	TCase *tc = tcase_create("runs");

	tcase_add_unchecked_fixture(tc, rt_dir_setup, rt_dir_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, t_restart_clean);
	tcase_add_test(tc, t_restart_killed);
	tcase_add_test(tc, t_torn_next_header);
	tcase_add_test(tc, t_run_spans);
	tcase_add_test(tc, t_run_attribution);
	tcase_add_loop_test(tc, t_old_upgrade, 1, 4);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rt_run(suite());
}
