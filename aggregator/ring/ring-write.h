/* SPDX-License-Identifier: MIT */
/*
 * The ring writer's state, shared by its two halves: opening the file
 * (ring-open.c) and appending to it (ring-write.c). Internal to the ring
 * module; the API is ringfile.h.
 */
#ifndef UEV_RING_WRITE_H
#define UEV_RING_WRITE_H

#include <stdint.h>
#include <time.h>

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
	/* A run continued it (ring-resume.c): its first extent runs to the
	 * segment end, zeroing what an earlier run left behind, and is the
	 * only one out until done. */
	int wipe;
};

struct ext { /* handed out, not yet confirmed written */
	uint64_t seq;
	uint32_t off, len, cookie;
	uint32_t add; /* bytes first written by it (len less the block rounding) */
	int pending; /* failed: to be handed out again */
	int wipe;    /* the first extent of a continued segment (seg.wipe) */
};

#define META_INCIDENT 4u
struct meta { /* a FORMAT (class = kind), an ANNOUNCE (class 3), the INCIDENT (META_INCIDENT) */
	unsigned class;
	uint32_t id, len;
	uint8_t *payload;
};

struct comm_ent { /* ring-comm.c */
	int32_t pid;
	char comm[16];
	uint16_t prev, next, hnext; /* recency list (mru first), hash chain */
	uint8_t dirty;              /* to be named before the next data record */
	uint64_t used;              /* tick of the last page that used it */
	uint64_t seg;               /* segment_seq that last named it (UINT64_MAX: none) */
};

struct uev_ring_stage;

/*
 * Open units (ring-pending.c): each CPU's pages wait in an area of their
 * own until they are packed into one UNIT record. An area starts with its
 * state word, the only word that says what the area holds:
 *   bits 0-31 bytes of whole page entries (the unit's raw form) after the
 *   area header; bits 32-47 how many; bits 48-63 the CPU.
 * It is stored once, after the entry bytes, so a kill -9 at any instant
 * leaves an area holding exactly the pages it had taken.
 */
#define UEV_RING_AREA_HDR 64u
struct uev_ring_pending {
	int level;           /* zstd level of new units; 0: pages go out as PAGE records */
	uint8_t *areas;      /* nareas x area_size: in the stage, or heap */
	uint32_t nareas, area_size;
	uint8_t *heap;       /* areas, when there is no stage */
	/* w->unit.out holds the unit of area `packed` packed from
	 * packed_fill bytes: a seal that found no room does not pack again */
	int64_t packed;
	uint32_t packed_fill;
	size_t packed_len;
	/* packed / raw of the last unit sealed, in 1/65536: what a unit
	 * will take, to fit one into the end of a segment */
	uint32_t ratio;
	/* the tick of each area's first page (0 for [nfirst, nareas) and for
	 * units a killed writer left): ring-comm.c's horizon */
	uint64_t *first;
	size_t nfirst, first_cap;
};

struct uev_ring_writer {
	int fd, running, have_sync;
	struct uev_ring_stage *stage; /* NULL: segment buffers on the heap */
	int clean;                    /* closed with everything written */
	/* What uev_ring_writer_fd() hands out for io_uring: its own open file
	 * description, so that requests still being torn down after a crash
	 * keep only this one alive, never the one holding the flock. */
	int io_fd;
	/* 1, or the block size when io_fd is O_DIRECT: then every write is
	 * whole aligned blocks (see uev_ring_writer_take()). */
	uint32_t align;
	struct uev_ring_super sb;
	struct uev_ring_end at; /* where the next segment and record go */
	uint64_t run_id, backlog;
	uint32_t run_segment;
	uint8_t run_start[UEV_RING_RUN_START_RECOVERED_LEN];
	uint32_t run_start_len;
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
	uint64_t tick; /* pages taken, from 1: the page being taken now */
	struct uev_ring_unit_bufs unit;
	struct uev_ring_pending pend;
};

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A segment buffer (4 KiB aligned, segment_size bytes): from the stage
 * when there is one (-ENOBUFS when all its slots hold unwritten bytes),
 * else the heap (-ENOMEM). put() gives it back (ring-stage.c). */
int uev_ring_buf_get(struct uev_ring_writer *w, uint8_t **buf);
void uev_ring_buf_put(struct uev_ring_writer *w, uint8_t *buf);
/* Opens or creates the stage at @path with @nareas open unit areas of
 * @area_size bytes and @extra bytes for the caller, writing back what a
 * killed writer left in it (areas with units still open are kept as they
 * are, with their own geometry); sets w->pend's areas. 0 or -errno (@err). */
int uev_ring_stage_open(struct uev_ring_writer *w, const char *path, size_t extra, uint32_t nareas,
			uint32_t area_size, char *err, size_t errsize);
/* Unmaps the stage; @clean (everything written) also removes its file. */
void uev_ring_stage_close(struct uev_ring_writer *w, int clean);

/* A data record, after a LOST of @lost (8 bytes, or NULL for none) when
 * given: room is found for both first, so the two go in together or not at
 * all (a LOST without its PAGE, offered again after -ENOBUFS, would count
 * the loss twice). 0, -EINVAL (not running, CPU), -E2BIG, -ENOBUFS,
 * -ENOMEM (ring-write.c). */
int uev_ring_put_data(struct uev_ring_writer *w, unsigned type, unsigned cpu, const void *p, size_t len,
		      const uint8_t *lost);

/* Bytes a record may still take in the open segment, after the names
 * waiting to be written; 0 without one (ring-write.c). */
uint64_t uev_ring_room(struct uev_ring_writer *w);

/* The open units' geometry for a writer of @c: area size and count (0, 0
 * without compression), and heap areas when there is no stage; checks the
 * level (ring-pending.c). */
int uev_ring_pending_init(struct uev_ring_writer *w, const struct uev_ring_create *c, uint32_t *nareas,
			  uint32_t *area_size);
/* Areas a killed writer left (mapped at w->pend.areas with their own
 * geometry): those whose unit the recovered stage holds are emptied, the
 * others stay open units of this writer, their pages noted for
 * uev_ring_writer_stage_had_page(). Counted in @rep (ring-pending.c). */
void uev_ring_pending_recover(struct uev_ring_writer *w, struct uev_ring_stage_report *rep);
/* Every open unit into a UNIT record, writing first as often as needed
 * (close). */
int uev_ring_pending_seal_all(struct uev_ring_writer *w);
/* The tick of the oldest page not yet in a record: the first page of the
 * oldest open unit, else the page being taken (ring-pending.c). */
uint64_t uev_ring_pending_horizon(const struct uev_ring_writer *w);
/* How many of the most recently used names, at most @cap, were used since
 * the horizon: what a checkpoint carries (ring-comm.c). */
uint32_t uev_ring_comm_in_use(const struct uev_ring_writer *w, uint32_t cap);

/* What the stage recovered (ring-stage.c): a page the killed writer had
 * taken (for uev_ring_writer_stage_had_page()), and whether a recovered
 * segment image holds a UNIT of @cpu with this raw length and CRC. */
void uev_ring_stage_note_page(struct uev_ring_writer *w, unsigned cpu, const void *page, size_t len);
int uev_ring_stage_had_unit(const struct uev_ring_writer *w, unsigned cpu, uint32_t raw_len, uint32_t raw_crc);

/* Releases segments that are closed and entirely written. */
void uev_ring_seg_reap(struct uev_ring_writer *w);

/* The checkpoint (RUN_START, SYNC, FORMATs, ANNOUNCEs, COMM) appended to
 * the open segment (ring-write.c). */
void uev_ring_put_checkpoint(struct uev_ring_writer *w);

/* An older superblock rewritten as UEV_RING_VERSION, on disk before it
 * returns: 0 or -errno (ring-resume.c). Does nothing for a file of this
 * version. */
int uev_ring_super_upgrade(struct uev_ring_writer *w);
/* Opens the newest segment again for a starting run when the file allows
 * it and @ckpt bytes of checkpoint and a quarter segment fit after its last
 * record: 1, 0 (start a new segment instead), or -errno (ring-resume.c). */
int uev_ring_resume(struct uev_ring_writer *w, uint64_t ckpt);

/* Closes the file (dropping the flock) and frees @w with all it holds,
 * writing nothing (ring-write.c). */
void uev_ring_writer_free(struct uev_ring_writer *w);

#endif
