/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: one ring-buffer sub-buffer (as read from
 * per_cpu/cpuN/trace_pipe_raw, or as a ring file's PAGE record stores it:
 * header + committed data) through uev_decoder_page(), every record printed
 * with uev_rec_print_fields() and every user field read back with
 * uev_payload_field().
 *
 * The tep handle knows what a seat records by default: the header page,
 * ftrace:raw_data (the marker records that carry uev events), printk:console
 * and the sched/task events of the built-in configuration. The format texts
 * are this development host's (kernel 6.18, x86_64), copied once from
 * /sys/kernel/tracing/events; the seed pages in corpus/fuzz_page come from
 * the same host, so their event ids match.
 *
 * The decoder starts every input knowing the demo schema's events and one
 * event with every field type (preloaded as a ring file's ANNOUNCE records
 * would be), so marker records with __rel_loc strings get decoded and
 * printed field by field without the page having to announce them first.
 *
 * Where the page lives: kbuffer and libtraceevent are not built with ASan
 * (they are the system's libraries), so an overread inside them would go
 * unseen on the heap. The page is therefore copied to the very end of a
 * mapping followed by a PROT_NONE page: any read past its last byte faults,
 * in instrumented code or not. The copy starts 8-byte aligned (as a real
 * sub-buffer does), so up to 7 bytes of slack precede the guard; ASan
 * poisoning covers them, and the unused start of the mapping (reads before
 * the page), for the instrumented code.
 *
 * The decoder gets the input's exact size and must refuse (-EBADMSG, with
 * a reason) what it cannot decode safely: until e3e2f63 it took no size
 * and believed the page header's commit and every event length, which the
 * reproducers in crashes/fuzz_page/ show.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <event-parse.h>
#include <kbuffer.h>
#include <trace-seq.h>

#include "uev-decode.h"
#include "uev-abi.h"
#include "uev-def.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#endif
#endif
#ifndef POISON
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* ---- formats of this host (see above) --------------------------------- */

static const char header_page[] =
	"\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
	"\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n"
	"\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
	"\tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;\n";

#define COMMON_FIELDS                                                                         \
	"format:\n"                                                                           \
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"                \
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"                \
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"        \
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"                            \
	"\n"

static const struct {
	const char *system, *text;
} formats[] = {
	{ "ftrace",
	  "name: raw_data\nID: 19\n" COMMON_FIELDS
	  "\tfield:unsigned int id;\toffset:8;\tsize:4;\tsigned:0;\n"
	  "\tfield:char buf[];\toffset:12;\tsize:0;\tsigned:0;\n"
	  "\nprint fmt: \"id:%04x %08x\", REC->id, (int)REC->buf[0]\n" },
	{ "printk",
	  "name: console\nID: 411\n" COMMON_FIELDS
	  "\tfield:__data_loc char[] msg;\toffset:8;\tsize:4;\tsigned:0;\n"
	  "\nprint fmt: \"%s\", __get_str(msg)\n" },
	{ "sched",
	  "name: sched_process_exec\nID: 365\n" COMMON_FIELDS
	  "\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;\n"
	  "\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;\n"
	  "\tfield:pid_t old_pid;\toffset:16;\tsize:4;\tsigned:1;\n"
	  "\nprint fmt: \"filename=%s pid=%d old_pid=%d\", __get_str(filename), REC->pid, "
	  "REC->old_pid\n" },
	{ "sched",
	  "name: sched_process_fork\nID: 366\n" COMMON_FIELDS
	  "\tfield:__data_loc char[] parent_comm;\toffset:8;\tsize:4;\tsigned:0;\n"
	  "\tfield:pid_t parent_pid;\toffset:12;\tsize:4;\tsigned:1;\n"
	  "\tfield:__data_loc char[] child_comm;\toffset:16;\tsize:4;\tsigned:0;\n"
	  "\tfield:pid_t child_pid;\toffset:20;\tsize:4;\tsigned:1;\n"
	  "\nprint fmt: \"comm=%s pid=%d child_comm=%s child_pid=%d\", __get_str(parent_comm), "
	  "REC->parent_pid, __get_str(child_comm), REC->child_pid\n" },
	{ "task",
	  "name: task_rename\nID: 204\n" COMMON_FIELDS
	  "\tfield:pid_t pid;\toffset:8;\tsize:4;\tsigned:1;\n"
	  "\tfield:char oldcomm[16];\toffset:12;\tsize:16;\tsigned:0;\n"
	  "\tfield:char newcomm[16];\toffset:28;\tsize:16;\tsigned:0;\n"
	  "\tfield:short oom_score_adj;\toffset:44;\tsize:2;\tsigned:1;\n"
	  "\nprint fmt: \"pid=%d oldcomm=%s newcomm=%s oom_score_adj=%hd\", REC->pid, "
	  "REC->oldcomm, REC->newcomm, REC->oom_score_adj\n" },
};

/* Canonical definitions, as the emitters announce them (schemas/demo.uev),
 * and one with every type the definition grammar has. */
static const char *const defs[] = {
	"demo_hello __rel_loc char[] program; s32 pid",
	"demo_tick u32 seq; u32 thread; u64 mono_ns; __rel_loc char[] msg",
	"demo_label char[16] tag; u16 code",
	("fuzz_all u8 a; s8 b; u16 c; s16 d; u32 e; s32 f; u64 g; s64 h; char[8] i; "
	 "__rel_loc char[] j; __rel_loc char[] k"),
};

/* ---- set-up, once ------------------------------------------------------ */

#define MAX_PAGE (64u << 10) /* the largest sub-buffer the kernel makes */

static struct tep_handle *tep;
static uint8_t *area;   /* MAX_PAGE bytes, then a PROT_NONE guard page */
static size_t pagesz;
static int verbose; /* FUZZ_VERBOSE=1: print the records (to read a reproducer) */
static struct trace_seq tseq;
static uint64_t sink;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *env = getenv("FUZZ_VERBOSE");

	(void)argc;
	(void)argv;
	verbose = env && *env && strcmp(env, "0");
	pagesz = (size_t)sysconf(_SC_PAGESIZE);
	area = mmap(NULL, MAX_PAGE + pagesz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (area == MAP_FAILED || mprotect(area + MAX_PAGE, pagesz, PROT_NONE) < 0) {
		perror("fuzz_page: guard page");
		abort();
	}
	tep = tep_alloc();
	if (!tep || tep_parse_header_page(tep, (char *)header_page, sizeof(header_page) - 1,
					  sizeof(long)) < 0) {
		fprintf(stderr, "fuzz_page: header_page does not parse\n");
		abort();
	}
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (tep_parse_event(tep, formats[i].text, strlen(formats[i].text),
				    formats[i].system) != 0) {
			fprintf(stderr, "fuzz_page: format %zu does not parse\n", i);
			abort();
		}
	trace_seq_init(&tseq);
	return 0;
}

/* ---- one input --------------------------------------------------------- */

static int on_rec(void *ctx, const struct uev_rec *r)
{
	struct uev_decoder *d = ctx;

	if (r->name)
		sink += strlen(r->name);
	if (r->def) {
		uint64_t num;
		const char *str;
		size_t slen;

		sink += strlen(r->def->canonical);
		for (unsigned i = 0; i < r->def->nfields + 1; i++) /* one past: must fail */
			if (uev_payload_field(r->def, r->payload, r->len, i, &num, &str, &slen) ==
			    UEV_T_REL_LOC)
				sink += slen ? (uint8_t)str[slen - 1] : 0;
	}
	trace_seq_reset(&tseq);
	uev_rec_print_fields(d, r, &tseq);
	trace_seq_terminate(&tseq);
	sink += strlen(tseq.buffer);
	if (verbose)
		fprintf(stderr, "ts %llu kind %d %s: %s\n", r->ts, r->kind, r->name ? r->name : "?",
			tseq.buffer);
	return 0;
}

/* The aggregator's walk (page-check.h) and kbuffer must find the same
 * events in every page uev_page_check() lets through (the framing only:
 * no tep, so no field checks): same bodies, same sizes, same count. */
static void walks_agree(const uint8_t *page, size_t size)
{
	static struct kbuffer *kb;
	struct uev_page_walk w;
	unsigned long long ts;
	const uint8_t *body;
	const char *why;
	uint32_t len;
	void *ev;

	if (!uev_page_check(NULL, page, size, &why))
		return;
	if (!kb && !(kb = kbuffer_alloc(KBUFFER_LSIZE_SAME_AS_HOST, KBUFFER_ENDIAN_SAME_AS_HOST)))
		abort();
	if (kbuffer_load_subbuffer(kb, (void *)page) < 0 || uev_page_walk_init(&w, page, size, &why))
		abort();
	for (ev = kbuffer_read_event(kb, &ts); ev; ev = kbuffer_next_event(kb, &ts)) {
		if (uev_page_walk_next(&w, &body, &len, &why) != 1 || body != ev ||
		    len != (uint32_t)kbuffer_event_size(kb)) {
			fprintf(stderr, "fuzz_page: the walk and kbuffer disagree at offset %td\n",
				(const uint8_t *)ev - page);
			abort();
		}
	}
	if (uev_page_walk_next(&w, &body, &len, &why) != 0) {
		fprintf(stderr, "fuzz_page: the walk finds an event past kbuffer's last\n");
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uev_decoder *d;
	size_t span = (size + 7) & ~(size_t)7;
	uint8_t *page;

	if (size > MAX_PAGE)
		return -1; /* not added to the corpus */
	page = area + MAX_PAGE - span;
	memcpy(page, data, size);
	POISON(area, MAX_PAGE - span);
	POISON(page + size, span - size);
	if (uev_decoder_new(&d, tep) < 0)
		abort();
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		if (uev_decoder_announce(d, uev_marker_id(defs[i]), defs[i]) < 0) {
			fprintf(stderr, "fuzz_page: \"%s\" is refused\n", defs[i]);
			abort();
		}
	/* Both ways a reader uses it: learn announcements only, then decode
	 * (the page is the same, the decoder now knows its announcements). */
	uev_decoder_page(d, page, size, 0, NULL, NULL);
	if (uev_decoder_page(d, page, size, 1, on_rec, d) == -EBADMSG) {
		sink += strlen(uev_decoder_why(d));
		if (verbose)
			fprintf(stderr, "refused: %s\n", uev_decoder_why(d));
	}
	sink += uev_decoder_conflicts(d);
	uev_decoder_free(d);
	walks_agree(page, size);
	UNPOISON(area, MAX_PAGE);
	return 0;
}
