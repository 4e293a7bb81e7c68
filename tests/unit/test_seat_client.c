/* SPDX-License-Identifier: MIT */
/*
 * libuev's seat control client (uev_seat_*, libuev/uev-seat.c) against a
 * fake server: a real SOCK_SEQPACKET socket at $UEV_RUN_DIR/SEAT.sock in a
 * temporary directory, served by a thread that plays one scripted part per
 * test with plain sendmsg/recv (not libuev's helpers, so that the client's
 * side is checked against the wire, not against itself).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "uev/uev.h"

#define BUNDLE_TEXT "a bundle's bytes\n"

struct server {
	char dir[32], path[96];
	int listen_fd;
	void (*play)(struct server *sv, int conn);
	pthread_t thread;
	char got[8][1100];  /* requests received, in order */
	int ngot;
	int go[2];          /* the test lets a delayed reply go */
};

static struct server sv;

static void srv_send(int conn, const char *msg, size_t len, const int *fds, int nfds)
{
	char cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *h;

		memset(cbuf, 0, sizeof(cbuf));
		m.msg_control = cbuf;
		m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		h = CMSG_FIRSTHDR(&m);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(h), fds, nfds * sizeof(int));
	}
	ck_assert_int_eq(sendmsg(conn, &m, MSG_NOSIGNAL), (ssize_t)len);
}

static void srv_reply(int conn, const char *msg)
{
	srv_send(conn, msg, strlen(msg), NULL, 0);
}

/* Receive one request into sv.got; 0 when the client closed. */
static int srv_recv(int conn)
{
	ssize_t n = recv(conn, sv.got[sv.ngot], sizeof(sv.got[0]) - 1, 0);

	if (n <= 0)
		return 0;
	sv.got[sv.ngot++][n] = '\0';
	return 1;
}

static void srv_wait_go(void)
{
	char c;

	ck_assert_int_eq(read(sv.go[0], &c, 1), 1);
}

static void *serve(void *arg)
{
	int conn = accept4(sv.listen_fd, NULL, NULL, SOCK_CLOEXEC);

	(void)arg;
	if (conn >= 0) {
		sv.play(&sv, conn);
		close(conn);
	}
	return NULL;
}

static void server_start(const char *seat, void (*play)(struct server *, int))
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sv.dir, sizeof(sv.dir), "/tmp/uev-seatc.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(sv.dir));
	snprintf(sv.path, sizeof(sv.path), "%s/%s.sock", sv.dir, seat);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sv.path);
	sv.listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(sv.listen_fd, 0);
	ck_assert_int_eq(bind(sv.listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(sv.listen_fd, 4), 0);
	ck_assert_int_eq(pipe2(sv.go, O_CLOEXEC), 0);
	setenv("UEV_RUN_DIR", sv.dir, 1);
	sv.play = play;
	sv.ngot = 0;
	if (play)
		ck_assert_int_eq(pthread_create(&sv.thread, NULL, serve, NULL), 0);
}

static void server_stop(void)
{
	if (sv.play)
		pthread_join(sv.thread, NULL);
	close(sv.listen_fd);
	close(sv.go[0]);
	close(sv.go[1]);
	unlink(sv.path);
	rmdir(sv.dir);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* A bundle file, opened read-only, its name unlinked. */
static int bundle_fd(void)
{
	char path[] = "/tmp/uev-bundle.XXXXXX";
	int w = mkstemp(path), r;

	ck_assert_int_ge(w, 0);
	ck_assert_int_eq(write(w, BUNDLE_TEXT, strlen(BUNDLE_TEXT)), (ssize_t)strlen(BUNDLE_TEXT));
	r = open(path, O_RDONLY | O_CLOEXEC);
	unlink(path);
	close(w);
	return r;
}

static void play_snapshot(struct server *s, int conn)
{
	int fd = bundle_fd();
	char reply[128];

	(void)s;
	if (!srv_recv(conn))
		return;
	snprintf(reply, sizeof(reply), "ok seatc-1.ring %zu", strlen(BUNDLE_TEXT));
	srv_send(conn, reply, strlen(reply), &fd, 1);
	close(fd);
}

START_TEST(snapshot_passes_a_read_only_fd)
{
	struct uev_seat *s;
	char buf[64];
	int fd;

	server_start("seatc", play_snapshot);
	ck_assert_int_eq(uev_seat_connect("seatc", &s), 0);
	ck_assert_int_eq(uev_seat_snapshot(s, "weston: debug key", &fd), 0);
	ck_assert_str_eq(sv.got[0], "snapshot weston: debug key");
	ck_assert_str_eq(uev_seat_message(s), "seatc-1.ring 17");
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(write(fd, "x", 1), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(pread(fd, buf, sizeof(buf), 0), (ssize_t)strlen(BUNDLE_TEXT));
	ck_assert_int_eq(memcmp(buf, BUNDLE_TEXT, strlen(BUNDLE_TEXT)), 0);
	close(fd);
	uev_seat_disconnect(s);
	server_stop();
}
END_TEST

static void play_refuse(struct server *s, int conn)
{
	(void)s;
	while (srv_recv(conn))
		srv_reply(conn, "error EPERM: uid 1000 is not in a group allowed to snapshot seatc");
}

START_TEST(refusal_maps_errno_and_message)
{
	struct uev_seat *s;
	int fd = 42;

	server_start("seatc", play_refuse);
	ck_assert_int_eq(uev_seat_connect("seatc", &s), 0);
	ck_assert_int_eq(uev_seat_snapshot(s, NULL, &fd), -EPERM);
	ck_assert_int_eq(fd, -1);
	ck_assert_str_eq(sv.got[0], "snapshot");
	ck_assert_str_eq(uev_seat_message(s), "uid 1000 is not in a group allowed to snapshot seatc");
	ck_assert_int_eq(uev_seat_enable(s, "dyndbg", "module i915 +p"), -EPERM);
	ck_assert_str_eq(sv.got[1], "enable dyndbg module i915 +p");
	uev_seat_disconnect(s);
	server_stop();
}
END_TEST

static void play_requests(struct server *s, int conn)
{
	(void)s;
	while (srv_recv(conn)) {
		if (!strcmp(sv.got[sv.ngot - 1], "status"))
			srv_reply(conn, "ok protocol 1\nseat seatc\nlost_events 0");
		else
			srv_reply(conn, "ok");
	}
}

START_TEST(requests_on_the_wire)
{
	struct uev_seat *s;
	char buf[64], tiny[8];

	server_start("seatc", play_requests);
	ck_assert_int_eq(uev_seat_connect("seatc", &s), 0);
	ck_assert_int_eq(uev_seat_enable(s, "drm", "kms atomic"), 0);
	ck_assert_int_eq(uev_seat_enable(s, "event", "drm:drm_vblank_event"), 0);
	ck_assert_int_eq(uev_seat_disable(s, "drm", "kms atomic"), 0);
	ck_assert_int_eq(uev_seat_disable(s, NULL, "ignored"), 0);
	ck_assert_int_eq(uev_seat_status(s, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "protocol 1\nseat seatc\nlost_events 0");
	ck_assert_str_eq(uev_seat_message(s), "");
	ck_assert_int_eq(uev_seat_status(s, tiny, sizeof(tiny)), -ERANGE);
	ck_assert_str_eq(tiny, "protoco");
	/* refused here, never sent */
	ck_assert_int_eq(uev_seat_enable(s, "sysrq", "b"), -EINVAL);
	ck_assert_int_eq(uev_seat_enable(s, "drm", NULL), -EINVAL);
	ck_assert_int_eq(uev_seat_enable(s, "dyndbg", "module a +p; module b +p"), -EINVAL);
	ck_assert_msg(strstr(uev_seat_message(s), "no ';' or '#'"), "%s", uev_seat_message(s));
	ck_assert_int_eq(uev_seat_snapshot_request(s, "tab\there"), -EINVAL);
	ck_assert_msg(strstr(uev_seat_message(s), "0x09"), "%s", uev_seat_message(s));
	uev_seat_disconnect(s);
	server_stop();
	ck_assert_int_eq(sv.ngot, 6);
	ck_assert_str_eq(sv.got[0], "enable drm kms atomic");
	ck_assert_str_eq(sv.got[1], "enable event drm:drm_vblank_event");
	ck_assert_str_eq(sv.got[2], "disable drm kms atomic");
	ck_assert_str_eq(sv.got[3], "disable");
	ck_assert_str_eq(sv.got[4], "status");
}
END_TEST

/* Replies only when the test says so. */
static void play_delayed(struct server *s, int conn)
{
	int fd;

	(void)s;
	if (!srv_recv(conn))
		return;
	srv_wait_go();
	srv_reply(conn, "incident seatc-0.ring printk WARNING");  /* unsolicited: skipped */
	fd = bundle_fd();
	srv_send(conn, "ok seatc-2.ring 17", 18, &fd, 1);
	close(fd);
	srv_recv(conn);  /* until the client closes */
}

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(event_loop_pair)
{
	struct uev_seat *s;
	struct pollfd p;
	int fd;

	server_start("seatc", play_delayed);
	ck_assert_int_eq(uev_seat_connect("seatc", &s), 0);
	ck_assert_int_eq(uev_seat_reply_read(s, &fd), -EINVAL);   /* nothing pending */
	ck_assert_int_eq(uev_seat_snapshot_request(s, "loop"), 0);
	ck_assert_int_eq(uev_seat_snapshot_request(s, "again"), -EBUSY);
	ck_assert_int_eq(uev_seat_reply_read(s, &fd), -EAGAIN);
	ck_assert_int_eq(write(sv.go[1], "g", 1), 1);
	p = (struct pollfd){ .fd = uev_seat_fd(s), .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 5000), 1);
	/* the incident may be alone in the socket for a moment */
	while (uev_seat_reply_read(s, &fd) == -EAGAIN)
		ck_assert_int_eq(poll(&p, 1, 5000), 1);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(uev_seat_message(s), "seatc-2.ring 17");
	close(fd);
	uev_seat_disconnect(s);
	server_stop();
}
END_TEST

START_TEST(timeout_then_late_reply)
{
	struct uev_seat *s;
	long long t0;
	int fd;

	server_start("seatc", play_delayed);
	ck_assert_int_eq(uev_seat_connect("seatc", &s), 0);
	ck_assert_int_eq(uev_seat_set_timeout(s, 0), -EINVAL);
	ck_assert_int_eq(uev_seat_set_timeout(s, 300), 0);
	t0 = ms_now();
	ck_assert_int_eq(uev_seat_snapshot(s, "slow", &fd), -ETIMEDOUT);
	ck_assert_int_ge(ms_now() - t0, 300);
	ck_assert_int_lt(ms_now() - t0, 2000);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(uev_seat_status(s, (char[8]){ 0 }, 8), -EBUSY);
	ck_assert_msg(strstr(uev_seat_message(s), "still waiting"), "%s", uev_seat_message(s));
	ck_assert_int_eq(write(sv.go[1], "g", 1), 1);
	ck_assert_int_eq(uev_seat_snapshot(s, "slow", &fd), -EBUSY);
	/* the late reply is still collected */
	{
		struct pollfd p = { .fd = uev_seat_fd(s), .events = POLLIN };
		int r;

		while ((r = uev_seat_reply_read(s, &fd)) == -EAGAIN)
			ck_assert_int_eq(poll(&p, 1, 5000), 1);
		ck_assert_int_eq(r, 0);
	}
	ck_assert_int_ge(fd, 0);
	close(fd);
	uev_seat_disconnect(s);
	server_stop();
}
END_TEST

static void play_close(struct server *s, int conn)
{
	(void)s;
	srv_recv(conn);   /* and close without a reply */
}

static void play_hangup(struct server *s, int conn)
{
	(void)s;
	(void)conn;
}

START_TEST(server_closes_mid_request)
{
	struct uev_seat *s;
	int fd;

	signal(SIGPIPE, SIG_DFL);  /* a SIGPIPE would kill this test */
	server_start("seatc", play_close);
	ck_assert_int_eq(uev_seat_connect("seatc", &s), 0);
	ck_assert_int_eq(uev_seat_snapshot(s, "x", &fd), -ECONNRESET);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(uev_seat_fd(s), -1);
	ck_assert_int_eq(uev_seat_snapshot(s, "x", &fd), -ENOTCONN);
	ck_assert_int_eq(uev_seat_reply_read(s, &fd), -ENOTCONN);
	uev_seat_disconnect(s);
	server_stop();
	/* a send to a closed peer: -EPIPE, not SIGPIPE */
	server_start("seatc", play_hangup);
	ck_assert_int_eq(uev_seat_connect("seatc", &s), 0);
	pthread_join(sv.thread, NULL);
	sv.play = NULL;
	ck_assert_int_eq(uev_seat_snapshot_request(s, "x"), -EPIPE);
	ck_assert_int_eq(uev_seat_snapshot_request(s, "x"), -ENOTCONN);
	uev_seat_disconnect(s);
	server_stop();
}
END_TEST

static void play_oversized(struct server *s, int conn)
{
	static char big[6000];
	int fds[2] = { bundle_fd(), bundle_fd() };

	(void)s;
	memset(big, 'x', sizeof(big));
	memcpy(big, "ok ", 3);
	srv_recv(conn);
	srv_send(conn, big, sizeof(big), fds, 1);    /* too large, with an fd */
	srv_recv(conn);
	srv_send(conn, "ok seatc-3.ring 17", 18, fds, 2);  /* one fd too many */
	srv_recv(conn);
	srv_reply(conn, "ok a-reply-that-is-not-one");   /* breaks the protocol */
	close(fds[0]);
	close(fds[1]);
	srv_recv(conn);
}

START_TEST(reply_too_large_and_extra_fds)
{
	struct uev_seat *s;
	int before, fd;

	before = open_fds();
	server_start("seatc", play_oversized);
	ck_assert_int_eq(uev_seat_connect("seatc", &s), 0);
	ck_assert_int_eq(uev_seat_snapshot(s, "big", &fd), -EMSGSIZE);
	ck_assert_int_eq(fd, -1);
	/* still usable; the second descriptor of the next reply is closed */
	ck_assert_int_eq(uev_seat_snapshot(s, "two", &fd), 0);
	ck_assert_int_ge(fd, 0);
	close(fd);
	/* a well-formed reply that is no snapshot's: refused, still paired */
	ck_assert_int_eq(uev_seat_snapshot(s, "bad", &fd), -EPROTO);
	ck_assert_int_eq(fd, -1);
	ck_assert_msg(strstr(uev_seat_message(s), "ok NAME BYTES"), "%s", uev_seat_message(s));
	uev_seat_disconnect(s);
	server_stop();
	/* every descriptor that came, wanted or not, was handed out or closed */
	ck_assert_int_eq(open_fds(), before);
}
END_TEST

START_TEST(connect_failures)
{
	struct uev_seat *s = (struct uev_seat *)1;
	char longdir[200];

	server_start("seatc", NULL);
	ck_assert_int_eq(uev_seat_connect("other", &s), -ENOENT);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(uev_seat_connect("bad/seat", &s), -EINVAL);
	close(sv.listen_fd);       /* a socket file nobody listens on */
	sv.listen_fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ck_assert_int_eq(uev_seat_connect("seatc", &s), -ECONNREFUSED);
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	setenv("UEV_RUN_DIR", longdir, 1);
	ck_assert_int_eq(uev_seat_connect("seatc", &s), -ENAMETOOLONG);
	setenv("UEV_RUN_DIR", sv.dir, 1);
	setenv("XDG_SEAT", "seatc", 1);
	ck_assert_int_eq(uev_seat_connect(NULL, &s), -ECONNREFUSED);  /* $XDG_SEAT's socket */
	ck_assert_int_eq(uev_seat_connect("seatc", NULL), -EINVAL);
	uev_seat_disconnect(NULL);
	ck_assert_str_eq(uev_seat_message(NULL), "");
	ck_assert_int_eq(uev_seat_fd(NULL), -1);
	server_stop();
}
END_TEST

int main(void)
{
	Suite *su = suite_create("seat-client");
	TCase *tc = tcase_create("seat-client");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, snapshot_passes_a_read_only_fd);
	tcase_add_test(tc, refusal_maps_errno_and_message);
	tcase_add_test(tc, requests_on_the_wire);
	tcase_add_test(tc, event_loop_pair);
	tcase_add_test(tc, timeout_then_late_reply);
	tcase_add_test(tc, server_closes_mid_request);
	tcase_add_test(tc, reply_too_large_and_extra_fds);
	tcase_add_test(tc, connect_failures);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
