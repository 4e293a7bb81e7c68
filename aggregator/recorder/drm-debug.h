/* SPDX-License-Identifier: MIT */
/*
 * [dyndbg] drm_debug: DRM debug categories the seat adds to the kernel's
 * global drm.debug mask while it records, and takes out again when it
 * stops. Only the bits this seat set are ever cleared; bits someone else
 * set, before or meanwhile, are left alone. The bits it set are kept in
 * RUN-DIR/SEAT.drm-debug, written before the mask changes, so the next
 * start after a kill -9 takes them over and its stop clears them.
 * What it changes and its problems are said through the caller's log
 * (log.h), as "seat SEAT: ..."; problems never stop the recording.
 */
#ifndef UEV_DRM_DEBUG_H
#define UEV_DRM_DEBUG_H

#include <limits.h>

#include "log.h"

/* The kernel's parameter file; the environment variable UEV_DRM_DEBUG_PATH
 * replaces it (a test hook: this path is read and written as the kernel's). */
#define UEV_DRM_DEBUG_PATH "/sys/module/drm/parameters/debug"

struct uev_drm_debug {
	char path[PATH_MAX];          /* the drm.debug parameter file */
	char record[PATH_MAX];        /* RUN-DIR/SEAT.drm-debug */
	char seat[64];
	unsigned wanted;              /* the configuration's categories */
	unsigned long long added;     /* bits this seat set: cleared at stop */
	unsigned long long recorded;  /* what the record file says (0: no file) */
	int pending;                  /* the file was missing: tried at flushes */
	long long last_try;           /* CLOCK_MONOTONIC seconds of that try */
	int record_warned;
	struct uev_log log;           /* where messages go */
};

/* Start for @seat (run directory @run_dir, NULL: the default) with the
 * categories @wanted, messages to @log (copied; NULL: none): take over the bits a killed run recorded, then add
 * what @wanted lacks. With nothing wanted and no record it touches nothing.
 * A missing parameter file (DRM not loaded) is said and tried again at
 * flushes (uev_drm_debug_poll). */
void uev_drm_debug_start(struct uev_drm_debug *d, const char *seat, const char *run_dir,
			 unsigned wanted, const struct uev_log *log);

/* SIGHUP: add what @wanted adds, clear the bits this seat set and @wanted
 * no longer names. */
void uev_drm_debug_reload(struct uev_drm_debug *d, unsigned wanted);

/* At a flush: if the parameter file was missing, look again (at most once
 * a second) and apply the categories once it is there. */
void uev_drm_debug_poll(struct uev_drm_debug *d);

/* Stop: clear the bits this seat set that are still set, then remove the
 * record (it stays when the kernel refused the write, for the next start). */
void uev_drm_debug_stop(struct uev_drm_debug *d);

#endif
