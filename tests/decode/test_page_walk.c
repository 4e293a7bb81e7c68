/* SPDX-License-Identifier: MIT */
/*
 * The aggregator finds event bodies with the walk of page-check.h instead
 * of kbuffer (for speed). Here both walk the same real pages of this
 * machine's kernel, and must agree event for event: same body, same size.
 * The pages hold what the walk has to step over: small and large events
 * (large ones carry their length in a second word), time extends (a pause
 * longer than the 2^27 ns a header's delta holds) and printk:console
 * records. Padding inside the committed data is rare in real pages (one
 * in this test's 200-odd); tests/fuzz/fuzz_page.c compares the two walks
 * on every made-up page that passes uev_page_check(), padding included.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <kbuffer.h>
#include <tracefs.h>

#include "ktest.h"
#include "uev-decode.h"

#define N_MARKERS 4000
#define TS_DELTA_MAX (1ull << 27) /* what an event header's delta can hold */

struct walked {
	size_t pages, events, large, gaps;
};

/* Both walks of one page: every event kbuffer returns must be the next one
 * the page-check walk returns, at the same address with the same size. */
static void compare_page(struct kbuffer *kb, const uint8_t *page, size_t len, struct walked *w)
{
	struct uev_page_walk walk;
	unsigned long long ts, prev = 0;
	const uint8_t *body;
	const char *why;
	uint32_t size;
	void *data;
	size_t n = 0;

	ck_assert_int_eq(kbuffer_load_subbuffer(kb, (void *)page), 0);
	ck_assert_msg(uev_page_walk_init(&walk, page, len, &why) == 0, "page %zu: %s", w->pages, why);
	for (data = kbuffer_read_event(kb, &ts); data; data = kbuffer_next_event(kb, &ts), n++) {
		int r = uev_page_walk_next(&walk, &body, &size, &why);

		ck_assert_msg(r == 1, "page %zu event %zu: kbuffer has it, the walk says %d (%s)",
			      w->pages, n, r, r < 0 ? why : "end");
		ck_assert_ptr_eq(body, data);
		ck_assert_uint_eq(size, (unsigned)kbuffer_event_size(kb));
		w->large += size > 28 * 4; /* beyond what type_len can express */
		w->gaps += n > 0 && ts - prev >= TS_DELTA_MAX;
		prev = ts;
	}
	ck_assert_msg(uev_page_walk_next(&walk, &body, &size, &why) == 0,
		      "page %zu: the walk finds more than kbuffer's %zu events", w->pages, n);
	w->events += n;
	w->pages++;
}

static void read_cpu(struct tracefs_instance *inst, int cpu, size_t subbuf, struct walked *w)
{
	char path[64];
	uint8_t *page = malloc(subbuf);
	struct kbuffer *kb = kbuffer_alloc(KBUFFER_LSIZE_SAME_AS_HOST, KBUFFER_ENDIAN_SAME_AS_HOST);
	char *file;
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "per_cpu/cpu%d/trace_pipe_raw", cpu);
	file = tracefs_instance_get_file(inst, path);
	fd = open(file, O_RDONLY | O_NONBLOCK);
	ck_assert_msg(fd >= 0, "%s: %s", file, strerror(errno));
	while ((got = read(fd, page, subbuf)) > 0)
		compare_page(kb, page, (size_t)got, w);
	ck_assert_msg(got == 0 || errno == EAGAIN, "%s: %s", file, strerror(errno));
	close(fd);
	tracefs_put_tracing_file(file);
	kbuffer_free(kb);
	free(page);
}

START_TEST(walk_matches_kbuffer)
{
	struct uev_seat s;
	char run_dir[256], rec[512], line[64], *kb;
	struct walked w = { 0 };
	cpu_set_t one;
	size_t subbuf;
	int fd, kmsg, ncpu = (int)sysconf(_SC_NPROCESSORS_CONF);

	ktest_seat_new(&s, run_dir, sizeof(run_dir), 0);
	ck_assert_int_eq(tracefs_event_enable(s.instance, "printk", "console"), 0);
	ck_assert_int_eq(tracefs_instance_file_write(s.instance, "tracing_on", "1") > 0, 1);
	kb = tracefs_instance_file_read(s.instance, "buffer_subbuf_size_kb", NULL);
	subbuf = kb ? strtoul(kb, NULL, 10) * 1024 : (size_t)getpagesize();
	free(kb);
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	fd = tracefs_instance_file_open(s.instance, "trace_marker_raw", O_WRONLY);
	kmsg = open("/dev/kmsg", O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(kmsg, 0);
	memset(rec, 0xa5, sizeof(rec));
	for (unsigned i = 0; i < N_MARKERS; i++) {
		/* 4 to 400 bytes: event bodies of 12 to 408 bytes, both header forms */
		size_t n = 4 + (i * 37) % 397;

		memcpy(rec, &i, 4);
		ck_assert_int_eq(write(fd, rec, n), (ssize_t)n);
		if (i % 500 == 0) {
			snprintf(line, sizeof(line), "uev page walk test %u", i);
			ck_assert_int_gt(write(kmsg, line, strlen(line)), 0);
		}
		if (i % 1000 == 999)
			usleep(150000); /* > 2^27 ns: the next event needs a time extend */
	}
	close(kmsg);
	close(fd);
	for (int cpu = 0; cpu < ncpu; cpu++)
		read_cpu(s.instance, cpu, subbuf, &w);
	fprintf(stderr, "walked %zu pages, %zu events (%zu large, %zu after a time extend)\n",
		w.pages, w.events, w.large, w.gaps);
	ck_assert_uint_ge(w.events, N_MARKERS);
	ck_assert_uint_gt(w.large, 0);
	ck_assert_uint_ge(w.gaps, 3);
	ck_assert_uint_ge(w.pages, N_MARKERS * 12 / subbuf);
	uev_seat_close(&s, true);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("page_walk");
	TCase *tc = tcase_create("kernel");

	ktest_require_root_tracefs();
	tcase_add_test(tc, walk_matches_kbuffer);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(su, tc);
	return ktest_run(su);
}
