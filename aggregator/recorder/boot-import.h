/* SPDX-License-Identifier: MIT */
/*
 * The previous boot's last moments into the ring file (boot-import.c):
 * the pages a persistent instance kept across a warm reboot
 * (boot-ring.h) become a run of their own, marked as recovered, that
 * carries the formats, announcements, names and sync point of the run
 * that recorded that boot, so every reader decodes them with that boot's
 * event ids; what that run already wrote is cut away first.
 */
#ifndef UEV_BOOT_IMPORT_H
#define UEV_BOOT_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ringfile.h"
#include "uev-seat.h"

struct uev_boot_fmt {
	enum uev_ring_format_kind kind;
	uint32_t id;
	char *system, *name, *text;
};
struct uev_boot_ann {
	uint32_t id;
	char *def;
};
struct uev_boot_name {
	int32_t pid;
	char comm[16];
	uint64_t order;        /* file order: the latest name of a pid wins */
};
/* The last event a run holds on a CPU. */
struct uev_boot_last {
	unsigned cpu;
	uint64_t ts;
	uint8_t *body;
	uint32_t size;
};

/* What run @run_id of a ring file left: enough to write its boot's
 * recovered pages as a run of their own. */
struct uev_boot_prev {
	uint64_t run_id;
	struct uev_ring_run_info info;
	struct uev_ring_sync sync;
	int have_sync;
	struct uev_boot_fmt *fmt;
	size_t nfmt, capfmt;
	struct uev_boot_ann *ann;
	size_t nann, capann;
	struct uev_boot_name *names; /* sorted by pid once loaded, one per pid */
	size_t nnames, capnames;
	struct uev_boot_last *last;
	size_t nlast, caplast;
};

/* Read run @run_id of the ring file at @path. 0; -ENOENT when the file
 * holds no RUN_START of it (overwritten, or another file); -ENOTSUP when
 * its pages are of another machine's layout; -errno; @err says why. */
int uev_boot_prev_load(const char *path, uint64_t run_id, struct uev_boot_prev *p, char *err, size_t errsize);
void uev_boot_prev_free(struct uev_boot_prev *p);

/* What uev_boot_cut() did, per import. */
struct uev_boot_cut_stats {
	uint64_t pages_in, events_in;   /* what the instance held */
	uint64_t events_dup;            /* already in the run: cut away */
	uint64_t pages, events;         /* what is left to import */
	unsigned cpus_matched;          /* CPUs whose cut met the run's last event */
	uint64_t missed;                /* events the kernel says it lost, in what is left */
	int missed_unknown;             /* and losses it could not count */
};

/*
 * Drop from @snap (this machine's layout) every event that run @p already
 * holds: per CPU, everything up to the copy of the run's last event on
 * that CPU (the same event bytes, stamped within a millisecond: the
 * instances take their own timestamps), or, where that is not found,
 * everything not later than it. The page where the cut falls is rebuilt
 * from its first kept event on. Pages left empty are freed. 0 or -errno.
 */
int uev_boot_cut(struct uev_snapshot *snap, const struct uev_boot_prev *p, struct uev_boot_cut_stats *st);

/* Write @snap into @w as a run recovered from @p's boot: RUN_START of
 * @p's boot with recovered_from, its sync point, formats, announcements,
 * the names its pages use, the pages; then RUN_END (@w is closed, with
 * the counts). 0 or -errno. */
int uev_boot_write(struct uev_ring_writer *w, const struct uev_boot_prev *p, const struct uev_snapshot *snap,
		   const struct uev_boot_cut_stats *st);

#endif
