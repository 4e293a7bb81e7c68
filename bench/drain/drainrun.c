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

int main(int argc, char **argv)
{
	const char *readyfile = NULL, *outfile = NULL;
	char sockpath[108] = "";
	int killsig = SIGTERM, opt, sfd, nfd = -1, status = 0;
	sigset_t mask;
	pid_t child;
	FILE *out;
	double t0;

	while ((opt = getopt(argc, argv, "+n:k:o:")) != -1) {
		switch (opt) {
		case 'n': readyfile = optarg; break;
		case 'k':
			if (!strcmp(optarg, "INT") || !strcmp(optarg, "SIGINT"))
				killsig = SIGINT;
			else if (!strcmp(optarg, "TERM") || !strcmp(optarg, "SIGTERM"))
				killsig = SIGTERM;
			else {
				fprintf(stderr, "drainrun: -k TERM or INT\n");
				return 2;
			}
			break;
		case 'o': outfile = optarg; break;
		default: return 2;
		}
	}
	if (!outfile || optind >= argc) {
		fprintf(stderr, "usage: drainrun [-n READYFILE] [-k TERM|INT] -o OUTFILE -- COMMAND [ARG...]\n");
		return 2;
	}
	out = fopen(outfile, "ae");
	if (!out) {
		perror(outfile);
		return 1;
	}
	setvbuf(out, NULL, _IOLBF, 0);

	if (readyfile) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };

		snprintf(sockpath, sizeof(sockpath), "/tmp/drainrun.%d.sock", (int)getpid());
		unlink(sockpath);
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", sockpath);
		nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (nfd < 0 || bind(nfd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			perror("drainrun: notify socket");
			return 1;
		}
		setenv("NOTIFY_SOCKET", sockpath, 1);
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);

	t0 = mono();
	child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (child == 0) {
		sigprocmask(SIG_UNBLOCK, &mask, NULL);
		execvp(argv[optind], argv + optind);
		perror(argv[optind]);
		_exit(127);
	}

	for (;;) {
		struct pollfd pf[2] = { { .fd = sfd, .events = POLLIN }, { .fd = nfd, .events = POLLIN } };
		struct signalfd_siginfo si;

		if (poll(pf, nfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (nfd >= 0 && (pf[1].revents & POLLIN)) {
			char msg[4096];
			ssize_t n = recv(nfd, msg, sizeof(msg) - 1, 0);

			if (n > 0) {
				msg[n] = 0;
				if (strstr(msg, "READY=1")) {
					int fd = open(readyfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

					if (fd >= 0)
						close(fd);
					fprintf(out, "ready_after %.3f\n", mono() - t0);
				}
			}
		}
		if (!(pf[0].revents & POLLIN))
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			kill(child, killsig);
		} else if (si.ssi_signo == SIGUSR1) {
			fprintf(out, "snap_cpu %.3f\n", tree_cpu(child));
		} else if (si.ssi_signo == SIGCHLD) {
			struct rusage ru;
			pid_t w = waitpid(child, &status, WNOHANG);

			if (w != child)
				continue;
			getrusage(RUSAGE_CHILDREN, &ru);
			fprintf(out, "exit %d user %.6f sys %.6f cpu %.6f maxrss_kb %ld wall %.3f\n",
				WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
				tv(ru.ru_utime), tv(ru.ru_stime), tv(ru.ru_utime) + tv(ru.ru_stime), ru.ru_maxrss,
				mono() - t0);
			break;
		}
	}
	if (sockpath[0])
		unlink(sockpath);
	fclose(out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
