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
#include <unistd.h>
#include <tracefs.h>

#include "capture.h"
#include "drain-loop.h"
#include "uev-decode.h"

int drain_fail(struct drain_loop *l, int r, const char *what)
{
	if (!l->err[0])
		snprintf(l->err, l->errsize, "%s: %s", what, strerror(-r));
	return r;
}

int drain_record(struct drain_loop *l, int i)
{
	struct drain_cpu *c = &l->cpu[i];
	int r = uev_capture_page(l->o->capture, (unsigned)i, c->slot, l->subbuf);

	if (r == -ENOBUFS) {
		r = uev_ring_writer_flush(l->o->writer); /* page-cache mode makes room at once */
		if (r == 0)
			r = uev_capture_page(l->o->capture, (unsigned)i, c->slot, l->subbuf);
	}
	c->stalled = r == -ENOBUFS;
	if (r == 0)
		memset(c->slot, 0, UEV_PAGE_HDR); /* recorded: the slot is empty */
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
		if (got <= 0) {
			c->ready = 0;
			if (got < 0 && errno != EAGAIN)
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

int drain_setup(struct drain_loop *l)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF), n;
	char *kb = tracefs_instance_file_read(l->o->instance, "buffer_subbuf_size_kb", NULL);
	char *dir = tracefs_instance_get_dir(l->o->instance);
	size_t alen = 0;
	uint8_t *area = uev_ring_writer_stage_area(l->o->writer, &alen);
	int r = 0;

	l->subbuf = kb ? (size_t)strtoul(kb, NULL, 10) * 1024 : (size_t)getpagesize();
	free(kb);
	/* It reads "X" when the CPUs' sizes differ: then say 64 MiB. */
	kb = tracefs_instance_file_read(l->o->instance, "buffer_size_kb", NULL);
	n = kb ? (long)strtoul(kb, NULL, 10) : 0;
	l->buffer_pages = (int)((size_t)(n > 0 ? n : 65536) * 1024 / l->subbuf) + 4;
	free(kb);
	l->ncpu = (int)(ncpu > 0 && ncpu < MAX_CPUS ? ncpu : 1);
	l->cpu = calloc((size_t)l->ncpu, sizeof(*l->cpu));
	if (!l->cpu || !dir) {
		tracefs_put_tracing_file(dir);
		return drain_fail(l, -ENOMEM, "setting up the drain");
	}
	if (!area || alen < (size_t)l->ncpu * l->subbuf) {
		if (area)
			fprintf(stderr, "uev-aggregator: the stage has no room for %d pages of %zu bytes: "
				"a kill -9 can lose the page each CPU was reading\n", l->ncpu, l->subbuf);
		area = l->heap_slots = calloc((size_t)l->ncpu, l->subbuf);
	}
	for (int i = 0; i < l->ncpu; i++)
		l->cpu[i].fd = -1;
	for (int i = 0; i < l->ncpu && r == 0 && area; i++) {
		char file[PATH_MAX];

		snprintf(file, sizeof(file), "%s/per_cpu/cpu%d/trace_pipe_raw", dir, i);
		l->cpu[i].slot = area + (size_t)i * l->subbuf;
		l->cpu[i].fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (l->cpu[i].fd < 0) {
			r = -errno;
			snprintf(l->err, l->errsize, "%s: %s", file, strerror(errno));
		}
	}
	tracefs_put_tracing_file(dir);
	if (r == 0 && !area)
		r = drain_fail(l, -ENOMEM, "setting up the drain");
	if (r == 0 && (r = io_uring_queue_init(256, &l->ring, 0)) < 0)
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

		if (!memcmp(p, z, sizeof(z)))
			continue;
		if (uev_ring_writer_stage_had_page(l->o->writer, (unsigned)i, p,
						   uev_capture_keep(p, l->subbuf))) {
			memset(p, 0, UEV_PAGE_HDR);
			continue;
		}
		if ((r = drain_record(l, i)) < 0)
			return r;
		again++;
	}
	if (again)
		fprintf(stderr, "uev-aggregator: recorded %u page%s that a stopped aggregator had read "
			"but not recorded\n", again, again == 1 ? "" : "s");
	return 0;
}
