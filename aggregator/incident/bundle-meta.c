/* SPDX-License-Identifier: MIT */
/*
 * A run's metadata as the source ring has given it so far (bundle-int.h):
 * RUN_START, the latest SYNC, every FORMAT and ANNOUNCE (the latest per
 * id), the names. Every segment of the source starts with its run's
 * checkpoint, so what was read of a run since its oldest surviving segment
 * is what that segment's pages need; a bundle's checkpoint of the run is
 * made of it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bundle-int.h"
#include "uev-grow.h"

void meta_free(struct run_meta *m)
{
	free(m->run_start);
	for (size_t i = 0; i < m->nblob; i++)
		free(m->blob[i].p);
	free(m->blob);
	free(m->comm);
	memset(m, 0, sizeof(*m));
}

void meta_reset(struct run_meta *m, uint64_t run_id)
{
	meta_free(m);
	m->run_id = run_id;
}

static int blob_put(struct run_meta *m, uint16_t type, uint32_t key, const void *p, uint32_t len)
{
	struct meta_blob *b = NULL;
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, p, len);
	for (size_t i = 0; i < m->nblob && !b; i++)
		if (m->blob[i].type == type && m->blob[i].key == key)
			b = &m->blob[i];
	if (!b) {
		if (UEV_GROW(m->blob, m->capblob, m->nblob + 1) < 0) {
			free(copy);
			return -ENOMEM;
		}
		b = &m->blob[m->nblob++];
	} else {
		free(b->p);
	}
	*b = (struct meta_blob){ type, key, len, copy };
	return 0;
}

/* Where @pid is in the sorted names, or would go. */
static size_t comm_at(const struct run_meta *m, int32_t pid)
{
	size_t lo = 0, hi = m->ncomm;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->comm[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const char *meta_name(const struct run_meta *m, int32_t pid)
{
	size_t at = comm_at(m, pid);

	return at < m->ncomm && m->comm[at].pid == pid ? m->comm[at].comm : NULL;
}

static int comm_put(struct run_meta *m, int32_t pid, const char comm[16])
{
	size_t lo = comm_at(m, pid);

	if (lo < m->ncomm && m->comm[lo].pid == pid) {
		memcpy(m->comm[lo].comm, comm, 16);
		return 0;
	}
	if (UEV_GROW(m->comm, m->capcomm, m->ncomm + 1) < 0)
		return -ENOMEM;
	memmove(m->comm + lo + 1, m->comm + lo, (m->ncomm - lo) * sizeof(*m->comm));
	m->comm[lo].pid = pid;
	memcpy(m->comm[lo].comm, comm, 16);
	m->ncomm++;
	return 0;
}

int meta_learn(struct run_meta *m, const struct uev_ring_rec *rec)
{
	struct uev_ring_format_rec f;
	struct uev_ring_announce_rec a;
	struct uev_ring_comm_rec c;
	struct uev_ring_sync s;

	switch (rec->type) {
	case UEV_RING_RUN_START:
		if (m->run_start || uev_ring_rec_run_start(rec, &m->rs) < 0 || m->rs.run_id != rec->run_id)
			return 0;
		if (!(m->run_start = malloc(rec->len)))
			return -ENOMEM;
		memcpy(m->run_start, rec->payload, rec->len);
		m->run_start_len = rec->len;
		/* (the decoded strings point into the record: into our copy now) */
		return uev_ring_rec_run_start(&(struct uev_ring_rec){ .type = UEV_RING_RUN_START,
								     .len = rec->len,
								     .payload = m->run_start },
					      &m->rs);
	case UEV_RING_SYNC:
		if (uev_ring_rec_sync(rec, &s) == 0) {
			memcpy(m->sync, rec->payload, sizeof(m->sync));
			m->have_sync = 1;
		}
		return 0;
	case UEV_RING_FORMAT:
		if (uev_ring_rec_format(rec, &f) < 0)
			return 0;
		return blob_put(m, UEV_RING_FORMAT, (uint32_t)f.kind << 24 ^ f.id, rec->payload, rec->len);
	case UEV_RING_ANNOUNCE:
		if (uev_ring_rec_announce(rec, &a) < 0)
			return 0;
		return blob_put(m, UEV_RING_ANNOUNCE, a.id, rec->payload, rec->len);
	case UEV_RING_COMM:
		if (uev_ring_rec_comm(rec, &c) < 0)
			return 0;
		for (uint32_t i = 0; i < c.count; i++) {
			int32_t pid;
			char name[16];
			int r;

			uev_ring_comm_entry(&c, i, &pid, name);
			if ((r = comm_put(m, pid, name)) < 0)
				return r;
		}
		return 0;
	default:
		return 0;
	}
}

int meta_put_checkpoint(const struct run_meta *m, FILE *scr)
{
	int r = scr_put(scr, UEV_RING_RUN_START, 0xffff, m->run_id, m->run_start, m->run_start_len);

	if (r == 0 && m->have_sync)
		r = scr_put(scr, UEV_RING_SYNC, 0xffff, m->run_id, m->sync, sizeof(m->sync));
	/* header_page and header_event before the events, as a writer has them */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < m->nblob && r == 0; i++) {
			const struct meta_blob *b = &m->blob[i];
			int head = b->type == UEV_RING_FORMAT && b->p[0] != UEV_RING_FMT_EVENT;

			if (head == !pass)
				r = scr_put(scr, b->type, 0xffff, m->run_id, b->p, b->len);
		}
	/* the names, in records of at most 4096 */
	for (size_t i = 0; i < m->ncomm && r == 0; i += 4096) {
		size_t n = m->ncomm - i < 4096 ? m->ncomm - i : 4096;
		uint8_t *p = calloc(n, 20);

		if (!p)
			return -ENOMEM;
		for (size_t k = 0; k < n; k++) {
			int32_t pid = m->comm[i + k].pid;

			for (int j = 0; j < 4; j++) /* little-endian, as the format has it */
				p[k * 20 + j] = (uint8_t)((uint32_t)pid >> (8 * j));
			memcpy(p + k * 20 + 4, m->comm[i + k].comm, 16);
		}
		r = scr_put(scr, UEV_RING_COMM, 0xffff, m->run_id, p, (uint32_t)(n * 20));
		free(p);
	}
	return r;
}
