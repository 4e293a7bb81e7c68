/* SPDX-License-Identifier: MIT */
/*
 * Sync points for every accepted trace clock (clock-sync.h).
 *
 * The marker round trip, and why it is exact: the kernel stamps a
 * trace_marker_raw record with the trace clock while the write() is in
 * progress, so the stamp lies between a sample of the userspace clocks
 * taken just before the write and one taken just after it. The midpoint
 * of the two is then within half their spread of the instant of the stamp
 * (the trace clock and CLOCK_REALTIME advance at the same rate to a few
 * ppm, nothing over 100 us). A write that was preempted or interrupted
 * shows as a wide spread and is not used.
 *
 * The marker's payload carries the "before" samples and a sequence
 * number; the "after" samples can only be taken once the write has
 * returned, so they stay in this process (the aggregator both writes the
 * marker and captures the page that holds it) until the capture meets the
 * marker. A marker is believed only with the kernel-set pid of the thread
 * that wrote it, a sequence number it wrote and the same "before" samples, so
 * nothing another writer can put into trace_marker_raw, nor a marker an
 * earlier aggregator left in a kept instance, moves the wall clock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <kbuffer.h>

#include "clock-sync.h"
#include "uev-abi.h"

#define MARKER_VERSION 1u
#define PENDING 16 /* markers written and not yet met: one per flush at most */
#define TRIES 8

static const struct uev_clock_info clocks[] = {
	{ "boot", UEV_SYNC_GETTIME, CLOCK_BOOTTIME, 60, NULL },
	{ "mono", UEV_SYNC_GETTIME, CLOCK_MONOTONIC, 60, NULL },
	/* Not slewed by NTP, like the kernel clocks below: their rate is off
	 * CLOCK_REALTIME's by the NTP frequency correction (tens of ppm,
	 * 100 at worst in practice). Replay keeps the last sync point's
	 * offset, so they are synced every 5 s: with a flush interval of a
	 * second, at most 6 s x 100 ppm = 0.6 ms of drift. */
	{ "mono_raw", UEV_SYNC_GETTIME, CLOCK_MONOTONIC_RAW, 5, NULL },
	{ "tai", UEV_SYNC_GETTIME, CLOCK_TAI, 60, NULL },
	{ "local", UEV_SYNC_MARKER, 0, 5, NULL },
	{ "global", UEV_SYNC_MARKER, 0, 5, NULL },
	{ "perf", UEV_SYNC_MARKER, 0, 5, NULL },
	{ "counter", UEV_SYNC_REFUSED, 0, 0, "it counts events, not time" },
	{ "uptime", UEV_SYNC_REFUSED, 0, 0, "it ticks in jiffies, 1 to 10 ms apart" },
	{ "x86-tsc", UEV_SYNC_REFUSED, 0, 0, "it counts CPU cycles, not nanoseconds" },
};

const char uev_clock_accepted[] = "boot, mono, mono_raw, tai, local, global or perf";

const struct uev_clock_info *uev_clock_find(const char *name)
{
	for (size_t i = 0; i < sizeof clocks / sizeof *clocks; i++)
		if (!strcmp(name, clocks[i].name))
			return &clocks[i];
	return NULL;
}

/* The payload after the marker id; host byte order like the id itself. */
struct payload {
	uint32_t version;
	uint32_t reserved;
	uint64_t seq;
	uint64_t real, mono, boot; /* sampled just before the write */
} __attribute__((packed));

struct pending {
	uint64_t seq;
	int32_t tid; /* the writer: what the kernel records as common_pid */
	uint64_t before[3], after[3]; /* real, mono, boot */
};

static struct pending pend[PENDING];
static uint64_t next_seq = 1;

static uint64_t now(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int uev_sync_marker_open(const char *instance_dir)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/trace_marker_raw", instance_dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int uev_sync_marker_write(int fd)
{
	struct {
		uint32_t id;
		struct payload p;
	} __attribute__((packed)) m = { .id = UEV_MARKER_SYNC, .p.version = MARKER_VERSION };
	struct pending e;
	ssize_t n;

	for (int i = 0; i < TRIES; i++) {
		e.seq = next_seq++;
		e.tid = (int32_t)gettid();
		/* Sampled in mirror order around the write, so each clock's
		 * pair is centred on it. */
		e.before[2] = now(CLOCK_BOOTTIME);
		e.before[1] = now(CLOCK_MONOTONIC);
		e.before[0] = now(CLOCK_REALTIME);
		m.p.seq = e.seq;
		m.p.real = e.before[0];
		m.p.mono = e.before[1];
		m.p.boot = e.before[2];
		n = write(fd, &m, sizeof(m));
		if (n != (ssize_t)sizeof(m))
			return n < 0 ? -errno : -EIO;
		e.after[0] = now(CLOCK_REALTIME);
		e.after[1] = now(CLOCK_MONOTONIC);
		e.after[2] = now(CLOCK_BOOTTIME);
		/* A clock step between the samples also shows here. */
		if (e.after[0] < e.before[0] || e.after[0] - e.before[0] > UEV_SYNC_MAX_SPREAD_NS)
			continue;
		pend[e.seq % PENDING] = e;
		return 0;
	}
	return -EAGAIN;
}

int uev_page_event_ts(const void *page, size_t len, const uint8_t *event, uint64_t *ts)
{
	struct kbuffer *kb = kbuffer_alloc(KBUFFER_LSIZE_SAME_AS_HOST, KBUFFER_ENDIAN_SAME_AS_HOST);
	unsigned long long t = 0;
	void *d;
	int found = 0;

	if (!kb)
		return 0;
	/* The caller's walk (page-check.h) found @event inside the committed
	 * data, which this length check keeps kbuffer within. */
	if (len >= 16 && kbuffer_load_subbuffer(kb, (void *)page) == 0) {
		for (d = kbuffer_read_event(kb, &t); d; d = kbuffer_next_event(kb, &t)) {
			if ((const uint8_t *)d == event) {
				found = 1;
				break;
			}
			if ((const uint8_t *)d > event)
				break;
		}
	}
	kbuffer_free(kb);
	*ts = t;
	return found;
}

int uev_sync_marker_match(const void *page, size_t len, const uint8_t *event, uint32_t size,
			  uint32_t buf_off, int32_t pid, struct uev_ring_sync *out)
{
	struct payload p;
	struct pending *e;
	uint64_t ts;
	uint32_t id;

	if (buf_off < 4 || size < buf_off + sizeof(p))
		return 0;
	memcpy(&id, event + buf_off - 4, 4);
	memcpy(&p, event + buf_off, sizeof(p));
	/* raw_data's id is the u32 right before buf in every kernel */
	if (id != UEV_MARKER_SYNC || p.version != MARKER_VERSION)
		return 0;
	e = &pend[p.seq % PENDING];
	if (!p.seq || e->seq != p.seq || e->tid != pid || e->before[0] != p.real || e->before[1] != p.mono ||
	    e->before[2] != p.boot)
		return 0;
	if (!uev_page_event_ts(page, len, event, &ts))
		return 0;
	e->seq = 0; /* one sync point per marker */
	out->trace_ns = ts;
	/* Halves first: no overflow, and the sum is within 1 ns. */
	out->realtime_ns = e->before[0] / 2 + e->after[0] / 2;
	out->monotonic_ns = e->before[1] / 2 + e->after[1] / 2;
	out->boottime_ns = e->before[2] / 2 + e->after[2] / 2;
	return 1;
}
