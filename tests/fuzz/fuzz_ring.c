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
 *     input   = chunk0 [SEP chunk1 [SEP chunk2 ...]]      SEP = FUZZ_SEP (ring-input.c)
 *     chunk0  = ctl (1 byte) + superblock bytes (at most 4096; the rest is zero)
 *     chunk k = segment k-1: piece [AT piece ...]          AT = FUZZ_AT (ring-input.c)
 *     piece   = bytes placed at the segment start (the first piece), or
 *               u32 offset (modulo the segment size) + bytes placed there;
 *               the rest of the segment is zero
 *
 *     input   = ... [LATER update]                          LATER = RING_INPUT_LATER
 *     update  = [SEP] uchunk [SEP uchunk ...]
 *     uchunk  = segment index (1 byte, modulo N) + pieces, as a chunk k
 *
 * Without LATER the file is decoded (uev_ring_decode reads it twice through
 * the reader, which asserts its promises on every record). With it, the
 * reader first follows the
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
#include "ring-input.h"

static struct trace_seq tseq;
static int verbose; /* FUZZ_VERBOSE=1: print reports and records (to read a reproducer) */


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
	if (ring_input_init() < 0) {
		perror("fuzz_ring: setup");
		abort();
	}
	verbose = getenv("FUZZ_VERBOSE") && strcmp(getenv("FUZZ_VERBOSE"), "0");
	trace_seq_init(&tseq);
	/* before libFuzzer loads the corpus: its forks stay cheap */
	if (uev_format_vet_start() < 0)
		perror("fuzz_ring: starting the format vetter");
	return 0;
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
	uint32_t sub;
	int have;
};

static int next_all(struct uev_ring_reader *r, struct reading *g)
{
	struct uev_ring_rec rec;
	int ret;

	while ((ret = uev_ring_reader_next(r, &rec)) > 0) {
		/* The reader's promise that replay builds on, across
		 * refreshes too. */
		/* (The pages of a UNIT share its seq, their sub counting up.) */
		if (g->have && (rec.sub ? rec.seq != g->last || rec.sub != g->sub + 1 : rec.seq <= g->last)) {
			fprintf(stderr, "fuzz_ring: seq %llu.%u returned after %llu.%u\n",
				(unsigned long long)rec.seq, rec.sub, (unsigned long long)g->last, g->sub);
			abort();
		}
		/* A record lies inside a segment, after the superblock (a
		 * page of a unit: the unit does, the page is unpacked). */
		if (rec.offset < UEV_RING_SUPER_SIZE + UEV_RING_SEG_HDR ||
		    rec.offset + UEV_RING_REC_HDR + (rec.unit_pages ? 0 : rec.len) > g->fsz) {
			fprintf(stderr, "fuzz_ring: record at %llu, %u bytes, in a file of %llu\n",
				(unsigned long long)rec.offset, rec.len, (unsigned long long)g->fsz);
			abort();
		}
		g->last = rec.seq;
		g->sub = rec.sub;
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

	if (uev_ring_reader_open(&r, ring_input_path(), report, NULL, err, sizeof(err)) < 0) {
		sink += strlen(err);
		if (verbose)
			fprintf(stderr, "open: %s\n", err);
		return;
	}
	g.fsz = uev_ring_reader_super(r)->file_size;
	if (later)
		uev_ring_reader_follow(r);
	if (next_all(r, &g) >= 0 && later) {
		ring_input_update(later, later_len);
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

	const uint8_t *later = memmem(data, size, RING_INPUT_LATER, sizeof(RING_INPUT_LATER) - 1);
	size_t base = later ? (size_t)(later - data) : size;

	if (later)
		later += sizeof(RING_INPUT_LATER) - 1;
	if (verbose) /* where one input's output begins, when a process reads many */
		fprintf(stderr, "input %zu bytes crc %08x\n", size, uev_crc32c(0, data, size));
	if (ring_input_build(data, base) < 0)
		return 0;
	/* Without an update the decoder's two passes read the file through
	 * the same reader, whose promises (a record inside the file and the
	 * bytes read, seq only growing) ring-read.c asserts on every record:
	 * a third read here would find nothing they do not. Following a
	 * file that changes is this pass's alone. */
	if (later)
		read_all(later, size - (size_t)(later - data));
	if (getenv("FUZZ_RING_SAVE"))
		ring_input_save(getenv("FUZZ_RING_SAVE"));
	if (uev_ring_decode(ring_input_path(), report, NULL, on_rec, NULL, err, sizeof(err)) < 0)
		sink += strlen(err);
	return 0;
}
