/* SPDX-License-Identifier: MIT */
/*
 * A seat on the reading side: its tracefs instance "uev.<seat>" and the
 * marker enable page <run_dir>/<seat>.enable (layout in libuev/shared/uev-abi.h).
 * Used by uev-seat now and by the aggregator later; touches nothing but the
 * seat's own instance and page.
 */
#ifndef UEV_SEAT_H
#define UEV_SEAT_H

#include <stdbool.h>
#include <stddef.h>

struct tracefs_instance;

struct uev_seat {
	char name[64];
	char instance_name[80];
	char page_path[1024];
	struct tracefs_instance *instance;
	struct uev_enable_page *page; /* mapped read-write, or NULL */
};

/* Is @name a valid seat name ([A-Za-z0-9_-], 1..63 bytes)? */
bool uev_seat_name_valid(const char *name);

/* Open seat @name: create (or reuse) its instance and its enable page under
 * @run_dir (NULL: the default). Needs root. 0 or -errno; @err (may be NULL)
 * receives a message naming what failed. */
int uev_seat_open(struct uev_seat *s, const char *name, const char *run_dir,
		  char *err, size_t errsize);

/* Trace clock and buffer size per CPU of the instance. Writing either
 * empties the instance's ring, even with the value it already has, so these
 * write only what differs: a restart on a kept instance loses nothing.
 * 0 or -errno (-EINVAL: the kernel refused the value). */
int uev_seat_set_clock(struct uev_seat *s, const char *clock);
int uev_seat_set_buffer_kb(struct uev_seat *s, unsigned long kb);

/* Start marker recording: options/markers and tracing_on in the instance,
 * then the page's enabled bit and a new epoch (emitters re-announce). */
int uev_seat_markers_start(struct uev_seat *s);

/* Stop: clear the enabled bit (emitters stop writing within one load). */
int uev_seat_markers_stop(struct uev_seat *s);

/* Let members of group @gid emit into the seat (marker backend): the
 * instance directory and its trace_marker_raw get that group, and the tracefs
 * root and instances/ get search permission for others (no listing, no
 * reading: every file keeps its own mode). 0 or -errno. */
int uev_seat_grant(struct uev_seat *s, unsigned gid);

/*
 * The CPUs the kernel traces: the numbers N of the per_cpu/cpuN directories
 * under @dir (an instance's directory or the tracefs root; every instance
 * has the same ones, one per possible CPU, online or not), ascending, in
 * *@cpus (malloc'd; the caller frees it) and *@n. Numbers may be sparse and
 * exceed the count. A number above @max is refused (-ERANGE) rather than
 * leaving that CPU out; no CPU at all is -ENOENT. 0 or -errno with @err
 * set. uev_seat_cpus_in() takes the directory itself (tests give it a
 * made-up one); uev_seat_cpus() takes @inst, NULL for the tracefs root.
 */
int uev_seat_cpus_in(const char *dir, unsigned max, unsigned **cpus, unsigned *n, char *err, size_t errsize);
int uev_seat_cpus(struct tracefs_instance *inst, unsigned max, unsigned **cpus, unsigned *n, char *err,
		  size_t errsize);

/* Close; with @destroy the instance is removed (the page is kept: emitters
 * may map it, and a page must never disappear under them). */
void uev_seat_close(struct uev_seat *s, bool destroy);

#endif
