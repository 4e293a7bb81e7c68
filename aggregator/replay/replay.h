/* SPDX-License-Identifier: MIT */
/*
 * uev-replay's internals: ring files in, one merged and decoded stream of
 * events out.
 *
 * Every CPU of every file is a stream (replay-stream.c) with its own ring
 * reader, so a stream yields that CPU's events in the kernel's per-CPU order
 * with constant memory, and the merge (uev-replay.c) is a heap over the
 * streams' head events. A first pass over each file (prescan) learns what
 * every stream needs before the merge starts: the marker announcements
 * (content-addressed, so valid in any run and any file), the CPUs, the runs
 * and their clock offsets, and the numbers for the header.
 */
#ifndef UEV_REPLAY_H
#define UEV_REPLAY_H

#include <stdint.h>
#include <stdio.h>

#include "uev-decode.h"
#include "ringfile.h"

struct tep_handle;

/* One aggregator run as its RUN_START record describes it. */
struct rp_run {
	uint64_t run_id;
	char boot_id[37], kernel_release[65], seat[64], trace_clock[16], host[65];
	uint64_t start_realtime_ns;
	uint32_t flush_interval_ms; /* 0: not recorded (before ring version 2) */
	/* Its pages' layout (enum uev_ring_byte_order, long size): the
	 * recording machine's, decoded as such on any machine. */
	uint8_t byte_order, long_size;
	uint8_t compression; /* zstd level of its units, 0: PAGE records */
	/* Not 0: its pages are what a boot's persistent ring kept in kernel
	 * memory across a warm reboot, the end of that run's boot. */
	uint64_t recovered_from;
	uint64_t first_ts, last_ts; /* first page's start, newest event (0: no pages) */
	int ended;                  /* its RUN_END was read: it stopped cleanly */
	uint64_t sync_trace, sync_real; /* the run's first SYNC (prescan) */
	int have_sync;
};

/*
 * A clock group: runs on one boot with one trace clock share a timeline, so
 * their events are ordered by the trace timestamp itself, and one offset
 * (CLOCK_REALTIME - trace clock, from the first SYNC seen) puts them all on
 * the wall clock, where groups of different boots are merged.
 */
struct rp_clock {
	char boot_id[37], trace_clock[16];
	int64_t offset;
};

struct rp_file {
	const char *path;
	struct uev_ring_super sb;
	struct uev_ring_stats st;
	uint64_t events; /* in its pages (prescan), for the header */
	struct rp_run *runs;
	unsigned nruns;
	size_t capruns;
	unsigned *cpu;     /* [ncpu]: the CPUs it has pages of, ascending */
	unsigned ncpu;
	int usable;
	int failed;        /* a read of it failed part way: reported (once) */
	/* Runs that stopped without RUN_END (killed, crashed, or still being
	 * written), and the first few offsets of their torn tails. */
	unsigned unclean;
	uint64_t torn_off[3];
	unsigned ntorn_off;
	/* An incident bundle's description (its INCIDENT record), strings copied. */
	int have_incident;
	struct uev_ring_incident incident;
	char incident_reason[256], incident_trigger[256];
};

struct rp_ann {
	uint32_t id;
	char *def;
};

/* Shared by every stream. */
struct rp_ctx {
	struct rp_clock *clocks;
	unsigned nclocks;
	size_t capclocks;
	struct rp_ann *ann;
	size_t nann, capann;
	uint64_t *said;     /* FNV-1a of the problems rp_report_once() reported */
	size_t nsaid, capsaid;
	uint64_t problems;  /* damage reported */
	uint64_t torn_ends; /* torn tails of runs that stopped uncleanly */
	uint64_t io_errors; /* files whose reading failed part way */
	int quiet;          /* no problem reports on stderr */
	int verbose;        /* a line for each torn tail too (else summed up) */
};

/* Report a problem of @path at @off (stderr, counted). */
void rp_report(struct rp_ctx *c, const char *path, uint64_t off, const char *msg);
/* The same, once for a problem every stream of the file meets (a format
 * that does not parse): keyed by @path, @msg and @what it is about. */
void rp_report_once(struct rp_ctx *c, const char *path, uint64_t off, const char *msg, const char *what);
/* The torn tail where a run of @f stopped without a clean end (what a kill
 * leaves): counted and its offset kept for the header; a line on stderr
 * only when verbose. */
void rp_report_torn_end(struct rp_ctx *c, struct rp_file *f, uint64_t off, const char *msg);
/* A read of @f that failed part way (I/O error, file shrank): reported once
 * per file with @what, and the file marked failed; returns @err. */
int rp_read_failed(struct rp_ctx *c, struct rp_file *f, int err, const char *what);

/* Learn an announcement (id, "name fields") for every stream: 0 or -ENOMEM. */
int rp_ann_add(struct rp_ctx *c, uint32_t id, const char *def);

/* RUN_START payload into @run: 0, or -EBADMSG if too short (then its
 * layout is taken as the oldest writers': little-endian, 8-byte long). */
int rp_run_parse(struct rp_run *run, const struct uev_ring_rec *rec);

/* First pass over a file: fills @f. -errno with @err when it cannot be
 * opened as a ring file, or a run's pages are of a layout no decoder reads
 * (-ENOTSUP, uev_ring_layout_check; then f->usable = 0). A read that fails part way
 * is reported (rp_read_failed), and what came before it is used. */
int rp_prescan(struct rp_ctx *c, struct rp_file *f, char *err, size_t errsize);
void rp_file_free(struct rp_file *f);
/* The offset of a clock group, created from @sync_offset if new. */
int64_t rp_clock_offset(struct rp_ctx *c, const char *boot_id, const char *trace_clock,
			int64_t sync_offset, int *known);

/*
 * pid -> comm: a fixed-size open-addressing table (replay-comm.c). It
 * forgets everything when three quarters full; the names come back with the
 * next checkpoint's COMM record, so memory stays fixed on any file.
 */
struct rp_comm_slot;
struct rp_comm {
	struct rp_comm_slot *slot;
	unsigned n;
};
int rp_comm_init(struct rp_comm *t);
void rp_comm_free(struct rp_comm *t);
void rp_comm_clear(struct rp_comm *t);
void rp_comm_put(struct rp_comm *t, int32_t pid, const char *comm);
/* The name, or NULL when unknown. */
const char *rp_comm_find(const struct rp_comm *t, int32_t pid);
/* The name, "<idle>" for pid 0, "<...>" when unknown. */
const char *rp_comm_get(const struct rp_comm *t, int32_t pid);

/* The head event of a stream. */
struct rp_event {
	int64_t key;             /* merge order: ns on the common timeline */
	int64_t wall;            /* CLOCK_REALTIME ns from the latest sync point */
	int have_wall;
	struct uev_rec r;        /* r.record = &rec */
	struct tep_record *rec;
	const struct rp_run *run;
	const char *comm;        /* "<...>" when unknown */
	long long lost;          /* >0 lost before this event, -1 lost (count unknown) */
	const struct rp_file *file; /* the file it is read from */
	/* How many events of its stream (its file's CPU) in the same run came
	 * before it with the same trace time: with run, CPU and time it names
	 * the event exactly (rp_cursor). */
	uint32_t index;
};

/* An event's wall time as shown: from its run's latest sync point, or its
 * merge key when none is known. --since/--until and the span go by it:
 * the merge key of a boot keeps one offset, and the wall clock may have
 * been stepped since (NTP, a virtual machine restored). */
static inline int64_t rp_event_when(const struct rp_event *e)
{
	return e->have_wall ? e->wall : e->key;
}

struct rp_stream;

/* A stream of CPU @cpu of @f: 0, or -errno with "path: why" in @err. */
int rp_stream_open(struct rp_stream **out, struct rp_ctx *c, struct rp_file *f, unsigned cpu,
		   int follow, char *err, size_t errsize);
void rp_stream_close(struct rp_stream *s);
/* Load the next event into the stream's head: 1, 0 at the end (or, when
 * following, nothing new yet), -ENOMEM. The previous head becomes invalid.
 * A read of the file that fails is reported (rp_read_failed) and ends the
 * stream: 0 from then on, and rp_stream_dead(). */
int rp_stream_next(struct rp_stream *s);
int rp_stream_dead(const struct rp_stream *s);
struct rp_event *rp_stream_head(struct rp_stream *s);
/*
 * A marker record of the head whose announcement this stream has not seen
 * may have been announced on another CPU, in a page another stream has
 * read since (always so when following a file whose announcements came
 * after the first pass). Called by the merge just before the head is
 * shown; resolves it through the announcements all streams learnt.
 */
void rp_stream_resolve(struct rp_stream *s);
/* Following: look again for new segments. 0, or -ENOMEM; a read that
 * fails ends the stream as in rp_stream_next(). */
int rp_stream_refresh(struct rp_stream *s);
const struct rp_file *rp_stream_file(const struct rp_stream *s);

struct rp_event;
/* Names a kernel event gives as it happens (fork, rename, new task). */
void rp_comm_learn(struct rp_comm *t, const struct rp_event *e);

/*
 * Task names of events met in time order, across runs: what the kernel's
 * events said (rp_comm_learn) wins over the file's COMM table, and a new
 * boot forgets (pids are per boot). uev-upload's; uev-replay's rp_show()
 * does the same with its own fields.
 */
struct rp_namer {
	struct rp_comm comm;
	char boot[37];
	const struct rp_run *run; /* of the last event: its boot is @boot */
};
int rp_namer_init(struct rp_namer *n);
void rp_namer_free(struct rp_namer *n);
/* Learn from @e and set e->comm to the best name known. */
void rp_namer_name(struct rp_namer *n, struct rp_event *e);

/* ---- output (replay-out.c, replay-perfetto.c) ---------------------- */

struct trace_seq;

enum rp_time { RP_TIME_WALL, RP_TIME_BOOT, RP_TIME_RELATIVE };

/*
 * Output is built in memory a line at a time and written with one fwrite:
 * at hundreds of thousands of events a second, printf's format parsing and
 * stdio's per-call locking were most of uev-replay's time (bench/replay).
 */
struct rp_buf {
	char *s;
	size_t len, cap;
	int oom;        /* an append failed: the line is incomplete */
};
void rp_buf_put(struct rp_buf *b, const char *s, size_t n);
void rp_buf_puts(struct rp_buf *b, const char *s);
void rp_buf_u64(struct rp_buf *b, uint64_t v);
void rp_buf_i64(struct rp_buf *b, int64_t v);
void rp_buf_free(struct rp_buf *b);

struct rp_out {
	FILE *fp;
	enum rp_time time;
	int utc;
	int64_t rel_base;     /* key of the first event shown (relative time) */
	int have_rel_base;
	struct rp_buf line;
	int64_t wall_sec;     /* the second whose date text is wall_text */
	char wall_text[32];
};

/* Append "field=value ..." of @e (the kernel's print format for kernel
 * events, through @seq). */
void rp_fields_text(struct rp_buf *b, const struct rp_event *e, struct trace_seq *seq);
/* "name: fields", the event's text (what --grep matches, the journal's
 * MESSAGE), into @t from its start. */
void rp_event_text(struct rp_buf *t, const struct rp_event *e, struct trace_seq *seq);
/* A trace_seq for rp_event_text, for callers that include no libtraceevent
 * header: NULL when out of memory. */
struct trace_seq *rp_seq_new(void);
void rp_seq_free(struct trace_seq *seq);
/* Write the text line for @e, whose "name: fields" part is @nf (@n bytes),
 * preceded by a loss line when events were lost before it. */
void rp_out_text(struct rp_out *o, const struct rp_event *e, const char *nf, size_t n);
/* Write one JSON object (one line) for @e. */
void rp_out_json(struct rp_out *o, const struct rp_event *e);
/* JSON helpers, shared with the Perfetto writer. */
void rp_json_string(struct rp_buf *b, const char *s, size_t n);
/* The event's fields as a JSON object's members (no braces), typed;
 * @first 0 when members were written before. */
void rp_json_fields(struct rp_buf *b, const struct rp_event *e, int first);
/* The event's name and system ("user" for user events). */
const char *rp_event_system(const struct rp_event *e);
/* "2026-11-22 02:10:00.123456" local (or UTC) time of @ns. */
void rp_format_wall(char *buf, size_t size, int64_t ns, int utc);

struct rp_perfetto;
int rp_perfetto_open(struct rp_perfetto **out, const char *path);
void rp_perfetto_event(struct rp_perfetto *p, const struct rp_event *e);
/* Writes the track names and closes: 0 or -errno (a write failed). */
int rp_perfetto_close(struct rp_perfetto *p);

/* ---- systemd Journal Export Format (replay-journal.c) -------------- */

/* journald's longest field name. */
#define RP_JOURNAL_NAME_MAX 64

/*
 * Where an event is, stably: the file's uuid, its run, CPU and trace time,
 * and the events before it at that same time on that CPU (rp_event.index);
 * the merge key orders events of different runs. Written as the entry's
 * __CURSOR ("uev1;f=UUID;r=RUN;c=CPU;t=NS;i=N;k=KEY") and kept by
 * uev-upload to resume after it.
 */
struct rp_cursor {
	uint8_t uuid[16];
	uint64_t run, ts;
	int32_t cpu;
	uint32_t index;
	int64_t key;
};
void rp_cursor_of(struct rp_cursor *c, const struct rp_event *e);
/* The text form into @buf (RP_CURSOR_TEXT bytes are always enough). */
#define RP_CURSOR_TEXT 160
void rp_cursor_format(char *buf, size_t size, const struct rp_cursor *c);
/* The text form back: 0, or -EINVAL when @s is not one. */
int rp_cursor_parse(struct rp_cursor *c, const char *s);
/* <0, 0, >0 as @a comes before, is, or comes after @b in the merge order
 * of one file's events (by trace time in a run, else by merge key; ties by
 * CPU, then index). */
int rp_cursor_cmp(const struct rp_cursor *a, const struct rp_cursor *b);

/* Scratch space of the journal writer, reused from entry to entry. */
struct rp_journal {
	struct rp_buf json, name, value;
};
/*
 * Append the export-format entry of @e to @out: the journal's own fields,
 * uev's UEV_* fields and every typed field as UEV_<NAME> (as --json has
 * them), MESSAGE= the event's text @text (@n bytes: "name: fields" as the
 * text output prints it), ending with the empty line. Values that are not
 * printable UTF-8 on one line take the binary form. @out->oom is set when
 * an allocation failed (the entry is then not whole).
 */
void rp_journal_entry(struct rp_journal *j, struct rp_buf *out, const struct rp_event *e, const char *text,
		      size_t n);
/* Write the entry of @e to @o's stream (uev-replay --export=journal):
 * 0, or -ENOMEM (nothing written). */
int rp_out_journal(struct rp_out *o, struct rp_journal *j, const struct rp_event *e, const char *text, size_t n);
void rp_journal_free(struct rp_journal *j);

#endif
