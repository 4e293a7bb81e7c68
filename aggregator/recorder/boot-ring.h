/* SPDX-License-Identifier: MIT */
/*
 * A boot's persistent instance ([boot] persistent_instance): the tracefs
 * instance the kernel command line put on memory that a warm reboot keeps
 * (reserve_mem= + trace_instance=NAME^traceoff@LABEL; kernel/README.md).
 * After boot it holds the last moments of the previous boot, until
 * something enables an event in it or reads it empty. So the aggregator
 * takes its pages before touching it (uev_boot_ring_take), then clears it
 * and records the seat's kernel selection into it too (arm), and marks it
 * with the ring file and run that recorded this boot (mark), so the next
 * boot can decode those pages with the right formats (boot-import.c).
 */
#ifndef UEV_BOOT_RING_H
#define UEV_BOOT_RING_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "uev-seat.h"

struct tracefs_instance;

/* The payload of a UEV_MARKER_BOOT record (after its u32 id), packed,
 * this machine's byte order. */
struct uev_boot_mark {
	uint32_t version;       /* 2 */
	uint8_t file_uuid[16];  /* the ring file's (superblock) */
	uint64_t run_id;        /* the run recording this boot into it */
	char boot_id[37];       /* this boot's */
	char release[65];       /* uname -r */
	char clock[16];         /* the instance's trace clock */
	char run_clock[16];     /* the run's (the seat's) trace clock */
	/* CLOCK_REALTIME, _MONOTONIC, _BOOTTIME read just before the write:
	 * with the record's own timestamp, a sync point of the instance's
	 * clock (uev_boot_ring_mark fills them) */
	uint64_t real_ns, mono_ns, boot_ns;
} __attribute__((packed));

/* The instance records with the kernel's default trace clock: from 6.16
 * on, a boot restores the previous boot's clock into a persistent
 * instance, and setting a clock empties the buffers of the CPUs online at
 * that point of the boot (the boot CPU): any other clock would cost the
 * boot CPU's whole part of what the instance kept. */
#define UEV_BOOT_CLOCK "local"

struct uev_boot_ring {
	char name[64];
	struct tracefs_instance *inst;
	int marker_fd;          /* its trace_marker_raw, -1 */
};

/* Open the existing instance @name. 0, -ENOENT (no such instance: the
 * kernel was booted without it) or -errno, with @err set. */
int uev_boot_ring_open(struct uev_boot_ring *b, const char *name, char *err, size_t errsize);
void uev_boot_ring_close(struct uev_boot_ring *b);

/* Every sub-buffer it holds, every CPU (reading consumes them). Nothing
 * is enabled or written first. 0 or -errno. */
int uev_boot_ring_take(struct uev_boot_ring *b, struct uev_snapshot *snap);

/* The newest boot mark in @snap, with the pid that wrote it, its CPU and
 * trace time, and every mark of the same run as a sync point (ts: the
 * instance's clock; the samples of the mark), oldest first. 1 found, 0
 * none, -errno. uev_boot_found_free() frees the sync points. */
struct uev_boot_sync {
	uint64_t ts, real_ns, mono_ns, boot_ns;
};
struct uev_boot_found {
	struct uev_boot_mark mark;
	int pid, cpu;
	uint64_t ts;
	unsigned marks;         /* how many it holds */
	int type;               /* their event type (ftrace:raw_data's id) */
	struct uev_boot_sync *sync;
	size_t nsync, capsync;
};
void uev_boot_found_free(struct uev_boot_found *f);
int uev_boot_ring_find_mark(const struct uev_snapshot *snap, struct uev_boot_found *out);

/* Record the seat's selection into it from now on: with @clear its
 * previous content is dropped; the trace clock UEV_BOOT_CLOCK; the kernel
 * events of @c (with their filters); tracing on. User events of the user_events
 * backend are enabled one by one (uev_boot_ring_enable). 0 or -errno with
 * @err naming what failed. */
int uev_boot_ring_arm(struct uev_boot_ring *b, const struct uev_config *c, int clear, char *err,
		      size_t errsize);
/* Enable (or disable) event @system:@event in it. 0 or -errno. */
int uev_boot_ring_enable(struct uev_boot_ring *b, const char *system, const char *event, int on);

/* Write @m into it from every online CPU in turn (each CPU's buffer wraps
 * on its own; a mark on each keeps one there as long as possible), each
 * with the clocks read just before its write. The calling thread's CPU
 * affinity is restored. 0 or -errno. */
int uev_boot_ring_mark(struct uev_boot_ring *b, const struct uev_boot_mark *m);

#endif
