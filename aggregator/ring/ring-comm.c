/* SPDX-License-Identifier: MIT */
/*
 * The writer's pid -> comm table, and which names a segment must carry
 * (docs/ring-format.md, "Metadata survives wrap").
 *
 * Invariant: every page in a segment has the pids it was taken with named
 * earlier in that segment (its checkpoint or a COMM record after it), with
 * the name they had then. Two rules keep it without repeating every name
 * ever seen in every checkpoint:
 *
 *  1. A pid used by a page (comm() or comm_use() while the page is being
 *     taken) that the open segment has not carried yet is marked dirty,
 *     so a COMM record names it before the page's record.
 *  2. A checkpoint carries the names used since the horizon: the tick of
 *     the oldest page still waiting in an open unit (ring-pending.c), or
 *     of the page being taken now. Pages of those units were taken while
 *     an older segment was open, so rule 1 could only have named their
 *     pids there; the unit may land in this segment.
 *
 * Every use moves its entry to the front of the recency list and stamps
 * it with the tick, so the names used since any tick are a prefix of the
 * list: the checkpoint walks no further than it writes, and the pid
 * forgotten when the table is full is the one used longest ago.
 */
#include <errno.h>
#include <string.h>

#include "ring-write.h"

static void lru_unlink(struct uev_ring_writer *w, uint16_t i)
{
	struct comm_ent *e = &w->comm[i];

	*(e->prev != NIL ? &w->comm[e->prev].next : &w->mru) = e->next;
	*(e->next != NIL ? &w->comm[e->next].prev : &w->lru) = e->prev;
}

/* Entry @i (not in the list) at its front: the most recently used. */
static void lru_push(struct uev_ring_writer *w, uint16_t i)
{
	w->comm[i].prev = NIL;
	w->comm[i].next = w->mru;
	*(w->mru != NIL ? &w->comm[w->mru].prev : &w->lru) = i;
	w->mru = i;
}

static uint16_t *comm_slot(struct uev_ring_writer *w, int32_t pid)
{
	return &w->chash[((uint32_t)pid * 2654435761u) >> 19]; /* 13 bits */
}

static uint16_t lookup(struct uev_ring_writer *w, int32_t pid)
{
	uint16_t i;

	for (i = *comm_slot(w, pid); i != NIL && w->comm[i].pid != pid; i = w->comm[i].hnext)
		;
	return i;
}

/* The open segment's segment_seq; none open: one no entry carries. */
static uint64_t open_seg(const struct uev_ring_writer *w)
{
	return w->nseg && w->seg[w->nseg - 1].open ? w->seg[w->nseg - 1].seq : UINT64_MAX;
}

static void mark_dirty(struct uev_ring_writer *w, struct comm_ent *e)
{
	w->ndirty += !e->dirty;
	e->dirty = 1;
}

/* Entry @i used by the page being taken: to the front, stamped (rule 1). */
static void use(struct uev_ring_writer *w, uint16_t i)
{
	struct comm_ent *e = &w->comm[i];

	if (w->mru != i) {
		lru_unlink(w, i);
		lru_push(w, i);
	}
	e->used = w->tick;
	if (e->seg == UINT64_MAX || e->seg != open_seg(w))
		mark_dirty(w, e);
}

int uev_ring_writer_comm(struct uev_ring_writer *w, int32_t pid, const char *comm)
{
	char c[16] = { 0 };
	uint16_t *slot = comm_slot(w, pid), i = lookup(w, pid), *p;
	struct comm_ent *e;

	memcpy(c, comm ? comm : "", comm ? strnlen(comm, 15) : 0);
	if (i == NIL) {
		if (w->ncomm < COMM_MAX) {
			i = (uint16_t)w->ncomm++;
		} else { /* forget the pid used longest ago */
			i = w->lru;
			lru_unlink(w, i);
			for (p = comm_slot(w, w->comm[i].pid); *p != i; p = &w->comm[*p].hnext)
				;
			*p = w->comm[i].hnext;
			w->ndirty -= w->comm[i].dirty;
		}
		w->comm[i] = (struct comm_ent){ .pid = pid, .hnext = *slot, .seg = UINT64_MAX };
		lru_push(w, i);
		*slot = i;
		memcpy(w->comm[i].comm, c, 16);
	}
	e = &w->comm[i];
	if (memcmp(e->comm, c, 16)) { /* renamed: carried by no segment yet */
		memcpy(e->comm, c, 16);
		e->seg = UINT64_MAX;
	}
	use(w, i);
	return 0;
}

int uev_ring_writer_comm_use(struct uev_ring_writer *w, int32_t pid)
{
	uint16_t i = lookup(w, pid);

	if (i == NIL)
		return -ENOENT;
	if (w->mru != i || w->comm[i].used != w->tick || w->comm[i].seg != open_seg(w))
		use(w, i);
	return 0;
}

uint32_t uev_ring_comm_in_use(const struct uev_ring_writer *w, uint32_t cap)
{
	uint64_t h = uev_ring_pending_horizon(w);
	uint32_t n = 0;

	for (uint16_t i = w->mru; i != NIL && n < cap && w->comm[i].used >= h; i = w->comm[i].next)
		n++;
	return n;
}
