/* SPDX-License-Identifier: MIT */
/*
 * uev-aggregator end to end on this machine's kernel: a real daemon
 * (started like systemd would, READY=1 over $NOTIFY_SOCKET), real emitters
 * and /dev/kmsg messages, and the ring file decoded afterwards from nothing
 * but itself.  usage: test-aggregator PATH-TO-uev-aggregator
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event-parse.h>

#include "aggtest.h"
#include "ktest.h"
#include "uev-decode.h"
#include "uev-abi.h"

static void kmsg(const char *text)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC); /* one open per message: no ratelimit */

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

#define N 3000
#define M 40

struct seen {
	unsigned char tick[2][N];
	unsigned long long mark_ts[M][2], kmsg_ts[M];
	int kmsg_n[M], mark_n[M][2];
	unsigned long long last_ts[UEV_RING_CPU_MAX + 1]; /* every CPU a record can name */
	int order_bad, bad_fields;
	char tag[32];
};

static int collect(void *ctx, const struct uev_ringdec_run *run, const struct uev_rec *r)
{
	struct seen *s = ctx;
	uint64_t v[3];
	const char *str = NULL;
	size_t slen = 0;

	(void)run;
	if (r->cpu >= 0 && r->cpu <= (int)UEV_RING_CPU_MAX) {
		s->order_bad += r->ts < s->last_ts[r->cpu];
		s->last_ts[r->cpu] = r->ts;
	} else {
		s->order_bad++; /* no CPU a ring file can carry */
	}
	if (r->kind == UEV_REC_USER && !strcmp(r->name, "agg_tick")) {
		char want[64];

		for (unsigned i = 0; i < 3; i++)
			s->bad_fields += uev_payload_field(r->def, r->payload, r->len, i, &v[i], &str, &slen) < 0;
		if (v[1] < 2 && v[0] < N) {
			s->tick[v[1]][v[0]]++;
			snprintf(want, sizeof(want), "thread %llu tick %llu", (unsigned long long)v[1],
				 (unsigned long long)v[0]);
			s->bad_fields += slen != strlen(want) || memcmp(str, want, slen);
		}
	} else if (r->kind == UEV_REC_USER && !strcmp(r->name, "agg_mark")) {
		uev_payload_field(r->def, r->payload, r->len, 0, &v[0], &str, &slen);
		uev_payload_field(r->def, r->payload, r->len, 1, &v[1], &str, &slen);
		if (v[0] < M && v[1] < 2) {
			s->mark_ts[v[0]][v[1]] = r->ts;
			s->mark_n[v[0]][v[1]]++;
		}
	} else if (r->kind == UEV_REC_KERNEL && !strcmp(r->name, "printk:console")) {
		struct tep_format_field *f = tep_find_field(r->event, "msg");
		int len;
		const char *m = f ? tep_get_field_raw(NULL, r->event, "msg", r->record, &len, 0) : NULL;
		const char *at = m ? strstr(m, s->tag) : NULL;

		if (at) {
			int k = atoi(at + strlen(s->tag));

			if (k >= 0 && k < M) {
				s->kmsg_ts[k] = r->ts;
				s->kmsg_n[k]++;
			}
		}
	}
	return 0;
}

static void *tick_thread(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	cpu_set_t set;
	char msg[64];

	CPU_ZERO(&set);
	CPU_SET(t, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	for (unsigned i = 0; i < N; i++) {
		snprintf(msg, sizeof(msg), "thread %u tick %u", t, i);
		if (uev_emit(&agg_tick, i, t, msg) != UEV_EMIT_WRITTEN)
			return (void *)1;
		if (i % 64 == 0)
			usleep(200);
	}
	return NULL;
}


START_TEST(everything_once_in_order_one_clock)
{
	struct daemon d;
	struct seen *s = calloc(1, sizeof(*s));
	pthread_t th[2];
	void *ret;
	char text[96], err[512];

	agg_start(&d, NULL, 200);
	struct uev_provider *p = agg_emitter(&d);

	snprintf(s->tag, sizeof(s->tag), "uevaggtest-%d-", (int)getpid());
	for (uintptr_t t = 0; t < 2; t++)
		pthread_create(&th[t], NULL, tick_thread, (void *)t);
	for (unsigned k = 0; k < M; k++) { /* A < kernel < B, from one thread */
		ck_assert_int_eq(uev_emit(&agg_mark, k, 0), UEV_EMIT_WRITTEN);
		snprintf(text, sizeof(text), "%s%u", s->tag, k);
		kmsg(text);
		ck_assert_int_eq(uev_emit(&agg_mark, k, 1), UEV_EMIT_WRITTEN);
		usleep(2000);
	}
	for (int t = 0; t < 2; t++) {
		pthread_join(th[t], &ret);
		ck_assert_ptr_null(ret);
	}
	uev_provider_close(p);
	agg_stop(&d);
	ck_assert_int_eq(uev_ring_decode(d.ring, agg_report, NULL, collect, s, err, sizeof(err)), 0);
	ck_assert_int_eq(s->bad_fields, 0);
	ck_assert_int_eq(s->order_bad, 0);
	for (int t = 0; t < 2; t++)
		for (int i = 0; i < N; i++)
			ck_assert_msg(s->tick[t][i] == 1, "thread %d tick %d seen %d times", t, i, s->tick[t][i]);
	for (int k = 0; k < M; k++) {
		ck_assert_msg(s->kmsg_n[k] == 1 && s->mark_n[k][0] == 1 && s->mark_n[k][1] == 1,
			      "message %d: kmsg %d marks %d/%d", k, s->kmsg_n[k], s->mark_n[k][0], s->mark_n[k][1]);
		ck_assert_msg(s->mark_ts[k][0] < s->kmsg_ts[k] && s->kmsg_ts[k] < s->mark_ts[k][1],
			      "message %d not between its marks: %llu %llu %llu", k, s->mark_ts[k][0],
			      s->kmsg_ts[k], s->mark_ts[k][1]);
	}
	free(s);
}
END_TEST

struct wrapseen {
	uint64_t first, last, n, prev;
	int gaps, unknown, started;
};

static int collect_wrap(void *ctx, const struct uev_ringdec_run *run, const struct uev_rec *r)
{
	struct wrapseen *w = ctx;
	uint64_t v;
	const char *s;
	size_t n;

	(void)run;
	w->unknown += r->kind == UEV_REC_UNKNOWN;
	if (r->kind != UEV_REC_USER || strcmp(r->name, "agg_tick") ||
	    uev_payload_field(r->def, r->payload, r->len, 0, &v, &s, &n) < 0)
		return 0;
	if (!w->started) {
		w->first = v;
		w->started = 1;
	} else if (v != w->prev + 1) {
		w->gaps++;
	}
	w->prev = w->last = v;
	w->n++;
	return 0;
}

static int count_exec(void *ctx, const struct uev_ringdec_run *run, const struct uev_rec *r)
{
	int *n = ctx;

	(void)run;
	if (r->kind == UEV_REC_KERNEL && !strcmp(r->name, "sched:sched_process_exec")) {
		int len;
		const char *f = tep_get_field_raw(NULL, r->event, "filename", r->record, &len, 0);

		*n += f && strstr(f, "/bin/true") != NULL;
	}
	return 0;
}

static uint64_t cpu_ns(pid_t pid)
{
	char path[64];
	unsigned long long run = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%llu", &run), 1);
	fclose(f);
	return run;
}

struct one {
	int found;
	unsigned k;
};

static int find_one(void *ctx, const struct uev_ringdec_run *run, const struct uev_rec *r)
{
	struct one *o = ctx;
	uint64_t v;
	const char *s;
	size_t n;

	(void)run;
	if (r->kind == UEV_REC_USER && !strcmp(r->name, "agg_mark") &&
	    uev_payload_field(r->def, r->payload, r->len, 0, &v, &s, &n) >= 0 && v == o->k)
		o->found = 1;
	return 0;
}

static void quiet(void *ctx, enum uev_ring_report_kind kind, uint64_t off, const char *msg)
{
	(void)ctx, (void)kind, (void)off, (void)msg; /* the file is being written: a torn tail is expected */
}

START_TEST(one_event_reaches_the_file_in_time_and_idle_is_asleep)
{
	struct daemon d;
	char err[512];
	uint64_t t0, c0, c1;
	struct one o = { .k = 4242 };

	agg_start(&d, NULL, 500);
	struct uev_provider *p = agg_emitter(&d);

	usleep(700000); /* let start-up work settle */
	t0 = ktest_mono_ns();
	ck_assert_int_eq(uev_emit(&agg_mark, o.k, 0), UEV_EMIT_WRITTEN);
	while (!o.found && ktest_mono_ns() - t0 < 3000000000ull) {
		usleep(20000);
		uev_ring_decode(d.ring, quiet, NULL, find_one, &o, err, sizeof(err));
	}
	ck_assert_msg(o.found, "the event never reached the file");
	ck_assert_msg(ktest_mono_ns() - t0 <= (500 + 200) * 1000000ull,
		      "the event took %llu ms to reach the file (flush interval 500 ms)",
		      (unsigned long long)(ktest_mono_ns() - t0) / 1000000);
	usleep(600000);
	c0 = cpu_ns(d.pid);
	sleep(5);
	c1 = cpu_ns(d.pid);
	ck_assert_msg(c1 - c0 < 10000000ull, "idle aggregator used %llu us of CPU in 5 s",
		      (unsigned long long)(c1 - c0) / 1000);
	uev_provider_close(p);
	agg_stop(&d);
}
END_TEST

struct kept {
	const char *text;
	int n;
	uint64_t run;
};

static int find_kmsg(void *ctx, const struct uev_ringdec_run *run, const struct uev_rec *r)
{
	struct kept *k = ctx;
	int len;
	const char *m;

	if (r->kind != UEV_REC_KERNEL || strcmp(r->name, "printk:console"))
		return 0;
	m = tep_get_field_raw(NULL, r->event, "msg", r->record, &len, 0);
	if (m && strstr(m, k->text)) {
		k->n++;
		k->run = run->run_id;
	}
	return 0;
}

/* With keep_instance, what the kernel records while no aggregator runs is
 * drained by the next one: nothing is lost across a restart. */
START_TEST(kept_instance_loses_nothing_across_a_restart)
{
	struct daemon d;
	char err[512], inst[128], text[64];
	struct kept k = { .text = text };

	agg_start(&d, "[seat]\nkeep_instance = yes\n", 200);
	agg_stop(&d);
	snprintf(inst, sizeof(inst), "/sys/kernel/tracing/instances/" UEV_INSTANCE_PREFIX "%s", d.seat);
	ck_assert_msg(access(inst, F_OK) == 0, "keep_instance: the instance is gone");
	snprintf(text, sizeof(text), "uev-kept-%d", (int)getpid());
	kmsg(text);
	agg_launch(&d);
	agg_stop(&d);
	ck_assert_int_eq(uev_ring_decode(d.ring, agg_report, NULL, find_kmsg, &k, err, sizeof(err)), 0);
	/* The kept instance is ours to remove; the kernel refuses (EBUSY)
	 * while the stopped daemon's last descriptors are still closing. */
	for (int i = 0; i < 200 && rmdir(inst) < 0 && errno == EBUSY; i++)
		usleep(10000);
	ck_assert_int_eq(k.n, 1);
	ck_assert_uint_eq(k.run, 2); /* drained by the second run */
}
END_TEST

/* SIGUSR1 flushes now; SIGHUP reloads the configuration (a kernel event
 * added to the file is recorded from then on). */
START_TEST(usr1_flushes_and_hup_reloads)
{
	struct daemon d;
	char err[512];
	struct one o = { .k = 777 };
	uint64_t t0;
	FILE *f;

	agg_start(&d, NULL, 60000); /* no timer flush within the test */
	struct uev_provider *p = agg_emitter(&d);

	ck_assert_int_eq(uev_emit(&agg_mark, o.k, 0), UEV_EMIT_WRITTEN);
	usleep(300000);
	uev_ring_decode(d.ring, quiet, NULL, find_one, &o, err, sizeof(err));
	ck_assert_msg(!o.found, "the event is in the file before any flush");
	t0 = ktest_mono_ns();
	kill(d.pid, SIGUSR1);
	while (!o.found && ktest_mono_ns() - t0 < 2000000000ull) {
		usleep(10000);
		uev_ring_decode(d.ring, quiet, NULL, find_one, &o, err, sizeof(err));
	}
	ck_assert_msg(o.found, "SIGUSR1 did not flush the event into the file");

	/* Reload with sched_process_exec added; a process started after the
	 * reload is on record. */
	f = fopen(d.conf, "a");
	fprintf(f, "event = sched:sched_process_exec\n");
	fclose(f);
	kill(d.pid, SIGHUP);
	usleep(300000);
	ck_assert_int_eq(system("/bin/true"), 0);
	usleep(100000);
	kill(d.pid, SIGUSR1);
	usleep(300000);
	uev_provider_close(p);
	agg_stop(&d);
	int execs = 0;

	ck_assert_int_eq(uev_ring_decode(d.ring, agg_report, NULL, count_exec, &execs, err, sizeof(err)), 0);
	ck_assert_msg(execs >= 1, "no sched_process_exec of /bin/true after SIGHUP");
	/* /bin/true was gone long before the flush: its name came from the
	 * exec event itself (COMM entries are {s32 pid, char comm[16]}). */
	{
		struct uev_ring_reader *r;
		struct uev_ring_rec rec;
		int named = 0;

		ck_assert_int_eq(uev_ring_reader_open(&r, d.ring, agg_report, NULL, err, sizeof(err)), 0);
		while (uev_ring_reader_next(r, &rec) > 0) {
			struct uev_ring_comm_rec c;
			char name[16];
			int32_t pid;

			for (uint32_t i = 0; uev_ring_rec_comm(&rec, &c) == 0 && i < c.count; i++) {
				uev_ring_comm_entry(&c, i, &pid, name);
				named += !strcmp(name, "true");
			}
		}
		uev_ring_reader_close(r);
		ck_assert_msg(named >= 1, "no COMM entry names the short-lived /bin/true");
	}
}
END_TEST

/* A 1 MiB ring fed about 100 times its size: constant size, the newest
 * events intact and contiguous, the oldest gone, everything left decodes. */
START_TEST(wraps_a_small_ring)
{
	struct daemon d;
	struct wrapseen w = { 0 };
	char err[512], pad[220];
	struct stat st0, st1;
	const unsigned total = 450000; /* ~100 MiB of records */
	cpu_set_t set;

	agg_ring_size = "1M";
	agg_start(&d, NULL, 100);
	agg_ring_size = "16M";
	struct uev_provider *p = agg_emitter(&d);

	ck_assert_int_eq(stat(d.ring, &st0), 0);
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	memset(pad, 'w', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = 0;
	for (unsigned i = 0; i < total; i++) {
		ck_assert_int_eq(uev_emit(&agg_tick, i, 7u, pad), UEV_EMIT_WRITTEN);
		if (i % 256 == 255)
			usleep(1000); /* ~250k events/s: the drain keeps up */
	}
	uev_provider_close(p);
	agg_stop(&d);
	ck_assert_int_eq(stat(d.ring, &st1), 0);
	ck_assert_int_eq(st0.st_size, st1.st_size);
	ck_assert_int_eq(uev_ring_decode(d.ring, agg_report, NULL, collect_wrap, &w, err, sizeof(err)), 0);
	ck_assert_int_eq(w.unknown, 0);
	ck_assert_uint_gt(w.n, 1000);
	ck_assert_uint_eq(w.last, total - 1);     /* newest intact */
	ck_assert_uint_gt(w.first, 0);            /* oldest gone */
	ck_assert_uint_eq(w.n, w.last - w.first + 1); /* contiguous */
	ck_assert_int_eq(w.gaps, 0);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *su = suite_create("aggregator");
	TCase *tc = tcase_create("e2e");
	SRunner *sr;
	int failed;

	agg_setup(argc, argv);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, everything_once_in_order_one_clock);
	tcase_add_test(tc, one_event_reaches_the_file_in_time_and_idle_is_asleep);
	tcase_add_test(tc, usr1_flushes_and_hup_reloads);
	tcase_add_test(tc, wraps_a_small_ring);
	tcase_add_test(tc, kept_instance_loses_nothing_across_a_restart);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	agg_cleanup();
	return failed ? 1 : 0;
}
