/* SPDX-License-Identifier: MIT */
/*
 * The marker backend end to end on this machine's kernel: libuev writes into
 * a fresh seat instance, the test reads the instance's per-CPU
 * trace_pipe_raw pages back through kbuffer/tep and checks every field of
 * every record, and that nothing is missing or duplicated.
 */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ktest.h"
#include "uev-abi.h"

#define N_PER_THREAD 3000
#define N_CHILD 1000

static struct uev_event tick = UEV_EVENT_INIT("ktest_tick",
	"u32 seq; u32 thread; u64 mono_ns; s16 delta; __rel_loc char[] msg; u8 last");
static struct uev_event label = UEV_EVENT_INIT("ktest_label", "char[16] tag; s64 value");

/* The message for (thread, seq): varying lengths, UTF-8 included. */
static void expected_msg(char *buf, size_t size, unsigned thread, unsigned seq)
{
	int n = snprintf(buf, size, "t%u-%u ", thread, seq);

	for (unsigned i = 0; i < seq % 40 && (size_t)n + 3 < size; i++)
		n += snprintf(buf + n, size - (size_t)n, i % 7 ? "x" : "\xc3\xa9");
}

static struct uev_provider *open_seat(struct uev_seat *s, const char *run_dir)
{
	struct uev_provider_options o = { .seat = s->name, .run_dir = run_dir };
	struct uev_provider *p;

	ck_assert_int_eq(uev_provider_open(&p, &o), 0);
	ck_assert_msg(uev_provider_backend(p) == UEV_BACKEND_MARKER, "%s", uev_provider_status(p));
	return p;
}

struct emitter {
	pthread_t t;
	unsigned thread, count, written;
};

static void emit_ticks(unsigned thread, unsigned count, unsigned *written)
{
	char msg[256];

	for (unsigned i = 0; i < count; i++) {
		expected_msg(msg, sizeof(msg), thread, i);
		*written += uev_emit(&tick, i, thread, ktest_mono_ns(), (int)(i % 3) - 1, msg, 1) > 0;
	}
}

static void *emitter_main(void *arg)
{
	struct emitter *e = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(e->thread, &set);
	ck_assert_int_eq(pthread_setaffinity_np(pthread_self(), sizeof(set), &set), 0);
	emit_ticks(e->thread, e->count, &e->written);
	return NULL;
}

START_TEST(two_cpus_and_a_child)
{
	struct uev_seat s;
	char run_dir[256], msg[256];
	struct krecs rs;
	struct emitter e[2] = { { .thread = 0, .count = N_PER_THREAD }, { .thread = 1, .count = N_PER_THREAD } };
	unsigned char *seen[3];
	unsigned long long last_ts[64] = { 0 };
	unsigned child_written = 0;
	int status;
	pid_t child;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		ck_abort_msg("this test needs 2 CPUs");
	ktest_seat_new(&s, run_dir, sizeof(run_dir), 1);
	struct uev_provider *p = open_seat(&s, run_dir);

	ck_assert_int_eq(uev_event_register(p, &tick), 0);
	ck_assert_int_eq(uev_event_register(p, &label), 0);
	ck_assert(uev_enabled(&tick));
	ck_assert_int_eq(uev_emit(&label, "before-fork", (int64_t)-5), UEV_EMIT_WRITTEN);
	for (int i = 0; i < 2; i++)
		pthread_create(&e[i].t, NULL, emitter_main, &e[i]);
	child = fork();
	if (child == 0) {
		emit_ticks(2, N_CHILD, &child_written);
		_exit(child_written == N_CHILD ? 0 : 3);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(e[i].t, NULL);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
	ck_assert_uint_eq(e[0].written, N_PER_THREAD);
	ck_assert_uint_eq(e[1].written, N_PER_THREAD);

	ktest_read(&s, &rs);
	for (int t = 0; t < 3; t++)
		seen[t] = calloc(N_PER_THREAD, 1);
	ck_assert_uint_eq(ktest_count(&rs, UEV_REC_UNKNOWN, NULL), 0);
	ck_assert_uint_ge(ktest_count(&rs, UEV_REC_ANNOUNCE, "ktest_tick"), 1);
	ck_assert_uint_eq(ktest_count(&rs, UEV_REC_USER, "ktest_label"), 1);
	for (size_t i = 0; i < rs.n; i++) {
		struct krec *k = &rs.v[i];

		ck_assert_msg(k->missed == 0, "events lost on cpu %d", k->cpu);
		ck_assert_msg(k->ts >= last_ts[k->cpu], "cpu %d out of order", k->cpu);
		last_ts[k->cpu] = k->ts;
		if (k->kind == UEV_REC_USER && !strcmp(k->name, "ktest_label")) {
			ck_assert_str_eq(k->str[0], "before-fork");
			ck_assert_int_eq((int64_t)k->num[1], -5);
			continue;
		}
		if (k->kind != UEV_REC_USER)
			continue;
		ck_assert_str_eq(k->name, "ktest_tick");
		ck_assert(!k->bad);
		unsigned seq = (unsigned)k->num[0], thread = (unsigned)k->num[1];

		ck_assert_uint_lt(thread, 3);
		ck_assert_uint_lt(seq, thread == 2 ? N_CHILD : N_PER_THREAD);
		ck_assert_msg(!seen[thread][seq]++, "thread %u seq %u twice", thread, seq);
		if (thread < 2)
			ck_assert_int_eq(k->cpu, (int)thread); /* pinned */
		else
			ck_assert_int_eq(k->pid, child);
		expected_msg(msg, sizeof(msg), thread, seq);
		ck_assert_str_eq(k->str[4], msg);
		ck_assert_int_eq((int16_t)k->num[3], (int)(seq % 3) - 1);
		ck_assert_uint_eq(k->num[5], 1);
		/* trace clock "mono": the kernel stamps after the emitter read
		 * the clock, and well within a second of it. */
		ck_assert_uint_ge(k->ts, k->num[2]);
		ck_assert_uint_lt(k->ts - k->num[2], 1000000000ull);
	}
	for (unsigned t = 0; t < 3; t++)
		for (unsigned q = 0; q < (t == 2 ? N_CHILD : N_PER_THREAD); q++)
			ck_assert_msg(seen[t][q] == 1, "thread %u seq %u missing", t, q);
	for (int t = 0; t < 3; t++)
		free(seen[t]);
	ktest_free(&rs);
	uev_provider_close(p);
	uev_seat_close(&s, true);
}
END_TEST

struct follower {
	pthread_t t;
	volatile int stop;
	uint64_t first_ns; /* first successful emit */
	unsigned written;
};

static void *follower_main(void *arg)
{
	struct follower *f = arg;

	for (unsigned i = 0; !f->stop; i++) {
		if (uev_emit(&tick, i, 9u, ktest_mono_ns(), 0, "follow", 0) > 0 && !f->written++)
			f->first_ns = ktest_mono_ns();
		usleep(2000);
	}
	return NULL;
}

/* @page_first: the enable page exists (disabled) when the emitter starts;
 * otherwise nothing of the seat exists yet and libuev must notice it. */
static void follow(int page_first)
{
	struct uev_seat s;
	char run_dir[256];
	struct follower f = { 0 };
	struct krecs rs;
	struct uev_provider *p;
	uint64_t t0;

	ktest_seat_new(&s, run_dir, sizeof(run_dir), page_first ? 0 : -1);
	if (page_first) { /* instance recording markers, page still says "off" */
		ck_assert_int_eq(uev_seat_markers_start(&s), 0);
		uev_seat_markers_stop(&s);
	}
	struct uev_provider_options o = { .seat = strrchr(run_dir, '.') + 1, .run_dir = run_dir };

	ck_assert_int_eq(uev_provider_open(&p, &o), 0);
	ck_assert_int_eq(uev_provider_backend(p), UEV_BACKEND_MARKER);
	ck_assert_int_eq(uev_event_register(p, &tick), 0);
	pthread_create(&f.t, NULL, follower_main, &f);
	usleep(400000);
	ck_assert_uint_eq(f.written, 0);
	if (page_first) {
		ktest_read(&s, &rs);
		ck_assert_uint_eq(rs.n, 0); /* not even an announcement */
		ktest_free(&rs);
	} else {
		char err[1200];

		ck_assert_msg(uev_seat_open(&s, o.seat, run_dir, err, sizeof(err)) == 0, "%s", err);
	}
	t0 = ktest_mono_ns();
	ck_assert_int_eq(uev_seat_markers_start(&s), 0);
	while (!f.written && ktest_mono_ns() - t0 < 3000000000ull)
		usleep(10000);
	usleep(50000);
	f.stop = 1;
	pthread_join(f.t, NULL);
	ck_assert_msg(f.written > 0, "emitter never followed the seat");
	ck_assert_msg(f.first_ns - t0 < 1300000000ull, "followed after %llu ms",
		      (unsigned long long)(f.first_ns - t0) / 1000000);
	ktest_read(&s, &rs);
	ck_assert_uint_eq(ktest_count(&rs, UEV_REC_USER, "ktest_tick"), f.written);
	ck_assert_uint_eq(ktest_count(&rs, UEV_REC_ANNOUNCE, "ktest_tick"), 1);
	ktest_free(&rs);
	uev_provider_close(p);
	uev_seat_close(&s, true);
}

START_TEST(follows_enabling_with_page)
{
	follow(1);
}
END_TEST

START_TEST(follows_a_seat_that_appears_later)
{
	follow(0);
}
END_TEST

/* Wait until @ev's enable word shows @on (the watcher follows the page
 * asynchronously, woken by a futex). */
static void wait_enabled(const struct uev_event *ev, int on)
{
	uint64_t t0 = ktest_mono_ns();

	while (uev_enabled(ev) != !!on && ktest_mono_ns() - t0 < 2000000000ull)
		usleep(1000);
	ck_assert_msg(uev_enabled(ev) == !!on, "enable word never turned %s", on ? "on" : "off");
}

START_TEST(reannounces_each_epoch)
{
	struct uev_seat s;
	char run_dir[256];
	struct krecs rs;

	ktest_seat_new(&s, run_dir, sizeof(run_dir), 1);
	struct uev_provider *p = open_seat(&s, run_dir);

	ck_assert_int_eq(uev_event_register(p, &label), 0);
	ck_assert_int_gt(uev_emit(&label, "one", (int64_t)1), 0);
	ck_assert_int_gt(uev_emit(&label, "two", (int64_t)2), 0);
	uev_seat_markers_stop(&s);
	wait_enabled(&label, 0);
	ck_assert_int_eq(uev_emit(&label, "off", (int64_t)3), 0);
	uev_seat_markers_start(&s);
	wait_enabled(&label, 1);
	ck_assert_int_gt(uev_emit(&label, "three", (int64_t)4), 0);
	ktest_read(&s, &rs);
	ck_assert_uint_eq(ktest_count(&rs, UEV_REC_ANNOUNCE, "ktest_label"), 2);
	ck_assert_uint_eq(ktest_count(&rs, UEV_REC_USER, "ktest_label"), 3);
	ktest_free(&rs);
	uev_provider_close(p);
	uev_seat_close(&s, true);
}
END_TEST

START_TEST(long_strings_truncate_in_the_kernel_record)
{
	struct uev_seat s;
	char run_dir[256], *big = malloc(10000);
	struct krecs rs;
	size_t n;

	/* 3-byte characters all the way: any cut lands inside one unless it
	 * backs up to a boundary. */
	for (n = 0; n + 3 < 10000; n += 3)
		memcpy(big + n, "\xe2\x82\xac", 3);
	big[n] = 0;
	ktest_seat_new(&s, run_dir, sizeof(run_dir), 1);
	struct uev_provider *p = open_seat(&s, run_dir);

	ck_assert_int_eq(uev_event_register(p, &tick), 0);
	ck_assert_int_eq(uev_emit(&tick, 1u, 2u, (uint64_t)3, 0, big, 7),
			 UEV_EMIT_WRITTEN | UEV_EMIT_TRUNCATED);
	ktest_read(&s, &rs);
	ck_assert_uint_eq(ktest_count(&rs, UEV_REC_USER, "ktest_tick"), 1);
	for (size_t i = 0; i < rs.n; i++) {
		if (rs.v[i].kind != UEV_REC_USER)
			continue;
		const char *m = rs.v[i].str[4];
		size_t len = strlen(m);

		ck_assert_uint_eq(rs.v[i].num[5], 7); /* the field after the string survived */
		ck_assert_uint_le(len + 1 + 4 + 4 + 8 + 2 + 4 + 1, UEV_PAYLOAD_MAX);
		ck_assert_uint_gt(len, 3900);
		ck_assert_uint_eq(len % 3, 0); /* whole characters only */
		ck_assert(!memcmp(m + len - 3, "\xe2\x80\xa6", 3));
		ck_assert(!memcmp(m, big, len - 3));
	}
	ktest_free(&rs);
	free(big);
	uev_provider_close(p);
	uev_seat_close(&s, true);
}
END_TEST

/* Fork a child that becomes nobody:nogroup and emits 100 ticks into @s.
 * @granted: it may write (backend marker, every emit written), else it is
 * refused (backend off, every emit a quiet 0). Returns its exit status. */
static int emit_as_nobody(struct uev_seat *s, const char *run_dir, int granted)
{
	int status;
	pid_t child = fork();

	if (child == 0) {
		struct uev_provider_options o = { .seat = s->name, .run_dir = run_dir };
		struct uev_provider *p;
		int bad = 0;

		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(10);
		if (uev_provider_open(&p, &o) != 0 ||
		    uev_provider_backend(p) != (granted ? UEV_BACKEND_MARKER : UEV_BACKEND_OFF))
			_exit(11);
		if (uev_event_register(p, &tick) != 0 || uev_enabled(&tick) != granted)
			_exit(12);
		for (unsigned i = 0; i < 100; i++)
			bad |= uev_emit(&tick, i, 0u, (uint64_t)0, 0, "nobody", 0) !=
				       (granted ? UEV_EMIT_WRITTEN : 0) ||
			       (!granted && (uev_emit)(&tick, i, 0u, (uint64_t)0, 0, "nobody", 0) != 0);
		uev_provider_close(p);
		_exit(bad ? 13 : 0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	return status;
}

START_TEST(unprivileged_emitter_is_a_silent_noop)
{
	struct uev_seat s;
	char run_dir[256];
	struct krecs rs;
	int status;

	ktest_seat_new(&s, run_dir, sizeof(run_dir), 1);
	status = emit_as_nobody(&s, run_dir, 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
	ktest_read(&s, &rs);
	ck_assert_uint_eq(rs.n, 0);
	ktest_free(&rs);
	uev_seat_close(&s, true);
}
END_TEST

/* The same emitter with the seat's group granted: it records. The tracefs
 * root and instances/ modes are restored afterwards. */
START_TEST(granted_group_member_records)
{
	struct uev_seat s;
	char run_dir[256];
	struct krecs rs;
	struct stat top, inst;
	int status;

	ck_assert_int_eq(stat("/sys/kernel/tracing", &top), 0);
	ck_assert_int_eq(stat("/sys/kernel/tracing/instances", &inst), 0);
	ktest_seat_new(&s, run_dir, sizeof(run_dir), 1);
	ck_assert_int_eq(uev_seat_grant(&s, 65534), 0);
	status = emit_as_nobody(&s, run_dir, 1);
	chmod("/sys/kernel/tracing", top.st_mode & 07777);
	chmod("/sys/kernel/tracing/instances", inst.st_mode & 07777);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
	ktest_read(&s, &rs);
	ck_assert_uint_eq(ktest_count(&rs, UEV_REC_USER, "ktest_tick"), 100);
	ktest_free(&rs);
	uev_seat_close(&s, true);
}
END_TEST

static volatile sig_atomic_t handled;

static void on_signal(int sig)
{
	(void)sig;
	handled += uev_emit(&label, "in-handler", (int64_t)handled) > 0;
}

START_TEST(emits_from_a_signal_handler_on_a_small_stack)
{
	struct uev_seat s;
	char run_dir[256];
	struct krecs rs;
	stack_t ss = { .ss_size = 16384 };
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_ONSTACK };

	ktest_seat_new(&s, run_dir, sizeof(run_dir), 1);
	struct uev_provider *p = open_seat(&s, run_dir);

	ck_assert_int_eq(uev_event_register(p, &label), 0);
	ss.ss_sp = malloc(ss.ss_size);
	ck_assert_int_eq(sigaltstack(&ss, NULL), 0);
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < 50; i++)
		raise(SIGUSR1);
	ck_assert_int_eq(handled, 50);
	signal(SIGUSR1, SIG_DFL);
	ss.ss_flags = SS_DISABLE;
	ck_assert_int_eq(sigaltstack(&ss, NULL), 0);
	free(ss.ss_sp);
	ktest_read(&s, &rs);
	ck_assert_uint_eq(ktest_count(&rs, UEV_REC_USER, "ktest_label"), 50);
	ktest_free(&rs);
	uev_provider_close(p);
	uev_seat_close(&s, true);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("marker");
	TCase *tc = tcase_create("kernel");

	ktest_require_root_tracefs();
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, two_cpus_and_a_child);
	tcase_add_test(tc, follows_enabling_with_page);
	tcase_add_test(tc, follows_a_seat_that_appears_later);
	tcase_add_test(tc, reannounces_each_epoch);
	tcase_add_test(tc, long_strings_truncate_in_the_kernel_record);
	tcase_add_test(tc, unprivileged_emitter_is_a_silent_noop);
	tcase_add_test(tc, granted_group_member_records);
	tcase_add_test(tc, emits_from_a_signal_handler_on_a_small_stack);
	suite_add_tcase(su, tc);
	return ktest_run(su);
}
