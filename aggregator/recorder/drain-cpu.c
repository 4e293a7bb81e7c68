/* SPDX-License-Identifier: MIT */
/*
 * The drain's reading side (drain.c has the invariants): each CPU reads
 * trace_pipe_raw into its own slot of the writer's stage, and a page
 * leaves its slot only once it is recorded, so a kill -9 at any instant
 * leaves every page taken from the kernel either in the ring's stage or
 * in the slot. Setting up the descriptors and slots, and recording what a
 * killed run left in them, are here too.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <tracefs.h>

#include "capture.h"
#include "drain-loop.h"
#include "uev-decode.h"
#include "uev-seat.h"

int drain_fail(struct drain_loop *l, int r, const char *what)
{
	if (!l->err[0])
		snprintf(l->err, l->errsize, "%s: %s", what, strerror(-r));
	return r;
}

int drain_record(struct drain_loop *l, int i)
{
	struct drain_cpu *c = &l->cpu[i];
	unsigned cpu = l->slot_cpu[i];
	int r = uev_capture_page(l->o->capture, cpu, c->slot, l->subbuf);

	if (r == -ENOBUFS) {
		r = uev_ring_writer_flush(l->o->writer); /* page-cache mode makes room at once */
		if (r == 0)
			r = uev_capture_page(l->o->capture, cpu, c->slot, l->subbuf);
	}
	c->stalled = r == -ENOBUFS;
	if (r == 0) {
		memset(c->slot, 0, UEV_PAGE_HDR); /* recorded: the slot is empty */
		l->slot_cpu[i] = c->id;           /* and now its reader's (invariant 1) */
	}
	return r == -ENOBUFS ? 0 : r;
}

int drain_read_cpu(struct drain_loop *l, int i, int budget)
{
	struct drain_cpu *c = &l->cpu[i];

	while (budget-- > 0 && !c->stalled) {
		ssize_t got;
		int r;

		memset(c->slot, 0, UEV_PAGE_HDR);
		got = read(c->fd, c->slot, l->subbuf);
		if (got < 0 && errno == EINTR)
			continue;
		/* A possible CPU that was never online has no buffer yet; it
		 * gets one when it comes online, and a flush finds it then. */
		c->absent = got < 0 && errno == ENODEV;
		if (got <= 0) {
			c->ready = 0;
			if (got < 0 && errno != EAGAIN && errno != ENODEV)
				return drain_fail(l, -errno, "reading trace_pipe_raw");
			return 0;
		}
		if ((size_t)got < l->subbuf) /* the kernel always gives a whole sub-buffer */
			memset(c->slot + got, 0, l->subbuf - (size_t)got);
		if ((r = drain_record(l, i)) < 0)
			return r;
	}
	c->ready = !c->stalled;
	return 0;
}

size_t uev_drain_stage_bytes(unsigned ncpu, size_t subbuf)
{
	return (size_t)ncpu * (subbuf + sizeof(uint32_t)); /* the slots, then slot_cpu */
}

/* Sub-buffer size, and pages per CPU a flush reads at most. */
static void buffer_geometry(struct drain_loop *l)
{
	char *kb = tracefs_instance_file_read(l->o->instance, "buffer_subbuf_size_kb", NULL);
	long n;

	l->subbuf = kb ? (size_t)strtoul(kb, NULL, 10) * 1024 : (size_t)getpagesize();
	free(kb);
	/* It reads "X" when the CPUs' sizes differ: then say 64 MiB. */
	kb = tracefs_instance_file_read(l->o->instance, "buffer_size_kb", NULL);
	n = kb ? (long)strtoul(kb, NULL, 10) : 0;
	l->buffer_pages = (int)((size_t)(n > 0 ? n : 65536) * 1024 / l->subbuf) + 4;
	free(kb);
}

/* One descriptor per CPU: a soft limit of open files below what that
 * needs is raised (systemd's hard limit is 524288); a hard limit below it
 * is refused by name rather than reading only some CPUs. */
static int enough_files(struct drain_loop *l)
{
	rlim_t need = (rlim_t)l->ncpu + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		snprintf(l->err, l->errsize, "%d CPUs need %llu open files, and the hard limit is %llu "
			 "(LimitNOFILE=, ulimit -Hn)", l->ncpu, (unsigned long long)need,
			 (unsigned long long)rl.rlim_max);
		return -EMFILE;
	}
	rl.rlim_cur = need;
	return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? drain_fail(l, -errno, "raising the open file limit") : 0;
}

/* The CPUs, their slots (in the stage when it has room) and descriptors. */
static int open_cpus(struct drain_loop *l, const char *dir, unsigned *ids)
{
	size_t need = uev_drain_stage_bytes((unsigned)l->ncpu, l->subbuf), alen = 0;
	uint8_t *area = uev_ring_writer_stage_area(l->o->writer, &alen);

	if (!area || alen < need) {
		if (area)
			uev_log_say(&l->o->log, "the stage has no room for %d pages of %zu bytes: a kill -9 "
				    "can lose the page each CPU was reading", l->ncpu, l->subbuf);
		if (!(area = l->heap_slots = calloc(1, need)))
			return drain_fail(l, -ENOMEM, "setting up the drain");
	}
	l->slot_cpu = (uint32_t *)(area + (size_t)l->ncpu * l->subbuf);
	for (int i = 0; i < l->ncpu; i++)
		l->cpu[i] = (struct drain_cpu){ .id = ids[i], .fd = -1, .slot = area + (size_t)i * l->subbuf };
	for (int i = 0; i < l->ncpu; i++) {
		char file[PATH_MAX];

		snprintf(file, sizeof(file), "%s/per_cpu/cpu%u/trace_pipe_raw", dir, l->cpu[i].id);
		l->cpu[i].fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (l->cpu[i].fd < 0) {
			int e = errno;

			snprintf(l->err, l->errsize, "%s: %s", file, strerror(e));
			return -e;
		}
	}
	return 0;
}

int drain_setup(struct drain_loop *l)
{
	char *dir = tracefs_instance_get_dir(l->o->instance);
	unsigned *ids = NULL, n = 0, entries = 256;
	int r;

	buffer_geometry(l);
	if (!dir)
		return drain_fail(l, -ENOMEM, "setting up the drain");
	r = uev_seat_cpus_in(dir, UEV_RING_CPU_MAX, &ids, &n, l->err, l->errsize);
	l->ncpu = (int)n;
	if (r == 0 && (n > INT_MAX / 2 || !(l->cpu = calloc(n, sizeof(*l->cpu)))))
		r = drain_fail(l, -ENOMEM, "setting up the drain");
	if (r == 0 && (r = enough_files(l)) == 0)
		r = open_cpus(l, dir, ids);
	free(ids);
	tracefs_put_tracing_file(dir);
	/* Room for a poll per CPU, the writes and the signal at once. */
	while (entries < n + MAX_WRITES + 8 && entries < 32768)
		entries *= 2;
	if (r == 0 && (r = io_uring_queue_init(entries, &l->ring, 0)) < 0)
		r = drain_fail(l, r, "io_uring setup");
	return r;
}

void drain_teardown(struct drain_loop *l)
{
	if (l->ring.ring_fd >= 0)
		io_uring_queue_exit(&l->ring);
	for (int i = 0; l->cpu && i < l->ncpu; i++)
		if (l->cpu[i].fd >= 0)
			close(l->cpu[i].fd);
	free(l->cpu);
	free(l->heap_slots);
}

/* Pages a killed aggregator read but may not have recorded (invariant 1):
 * recorded now, unless the stage shows the killed writer had them. */
int drain_recover_slots(struct drain_loop *l)
{
	unsigned again = 0;

	for (int i = 0; i < l->ncpu; i++) {
		uint8_t *p = l->cpu[i].slot, z[UEV_PAGE_HDR] = { 0 };
		int r;

		if (!memcmp(p, z, sizeof(z))) {
			l->slot_cpu[i] = l->cpu[i].id;
			continue;
		}
		if (l->slot_cpu[i] > UEV_RING_CPU_MAX ||
		    uev_ring_writer_stage_had_page(l->o->writer, l->slot_cpu[i], p,
						   uev_capture_keep(p, l->subbuf))) {
			if (l->slot_cpu[i] > UEV_RING_CPU_MAX)
				uev_log_say(&l->o->log, "the stage's slot %d holds a page of no CPU (%u); dropped",
					    i, l->slot_cpu[i]);
			memset(p, 0, UEV_PAGE_HDR);
			l->slot_cpu[i] = l->cpu[i].id;
			continue;
		}
		if ((r = drain_record(l, i)) < 0)
			return r;
		again++;
	}
	if (again)
		uev_log_say(&l->o->log, "recorded %u page%s that a stopped aggregator had read but not "
			    "recorded", again, again == 1 ? "" : "s");
	return 0;
}
