/* SPDX-License-Identifier: MIT */
/*
 * The format vetting cache (aggregator/decode/format-vet.c): each distinct format
 * text is parsed in a child once per process, by every reader (the decoder
 * of uev-ringdump, replay's streams), a text that crashes libtraceevent is
 * still refused, and the cache's memory stays bounded whatever a file
 * holds. Forks are counted through uev_format_vet_forks().
 */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <event-parse.h>

#include "format-vet.h"
#include "replay.h"
#include "ring-common.h"
#include "fake-kernel.h"
#include "ringdecode.h"

#define RUNS 20
#define CPUS 4

/* libtraceevent 1.7 dereferences NULL on it (fuzz_ring/format-unterminated-array). */
static const char crashes[] = "name: bad\nID: 601\nformat:\n\tfield:char x[";

static char dir[64], ring[96];

/* RUNS runs of one writer each (as RUNS restarts of uev-aggregator would
 * leave), every one with the same FORMAT of uevtest:alpha and one event
 * on each of CPUS CPUs. */
static void write_file(void)
{
	snprintf(dir, sizeof(dir), "/tmp/uev-fmtcache.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(ring, sizeof(ring), "%s/r.ring", dir);
	for (int k = 0; k < RUNS; k++) {
		struct uev_ring_create c = { .path = ring, .size = 1 << 20, .seat = "fmtcache", .mode = 0644,
					     .gid = (gid_t)-1 };
		struct uev_ring_run_info ri = { .trace_clock = "boot", .seat = "fmtcache", .host = "h",
						.kernel_release = "6.0-test", .flush_interval_ms = 1000 };
		struct uev_ring_sync sy = { T0, 1700000000000000000ull + (uint64_t)k * 1000000000ull, T0, T0 };
		struct uev_ring_writer *w;
		uint8_t page[64] = { 0 };
		char err[256];

		snprintf(ri.boot_id, sizeof(ri.boot_id), "%08d-0000-4000-8000-000000000000", k + 1);
		/* sub-buffer: timestamp, commit; one event of 12 bytes: type_len 3 */
		uev_put64(page, T0);
		uev_put64(page + 8, 16);
		uev_put32(page + 16, 3);
		uev_put16(page + 20, 600);
		uev_put32(page + 24, 4242);
		uev_put32(page + 28, 111);
		ck_assert_msg(uev_ring_writer_open(&w, &c, err, sizeof(err)) == 0, "%s", err);
		ck_assert_int_eq(uev_ring_writer_sync(w, &sy), 0);
		ck_assert_int_eq(uev_ring_writer_format(w, UEV_RING_FMT_HEADER_PAGE, 0, "", "header_page", header_page), 0);
		ck_assert_int_eq(uev_ring_writer_format(w, UEV_RING_FMT_EVENT, 600, "uevtest", "alpha", alpha), 0);
		ck_assert_int_eq(uev_ring_writer_begin_run(w, &ri), 0);
		for (unsigned cpu = 0; cpu < CPUS; cpu++)
			ck_assert_int_eq(uev_ring_writer_page(w, cpu, page, 32), 0);
		ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	}
}

static void remove_file(void)
{
	unlink(ring);
	rmdir(dir);
}

START_TEST(vet_once)
{
	unsigned long f0;

	uev_format_vet_forget();
	f0 = uev_format_vet_forks();
	ck_assert_int_eq(uev_format_vet("uevtest", alpha), 1);
	ck_assert_int_eq(uev_format_vet("uevtest", alpha), 1);
	ck_assert_uint_eq(uev_format_vet_forks(), f0 + 1);
	/* The same text of another system is another key. */
	ck_assert_int_eq(uev_format_vet("other", alpha), 1);
	ck_assert_uint_eq(uev_format_vet_forks(), f0 + 2);
	/* The text that kills libtraceevent: refused, from the cache too. */
	ck_assert_int_eq(uev_format_vet("uevtest", crashes), 0);
	ck_assert_int_eq(uev_format_vet("uevtest", crashes), 0);
	ck_assert_uint_eq(uev_format_vet_forks(), f0 + 3);
}
END_TEST

/* SIGKILL every child of this process (the vetter): 1 if there was one. */
static int kill_children(void)
{
	char path[64];
	FILE *fp;
	int pid, n = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	if (!(fp = fopen(path, "r")))
		return -1;
	while (fscanf(fp, "%d", &pid) == 1)
		n += kill(pid, SIGKILL) == 0;
	fclose(fp);
	return n > 0;
}

/* A vetter that died is replaced (or bypassed): verdicts stay right. */
START_TEST(vetter_killed)
{
	int k;

	uev_format_vet_forget();
	ck_assert_int_eq(uev_format_vet("uevtest", alpha), 1);
	k = kill_children();
	if (k < 0)
		ck_abort_msg("no /proc/self/task/*/children (CONFIG_PROC_CHILDREN)");
	ck_assert_msg(k == 1, "no vetter process after a vet");
	ck_assert_int_eq(uev_format_vet("uevtest", crashes), 0);
	ck_assert_int_eq(uev_format_vet("other", alpha), 1);
	ck_assert_int_eq(kill_children(), 1);
	uev_format_vet_forget();
	ck_assert_int_eq(uev_format_vet("uevtest", alpha), 1);
	ck_assert_int_eq(uev_format_vet("uevtest", crashes), 0);
}
END_TEST

/* The sum of what the entries hold, counted apart from c->bytes. */
static size_t held(const struct uev_format_cache *c, size_t *entries)
{
	size_t sum = 0;

	*entries = 0;
	for (unsigned s = 0; s < UEV_FORMAT_CACHE_SETS; s++)
		for (unsigned w = 0; w < UEV_FORMAT_CACHE_WAYS; w++)
			if (c->e[s][w].key) {
				sum += c->e[s][w].len;
				++*entries;
			}
	return sum;
}

/* A million distinct formats, as a hostile file could carry: the cache
 * holds at most its bound, evicting the least recently used. */
START_TEST(bounded)
{
	struct uev_format_cache *c = calloc(1, sizeof(*c));
	size_t big = 64 << 10, n, sum;
	char *text = malloc(UEV_FORMAT_CACHE_BYTES + 2), *first = NULL;

	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(text);
	for (unsigned long i = 0; i < 1000000; i++) {
		/* Mostly format-sized texts, every 1000th a 64 KiB one. */
		size_t len = i % 1000 ? 200 + i % 3000 : big;
		int h = snprintf(text, 32, "name: e%lu\n", i);

		memset(text + h, 'a' + (int)(i % 26), len - (size_t)h);
		text[len] = '\0';
		if (i == 1)
			ck_assert_ptr_nonnull(first = strdup(text));
		uev_format_cache_put(c, "s", text, (int)(i & 1));
		ck_assert_int_eq(uev_format_cache_get(c, "s", text), (int)(i & 1));
		if (i % 4099 == 0) {
			sum = held(c, &n);
			ck_assert_uint_eq(sum, c->bytes);
			ck_assert_uint_eq(n, c->entries);
			ck_assert_uint_le(c->bytes, UEV_FORMAT_CACHE_BYTES);
			ck_assert_uint_le(n, UEV_FORMAT_CACHE_SETS * UEV_FORMAT_CACHE_WAYS);
		}
	}
	ck_assert_uint_le(c->bytes, UEV_FORMAT_CACHE_BYTES);
	ck_assert_uint_gt(c->entries, UEV_FORMAT_CACHE_SETS); /* and it does hold many */
	/* An early text is gone; a text that differs in its last byte from
	 * one held is not taken for it. */
	ck_assert_int_eq(uev_format_cache_get(c, "s", first), -1);
	text[strlen(text) - 1] ^= 1;
	ck_assert_int_eq(uev_format_cache_get(c, "s", text), -1);
	text[strlen(text) - 1] ^= 1;
	ck_assert_int_eq(uev_format_cache_get(c, "s", text), 1);
	/* The whole budget: kept, alone; one byte more: not kept. */
	memset(text, 'z', UEV_FORMAT_CACHE_BYTES - 2);
	text[UEV_FORMAT_CACHE_BYTES - 2] = '\0'; /* + "s" + NUL = the budget */
	uev_format_cache_put(c, "s", text, 1);
	ck_assert_int_eq(uev_format_cache_get(c, "s", text), 1);
	ck_assert_uint_eq(c->entries, 1);
	text[UEV_FORMAT_CACHE_BYTES - 2] = 'z';
	text[UEV_FORMAT_CACHE_BYTES - 1] = '\0';
	uev_format_cache_put(c, "s", text, 1);
	ck_assert_int_eq(uev_format_cache_get(c, "s", text), -1);
	uev_format_cache_clear(c);
	ck_assert_uint_eq(c->bytes, 0);
	ck_assert_uint_eq(c->entries, 0);
	free(first);
	free(text);
	free(c);
}
END_TEST

static int count(void *ctx, const struct uev_ringdec_run *run, const struct uev_rec *r)
{
	(void)run;
	if (r->event && !strcmp(r->event->name, "alpha"))
		++*(int *)ctx;
	return 0;
}

/* uev-ringdump's decoder: one fork for the one text of RUNS runs, none
 * when the file is read again. */
START_TEST(ringdump_once)
{
	char err[256];
	unsigned long f0;
	int n = 0;

	write_file();
	uev_format_vet_forget();
	f0 = uev_format_vet_forks();
	ck_assert_msg(uev_ring_decode(ring, NULL, NULL, count, &n, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(n, RUNS * CPUS);
	ck_assert_uint_eq(uev_format_vet_forks(), f0 + 1);
	ck_assert_msg(uev_ring_decode(ring, NULL, NULL, count, &n, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(n, 2 * RUNS * CPUS);
	ck_assert_uint_eq(uev_format_vet_forks(), f0 + 1);
	remove_file();
}
END_TEST

/* uev-replay: CPUS streams, each meeting the FORMAT of every run: one fork. */
START_TEST(replay_once)
{
	struct rp_ctx c = { .quiet = 1 };
	struct rp_file f = { .path = ring };
	char err[256];
	unsigned long f0;
	int n = 0;

	write_file();
	uev_format_vet_forget();
	f0 = uev_format_vet_forks();
	ck_assert_msg(rp_prescan(&c, &f, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(f.ncpu, CPUS);
	for (unsigned cpu = 0; cpu < CPUS; cpu++) {
		ck_assert_uint_eq(f.cpu[cpu], cpu);
		struct rp_stream *s;

		ck_assert_msg(rp_stream_open(&s, &c, &f, cpu, 0, err, sizeof(err)) == 0, "%s", err);
		while (rp_stream_next(s) > 0)
			n += rp_stream_head(s)->r.event && !strcmp(rp_stream_head(s)->r.event->name, "alpha");
		rp_stream_close(s);
	}
	ck_assert_int_eq(n, RUNS * CPUS);
	ck_assert_uint_eq(uev_format_vet_forks(), f0 + 1);
	rp_file_free(&f);
	for (size_t i = 0; i < c.nann; i++)
		free(c.ann[i].def);
	free(c.ann);
	free(c.clocks);
	free(c.said);
	remove_file();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("format-cache");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, vet_once);
	tcase_add_test(tc, vetter_killed);
	tcase_add_test(tc, bounded);
	tcase_add_test(tc, ringdump_once);
	tcase_add_test(tc, replay_once);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
