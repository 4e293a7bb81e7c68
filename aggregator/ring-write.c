/* SPDX-License-Identifier: MIT */
/*
 * Ring file writer (docs/ring-format.md).
 *
 * Appending only touches memory: each segment being filled has its own
 * buffer holding the segment's image from its header on. A buffer is
 * allocated once and never moves, and bytes once appended are never
 * changed, so take() can hand out pointers into it for io_uring to write
 * while later records are appended behind them. A segment's buffer is
 * released when a newer segment has started and all its bytes are written.
 *
 * Memory bound: at most MAX_SEGS segments may hold bytes that no write has
 * been started for (not yet taken, or failed and pending again). An append
 * that would need one more returns -ENOBUFS, and the caller must write
 * first: flush() always makes room. Segments whose remaining bytes are all
 * out in take()n extents do not count; done() releases them, so their
 * number is bounded by the caller's writes in flight.
 *
 * COMM records are batched: comm() only marks the pid's entry, and the
 * changed entries go out as one COMM record just before the next PAGE,
 * LOST or RUN_END, which is before anything that could need them.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ring-common.h"

#define MAX_SEGS 4
#define COMM_MAX 4096u   /* pids remembered, and the checkpoint's COMM cap */
#define COMM_BATCH 1024u /* entries per batched COMM record */
#define COMM_HASH 8192u
#define NIL 0xffffu
#define NO_CPU 0xffffu

struct seg {
	uint8_t *buf;
	uint64_t seq, base; /* segment_seq, file offset */
	uint32_t fill;      /* bytes appended */
	uint32_t taken;     /* [0, taken) was handed out by take() at least once */
	int open;           /* the current segment: records still go here */
};

struct ext { /* handed out and not yet confirmed written */
	uint64_t seq;
	uint32_t off, len, cookie;
	int pending; /* failed: hand out again */
};

struct meta { /* FORMAT (class = kind) or ANNOUNCE (class 3), for checkpoints */
	unsigned class;
	uint32_t id, len;
	uint8_t *payload;
};

struct comm_ent {
	int32_t pid;
	char comm[16];
	uint16_t prev, next, hnext; /* LRU list (mru first), hash chain */
	uint8_t dirty;              /* not yet in a COMM record of this run */
};

struct uev_ring_writer {
	int fd, running;
	struct uev_ring_super sb;
	uint64_t next_seq, next_segseq, max_run, run_id, backlog;
	uint32_t next_index, run_segment;
	uint8_t run_start[UEV_RING_RUN_START_LEN];
	int have_sync;
	struct uev_ring_sync sync;
	struct meta *meta;
	size_t nmeta, meta_cap;
	/* Checkpoint bytes without the COMM record, the RUN_START and a SYNC
	 * always counted: kept <= S/2 so that any segment has room for data. */
	uint64_t ckpt_fixed;
	struct seg *seg; /* oldest first; the last is open while running */
	unsigned nseg, seg_cap;
	uint8_t *spare; /* one released buffer, reused for the next segment */
	struct ext *ext; /* in (segment, offset) order, which take() relies on */
	size_t next, ext_cap;
	uint32_t cookie;
	uint8_t *rec; /* record being written, sealed by rec_seal() */
	struct uev_ring_rechdr rh;
	struct comm_ent comm[COMM_MAX];
	uint16_t chash[COMM_HASH], mru, lru;
	unsigned ncomm, ndirty;
};

static int fail(char *err, size_t errsize, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errsize, int e, const char *fmt, ...)
{
	va_list ap;

	if (err && errsize) {
		va_start(ap, fmt);
		vsnprintf(err, errsize, fmt, ap);
		va_end(ap);
	}
	return e;
}

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

static void seg_reap(struct uev_ring_writer *w)
{
	for (unsigned i = 0; i < w->nseg;) {
		struct seg *s = &w->seg[i];
		int busy;

		if (s->open || !seg_idle(w, s, &busy)) {
			i++;
			continue;
		}
		if (w->spare)
			free(s->buf);
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

/* 0: the open segment has @need more bytes; 1: a new segment is needed and
 * can be started (its buffer is ready); or -ENOBUFS / -ENOMEM. */
static int room_for(struct uev_ring_writer *w, uint64_t need)
{
	struct seg *c = cur(w);
	unsigned nbusy = 0;
	int busy;

	if (c && c->fill + need <= w->sb.segment_size)
		return 0;
	for (unsigned i = 0; i < w->nseg; i++) {
		seg_idle(w, &w->seg[i], &busy);
		nbusy += busy;
	}
	if (nbusy >= MAX_SEGS)
		return -ENOBUFS;
	if (w->nseg == w->seg_cap) {
		struct seg *n = realloc(w->seg, (w->seg_cap + 4) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		w->seg = n;
		w->seg_cap += 4;
	}
	if (!w->spare && !(w->spare = malloc(w->sb.segment_size)))
		return -ENOMEM;
	return 1;
}

/* Reserves a record at the end of the open segment (room_for() said so)
 * and returns where its payload goes. */
static uint8_t *rec_begin(struct uev_ring_writer *w, unsigned type, unsigned cpu, uint32_t len)
{
	struct seg *s = cur(w);
	uint64_t size = uev_ring_rec_size(len);

	w->rec = s->buf + s->fill;
	w->rh = (struct uev_ring_rechdr){ (uint16_t)type, (uint16_t)cpu, len, w->next_seq++,
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

static void put(struct uev_ring_writer *w, unsigned type, unsigned cpu, const void *p, uint32_t len)
{
	memcpy(rec_begin(w, type, cpu, len), p, len);
	rec_seal(w);
}

/* The next segment in index order, headed by the run's checkpoint. Its
 * header is the first thing of its first extent: once written it
 * invalidates the segment's older lap as a whole (segment_lo no longer
 * matches), so stale records behind our write position are never read. */
static void start_segment(struct uev_ring_writer *w)
{
	struct seg *s, *c = cur(w);
	uint8_t b[UEV_RING_SYNC_LEN], *p;
	uint32_t k;

	if (c)
		c->open = 0;
	seg_reap(w);
	s = &w->seg[w->nseg++];
	*s = (struct seg){ .buf = w->spare, .seq = w->next_segseq++, .open = 1,
			   .base = UEV_RING_SUPER_SIZE + (uint64_t)w->next_index * w->sb.segment_size };
	w->spare = NULL;
	w->next_index = (w->next_index + 1) % w->sb.segment_count;
	uev_ring_seghdr_encode(s->buf, &(struct uev_ring_seghdr){ s->seq, w->next_seq, w->run_id,
								  w->run_segment++ });
	s->fill = UEV_RING_SEG_HDR;
	w->backlog += UEV_RING_SEG_HDR;

	put(w, UEV_RING_RUN_START, NO_CPU, w->run_start, sizeof(w->run_start));
	if (w->have_sync) {
		uev_ring_sync_encode(b, &w->sync);
		put(w, UEV_RING_SYNC, NO_CPU, b, sizeof(b));
	}
	for (unsigned cls = 0; cls <= 3; cls++) /* header_page, header_event, events, announces */
		for (size_t i = 0; i < w->nmeta; i++)
			if (w->meta[i].class == cls)
				put(w, cls == 3 ? UEV_RING_ANNOUNCE : UEV_RING_FORMAT, NO_CPU,
				    w->meta[i].payload, w->meta[i].len);
	k = ckpt_comms(w);
	p = rec_begin(w, UEV_RING_COMM, NO_CPU, k * UEV_RING_COMM_ENT);
	for (uint16_t i = w->mru; i != NIL; i = w->comm[i].next) {
		if (k) {
			uev_put32(p, (uint32_t)w->comm[i].pid);
			memcpy(p + 4, w->comm[i].comm, 16);
			p += UEV_RING_COMM_ENT;
			k--;
		}
		w->comm[i].dirty = 0;
	}
	w->ndirty = 0;
	rec_seal(w);
}

/* Appends after room_for() returned @fresh. A record whose content the
 * checkpoint carries (@in_ckpt) is not repeated after a fresh one. */
static void emit(struct uev_ring_writer *w, int fresh, unsigned type, unsigned cpu, const void *p,
		 uint32_t len, int in_ckpt)
{
	if (fresh)
		start_segment(w);
	if (!fresh || !in_ckpt)
		put(w, type, cpu, p, len);
}

/* ---- metadata ---------------------------------------------------------- */

/* Takes @p (malloc'd) in every case. */
static int meta_put(struct uev_ring_writer *w, unsigned class, uint32_t id, uint8_t *p,
		    uint32_t len, unsigned type)
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
	else if (!m && w->nmeta == w->meta_cap) {
		size_t cap = w->meta_cap ? 2 * w->meta_cap : 16;
		struct meta *n = realloc(w->meta, cap * sizeof(*n));

		if (n) {
			w->meta = n;
			w->meta_cap = cap;
		} else {
			fresh = -ENOMEM;
		}
	}
	if (!fresh && w->running)
		fresh = room_for(w, uev_ring_rec_size(len));
	if (fresh < 0) {
		free(p);
		return fresh;
	}
	if (m) {
		free(m->payload);
	} else {
		m = &w->meta[w->nmeta++];
		m->class = class;
		m->id = id;
	}
	m->payload = p;
	m->len = len;
	w->ckpt_fixed = fixed;
	if (w->running)
		emit(w, fresh, type, NO_CPU, p, len, 1);
	return 0;
}

int uev_ring_writer_format(struct uev_ring_writer *w, enum uev_ring_format_kind kind, uint32_t id,
			   const char *system, const char *name, const char *text)
{
	size_t ls = system ? strlen(system) : 0, ln = name ? strlen(name) : 0, lt;
	uint64_t len;
	uint8_t *p;

	if ((unsigned)kind > UEV_RING_FMT_EVENT || !text)
		return -EINVAL;
	lt = strlen(text);
	len = 8 + (uint64_t)ls + 1 + ln + 1 + lt + 1;
	if (len > w->sb.segment_size)
		return -E2BIG;
	if (!(p = calloc(1, len)))
		return -ENOMEM;
	p[0] = (uint8_t)kind;
	uev_put32(p + 4, id);
	memcpy(p + 8, system ? system : "", ls);
	memcpy(p + 9 + ls, name ? name : "", ln);
	memcpy(p + 10 + ls + ln, text, lt);
	return meta_put(w, kind, id, p, (uint32_t)len, UEV_RING_FORMAT);
}

int uev_ring_writer_announce(struct uev_ring_writer *w, uint32_t event_id, const char *def)
{
	size_t l = def ? strlen(def) : 0;
	uint8_t *p;

	if (!def)
		return -EINVAL;
	if (l + 5 > w->sb.segment_size)
		return -E2BIG;
	if (!(p = calloc(1, l + 5)))
		return -ENOMEM;
	uev_put32(p, event_id);
	memcpy(p + 4, def, l);
	return meta_put(w, 3, event_id, p, (uint32_t)(l + 5), UEV_RING_ANNOUNCE);
}

int uev_ring_writer_sync(struct uev_ring_writer *w, const struct uev_ring_sync *s)
{
	uint8_t b[UEV_RING_SYNC_LEN];
	int fresh = w->running ? room_for(w, uev_ring_rec_size(sizeof(b))) : 0;

	if (fresh < 0)
		return fresh;
	w->sync = *s;
	w->have_sync = 1;
	uev_ring_sync_encode(b, s);
	if (w->running)
		emit(w, fresh, UEV_RING_SYNC, NO_CPU, b, sizeof(b), 1);
	return 0;
}

static uint16_t *comm_slot(struct uev_ring_writer *w, int32_t pid)
{
	return &w->chash[((uint32_t)pid * 2654435761u) >> 19]; /* 13 bits: COMM_HASH */
}

static void lru_unlink(struct uev_ring_writer *w, uint16_t i)
{
	struct comm_ent *e = &w->comm[i];

	*(e->prev != NIL ? &w->comm[e->prev].next : &w->mru) = e->next;
	*(e->next != NIL ? &w->comm[e->next].prev : &w->lru) = e->prev;
}

static void lru_front(struct uev_ring_writer *w, uint16_t i)
{
	w->comm[i].prev = NIL;
	w->comm[i].next = w->mru;
	*(w->mru != NIL ? &w->comm[w->mru].prev : &w->lru) = i;
	w->mru = i;
}

int uev_ring_writer_comm(struct uev_ring_writer *w, int32_t pid, const char *comm)
{
	char c[16] = { 0 };
	uint16_t *slot = comm_slot(w, pid), i;
	struct comm_ent *e;

	memcpy(c, comm ? comm : "", comm ? strnlen(comm, 15) : 0);
	for (i = *slot; i != NIL && w->comm[i].pid != pid; i = w->comm[i].hnext)
		;
	int fresh = i == NIL;

	if (!fresh) {
		lru_unlink(w, i);
	} else {
		if (w->ncomm < COMM_MAX) {
			i = (uint16_t)w->ncomm++;
		} else { /* forget the least recently seen pid */
			uint16_t *p;

			i = w->lru;
			lru_unlink(w, i);
			for (p = comm_slot(w, w->comm[i].pid); *p != i; p = &w->comm[*p].hnext)
				;
			*p = w->comm[i].hnext;
			w->ndirty -= w->comm[i].dirty;
		}
		w->comm[i] = (struct comm_ent){ .pid = pid, .hnext = *slot };
		*slot = i;
	}
	lru_front(w, i);
	e = &w->comm[i];
	if (fresh || memcmp(e->comm, c, 16)) {
		memcpy(e->comm, c, 16);
		w->ndirty += !e->dirty;
		e->dirty = 1;
	}
	return 0;
}

static int emit_comms(struct uev_ring_writer *w)
{
	while (w->ndirty) {
		uint32_t k = w->ndirty < COMM_BATCH ? w->ndirty : COMM_BATCH;
		int fresh = room_for(w, uev_ring_rec_size(k * UEV_RING_COMM_ENT));
		uint8_t *p;

		if (fresh < 0)
			return fresh;
		if (fresh) { /* the checkpoint carries them */
			start_segment(w);
			break;
		}
		p = rec_begin(w, UEV_RING_COMM, NO_CPU, k * UEV_RING_COMM_ENT);
		for (uint16_t i = w->mru; k && i != NIL; i = w->comm[i].next) {
			if (!w->comm[i].dirty)
				continue;
			uev_put32(p, (uint32_t)w->comm[i].pid);
			memcpy(p + 4, w->comm[i].comm, 16);
			p += UEV_RING_COMM_ENT;
			w->comm[i].dirty = 0;
			w->ndirty--;
			k--;
		}
		rec_seal(w);
	}
	return 0;
}

/* ---- data -------------------------------------------------------------- */

static int data(struct uev_ring_writer *w, unsigned type, unsigned cpu, const void *p, size_t len)
{
	int r;

	if (!w->running || cpu >= NO_CPU)
		return -EINVAL;
	if (len > w->sb.segment_size ||
	    uev_ring_rec_size(len) > w->sb.segment_size - UEV_RING_SEG_HDR - ckpt_size(w))
		return -E2BIG;
	if ((r = emit_comms(w)) < 0 || (r = room_for(w, uev_ring_rec_size(len))) < 0)
		return r;
	emit(w, r, type, cpu, p, (uint32_t)len, 0);
	return 0;
}

int uev_ring_writer_page(struct uev_ring_writer *w, unsigned cpu, const void *page, size_t len)
{
	return data(w, UEV_RING_PAGE, cpu, page, len);
}

int uev_ring_writer_lost(struct uev_ring_writer *w, unsigned cpu, uint64_t count)
{
	uint8_t b[8];

	uev_put64(b, count);
	return data(w, UEV_RING_LOST, cpu, b, sizeof(b));
}

int uev_ring_writer_begin_run(struct uev_ring_writer *w, const struct uev_ring_run_info *info)
{
	int r;

	if (w->running || !info)
		return -EINVAL;
	if (UEV_RING_SEG_HDR + ckpt_size(w) > w->sb.segment_size)
		return -E2BIG; /* cannot happen while ckpt_fixed <= S/2; kept as the rule */
	if ((r = room_for(w, 0)) < 0)
		return r;
	w->run_id = w->max_run + 1;
	w->run_segment = 0;
	uev_ring_run_start_encode(w->run_start, w->run_id, info);
	w->running = 1;
	start_segment(w);
	return 0;
}

/* ---- getting records to disk ------------------------------------------ */

unsigned uev_ring_writer_take(struct uev_ring_writer *w, struct uev_ring_extent *out, unsigned max)
{
	unsigned n = 0;

	/* Segment by segment, so that the extent list stays in file order:
	 * a segment's new bytes are only taken once every older segment's
	 * have been. */
	for (unsigned si = 0; si < w->nseg && n < max; si++) {
		struct seg *s = &w->seg[si];

		for (size_t i = 0; i < w->next && n < max; i++) {
			struct ext *e = &w->ext[i];

			if (e->seq == s->seq && e->pending) {
				e->pending = 0;
				out[n++] = (struct uev_ring_extent){ s->buf + e->off, s->base + e->off,
								     e->len, e->cookie };
			}
		}
		if (n == max || s->taken == s->fill)
			continue;
		if (w->next == w->ext_cap) {
			size_t cap = w->ext_cap ? 2 * w->ext_cap : 32;
			struct ext *x = realloc(w->ext, cap * sizeof(*x));

			if (!x)
				break; /* the bytes stay untaken; a later call retries */
			w->ext = x;
			w->ext_cap = cap;
		}
		w->ext[w->next++] = (struct ext){ s->seq, s->taken, s->fill - s->taken, ++w->cookie, 0 };
		out[n++] = (struct uev_ring_extent){ s->buf + s->taken, s->base + s->taken,
						     s->fill - s->taken, w->cookie };
		s->taken = s->fill;
	}
	return n;
}

void uev_ring_writer_done(struct uev_ring_writer *w, const struct uev_ring_extent *x, long result)
{
	for (size_t i = 0; i < w->next; i++) {
		struct ext *e = &w->ext[i];

		if (e->cookie != x->cookie || e->pending)
			continue;
		if (result != (long)e->len) { /* rewriting the same bytes is harmless */
			e->pending = 1;
			return;
		}
		w->backlog -= e->len;
		memmove(e, e + 1, (w->next - i - 1) * sizeof(*e));
		w->next--;
		seg_reap(w);
		return;
	}
}

int uev_ring_writer_flush(struct uev_ring_writer *w)
{
	struct uev_ring_extent x[16];
	unsigned n;
	int err = 0;

	while (!err && (n = uev_ring_writer_take(w, x, 16))) {
		for (unsigned i = 0; i < n; i++) {
			ssize_t r = err ? -ECANCELED
					: uev_ring_pwrite(w->fd, x[i].buf, x[i].len, x[i].offset);

			if (r < 0 && !err)
				err = (int)r;
			uev_ring_writer_done(w, &x[i], (long)r);
		}
	}
	return err;
}

uint64_t uev_ring_writer_backlog(const struct uev_ring_writer *w)
{
	return w->backlog;
}

int uev_ring_writer_fd(const struct uev_ring_writer *w)
{
	return w->fd;
}

static void writer_free(struct uev_ring_writer *w)
{
	if (w->fd >= 0)
		close(w->fd); /* drops the flock too */
	for (unsigned i = 0; i < w->nseg; i++)
		free(w->seg[i].buf);
	for (size_t i = 0; i < w->nmeta; i++)
		free(w->meta[i].payload);
	free(w->meta);
	free(w->seg);
	free(w->spare);
	free(w->ext);
	free(w);
}

int uev_ring_writer_close(struct uev_ring_writer *w, const struct uev_ring_counters *end)
{
	struct timespec ts;
	uint8_t b[UEV_RING_RUN_END_LEN];
	int r = 0, r2;

	if (!w)
		return 0;
	if (w->running) {
		/* Extents still out are the caller's bug; rewriting them from
		 * here is harmless, losing them would not be. */
		for (size_t i = 0; i < w->next; i++)
			w->ext[i].pending = 1;
		clock_gettime(CLOCK_REALTIME, &ts);
		uev_ring_run_end_encode(b, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, end);
		r = uev_ring_writer_flush(w);
		if (!r)
			r = emit_comms(w);
		if (!r && (r = room_for(w, uev_ring_rec_size(sizeof(b)))) >= 0) {
			emit(w, r, UEV_RING_RUN_END, NO_CPU, b, sizeof(b), 0);
			r = 0;
		}
		r2 = uev_ring_writer_flush(w);
		r = r ? r : r2;
		if (fdatasync(w->fd) < 0 && !r)
			r = -errno;
	}
	writer_free(w);
	return r;
}

/* ---- opening ---------------------------------------------------------- */

/* Writes the superblock of a new ring into the empty file @w->fd. */
static int init_file(struct uev_ring_writer *w, const struct uev_ring_create *c, uint32_t S,
		     uint32_t N, char *err, size_t errsize)
{
	uint8_t b[UEV_RING_SUPER_SIZE];
	struct timespec ts;
	int r;

	if (fchmod(w->fd, c->mode & 07777) < 0 ||
	    (c->gid != (gid_t)-1 && fchown(w->fd, (uid_t)-1, c->gid) < 0))
		return fail(err, errsize, -errno, "%s: setting mode/group: %s", c->path,
			    strerror(errno));
	memset(&w->sb, 0, sizeof(w->sb));
	w->sb.file_size = UEV_RING_SUPER_SIZE + (uint64_t)N * S;
	w->sb.segment_size = S;
	w->sb.segment_count = N;
	if (getrandom(w->sb.uuid, 16, GRND_INSECURE) != 16 && getrandom(w->sb.uuid, 16, 0) != 16)
		return fail(err, errsize, -EIO, "%s: no random bytes for the file uuid", c->path);
	w->sb.uuid[6] = (uint8_t)((w->sb.uuid[6] & 0x0f) | 0x40); /* RFC 4122 version 4 */
	w->sb.uuid[8] = (uint8_t)((w->sb.uuid[8] & 0x3f) | 0x80);
	clock_gettime(CLOCK_REALTIME, &ts);
	w->sb.created_realtime_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	memcpy(w->sb.seat, c->seat ? c->seat : "", c->seat ? strlen(c->seat) : 0);
	uev_ring_super_encode(b, &w->sb);
	if ((r = (int)uev_ring_pwrite(w->fd, b, sizeof(b), 0)) < 0)
		return fail(err, errsize, r, "%s: writing the superblock: %s", c->path, strerror(-r));
	if ((r = posix_fallocate(w->fd, 0, (off_t)w->sb.file_size)) != 0)
		return fail(err, errsize, -r, "%s: preallocating %llu bytes: %s", c->path,
			    (unsigned long long)w->sb.file_size, strerror(r));
	if (fsync(w->fd) < 0)
		return fail(err, errsize, -errno, "%s: fsync: %s", c->path, strerror(errno));
	return 0;
}

/* A new file appears under its name only complete (O_TMPFILE + linkat),
 * so a crash during creation cannot leave a half-made ring that later
 * opens would refuse. Returns 1 when the name got taken meanwhile. */
static int create_new(struct uev_ring_writer *w, const struct uev_ring_create *c, uint32_t S,
		      uint32_t N, char *err, size_t errsize)
{
	char *dup = strdup(c->path), proc[64];
	const char *dir = dup ? dirname(dup) : ".";
	int linked = 0, r, dfd;

	w->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, c->mode & 0777);
	if (w->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		/* No O_TMPFILE here: create in place, superblock first. */
		w->fd = open(c->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, c->mode & 0777);
		linked = 1;
	}
	if (w->fd < 0) {
		r = errno == EEXIST ? 1 : fail(err, errsize, -errno, "%s: %s", c->path, strerror(errno));
		goto out;
	}
	if (flock(w->fd, LOCK_EX | LOCK_NB) < 0) {
		r = fail(err, errsize, -EBUSY, "%s: in use by another uev-aggregator", c->path);
		goto out;
	}
	r = init_file(w, c, S, N, err, errsize);
	if (r == 0 && !linked) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->fd);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, c->path, AT_SYMLINK_FOLLOW) < 0 &&
		    (errno != ENOENT || linkat(w->fd, "", AT_FDCWD, c->path, AT_EMPTY_PATH) < 0))
			r = errno == EEXIST ? 1
					    : fail(err, errsize, -errno, "%s: %s", c->path, strerror(errno));
	} else if (r < 0 && linked) {
		unlink(c->path); /* ours, and unusable */
	}
	if (r == 0 && (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd); /* the name, durable too; best effort */
		close(dfd);
	}
	w->next_seq = w->next_segseq = 1;
out:
	if (r == 1) {
		close(w->fd);
		w->fd = -1;
	}
	free(dup);
	return r;
}

/* Continue after the newest valid data: segment_seq and index after the
 * newest header, seq after its last valid record, run_id after all. */
static int scan_existing(struct uev_ring_writer *w, const char *path, char *err, size_t errsize)
{
	struct uev_ring_stats st = { 0 };
	struct uev_ring_seginfo *v;
	struct uev_ring_rechdr h;
	const char *why;
	uint32_t n, S = w->sb.segment_size, pos = UEV_RING_SEG_HDR;
	uint8_t *buf;
	int r = uev_ring_scan(w->fd, &w->sb, &v, &n, &st, NULL, NULL);

	if (r < 0)
		return fail(err, errsize, r, "%s: reading segment headers: %s", path, strerror(-r));
	w->next_seq = w->next_segseq = 1;
	for (uint32_t i = 0; i < n; i++) {
		w->max_run = v[i].run_id > w->max_run ? v[i].run_id : w->max_run;
		w->next_seq = v[i].first_seq > w->next_seq ? v[i].first_seq : w->next_seq;
	}
	if (n) {
		struct uev_ring_seginfo *g = &v[n - 1];

		w->next_segseq = g->seq + 1;
		w->next_index = (g->index + 1) % w->sb.segment_count;
		if (!(buf = malloc(S)))
			r = -ENOMEM;
		else if ((r = (int)uev_ring_pread(w->fd, buf, S,
						   UEV_RING_SUPER_SIZE + (uint64_t)g->index * S)) >= 0) {
			uint64_t seq = g->first_seq;

			memset(buf + r, 0, S - (uint32_t)r);
			for (; uev_ring_rec_check(buf, S, pos, g->seq, seq, &h, &why); seq++)
				pos += (uint32_t)uev_ring_rec_size(h.len);
			w->next_seq = seq > w->next_seq ? seq : w->next_seq;
			r = 0;
		}
		free(buf);
	}
	free(v);
	return r < 0 ? fail(err, errsize, r, "%s: scanning: %s", path, strerror(-r)) : 0;
}

static int open_existing(struct uev_ring_writer *w, const struct uev_ring_create *c, uint32_t S,
			 uint32_t N, char *err, size_t errsize)
{
	uint8_t b[UEV_RING_SUPER_SIZE];
	char why[160] = "";
	struct stat st;
	ssize_t n;

	w->fd = open(c->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (w->fd < 0 && errno == ELOOP)
		return fail(err, errsize, -ELOOP, "%s: is a symbolic link; refusing", c->path);
	if (w->fd < 0)
		return fail(err, errsize, -errno, "%s: %s", c->path, strerror(errno));
	if (flock(w->fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK
			       ? fail(err, errsize, -EBUSY, "%s: in use by another uev-aggregator", c->path)
			       : fail(err, errsize, -errno, "%s: flock: %s", c->path, strerror(errno));
	if (fstat(w->fd, &st) < 0)
		return fail(err, errsize, -errno, "%s: %s", c->path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(err, errsize, -EEXIST, "%s: not a regular file; refusing", c->path);
	n = uev_ring_pread(w->fd, b, sizeof(b), 0);
	if (n < 0)
		return fail(err, errsize, (int)n, "%s: %s", c->path, strerror((int)-n));
	if (n < (ssize_t)sizeof(b))
		snprintf(why, sizeof(why), "not a uev ring file");
	else if (uev_ring_super_decode(b, &w->sb, why, sizeof(why)) == 0) {
		/* The configured size is compared by the geometry it yields:
		 * the file is 4096 + N*S, usually a little less than asked. */
		if (w->sb.segment_size != S || w->sb.segment_count != N)
			snprintf(why, sizeof(why), "ring of %llu bytes, configured %llu",
				 (unsigned long long)w->sb.file_size, (unsigned long long)c->size);
		else if ((uint64_t)st.st_size != w->sb.file_size)
			snprintf(why, sizeof(why), "%llu bytes on disk, the ring has %llu",
				 (unsigned long long)st.st_size, (unsigned long long)w->sb.file_size);
	}
	if (!why[0])
		return scan_existing(w, c->path, err, errsize);
	if (!c->recreate)
		return fail(err, errsize, -EEXIST, "%s: %s; use --recreate to replace it", c->path, why);
	if (ftruncate(w->fd, 0) < 0)
		return fail(err, errsize, -errno, "%s: truncating: %s", c->path, strerror(errno));
	w->next_seq = w->next_segseq = 1;
	return init_file(w, c, S, N, err, errsize);
}

int uev_ring_writer_open(struct uev_ring_writer **out, const struct uev_ring_create *c, char *err,
			 size_t errsize)
{
	struct uev_ring_writer *w;
	uint32_t S, N;
	struct stat st;
	int r = 1;

	*out = NULL;
	if (err && errsize)
		err[0] = 0;
	if (!c || !c->path)
		return fail(err, errsize, -EINVAL, "no ring file path");
	if (uev_ring_geometry(c->size, &S, &N) < 0)
		return fail(err, errsize, -EINVAL, "%s: size %llu too small, at least %llu bytes",
			    c->path, (unsigned long long)c->size,
			    (unsigned long long)uev_ring_min_size());
	if (c->seat && strlen(c->seat) >= sizeof(w->sb.seat))
		return fail(err, errsize, -EINVAL, "%s: seat name too long", c->path);
	if (!(w = calloc(1, sizeof(*w))))
		return fail(err, errsize, -ENOMEM, "%s: out of memory", c->path);
	w->fd = -1;
	w->mru = w->lru = NIL;
	memset(w->chash, 0xff, sizeof(w->chash));
	w->ckpt_fixed = uev_ring_rec_size(UEV_RING_RUN_START_LEN) + uev_ring_rec_size(UEV_RING_SYNC_LEN);
	/* Twice at most: a name that appears between lstat() and creating
	 * it is then opened as an existing file. */
	for (int tries = 0; r == 1 && tries < 2; tries++) {
		if (lstat(c->path, &st) == 0)
			r = S_ISLNK(st.st_mode) ? fail(err, errsize, -ELOOP,
						       "%s: is a symbolic link; refusing", c->path)
						: open_existing(w, c, S, N, err, errsize);
		else if (errno != ENOENT)
			r = fail(err, errsize, -errno, "%s: %s", c->path, strerror(errno));
		else
			r = create_new(w, c, S, N, err, errsize);
	}
	if (r == 1)
		r = fail(err, errsize, -EBUSY, "%s: created by someone else meanwhile", c->path);
	if (r < 0) {
		writer_free(w);
		return r;
	}
	*out = w;
	return 0;
}
