/* SPDX-License-Identifier: MIT */
/*
 * Names follow the pages (ring-comm.c): in a wrapped ring, every page's
 * pid is named in the page's own segment, before the page, with the name
 * it had when the page was taken; with raw pages and with units that are
 * sealed in a later segment than their pages were taken in; through
 * renames, pid reuse and more pids than the writer remembers. And a
 * checkpoint carries only the names in use, not every name ever seen.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ring-test.h"

#define MiB (1024u * 1024u)
#define NPIDS 6000u  /* more than the 4096 the writer remembers */
#define PAGES 60000u /* the pid window goes round once and a half */
#define DAEMON 7     /* one long-lived pid, named once, renamed once */

/* Page @n's pid: every 5th is DAEMON's, the others a window of 4 pids
 * that moves on every 7 pages, round NPIDS pids (reused under a new
 * name each round). DAEMON's new name comes right after a seal (page
 * PAGES / 2, a multiple of 500): a page still in an open unit when its
 * pid is renamed reads back under the new name (the reader knows only
 * the latest), which is not what this test is about. */
static int32_t page_pid(uint64_t n)
{
	return n % 5 == 0 ? DAEMON : (int32_t)(1000 + (n / 7 + n % 4) % NPIDS);
}

static void page_name(uint64_t n, char name[16])
{
	memset(name, 0, 16);
	if (page_pid(n) == DAEMON)
		snprintf(name, 16, n < PAGES / 2 ? "daemon" : "daemon-renamed");
	else
		snprintf(name, 16, "p%d.%llu", page_pid(n), (unsigned long long)((n / 7 + n % 4) / NPIDS));
}

/* counter, pid, the name it has, then filler that compresses somewhat */
static size_t gen(uint8_t *p, uint64_t n)
{
	size_t len = 200 + (size_t)(n * 2654435761u % 1000);
	int32_t pid = page_pid(n);

	memcpy(p, &n, 8);
	memcpy(p + 8, &pid, 4);
	page_name(n, (char *)p + 12);
	for (size_t i = 28; i < len; i++)
		p[i] = (uint8_t)((i % 16 < 8 ? n >> (i % 8 * 8) : i) ^ (n * i >> 9));
	return len;
}

/* What capture does for each pid a page uses: the writer's name if it
 * still has the pid under the name the pid has now, else name it. */
static void name_pid(struct uev_ring_writer *w, uint64_t n, char (*named)[16])
{
	int32_t pid = page_pid(n);
	char name[16];

	page_name(n, name);
	if (!memcmp(named[pid], name, 16) && uev_ring_writer_comm_use(w, pid) == 0)
		return;
	ck_assert_int_eq(uev_ring_writer_comm(w, pid, name), 0);
	memcpy(named[pid], name, 16);
}

static void write_ring(const char *path, int level)
{
	static char named[1000 + NPIDS][16];
	struct uev_ring_create c = { .path = path, .size = 2 * MiB, .seat = "seat0", .mode = 0600,
				     .gid = (gid_t)-1, .direct = rt_direct, .compression = level,
				     .unit_size = 16384, .unit_cpus = 2 };
	struct uev_ring_writer *w;
	char err[256];
	uint8_t b[4096];

	memset(named, 0, sizeof(named));
	ck_assert_msg(uev_ring_writer_open(&w, &c, err, sizeof(err)) == 0, "%s", err);
	rt_begin(w);
	for (uint64_t n = 1; n <= PAGES; n++) {
		size_t len = gen(b, n);

		name_pid(w, n, named);
		ck_assert_int_eq(rt_page(w, (unsigned)(n % 2), b, len), 0);
		if (n % 16 == 0)
			ck_assert_int_eq(uev_ring_writer_flush(w), 0);
		if (n % 500 == 0) /* a flush interval ends */
			ck_assert_int_eq(uev_ring_writer_seal(w), 0);
	}
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
}

/* Reads @path back and checks every page's name in its segment. */
static void check_ring(const char *path)
{
	static char names[1000 + NPIDS][16];
	static uint64_t named_in[1000 + NPIDS];
	uint64_t seg = 0, pages = 0, ckpts = 0, last[2] = { 0, 0 }, c;
	uint32_t ckpt_max = 0;
	int inck = 0;
	struct rt_read r;

	ck_assert_int_eq(rt_read(path, &r), 0);
	ck_assert_msg(r.nreports == 0, "%s", rt_report0(&r));
	ck_assert_uint_gt(r.st.wraps, 0);
	memset(named_in, 0, sizeof(named_in));
	for (size_t i = 0; i < r.n; i++) {
		const struct rt_rec *x = &r.rec[i];

		if (x->segment_seq != seg) {
			seg = x->segment_seq;
			inck = 1;
		}
		if (x->type == UEV_RING_COMM) {
			for (uint32_t k = 0; k < x->len; k += 20) {
				int32_t pid;

				memcpy(&pid, x->payload + k, 4);
				ck_assert(pid == DAEMON || (pid >= 1000 && pid < 1000 + (int32_t)NPIDS));
				memcpy(names[pid], x->payload + k + 4, 16);
				named_in[pid] = seg;
			}
			if (inck) {
				ckpt_max = x->len / 20 > ckpt_max ? x->len / 20 : ckpt_max;
				ckpts++;
			}
			inck = 0;
		}
		if (x->type != UEV_RING_PAGE)
			continue;
		memcpy(&c, x->payload, 8);
		ck_assert_uint_gt(c, last[c % 2]); /* each CPU's in order, none twice */
		last[c % 2] = c;
		{
			int32_t pid = page_pid(c);

			ck_assert_msg(named_in[pid] == seg, "page %llu: pid %d not named in segment %llu",
				      (unsigned long long)c, pid, (unsigned long long)seg);
			ck_assert_msg(!memcmp(names[pid], x->payload + 12, 16), "page %llu: pid %d named %.16s, not %.16s",
				      (unsigned long long)c, pid, names[pid], (const char *)x->payload + 12);
		}
		pages++;
	}
	ck_assert_uint_eq(last[0] + last[1], 2 * PAGES - 1);
	ck_assert_uint_gt(pages, 1000);
	/* Each checkpoint names what its segment's first pages use and what
	 * the open units' pages used: tens of pids, not the thousands seen. */
	ck_assert_uint_eq(ckpts, r.sb.segment_count);
	ck_assert_msg(ckpt_max <= 64, "a checkpoint named %u pids", ckpt_max);
	fprintf(stderr, "names: %llu pages in %llu segments read, wraps %llu, checkpoints name at most %u pids\n",
		(unsigned long long)pages, (unsigned long long)ckpts, (unsigned long long)r.st.wraps, ckpt_max);
	rt_read_free(&r);
}

START_TEST(t_names_follow_pages)
{
	const char *path = rt_path(0, "names-raw.ring");

	write_ring(path, 0);
	check_ring(path);
}
END_TEST

START_TEST(t_names_follow_units)
{
	const char *path = rt_path(0, "names-units.ring");

	write_ring(path, 1);
	check_ring(path);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ring_names");
	TCase *tc = tcase_create("names");

	tcase_add_unchecked_fixture(tc, rt_dir_setup, rt_dir_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, t_names_follow_pages);
	tcase_add_test(tc, t_names_follow_units);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rt_run(suite());
}
