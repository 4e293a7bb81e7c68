/* SPDX-License-Identifier: MIT */
/*
 * drainrun: run a drainer as a child and account all the CPU it uses.
 *
 *   drainrun [-n READYFILE] [-k SIGNAL] -o OUTFILE -- COMMAND [ARG...]
 *
 * -n READYFILE  give the child a NOTIFY_SOCKET (unix datagram, sd_notify
 *               protocol) and create READYFILE when it sends READY=1
 * -k SIGNAL     the signal a SIGTERM or SIGINT to drainrun is forwarded as
 *               (TERM, INT; default TERM)
 * -o OUTFILE    where the measurements go (appended), as "key value" lines
 *
 * SIGUSR1 to drainrun appends "snap_cpu S" to OUTFILE: user+sys seconds
 * used so far by the child and all its descendants (live threads, exited
 * threads, reaped children), from /proc/PID/stat, in clock ticks.
 * When the child exits, drainrun appends
 *   exit CODE user U sys S cpu U+S maxrss_kb M wall W
 * from getrusage(RUSAGE_CHILDREN) (microseconds; covers every thread of the
 * child and every descendant the child waited for) and exits with the
 * child's status.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXP 65536

struct proc {
	int pid, ppid;
	unsigned long long ticks;
};

/* pid, ppid and utime+stime+cutime+cstime of every process. */
static int scan(struct proc *p, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		char path[300], buf[1024], *s;
		unsigned long long ut, st;
		long long cut, cst;
		int fd, ppid;
		ssize_t len;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = 0;
		s = strrchr(buf, ')'); /* comm may hold spaces */
		if (!s)
			continue;
		/* fields after comm: state ppid pgrp session tty tpgid flags minflt
		 * cminflt majflt cmajflt utime stime cutime cstime */
		if (sscanf(s + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld", &ppid, &ut,
			   &st, &cut, &cst) != 5)
			continue;
		p[n].pid = atoi(e->d_name);
		p[n].ppid = ppid;
		p[n].ticks = ut + st + (unsigned long long)cut + (unsigned long long)cst;
		n++;
	}
	closedir(d);
	return n;
}

static double tree_cpu(int root)
{
	static struct proc p[MAXP];
	static char in[MAXP];
	int n = scan(p, MAXP), changed = 1;
	unsigned long long t = 0;

	memset(in, 0, (size_t)n);
	for (int i = 0; i < n; i++)
		in[i] = p[i].pid == root;
	while (changed) { /* close over ppid */
		changed = 0;
		for (int i = 0; i < n; i++) {
			if (in[i])
				continue;
			for (int j = 0; j < n; j++)
				if (in[j] && p[j].pid == p[i].ppid) {
					in[i] = 1;
					changed = 1;
					break;
				}
		}
	}
	for (int i = 0; i < n; i++)
		if (in[i])
			t += p[i].ticks;
	return (double)t / (double)sysconf(_SC_CLK_TCK);
}

static double tv(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

static double mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One run: the options, the child and where its figures go. */
struct run {
	const char *readyfile, *outfile;
	int killsig;
	char sockpath[108];     /* the NOTIFY_SOCKET, "" without -n */
	int nfd, sfd;           /* notify socket (-1 without -n), signalfd */
	pid_t child;
	FILE *out;
	double t0;
	int status;
};

/* 0, or the exit code for a usage error (printed). */
static int parse_args(struct run *r, int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "+n:k:o:")) != -1) {
		switch (opt) {
		case 'n': r->readyfile = optarg; break;
		case 'k':
			if (!strcmp(optarg, "INT") || !strcmp(optarg, "SIGINT"))
				r->killsig = SIGINT;
			else if (!strcmp(optarg, "TERM") || !strcmp(optarg, "SIGTERM"))
				r->killsig = SIGTERM;
			else {
				fprintf(stderr, "drainrun: -k TERM or INT\n");
				return 2;
			}
			break;
		case 'o': r->outfile = optarg; break;
		default: return 2;
		}
	}
	if (!r->outfile || optind >= argc) {
		fprintf(stderr, "usage: drainrun [-n READYFILE] [-k TERM|INT] -o OUTFILE -- COMMAND [ARG...]\n");
		return 2;
	}
	return 0;
}

/* The sd_notify socket the child finds in NOTIFY_SOCKET: 0, or -1 (printed). */
static int notify_open(struct run *r)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	snprintf(r->sockpath, sizeof(r->sockpath), "/tmp/drainrun.%d.sock", (int)getpid());
	unlink(r->sockpath);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", r->sockpath);
	r->nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (r->nfd < 0 || bind(r->nfd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("drainrun: notify socket");
		return -1;
	}
	setenv("NOTIFY_SOCKET", r->sockpath, 1);
	return 0;
}

/* Blocks the signals drainrun reads from its signalfd, then forks and
 * execs the command with them unblocked: 0, or -1 (printed). */
static int spawn(struct run *r, char **cmd)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r->sfd = signalfd(-1, &mask, SFD_CLOEXEC);

	r->t0 = mono();
	r->child = fork();
	if (r->child < 0) {
		perror("fork");
		return -1;
	}
	if (r->child == 0) {
		sigprocmask(SIG_UNBLOCK, &mask, NULL);
		execvp(cmd[0], cmd);
		perror(cmd[0]);
		_exit(127);
	}
	return 0;
}

/* A datagram on the notify socket: READY=1 creates the ready file. */
static void on_notify(struct run *r)
{
	char msg[4096];
	ssize_t n = recv(r->nfd, msg, sizeof(msg) - 1, 0);

	if (n <= 0)
		return;
	msg[n] = 0;
	if (strstr(msg, "READY=1")) {
		int fd = open(r->readyfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd >= 0)
			close(fd);
		fprintf(r->out, "ready_after %.3f\n", mono() - r->t0);
	}
}

/* One signal from the signalfd: 1 once the child has exited (its figures
 * written, r->status set), else 0. */
static int on_signal(struct run *r)
{
	struct signalfd_siginfo si;
	struct rusage ru;
	int code;

	if (read(r->sfd, &si, sizeof(si)) != sizeof(si))
		return 0;
	if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
		kill(r->child, r->killsig);
		return 0;
	}
	if (si.ssi_signo == SIGUSR1) {
		fprintf(r->out, "snap_cpu %.3f\n", tree_cpu(r->child));
		return 0;
	}
	if (si.ssi_signo != SIGCHLD || waitpid(r->child, &r->status, WNOHANG) != r->child)
		return 0;
	getrusage(RUSAGE_CHILDREN, &ru);
	code = WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 128 + WTERMSIG(r->status);
	fprintf(r->out, "exit %d user %.6f sys %.6f cpu %.6f maxrss_kb %ld wall %.3f\n",
		code, tv(ru.ru_utime), tv(ru.ru_stime), tv(ru.ru_utime) + tv(ru.ru_stime), ru.ru_maxrss,
		mono() - r->t0);
	return 1;
}

int main(int argc, char **argv)
{
	struct run r = { .killsig = SIGTERM, .nfd = -1 };
	int rc = parse_args(&r, argc, argv);

	if (rc)
		return rc;
	r.out = fopen(r.outfile, "ae");
	if (!r.out) {
		perror(r.outfile);
		return 1;
	}
	setvbuf(r.out, NULL, _IOLBF, 0);
	if ((r.readyfile && notify_open(&r) < 0) || spawn(&r, argv + optind) < 0)
		return 1;

	for (;;) {
		struct pollfd pf[2] = { { .fd = r.sfd, .events = POLLIN }, { .fd = r.nfd, .events = POLLIN } };

		if (poll(pf, r.nfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (r.nfd >= 0 && (pf[1].revents & POLLIN))
			on_notify(&r);
		if ((pf[0].revents & POLLIN) && on_signal(&r))
			break;
	}
	if (r.sockpath[0])
		unlink(r.sockpath);
	fclose(r.out);
	return WIFEXITED(r.status) ? WEXITSTATUS(r.status) : 128 + WTERMSIG(r.status);
}
