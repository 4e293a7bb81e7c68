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

#include "boot-klog.h"
#include "boot-ring.h"
#include "ringfile.h"
#include "uev-seat.h"

struct tep_handle;

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
/* Copies are first looked for this far apart, to measure what is left of
 * the clocks' offset (boot-cut.c). */
#define UEV_BOOT_COARSE_NS 50000000ull

/* At most this many written events are kept to match copies against (a
 * persistent instance of a few MiB holds far fewer). */
#define UEV_BOOT_SEEN_MAX (1u << 22)

/* A sub-buffer whose header commits no more than it holds (what kbuffer
 * may load). */
static inline int uev_boot_page_ok(const void *page, size_t size)
{
	return size >= UEV_PAGE_HDR && uev_page_commit(page, size) + UEV_PAGE_HDR <= size;
}

/* The copies of one event in two instances are stamped this close: the
 * tracepoint writes one after the other, in the same context, usually
 * microseconds apart; but the first event an instance takes after being
 * armed was seen 1.02 ms after its twin under qemu's emulation. */
#define UEV_BOOT_WINDOW_NS 10000000ull

/* An event the ring file holds already (of a run of the recovered boot):
 * its CPU, time and a hash of its bytes; one persistent copy each. */
struct uev_boot_seen {
	uint64_t hash;          /* uev_boot_event_hash, set by uev_boot_cut */
	uint64_t ts;
	uint32_t cpu, size;
	uint8_t used;
	uint8_t *body;          /* a copy */
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
	/* Its event formats parsed (NULL: none), for the bytes of an event
	 * that mean something (uev_boot_event_hash) */
	struct tep_handle *tep;
	/* The event type of the aggregator's marks there (ftrace:raw_data),
	 * left out of the import; -1: none known */
	int mark_type;
	/* The events runs of that boot wrote from seen_from on (sorted by
	 * uev_boot_cut) */
	struct uev_boot_seen *seen;
	size_t nseen, capseen;
	uint64_t seen_from;
};

/* Read run @run_id of the ring file at @path (boot @boot_id), and every
 * event that runs of that boot wrote on or after trace time @from (the
 * oldest the persistent instance holds, uev_boot_first_ts). 0; -ENOENT
 * when the file holds no RUN_START of it (overwritten, or another file);
 * -ENOTSUP when its pages are of another machine's layout; -errno; @err
 * says why. */
int uev_boot_prev_load(const char *path, uint64_t run_id, const char *boot_id, uint64_t from,
		       struct uev_boot_prev *p, char *err, size_t errsize);
/* The hash two copies of an event share: its bytes up to the end of its
 * last field (with @tep: the end of its dynamic data; what lies after it
 * is alignment, whatever the ring's memory held), without its context
 * bytes. */
uint64_t uev_boot_event_hash(struct tep_handle *tep, const void *body, uint32_t size);
/* Note one written event (tests build a prev by hand with it). */
int uev_boot_seen_add(struct uev_boot_prev *p, unsigned cpu, uint64_t ts, const void *body, uint32_t size);
/* The oldest event time in @snap (UINT64_MAX for none). */
uint64_t uev_boot_first_ts(const struct uev_snapshot *snap);
void uev_boot_prev_free(struct uev_boot_prev *p);

/*
 * The recording run's clock and the persistent instance's (boot-ring.h:
 * the kernel's default) differ. The marks pair the instance's clock with
 * CLOCK_REALTIME, _MONOTONIC and _BOOTTIME read just before each mark,
 * once a second: a run clock of boot or mono maps through the least
 * delayed mark within 30 s (boot-import.c), the instance's own clock is
 * the same, and any other clock maps through the wall clock of that mark
 * and the run's sync point. What is left of the offset is measured from
 * the copies (boot-cut.c).
 */
struct uev_boot_clockmap {
	const struct uev_boot_sync *s;
	size_t n;
	enum { UEV_BOOT_MAP_SAME, UEV_BOOT_MAP_BOOT, UEV_BOOT_MAP_MONO, UEV_BOOT_MAP_WALL } kind;
	struct uev_ring_sync run_sync; /* UEV_BOOT_MAP_WALL: the run's */
};
/* 0, or -ENOENT when no mark has samples (nothing can be mapped). */
int uev_boot_clockmap_init(struct uev_boot_clockmap *m, const char *run_clock, const char *inst_clock,
			   const struct uev_boot_sync *s, size_t n);
/* A run time as the instance's clock, and back. */
uint64_t uev_boot_to_inst(const struct uev_boot_clockmap *m, uint64_t run_ts);
uint64_t uev_boot_to_run(const struct uev_boot_clockmap *m, uint64_t inst_ts);

/* What uev_boot_cut() did, per import. */
struct uev_boot_cut_stats {
	uint64_t pages_in, events_in;   /* what the instance held */
	uint64_t events_dup;            /* already in the file: left out */
	uint64_t pages, events;         /* what is left to import */
	unsigned cpus_dup;              /* CPUs it left events out on */
	uint64_t marks;                 /* the aggregator's own marks, left out */
	int64_t clock_offset_ns;        /* the copies' offset left after mapping */
	uint64_t missed;                /* events the kernel says it lost, in what is left */
	int missed_unknown;             /* and losses it could not count */
};

/*
 * Leave out of @snap (this machine's layout) every event the file holds
 * already: during that boot the seat's instance and the persistent one
 * recorded the same events, each stamping its own copy, so a persistent
 * event is a copy when a written event of the same CPU has the same bytes
 * (type, pid, flags, fields) and a time within UEV_BOOT_WINDOW_NS; each written
 * event accounts for one copy. What only the persistent instance has stays,
 * wherever it falls (the end of the boot, but also what came between two
 * runs, or what the seat's instance lost). Pages that lose events are
 * encoded anew from the events they keep (same bytes, times re-expressed
 * as deltas, time extends where needed); pages left empty go. 0 or -errno.
 */
int uev_boot_cut(struct uev_snapshot *snap, struct uev_boot_prev *p, struct uev_boot_cut_stats *st);

/* Write @snap into @w as a run recovered from @p's boot: RUN_START of
 * @p's boot with recovered_from, its sync point, formats, announcements,
 * the names its pages use, the pages, each CPU of @loss (the kernel's
 * word: boot-klog.h) with a LOST record of unknown count before its first
 * page; then RUN_END (@w is closed, with the counts). 0 or -errno. */
int uev_boot_write(struct uev_ring_writer *w, const struct uev_boot_prev *p, const struct uev_snapshot *snap,
		   const struct uev_boot_cut_stats *st, const struct uev_boot_loss *loss, size_t nloss);

#endif
