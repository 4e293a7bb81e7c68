/* SPDX-License-Identifier: MIT */
/*
 * Kernel debug selections that control clients enable for their lifetime
 * (uev-control(7) enable/disable): dyndbg queries, drm.debug categories,
 * kernel events of the seat's instance. The policy is the caller's
 * (control.c); this is the bookkeeping that makes the revert exact:
 *  - a selection is held per client; the kernel is changed when the first
 *    holder comes and changed back when the last one goes;
 *  - what was on before (the seat's own configuration, the admin, another
 *    program) is never turned off: drm.debug bits and events that were set
 *    already are not owned, so not cleared;
 *  - what the control layer changed is kept in RUN-DIR/SEAT.control,
 *    written before the kernel changes, so the next start after a kill -9
 *    reverts it.
 */
#ifndef UEV_CONTROL_SELECT_H
#define UEV_CONTROL_SELECT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "drm-debug.h"

struct tracefs_instance;

struct uev_hold {
	uint64_t client;
	enum uev_cfg_sel_kind kind;
	char sel[520];        /* dyndbg: the query; event: system:event */
	unsigned drm_mask;
};

struct uev_select {
	struct tracefs_instance *inst;
	char record[PATH_MAX];
	struct uev_drm_debug drm;     /* the control layer's own drm.debug owner */
	struct uev_hold *h;
	size_t n, cap;
	char **owned_events;          /* "system:event" this layer turned on */
	size_t nowned, owned_cap;
	char **dd_undo;               /* inverses of the queries applied, one per distinct query */
	char **dd_query;
	size_t ndd, dd_cap, dd_undo_cap;
};

/* Start: revert what a killed run's record lists, then start empty. */
void uev_select_init(struct uev_select *s, struct tracefs_instance *inst, const char *seat, const char *run_dir,
		     const struct uev_log *log);
/* @client holds @kind @sel (checked against the policy already; @mask for
 * drm). 0, or -errno with @msg set (the kernel refused: nothing held). */
int uev_select_enable(struct uev_select *s, uint64_t client, enum uev_cfg_sel_kind kind, const char *sel,
		      unsigned mask, char *msg, size_t msgsize);
/* @client lets go of @kind @sel (@sel NULL: everything it holds).
 * -ENOENT when it held nothing of that. */
int uev_select_disable(struct uev_select *s, uint64_t client, int all, enum uev_cfg_sel_kind kind,
		       const char *sel);
/* What @client holds, "kind selection" lines, into @buf. */
void uev_select_list(const struct uev_select *s, uint64_t client, char *buf, size_t size);
/* Everything reverted (the aggregator stops). */
void uev_select_fini(struct uev_select *s);

#endif
