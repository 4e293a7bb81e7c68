/* SPDX-License-Identifier: MIT */
/*
 * Ring file writer (docs/ring-format.md).
 *
 * Appending only touches memory: each segment being filled has its own
 * buffer holding the segment's image from its header on. A buffer is
 * allocated once and never moves, and bytes once appended never change, so
 * take() can hand out pointers into it for io_uring to write while later
 * records are appended behind them. A buffer is released (or kept as the
 * one spare) once a newer segment has started and all its bytes are written.
 *
 * Memory bound: at most MAX_SEGS segments may hold bytes that no write has
 * been started for (not yet taken, or failed and pending again). An append
 * that would need one more returns -ENOBUFS; the caller must write first,
 * and flush() makes room (with direct I/O only for segments that have no
 * write out: ring-flush.c). Segments whose remaining bytes are all out
 * in taken extents do not count: done() releases them, so their number is
 * bounded by the caller's writes in flight.
 *
 * COMM records are batched: comm() only marks the pid's entry, and the
 * changed entries go out as one COMM record just before the next PAGE,
 * LOST or RUN_END, that is, before anything that could refer to them.
 * Which names a segment carries is ring-comm.c.
 *
 * Opening the file, and continuing after what it holds, is ring-open.c;
 * a run that continues the newest segment, ring-resume.c; handing the
 * bytes out to be written, ring-flush.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ring-write.h"
#include "uev-grow.h"

/* ---- segments in memory ----------------------------------------------- */

static struct seg *cur(struct uev_ring_writer *w)
{
	return w->nseg && w->seg[w->nseg - 1].open ? &w->seg[w->nseg - 1] : NULL;
}

/* Idle: every byte written. Busy: some byte not even being written. */
static int seg_idle(const struct uev_ring_writer *w, const struct seg *s, int *busy)
{
	int out = 0;

	*busy = s->taken < s->fill;
	for (size_t i = 0; i < w->next; i++)
		if (w->ext[i].seq == s->seq) {
			out = 1;
			*busy |= w->ext[i].pending;
		}
	return !out && s->taken == s->fill;
}

void uev_ring_seg_reap(struct uev_ring_writer *w)
{
	int busy;

	for (size_t i = 0; i < w->nseg;) {
		struct seg *s = &w->seg[i];

		if (s->open || !seg_idle(w, s, &busy)) {
			i++;
			continue;
		}
		if (w->spare)
			uev_ring_buf_put(w, s->buf);
		else
			w->spare = s->buf;
		memmove(s, s + 1, (w->nseg - i - 1) * sizeof(*s));
		w->nseg--;
	}
}

static uint32_t ckpt_comms(const struct uev_ring_writer *w)
{
	uint64_t k = (w->sb.segment_size / 2 - w->ckpt_fixed - UEV_RING_REC_HDR) / UEV_RING_COMM_ENT;

	return (uint32_t)(k < w->ncomm ? k : w->ncomm);
}

static uint64_t ckpt_size(const struct uev_ring_writer *w)
{
	return w->ckpt_fixed + uev_ring_rec_size(UEV_RING_COMM_ENT * ckpt_comms(w));
}

uint64_t uev_ring_room(struct uev_ring_writer *w)
{
	struct seg *c = cur(w);
	uint64_t comms = w->ndirty ? uev_ring_rec_size((uint64_t)w->ndirty * UEV_RING_COMM_ENT) : 0;

	if (!c || c->fill + comms >= w->sb.segment_size)
		return 0;
	return w->sb.segment_size - c->fill - comms;
}

/* 0: the open segment has room for @need more bytes; 1: a new segment is
 * needed and can be started now; or -ENOBUFS / -ENOMEM. */
static int room_for(struct uev_ring_writer *w, uint64_t need)
{
	struct seg *c = cur(w);
	unsigned nbusy = 0;
	int busy, r;

	if (c && c->fill + need <= w->sb.segment_size)
		return 0;
	for (size_t i = 0; i < w->nseg; i++) {
		seg_idle(w, &w->seg[i], &busy);
		nbusy += busy;
	}
	if (nbusy >= MAX_SEGS)
		return -ENOBUFS;
	if (UEV_GROW(w->seg, w->seg_cap, w->nseg + 1) < 0)
		return -ENOMEM;
	if (!w->spare && (r = uev_ring_buf_get(w, &w->spare)) < 0)
		return r;
	return 1;
}

/* Reserves a record at the end of the open segment (room_for() said there
 * is room) and returns where its payload goes. */
static uint8_t *rec_begin(struct uev_ring_writer *w, unsigned type, unsigned cpu, uint32_t len)
{
	struct seg *s = cur(w);
	uint64_t size = uev_ring_rec_size(len);

	w->rec = s->buf + s->fill;
	w->rh = (struct uev_ring_rechdr){ (uint16_t)type, (uint16_t)cpu, len, w->at.next_seq++,
					  (uint32_t)s->seq };
	memset(w->rec + UEV_RING_REC_HDR + len, 0, size - UEV_RING_REC_HDR - len);
	s->fill += (uint32_t)size;
	w->backlog += size;
	return w->rec + UEV_RING_REC_HDR;
}

static void rec_seal(struct uev_ring_writer *w)
{
	uev_ring_rechdr_seal(w->rec, &w->rh);
}

static void put(struct uev_ring_writer *w, unsigned type, const void *p, uint32_t len, unsigned cpu)
{
	memcpy(rec_begin(w, type, cpu, len), p, len);
	rec_seal(w);
}

/* A COMM record of the @k most recently used entries, or of the first @k
 * changed ones (@changed_only); the open segment now carries them. */
static void put_comms(struct uev_ring_writer *w, uint32_t k, int changed_only)
{
	uint8_t *p = rec_begin(w, UEV_RING_COMM, NO_CPU, k * UEV_RING_COMM_ENT);
	uint64_t seg = cur(w)->seq;

	for (uint16_t i = w->mru; i != NIL && k; i = w->comm[i].next) {
		struct comm_ent *e = &w->comm[i];

		if (changed_only && !e->dirty)
			continue;
		uev_put32(p, (uint32_t)e->pid);
		memcpy(p + 4, e->comm, 16);
		p += UEV_RING_COMM_ENT;
		k--;
		w->ndirty -= e->dirty;
		e->dirty = 0;
		e->seg = seg;
	}
	rec_seal(w);
}

void uev_ring_put_checkpoint(struct uev_ring_writer *w)
{
	uint8_t b[UEV_RING_SYNC_LEN];

	put(w, UEV_RING_RUN_START, w->run_start, w->run_start_len, NO_CPU);
	uev_ring_sync_encode(b, &w->sync);
	if (w->have_sync)
		put(w, UEV_RING_SYNC, b, sizeof(b), NO_CPU);
	/* header_page, header_event, events, announces, the incident */
	for (unsigned cls = 0; cls <= META_INCIDENT; cls++)
		for (size_t i = 0; i < w->nmeta; i++)
			if (w->meta[i].class == cls)
				put(w, cls == META_INCIDENT ? UEV_RING_INCIDENT :
				       cls == 3 ? UEV_RING_ANNOUNCE : UEV_RING_FORMAT,
				    w->meta[i].payload, w->meta[i].len, NO_CPU);
	/* the names in use (ring-comm.c); more changed ones follow it */
	put_comms(w, uev_ring_comm_in_use(w, ckpt_comms(w)), 0);
}

/* The next segment in index order, headed by the run's checkpoint. Its
 * header goes out in its first extent: once written, the segment_seq it
 * carries invalidates the older lap's records as a whole, so the stale
 * bytes behind our write position are never taken for records. */
static void start_segment(struct uev_ring_writer *w)
{
	struct seg *s, *c = cur(w);

	if (c)
		c->open = 0;
	uev_ring_seg_reap(w);
	s = &w->seg[w->nseg++];
	*s = (struct seg){ .buf = w->spare, .seq = w->at.next_segment_seq++, .open = 1,
			   .base = UEV_RING_SUPER_SIZE + (uint64_t)w->at.next_index * w->sb.segment_size };
	w->spare = NULL;
	w->at.next_index = (w->at.next_index + 1) % w->sb.segment_count;
	uev_ring_seghdr_encode(s->buf, &(struct uev_ring_seghdr){ s->seq, w->at.next_seq, w->run_id,
								  w->run_segment++ });
	s->fill = UEV_RING_SEG_HDR;
	w->backlog += UEV_RING_SEG_HDR;
	uev_ring_put_checkpoint(w);
}

/* Appends after room_for() returned @fresh. A record whose content a new
 * segment's checkpoint carries (@in_ckpt) is not repeated after it. */
static void emit(struct uev_ring_writer *w, int fresh, unsigned type, const void *p, uint32_t len,
		 unsigned cpu, int in_ckpt)
{
	if (fresh)
		start_segment(w);
	if (!fresh || !in_ckpt)
		put(w, type, p, len, cpu);
}

/* ---- metadata ---------------------------------------------------------- */

/* Remembers and records a FORMAT or ANNOUNCE; takes @p (malloc'd). */
static int meta_put(struct uev_ring_writer *w, unsigned class, uint32_t id, uint8_t *p,
		    uint64_t len, unsigned type)
{
	struct meta *m = NULL;
	uint64_t fixed;
	int fresh = 0;

	for (size_t i = 0; i < w->nmeta && !m; i++)
		if (w->meta[i].class == class && w->meta[i].id == id)
			m = &w->meta[i];
	if (m && m->len == len && !memcmp(m->payload, p, len)) {
		free(p);
		return 0;
	}
	fixed = w->ckpt_fixed - (m ? uev_ring_rec_size(m->len) : 0) + uev_ring_rec_size(len);
	if (fixed + UEV_RING_REC_HDR > w->sb.segment_size / 2)
		fresh = -E2BIG;
	else if (!m && UEV_GROW(w->meta, w->meta_cap, w->nmeta + 1) < 0)
		fresh = -ENOMEM;
	else if (w->running)
		fresh = room_for(w, uev_ring_rec_size(len));
	if (fresh < 0) {
		free(p);
		return fresh;
	}
	if (m)
		free(m->payload);
	else
		m = &w->meta[w->nmeta++];
	*m = (struct meta){ class, id, (uint32_t)len, p };
	w->ckpt_fixed = fixed;
	if (w->running)
		emit(w, fresh, type, p, (uint32_t)len, NO_CPU, 1);
	return 0;
}

int uev_ring_writer_format(struct uev_ring_writer *w, enum uev_ring_format_kind kind, uint32_t id,
			   const char *system, const char *name, const char *text)
{
	size_t ls = system ? strlen(system) : 0, ln = name ? strlen(name) : 0;
	uint64_t len;
	uint8_t *p;

	if ((unsigned)kind > UEV_RING_FMT_EVENT || !text)
		return -EINVAL;
	len = 8 + (uint64_t)ls + 1 + ln + 1 + strlen(text) + 1;
	if (len > w->sb.segment_size)
		return -E2BIG;
	if (!(p = calloc(1, len)))
		return -ENOMEM;
	p[0] = (uint8_t)kind;
	uev_put32(p + 4, id);
	memcpy(p + 8, system ? system : "", ls);
	memcpy(p + 9 + ls, name ? name : "", ln);
	strcpy((char *)p + 10 + ls + ln, text);
	return meta_put(w, kind, id, p, len, UEV_RING_FORMAT);
}

int uev_ring_writer_announce(struct uev_ring_writer *w, uint32_t event_id, const char *def)
{
	size_t len = def ? strlen(def) + 5 : 0;
	uint8_t *p;

	if (!def)
		return -EINVAL;
	if (len > w->sb.segment_size)
		return -E2BIG;
	if (!(p = malloc(len)))
		return -ENOMEM;
	uev_put32(p, event_id);
	strcpy((char *)p + 4, def);
	return meta_put(w, 3, event_id, p, len, UEV_RING_ANNOUNCE);
}

int uev_ring_writer_sync(struct uev_ring_writer *w, const struct uev_ring_sync *s)
{
	uint8_t b[UEV_RING_SYNC_LEN];
	int fresh;

	/* A sync point applies to the pages after it in the file: pages
	 * taken before it must not follow it inside a unit sealed later
	 * (a drifting clock would put them off by the drift since). */
	if (w->running && (fresh = uev_ring_writer_seal(w)) < 0)
		return fresh;
	fresh = w->running ? room_for(w, uev_ring_rec_size(sizeof(b))) : 0;
	if (fresh < 0)
		return fresh;
	w->sync = *s;
	w->have_sync = 1;
	uev_ring_sync_encode(b, s);
	if (w->running)
		emit(w, fresh, UEV_RING_SYNC, b, sizeof(b), NO_CPU, 1);
	return 0;
}

static int emit_comms(struct uev_ring_writer *w)
{
	while (w->ndirty) {
		uint32_t k = w->ndirty < COMM_BATCH ? w->ndirty : COMM_BATCH;
		int fresh = room_for(w, uev_ring_rec_size(k * UEV_RING_COMM_ENT));

		if (fresh < 0)
			return fresh;
		if (fresh) /* its checkpoint carries those in use */
			start_segment(w);
		else
			put_comms(w, k, 1);
	}
	return 0;
}

/* ---- data -------------------------------------------------------------- */

int uev_ring_put_data(struct uev_ring_writer *w, unsigned type, unsigned cpu, const void *p, size_t len,
		      const uint8_t *lost)
{
	uint64_t need = uev_ring_rec_size(len) + (lost ? uev_ring_rec_size(8) : 0);
	int r;

	if (!w->running || cpu > UEV_RING_CPU_MAX)
		return -EINVAL;
	if (len > w->sb.segment_size || need > w->sb.segment_size - UEV_RING_SEG_HDR - ckpt_size(w))
		return -E2BIG;
	if ((r = emit_comms(w)) < 0 || (r = room_for(w, need)) < 0)
		return r;
	if (r)
		start_segment(w);
	if (lost)
		put(w, UEV_RING_LOST, lost, 8, cpu);
	put(w, type, p, (uint32_t)len, cpu);
	return 0;
}

int uev_ring_writer_incident(struct uev_ring_writer *w, const struct uev_ring_incident *inc)
{
	uint8_t *p;
	size_t len;

	if (!inc || !inc->reason || !inc->trigger)
		return -EINVAL;
	len = uev_ring_incident_encode(NULL, inc);
	if (len > w->sb.segment_size)
		return -E2BIG;
	if (!(p = malloc(len)))
		return -ENOMEM;
	uev_ring_incident_encode(p, inc);
	return meta_put(w, META_INCIDENT, 0, p, len, UEV_RING_INCIDENT);
}

int uev_ring_writer_begin_run(struct uev_ring_writer *w, const struct uev_ring_run_info *info)
{
	return uev_ring_writer_begin_run_as(w, info, 0);
}

int uev_ring_writer_begin_run_as(struct uev_ring_writer *w, const struct uev_ring_run_info *info,
				 uint64_t run_id)
{
	struct uev_ring_run_info ri;
	int r;

	if (w->running || !info || (run_id && run_id <= w->at.max_run_id))
		return -EINVAL;
	if (info->recovered_from) /* a longer RUN_START in every checkpoint */
		w->ckpt_fixed += uev_ring_rec_size(UEV_RING_RUN_START_RECOVERED_LEN) -
				 uev_ring_rec_size(UEV_RING_RUN_START_LEN);
	if (UEV_RING_SEG_HDR + ckpt_size(w) > w->sb.segment_size)
		return -E2BIG; /* the rule; ckpt_fixed <= S/2 keeps it from happening */
	if ((r = room_for(w, 0)) < 0 || (r = uev_ring_super_upgrade(w)) < 0 ||
	    (r = uev_ring_resume(w, ckpt_size(w))) < 0)
		return r;
	/* (resume may have found more runs than open did: checked again) */
	if (run_id && run_id <= w->at.max_run_id)
		return -EINVAL;
	w->run_id = run_id ? run_id : w->at.max_run_id + 1;
	ri = *info;
	ri.compression = (uint8_t)w->pend.level;
	w->run_start_len = uev_ring_run_start_encode(w->run_start, w->run_id, &ri);
	w->running = 1;
	if (r)
		uev_ring_put_checkpoint(w);
	else
		start_segment(w);
	return 0;
}

void uev_ring_writer_free(struct uev_ring_writer *w)
{
	if (w->io_fd >= 0)
		close(w->io_fd);
	if (w->fd >= 0)
		close(w->fd); /* drops the flock too */
	for (size_t i = 0; i < w->nseg; i++)
		uev_ring_buf_put(w, w->seg[i].buf);
	for (size_t i = 0; i < w->nmeta; i++)
		free(w->meta[i].payload);
	free(w->meta);
	free(w->seg);
	uev_ring_buf_put(w, w->spare);
	uev_ring_stage_close(w, w->clean);
	free(w->ext);
	uev_ring_unit_bufs_free(&w->unit);
	free(w->pend.heap);
	free(w->pend.first);
	free(w);
}

int uev_ring_writer_close(struct uev_ring_writer *w, const struct uev_ring_counters *end)
{
	uint8_t b[UEV_RING_RUN_END_LEN];
	int r = 0, r2;

	if (!w)
		return 0;
	if (w->running) {
		/* Extents still out are the caller's bug; writing them again
		 * from here is harmless, losing them would not be. */
		for (size_t i = 0; i < w->next; i++)
			w->ext[i].pending = 1;
		uev_ring_run_end_encode(b, now_ns(), end);
		if (!(r = uev_ring_writer_flush(w)) && !(r = uev_ring_pending_seal_all(w)) && !(r = emit_comms(w)) &&
		    (r = room_for(w, uev_ring_rec_size(sizeof(b)))) >= 0) {
			emit(w, r, UEV_RING_RUN_END, b, sizeof(b), NO_CPU, 0);
			r = 0;
		}
		r2 = uev_ring_writer_flush(w);
		r = r ? r : r2;
		if (fdatasync(w->fd) < 0 && !r)
			r = -errno;
		w->clean = r == 0;
	}
	uev_ring_writer_free(w);
	return r;
}
