/* SPDX-License-Identifier: MIT */
/*
 * [dyndbg] drm_debug end to end: a real aggregator on this machine's
 * tracefs, with drm.debug played by a file of ours (UEV_DRM_DEBUG_PATH:
 * this host has no DRM). What a seat sets at start it clears at stop, and
 * only that; after a kill -9 the next run clears it; a reload applies the
 * new selection; without DRM the seat says so and records all the same.
 * usage: test-drm-debug PATH-TO-uev-aggregator
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/fs.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event-parse.h>

#include "aggtest.h"
#include "ktest.h"
#include "uev-decode.h"

static char param[300], errlog[300];

/* In the daemon's child: drm.debug is our file, stderr goes to errlog. */
static void child_env(void)
{
	int fd = open(errlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	setenv("UEV_DRM_DEBUG_PATH", param, 1);
	if (fd >= 0)
		dup2(fd, 2);
}

/* Per test (each runs in a child process of its own): fresh file names. */
static void setup(void)
{
	snprintf(param, sizeof(param), "%s/drm-debug-%d", agg_dir, (int)getpid());
	snprintf(errlog, sizeof(errlog), "%s/stderr-%d", agg_dir, (int)getpid());
	agg_in_child = child_env;
}

/* A failed test may leave its file immutable: agg_cleanup could not remove it. */
static void unpin_all(void)
{
	char pattern[300];
	glob_t g;

	snprintf(pattern, sizeof(pattern), "%s/drm-debug-*", agg_dir);
	if (glob(pattern, 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		int fd = open(g.gl_pathv[i], O_RDONLY | O_CLOEXEC), flags = 0;

		if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & FS_IMMUTABLE_FL)) {
			flags &= ~FS_IMMUTABLE_FL;
			ioctl(fd, FS_IOC_SETFLAGS, &flags);
		}
		if (fd >= 0)
			close(fd);
	}
	globfree(&g);
}

/* Replaced by rename: the aggregator never reads a half-written file
 * (the kernel's parameter is never seen half-written either). */
static void param_set(const char *text)
{
	char tmp[320];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", param);
	f = fopen(tmp, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(rename(tmp, param), 0);
}

/* The aggregator writes in place (truncate, then write, as the kernel's
 * file takes it): an empty read is the moment in between. */
static unsigned long long param_get(void)
{
	char buf[64] = "";

	for (int i = 0; i < 1000 && !buf[0]; i++) {
		FILE *f = fopen(param, "r");

		ck_assert_ptr_nonnull(f);
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
		if (!buf[0])
			usleep(1000);
	}
	ck_assert_msg(buf[0], "%s stays empty", param);
	return strtoull(buf, NULL, 0);
}

/* Up to 5 s for drm.debug to become @want. */
static void param_wait(unsigned long long want)
{
	for (int i = 0; i < 500 && param_get() != want; i++)
		usleep(10000);
	ck_assert_msg(param_get() == want, "drm.debug is 0x%llx, expected 0x%llx", param_get(), want);
}

static char *record(const struct daemon *d)
{
	static char p[600];

	snprintf(p, sizeof(p), "%s/%s.drm-debug", d->run, d->seat);
	return p;
}

static void expect_said(const char *what)
{
	static char buf[65536];
	int fd = open(errlog, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	ck_assert_msg(strstr(buf, what), "the aggregator did not say '%s'; it said:\n%s", what, buf);
}

/* Replace the drm_debug line of @d's configuration. */
static void conf_drm_debug(const struct daemon *d, const char *value)
{
	char buf[4096], *at, *eol;
	FILE *f = fopen(d->conf, "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	ck_assert_ptr_nonnull(at = strstr(buf, "drm_debug = "));
	eol = strchr(at, '\n');
	f = fopen(d->conf, "w");
	fprintf(f, "%.*sdrm_debug = %s%s", (int)(at - buf), buf, value, eol);
	ck_assert_int_eq(fclose(f), 0);
}

#define KMS_ATOMIC "[dyndbg]\ndrm_debug = kms atomic\n"

START_TEST(start_sets_stop_clears_only_its_own_bits)
{
	struct daemon d;

	param_set("1\n"); /* core, set by someone else */
	agg_start(&d, KMS_ATOMIC, 100);
	ck_assert_uint_eq(param_get(), 0x15);
	ck_assert_msg(access(record(&d), F_OK) == 0, "no record of the added bits");
	agg_stop(&d);
	ck_assert_uint_eq(param_get(), 0x1);
	ck_assert_msg(access(record(&d), F_OK) < 0 && errno == ENOENT, "a clean stop left the record");
	expect_said("drm.debug 0x1 -> 0x15 (added kms atomic)");
	expect_said("stop: drm.debug 0x15 -> 0x1 (cleared kms atomic)");

	/* kms was set before (not ours), dp is set meanwhile (not ours):
	 * both stay; the kernel may print the mask in hex */
	param_set("0x5\n");
	agg_start(&d, KMS_ATOMIC, 100);
	ck_assert_uint_eq(param_get(), 0x15);
	expect_said("kms already set by someone else, left set at stop");
	param_set("277\n"); /* 0x115 */
	agg_stop(&d);
	ck_assert_uint_eq(param_get(), 0x105);
}
END_TEST

START_TEST(kill9_then_the_next_run_clears_them)
{
	struct daemon d;
	int st;

	param_set("1\n");
	agg_start(&d, KMS_ATOMIC, 100);
	ck_assert_uint_eq(param_get(), 0x15);
	kill(d.pid, SIGKILL);
	ck_assert_int_eq(waitpid(d.pid, &st, 0), d.pid);
	close(d.nfd);
	ck_assert_uint_eq(param_get(), 0x15); /* nobody reverted them */
	ck_assert_msg(access(record(&d), F_OK) == 0, "the killed run left no record");
	agg_launch(&d);
	ck_assert_uint_eq(param_get(), 0x15);
	expect_said("an earlier run had added kms atomic to drm.debug and not cleared them; this run takes them over");
	agg_stop(&d);
	ck_assert_uint_eq(param_get(), 0x1);
	ck_assert_msg(access(record(&d), F_OK) < 0, "a clean stop left the record");
}
END_TEST

/* A record of an earlier boot says nothing about this boot's mask. */
START_TEST(a_record_of_another_boot_is_not_taken_over)
{
	struct daemon d;
	FILE *f;

	param_set("1\n");
	agg_start(&d, KMS_ATOMIC, 100);
	agg_stop(&d);
	f = fopen(record(&d), "w");
	fprintf(f, "boot 00000000-0000-0000-0000-000000000000\nadded 0x1\npid 1\n");
	fclose(f);
	agg_launch(&d);
	ck_assert_uint_eq(param_get(), 0x15);
	agg_stop(&d);
	ck_assert_uint_eq(param_get(), 0x1); /* core was not the old run's to clear */
}
END_TEST

START_TEST(hup_applies_the_new_selection)
{
	struct daemon d;

	param_set("1\n");
	agg_start(&d, KMS_ATOMIC, 100);
	ck_assert_uint_eq(param_get(), 0x15);
	conf_drm_debug(&d, "atomic, dp");
	kill(d.pid, SIGHUP);
	param_wait(0x111); /* dp added, kms (ours, no longer wanted) cleared */
	expect_said("reload: drm.debug 0x15 -> 0x111 (added dp, cleared kms)");
	conf_drm_debug(&d, "none");
	kill(d.pid, SIGHUP);
	param_wait(0x1);
	for (int i = 0; i < 100 && access(record(&d), F_OK) == 0; i++)
		usleep(10000);
	ck_assert_msg(access(record(&d), F_OK) < 0, "nothing is ours, yet the record stays");
	param_set("0x41\n"); /* state, someone else's */
	agg_stop(&d);
	ck_assert_uint_eq(param_get(), 0x41);
}
END_TEST

/* Every open of the parameter file waits for this watcher (fanotify
 * permission events); the first open for writing by the aggregator is the
 * moment before the mask changes: what does the record say then? */
struct watch {
	int fan;
	const struct daemon *d; /* its seat and run directory are set before it starts */
	char seen[2][256];      /* the record at the first two ("" if there was none) */
	int writes;             /* opens for writing by the aggregator */
	_Atomic int stop;
};

/* The flags of the openat() process @pid is blocked in, or -1. */
static long open_flags(pid_t pid)
{
	char path[64], sc[256] = "";
	unsigned long nr, dirfd, name, flags;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	ok = fgets(sc, sizeof(sc), f) && sscanf(sc, "%lu %lx %lx %lx", &nr, &dirfd, &name, &flags) == 4;
	fclose(f);
	return ok ? (long)flags : -1;
}

static void *watcher(void *arg)
{
	struct watch *w = arg;
	char buf[4096];
	ssize_t n;

	while (!w->stop) {
		struct fanotify_event_metadata *m = (void *)buf;
		struct pollfd p = { .fd = w->fan, .events = POLLIN };

		if (poll(&p, 1, 20) != 1 || (n = read(w->fan, buf, sizeof(buf))) <= 0)
			continue;

		for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
			struct fanotify_response resp = { .fd = m->fd, .response = FAN_ALLOW };
			long flags = m->pid == getpid() ? -1 : open_flags(m->pid);

			if (flags >= 0 && (flags & O_ACCMODE) != O_RDONLY && w->writes++ < 2) {
				FILE *r = fopen(record(w->d), "r");
				char *seen = w->seen[w->writes - 1];
				size_t k = r ? fread(seen, 1, sizeof(w->seen[0]) - 1, r) : 0;

				seen[k] = 0;
				if (r)
					fclose(r);
			}
			if (write(w->fan, &resp, sizeof(resp)) != sizeof(resp))
				return NULL;
			close(m->fd);
		}
	}
	return NULL;
}

/* The record names the bits before the mask has them, and still names
 * them while they are being cleared: a kill -9 at the worst moment (a
 * write under way) leaves them on record. */
START_TEST(the_record_comes_before_the_mask)
{
	struct daemon d;
	struct watch w = { .d = &d };
	pthread_t th;

	param_set("1\n");
	w.fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_CLOEXEC);
	if (w.fan < 0 || fanotify_mark(w.fan, FAN_MARK_ADD, FAN_OPEN_PERM, AT_FDCWD, param) < 0) {
		fprintf(stderr, "note: no fanotify permission events here (%s), the order is not tested\n",
			strerror(errno));
		return;
	}
	ck_assert_int_eq(pthread_create(&th, NULL, watcher, &w), 0);
	agg_start(&d, KMS_ATOMIC, 100);
	ck_assert_uint_eq(param_get(), 0x15);
	agg_stop(&d);
	ck_assert_int_eq(w.writes, 2); /* the start's and the stop's */
	for (int i = 0; i < 2; i++)
		ck_assert_msg(strstr(w.seen[i], "\nadded 0x14\n"), "when drm.debug was opened for writing "
			      "(%s), the record said '%s'", i ? "stop" : "start", w.seen[i]);
	ck_assert_msg(access(record(&d), F_OK) < 0, "a clean stop left the record");
	w.stop = 1;
	pthread_join(th, NULL);
	close(w.fan);
	ck_assert_uint_eq(param_get(), 0x1);
}
END_TEST

struct found {
	const char *text;
	int n;
};

static int find_kmsg(void *ctx, const struct uev_ringdec_run *run, const struct uev_rec *r)
{
	struct found *k = ctx;
	int len;
	const char *m;

	(void)run;
	if (r->kind != UEV_REC_KERNEL || strcmp(r->name, "printk:console"))
		return 0;
	m = tep_get_field_raw(NULL, r->event, "msg", r->record, &len, 0);
	k->n += m && strstr(m, k->text) != NULL;
	return 0;
}

/* No DRM: said with the path, the seat records anyway, and the categories
 * are applied once the parameter appears (a DRM module loaded later). */
START_TEST(without_drm_it_warns_and_records)
{
	struct daemon d;
	char text[64], err[512];
	struct found k = { .text = text };
	int fd;

	agg_start(&d, KMS_ATOMIC, 100);
	expect_said(": not there (DRM not loaded or not built in); drm_debug kms atomic is applied when it appears");
	expect_said(param);
	snprintf(text, sizeof(text), "uev-drm-debug-test-%d", (int)getpid());
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	param_set("0\n");
	param_wait(0x14);
	agg_stop(&d);
	ck_assert_uint_eq(param_get(), 0);
	ck_assert_int_eq(uev_ring_decode(d.ring, agg_report, NULL, find_kmsg, &k, err, sizeof(err)), 0);
	ck_assert_int_eq(k.n, 1);
}
END_TEST

/* The kernel refusing the write (EPERM, here an immutable file): said
 * clearly, nothing recorded as ours, the seat runs, the stop touches nothing. */
START_TEST(a_refused_write_is_reported)
{
	struct daemon d;
	int fd, flags = 0;

	param_set("1\n");
	fd = open(param, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0 ||
	    (flags |= FS_IMMUTABLE_FL, ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)) {
		close(fd);
		fprintf(stderr, "note: no immutable files here, the refused write is not tested\n");
		return;
	}
	agg_start(&d, KMS_ATOMIC, 100);
	ck_assert_uint_eq(param_get(), 0x1);
	ck_assert_msg(access(record(&d), F_OK) < 0, "a refused write left a record");
	agg_stop(&d);
	flags &= ~FS_IMMUTABLE_FL;
	ck_assert_int_eq(ioctl(fd, FS_IOC_SETFLAGS, &flags), 0);
	close(fd);
	expect_said(": cannot write 0x15: Operation not permitted; drm.debug stays 0x1");
	ck_assert_uint_eq(param_get(), 0x1);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *su = suite_create("drm-debug");
	TCase *tc = tcase_create("drm-debug");
	SRunner *sr;
	int failed;

	agg_setup(argc, argv);
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, start_sets_stop_clears_only_its_own_bits);
	tcase_add_test(tc, kill9_then_the_next_run_clears_them);
	tcase_add_test(tc, the_record_comes_before_the_mask);
	tcase_add_test(tc, a_record_of_another_boot_is_not_taken_over);
	tcase_add_test(tc, hup_applies_the_new_selection);
	tcase_add_test(tc, without_drm_it_warns_and_records);
	tcase_add_test(tc, a_refused_write_is_reported);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	unpin_all();
	agg_cleanup();
	return failed ? 1 : 0;
}
