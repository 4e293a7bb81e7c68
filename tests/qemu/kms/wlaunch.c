// SPDX-License-Identifier: MIT
/*
 * wlaunch — the root half of a Weston 10 session in the qemu KMS test.
 *
 * Debian's Weston 10 has no libseat, and Debian ships no weston-launch: an
 * unprivileged Weston gets its devices either from logind or from a
 * launcher that speaks the weston-launch protocol on a socket whose number
 * is in WESTON_LAUNCHER_SOCK. This is such a launcher, for the test guest
 * (no logind there). It forks; the child drops to the given uid and groups
 * (which clears every capability) and executes the command; the parent
 * stays root and opens, on the child's request, DRM and input character
 * devices only, passing each descriptor back with SCM_RIGHTS. The first
 * open of /dev/dri/card0 makes that file DRM master, so Weston never needs
 * CAP_SYS_ADMIN.
 *
 * The protocol, as Debian's drm-backend.so speaks it (ints in host order):
 *   child -> launcher   {0 OPEN, int flags, char path[]}   {2 DEACTIVATE_DONE}
 *   launcher -> child   reply to OPEN: {3, int ret} (+ the fd when ret >= 0)
 *                       events: {0 ACTIVATE} {1 DEACTIVATE} (never sent here:
 *                       there are no VTs, and an unsolicited message would be
 *                       read as the reply to the next OPEN)
 *
 * usage: wlaunch [-n] [-p PIDFILE] UID GID[,GID...] -- COMMAND [ARG...]
 *   -n          no protocol: only drop privileges and execute (for clients)
 *   -p PIDFILE  write the child's pid there (the test reads its /proc status)
 * SIGTERM/SIGINT go to the child; the launcher exits with the child's status
 * (128+signal when it was killed).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define OP_OPEN 0
#define OP_DEACTIVATE_DONE 2
#define REPLY_OPEN 3
#define DRM_MAJOR 226
#define INPUT_MAJOR 13

static void die(const char *what)
{
	fprintf(stderr, "wlaunch: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int parse_groups(char *s, gid_t *out, int max)
{
	int n = 0;
	for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ","))
		out[n++] = (gid_t)strtoul(tok, NULL, 10);
	return n;
}

/* The child: groups, then gid, then uid (after which no capability is
 * left), checked, then exec. */
static void become(uid_t uid, const gid_t *groups, int ngroups, char **argv)
{
	if (setgroups((size_t)ngroups, groups) || setgid(groups[0]) || setuid(uid))
		die("dropping privileges");
	if (geteuid() == 0 || getegid() == 0 || setuid(0) == 0) {
		fprintf(stderr, "wlaunch: still privileged after setuid(%u)\n", (unsigned)uid);
		exit(1);
	}
	execvp(argv[0], argv);
	die(argv[0]);
}

/* Opens only character devices of DRM or input: the child must never get
 * an arbitrary root-opened file. O_NOFOLLOW | O_NOCTTY, and the type is
 * checked on the open file, not on the path. */
static int open_device(const char *path, int flags)
{
	int allowed = O_ACCMODE | O_NONBLOCK | O_CLOEXEC;
	struct stat st;
	int fd;

	if (flags & ~allowed)
		return -EINVAL;
	fd = open(path, flags | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    (major(st.st_rdev) != DRM_MAJOR && major(st.st_rdev) != INPUT_MAJOR)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

static void reply_open(int sock, int fd, int err)
{
	int msg[2] = {REPLY_OPEN, fd >= 0 ? 0 : err};
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = msg, .iov_len = sizeof(msg)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (fd >= 0) {
		struct cmsghdr *c;
		memset(control, 0, sizeof(control));
		mh.msg_control = control;
		mh.msg_controllen = sizeof(control);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		fprintf(stderr, "wlaunch: reply: %s\n", strerror(errno));
}

/* One request from the child; 0 when the socket closed. */
static int serve(int sock, pid_t child)
{
	char buf[4096 + 2 * sizeof(int)];
	ssize_t len = recv(sock, buf, sizeof(buf) - 1, 0);
	int op, flags, fd;

	if (len <= 0)
		return len < 0 && errno == EINTR ? 1 : 0;
	buf[len] = '\0';
	memcpy(&op, buf, sizeof(op));
	if (op == OP_DEACTIVATE_DONE)
		return 1;
	if (op != OP_OPEN || len < (ssize_t)(2 * sizeof(int)) + 1) {
		fprintf(stderr, "wlaunch: unexpected message (op %d, %zd bytes)\n", op, len);
		return 1;
	}
	memcpy(&flags, buf + sizeof(int), sizeof(flags));
	fd = open_device(buf + 2 * sizeof(int), flags);
	fprintf(stderr, "wlaunch: open %s for pid %d: %s\n", buf + 2 * sizeof(int), (int)child,
		fd >= 0 ? "ok" : strerror(-fd));
	reply_open(sock, fd, fd);
	if (fd >= 0)
		close(fd);
	return 1;
}

static int child_status(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	int protocol = 1, opt, ngroups, sv[2] = {-1, -1}, sfd, st;
	const char *pidfile = NULL;
	gid_t groups[16];
	sigset_t mask;
	pid_t child;
	uid_t uid;

	while ((opt = getopt(argc, argv, "+np:")) != -1) {
		if (opt == 'n')
			protocol = 0;
		else if (opt == 'p')
			pidfile = optarg;
		else
			return 2;
	}
	if (argc - optind < 4 || strcmp(argv[optind + 2], "--") != 0) {
		fprintf(stderr, "usage: wlaunch [-n] [-p PIDFILE] UID GID[,GID...] -- COMMAND [ARG...]\n");
		return 2;
	}
	uid = (uid_t)strtoul(argv[optind], NULL, 10);
	ngroups = parse_groups(argv[optind + 1], groups, 16);
	if (uid == 0 || ngroups < 1 || groups[0] == 0) {
		fprintf(stderr, "wlaunch: refusing to run as uid or gid 0\n");
		return 2;
	}
	if (protocol && socketpair(AF_LOCAL, SOCK_SEQPACKET, 0, sv) < 0)
		die("socketpair");
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0)
		die("signalfd");
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		char env[32];
		sigprocmask(SIG_UNBLOCK, &mask, NULL);
		if (protocol) {
			close(sv[0]);
			snprintf(env, sizeof(env), "%d", sv[1]);
			setenv("WESTON_LAUNCHER_SOCK", env, 1);
		}
		become(uid, groups, ngroups, argv + optind + 3);
	}
	if (protocol)
		close(sv[1]);
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");
		if (!f || fprintf(f, "%d\n", (int)child) < 0 || fclose(f))
			die(pidfile);
	}
	for (;;) {
		struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = sv[0], .events = POLLIN}};
		struct signalfd_siginfo si;

		if (poll(p, protocol && sv[0] >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (p[1].revents && !serve(sv[0], child)) {
			close(sv[0]); /* the child closed its end: it is exiting */
			sv[0] = -1;
		}
		if (!(p[0].revents & POLLIN) || read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo != SIGCHLD) {
			kill(child, (int)si.ssi_signo);
			continue;
		}
		if (waitpid(child, &st, WNOHANG) == child)
			return child_status(st);
	}
}
