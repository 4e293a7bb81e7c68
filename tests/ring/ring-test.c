/* SPDX-License-Identifier: MIT */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring-test.h"

char rt_dir[256];
int rt_direct;

int rt_direct_wanted(void)
{
	const char *d = getenv("UEV_RING_TEST_DIRECT");

	return d && !strcmp(d, "1");
}

void rt_dir_setup(void)
{
	const char *tmp = getenv("TMPDIR");

	rt_direct = rt_direct_wanted();

	snprintf(rt_dir, sizeof(rt_dir), "%s/uev-ring-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(rt_dir)) {
		perror("mkdtemp");
		abort();
	}
	if (rt_direct) { /* a file system without O_DIRECT has nothing to test here */
		char probe[300];
		int fd;

		snprintf(probe, sizeof(probe), "%s/probe", rt_dir);
		fd = open(probe, O_RDWR | O_CREAT | O_DIRECT, 0600);
		if (fd < 0) {
			printf("SKIP: %s does not take O_DIRECT (%s)\n", rt_dir, strerror(errno));
			rt_dir_teardown();
			exit(77);
		}
		close(fd);
		unlink(probe);
	}
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void rt_dir_teardown(void)
{
	if (rt_dir[0])
		nftw(rt_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *rt_path(unsigned slot, const char *name)
{
	static char buf[4][512];

	slot %= 4;
	snprintf(buf[slot], sizeof(buf[slot]), "%s/%s", rt_dir, name);
	return buf[slot];
}

static void on_report(void *ctx, enum uev_ring_report_kind kind, uint64_t off, const char *msg)
{
	struct rt_read *r = ctx;

	r->nkind[kind == UEV_RING_TORN_END]++;

	if (r->nreports < 4)
		snprintf(r->report[r->nreports], sizeof(r->report[0]), "%s", msg);
	if (r->nreports < 64)
		r->report_off[r->nreports] = off;
	r->nreports++;
}

int rt_reported_at(const struct rt_read *r, uint64_t off)
{
	for (unsigned i = 0; i < r->nreports && i < 64; i++)
		if (r->report_off[i] == off)
			return 1;
	return 0;
}

const char *rt_report0(const struct rt_read *r)
{
	static char buf[320];

	if (!r->nreports)
		return "";
	snprintf(buf, sizeof(buf), "%llu: %s", (unsigned long long)r->report_off[0], r->report[0]);
	return buf;
}

int rt_read(const char *path, struct rt_read *r)
{
	struct uev_ring_reader *rd;
	struct uev_ring_rec rec;
	int k;

	memset(r, 0, sizeof(*r));
	r->err = uev_ring_reader_open(&rd, path, on_report, r, r->errmsg, sizeof(r->errmsg));
	if (r->err < 0)
		return r->err;
	r->sb = *uev_ring_reader_super(rd);
	while ((k = uev_ring_reader_next(rd, &rec)) == 1) {
		struct rt_rec *x;

		if (r->n == r->cap) {
			r->cap = r->cap ? 2 * r->cap : 256;
			r->rec = realloc(r->rec, r->cap * sizeof(*r->rec));
			ck_assert_ptr_nonnull(r->rec);
		}
		x = &r->rec[r->n++];
		*x = (struct rt_rec){ rec.type, rec.cpu, rec.len, rec.seq, rec.segment_seq,
				      rec.run_id, rec.offset, malloc(rec.len ? rec.len : 1), rec.sub,
				      rec.unit_pages };
		ck_assert_ptr_nonnull(x->payload);
		memcpy(x->payload, rec.payload, rec.len);
	}
	r->err = k;
	r->st = *uev_ring_reader_stats(rd);
	uev_ring_reader_close(rd);
	return r->err;
}

void rt_read_free(struct rt_read *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->rec[i].payload);
	free(r->rec);
	r->rec = NULL;
	r->n = r->cap = 0;
}

void rt_run_info(struct uev_ring_run_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	strcpy(ri->boot_id, "0f6d3d4c-6a8b-4a1e-9c43-2b2c8f1e7a55");
	strcpy(ri->kernel_release, "6.1.0-test");
	strcpy(ri->seat, "seat0");
	strcpy(ri->trace_clock, "mono");
	strcpy(ri->host, "testhost");
	ri->aggregator_pid = (uint32_t)getpid();
	ri->start_realtime_ns = 1700000000123456789ull;
	ri->flush_interval_ms = 1000;
}

struct uev_ring_writer *rt_open(const char *path, uint64_t size)
{
	struct uev_ring_create c = { .path = path, .size = size, .seat = "seat0", .mode = 0640, .gid = (gid_t)-1, .recreate = 0, .direct = rt_direct };
	struct uev_ring_writer *w = NULL;
	char err[512];
	int r = uev_ring_writer_open(&w, &c, err, sizeof(err));

	ck_assert_msg(r == 0, "open %s: %d %s", path, r, err);
	/* The file systems this runs on (ext4; tmpfs on 6.12 and 6.18) take
	 * O_DIRECT: a silent fallback would make the direct run test the page
	 * cache instead. */
	ck_assert_msg(uev_ring_writer_direct(w) == rt_direct, "%s: direct I/O %s", path,
		      rt_direct ? "asked for but not in use" : "in use though not asked for");
	return w;
}

void rt_begin(struct uev_ring_writer *w)
{
	struct uev_ring_run_info ri;

	rt_run_info(&ri);
	ck_assert_int_eq(uev_ring_writer_begin_run(w, &ri), 0);
}

int rt_page(struct uev_ring_writer *w, unsigned cpu, const void *p, size_t len)
{
	int r = uev_ring_writer_page(w, cpu, p, len);

	if (r == -ENOBUFS) {
		ck_assert_int_eq(uev_ring_writer_flush(w), 0);
		r = uev_ring_writer_page(w, cpu, p, len);
	}
	return r;
}

uint64_t rt_rand(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

void rt_gen(uint8_t *p, size_t len, uint64_t counter)
{
	uint64_t s = counter * 0x9e3779b97f4a7c15ull + len + 1;

	for (size_t i = 0; i < len; i++) {
		if (i < 8)
			p[i] = (uint8_t)(counter >> (8 * i));
		else
			p[i] = (uint8_t)(rt_rand(&s) >> 32);
	}
}

int rt_gen_check(const uint8_t *p, size_t len, uint64_t *counter)
{
	uint64_t c = 0;
	uint8_t *q;
	int ok;

	if (len < 8)
		return 0;
	for (int i = 0; i < 8; i++)
		c |= (uint64_t)p[i] << (8 * i);
	q = malloc(len);
	ck_assert_ptr_nonnull(q);
	rt_gen(q, len, c);
	ok = memcmp(p, q, len) == 0;
	free(q);
	*counter = c;
	return ok;
}

uint64_t rt_file_size(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

int rt_is_ckpt_type(enum uev_ring_type t)
{
	return t == UEV_RING_RUN_START || t == UEV_RING_SYNC || t == UEV_RING_FORMAT ||
	       t == UEV_RING_ANNOUNCE || t == UEV_RING_COMM;
}

uint64_t rt_check_pages(const char *path, uint64_t end)
{
	struct rt_read r;
	uint64_t k, n;

	ck_assert_int_eq(rt_read(path, &r), 0);
	ck_assert_msg(r.nreports == 0, "reports: %u, %s", r.nreports, rt_report0(&r));
	ck_assert_uint_eq(r.st.seq_gaps, 0);
	n = r.st.pages;
	ck_assert_uint_le(n, end);
	k = end - n;
	for (size_t j = 0; j < r.n; j++) {
		uint64_t c;

		if (r.rec[j].type != UEV_RING_PAGE)
			continue;
		ck_assert_msg(rt_gen_check(r.rec[j].payload, r.rec[j].len, &c), "page seq %llu damaged",
			      (unsigned long long)r.rec[j].seq);
		ck_assert_uint_eq(c, k++);
	}
	ck_assert_uint_eq(k, end);
	rt_read_free(&r);
	return n;
}

uint64_t rt_kill_child(pid_t pid, const uint64_t *appended, uint64_t *seed)
{
	int st;

	while (!__atomic_load_n(appended, __ATOMIC_SEQ_CST))
		usleep(100);
	usleep((useconds_t)(rt_rand(seed) % 20000));
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st));
	return __atomic_load_n(appended, __ATOMIC_SEQ_CST);
}

int rt_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

void rt_geometry(uint64_t size, uint64_t *S, uint64_t *N)
{
	uint64_t s = size / 64;

	s = s < (64u << 10) ? (64u << 10) : s > (4u << 20) ? (4u << 20) : s;
	s &= ~4095ull;
	*S = s;
	*N = (size - 4096) / s;
}
