/* SPDX-License-Identifier: MIT */
/*
 * The aggregator's incidents and control socket (control.h, trigger.h,
 * incidents.h) wired into its start, run and stop: triggers watch the
 * capture from the start, the control thread runs while the drain does, and
 * the bundles still waiting for their window are completed after the last
 * drain, from what the file then holds.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <tracefs.h>

#include "agg.h"
#include "ringfile.h"

/* Is @t's event one the seat enables anyway ([kernel] event)? */
static int configured(const struct uev_config *c, const struct uev_cfg_trigger *t)
{
	for (size_t i = 0; i < c->nkevents; i++)
		if (!strcmp(c->kevents[i].system, t->system) && !strcmp(c->kevents[i].event, t->event))
			return 1;
	return 0;
}

int agg_triggers_setup(struct agg *a)
{
	char msg[256];
	int r;

	r = uev_trigger_new(&a->trig, &a->cfg, uev_incidents_hit, &a->ctl.inc, a->err, sizeof(a->err));
	if (r < 0 || !a->trig)
		return r;
	/* A trigger's kernel event is recorded too: the seat must hold what
	 * fires it. One the kernel lacks can never fire; that is said, and
	 * is no reason not to record. */
	for (size_t i = 0; i < a->cfg.ntriggers; i++) {
		struct uev_cfg_trigger t;

		if (uev_cfg_trigger_split(a->cfg.triggers[i], &t, msg, sizeof msg) < 0 || !strcmp(t.system, "user") ||
		    configured(&a->cfg, &t))
			continue;
		if (tracefs_event_enable(a->seat.instance, t.system, t.event) < 0)
			fprintf(stderr, "uev-aggregator: seat %s: trigger '%s': this kernel has no event %s:%s; "
				"it cannot fire\n", a->opt.seat, a->cfg.triggers[i], t.system, t.event);
	}
	uev_capture_set_trigger(a->cap, a->trig);
	return 0;
}

void agg_control_start(struct agg *a)
{
	char err[512] = "";
	int r = uev_control_start(&a->ctl, &a->cfg, a->run_dir, a->seat.instance, a->cfg.ring_path,
				  uev_ring_writer_super(a->w)->file_size, uev_ring_writer_run_id(a->w), a->trig,
				  &a->log, err, sizeof err);

	if (r < 0)
		fprintf(stderr, "uev-aggregator: seat %s: %s; the seat records on without it\n", a->opt.seat, err);
}

void agg_control_stop(struct agg *a)
{
	uev_control_stop(&a->ctl);
}
