/* SPDX-License-Identifier: MIT */
/* The test daemon of aggtest.h. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aggtest.h"
#include "ktest.h"

static const char *agg_path;
char agg_dir[] = "/tmp/uevagg.XXXXXX";
struct uev_event agg_tick = UEV_EVENT_INIT("agg_tick", "u32 seq; u32 thread; __rel_loc char[] msg");
struct uev_event agg_mark = UEV_EVENT_INIT("agg_mark", "u32 k; u8 after");
const char *agg_ring_size = "16M";
static pid_t agg_owner; /* the test program, whose children run the tests */
void (*agg_in_child)(void);

void agg_setup(int argc, char **argv)
{
	ktest_require_root_tracefs();
	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-TO-uev-aggregator\n", argv[0]);
		exit(2);
	}
	agg_path = argv[1];
	agg_owner = getpid();
	if (!mkdtemp(agg_dir)) {
		perror("mkdtemp");
		exit(1);
	}
}

/*
 * A test that fails or times out ends in the child Check forked for it. Its
 * daemons get SIGTERM then (PR_SET_PDEATHSIG) and remove their instance as
 * on any stop; one the test killed with SIGKILL, or started with
 * --keep-instance, leaves it. Every seat is named after this program
 * (agg_start), so what is left is found here, once the daemons are gone
 * (an instance with a reader still attached refuses rmdir: EBUSY).
 */
static void sweep_instances(void)
{
	static const char dir[] = "/sys/kernel/tracing/instances";
	char want[48], path[512];
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t wl = (size_t)snprintf(want, sizeof(want), "uev.agg%d_", (int)agg_owner);

	for (; d && (de = readdir(d));) {
		if (strncmp(de->d_name, want, wl))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		for (int i = 0; i < 50 && rmdir(path) < 0 && errno == EBUSY; i++)
			usleep(100000);
		if (access(path, F_OK) == 0)
			fprintf(stderr, "cleanup: could not remove %s\n", path);
		else
			fprintf(stderr, "cleanup: removed %s, left by a failed test\n", path);
	}
	if (d)
		closedir(d);
}

void agg_cleanup(void)
{
	char cmd[64];

	sweep_instances();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", agg_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", agg_dir);
}

void agg_start(struct daemon *d, const char *extra, unsigned flush_ms)
{
	static int n;
	FILE *f;

	/* this program's pid (sweep_instances), then the test's */
	snprintf(d->seat, sizeof(d->seat), "agg%d_%d_%d", (int)agg_owner, (int)getpid(), n++);
	snprintf(d->conf, sizeof(d->conf), "%s/%s.conf", agg_dir, d->seat);
	snprintf(d->ring, sizeof(d->ring), "%s/%s.ring", agg_dir, d->seat);
	snprintf(d->run, sizeof(d->run), "%s/run", agg_dir);
	snprintf(d->sock, sizeof(d->sock), "%s/%s.notify", agg_dir, d->seat);
	f = fopen(d->conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[seat]\nclock = mono\nflush_interval_ms = %u\nbuffer_kb = 8192\n"
		   "[ring]\npath = %s\nsize = %s\n[kernel]\nevent = printk:console\n%s",
		flush_ms, d->ring, agg_ring_size, extra ? extra : "");
	fclose(f);
	agg_launch(d);
}

void agg_launch(struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	char buf[256] = "";

	unlink(d->sock);
	d->nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->sock);
	ck_assert_int_eq(bind(d->nfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	d->pid = fork();
	if (d->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* a failed test leaves no daemon behind */
		setenv("NOTIFY_SOCKET", d->sock, 1);
		if (agg_in_child)
			agg_in_child();
		execl(agg_path, agg_path, "--seat", d->seat, "--config", d->conf, "--run-dir", d->run, NULL);
		_exit(127);
	}
	pfd = (struct pollfd){ .fd = d->nfd, .events = POLLIN };
	ck_assert_msg(poll(&pfd, 1, 30000) == 1, "no READY=1 from the aggregator within 30 s");
	ck_assert_int_gt(recv(d->nfd, buf, sizeof(buf) - 1, 0), 0);
	ck_assert_msg(strstr(buf, "READY=1"), "notify said '%s'", buf);
}

void agg_stop(struct daemon *d)
{
	char buf[256] = "";
	int st;

	kill(d->pid, SIGTERM);
	ck_assert_int_eq(waitpid(d->pid, &st, 0), d->pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "aggregator status %#x", st);
	ck_assert_int_gt(recv(d->nfd, buf, sizeof(buf) - 1, MSG_DONTWAIT), 0);
	ck_assert_msg(strstr(buf, "STOPPING=1"), "notify said '%s'", buf);
	close(d->nfd);
}

struct uev_provider *agg_emitter(struct daemon *d)
{
	struct uev_provider_options o = { .seat = d->seat, .run_dir = d->run };
	struct uev_provider *p;

	ck_assert_int_eq(uev_provider_open(&p, &o), 0);
	ck_assert_int_eq(uev_event_register(p, &agg_tick), 0);
	ck_assert_int_eq(uev_event_register(p, &agg_mark), 0);
	for (int i = 0; i < 2000 && !uev_enabled(&agg_tick); i++)
		usleep(1000);
	ck_assert_msg(uev_enabled(&agg_tick), "the seat never enabled the emitter");
	return p;
}

void agg_report(void *ctx, enum uev_ring_report_kind kind, uint64_t off, const char *msg)
{
	(void)ctx, (void)kind;
	ck_abort_msg("ring reader reported at %llu: %s", (unsigned long long)off, msg);
}
