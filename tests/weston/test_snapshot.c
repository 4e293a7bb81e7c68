/* SPDX-License-Identifier: MIT */
/*
 * uev-weston's snapshot key (weston/snapshot.c), as the key binding drives
 * it, on a real wl_event_loop against a fake control server (a
 * SOCK_SEQPACKET socket at $UEV_RUN_DIR/SEAT.sock served by a thread): no
 * socket, a bundle, a refusal, a press while a request is out, a server
 * that went away between presses; and a press never waits for the reply.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "snapshot.h"

static char logbuf[8192];

static int log_to_buf(const char *fmt, ...)
{
	size_t n = strlen(logbuf);
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(logbuf + n, sizeof(logbuf) - n, fmt, ap);
	va_end(ap);
	return r;
}

#define LOGGED(what) ck_assert_msg(strstr(logbuf, what), "log lacks '%s':\n%s", what, logbuf)

static struct {
	char dir[32], path[96];
	int listen_fd, go[2];
	void (*play)(int conn);
	int conns;  /* connections to serve */
	pthread_t thread;
	char got[4][256];
	int ngot;
} sv;

static void reply(int conn, const char *msg, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = strlen(msg) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *h;

		m.msg_control = cbuf;
		m.msg_controllen = sizeof(cbuf);
		h = CMSG_FIRSTHDR(&m);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(h), &fd, sizeof(int));
	}
	ck_assert_int_eq(sendmsg(conn, &m, MSG_NOSIGNAL), (ssize_t)strlen(msg));
}

static int get_request(int conn)
{
	ssize_t n = recv(conn, sv.got[sv.ngot], sizeof(sv.got[0]) - 1, 0);

	if (n <= 0)
		return 0;
	sv.got[sv.ngot++][n] = '\0';
	return 1;
}

static void *serve(void *arg)
{
	(void)arg;
	for (int i = 0; i < sv.conns; i++) {
		int conn = accept4(sv.listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (conn < 0)
			break;
		sv.play(conn);
		close(conn);
	}
	return NULL;
}

static void server_start(void (*play)(int), int conns)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sv.dir, sizeof(sv.dir), "/tmp/uevw-snap.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(sv.dir));
	snprintf(sv.path, sizeof(sv.path), "%s/wseat.sock", sv.dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sv.path);
	setenv("UEV_RUN_DIR", sv.dir, 1);
	ck_assert_int_eq(pipe2(sv.go, O_CLOEXEC), 0);
	sv.play = play;
	sv.conns = conns;
	sv.ngot = 0;
	logbuf[0] = '\0';
	if (!play)
		return;
	sv.listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(bind(sv.listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(sv.listen_fd, 4), 0);
	ck_assert_int_eq(pthread_create(&sv.thread, NULL, serve, NULL), 0);
}

static void server_stop(void)
{
	if (sv.play) {
		pthread_join(sv.thread, NULL);
		close(sv.listen_fd);
		unlink(sv.path);
	}
	close(sv.go[0]);
	close(sv.go[1]);
	rmdir(sv.dir);
}

/* Dispatch @loop until @sn has @want outcomes (done + failed), at most 5 s. */
static void run_until(struct wl_event_loop *loop, struct uevw_snapshot *sn, unsigned want)
{
	for (int i = 0; i < 500; i++) {
		unsigned done, failed;

		uevw_snapshot_counts(sn, &done, &failed);
		if (done + failed >= want)
			return;
		wl_event_loop_dispatch(loop, 10);
	}
	ck_abort_msg("no outcome within 5 s; log:\n%s", logbuf);
}

static int bundle(void)
{
	char path[] = "/tmp/uevw-bundle.XXXXXX";
	int w = mkstemp(path), r = open(path, O_RDONLY | O_CLOEXEC);

	unlink(path);
	close(w);
	return r;
}

/* Two requests on one connection: a bundle after the test's go, then a
 * refusal; then it hangs up. */
static void play_bundle_then_refuse(int conn)
{
	char c;
	int fd = bundle();

	if (get_request(conn)) {
		ck_assert_int_eq(read(sv.go[0], &c, 1), 1);
		reply(conn, "ok wseat-20261202-1.ring 123456", fd);
	}
	close(fd);
	if (get_request(conn))
		reply(conn, "error EPERM: uid 1000 may not snapshot wseat", -1);
}

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(bundle_refusal_and_busy)
{
	struct wl_event_loop *loop = wl_event_loop_create();
	struct uevw_snapshot *sn;
	unsigned done, failed;
	long long t0;

	server_start(play_bundle_then_refuse, 1);
	sn = uevw_snapshot_new(loop, "wseat", "weston: snapshot key u", log_to_buf);
	t0 = ms_now();
	uevw_snapshot_trigger(sn);          /* the server holds its reply */
	ck_assert_int_lt(ms_now() - t0, 100);
	LOGGED("uev-weston: snapshot of seat wseat requested");
	uevw_snapshot_trigger(sn);
	LOGGED("the last request is not answered yet; key ignored");
	wl_event_loop_dispatch(loop, 50);   /* nothing to read yet */
	uevw_snapshot_counts(sn, &done, &failed);
	ck_assert_uint_eq(done + failed, 0);
	ck_assert_int_eq(write(sv.go[1], "g", 1), 1);
	run_until(loop, sn, 1);
	LOGGED("uev-weston: snapshot of seat wseat: bundle wseat-20261202-1.ring 123456 bytes\n");
	ck_assert_str_eq(sv.got[0], "snapshot weston: snapshot key u");
	uevw_snapshot_trigger(sn);
	run_until(loop, sn, 2);
	LOGGED("uev-weston: snapshot of seat wseat refused: Operation not permitted: "
	       "uid 1000 may not snapshot wseat\n");
	uevw_snapshot_counts(sn, &done, &failed);
	ck_assert_uint_eq(done, 1);
	ck_assert_uint_eq(failed, 1);
	uevw_snapshot_destroy(sn);
	wl_event_loop_destroy(loop);
	server_stop();
}
END_TEST

/* One request per connection, then hang up. */
static void play_one_then_hang_up(int conn)
{
	int fd = bundle();

	if (get_request(conn))
		reply(conn, "ok wseat-2.ring 1", fd);
	close(fd);
}

START_TEST(server_went_away_between_presses)
{
	struct wl_event_loop *loop = wl_event_loop_create();
	struct uevw_snapshot *sn;
	unsigned done, failed;

	server_start(play_one_then_hang_up, 2);
	sn = uevw_snapshot_new(loop, "wseat", "r", log_to_buf);
	uevw_snapshot_trigger(sn);
	run_until(loop, sn, 1);
	usleep(50000);                      /* the server closed its end */
	uevw_snapshot_trigger(sn);          /* reconnects, no failure shown */
	run_until(loop, sn, 2);
	uevw_snapshot_counts(sn, &done, &failed);
	ck_assert_msg(done == 2 && failed == 0, "done %u failed %u; log:\n%s", done, failed, logbuf);
	ck_assert_int_eq(sv.ngot, 2);
	uevw_snapshot_destroy(sn);
	wl_event_loop_destroy(loop);
	server_stop();
}
END_TEST

START_TEST(no_control_socket)
{
	struct wl_event_loop *loop = wl_event_loop_create();
	struct uevw_snapshot *sn;
	unsigned done, failed;

	server_start(NULL, 0);
	sn = uevw_snapshot_new(loop, "wseat", "r", log_to_buf);
	uevw_snapshot_trigger(sn);
	uevw_snapshot_counts(sn, &done, &failed);
	ck_assert_uint_eq(failed, 1);
	LOGGED("uev-weston: snapshot of seat wseat not requested: No such file or directory "
	       "(no uev-aggregator control socket for the seat)\n");
	uevw_snapshot_destroy(sn);
	wl_event_loop_destroy(loop);
	server_stop();
}
END_TEST

/* A reason the protocol refuses is said, and nothing is sent. */
START_TEST(bad_reason)
{
	struct wl_event_loop *loop = wl_event_loop_create();
	struct uevw_snapshot *sn;

	server_start(play_one_then_hang_up, 1);
	setenv("XDG_SEAT", "wseat", 1);     /* seat NULL: libuev's default */
	sn = uevw_snapshot_new(loop, NULL, "bad\x01reason", log_to_buf);
	uevw_snapshot_trigger(sn);
	LOGGED("uev-weston: snapshot of seat (default) not requested: Invalid argument: "
	       "snapshot: reason byte 12 is 0x01");
	uevw_snapshot_destroy(sn);
	wl_event_loop_destroy(loop);
	server_stop();
	ck_assert_int_eq(sv.ngot, 0);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("weston-snapshot");
	TCase *tc = tcase_create("weston-snapshot");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, bundle_refusal_and_busy);
	tcase_add_test(tc, server_went_away_between_presses);
	tcase_add_test(tc, no_control_socket);
	tcase_add_test(tc, bad_reason);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
