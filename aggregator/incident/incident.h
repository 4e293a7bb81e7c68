/* SPDX-License-Identifier: MIT */
/*
 * Incident bundles (aggregator/incident/): a time window of a seat's ring
 * file cut out, while the aggregator goes on writing that file, into a small
 * ring file of its own (docs/ring-format.md, "Incident bundles") that
 * uev-replay reads like any ring file. The window is in the trace clock of
 * one run; the events outside it are left out (pages at its edges are
 * encoded anew with the events inside), the metadata its pages need (the
 * run, sync points, formats, announcements, names) is kept, and so is the
 * kernel's loss inside it.
 *
 * The source file is opened read-only with a reader of its own: the writer
 * is never touched. What is copied goes to a scratch file (unnamed, in the
 * work directory), so memory stays bounded whatever the window holds.
 * Libraries' rules: -errno and a message naming the file in @err; nothing
 * prints; one bundle is used by one thread at a time.
 */
#ifndef UEV_INCIDENT_H
#define UEV_INCIDENT_H

#include <stddef.h>
#include <stdint.h>

struct uev_bundle;

/* What the bundle says about its incident (stored in it, shown by
 * uev-replay). The strings are copied. */
struct uev_incident_info {
	const char *reason;           /* why: "error_report", "printk", "snapshot", ... */
	const char *trigger;          /* what: the event or client that triggered it */
	uint64_t trigger_ns;          /* when, on the run's trace clock */
	uint64_t trigger_realtime_ns; /* when, on CLOCK_REALTIME (0: unknown) */
};

/* What was copied so far. */
struct uev_bundle_stats {
	uint64_t pages, pages_cut;  /* pages copied; of those, encoded anew at an edge */
	uint64_t events;            /* events inside the window copied */
	uint64_t bytes;             /* of the scratch file */
	/* Not 0: the ring had already overwritten the start of the window;
	 * the oldest data of it that it still held is of this trace time. */
	uint64_t overwritten_to_ns;
	uint64_t lost_records;      /* records overwritten between two collects */
	uint64_t problems;          /* damage met in the source (reported, skipped) */
	char first_problem[256];    /* the first of them, "" when none */
};

/*
 * Start collecting the window [@from_ns, @to_ns] (both included, trace
 * clock of run @run_id) from the ring file @ring_path, with the scratch file
 * in @work_dir (a directory on the same machine, e.g. the incident
 * directory). Nothing is read yet. -EINVAL (from > to, run 0), -errno of
 * the scratch file.
 */
int uev_bundle_begin(struct uev_bundle **out, const char *ring_path, uint64_t run_id, uint64_t from_ns,
		     uint64_t to_ns, const char *work_dir, char *err, size_t errsize);

/*
 * Copy what the ring file holds now of the window and was not copied by an
 * earlier call (the records after the last one this bundle read). Call it
 * right after the trigger, after the aggregator flushed, so that the part
 * before the trigger is copied before the ring wraps over it, and again
 * when the window has ended (after a flush). Runs of the same boot and
 * trace clock before @run_id that have data in the window are copied too.
 * Damage in the source is skipped and counted (uev_bundle_stats()), never
 * an error; a window whose start the ring already overwrote is said so
 * (overwritten_to_ns). 0, or -errno with @err naming the file when it
 * cannot be opened or read on (what was copied before stays).
 */
int uev_bundle_collect(struct uev_bundle *b, char *err, size_t errsize);

/* The counters of what was copied so far. */
const struct uev_bundle_stats *uev_bundle_stats(const struct uev_bundle *b);

/*
 * Write the bundle: a ring file just large enough for what was copied,
 * holding the runs with their metadata, the copied pages, and an INCIDENT
 * record made from @info and the window. Written atomically: a temporary
 * name in @dir, fsync, rename to @dir/@name, fsync of @dir; an existing
 * @dir/@name is replaced. *@bytes (may be NULL) = its size. The bundle can
 * be finished once; free it afterwards. -errno with @err.
 */
int uev_bundle_finish(struct uev_bundle *b, const char *dir, const char *name,
		      const struct uev_incident_info *info, uint64_t *bytes, char *err, size_t errsize);

/* Release the bundle and its scratch file (NULL is fine). */
void uev_bundle_free(struct uev_bundle *b);

/*
 * Bound the incident directory @dir: drop the oldest bundles (by the time
 * their INCIDENT record gives, then by name) until at most @max_count
 * remain (0: no limit) and they take at most @max_bytes together (0: no
 * limit). A bundle is a regular file that is a ring file with an INCIDENT
 * record; nothing else in @dir is touched, but the temporary a finish
 * killed before its rename left (".NAME.tmp-PID" of a process that is gone),
 * which is removed. *@dropped, *@dropped_bytes (may
 * be NULL) count what was removed. 0, or -errno with @err naming what
 * could not be read or removed.
 */
int uev_incident_prune(const char *dir, unsigned max_count, uint64_t max_bytes, unsigned *dropped,
		       uint64_t *dropped_bytes, char *err, size_t errsize);

#endif
