/* SPDX-License-Identifier: MIT */
/*
 * pid -> comm for uev-replay. Names come from two places: the ring file's
 * COMM records (the aggregator's table, in file order) and the kernel's own
 * events as the merge meets them in time order (uev_event_comm: a fork
 * names the child, a rename or an exec the task), which is what makes a
 * short-lived child show its name before the aggregator's next COMM record.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <event-parse.h>

#include "replay.h"

#define COMM_CAP 16384u /* slots, a power of two */

struct rp_comm_slot {
	int32_t pid; /* 0: empty */
	char comm[16];
};

int rp_comm_init(struct rp_comm *t)
{
	t->n = 0;
	t->slot = calloc(COMM_CAP, sizeof(*t->slot));
	return t->slot ? 0 : -ENOMEM;
}

void rp_comm_free(struct rp_comm *t)
{
	free(t->slot);
	t->slot = NULL;
}

void rp_comm_clear(struct rp_comm *t)
{
	memset(t->slot, 0, COMM_CAP * sizeof(*t->slot));
	t->n = 0;
}

static unsigned hash(int32_t pid)
{
	return ((uint32_t)pid * 2654435761u) & (COMM_CAP - 1);
}

void rp_comm_put(struct rp_comm *t, int32_t pid, const char *comm)
{
	unsigned h = hash(pid);

	if (pid <= 0)
		return;
	/* Probes get long when the table fills: start again. */
	if (t->n >= COMM_CAP / 4 * 3)
		rp_comm_clear(t);
	while (t->slot[h].pid && t->slot[h].pid != pid)
		h = (h + 1) & (COMM_CAP - 1);
	if (!t->slot[h].pid)
		t->n++;
	t->slot[h].pid = pid;
	strncpy(t->slot[h].comm, comm, 15);
	t->slot[h].comm[15] = 0;
}

const char *rp_comm_find(const struct rp_comm *t, int32_t pid)
{
	for (unsigned h = hash(pid); t->slot[h].pid; h = (h + 1) & (COMM_CAP - 1))
		if (t->slot[h].pid == pid)
			return t->slot[h].comm;
	return NULL;
}

const char *rp_comm_get(const struct rp_comm *t, int32_t pid)
{
	const char *c;

	if (pid == 0)
		return "<idle>";
	c = rp_comm_find(t, pid);
	return c ? c : "<...>";
}

void rp_comm_learn(struct rp_comm *t, const struct rp_event *e)
{
	char comm[16];
	int32_t pid;

	if (e->r.kind == UEV_REC_KERNEL && uev_event_comm(e->r.event, e->rec, &pid, comm))
		rp_comm_put(t, pid, comm);
}

int rp_namer_init(struct rp_namer *n)
{
	memset(n, 0, sizeof(*n));
	return rp_comm_init(&n->comm);
}

void rp_namer_free(struct rp_namer *n)
{
	rp_comm_free(&n->comm);
}

void rp_namer_name(struct rp_namer *n, struct rp_event *e)
{
	const char *name;

	if (e->run && e->run != n->run) { /* the boot is compared per run, not per event */
		if (strcmp(n->boot, e->run->boot_id)) {
			rp_comm_clear(&n->comm);
			memcpy(n->boot, e->run->boot_id, sizeof(n->boot));
		}
		n->run = e->run;
	}
	rp_comm_learn(&n->comm, e);
	if (e->r.pid > 0 && (name = rp_comm_find(&n->comm, e->r.pid)))
		e->comm = name;
}
