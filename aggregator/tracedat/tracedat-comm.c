/* SPDX-License-Identifier: MIT */
/*
 * The task names of a trace.dat export (saved_cmdlines): from the ring's
 * COMM records (pass 1) and from the kernel's own fork, exec and rename
 * events (pass 2), each pid keeping its latest name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event-parse.h>

#include "tracedat-int.h"
#include "uev-grow.h"

static int comm_cmp(const void *a, const void *b)
{
	const struct comm *x = a, *y = b;

	if (x->pid != y->pid)
		return (x->pid > y->pid) - (x->pid < y->pid);
	if (x->ts != y->ts)
		return (x->ts > y->ts) - (x->ts < y->ts);
	return (x->order > y->order) - (x->order < y->order);
}

/* Sort by pid, keeping each pid's latest name: by time if an event gave
 * one, else the last of the file. */
static void comm_compact(struct td *t)
{
	size_t n = 0;

	if (t->ncomm)
		qsort(t->comm, t->ncomm, sizeof(*t->comm), comm_cmp);
	for (size_t i = 0; i < t->ncomm; i++) {
		if (n && t->comm[n - 1].pid == t->comm[i].pid)
			n--;
		t->comm[n++] = t->comm[i];
	}
	t->ncomm = n;
}

static int comm_add(struct td *t, int32_t pid, const char *name, size_t len, uint64_t ts)
{
	struct comm c = { .pid = pid, .order = t->order++, .ts = ts };

	snprintf(c.name, sizeof(c.name), "%.*s", (int)(len < 15 ? len : 15), name);
	for (char *s = c.name; *s; s++)
		*s = *s == '\n' ? ' ' : *s; /* saved_cmdlines has a pid per line */
	if (pid <= 0)
		return 0;
	if (t->ncomm == t->capcomm) {
		/* Every segment's checkpoint repeats the names: squeeze the
		 * repeats out, and grow (double) unless that freed half. */
		comm_compact(t);
		if (t->ncomm >= t->capcomm / 2 && UEV_GROW(t->comm, t->capcomm, t->capcomm + 1) < 0)
			return td_fail(t, ENOMEM, t->path);
	}
	t->comm[t->ncomm++] = c;
	return 0;
}

int td_comms(struct td *t, const struct uev_ring_rec *rec)
{
	struct uev_ring_comm_rec c;
	char name[16];
	int32_t pid;
	int e = 0;

	if (uev_ring_rec_comm(rec, &c) < 0)
		td_note(t, rec->offset, "COMM record of %u bytes is malformed; skipped", rec->len);
	for (uint32_t i = 0; !e && i < c.count; i++) {
		uev_ring_comm_entry(&c, i, &pid, name);
		e = comm_add(t, pid, name, strlen(name), 0);
	}
	return e;
}

/*
 * Pass 2, through the project's decoder: names from the kernel's own
 * events, by time. The COMM records follow the order the aggregator
 * drained CPUs in, so a fork met late on one CPU can record the parent's
 * name for a child that renamed itself earlier on another. A fork names
 * the child and the parent, exec (the basename, as the kernel does) and
 * rename the task itself.
 */
int td_event_name(void *ctx, const struct uev_ringdec_run *run, const struct uev_rec *r)
{
	unsigned long long pid;
	struct td *t = ctx;
	const char *v;
	char comm[16];
	int32_t p;
	int len, e;

	if (run->run_id != t->run || r->kind != UEV_REC_KERNEL || !r->event)
		return 0;
	/* A fork also names its parent, as it is at that moment. */
	if (!strcmp(r->event->name, "sched_process_fork") &&
	    tep_get_field_val(NULL, r->event, "parent_pid", r->record, &pid, 0) == 0 &&
	    pid <= INT32_MAX && (v = tep_get_field_raw(NULL, r->event, "parent_comm", r->record,
						       &len, 0)) && len > 0 &&
	    (e = comm_add(t, (int32_t)pid, v, strnlen(v, (size_t)len), r->ts + 1)) < 0)
		return e;
	if (!uev_event_comm(r->event, r->record, &p, comm))
		return 0;
	return comm_add(t, p, comm, strlen(comm), r->ts + 1);
}

/* saved_cmdlines: "pid comm" lines, a task's latest name. */
int td_cmdlines(struct td *t)
{
	char *lines = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&lines, &size);
	int e;

	if (!f)
		return td_fail(t, ENOMEM, t->path);
	comm_compact(t);
	for (size_t i = 0; i < t->ncomm; i++)
		fprintf(f, "%d %s\n", t->comm[i].pid, t->comm[i].name);
	e = fclose(f) ? td_fail(t, ENOMEM, t->path) : td_put(t, "saved_cmdlines", lines, size, false);
	free(lines);
	return e;
}
