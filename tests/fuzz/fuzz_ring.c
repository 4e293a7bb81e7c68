/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: a whole ring file through the reader
 * (uev_ring_reader_open/next, every record) and through the decoder
 * (uev_ring_decode, every decoded record printed). Neither may crash, hang
 * or leak on any input (docs/ring-format.md, "Reader recovery rules").
 *
 * Input encoding
 * --------------
 * A real ring file is at least 260 KiB (superblock + 4 segments of 64 KiB,
 * the smallest the reader accepts), mostly zeros, and guarded by CRCs at
 * three levels. Fed raw, nearly every mutation would land in zeros or break
 * a CRC, and the fuzzer would never get past the first check. So the input
 * describes a file that the harness expands:
 *
 *     input   = chunk0 [SEP chunk1 [SEP chunk2 ...]]      SEP = FUZZ_SEP below
 *     chunk0  = ctl (1 byte) + superblock bytes (at most 4096; the rest is zero)
 *     chunk k = segment k-1: piece [AT piece ...]          AT = FUZZ_AT below
 *     piece   = bytes placed at the segment start (the first piece), or
 *               u32 offset (modulo the segment size) + bytes placed there;
 *               the rest of the segment is zero
 *
 *     input   = ... [LATER update]                          LATER = FUZZ_LATER
 *     update  = [SEP] uchunk [SEP uchunk ...]
 *     uchunk  = segment index (1 byte, modulo N) + pieces, as a chunk k
 *
 * Without LATER the file is read once. With it, the reader follows the
 * file as it would an aggregator's (uev_ring_reader_follow): it reads to
 * the end, the harness then writes the update's segments over the file
 * (with the same fixes), and the reader is refreshed and read to the end
 * a few times (uev_ring_reader_refresh), as a live reader polls. The
 * decoder then reads the final file.
 *
 * Pieces let a small input reach deep into a big segment: the reader reads
 * a segment through a 128 KiB window, and a record that straddles a window
 * boundary needs bytes at 128 KiB (a record before it, with a long zero
 * payload whose CRC the harness computes, bridges the gap).
 *
 * ctl says which consistency the harness restores after the fuzzer's
 * mutations (each bit off = those bytes reach the reader exactly as given):
 *
 *   0x01 GEOMETRY   superblock magic, version, header_size, segment_size,
 *                   segment_count and file_size are set to a geometry the
 *                   reader accepts: S = 64 KiB (256 KiB with 0x20), N = the
 *                   number of segment chunks (at least 4) + (ctl >> 6).
 *                   Off: the file is laid out by the superblock's own
 *                   (possibly absurd) fields, see layout().
 *   0x02 SUPER_CRC  the superblock CRC is recomputed.
 *   0x04 SEG_CRC    every segment header that is not all zero gets its CRC.
 *   0x08 REC_CRC    records are walked from offset 64 by their length fields
 *                   while their headers lie in what the pieces wrote (not
 *                   past an all-zero header)
 *                   and each gets its CRC, so a mutated payload still reaches
 *                   the decoder.
 *   0x10 REC_SEQ    during that walk, segment_lo and seq are also set to
 *                   what the reader expects (the segment's segment_seq,
 *                   first_record_seq + k).
 *   0x20            S = 256 KiB instead of 64 KiB (with GEOMETRY): two
 *                   of the reader's windows.
 *   0xc0            extra all-zero segments (0-3, with GEOMETRY).
 *
 * make-corpus.sh writes real ring files in this form, with ctl 0x1f (every
 * fix: mutations reach the decoder) and ctl 0x00 (the file byte for byte:
 * mutations hit the reader's checks). With ctl 0 and a single chunk the
 * input is simply a superblock, which covers every refusal at open.
 *
 * The reader wants a real file (pread, fstat's st_size against file_size),
 * so the expanded file lives in one memfd, reused across runs and opened by
 * its /proc/self/fd path.
 *
 * FUZZ_RING_SAVE=PATH writes the expanded file of the last input to PATH,
 * e.g. to run uev-ringdump on a reproducer.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <event-parse.h>
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#include <trace-seq.h>

#include "format-vet.h"
#include "ring-common.h"
#include "uev-decode.h"
#include "ringfile.h"

#define FUZZ_SEP "--uev-fuzz-segment--"
#define FUZZ_AT "--uev-fuzz-at--"
#define FUZZ_LATER "--uev-fuzz-later--"

enum {
	CTL_GEOMETRY = 0x01,
	CTL_SUPER_CRC = 0x02,
	CTL_SEG_CRC = 0x04,
	CTL_REC_CRC = 0x08,
	CTL_REC_SEQ = 0x10,
	CTL_BIG_SEG = 0x20,
};

/* Bounds that keep one run fast and its memory small: the reader's
 * memory is one segment, but the harness writes the file each run. */
#define MAX_CHUNKS 16u
#define MAX_PIECES 16u
#define MAX_FILE (8ull << 20)

static int memfd = -1;
static char path[64];
static uint8_t *segbuf; /* one segment being built, UEV_RING_SEG_MAX bytes */
static size_t segdirty;  /* bytes of segbuf that may be non-zero */
static struct trace_seq tseq;
static int verbose; /* FUZZ_VERBOSE=1: print reports and records (to read a reproducer) */

struct chunk {
	const uint8_t *p;
	size_t len;
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * uev_ring_decode() parses each format text first in a forked child
 * (aggregator/decode/format-vet.c, once per distinct text: its cache), because
 * libtraceevent crashes on some: the child dying is the designed outcome
 * there, and the parent carries on.
 * But the child inherits libFuzzer's and the sanitizers' crash handlers,
 * which would report its death as a finding and write the input as a
 * "crash" artifact while the target itself is fine. So every child starts
 * with the default dispositions and no sanitizer death callback: it dies
 * quietly, the way it does outside the fuzzer.
 */
static void quiet_child(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGALRM };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	__sanitizer_set_death_callback(NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	pthread_atfork(NULL, NULL, quiet_child);
	memfd = memfd_create("uev-fuzz-ring", MFD_CLOEXEC);
	segbuf = calloc(1, UEV_RING_SEG_MAX);
	if (memfd < 0 || !segbuf) {
		perror("fuzz_ring: setup");
		abort();
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	verbose = getenv("FUZZ_VERBOSE") && strcmp(getenv("FUZZ_VERBOSE"), "0");
	trace_seq_init(&tseq);
	/* before libFuzzer loads the corpus: its forks stay cheap */
	if (uev_format_vet_start() < 0)
		perror("fuzz_ring: starting the format vetter");
	return 0;
}

static size_t split(const uint8_t *data, size_t size, const char *sep, struct chunk *c, size_t max)
{
	const size_t sl = strlen(sep);
	size_t n = 0;

	while (n < max) {
		const uint8_t *s = memmem(data, size, sep, sl);
		size_t l = s ? (size_t)(s - data) : size;

		c[n++] = (struct chunk){ data, l };
		if (!s)
			break;
		data += l + sl;
		size -= l + sl;
	}
	return n;
}

/* Where the segments go and how big the file is. */
struct layout {
	uint64_t file_size;
	uint32_t stride; /* distance between segment starts */
	uint32_t nseg;
};

static void layout(uint8_t *sb, uint8_t ctl, size_t nchunks, struct layout *l)
{
	uint32_t s, n;
	uint64_t fsz;

	if (ctl & CTL_GEOMETRY) {
		s = ctl & CTL_BIG_SEG ? 256u << 10 : UEV_RING_SEG_MIN;
		n = (uint32_t)(nchunks - 1 < UEV_RING_MIN_SEGMENTS ? UEV_RING_MIN_SEGMENTS : nchunks - 1);
		n += ctl >> 6;
		fsz = UEV_RING_SUPER_SIZE + (uint64_t)n * s;
		memcpy(sb, "UEVRING", 8);
		uev_put32(sb + 8, UEV_RING_VERSION);
		uev_put32(sb + 12, UEV_RING_SUPER_SIZE);
		uev_put64(sb + 16, fsz);
		uev_put32(sb + 24, s);
		uev_put32(sb + 28, n);
		*l = (struct layout){ fsz, s, n };
		return;
	}
	/* The superblock as the fuzzer left it. Segments are placed where the
	 * reader will look for them if its segment_size is usable at all, and
	 * the file gets the size it claims when that is not absurd, so that
	 * every geometry and size check can be reached both ways. */
	s = uev_get32(sb + 24);
	n = uev_get32(sb + 28);
	fsz = uev_get64(sb + 16);
	l->stride = s >= 4096 && s <= UEV_RING_SEG_MAX ? s : UEV_RING_SEG_MIN;
	l->nseg = (uint32_t)nchunks - 1;
	if (fsz >= UEV_RING_SUPER_SIZE && fsz <= MAX_FILE)
		l->file_size = fsz;
	else
		l->file_size = UEV_RING_SUPER_SIZE + (uint64_t)l->nseg * l->stride;
	(void)n;
}

/* The writer's side of the record rules, applied to a fuzzed segment so
 * that its records stay valid where ctl asks for it. */
static void fix_records(uint8_t *seg, size_t have, uint32_t S, uint8_t ctl)
{
	uint64_t sseq = uev_get64(seg + 8), rseq = uev_get64(seg + 16);
	uint32_t pos = UEV_RING_SEG_HDR;
	uint8_t zero[UEV_RING_REC_HDR] = { 0 };

	while (pos + UEV_RING_REC_HDR <= have && memcmp(seg + pos, zero, sizeof(zero))) {
		uint8_t *b = seg + pos;
		uint32_t len = uev_get32(b + 4);

		if (len > S - pos - UEV_RING_REC_HDR)
			break;
		if (ctl & CTL_REC_SEQ) {
			uev_put64(b + 8, rseq++);
			uev_put32(b + 16, (uint32_t)sseq);
		}
		if (ctl & CTL_REC_CRC)
			uev_put32(b + 20, uev_crc32c(uev_crc32c(0, b, 20), b + UEV_RING_REC_HDR, len));
		pos += (uint32_t)uev_ring_rec_size(len);
	}
}

/* The pieces of one segment chunk into segbuf (zero): the end of the
 * furthest one. */
static size_t place(const struct chunk *seg, uint32_t S)
{
	struct chunk piece[MAX_PIECES];
	size_t n = split(seg->p, seg->len, FUZZ_AT, piece, MAX_PIECES), end = 0;

	for (size_t k = 0; k < n; k++) {
		const uint8_t *b = piece[k].p;
		size_t len = piece[k].len;
		uint32_t at = 0;

		if (k > 0) {
			if (len < 4)
				continue;
			at = uev_get32(b) % S;
			b += 4;
			len -= 4;
		}
		if (len > S - at)
			len = S - at;
		memcpy(segbuf + at, b, len);
		end = at + len > end ? at + len : end;
	}
	return end;
}

/* What build_file() found, for the update that may follow. */
static struct layout cur_layout;
static uint8_t cur_ctl;

/* Segment @index of the file from a chunk of pieces, with ctl's fixes. */
static void write_segment(uint32_t index, const struct chunk *c)
{
	const struct layout *l = &cur_layout;
	uint64_t off = UEV_RING_SUPER_SIZE + (uint64_t)index * l->stride;
	size_t have, wr;

	if (off >= l->file_size)
		return;
	/* Only what the last chunk wrote is cleared: a 4 MiB memset per
	 * segment would dominate the run time. The record walk reads up to
	 * the segment end, so the rest must stay zero. */
	memset(segbuf, 0, segdirty);
	have = place(c, l->stride);
	segdirty = have > UEV_RING_SEG_HDR ? have : UEV_RING_SEG_HDR;
	if ((cur_ctl & CTL_SEG_CRC) && have > 0) {
		uev_put32(segbuf + 4, uev_crc32c(0, segbuf + 8, UEV_RING_SEG_HDR - 8));
		have = have < UEV_RING_SEG_HDR ? UEV_RING_SEG_HDR : have;
	}
	if (cur_ctl & (CTL_REC_CRC | CTL_REC_SEQ))
		fix_records(segbuf, have, l->stride, cur_ctl);
	wr = have < l->file_size - off ? have : (size_t)(l->file_size - off);
	if (wr && pwrite(memfd, segbuf, wr, (off_t)off) != (ssize_t)wr)
		abort();
}

static int build_file(const uint8_t *data, size_t size)
{
	struct chunk c[MAX_CHUNKS + 1];
	size_t n = split(data, size, FUZZ_SEP, c, MAX_CHUNKS + 1);
	uint8_t sb[UEV_RING_SUPER_SIZE] = { 0 };

	if (n == 0 || c[0].len == 0)
		return -1;
	cur_ctl = c[0].p[0];
	memcpy(sb, c[0].p + 1, c[0].len - 1 < sizeof(sb) ? c[0].len - 1 : sizeof(sb));
	layout(sb, cur_ctl, n, &cur_layout);
	if (cur_ctl & CTL_SUPER_CRC)
		uev_put32(sb + 124, uev_crc32c(0, sb, 124));

	/* ftruncate to 0 and back gives an all-zero file without writing it. */
	if (ftruncate(memfd, 0) < 0 || ftruncate(memfd, (off_t)cur_layout.file_size) < 0)
		abort();
	if (pwrite(memfd, sb, cur_layout.file_size < sizeof(sb) ? cur_layout.file_size : sizeof(sb),
		   0) < 0)
		abort();
	for (size_t k = 1; k < n; k++)
		write_segment((uint32_t)(k - 1), &c[k]);
	return 0;
}

/* The update after LATER: segments written over the file, as a writer
 * goes on (or a damaged one scribbles). */
static void update_file(const uint8_t *data, size_t size)
{
	struct chunk c[MAX_CHUNKS];
	size_t n = split(data, size, FUZZ_SEP, c, MAX_CHUNKS);
	uint32_t nseg = cur_layout.nseg ? cur_layout.nseg : 1;

	for (size_t k = 0; k < n; k++) {
		struct chunk rest = { c[k].p + 1, c[k].len - 1 };

		if (c[k].len)
			write_segment(c[k].p[0] % nseg, &rest);
	}
}

static void save(const char *to)
{
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	off_t off = 0;
	char buf[65536];
	ssize_t n;

	while (out >= 0 && (n = pread(memfd, buf, sizeof(buf), off)) > 0 && write(out, buf, (size_t)n) == n)
		off += n;
	if (out < 0 || close(out) < 0)
		perror(to);
}

/* ---- what the reader and the decoder hand out must be usable ----------- */

static uint64_t sink;

static void touch(const void *p, size_t len)
{
	/* The whole range must be addressable: ASan says so for all of it
	 * at once (a loop reading every byte, with its compare traced for
	 * the fuzzer at every step, took a tenth of the run time). */
	const void *bad = __asan_region_is_poisoned((void *)p, len);

	if (bad) {
		fprintf(stderr, "fuzz_ring: %zu bytes at %p handed out, byte %zu not addressable\n", len, p,
			(size_t)((const char *)bad - (const char *)p));
		abort();
	}
	if (len)
		sink += ((const uint8_t *)p)[0] + ((const uint8_t *)p)[len - 1];
}

static void report(void *ctx, enum uev_ring_report_kind kind, uint64_t offset, const char *msg)
{
	(void)ctx;
	sink += kind;
	sink += offset + strlen(msg);
	if (verbose)
		fprintf(stderr, "report @%llu: %s\n", (unsigned long long)offset, msg);
}

static void text(const char *s, size_t size)
{
	/* The run's text fields are documented as NUL-terminated strings. */
	if (strnlen(s, size) == size)
		abort();
	sink += strlen(s);
}

static int on_rec(void *ctx, const struct uev_ringdec_run *run, const struct uev_rec *r)
{
	(void)ctx;
	text(run->boot_id, sizeof(run->boot_id));
	text(run->kernel_release, sizeof(run->kernel_release));
	text(run->seat, sizeof(run->seat));
	text(run->trace_clock, sizeof(run->trace_clock));
	text(run->host, sizeof(run->host));
	if (r->name)
		sink += strlen(r->name);
	if (r->payload)
		touch(r->payload, r->len);
	trace_seq_reset(&tseq);
	uev_rec_print_fields(NULL, r, &tseq);
	trace_seq_terminate(&tseq);
	sink += strlen(tseq.buffer);
	if (verbose)
		fprintf(stderr, "run %llu cpu %d ts %llu %s: %s\n", (unsigned long long)run->run_id,
			r->cpu, r->ts, r->name ? r->name : "?", tseq.buffer);
	return 0;
}

/* Every record the reader returns, checked against its promises. */
struct reading {
	uint64_t last, fsz, n;
	int have;
};

static int next_all(struct uev_ring_reader *r, struct reading *g)
{
	struct uev_ring_rec rec;
	int ret;

	while ((ret = uev_ring_reader_next(r, &rec)) > 0) {
		/* The reader's promise that replay builds on, across
		 * refreshes too. */
		if (g->have && rec.seq <= g->last) {
			fprintf(stderr, "fuzz_ring: seq %llu returned after %llu\n",
				(unsigned long long)rec.seq, (unsigned long long)g->last);
			abort();
		}
		/* A record lies inside a segment, after the superblock. */
		if (rec.offset < UEV_RING_SUPER_SIZE + UEV_RING_SEG_HDR ||
		    rec.offset + UEV_RING_REC_HDR + rec.len > g->fsz) {
			fprintf(stderr, "fuzz_ring: record at %llu, %u bytes, in a file of %llu\n",
				(unsigned long long)rec.offset, rec.len, (unsigned long long)g->fsz);
			abort();
		}
		g->last = rec.seq;
		g->have = 1;
		g->n++;
		touch(rec.payload, rec.len);
		if (verbose)
			fprintf(stderr, "record seq %llu type %u len %u at %llu\n",
				(unsigned long long)rec.seq, rec.type, rec.len,
				(unsigned long long)rec.offset);
	}
	/* After the end (0), the counters cover every record returned. */
	if (ret == 0 && uev_ring_reader_stats(r)->records != g->n) {
		fprintf(stderr, "fuzz_ring: %llu records returned, stats say %llu\n",
			(unsigned long long)g->n,
			(unsigned long long)uev_ring_reader_stats(r)->records);
		abort();
	}
	return ret;
}

/* Read the file to the end; with @later, follow it through that update
 * and a few polls more (the reader's patience for a segment that stops
 * short is 3 refreshes). */
static void read_all(const uint8_t *later, size_t later_len)
{
	struct uev_ring_reader *r;
	struct reading g = { 0 };
	char err[256];

	if (uev_ring_reader_open(&r, path, report, NULL, err, sizeof(err)) < 0) {
		sink += strlen(err);
		if (verbose)
			fprintf(stderr, "open: %s\n", err);
		return;
	}
	g.fsz = uev_ring_reader_super(r)->file_size;
	if (later)
		uev_ring_reader_follow(r);
	if (next_all(r, &g) >= 0 && later) {
		update_file(later, later_len);
		for (int poll = 0; poll < 5; poll++) {
			int add = uev_ring_reader_refresh(r);

			if (verbose)
				fprintf(stderr, "refresh: %d\n", add);
			if (add < 0 || next_all(r, &g) < 0)
				break;
		}
	}
	uev_ring_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];

	const uint8_t *later = memmem(data, size, FUZZ_LATER, sizeof(FUZZ_LATER) - 1);
	size_t base = later ? (size_t)(later - data) : size;

	if (later)
		later += sizeof(FUZZ_LATER) - 1;
	if (verbose) /* where one input's output begins, when a process reads many */
		fprintf(stderr, "input %zu bytes crc %08x\n", size, uev_crc32c(0, data, size));
	if (build_file(data, base) < 0)
		return 0;
	read_all(later, later ? size - (size_t)(later - data) : 0);
	if (getenv("FUZZ_RING_SAVE"))
		save(getenv("FUZZ_RING_SAVE"));
	if (uev_ring_decode(path, report, NULL, on_rec, NULL, err, sizeof(err)) < 0)
		sink += strlen(err);
	return 0;
}
