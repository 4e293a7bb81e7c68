/* SPDX-License-Identifier: MIT */
/*
 * uev-ctl: the seat's control socket from the command line, through
 * libuev's client calls (uev-control(7)), so whatever a compositor may ask
 * a user may ask too, within the same policy, without root:
 *   uev-ctl status
 *   uev-ctl snapshot [-o FILE] [REASON]
 *   uev-ctl enable KIND SELECTION [-- COMMAND...]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uev/uev.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: uev-ctl [--seat NAME] [--run-dir DIR] COMMAND [ARGS]\n"
		"  status                        what the seat records: ring, losses, incidents\n"
		"  snapshot [-o FILE] [REASON]   an incident bundle made now, copied to FILE\n"
		"                                (default: its name, in the current directory)\n"
		"  enable KIND SELECTION [-- COMMAND [ARGS]]\n"
		"                                turn on a kernel debug selection (KIND dyndbg, drm\n"
		"                                or event) while COMMAND runs, else until interrupted\n"
		"Seat: --seat, else $XDG_SEAT, else seat0. What is allowed is the seat's\n"
		"[control] policy (uev.conf(5)). Exit status: 0 done, 1 refused or failed, 2 bad usage.\n");
}

static int said(const char *what, struct uev_seat *s, int r)
{
	const char *m = s ? uev_seat_message(s) : NULL;

	fprintf(stderr, "uev-ctl: %s: %s%s%s\n", what, strerror(-r), m && *m ? ": " : "", m && *m ? m : "");
	return 1;
}

/* The bundle behind @fd to @out (a new file: an existing one is not replaced). */
static int copy_out(int fd, const char *out)
{
	char buf[65536];
	ssize_t n;
	int o = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), r = 0;

	if (o < 0) {
		fprintf(stderr, "uev-ctl: %s: %s\n", out, strerror(errno));
		return 1;
	}
	while ((n = read(fd, buf, sizeof buf)) > 0)
		if (write(o, buf, (size_t)n) != n) {
			r = 1;
			break;
		}
	if (n < 0 || r || fsync(o) < 0 || close(o) < 0) {
		fprintf(stderr, "uev-ctl: %s: writing failed: %s\n", out, strerror(errno ? errno : EIO));
		unlink(out);
		return 1;
	}
	return 0;
}

static int snapshot(struct uev_seat *s, int argc, char **argv)
{
	const char *out = NULL, *reason = NULL;
	char name[256];
	int fd, r, c;

	optind = 1;
	while ((c = getopt(argc, argv, "+o:")) != -1) {
		if (c != 'o')
			return 2;
		out = optarg;
	}
	if (optind < argc)
		reason = argv[optind++];
	if (optind != argc) {
		fprintf(stderr, "uev-ctl: snapshot: one REASON (quote it)\n");
		return 2;
	}
	/* The reply waits for the seconds after the request that the bundle
	 * covers ([incident] after_s, at most 600). */
	uev_seat_set_timeout(s, 700000);
	if ((r = uev_seat_snapshot(s, reason, &fd)) < 0)
		return said("snapshot", s, r);
	snprintf(name, sizeof name, "%s", uev_seat_message(s));
	name[strcspn(name, " ")] = 0;
	r = copy_out(fd, out ? out : name);
	close(fd);
	if (!r)
		printf("%s\n", out ? out : name);
	return r;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int enable(struct uev_seat *s, int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int r, status = 0;
	pid_t child = -1;

	if (argc < 3 || (argc > 3 && (strcmp(argv[3], "--") || argc == 4))) {
		fprintf(stderr, "uev-ctl: enable KIND SELECTION [-- COMMAND [ARGS]] (quote the selection)\n");
		return 2;
	}
	if ((r = uev_seat_enable(s, argv[1], argv[2])) < 0)
		return said("enable", s, r);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (argc > 4) {
		if ((child = fork()) == 0) {
			execvp(argv[4], argv + 4);
			fprintf(stderr, "uev-ctl: %s: %s\n", argv[4], strerror(errno));
			_exit(127);
		}
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
		/* the disconnect (by the caller) turns the selection off */
		return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	fprintf(stderr, "uev-ctl: %s %s enabled; Ctrl-C turns it off\n", argv[1], argv[2]);
	while (!stop)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seat", required_argument, NULL, 's' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *seat = NULL;
	struct uev_seat *s;
	char buf[4096];
	int c, r;

	while ((c = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		switch (c) {
		case 's': seat = optarg; break;
		case 'r': setenv("UEV_RUN_DIR", optarg, 1); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	argc -= optind;
	argv += optind;
	if (strcmp(argv[0], "status") && strcmp(argv[0], "snapshot") && strcmp(argv[0], "enable")) {
		fprintf(stderr, "uev-ctl: unknown command '%s'\n", argv[0]);
		usage(stderr);
		return 2;
	}
	if ((r = uev_seat_connect(seat, &s)) < 0) {
		fprintf(stderr, "uev-ctl: seat %s: %s%s\n", seat ? seat : getenv("XDG_SEAT") ? getenv("XDG_SEAT") : "seat0",
			strerror(-r), r == -ENOENT || r == -ECONNREFUSED ? " (is uev-aggregator running for it?)" : "");
		return 1;
	}
	if (!strcmp(argv[0], "status")) {
		if (argc != 1) {
			fprintf(stderr, "uev-ctl: status takes no argument\n");
			r = 2;
		} else if ((r = uev_seat_status(s, buf, sizeof buf)) < 0)
			r = said("status", s, r);
		else
			printf("%s\n", buf);
	} else if (!strcmp(argv[0], "snapshot")) {
		r = snapshot(s, argc, argv);
	} else {
		r = enable(s, argc, argv);
	}
	uev_seat_disconnect(s);
	return r;
}
