/* SPDX-License-Identifier: MIT */
/*
 * pid -> comm for uev-replay. Names come from two places: the ring file's
 * COMM records (the aggregator's table, in file order) and the kernel's own
 * events as the merge meets them in time order (a fork names the child, a
 * rename or exec names the task), which is what makes a short-lived child
 * show its name before the aggregator's next COMM record.
 */
#include <errno.h>
#include <stdio.h>
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

/* A pid field and a comm field (char[16], or __data_loc char[] since
 * 6.x kernels: tep_get_field_raw knows both) of @e's kernel record. */
static void learn(struct rp_comm *t, const struct rp_event *e, const char *pidf, const char *commf)
{
	struct tep_format_field *p = tep_find_field(e->r.event, pidf);
	unsigned long long pid;
	const char *v;
	char name[16];
	int len = 0;

	if (!p || tep_read_number_field(p, e->rec->data, &pid) < 0 ||
	    !(v = tep_get_field_raw(NULL, e->r.event, commf, e->rec, &len, 0)) || len <= 0)
		return;
	snprintf(name, sizeof(name), "%.*s", (int)strnlen(v, (size_t)len < 15 ? (size_t)len : 15), v);
	rp_comm_put(t, (int32_t)pid, name);
}

void rp_comm_learn(struct rp_comm *t, const struct rp_event *e)
{
	const char *n;

	if (e->r.kind != UEV_REC_KERNEL || !e->r.event || !(n = e->r.event->name))
		return;
	if (!strcmp(n, "sched_process_fork"))
		learn(t, e, "child_pid", "child_comm");
	else if (!strcmp(n, "task_rename"))
		learn(t, e, "pid", "newcomm");
	else if (!strcmp(n, "task_newtask"))
		learn(t, e, "pid", "comm");
}
