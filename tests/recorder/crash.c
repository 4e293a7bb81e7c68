/* SPDX-License-Identifier: MIT */
/*
 * kill -9 of uev-aggregator at random moments under load, round after round
 * on the same ring file and seat: after every kill the file opens, every
 * record that a reader saw in it before the kill is still there unchanged,
 * no record comes twice, and a torn tail is reported, never returned.
 * usage: crash PATH-TO-uev-aggregator ROUNDS
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <tracefs.h>

#include "ringfile.h"
#include "uev/uev.h"

struct rec {
	uint64_t seq;
	uint32_t sub; /* a page's index in its unit (compressed units share a seq) */
	uint32_t crc;
};

struct snap {
	struct rec *v;
	size_t n, cap;
	uint64_t reports, damage;
};

static volatile int load_stop;
static struct uev_event ev = UEV_EVENT_INIT("crash_load", "u64 n; __rel_loc char[] pad");

static void count_report(void *ctx, enum uev_ring_report_kind kind, uint64_t off, const char *msg)
{
	struct snap *s = ctx;

	(void)off, (void)msg;
	s->reports++;
	s->damage += kind != UEV_RING_TORN_END;
}

/* Every valid record of the file as (seq, sub, crc of type+payload). */
static int snapshot(const char *path, struct snap *s)
{
	struct uev_ring_reader *r;
	struct uev_ring_rec rec;
	char err[512];
	int ret;

	s->n = 0;
	s->reports = s->damage = 0;
	ret = uev_ring_reader_open(&r, path, count_report, s, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "open: %s\n", err);
		return ret;
	}
	while ((ret = uev_ring_reader_next(r, &rec)) > 0) {
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 4096;
			s->v = realloc(s->v, s->cap * sizeof(*s->v));
			if (!s->v)
				abort();
		}
		s->v[s->n].seq = rec.seq;
		s->v[s->n].sub = rec.sub;
		s->v[s->n].crc = uev_crc32c(rec.type, rec.payload, rec.len);
		s->n++;
	}
	uev_ring_reader_close(r);
	return ret;
}

static void *load(void *arg)
{
	char pad[200];
	uint64_t n = 0;

	(void)arg;
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = 0;
	while (!load_stop) {
		for (int i = 0; i < 200; i++, n++)
			uev_emit(&ev, n, pad + (n % 150));
		usleep(500);
	}
	return NULL;
}

static pid_t start(const char *agg, const char *seat, const char *conf, const char *run, const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	char buf[128];
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	unlink(sock);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setenv("NOTIFY_SOCKET", sock, 1);
		execl(agg, agg, "--seat", seat, "--config", conf, "--run-dir", run, "--keep-instance", NULL);
		_exit(127);
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, 30000) != 1 || recv(fd, buf, sizeof(buf), 0) <= 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(fd);
	return pid;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->sub < y->sub ? -1 : x->sub > y->sub;
}

/* The scratch directory, the seat's configuration and ring in it. */
struct crash {
	char dir[32], conf[128], ring[128], run[128], sock[100], seat[32];
	const char *agg;
	struct snap before, after;
};

/* The directory and the configuration: 0, or -1. */
static int crash_setup(struct crash *c)
{
	FILE *f;

	strcpy(c->dir, "/tmp/uevcrash.XXXXXX");
	if (!mkdtemp(c->dir))
		return -1;
	snprintf(c->seat, sizeof(c->seat), "crash%d", (int)getpid());
	snprintf(c->conf, sizeof(c->conf), "%s/c.conf", c->dir);
	snprintf(c->ring, sizeof(c->ring), "%s/c.ring", c->dir);
	snprintf(c->run, sizeof(c->run), "%s/run", c->dir);
	snprintf(c->sock, sizeof(c->sock), "%s/notify", c->dir);
	f = fopen(c->conf, "w");
	if (!f)
		return -1;
	fprintf(f, "[seat]\nclock = mono\nflush_interval_ms = 50\nfsync = never\n"
		   "[ring]\npath = %s\nsize = 4M\n[kernel]\nevent = printk:console\n", c->ring);
	return fclose(f) ? -1 : 0;
}

/* After a kill: seq strictly increasing (nothing twice), and everything
 * seen before the kill still there, unchanged (unless the ring has since
 * wrapped over it). Sorts after. 0, or 1 with the reason printed. */
static int check_after_kill(int round, const struct snap *before, struct snap *after)
{
	int failed = 0;

	for (size_t i = 1; i < after->n; i++)
		if (cmp_rec(&after->v[i], &after->v[i - 1]) <= 0) {
			fprintf(stderr, "round %d: seq %llu.%u after %llu.%u\n", round,
				(unsigned long long)after->v[i].seq, after->v[i].sub,
				(unsigned long long)after->v[i - 1].seq, after->v[i - 1].sub);
			failed = 1;
			break;
		}
	if (after->n) /* (qsort and bsearch want a base even for none) */
		qsort(after->v, after->n, sizeof(*after->v), cmp_rec);
	for (size_t i = 0; i < before->n && !failed; i++) {
		struct rec *hit = after->n ? bsearch(&before->v[i], after->v, after->n, sizeof(*after->v), cmp_rec)
					   : NULL;

		if (after->n && before->v[i].seq < after->v[0].seq)
			continue; /* overwritten by the wrap */
		if (!hit || hit->crc != before->v[i].crc) {
			fprintf(stderr, "round %d: record seq %llu.%u %s after the kill\n", round,
				(unsigned long long)before->v[i].seq, before->v[i].sub, hit ? "changed" : "lost");
			failed = 1;
		}
	}
	return failed;
}

/* Start, read while it runs, kill -9 at a random moment, read and check.
 * 0, 1 on a failed check, -1 when the round could not run on. */
static int crash_round(struct crash *c, int round, pid_t pid)
{
	int failed = 0;

	usleep(50000 + (useconds_t)(rand() % 400000));
	if (snapshot(c->ring, &c->before) < 0) {
		fprintf(stderr, "round %d: reading during the run failed\n", round);
		failed = 1;
	}
	usleep((useconds_t)(rand() % 200000));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (snapshot(c->ring, &c->after) < 0) {
		fprintf(stderr, "round %d: the file does not open after kill -9\n", round);
		return -1;
	}
	failed |= check_after_kill(round, &c->before, &c->after);
	/* Most reports after a kill are torn ends of runs. Others
	 * happen: the killed daemon's writes in flight land after it
	 * is reaped (a segment changes under the reader), or are
	 * cancelled while a later one landed (records missing in the
	 * middle of a run), which is damage and reported as such. */
	printf("round %d: %zu records before the kill, %zu after, %llu problems reported, "
	       "%llu of them not torn ends\n", round, c->before.n, c->after.n,
	       (unsigned long long)c->after.reports, (unsigned long long)c->after.damage);
	return failed;
}

/* The instance and the directory go; 1 if the instance stays, else 0. */
static int crash_cleanup(struct crash *c)
{
	char cmd[200];
	int failed = 0;

	/* The last killed daemon's io_uring requests are torn down after it
	 * is reaped, and hold the instance's files until then: retry. */
	snprintf(cmd, sizeof(cmd), "/sys/kernel/tracing/instances/uev.%s", c->seat);
	for (int i = 0; i < 100 && rmdir(cmd) < 0 && errno == EBUSY; i++)
		usleep(50000);
	if (access(cmd, F_OK) == 0) {
		fprintf(stderr, "cleanup: cannot remove %s\n", cmd);
		failed = 1;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", c->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed: %s\n", cmd);
	free(c->before.v);
	free(c->after.v);
	return failed;
}

int main(int argc, char **argv)
{
	static struct crash c;
	struct uev_provider_options po = { 0 };
	struct uev_provider *p;
	int rounds = argc > 2 ? atoi(argv[2]) : 50, failed = 0, loading = 0;
	pthread_t th;

	if (geteuid() != 0 || !tracefs_tracing_dir()) {
		printf("SKIP: needs root and tracefs\n");
		return 77;
	}
	if (argc < 2 || crash_setup(&c) < 0)
		return 2;
	srand((unsigned)getpid());
	po.seat = c.seat;
	po.run_dir = c.run;
	for (int round = 0; round < rounds && !failed; round++) {
		pid_t pid = start(argv[1], c.seat, c.conf, c.run, c.sock);

		if (pid < 0) {
			fprintf(stderr, "round %d: the aggregator did not start\n", round);
			failed = 1;
			break;
		}
		if (!loading) { /* the emitter outlives the kills, as a compositor would */
			uev_provider_open(&p, &po);
			uev_event_register(p, &ev);
			pthread_create(&th, NULL, load, NULL);
			loading = 1;
		}
		failed = crash_round(&c, round, pid) != 0;
	}
	load_stop = 1;
	if (loading) { /* not when the first round did not start */
		pthread_join(th, NULL);
		uev_provider_close(p);
	}
	return crash_cleanup(&c) | failed;
}
