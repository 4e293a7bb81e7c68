/* SPDX-License-Identifier: MIT */
/*
 * The ring file (docs/ring-format.md): the one module that writes and reads
 * it, shared by uev-aggregator and uev-replay. Libraries return negative
 * errno and put a human message (naming the file and offset) into the
 * caller's buffer; nothing here prints.
 */
#ifndef UEV_RINGFILE_H
#define UEV_RINGFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define UEV_RING_VERSION 4     /* written by this build */
#define UEV_RING_VERSION_MIN 1 /* the oldest it reads (and upgrades) */
#define UEV_RING_SUPER_SIZE 4096u
#define UEV_RING_MIN_SEGMENTS 4u
#define UEV_RING_DEFAULT_SIZE (64ull << 20)
/* The highest CPU number a record carries: the field is 16 bits and
 * 0xffff means "no CPU". Every kernel so far has fewer CPUs (NR_CPUS is at
 * most 8192); a recorder refuses a machine with more at start. */
#define UEV_RING_CPU_MAX 0xfffeu

enum uev_ring_type {
	UEV_RING_RUN_START = 1,
	UEV_RING_SYNC = 2,
	UEV_RING_FORMAT = 3,
	UEV_RING_ANNOUNCE = 4,
	UEV_RING_COMM = 5,
	UEV_RING_PAGE = 6,
	UEV_RING_LOST = 7,
	UEV_RING_RUN_END = 8,
	UEV_RING_UNIT = 9, /* since version 4: compressed PAGEs of one CPU */
	UEV_RING_INCIDENT = 10, /* an incident bundle's description (readers that
				 * predate it skip it, as any unknown type) */
};

enum uev_ring_format_kind {
	UEV_RING_FMT_HEADER_PAGE = 0,
	UEV_RING_FMT_HEADER_EVENT = 1,
	UEV_RING_FMT_EVENT = 2,
};

struct uev_ring_super {
	uint32_t version; /* as found (1 to 4); a writer upgrades older ones to 4 at begin_run */
	uint64_t file_size;
	uint32_t segment_size, segment_count;
	uint8_t uuid[16];
	uint64_t created_realtime_ns;
	char seat[64];
};

struct uev_ring_run_info {
	char boot_id[37];
	char kernel_release[65];
	char seat[64];
	char trace_clock[16];
	char host[65];
	uint32_t aggregator_pid;
	uint64_t start_realtime_ns;
	/* The aggregator's flush interval: how long an event may sit in the
	 * kernel before it is in the file. 0 = unknown (a RUN_START written
	 * before the field existed). */
	uint32_t flush_interval_ms;
	/* How the recording machine lays out the PAGE payloads, which are its
	 * kernel's sub-buffers byte for byte: its byte order
	 * (enum uev_ring_byte_order) and the size of its kernel's long (4 or
	 * 8: the page header's commit word, the stored missed count, long
	 * fields of events). A writer given 0 records this machine's. A
	 * RUN_START written before ring version 3 has neither, and reads as
	 * little-endian and 8: those writers ran on x86-64 only. */
	uint8_t byte_order;
	uint8_t long_size;
	/* The zstd level of the run's UNIT records, 0 for PAGE records only
	 * (and for a RUN_START written before the field existed). The writer
	 * fills it in from its uev_ring_create. */
	uint8_t compression;
	/* Not 0: this run holds no recording of its own but what a boot's
	 * persistent ring buffer kept in memory across a warm reboot, the
	 * last moments of the boot that run @recovered_from recorded; its
	 * boot id, kernel, clock and layout are that run's (written since
	 * version 4, in a RUN_START of UEV_RING_RUN_START_RECOVERED_LEN bytes;
	 * readers before it see a run like any other). */
	uint64_t recovered_from;
};

enum uev_ring_byte_order {
	UEV_RING_LITTLE_ENDIAN = 1,
	UEV_RING_BIG_ENDIAN = 2,
};

/* This machine's byte order (enum uev_ring_byte_order) and long size, as a
 * writer records them. */
uint8_t uev_ring_host_byte_order(void);
uint8_t uev_ring_host_long_size(void);
/* "big-endian, 8-byte long" (or "byte order 7 (unknown), ..." for what the
 * format does not define), for messages: @buf, at most @size bytes. */
const char *uev_ring_layout_name(char *buf, size_t size, uint8_t byte_order, uint8_t long_size);
/*
 * Can a run's pages be read at all: 0 when its RUN_START gives a layout the
 * format defines (little- or big-endian, long of 4 or 8 bytes; the
 * decoders read all four on any machine), else -ENOTSUP with
 * "PATH: run N was recorded as LAYOUT, which this build cannot decode
 * (this machine: LAYOUT)" in @err.
 */
int uev_ring_layout_check(const struct uev_ring_run_info *ri, const char *path, uint64_t run_id,
			  char *err, size_t errsize);
/* 1 when the run's pages are laid out as this machine's kernel lays them. */
int uev_ring_layout_is_host(const struct uev_ring_run_info *ri);

struct uev_ring_sync {
	uint64_t trace_ns, realtime_ns, monotonic_ns, boottime_ns;
};

/* ---- writer ---------------------------------------------------------- */

struct uev_ring_writer;

struct uev_ring_create {
	const char *path;
	uint64_t size;     /* bytes; used when creating (and checked when opening) */
	const char *seat;
	mode_t mode;       /* for a new file, e.g. 0640 */
	gid_t gid;         /* (gid_t)-1: leave the group alone */
	int recreate;      /* replace a file of another format or size */
	int direct;        /* write with O_DIRECT where the file system allows it */
	/* The stage (see uev_ring_writer_stage_area()): NULL for none. */
	const char *stage_path;
	size_t stage_extra; /* bytes of the stage that are the caller's own */
	/*
	 * Compressed units (docs/ring-format.md): 0 writes every page as a
	 * PAGE record; 1 to ZSTD_maxCLevel() gathers each CPU's pages into
	 * UNIT records compressed with zstd at that level. A unit is
	 * sealed when it is full (unit_size bytes of pages, 0 for
	 * UEV_RING_UNIT_SIZE, at most a quarter segment), before a LOST of
	 * its CPU, at uev_ring_writer_seal() and at close. Until then its
	 * pages live in the stage like appended records.
	 */
	int compression;
	uint32_t unit_size;
	/* CPUs that can have a unit open at once, one area of unit_size
	 * bytes each (0: the machine's configured CPUs); the pages of any
	 * further CPU go out as PAGE records. */
	unsigned unit_cpus;
};
#define UEV_RING_UNIT_SIZE (256u << 10)
/* The highest compression level (zstd's; 22 with libzstd 1.5). */
int uev_ring_zstd_max_level(void);

/*
 * Open or create the ring file. Refuses (message in @err): a symlink
 * (-ELOOP), a file of another format, version or size unless @recreate
 * (-EEXIST), a file locked by another writer (-EBUSY, flock). A new file is
 * preallocated to its full size. An existing one is scanned to continue
 * seq/segment_seq/run_id after its newest valid data; nothing in it is
 * changed before uev_ring_writer_begin_run().
 */
int uev_ring_writer_open(struct uev_ring_writer **out, const struct uev_ring_create *c,
			 char *err, size_t errsize);

/*
 * The stage: with @c->stage_path, every byte appended lives in a shared
 * mapping of that file (put it on tmpfs, e.g. /run/uev/SEAT.stage) until it
 * is written, so a kill -9 of the writing process loses none of it. open()
 * first writes back what a killed writer of the same ring left there
 * (uev_ring_writer_stage_report() says what), then continues after it. A
 * clean close removes the file. Without a stage, unwritten bytes are heap
 * memory and die with the process.
 */
struct uev_ring_stage_report {
	int recovered;            /* a stage of this ring was found and written back */
	uint32_t segments;        /* live segment images in it */
	uint64_t records, bytes;  /* records (bytes) of those the ring file lacked */
	/* Open units it held that were not sealed yet: they stay open in
	 * this writer (their metadata must be recorded again, see
	 * uev_ring_writer_stage_pages()). */
	uint32_t units;
	uint64_t unit_pages;
	char discarded[96];       /* non-empty: an unusable stage was reset, and why */
};
const struct uev_ring_stage_report *uev_ring_writer_stage_report(const struct uev_ring_writer *w);
/* The caller's part of the stage (stage_extra bytes rounded up to 4 KiB),
 * holding what the previous writer's caller left in it when a stage was
 * recovered, zeros otherwise; NULL without a stage. It lives as long as
 * the writer. */
void *uev_ring_writer_stage_area(struct uev_ring_writer *w, size_t *len);
/* 1 when the recovered stage held a PAGE record of @cpu whose payload is
 * exactly these @len bytes (it was recorded before the kill), else 0. */
int uev_ring_writer_stage_had_page(const struct uev_ring_writer *w, unsigned cpu, const void *page,
				   size_t len);
/*
 * The pages of the open units a killed writer left (stage report: units),
 * oldest first per CPU, each handed to @fn; a non-zero return stops the
 * walk and is returned. They are recorded in this writer's run, so
 * whatever they need to be decoded (formats, names) must be recorded in
 * it too, before they are sealed: call this before begin_run, and record
 * it then.
 */
int uev_ring_writer_stage_pages(struct uev_ring_writer *w,
				int (*fn)(void *ctx, unsigned cpu, const void *page, size_t len), void *ctx);
/* Keep the stage file at close: the caller's area still holds something. */
void uev_ring_writer_stage_keep(struct uev_ring_writer *w);

/*
 * Start a run: its checkpoint (RUN_START first) goes right after the last
 * valid record of the newest segment when that leaves room for it and a
 * quarter segment of data, else at the start of a new segment
 * (docs/ring-format.md, "Runs"). An older file's superblock is upgraded
 * to UEV_RING_VERSION first (one write + fsync). The only call that does I/O
 * before take(): that upgrade, and with direct I/O reading back the
 * newest segment's last block.
 */
int uev_ring_writer_begin_run(struct uev_ring_writer *w, const struct uev_ring_run_info *info);
/*
 * The same with the run id given (a copy of another file's run, such as an
 * incident bundle, keeps its ids, which readers show): -EINVAL unless
 * @run_id is above every run id the file holds, as a new run's must be.
 */
int uev_ring_writer_begin_run_as(struct uev_ring_writer *w, const struct uev_ring_run_info *info,
				 uint64_t run_id);

/*
 * Metadata: recorded now (before any later PAGE) and repeated in the
 * checkpoint at the start of every following segment of this run. A FORMAT
 * for an id already known with the same text is not written again.
 */
int uev_ring_writer_format(struct uev_ring_writer *w, enum uev_ring_format_kind kind, uint32_t id,
			   const char *system, const char *name, const char *text);
int uev_ring_writer_announce(struct uev_ring_writer *w, uint32_t event_id, const char *def);
/*
 * Names. comm() names @pid (or renames it) for the page about to be
 * taken; comm_use() says that page uses @pid under the name it has, or
 * -ENOENT when the writer does not remember it (it keeps the 4096 pids
 * used most recently): name it again. Every pid a page refers to must be
 * one or the other before the page is taken: a segment names only the
 * pids its own pages use, so a pid named once and never used again is
 * not carried into later segments.
 */
int uev_ring_writer_comm(struct uev_ring_writer *w, int32_t pid, const char *comm);
int uev_ring_writer_comm_use(struct uev_ring_writer *w, int32_t pid);
/*
 * The description of the incident a bundle holds (an INCIDENT record):
 * recorded now and repeated in every later checkpoint of this run, like a
 * FORMAT; a second call replaces it. -EINVAL for a string missing, -E2BIG.
 */
struct uev_ring_incident {
	uint64_t run_id;     /* the run whose trace clock the times below are in */
	uint64_t trigger_ns; /* when it was triggered (trace clock) */
	uint64_t from_ns, to_ns; /* the window (trace clock), both ends included */
	uint64_t trigger_realtime_ns; /* the trigger on CLOCK_REALTIME, 0 unknown */
	uint64_t created_realtime_ns; /* when the bundle was written */
	/* Not 0: the source ring had overwritten the window's start before it
	 * was copied; its oldest data of the window was of this time. */
	uint64_t overwritten_to_ns;
	/* Records of the source that were overwritten between two copies,
	 * and problems (damage) met reading the source. */
	uint64_t lost_records, problems;
	const char *reason;  /* e.g. "error_report", "snapshot" */
	const char *trigger; /* what triggered it, e.g. the event's name */
};
int uev_ring_writer_incident(struct uev_ring_writer *w, const struct uev_ring_incident *inc);
/* A SYNC seals the open units first: the pages taken before it come
 * before it in the file (-ENOBUFS as for a unit). */
int uev_ring_writer_sync(struct uev_ring_writer *w, const struct uev_ring_sync *s);

/* Data. @cpu is at most UEV_RING_CPU_MAX, else -EINVAL. With compression
 * a page goes into its CPU's open unit, which may seal the one before
 * (-ENOBUFS as for a PAGE then, with nothing taken). */
int uev_ring_writer_page(struct uev_ring_writer *w, unsigned cpu, const void *page, size_t len);
int uev_ring_writer_lost(struct uev_ring_writer *w, unsigned cpu, uint64_t count);
/*
 * @n PAGEs of @cpu (1 to UEV_RING_UNIT_PAGES_MAX, at most
 * UEV_RING_UNIT_RAW_MAX bytes together with their entry headers) as one
 * UNIT record, compressed with zstd at @level (1 to ZSTD_maxCLevel(), 22
 * with libzstd 1.5), or stored as they are when that does not make them
 * smaller. Readers hand the pages
 * out in order, as if each were its own PAGE record. -E2BIG when the
 * unit would not fit a segment, -EINVAL for bad arguments, -ENOBUFS as
 * for a PAGE.
 */
struct uev_ring_page_in {
	const void *data;
	size_t len;
};
int uev_ring_writer_unit(struct uev_ring_writer *w, unsigned cpu, const struct uev_ring_page_in *pages,
			 unsigned n, int level);
/* A LOST record (when @lost; @count 0 = unknown) and the PAGE it precedes,
 * both or neither: after -ENOBUFS nothing was appended. */
int uev_ring_writer_page_lost(struct uev_ring_writer *w, unsigned cpu, const void *page, size_t len,
			      int lost, uint64_t count);
/*
 * Seal every open unit now (a flush interval ended: what was read is to
 * be in the file). 0, or -ENOBUFS when the writer must write first: the
 * units not sealed yet stay open, as safe as before.
 */
int uev_ring_writer_seal(struct uev_ring_writer *w);

/*
 * Getting records to disk. Appended records sit in memory until written.
 * take() hands out byte ranges in file order. Their memory stays valid and
 * unchanged until done() is called for them, so the caller can submit them
 * to io_uring. done() with @result < 0 or short makes them pending again.
 * flush() does take + pwrite + done synchronously.
 *
 * With direct I/O (uev_ring_writer_direct()), ranges are whole 4 KiB
 * blocks: the last block of a range may extend past the last record, and
 * those bytes (zero when handed out) change as records are appended; the
 * next range starts with that block again. A segment then has at most one
 * range out, so take() holds back the segment's new bytes until done();
 * and flush() writes everything only when no range is out (with ranges
 * out, the appenders' -ENOBUFS may persist until they are done).
 *
 * In either mode, the first range of a segment that a run continued
 * (begin_run) runs to the segment end, zeros past the last record, and
 * until it is done no other range of that segment is handed out.
 */
struct uev_ring_extent {
	const void *buf;
	uint64_t offset;
	uint32_t len;
	uint32_t cookie; /* the writer's */
};
unsigned uev_ring_writer_take(struct uev_ring_writer *w, struct uev_ring_extent *ext, unsigned max);
void uev_ring_writer_done(struct uev_ring_writer *w, const struct uev_ring_extent *ext, long result);
int uev_ring_writer_flush(struct uev_ring_writer *w);
/*
 * Whether a write should be started now: some bytes failed and wait to be
 * written again, a finished segment has bytes no write was started for, or
 * the open segment has at least @batch such bytes. Lets the caller write in
 * large pieces (each write has a fixed cost) without ever holding the
 * writer's memory bound (MAX_SEGS unwritten segments) against it.
 */
int uev_ring_writer_due(const struct uev_ring_writer *w, uint64_t batch);
/* Bytes appended but not yet written (done). */
uint64_t uev_ring_writer_backlog(const struct uev_ring_writer *w);
/* The descriptor to write the ranges with (O_DIRECT in direct mode). */
int uev_ring_writer_fd(const struct uev_ring_writer *w);
/* The current run's id (0 before uev_ring_writer_begin_run), and the
 * file's superblock (its uuid names the file). */
uint64_t uev_ring_writer_run_id(const struct uev_ring_writer *w);
const struct uev_ring_super *uev_ring_writer_super(const struct uev_ring_writer *w);
/* 1 when the file is written with O_DIRECT (asked for, and the file system
 * took it), 0 when through the page cache. */
int uev_ring_writer_direct(const struct uev_ring_writer *w);

/* RUN_END (with these counters), flush, fdatasync, close. */
struct uev_ring_counters {
	uint64_t pages, bytes, lost;
};
int uev_ring_writer_close(struct uev_ring_writer *w, const struct uev_ring_counters *end);

/* ---- reader ---------------------------------------------------------- */

struct uev_ring_reader;

/*
 * A problem met while reading, reported and skipped: never fatal. Most are
 * damage: bytes that are not what the writer wrote, or records missing.
 * One is what every writer that is killed or crashes leaves behind, and so
 * is expected after a crash loop: the segment where a run stopped without
 * RUN_END ends in a partly written record, with no record of that segment
 * after it (UEV_RING_TORN_END, counted in uev_ring_stats.torn_end).
 */
enum uev_ring_report_kind {
	UEV_RING_DAMAGE = 0,
	UEV_RING_TORN_END = 1,
};
typedef void (*uev_ring_report_fn)(void *ctx, enum uev_ring_report_kind kind, uint64_t offset,
				   const char *msg);

struct uev_ring_rec {
	enum uev_ring_type type;
	uint16_t cpu;
	uint32_t len;
	uint64_t seq;
	uint64_t segment_seq;
	uint64_t run_id;       /* its run: of the last RUN_START before it in its
				* segment, else of the segment header */
	uint64_t offset;       /* of the record header in the file */
	const void *payload;   /* valid until the next call */
	/* A PAGE the reader took out of a UNIT record: its index there (seq
	 * and offset are the unit's: (seq, sub) grows as seq alone does
	 * for other records), and the unit's page count; 0, 0 for a record
	 * read as it is in the file. */
	uint32_t sub, unit_pages;
};

struct uev_ring_stats {
	uint32_t segments_valid, segments_damaged, segments_empty;
	uint64_t records, pages, page_bytes;
	uint64_t torn;          /* segments whose tail was torn or corrupt */
	uint64_t torn_end;      /* of those, the torn ends of runs (UEV_RING_TORN_END) */
	uint64_t lost_kernel;   /* sum of LOST counts (0-count LOST: +1 in lost_unknown) */
	uint64_t lost_unknown;
	uint64_t seq_first, seq_last;
	uint64_t seq_gaps;      /* records missing between surviving segments */
	uint64_t wraps;         /* times the writer came round: max segment_seq / N */
	uint64_t bytes_used;
	uint64_t units, unit_bytes; /* UNIT records read, their payload bytes (compressed) */
	uint64_t unit_pages, unit_page_bytes; /* of pages (page_bytes), those unpacked from units */
	uint64_t units_bad;         /* valid records whose unit did not unpack: pages lost */
};

/* Open for reading: -EINVAL/-ENOENT/... with the reason in @err (not a
 * ring file, unsupported version, size mismatch). Memory use is a fixed
 * window (128 KiB, more only for a longer record) and one unpacked unit
 * (at most UEV_RING_UNIT_RAW_MAX), whatever the file size. */
int uev_ring_reader_open(struct uev_ring_reader **out, const char *path,
			 uev_ring_report_fn report, void *ctx, char *err, size_t errsize);
const struct uev_ring_super *uev_ring_reader_super(const struct uev_ring_reader *r);
/*
 * Next valid record, oldest first: 1, 0 at the end, -errno when the file
 * cannot be read: an I/O error, or -EIO for a file that shrank below its
 * ring's size while being read (a short read is never taken for the end).
 * Then uev_ring_reader_error() says what and where.
 */
int uev_ring_reader_next(struct uev_ring_reader *r, struct uev_ring_rec *rec);
/* The last read that failed, as "at offset N: what", or "" when none did. */
const char *uev_ring_reader_error(const struct uev_ring_reader *r);
/*
 * Following a file that an aggregator is writing: after follow(), next()
 * returning 0 means "nothing more yet" and the reader stays where it is;
 * refresh() looks for segments the writer started since (returns how many,
 * or -errno), after which next() goes on. A record that stays invalid in a
 * segment a newer one follows is reported as torn after a few refreshes.
 */
void uev_ring_reader_follow(struct uev_ring_reader *r);
int uev_ring_reader_refresh(struct uev_ring_reader *r); /* errors as next() */
/* Counters so far (complete after next() returned 0). */
const struct uev_ring_stats *uev_ring_reader_stats(const struct uev_ring_reader *r);
void uev_ring_reader_close(struct uev_ring_reader *r);

/* ---- record payloads ------------------------------------------------- */

/*
 * One decoder per record type, the only place a reader looks inside a
 * payload (docs/ring-format.md, "Record types"). Each takes a record as
 * uev_ring_reader_next() returned it (or any type, len and payload a caller
 * fills in) and checks the whole payload against its type's layout: the
 * type, the length, the NUL inside every text field, and the ranges of
 * fields that have one. It returns 0 with *out filled, or -EINVAL with *out
 * zeroed for a record of another type or a malformed payload. Pointers in
 * *out point into rec->payload and live as long as it does.
 *
 * Integers are little-endian in the file, as every integer the ring module
 * writes; the decoders return them in this machine's order. PAGE payloads
 * are the kernel's bytes and are not looked into here (decode/ does that,
 * in the layout of the run's RUN_START).
 */

/* RUN_START: 267 bytes at least (version 1; the flush interval is 0 then),
 * 271 (version 2), 273 or 274 (with compression), 282 (a recovered run:
 * recovered_from); longer payloads are accepted and the rest ignored. Every text field ends in a NUL. A payload without byte_order
 * and long_size reads as little-endian, 8 (those writers ran on x86-64
 * only); the two are returned as found, for uev_ring_layout_check(). */
struct uev_ring_run_start_rec {
	uint64_t run_id;
	struct uev_ring_run_info info;
};
int uev_ring_rec_run_start(const struct uev_ring_rec *rec, struct uev_ring_run_start_rec *out);

/* SYNC: exactly 32 bytes. */
int uev_ring_rec_sync(const struct uev_ring_rec *rec, struct uev_ring_sync *out);

/* FORMAT: kind 0 to 2, the event id, then system, name and text, each
 * NUL-terminated, the text's NUL the payload's last byte. */
struct uev_ring_format_rec {
	enum uev_ring_format_kind kind;
	uint32_t id;
	const char *system, *name, *text;
};
int uev_ring_rec_format(const struct uev_ring_rec *rec, struct uev_ring_format_rec *out);

/* ANNOUNCE: the marker event id, then a definition of at least one
 * character whose NUL is the payload's last byte. */
struct uev_ring_announce_rec {
	uint32_t id;
	const char *def;
};
int uev_ring_rec_announce(const struct uev_ring_rec *rec, struct uev_ring_announce_rec *out);

/* COMM: whole {pid, comm[16]} entries (none is valid: a checkpoint of a
 * run that saw no process yet), each name NUL-terminated. Entry @i (below
 * count) is read with uev_ring_comm_entry(). */
struct uev_ring_comm_rec {
	uint32_t count;
	const uint8_t *entries;
};
int uev_ring_rec_comm(const struct uev_ring_rec *rec, struct uev_ring_comm_rec *out);
void uev_ring_comm_entry(const struct uev_ring_comm_rec *c, uint32_t i, int32_t *pid, char comm[16]);

/* PAGE: a CPU up to UEV_RING_CPU_MAX and at least the smallest sub-buffer
 * header (UEV_RING_PAGE_MIN: a u64 timestamp and a 4-byte commit word). */
#define UEV_RING_PAGE_MIN 12u
struct uev_ring_page_rec {
	uint16_t cpu;
	uint32_t len;
	const void *data;
};
int uev_ring_rec_page(const struct uev_ring_rec *rec, struct uev_ring_page_rec *out);

/*
 * UNIT: a CPU up to UEV_RING_CPU_MAX, a 16-byte header (codec: 0 stored,
 * 1 zstd, 2 zstd of the split form; pages 1 to UEV_RING_UNIT_PAGES_MAX; raw_len up to
 * UEV_RING_UNIT_RAW_MAX; raw_crc, the CRC-32C of the unpacked bytes;
 * run_lo, the low 32 bits of the run it was written in), then the packed
 * bytes. uev_ring_unit_unpack() gives the pages.
 */
#define UEV_RING_UNIT_HDR 16u
#define UEV_RING_UNIT_RAW_MAX (1u << 20)
#define UEV_RING_UNIT_PAGES_MAX 4096u
enum uev_ring_codec { UEV_RING_CODEC_STORED = 0, UEV_RING_CODEC_ZSTD = 1, UEV_RING_CODEC_ZSTD_SPLIT = 2 };
struct uev_ring_unit_rec {
	uint16_t cpu;
	enum uev_ring_codec codec;
	uint32_t pages, raw_len, raw_crc, run_lo;
	const uint8_t *data; /* packed */
	uint32_t data_len;
};
int uev_ring_rec_unit(const struct uev_ring_rec *rec, struct uev_ring_unit_rec *out);
/*
 * Unpack @u into @b (its buffer grown as needed) and check it: the
 * unpacked length and CRC, and entries that are whole pages of at least
 * UEV_RING_PAGE_MIN bytes, as many as the header says. 0, or -EINVAL with
 * *why set (-ENOMEM). The pages are then read with uev_ring_unit_page()
 * from b->data, in order. @b starts zeroed, is reused from unit to unit
 * (it keeps the decompression context too) and is released with
 * uev_ring_unit_buf_free().
 */
struct uev_ring_unit_buf {
	uint8_t *data;
	size_t cap;
	void *zctx;
	uint8_t *split; /* codec 2: the split form, before unsplit */
	size_t split_cap;
};
int uev_ring_unit_unpack(const struct uev_ring_unit_rec *u, struct uev_ring_unit_buf *b, const char **why);
void uev_ring_unit_buf_free(struct uev_ring_unit_buf *b);
/* The page at *cursor of an unpacked unit, and the cursor moved past it. */
const uint8_t *uev_ring_unit_page(const uint8_t *buf, size_t *cursor, uint32_t *len);

/* LOST: a CPU up to UEV_RING_CPU_MAX, exactly 8 bytes: the count (0: lost,
 * count unknown). */
struct uev_ring_lost_rec {
	uint16_t cpu;
	uint64_t count;
};
int uev_ring_rec_lost(const struct uev_ring_rec *rec, struct uev_ring_lost_rec *out);

/* INCIDENT: at least UEV_RING_INCIDENT_MIN bytes: the nine u64 of struct
 * uev_ring_incident in its order, then reason and trigger, each
 * NUL-terminated, the trigger's NUL the payload's last byte. */
#define UEV_RING_INCIDENT_MIN 74u
int uev_ring_rec_incident(const struct uev_ring_rec *rec, struct uev_ring_incident *out);

/* RUN_END: exactly 32 bytes. */
struct uev_ring_run_end_rec {
	uint64_t end_realtime_ns;
	struct uev_ring_counters counters;
};
int uev_ring_rec_run_end(const struct uev_ring_rec *rec, struct uev_ring_run_end_rec *out);

/* CRC-32C (Castagnoli), as the format uses it. */
uint32_t uev_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
