/* SPDX-License-Identifier: MIT */
/*
 * Setting a seat's instance up from its configuration (clock, buffers,
 * kernel events and filters, dyndbg queries, drm.debug categories) and
 * undoing what must not outlive the aggregator (dyndbg, drm.debug). Touches
 * only the seat's own instance and, in the kernel's global debug switches,
 * only what it changed itself. Problems that do not stop it are said
 * through the caller's log (log.h).
 */
#ifndef UEV_SETUP_H
#define UEV_SETUP_H

#include <stddef.h>

#include "drm-debug.h"
#include "log.h"

struct uev_config;
struct uev_seat;
struct tracefs_instance;

/* A dyndbg callsite the seat's queries changed (see setup.c). */
struct uev_dd_site {
	char *key;            /* its control line without the flags */
	char *query;          /* a query that names it alone, without flags */
	char before[16];      /* its flags before the queries, "_" for none */
	char after[16];       /* and after */
};

struct uev_setup {
	struct uev_dd_site *dd; /* restored one by one at exit, when dd_exact */
	size_t ndd, dd_cap;
	int dd_exact;         /* the control file was read before and after */
	char **dyndbg_undo;   /* otherwise: queries that invert what was applied */
	size_t ndyndbg;
	struct uev_drm_debug drm; /* [dyndbg] drm_debug */
	struct uev_log log;   /* the caller's, from uev_setup_apply */
};

/* The event systems @c enables, NULL-terminated into @out (at most @max
 * slots incl. the NULL), pointing into @c. Returns their number. */
int uev_setup_systems(const struct uev_config *c, const char **out, size_t max);

/* Check, before anything is touched, that every configured kernel event
 * exists and every filter parses. 0 or -EINVAL with all problems in @err. */
int uev_setup_check(const struct uev_config *c, char *err, size_t errsize);

/* Enable (@on) or disable the kernel events of @c, with their filters, in
 * @inst (named @inst_name in @err). 0 or -EIO, @err naming the event. */
int uev_setup_kevents(struct tracefs_instance *inst, const char *inst_name, const struct uev_config *c, int on,
		      char *err, size_t errsize);
/* Apply @c to the seat's instance; drm.debug keeps its record in @run_dir
 * (NULL: the default). What does not stop the setup (a dyndbg query the
 * kernel refused, drm.debug steps) is said to @log (copied; NULL: nowhere),
 * now and at reload and revert. 0 or -errno (@err says what). */
int uev_setup_apply(struct uev_setup *s, struct uev_seat *seat, const struct uev_config *c,
		    const char *run_dir, const struct uev_log *log, char *err, size_t errsize);

/* SIGHUP: enable what @fresh adds, disable what it drops, new filters,
 * @fresh's drm.debug categories. All of it is tried; 0, or -EIO when a
 * kernel event of @fresh could not be enabled (@err says which). */
int uev_setup_reload(struct uev_setup *s, struct uev_seat *seat, const struct uev_config *old,
		     const struct uev_config *fresh, char *err, size_t errsize);

/* Undo the dyndbg queries: every callsite they changed gets its earlier
 * flags back (unless someone else changed it since); clear the drm.debug
 * bits this seat set. What could not be undone is said to the log. */
void uev_setup_revert(struct uev_setup *s);

/* One dyndbg query, one write (the kernel parses each write() alone, at
 * most 4095 bytes). The environment's UEV_DYNDBG_PATH replaces the control
 * file (a test hook, like UEV_DRM_DEBUG_PATH). 0 or -errno. */
int uev_dyndbg_write(const char *q);
/* "module drm +p" is undone by "module drm -p" (a malloc'ed copy); '='
 * has no inverse (NULL). */
char *uev_dyndbg_inverse(const char *q);

#endif
