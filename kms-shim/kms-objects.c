// SPDX-License-Identifier: MIT
/*
 * Object tracking of uev-kms-shim (see kms-objects.h).
 *
 * Kinds: an open-addressed table of 64-bit words, id << 32 | (fd + 1) << 8 |
 * kind, 0 meaning empty. A word only goes from 0 to a key once (by CAS) and
 * then keeps its key, so two threads learning the same (fd, id) meet in the
 * same slot and a reader that probes until an empty word finds every key
 * learnt before it: no lock, no entry ever moves. The table only grows;
 * when it is full nothing new is learnt.
 *
 * Requests: each thread keeps a few slots keyed by the request pointer.
 * A slot holds the request's distinct objects in the order of their first
 * add (so in increasing item index) and the item index the next add should
 * have. Compositors build and commit a request on one thread; a request
 * built on another thread is simply not known to the committing one.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "kms-objects.h"

#define KIND_MASK 0xffull
#define FD_LIMIT (1 << 24)

static uint64_t kinds[KMS_OBJECTS_MAX];

_Static_assert((KMS_OBJECTS_MAX & (KMS_OBJECTS_MAX - 1)) == 0, "a power of two");

static uint32_t hash(int fd, uint32_t id)
{
	return (id * 2654435761u) ^ ((uint32_t)fd * 40503u);
}

static void learn_one(int fd, uint32_t id, enum kms_kind kind)
{
	uint64_t want = (uint64_t)id << 32 | (uint64_t)(fd + 1) << 8 | (uint64_t)kind;
	uint32_t h = hash(fd, id);

	for (uint32_t i = 0; i < KMS_OBJECTS_MAX; i++) {
		uint64_t *slot = &kinds[(h + i) & (KMS_OBJECTS_MAX - 1)];
		uint64_t cur = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

		if (cur == 0 && __atomic_compare_exchange_n(slot, &cur, want, false,
							    __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
			return;
		/* cur: what the slot holds (the winner's key after a lost CAS) */
		if ((cur & ~KIND_MASK) == (want & ~KIND_MASK)) {
			if (cur != want)
				__atomic_store_n(slot, want, __ATOMIC_RELEASE);
			return;
		}
	}
}

void kms_objects_learn(int fd, const uint32_t *ids, uint32_t n, enum kms_kind kind)
{
	if (fd < 0 || fd >= FD_LIMIT || !ids)
		return;
	for (uint32_t i = 0; i < n; i++)
		if (ids[i])
			learn_one(fd, ids[i], kind);
}

enum kms_kind kms_objects_kind(int fd, uint32_t id)
{
	uint64_t key = (uint64_t)id << 32 | (uint64_t)(fd + 1) << 8;
	uint32_t h = hash(fd, id);

	if (fd < 0 || fd >= FD_LIMIT || !id)
		return KMS_KIND_UNKNOWN;
	for (uint32_t i = 0; i < KMS_OBJECTS_MAX; i++) {
		uint64_t cur = __atomic_load_n(&kinds[(h + i) & (KMS_OBJECTS_MAX - 1)], __ATOMIC_ACQUIRE);

		if (cur == 0)
			break;
		if ((cur & ~KIND_MASK) == key)
			return (enum kms_kind)(cur & KIND_MASK);
	}
	return KMS_KIND_UNKNOWN;
}

void kms_objects_reset(void)
{
	memset(kinds, 0, sizeof(kinds));
}

/* ---- requests, per thread ------------------------------------------------- */

struct req_slot {
	const void *req;      /* NULL: free */
	uint32_t used;        /* stamp of the last add, for reuse */
	uint32_t next;        /* item index the next add should have */
	uint16_t n;
	bool partial;         /* an item was missed, or too many objects */
	struct { uint32_t id, pos; } obj[KMS_REQ_OBJECTS];
};

/* Set by the first add any thread records: until then (the commit event
 * never enabled) kms_req_forget() is one load, not a walk of the slots. */
static int tracking;

static __thread struct {
	uint32_t clock;
	struct req_slot slot[KMS_REQ_SLOTS];
} reqs;

static struct req_slot *find(const void *req)
{
	for (int i = 0; i < KMS_REQ_SLOTS; i++)
		if (reqs.slot[i].req == req)
			return &reqs.slot[i];
	return NULL;
}

/* A free slot, else the one added to longest ago. */
static struct req_slot *take(const void *req)
{
	struct req_slot *s = &reqs.slot[0];

	for (int i = 0; i < KMS_REQ_SLOTS; i++) {
		struct req_slot *c = &reqs.slot[i];

		if (!c->req) {
			s = c;
			break;
		}
		if ((int32_t)(c->used - s->used) < 0)
			s = c;
	}
	s->req = req;
	s->n = 0;
	s->next = 0;
	s->partial = false;
	return s;
}

/* The request was rewound to item @idx: forget objects first added there
 * or later (they are only in it again if added again). */
static void rewind_to(struct req_slot *s, uint32_t idx)
{
	uint16_t n = 0;

	for (uint16_t i = 0; i < s->n; i++)
		if (s->obj[i].pos < idx)
			s->obj[n++] = s->obj[i];
	s->n = n;
}

void kms_req_add(const void *req, uint32_t obj, int cursor)
{
	struct req_slot *s;
	uint32_t idx;

	if (!req || cursor <= 0)
		return;
	if (!__atomic_load_n(&tracking, __ATOMIC_RELAXED))
		__atomic_store_n(&tracking, 1, __ATOMIC_RELAXED);
	idx = (uint32_t)cursor - 1;
	s = find(req);
	if (!s)
		s = take(req);
	if (idx == 0) {
		s->n = 0;
		s->partial = false;
	} else if (idx > s->next) {
		s->partial = true;
	} else if (idx < s->next) {
		rewind_to(s, idx);
	}
	s->next = idx + 1;
	s->used = ++reqs.clock;
	/* properties of one object are usually added one after the other */
	if (s->n && s->obj[s->n - 1].id == obj)
		return;
	for (uint16_t i = 0; i < s->n; i++)
		if (s->obj[i].id == obj)
			return;
	if (s->n == KMS_REQ_OBJECTS) {
		s->partial = true;
		return;
	}
	s->obj[s->n].id = obj;
	s->obj[s->n].pos = idx;
	s->n++;
}

void kms_req_forget(const void *req)
{
	struct req_slot *s;

	/* a thread only forgets what it added itself: if no thread ever
	 * added, this one did not either */
	if (!__atomic_load_n(&tracking, __ATOMIC_RELAXED) || !req)
		return;
	s = find(req);
	if (s)
		s->req = NULL;
}

void kms_req_summarize(const void *req, int fd, int cursor, struct kms_req_summary *out)
{
	const struct req_slot *s = req ? find(req) : NULL;

	memset(out, 0, sizeof(*out));
	if (!s || s->partial || cursor < 0 || (uint32_t)cursor > s->next)
		return;
	for (uint16_t i = 0; i < s->n && s->obj[i].pos < (uint32_t)cursor; i++) {
		uint32_t id = s->obj[i].id;

		out->objects++;
		switch (kms_objects_kind(fd, id)) {
		case KMS_KIND_CRTC:
			if (!out->crtc)
				out->crtc = id;
			break;
		case KMS_KIND_CONNECTOR:
			if (!out->connector)
				out->connector = id;
			break;
		case KMS_KIND_PLANE:
			out->planes++;
			break;
		case KMS_KIND_UNKNOWN:
			break;
		}
	}
}
