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
 * and flush() always makes room. Segments whose remaining bytes are all out
 * in taken extents do not count: done() releases them, so their number is
 * bounded by the caller's writes in flight.
 *
 * COMM records are batched: comm() only marks the pid's entry, and the
 * changed entries go out as one COMM record just before the next PAGE,
 * LOST or RUN_END, that is, before anything that could refer to them.
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
#define COMM_MAX 4096u   /* pids remembered; also the checkpoint's COMM cap */
#define COMM_BATCH 1024u /* entries per batched COMM record */
#define NIL 0xffffu
#define NO_CPU 0xffffu

struct seg {
	uint8_t *buf;
	uint64_t seq, base; /* segment_seq, file offset */
	uint32_t fill;      /* bytes appended */
	uint32_t taken;     /* [0, taken) was handed out at least once */
	int open;           /* the current segment */
};

struct ext { /* handed out, not yet confirmed written */
	uint64_t seq;
	uint32_t off, len, cookie;
	int pending; /* failed: to be handed out again */
};

struct meta { /* a FORMAT (class = kind) or an ANNOUNCE (class 3) */
	unsigned class;
	uint32_t id, len;
	uint8_t *payload;
};

struct comm_ent {
	int32_t pid;
	char comm[16];
	uint16_t prev, next, hnext; /* LRU list (mru first), hash chain */
	uint8_t dirty;              /* changed since the last COMM record */
};

struct uev_ring_writer {
	int fd, running, have_sync;
	struct uev_ring_super sb;
	struct uev_ring_end at; /* where the next segment and record go */
	uint64_t run_id, backlog;
	uint32_t run_segment;
	uint8_t run_start[UEV_RING_RUN_START_LEN];
	struct uev_ring_sync sync;
	struct meta *meta;
	size_t nmeta, meta_cap;
	/* Checkpoint bytes without its COMM record (RUN_START and a SYNC
	 * always counted). Kept <= S/2: every segment has room for data. */
	uint64_t ckpt_fixed;
	struct seg *seg; /* oldest first; while running the last is open */
	size_t nseg, seg_cap;
	uint8_t *spare;
	struct ext *ext; /* in (segment, offset) order */
	size_t next, ext_cap;
	uint32_t cookie;
	uint8_t *rec; /* the record being written, until rec_seal() */
	struct uev_ring_rechdr rh;
	struct comm_ent comm[COMM_MAX];
	uint16_t chash[2 * COMM_MAX], mru, lru;
	unsigned ncomm, ndirty;
};

static int fail(char *err, size_t errsize, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errsize, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err && errsize)
		vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	return e;
}

/* Makes room in the array @*p (@n used of *@cap) for one more element. */
static int grow(void *p, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? 2 * *cap : 8;
	void *q;

	if (n < *cap)
		return 0;
	if (!(q = realloc(*(void **)p, c * size)))
		return -ENOMEM;
	*(void **)p = q;
	*cap = c;
	return 0;
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
	int busy;

	for (size_t i = 0; i < w->nseg;) {
		struct seg *s = &w->seg[i];

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

/* 0: the open segment has room for @need more bytes; 1: a new segment is
 * needed and can be started now; or -ENOBUFS / -ENOMEM. */
static int room_for(struct uev_ring_writer *w, uint64_t need)
{
	struct seg *c = cur(w);
	unsigned nbusy = 0;
	int busy;

	if (c && c->fill + need <= w->sb.segment_size)
		return 0;
	for (size_t i = 0; i < w->nseg; i++) {
		seg_idle(w, &w->seg[i], &busy);
		nbusy += busy;
	}
	if (nbusy >= MAX_SEGS)
		return -ENOBUFS;
	if (grow(&w->seg, &w->seg_cap, w->nseg, sizeof(*w->seg)) < 0 ||
	    (!w->spare && !(w->spare = malloc(w->sb.segment_size))))
		return -ENOMEM;
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

/* A COMM record of @k entries, most recently seen first: the changed
 * ones, or (a checkpoint) all; then the checkpoint leaves none changed. */
static void put_comms(struct uev_ring_writer *w, uint32_t k, int changed_only)
{
	uint8_t *p = rec_begin(w, UEV_RING_COMM, NO_CPU, k * UEV_RING_COMM_ENT);

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
	}
	for (unsigned i = 0; !changed_only && i < w->ncomm; i++)
		w->comm[i].dirty = 0;
	if (!changed_only)
		w->ndirty = 0;
	rec_seal(w);
}

/* The next segment in index order, headed by the run's checkpoint. Its
 * header goes out in its first extent: once written, the segment_seq it
 * carries invalidates the older lap's records as a whole, so the stale
 * bytes behind our write position are never taken for records. */
static void start_segment(struct uev_ring_writer *w)
{
	struct seg *s, *c = cur(w);
	uint8_t b[UEV_RING_SYNC_LEN];

	if (c)
		c->open = 0;
	seg_reap(w);
	s = &w->seg[w->nseg++];
	*s = (struct seg){ .buf = w->spare, .seq = w->at.next_segment_seq++, .open = 1,
			   .base = UEV_RING_SUPER_SIZE + (uint64_t)w->at.next_index * w->sb.segment_size };
	w->spare = NULL;
	w->at.next_index = (w->at.next_index + 1) % w->sb.segment_count;
	uev_ring_seghdr_encode(s->buf, &(struct uev_ring_seghdr){ s->seq, w->at.next_seq, w->run_id,
								  w->run_segment++ });
	s->fill = UEV_RING_SEG_HDR;
	w->backlog += UEV_RING_SEG_HDR;

	put(w, UEV_RING_RUN_START, w->run_start, sizeof(w->run_start), NO_CPU);
	uev_ring_sync_encode(b, &w->sync);
	if (w->have_sync)
		put(w, UEV_RING_SYNC, b, sizeof(b), NO_CPU);
	for (unsigned cls = 0; cls <= 3; cls++) /* header_page, header_event, events, announces */
		for (size_t i = 0; i < w->nmeta; i++)
			if (w->meta[i].class == cls)
				put(w, cls == 3 ? UEV_RING_ANNOUNCE : UEV_RING_FORMAT, w->meta[i].payload,
				    w->meta[i].len, NO_CPU);
	put_comms(w, ckpt_comms(w), 0);
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
	else if (!m && grow(&w->meta, &w->meta_cap, w->nmeta, sizeof(*m)) < 0)
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
	int fresh = w->running ? room_for(w, uev_ring_rec_size(sizeof(b))) : 0;

	if (fresh < 0)
		return fresh;
	w->sync = *s;
	w->have_sync = 1;
	uev_ring_sync_encode(b, s);
	if (w->running)
		emit(w, fresh, UEV_RING_SYNC, b, sizeof(b), NO_CPU, 1);
	return 0;
}

static void lru_unlink(struct uev_ring_writer *w, uint16_t i)
{
	struct comm_ent *e = &w->comm[i];

	*(e->prev != NIL ? &w->comm[e->prev].next : &w->mru) = e->next;
	*(e->next != NIL ? &w->comm[e->next].prev : &w->lru) = e->prev;
}

static uint16_t *comm_slot(struct uev_ring_writer *w, int32_t pid)
{
	return &w->chash[((uint32_t)pid * 2654435761u) >> 19]; /* 13 bits */
}

int uev_ring_writer_comm(struct uev_ring_writer *w, int32_t pid, const char *comm)
{
	char c[16] = { 0 };
	uint16_t *slot = comm_slot(w, pid), i, *p;
	struct comm_ent *e;
	int fresh;

	memcpy(c, comm ? comm : "", comm ? strnlen(comm, 15) : 0);
	for (i = *slot; i != NIL && w->comm[i].pid != pid; i = w->comm[i].hnext)
		;
	fresh = i == NIL;
	if (!fresh) {
		lru_unlink(w, i);
	} else if (w->ncomm < COMM_MAX) {
		i = (uint16_t)w->ncomm++;
	} else { /* forget the least recently seen pid */
		i = w->lru;
		lru_unlink(w, i);
		for (p = comm_slot(w, w->comm[i].pid); *p != i; p = &w->comm[*p].hnext)
			;
		*p = w->comm[i].hnext;
		w->ndirty -= w->comm[i].dirty;
	}
	e = &w->comm[i];
	if (fresh) {
		*e = (struct comm_ent){ .pid = pid, .hnext = *slot };
		*slot = i;
	}
	e->prev = NIL; /* most recently seen */
	e->next = w->mru;
	*(w->mru != NIL ? &w->comm[w->mru].prev : &w->lru) = i;
	w->mru = i;
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

		if (fresh < 0)
			return fresh;
		if (fresh) /* its checkpoint carries them */
			start_segment(w);
		else
			put_comms(w, k, 1);
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
	emit(w, r, type, p, (uint32_t)len, cpu, 0);
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
		return -E2BIG; /* the rule; ckpt_fixed <= S/2 keeps it from happening */
	if ((r = room_for(w, 0)) < 0)
		return r;
	w->run_id = w->at.max_run_id + 1;
	uev_ring_run_start_encode(w->run_start, w->run_id, info);
	w->running = 1;
	start_segment(w);
	return 0;
}

/* ---- getting records to disk ------------------------------------------ */

unsigned uev_ring_writer_take(struct uev_ring_writer *w, struct uev_ring_extent *out, unsigned max)
{
	unsigned n = 0;

	/* Segment by segment, failed extents before new bytes, so the list
	 * is in file order; and a segment's new bytes are only taken once
	 * every older segment's have been, which keeps w->ext sorted. */
	for (size_t si = 0; si < w->nseg && n < max; si++) {
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
		if (grow(&w->ext, &w->ext_cap, w->next, sizeof(*w->ext)) < 0)
			break; /* the bytes stay untaken; a later call retries */
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
		if (result != (long)e->len) { /* rewriting the same bytes later is harmless */
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
			ssize_t r = err ? -ECANCELED : uev_ring_pwrite(w->fd, x[i].buf, x[i].len, x[i].offset);

			err = err ? err : r < 0 ? (int)r : 0;
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

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void writer_free(struct uev_ring_writer *w)
{
	if (w->fd >= 0)
		close(w->fd); /* drops the flock too */
	for (size_t i = 0; i < w->nseg; i++)
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
		if (!(r = uev_ring_writer_flush(w)) && !(r = emit_comms(w)) &&
		    (r = room_for(w, uev_ring_rec_size(sizeof(b)))) >= 0) {
			emit(w, r, UEV_RING_RUN_END, b, sizeof(b), NO_CPU, 0);
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

/* Makes the empty file @w->fd a new ring: mode, group, superblock, space. */
static int init_file(struct uev_ring_writer *w, const struct uev_ring_create *c, uint32_t S,
		     uint32_t N, char *err, size_t errsize)
{
	struct uev_ring_super *sb = &w->sb;
	uint8_t b[UEV_RING_SUPER_SIZE];
	int r;

	if (fchmod(w->fd, c->mode & 07777) < 0 ||
	    (c->gid != (gid_t)-1 && fchown(w->fd, (uid_t)-1, c->gid) < 0))
		return fail(err, errsize, -errno, "%s: setting mode/group: %s", c->path, strerror(errno));
	*sb = (struct uev_ring_super){ UEV_RING_SUPER_SIZE + (uint64_t)N * S, S, N, { 0 }, now_ns(), "" };
	if (getrandom(sb->uuid, 16, GRND_INSECURE) != 16 && getrandom(sb->uuid, 16, 0) != 16)
		return fail(err, errsize, -EIO, "%s: no random bytes for the file uuid", c->path);
	sb->uuid[6] = (uint8_t)((sb->uuid[6] & 0x0f) | 0x40); /* RFC 4122 version 4 */
	sb->uuid[8] = (uint8_t)((sb->uuid[8] & 0x3f) | 0x80);
	snprintf(sb->seat, sizeof(sb->seat), "%s", c->seat ? c->seat : "");
	uev_ring_super_encode(b, sb);
	w->at = (struct uev_ring_end){ .next_seq = 1, .next_segment_seq = 1 };
	if ((r = (int)uev_ring_pwrite(w->fd, b, sizeof(b), 0)) < 0)
		return fail(err, errsize, r, "%s: writing the superblock: %s", c->path, strerror(-r));
	if ((r = posix_fallocate(w->fd, 0, (off_t)sb->file_size)) != 0)
		return fail(err, errsize, -r, "%s: preallocating %llu bytes: %s", c->path,
			    (unsigned long long)sb->file_size, strerror(r));
	if (fsync(w->fd) < 0)
		return fail(err, errsize, -errno, "%s: fsync: %s", c->path, strerror(errno));
	return 0;
}

/* A new file gets its name only once complete (O_TMPFILE, then linkat), so
 * a crash while creating cannot leave a half-made ring that later opens
 * would refuse. Returns 1 when someone else took the name meanwhile. */
static int create_new(struct uev_ring_writer *w, const struct uev_ring_create *c, uint32_t S,
		      uint32_t N, char *err, size_t errsize)
{
	char *dup = strdup(c->path), proc[64];
	const char *dir = dup ? dirname(dup) : NULL;
	int inplace = 0, r, dfd;

	if (!dup)
		return fail(err, errsize, -ENOMEM, "%s: out of memory", c->path);
	w->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, c->mode & 0777);
	if (w->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		/* No O_TMPFILE here: create in place, superblock first. */
		w->fd = open(c->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, c->mode & 0777);
		inplace = 1;
	}
	if (w->fd < 0)
		r = errno == EEXIST ? 1 : fail(err, errsize, -errno, "%s: %s", c->path, strerror(errno));
	else if (flock(w->fd, LOCK_EX | LOCK_NB) < 0)
		r = fail(err, errsize, -EBUSY, "%s: in use by another uev-aggregator", c->path);
	else if ((r = init_file(w, c, S, N, err, errsize)) < 0 && inplace)
		unlink(c->path); /* ours, and unusable */
	if (r == 0 && !inplace) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->fd);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, c->path, AT_SYMLINK_FOLLOW) < 0 &&
		    (errno != ENOENT || linkat(w->fd, "", AT_FDCWD, c->path, AT_EMPTY_PATH) < 0))
			r = errno == EEXIST ? 1 : fail(err, errsize, -errno, "%s: %s", c->path, strerror(errno));
	}
	if (r == 0 && (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd); /* the name is durable too; best effort */
		close(dfd);
	}
	if (r == 1 && w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
	free(dup);
	return r;
}

static int open_existing(struct uev_ring_writer *w, const struct uev_ring_create *c, uint32_t S,
			 uint32_t N, char *err, size_t errsize)
{
	uint8_t b[UEV_RING_SUPER_SIZE];
	char why[160] = "";
	struct stat st;
	ssize_t n;
	int r;

	w->fd = open(c->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (w->fd < 0)
		return errno == ELOOP ? fail(err, errsize, -ELOOP, "%s: is a symbolic link; refusing", c->path)
				      : fail(err, errsize, -errno, "%s: %s", c->path, strerror(errno));
	if (flock(w->fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK
			       ? fail(err, errsize, -EBUSY, "%s: in use by another uev-aggregator", c->path)
			       : fail(err, errsize, -errno, "%s: flock: %s", c->path, strerror(errno));
	if (fstat(w->fd, &st) < 0)
		return fail(err, errsize, -errno, "%s: %s", c->path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(err, errsize, -EEXIST, "%s: not a regular file; refusing", c->path);
	if ((n = uev_ring_pread(w->fd, b, sizeof(b), 0)) < 0)
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
	if (why[0] && !c->recreate)
		return fail(err, errsize, -EEXIST, "%s: %s; use --recreate to replace it", c->path, why);
	if (why[0]) {
		if (ftruncate(w->fd, 0) < 0)
			return fail(err, errsize, -errno, "%s: truncating: %s", c->path, strerror(errno));
		return init_file(w, c, S, N, err, errsize);
	}
	if ((r = uev_ring_find_end(w->fd, &w->sb, &w->at)) < 0)
		return fail(err, errsize, r, "%s: scanning: %s", c->path, strerror(-r));
	return 0;
}

int uev_ring_writer_open(struct uev_ring_writer **out, const struct uev_ring_create *c, char *err,
			 size_t errsize)
{
	struct uev_ring_writer *w;
	uint32_t S, N;
	struct stat st;
	int r = 1;

	*out = NULL;
	fail(err, errsize, 0, "%s", "");
	if (!c || !c->path)
		return fail(err, errsize, -EINVAL, "no ring file path");
	if (uev_ring_geometry(c->size, &S, &N) < 0)
		return fail(err, errsize, -EINVAL, "%s: size %llu too small, at least %llu bytes", c->path,
			    (unsigned long long)c->size, (unsigned long long)uev_ring_min_size());
	if (c->seat && strlen(c->seat) >= sizeof(w->sb.seat))
		return fail(err, errsize, -EINVAL, "%s: seat name too long", c->path);
	if (!(w = calloc(1, sizeof(*w))))
		return fail(err, errsize, -ENOMEM, "%s: out of memory", c->path);
	w->fd = -1;
	w->mru = w->lru = NIL;
	memset(w->chash, 0xff, sizeof(w->chash));
	w->ckpt_fixed = uev_ring_rec_size(UEV_RING_RUN_START_LEN) + uev_ring_rec_size(UEV_RING_SYNC_LEN);
	/* A name that appears between lstat() and creating it is then
	 * opened as an existing file: twice at most. */
	for (int tries = 0; r == 1 && tries < 2; tries++) {
		if (lstat(c->path, &st) == 0)
			r = S_ISLNK(st.st_mode)
				    ? fail(err, errsize, -ELOOP, "%s: is a symbolic link; refusing", c->path)
				    : open_existing(w, c, S, N, err, errsize);
		else
			r = errno != ENOENT ? fail(err, errsize, -errno, "%s: %s", c->path, strerror(errno))
					    : create_new(w, c, S, N, err, errsize);
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
