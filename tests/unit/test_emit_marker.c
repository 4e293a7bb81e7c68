/* SPDX-License-Identifier: MIT */
/* The marker backend without a kernel: a temporary directory stands in for
 * tracefs (a FIFO as the seat instance's trace_marker_raw) and for the run
 * dir (an enable page this test owns and flips), see uev-abi.h. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "uev-internal.h"
#include "unit-decode.h"

#define SEAT "seatU"

static struct {
	char root[64], tfs[128], run[128], fifo[256], page[256];
	int rfd;
	struct uev_enable_page *pg;
	struct uev_provider *p;
} m = { .rfd = -1 };
/* main() makes it and removes it after the run: a failed check ends a test
 * process without its teardown. */
static char base[32] = "/tmp/uev-unit-XXXXXX";

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(path);
}

static void teardown(void)
{
	if (m.p)
		uev_provider_close(m.p);
	if (m.pg)
		munmap(m.pg, UEV_PAGE_SIZE);
	if (m.rfd >= 0)
		close(m.rfd);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* An enable page file of @size bytes, written under a temporary name and
 * renamed into place so a watcher never sees it half-written. */
static void write_page(uint32_t magic, uint32_t version, uint32_t enabled, uint32_t epoch, size_t size)
{
	static uint8_t buf[UEV_PAGE_SIZE];
	struct uev_enable_page h = { .magic = magic, .version = version, .enabled = enabled,
				     .epoch = epoch, .owner_pid = getpid() };
	char tmp[300];
	int fd;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, &h, size < sizeof(h) ? size : sizeof(h));
	snprintf(tmp, sizeof(tmp), "%s/.page.tmp", m.run);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, size), (ssize_t)size);
	close(fd);
	ck_assert_int_eq(rename(tmp, m.page), 0);
}

static void map_page(void)
{
	int fd = open(m.page, O_RDWR);

	ck_assert_int_ge(fd, 0);
	m.pg = mmap(NULL, UEV_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(m.pg, MAP_FAILED);
	close(fd);
}

/* Publish a page change the way a seat reader must (uev_page_publish: the
 * watcher sleeps on a futex) and wait until @e shows the new state. */
static void publish(const struct uev_event *e, int enabled, int new_epoch)
{
	double t0;

	uev_page_publish(m.pg, enabled, new_epoch);
	for (t0 = now(); uev_enabled(e) != !!enabled && now() - t0 < 2.0;)
		usleep(1000);
	ck_assert_msg(uev_enabled(e) == !!enabled, "enable word did not follow the page in 2 s");
}

static void make_instance(void)
{
	char dir[200];

	snprintf(dir, sizeof(dir), "%s/instances", m.tfs);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/instances/" UEV_INSTANCE_PREFIX SEAT, m.tfs);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(m.fifo, sizeof(m.fifo), "%s/trace_marker_raw", dir);
	ck_assert_int_eq(mkfifo(m.fifo, 0600), 0);
	/* O_RDWR: the library's O_WRONLY open then never blocks */
	m.rfd = open(m.fifo, O_RDWR | O_NONBLOCK);
	ck_assert_int_ge(m.rfd, 0);
}

/* Temp tracefs + run dir; optionally the instance FIFO and the page. */
static void marker_setup(int instance, int page)
{
	struct uev_provider_options o = { .seat = SEAT };

	snprintf(m.root, sizeof(m.root), "%s/tXXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(m.root));
	snprintf(m.tfs, sizeof(m.tfs), "%s/tfs", m.root);
	snprintf(m.run, sizeof(m.run), "%s/run", m.root);
	snprintf(m.page, sizeof(m.page), "%s/" SEAT ".enable", m.run);
	ck_assert_int_eq(mkdir(m.tfs, 0755), 0);
	ck_assert_int_eq(mkdir(m.run, 0755), 0);
	if (instance)
		make_instance();
	if (page) {
		write_page(UEV_PAGE_MAGIC, UEV_PAGE_VERSION, 1, 1, UEV_PAGE_SIZE);
		map_page();
	}
	unsetenv("UEV_BACKEND");
	o.tracefs = m.tfs;
	o.run_dir = m.run;
	ck_assert_int_eq(uev_provider_open(&m.p, &o), 0);
	ck_assert_int_eq(uev_provider_backend(m.p), UEV_BACKEND_MARKER);
}

static void read_n(void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pfd = { .fd = m.rfd, .events = POLLIN };
		ssize_t r;

		ck_assert_msg(poll(&pfd, 1, 1000) == 1, "timeout: %zu of %zu bytes", got, n);
		r = read(m.rfd, (char *)buf + got, n - got);
		ck_assert_int_gt(r, 0);
		got += (size_t)r;
	}
}

static void expect_empty(int fd)
{
	char c;

	ck_assert_msg(read(fd, &c, 1) < 0 && errno == EAGAIN, "unexpected data");
}

static void read_announce(const char *canon)
{
	uint32_t h[2];
	char text[UEV_DEF_MAX];

	read_n(h, 8);
	ck_assert_uint_eq(h[0], UEV_MARKER_ANNOUNCE);
	ck_assert_uint_eq(h[1], uev_marker_id(canon));
	read_n(text, strlen(canon) + 1);
	ck_assert_str_eq(text, canon);
}

/* demo_ev's payload: u32 a; __rel_loc char[] s; s64 b */
static const char demo_canon[] = "demo_ev u32 a; __rel_loc char[] s; s64 b";
static const struct ufield demo_f[] = { { UK_U, 4 }, { UK_REL, 4 }, { UK_S, 8 } };
/* Tests run in their own processes (CK_FORK), so they may share it. */
static struct uev_event ev = UEV_EVENT_INIT("demo_ev", "u32 a; __rel_loc char[] s; s64 b");

static void check_demo(const uint8_t *pl, size_t len, uint32_t a, const char *s, int64_t b)
{
	struct uval v[3];
	size_t end;
	const char *why = udecode(pl, len, demo_f, 3, v, &end);

	ck_assert_msg(!why, "decoder: %s", why ? why : "");
	ck_assert_uint_eq(end, len);
	ck_assert_uint_eq(v[0].u, a);
	ck_assert_uint_eq(v[1].slen, strlen(s));
	ck_assert(memcmp(v[1].str, s, v[1].slen) == 0);
	ck_assert_int_eq(v[2].s, b);
}

static void read_demo(uint32_t a, const char *s, int64_t b)
{
	uint8_t buf[UEV_MARKER_MAX];
	size_t len = 16 + strlen(s) + 1;
	uint32_t id;

	read_n(buf, 4 + len);
	memcpy(&id, buf, 4);
	ck_assert_uint_eq(id, uev_marker_id(demo_canon));
	check_demo(buf + 4, len, a, s, b);
}

START_TEST(t_marker_no_page)
{
	marker_setup(0, 0); /* empty tracefs: auto picks the marker */
	ck_assert_ptr_nonnull(strstr(uev_provider_status(m.p), "marker"));
	ck_assert_int_eq(uev_event_register(m.p, &ev), 0);
	ck_assert(!uev_enabled(&ev));
	ck_assert_int_eq(uev_emit(&ev, 1u, "x", (int64_t)2), 0);
	ck_assert_int_eq((uev_emit)(&ev, 1u, "x", (int64_t)2), 0);
}
END_TEST

/* Page there but the instance not yet: dropped quietly; once it exists a new
 * epoch makes the emitter open it. */
START_TEST(t_instance_later)
{
	marker_setup(0, 1);
	ck_assert_int_eq(uev_event_register(m.p, &ev), 0);
	ck_assert(uev_enabled(&ev));
	errno = 4321;
	ck_assert_int_lt(uev_emit(&ev, 1u, "x", (int64_t)2), 0);
	ck_assert_int_eq(errno, 4321);
	make_instance();
	publish(&ev, 1, 1);
	ck_assert_int_eq(uev_emit(&ev, 3u, "later", (int64_t)4), UEV_EMIT_WRITTEN);
	read_announce(demo_canon);
	read_demo(3, "later", 4);
	expect_empty(m.rfd);
}
END_TEST

START_TEST(t_marker_fifo)
{
	/* same definition as demo_ev, other spacing: same canonical text */
	static struct uev_event sp = UEV_EVENT_INIT("demo_ev", "  u32 a;__rel_loc char[]  s; s64 b ");
	static struct uev_event ev2 = UEV_EVENT_INIT("other", "u8 z");
	uint8_t rec[5];
	uint32_t id;

	marker_setup(1, 1);
	ck_assert_int_eq(uev_event_register(m.p, &sp), 0);
	ck_assert_int_eq(uev_event_register(m.p, &ev2), 0);
	ck_assert(uev_enabled(&sp));
	ck_assert_int_eq(uev_emit(&sp, 7u, "h\xc3\xa9llo", (int64_t)-3), UEV_EMIT_WRITTEN);
	read_announce(demo_canon);
	read_demo(7, "h\xc3\xa9llo", -3);
	expect_empty(m.rfd);

	/* same epoch: no second announcement */
	ck_assert_int_eq(uev_emit(&sp, 5u, "", (int64_t)1 << 40), UEV_EMIT_WRITTEN);
	read_demo(5, "", (int64_t)1 << 40);
	expect_empty(m.rfd);

	/* another event announces itself once, under its own id */
	ck_assert_int_eq(uev_emit(&ev2, 200), UEV_EMIT_WRITTEN);
	read_announce("other u8 z");
	read_n(rec, 5);
	memcpy(&id, rec, 4);
	ck_assert_uint_eq(id, uev_marker_id("other u8 z"));
	ck_assert_uint_ne(id, uev_marker_id(demo_canon));
	ck_assert_uint_eq(rec[4], 200);
	expect_empty(m.rfd);

	/* recording restarts: announce again */
	publish(&sp, 1, 1);
	ck_assert_int_eq(uev_emit(&sp, 9u, "again", (int64_t)0), UEV_EMIT_WRITTEN);
	read_announce(demo_canon);
	read_demo(9, "again", 0);
	expect_empty(m.rfd);

	/* recording stops: disabled (both events), nothing written */
	publish(&sp, 0, 0);
	ck_assert(!uev_enabled(&ev2));
	ck_assert_int_eq(uev_emit(&sp, 1u, "no", (int64_t)1), 0);
	ck_assert_int_eq((uev_emit)(&sp, 1u, "no", (int64_t)1), 0);
	expect_empty(m.rfd);
	publish(&sp, 1, 0);
	ck_assert(uev_enabled(&ev2));
	ck_assert_int_eq(uev_emit(&sp, 2u, "back", (int64_t)2), UEV_EMIT_WRITTEN);
	read_demo(2, "back", 2);
	expect_empty(m.rfd);

	/* closing the provider disables its events */
	uev_provider_close(m.p);
	m.p = NULL;
	ck_assert(!uev_enabled(&sp));
	ck_assert(!uev_enabled(&ev2));
}
END_TEST

START_TEST(t_register_twice)
{
	uint8_t pl[16 + 4]; /* "two" */
	char msg[200];
	uint32_t h;

	marker_setup(1, 1);
	ck_assert_int_eq(uev_event_register(m.p, &ev), 0);
	ck_assert_int_eq(uev_event_register(m.p, &ev), -EALREADY);
	ck_assert_int_eq(uev_event_error(&ev, msg, sizeof(msg)), -EALREADY);
	ck_assert_msg(strstr(msg, "already"), "%s", msg);
	ck_assert(uev_enabled(&ev));
	ck_assert_int_eq(uev_emit(&ev, 1u, "one", (int64_t)1), UEV_EMIT_WRITTEN);
	read_announce(demo_canon);
	read_demo(1, "one", 1);

	uev_event_unregister(&ev);
	ck_assert(!uev_enabled(&ev));
	ck_assert_int_eq((uev_emit)(&ev, 1u, "x", (int64_t)1), 0);
	expect_empty(m.rfd);
	uev_event_unregister(&ev); /* twice: harmless */

	ck_assert_int_eq(uev_event_register(m.p, &ev), 0);
	ck_assert(uev_enabled(&ev));
	ck_assert_int_eq(uev_emit(&ev, 2u, "two", (int64_t)2), UEV_EMIT_WRITTEN);
	/* an announcement may come again; the record must follow */
	read_n(&h, 4);
	if (h == UEV_MARKER_ANNOUNCE) {
		char rest[4 + sizeof(demo_canon)];

		read_n(rest, sizeof(rest));
		ck_assert_str_eq(rest + 4, demo_canon);
		read_n(&h, 4);
	}
	ck_assert_uint_eq(h, uev_marker_id(demo_canon));
	read_n(pl, sizeof(pl));
	check_demo(pl, sizeof(pl), 2, "two", 2);
	expect_empty(m.rfd);
}
END_TEST

START_TEST(t_fork)
{
	int st;
	pid_t pid;

	marker_setup(1, 1);
	ck_assert_int_eq(uev_event_register(m.p, &ev), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(uev_emit(&ev, 11u, "child", (int64_t)getpid()) == UEV_EMIT_WRITTEN ? 0 : 3);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	read_announce(demo_canon);
	read_demo(11, "child", pid);
	expect_empty(m.rfd);
	/* the parent's own announcement state is its own */
	ck_assert_int_eq(uev_emit(&ev, 12u, "parent", (int64_t)getpid()), UEV_EMIT_WRITTEN);
	read_announce(demo_canon);
	read_demo(12, "parent", getpid());
}
END_TEST

/* Wait up to 3 s for @ev to turn on; returns the seconds it took (or more). */
static double wait_enabled(const struct uev_event *e)
{
	double t0 = now();

	while (!uev_enabled(e) && now() - t0 < 15.0)
		usleep(10 * 1000);
	return uev_enabled(e) ? now() - t0 : 99.0;
}

START_TEST(t_page_late)
{
	double dt;

	marker_setup(0, 0);
	ck_assert_int_eq(uev_event_register(m.p, &ev), 0);
	ck_assert(!uev_enabled(&ev));
	usleep(100 * 1000);
	write_page(UEV_PAGE_MAGIC, UEV_PAGE_VERSION, 1, 1, UEV_PAGE_SIZE);
	dt = wait_enabled(&ev); /* no call into the library meanwhile */
	ck_assert_msg(dt < 4.0, "page picked up after %.2f s (99: never)", dt);
}
END_TEST

START_TEST(t_page_bad)
{
	static const struct { uint32_t magic, version; size_t size; } bad[] = {
		{ 0x12345678u, UEV_PAGE_VERSION, UEV_PAGE_SIZE },
		{ UEV_PAGE_MAGIC, UEV_PAGE_VERSION + 1, UEV_PAGE_SIZE },
		{ UEV_PAGE_MAGIC, UEV_PAGE_VERSION, 100 },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct uev_provider_options o = { .seat = SEAT };

		if (!m.root[0]) {
			marker_setup(0, 0);
			uev_provider_close(m.p);
		}
		write_page(bad[i].magic, bad[i].version, 1, 1, bad[i].size);
		o.tracefs = m.tfs;
		o.run_dir = m.run;
		ck_assert_int_eq(uev_provider_open(&m.p, &o), 0);
		ck_assert_int_eq(uev_event_register(m.p, &ev), 0);
		ck_assert_msg(!uev_enabled(&ev), "bad page %u mapped at open", i);
		usleep(1300 * 1000); /* the watcher retries once a second */
		ck_assert_msg(!uev_enabled(&ev), "bad page %u mapped later", i);
		ck_assert_int_eq((uev_emit)(&ev, 1u, "x", (int64_t)1), 0);
		uev_provider_close(m.p);
		m.p = NULL;
	}
}
END_TEST

/* A child forked while the page is missing keeps watching for it. */
START_TEST(t_fork_watcher)
{
	int st;
	pid_t pid;

	marker_setup(0, 0);
	ck_assert_int_eq(uev_event_register(m.p, &ev), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	/* The watchers look once a second; the bound leaves room for a
	 * loaded machine under the sanitizers (2 s and then 5 s bounds failed
	 * there: CI's ASan build took 12 s for this case). It is there to
	 * catch a child that never sees the page. */
	if (pid == 0)
		_exit(wait_enabled(&ev) < 12.0 ? 0 : 1);
	usleep(100 * 1000);
	write_page(UEV_PAGE_MAGIC, UEV_PAGE_VERSION, 1, 1, UEV_PAGE_SIZE);
	ck_assert_double_lt(wait_enabled(&ev), 12.0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child did not see the page");
}
END_TEST

/* A child that closes its copy of the provider must not stop the parent's
 * watcher. */
START_TEST(t_fork_child_closes)
{
	double dt;
	int st;
	pid_t pid;

	marker_setup(0, 0);
	ck_assert_int_eq(uev_event_register(m.p, &ev), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		uev_provider_close(m.p);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	write_page(UEV_PAGE_MAGIC, UEV_PAGE_VERSION, 1, 1, UEV_PAGE_SIZE);
	dt = wait_enabled(&ev);
	ck_assert_msg(dt < 4.0, "parent never mapped the page after the child closed its provider");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("uev-emit-marker");
	TCase *mk = tcase_create("marker");
	SRunner *sr;
	int failed;

	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	tcase_add_checked_fixture(mk, NULL, teardown);
	tcase_set_timeout(mk, 20);
	tcase_add_test(mk, t_marker_no_page);
	tcase_add_test(mk, t_instance_later);
	tcase_add_test(mk, t_marker_fifo);
	tcase_add_test(mk, t_register_twice);
	tcase_add_test(mk, t_fork);
	tcase_add_test(mk, t_page_late);
	tcase_add_test(mk, t_page_bad);
	tcase_add_test(mk, t_fork_watcher);
	tcase_add_test(mk, t_fork_child_closes);
	suite_add_tcase(s, mk);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	nftw(base, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
