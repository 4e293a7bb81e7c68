/* SPDX-License-Identifier: MIT */
/*
 * A boot's persistent instance (boot-ring.h). Order matters on every
 * kernel that has one: enabling an event in it, or reading it empty, can
 * discard the previous boot's data (6.12 with KASLR, 6.16+ once every CPU
 * was read empty), so take() reads first and touches nothing, and only
 * arm() writes to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <tracefs.h>

#include "boot-ring.h"
#include "setup.h"
#include "uev-abi.h"
#include "uev-decode.h"
#include "uev-grow.h"
#include "uev-seat.h"


int uev_boot_ring_open(struct uev_boot_ring *b, const char *name, char *err, size_t errsize)
{
	memset(b, 0, sizeof(*b));
	b->marker_fd = -1;
	snprintf(b->name, sizeof(b->name), "%s", name);
	if (!tracefs_instance_exists(name)) {
		snprintf(err, errsize, "tracefs instance %s does not exist (the kernel was booted without "
			 "trace_instance=%s^traceoff@LABEL and reserve_mem=SIZE:ALIGN:LABEL)", name, name);
		return -ENOENT;
	}
	b->inst = tracefs_instance_alloc(NULL, name);
	if (!b->inst) {
		int r = -errno;

		snprintf(err, errsize, "tracefs instance %s: %s", name, strerror(-r));
		return r ? r : -ENOMEM;
	}
	return 0;
}

void uev_boot_ring_close(struct uev_boot_ring *b)
{
	if (b->marker_fd >= 0)
		close(b->marker_fd);
	tracefs_instance_free(b->inst); /* the instance itself stays */
	memset(b, 0, sizeof(*b));
	b->marker_fd = -1;
}

int uev_boot_ring_take(struct uev_boot_ring *b, struct uev_snapshot *snap)
{
	struct uev_seat s = { .instance = b->inst };

	snprintf(s.instance_name, sizeof(s.instance_name), "%s", b->name);
	return uev_snapshot_take(&s, snap);
}

struct find_ctx {
	struct uev_boot_found *out;
	int found;
};

static int find_one(void *ctx, const struct uev_rec *r)
{
	struct find_ctx *f = ctx;
	struct uev_boot_found *o = f->out;
	struct uev_boot_mark m;

	if (r->kind != UEV_REC_UNKNOWN || r->marker_id != UEV_MARKER_BOOT || r->len < sizeof(m))
		return 0;
	memcpy(&m, r->payload, sizeof(m));
	if (m.version != 2 || memchr(m.boot_id, 0, sizeof(m.boot_id)) == NULL ||
	    memchr(m.release, 0, sizeof(m.release)) == NULL || memchr(m.clock, 0, sizeof(m.clock)) == NULL || memchr(m.run_clock, 0, sizeof(m.run_clock)) == NULL)
		return 0;
	o->marks++;
	o->type = r->event ? r->event->id : -1;
	if (UEV_GROW(o->sync, o->capsync, o->nsync + 1) < 0)
		return -ENOMEM;
	o->sync[o->nsync++] = (struct uev_boot_sync){ r->ts, m.real_ns, m.mono_ns, m.boot_ns };
	if (f->found && r->ts < o->ts)
		return 0;
	f->found = 1;
	o->mark = m;
	o->pid = r->pid;
	o->cpu = r->cpu;
	o->ts = r->ts;
	return 0;
}

static int by_ts(const void *a, const void *b)
{
	const struct uev_boot_sync *x = a, *y = b;

	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

void uev_boot_found_free(struct uev_boot_found *f)
{
	free(f->sync);
	f->sync = NULL;
	f->nsync = f->capsync = 0;
}

/* The marks are ftrace:raw_data records, whose format and id are fixed in
 * the kernel's image: this boot's formats read the previous boot's pages
 * of the same kernel (the only kernel whose persistent ring survives). */
int uev_boot_ring_find_mark(const struct uev_snapshot *snap, struct uev_boot_found *out)
{
	static const char *const systems[] = { "ftrace", NULL };
	struct find_ctx f = { out, 0 };
	struct tep_handle *tep;
	struct uev_decoder *d;
	int r;

	memset(out, 0, sizeof(*out));
	if (!snap->npages)
		return 0;
	if (!(tep = uev_formats_load(systems)))
		return -errno ? -errno : -ENOENT;
	if ((r = uev_decoder_new(&d, tep)) == 0) {
		/* A page the check refuses is skipped: the mark is looked
		 * for in the rest. */
		for (size_t i = 0; i < snap->npages; i++)
			uev_decoder_page(d, snap->page[i].data, snap->page[i].size, snap->page[i].cpu, find_one, &f);
		uev_decoder_free(d);
	}
	tep_free(tep);
	if (r == 0 && f.found) {
		/* only the newest mark's run: another run's marks are another
		 * aggregator's clock readings, as good, but not needed */
		size_t k = 0;

		if (out->nsync)
			qsort(out->sync, out->nsync, sizeof(*out->sync), by_ts);
		for (size_t i = 0; i < out->nsync; i++)
			if (out->sync[i].real_ns)
				out->sync[k++] = out->sync[i];
		out->nsync = k;
	}
	return r < 0 ? r : f.found;
}

int uev_boot_ring_enable(struct uev_boot_ring *b, const char *system, const char *event, int on)
{
	return tracefs_event_file_write(b->inst, system, event, "enable", on ? "1" : "0") < 0 ? -EIO : 0;
}

int uev_boot_ring_arm(struct uev_boot_ring *b, const struct uev_config *c, int clear, char *err,
		      size_t errsize)
{
	int r;

	if (clear && tracefs_instance_file_clear(b->inst, "trace") < 0) {
		snprintf(err, errsize, "%s: cannot clear it: %s", b->name, strerror(errno));
		return -EIO;
	}
	/* written only when it differs (writing it empties the ring) */
	if ((r = uev_seat_set_clock(&(struct uev_seat){ .instance = b->inst }, UEV_BOOT_CLOCK)) < 0) {
		snprintf(err, errsize, "%s: cannot set trace clock %s", b->name, UEV_BOOT_CLOCK);
		return r;
	}
	if ((r = uev_setup_kevents(b->inst, b->name, c, 1, err, errsize)) < 0)
		return r;
	if (tracefs_trace_on(b->inst) < 0) {
		snprintf(err, errsize, "%s: cannot turn tracing on", b->name);
		return -EIO;
	}
	return 0;
}

static uint64_t now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int uev_boot_ring_mark(struct uev_boot_ring *b, const struct uev_boot_mark *m)
{
	struct {
		uint32_t id;
		struct uev_boot_mark m;
	} __attribute__((packed)) rec = { UEV_MARKER_BOOT, *m };
	cpu_set_t was, one;
	int r = 0, wrote = 0;

	if (b->marker_fd < 0) {
		char *path = tracefs_instance_get_file(b->inst, "trace_marker_raw");

		b->marker_fd = path ? open(path, O_WRONLY | O_CLOEXEC) : -1;
		tracefs_put_tracing_file(path);
		if (b->marker_fd < 0)
			return -errno ? -errno : -ENOENT;
	}
	if (sched_getaffinity(0, sizeof(was), &was) < 0)
		return -errno;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &was))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one) < 0)
			continue; /* went offline */
		rec.m.boot_ns = now_ns(CLOCK_BOOTTIME);
		rec.m.mono_ns = now_ns(CLOCK_MONOTONIC);
		rec.m.real_ns = now_ns(CLOCK_REALTIME);
		if (write(b->marker_fd, &rec, sizeof(rec)) != (ssize_t)sizeof(rec))
			r = -errno ? -errno : -EIO;
		else
			wrote++;
	}
	sched_setaffinity(0, sizeof(was), &was);
	return wrote ? 0 : r ? r : -EIO;
}
