/* SPDX-License-Identifier: MIT */
/*
 * The ring file layout (docs/ring-format.md), shared by the writer
 * (ring-write.c and ring-open.c) and the reader (ring-read.c, ring-scan.c,
 * ring-tail.c): the one place that knows where each field sits, with the
 * payloads' codecs (ring-records.c). Internal to the ring module; the API
 * is ringfile.h.
 */
#ifndef UEV_RING_COMMON_H
#define UEV_RING_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "ringfile.h"

#define UEV_RING_SEG_HDR 64u   /* segment header; records start right after */
#define UEV_RING_REC_HDR 24u   /* record header; payload follows */
#define UEV_RING_SUPER_USED 128u
#define UEV_RING_SEG_MIN (64u << 10)
#define UEV_RING_SEG_MAX (4u << 20)
#define UEV_RING_COMM_ENT 20u  /* {pid s32, comm[16]} */
#define UEV_RING_RUN_START_LEN 274u    /* written since version 4 */
#define UEV_RING_RUN_START_RECOVERED_LEN 282u /* a recovered run's: recovered_from */
#define UEV_RING_RUN_START_V3_LEN 273u /* version 3: without compression */
#define UEV_RING_RUN_START_V2_LEN 271u /* version 2: without byte_order, long_size */
#define UEV_RING_RUN_START_V1_LEN 267u /* the shortest accepted: without flush_interval_ms */
#define UEV_RING_SYNC_LEN 32u
#define UEV_RING_RUN_END_LEN 32u
#define UEV_RING_LOST_LEN 8u

static inline void uev_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void uev_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void uev_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t uev_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t uev_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t uev_get64(const uint8_t *p)
{
	return (uint64_t)uev_get32(p) | (uint64_t)uev_get32(p + 4) << 32;
}

/* Bytes a record of @len payload bytes takes in a segment (header, padding). */
static inline uint64_t uev_ring_rec_size(uint64_t len)
{
	return (UEV_RING_REC_HDR + len + 7) & ~(uint64_t)7;
}

/* Segment geometry for a configured size: 0, or -EINVAL when N < 4 (or
 * N does not fit the superblock's u32). */
int uev_ring_geometry(uint64_t size, uint32_t *seg_size, uint32_t *seg_count);
/* Smallest size uev_ring_geometry() accepts. */
uint64_t uev_ring_min_size(void);

/* Superblock: @b is UEV_RING_SUPER_SIZE bytes. encode writes sb->version.
 * decode returns 0, or -EINVAL with the reason ("not a uev ring file",
 * "unsupported ring version 4", ...) in @why. Geometry is checked too: the
 * reader's memory bound rests on segment_size <= UEV_RING_SEG_MAX. A
 * superblock torn between an older version and its upgrade (one of the two
 * changed fields written, docs/ring-format.md "Crash consistency") decodes
 * as the older version. */
void uev_ring_super_encode(uint8_t *b, const struct uev_ring_super *sb);
int uev_ring_super_decode(const uint8_t *b, struct uev_ring_super *sb, char *why, size_t whysize);

struct uev_ring_seghdr {
	uint64_t segment_seq, first_record_seq, run_id;
	uint32_t run_segment;
};
enum uev_ring_seghdr_state { UEV_SEG_VALID, UEV_SEG_ZERO, UEV_SEG_BAD };
void uev_ring_seghdr_encode(uint8_t *b, const struct uev_ring_seghdr *h);
/* UEV_SEG_ZERO: all 64 bytes zero (never written, or wiped);
 * UEV_SEG_BAD: with the reason in *why. */
enum uev_ring_seghdr_state uev_ring_seghdr_decode(const uint8_t *b, struct uev_ring_seghdr *h,
						   const char **why);

struct uev_ring_rechdr {
	uint16_t type, cpu;
	uint32_t len;
	uint64_t seq;
	uint32_t segment_lo;
};
/* Writes the header with its CRC over the header and @len payload bytes,
 * which must already be in place at b + UEV_RING_REC_HDR. */
void uev_ring_rechdr_seal(uint8_t *b, const struct uev_ring_rechdr *h);
/*
 * Is the record at @pos of a segment image @seg (@seg_size bytes) valid
 * as the format defines it: fits, CRC, segment_lo, seq == @expect_seq?
 * Returns 1 (valid, *h filled) or 0 with the reason in *why. Any @pos and
 * any bytes are safe.
 */
int uev_ring_rec_check(const uint8_t *seg, uint32_t seg_size, uint32_t pos, uint64_t segment_seq,
		       uint64_t expect_seq, struct uev_ring_rechdr *h, const char **why);

/* ---- the reader's recovery rules, which the writer follows too
 * (ring-scan.c) ---- */

/* A valid segment header as found by uev_ring_scan(). */
struct uev_ring_seginfo {
	uint64_t seq, first_seq, run_id;
	uint32_t index, run_segment;
};
/*
 * Reads every segment header: the valid ones into *out (malloc'd, sorted
 * by segment_seq, duplicate seqs resolved as the format says), the counts
 * into @st (segments_*, wraps) and each problem to @report (may be NULL).
 * Returns 0 or -errno (I/O, memory).
 */
int uev_ring_scan(int fd, const struct uev_ring_super *sb, struct uev_ring_seginfo **out,
		  uint32_t *n, struct uev_ring_stats *st, uev_ring_report_fn report, void *ctx);

/*
 * A segment's records belong to the run of its header until a RUN_START
 * of another run: then to that run, whose run_segment is 0 there. Called
 * for every valid record in order, after starting from the header's
 * run_id and run_segment.
 */
void uev_ring_run_step(uint16_t type, const uint8_t *payload, uint32_t len, uint64_t *run_id,
		       uint32_t *run_segment);

/*
 * Where a writer continues: a new segment at next_index (segment_seq
 * next_segment_seq, records from next_seq), with a run_id above every run
 * in the file. And the newest segment (have_tail): its index, segment_seq,
 * the position after its last valid record (tail) and the seq a record
 * there would need (tail_seq), and the run current there (run_id,
 * run_segment as uev_ring_run_step() tracks them): a starting run may
 * continue that segment instead.
 */
struct uev_ring_end {
	uint64_t next_seq, next_segment_seq, max_run_id;
	uint32_t next_index;
	int have_tail;
	uint64_t tail_segment_seq, tail_seq, tail_run_id;
	uint32_t tail_index, tail, tail_run_segment;
};
/* (ring-resume.c) */
int uev_ring_find_end(int fd, const struct uev_ring_super *sb, struct uev_ring_end *end);

/* pread/pwrite until done: bytes transferred (short only at EOF), or -errno. */
ssize_t uev_ring_pread(int fd, void *buf, size_t len, uint64_t off);
ssize_t uev_ring_pwrite(int fd, const void *buf, size_t len, uint64_t off);

/* Payload encoders of the fixed-layout records (text fields NUL-padded,
 * always NUL-terminated in the file); the decoders are ringfile.h's
 * uev_ring_rec_*() (ring-records.c). */
/* RUN_START: writes UEV_RING_RUN_START_LEN bytes, or
 * UEV_RING_RUN_START_RECOVERED_LEN for a recovered run (this machine's byte
 * order and long size where @ri leaves them 0); returns the length. */
uint32_t uev_ring_run_start_encode(uint8_t *p, uint64_t run_id, const struct uev_ring_run_info *ri);
void uev_ring_sync_encode(uint8_t *p, const struct uev_ring_sync *s);
void uev_ring_run_end_encode(uint8_t *p, uint64_t realtime_ns, const struct uev_ring_counters *c);
/* INCIDENT (ring-incident.c): its length; written at @p unless NULL. */
size_t uev_ring_incident_encode(uint8_t *p, const struct uev_ring_incident *inc);

/* UNIT payloads (ring-unit.c): a writer's two scratch buffers, the raw
 * entries and the payload packed from them, grown as needed, and its
 * zstd compression context (kept: making one per unit costs more than
 * compressing a small unit). */
struct uev_ring_unit_bufs {
	uint8_t *raw, *out;
	size_t raw_cap, out_cap;
	void *zctx;
	uint8_t *split, *words; /* the split form, and its word run as it grows */
	size_t split_cap, words_cap;
};
/* The UNIT payload of @n pages of run @run_id into b->out, its length in
 * *out_len, the raw entries built in b->raw first. zstd at @level, or
 * stored when that is not smaller. 0, -EINVAL, -E2BIG (more than
 * UEV_RING_UNIT_RAW_MAX raw), -ENOMEM. */
int uev_ring_unit_pack(const struct uev_ring_page_in *pages, unsigned n, int level, uint64_t run_id,
		       struct uev_ring_unit_bufs *b, size_t *out_len);
/* The same from @raw_len bytes of @n entries already built (an open
 * unit's area, ring-pending.c). */
int uev_ring_unit_pack_raw(const uint8_t *raw, size_t raw_len, unsigned n, int level, uint64_t run_id,
			   struct uev_ring_unit_bufs *b, size_t *out_len);
/* A unit entry: its header (u32 len, u32 reserved), the page, zeros to a
 * multiple of 8. The bytes the entry of a @len-byte page takes, in 64
 * bits so that a length read from a file cannot wrap; writing one at
 * @dst, which returns that size. */
#define UEV_RING_UNIT_ENTRY_HDR 8u
static inline uint64_t uev_ring_unit_entry_size(uint64_t len)
{
	return UEV_RING_UNIT_ENTRY_HDR + ((len + 7) & ~(uint64_t)7);
}
size_t uev_ring_unit_entry_put(uint8_t *dst, const void *page, size_t len);
/* The unit buffers' memory and context, freed. */
void uev_ring_unit_bufs_free(struct uev_ring_unit_bufs *b);

/* The split form of @raw_len bytes of unit entries (ring-split.c): a u32
 * count of word bytes, the other bytes in order, then the words, in @out
 * (raw_len + 4 bytes; @words is scratch of raw_len bytes). Returns its
 * length. unsplit() is its inverse: 0, or -EINVAL when @in is not the
 * split form of any raw_len bytes. */
size_t uev_ring_split(const uint8_t *raw, size_t raw_len, uint8_t *out, uint8_t *words);
int uev_ring_unsplit(const uint8_t *in, size_t in_len, uint8_t *raw, size_t raw_len);

/* The portable table version of uev_crc32c(), for tests of the fast one. */
uint32_t uev_crc32c_sw(uint32_t crc, const void *buf, size_t len);

#endif
