/* SPDX-License-Identifier: MIT */
/*
 * Sync points: pairs of (trace clock, CLOCK_REALTIME) that put a seat's
 * events on the wall clock (SYNC records, docs/ring-format.md).
 *
 * How a pair is taken depends on the trace clock, and a clock that cannot
 * be paired within 1 ms of the truth is not accepted at all:
 *
 *  - boot, mono, mono_raw, tai are the userspace clocks of the same names:
 *    clock_gettime() of that clock and of CLOCK_REALTIME, back to back.
 *  - local, global, perf are the kernel's sched_clock, which userspace
 *    cannot read. The aggregator writes a sync marker into the seat's own
 *    trace_marker_raw between two samples of the userspace clocks; the
 *    kernel stamps the marker with the trace clock, and when the capture
 *    meets the marker in a drained page, the marker's own timestamp and
 *    the midpoint of the samples around its write make the pair. The
 *    kernel took the timestamp inside the write, so the pair is exact to
 *    half the time the write took; writes slower than UEV_SYNC_MAX_SPREAD_NS
 *    are not used.
 *  - counter (an event count), x86-tsc (CPU cycles at a rate nothing
 *    records) and uptime (jiffies, 1-10 ms steps) are refused.
 *
 * The markers written and not yet matched are kept in this module (one
 * aggregator, one seat per process) without a lock: writing and matching
 * must not run at the same time, as they do not in the aggregator's one
 * loop (sync points from its hooks, matching from its capture).
 */
#ifndef UEV_CLOCK_SYNC_H
#define UEV_CLOCK_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ringfile.h"

enum uev_sync_method {
	UEV_SYNC_GETTIME, /* the trace clock is a userspace clock */
	UEV_SYNC_MARKER,  /* calibrated through a marker round trip */
	UEV_SYNC_REFUSED, /* cannot be put on the wall clock within 1 ms */
};

struct uev_clock_info {
	const char *name;
	enum uev_sync_method method;
	clockid_t id;       /* UEV_SYNC_GETTIME: the userspace clock */
	unsigned every_s;   /* sync points this far apart keep drift under 1 ms */
	const char *refused; /* UEV_SYNC_REFUSED: why, for the config message */
};

/* The trace timestamp of @event, an event inside @page (this machine's
 * layout, @len bytes, found by a page walk of page-check.h): kbuffer, which
 * knows every way the kernel encodes time, walks the page to it. 1 with
 * *@ts set, 0 when the walk does not meet @event. */
int uev_page_event_ts(const void *page, size_t len, const uint8_t *event, uint64_t *ts);

/* The trace clocks the kernel may offer, NULL for a name that is none. */
const struct uev_clock_info *uev_clock_find(const char *name);

/* "boot, mono, ... or perf": the accepted clocks, for messages. */
extern const char uev_clock_accepted[];

/* Marker writes slower than this are not used for a sync point. */
#define UEV_SYNC_MAX_SPREAD_NS 100000ull

/*
 * The writing side. Opens the instance directory @instance_dir's
 * trace_marker_raw: an fd, or -errno.
 */
int uev_sync_marker_open(const char *instance_dir);

/*
 * Write one sync marker through @fd (from uev_sync_marker_open), retried
 * a few times while a write takes longer than UEV_SYNC_MAX_SPREAD_NS. The
 * samples around the accepted write are kept in this process until the
 * capture meets the marker (uev_sync_marker_match). 0, -EAGAIN when every
 * try was too slow, or -errno of the write.
 */
int uev_sync_marker_write(int fd);

/*
 * The reading side, for the capture's walk over a drained page. @event
 * (@size bytes) is an ftrace raw_data event inside @page (@len bytes: the
 * sub-buffer as read), @buf_off the offset of its buf field (the payload
 * after the marker id) and @pid its common_pid. Is it a sync marker a
 * thread of this process wrote and nothing has matched yet? Then 1 with the sync point in
 * @out: trace_ns is the event's own timestamp, the other clocks the
 * midpoints of the samples around its write. Otherwise 0: markers of
 * other writers (anyone allowed to emit can write the same id) or of an
 * earlier aggregator on a kept instance are never taken.
 */
int uev_sync_marker_match(const void *page, size_t len, const uint8_t *event, uint32_t size,
			  uint32_t buf_off, int32_t pid, struct uev_ring_sync *out);

#endif
