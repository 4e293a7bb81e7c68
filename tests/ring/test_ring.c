/* SPDX-License-Identifier: MIT */
/* Ring file: round trip, wrap, runs. Expected bytes are built here from
 * docs/ring-format.md, not with the module's codecs. Opening and its
 * refusals are test_ring_open.c, take/done test_ring_take.c. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring-test.h"

#define KiB 1024ull
#define MiB (1024ull * 1024)

static void le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- expected record streams ------------------------------------------ */

struct exp {
	enum uev_ring_type type;
	uint16_t cpu;
	uint32_t len;
	uint8_t *p;
};
static struct exp ex[4096];
static size_t nex;

static void expect(enum uev_ring_type type, uint16_t cpu, const void *p, uint32_t len)
{
	ck_assert_uint_lt(nex, 4096);
	ex[nex].type = type;
	ex[nex].cpu = cpu;
	ex[nex].len = len;
	ex[nex].p = malloc(len ? len : 1);
	memcpy(ex[nex].p, p, len);
	nex++;
}

static uint32_t fmt_payload(uint8_t *b, unsigned kind, uint32_t id, const char *sys,
			    const char *name, const char *text)
{
	uint32_t n = 8;

	memset(b, 0, 8);
	b[0] = (uint8_t)kind;
	le(b + 4, id, 4);
	strcpy((char *)b + n, sys);
	n += (uint32_t)strlen(sys) + 1;
	strcpy((char *)b + n, name);
	n += (uint32_t)strlen(name) + 1;
	strcpy((char *)b + n, text);
	return n + (uint32_t)strlen(text) + 1;
}

static void w_format(struct uev_ring_writer *w, unsigned kind, uint32_t id, const char *sys,
		     const char *name, const char *text, int new)
{
	uint8_t b[4096];
	uint32_t n = fmt_payload(b, kind, id, sys, name, text);

	ck_assert_int_eq(uev_ring_writer_format(w, kind, id, sys, name, text), 0);
	if (new)
		expect(UEV_RING_FORMAT, 0xffff, b, n);
}

static void w_announce(struct uev_ring_writer *w, uint32_t id, const char *def, int new)
{
	uint8_t b[512];

	le(b, id, 4);
	strcpy((char *)b + 4, def);
	ck_assert_int_eq(uev_ring_writer_announce(w, id, def), 0);
	if (new)
		expect(UEV_RING_ANNOUNCE, 0xffff, b, (uint32_t)strlen(def) + 5);
}

static void comm_ent(uint8_t *b, int32_t pid, const char *comm)
{
	memset(b, 0, 20);
	le(b, (uint32_t)pid, 4);
	memcpy(b + 4, comm, strnlen(comm, 15));
}

static void w_sync(struct uev_ring_writer *w, uint64_t base)
{
	struct uev_ring_sync s = { base, base + 1, base + 2, base + 3 };
	uint8_t b[32];

	for (int i = 0; i < 4; i++)
		le(b + 8 * i, base + (uint64_t)i, 8);
	ck_assert_int_eq(uev_ring_writer_sync(w, &s), 0);
	expect(UEV_RING_SYNC, 0xffff, b, 32);
}

static void run_start_payload(uint8_t *b, uint64_t run_id)
{
	struct uev_ring_run_info ri;

	rt_run_info(&ri);
	memset(b, 0, 274);
	le(b, run_id, 8);
	strcpy((char *)b + 8, ri.boot_id);
	strcpy((char *)b + 8 + 37, ri.kernel_release);
	strcpy((char *)b + 8 + 37 + 65, ri.seat);
	strcpy((char *)b + 8 + 37 + 65 + 64, ri.trace_clock);
	strcpy((char *)b + 8 + 37 + 65 + 64 + 16, ri.host);
	le(b + 255, ri.aggregator_pid, 4);
	le(b + 259, ri.start_realtime_ns, 8);
	le(b + 267, ri.flush_interval_ms, 4);
	/* the page layout: this machine's, as the writer records it unasked */
	b[271] = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? 2 : 1;
	b[272] = (uint8_t)sizeof(long);
	b[273] = 0; /* compression: none (rt_open asks for none) */
}

/* Is @e (a metadata record) carried by one of the checkpoint records
 * @ck[0..nck)? A batched COMM is, when every entry is in the COMM. */
static int in_ckpt(const struct exp *e, struct rt_rec *const *ck, size_t nck)
{
	for (size_t i = 0; i < nck; i++) {
		if (ck[i]->type != e->type)
			continue;
		if (e->type != UEV_RING_COMM) {
			if (ck[i]->len == e->len && !memcmp(ck[i]->payload, e->p, e->len))
				return 1;
			continue;
		}
		size_t found = 0;
		for (uint32_t a = 0; a < e->len; a += 20)
			for (uint32_t b = 0; b < ck[i]->len; b += 20)
				if (!memcmp(e->p + a, ck[i]->payload + b, 20)) {
					found++;
					break;
				}
		if (found == e->len / 20)
			return 1;
	}
	return 0;
}

/*
 * The stream read back, checkpoints taken out, must be exactly the
 * expected one. A metadata record may be missing where a checkpoint that
 * carries it starts a segment right there. Every segment must start with
 * a checkpoint: RUN_START (of @run_start), then SYNC/FORMAT/ANNOUNCE,
 * ending with one COMM.
 */
static void match_stream(const struct rt_read *r, uint64_t S, const uint8_t *run_start)
{
	struct rt_rec *ck[512];
	uint8_t pids[16 * 20]; /* COMM entries so far */
	size_t nck = 0, j = 0, npids = 0;
	uint64_t segseq = 0;
	int inck = 0;

	for (size_t i = 0; i < r->n; i++) {
		struct rt_rec *x = &r->rec[i];

		if (x->segment_seq != segseq) {
			segseq = x->segment_seq;
			ck_assert_msg((x->offset - 4096) % S == 64,
				      "segment %llu does not start with its first record",
				      (unsigned long long)segseq);
			ck_assert_int_eq(x->type, UEV_RING_RUN_START);
			ck_assert_uint_eq(x->len, 274);
			ck_assert_mem_eq(x->payload, run_start, 274);
			inck = 1;
			nck = 0;
		}
		if (inck) {
			ck_assert_msg(rt_is_ckpt_type(x->type), "type %d in a checkpoint", x->type);
			ck_assert_uint_lt(nck, 512);
			ck[nck++] = x;
			if (x->type == UEV_RING_COMM) {
				inck = 0;
				/* only pids named so far, each with its latest name
				 * (which ones: the names in use, test_ring_names.c) */
				ck_assert_uint_le(x->len, 20 * npids);
				for (size_t k = 0; k < x->len; k += 20) {
					size_t q = 0;

					while (q < npids && memcmp(x->payload + k, pids + 20 * q, 20))
						q++;
					ck_assert_msg(q < npids, "pid %u in a checkpoint: not named so",
						      (unsigned)x->payload[k]);
				}
			}
			continue;
		}
		for (size_t k = 0; x->type == UEV_RING_COMM && k < x->len; k += 20) {
			size_t p = 0;

			while (p < npids && memcmp(pids + 20 * p, x->payload + k, 4))
				p++;
			ck_assert_uint_lt(p, 16);
			memcpy(pids + 20 * p, x->payload + k, 20);
			npids += p == npids;
		}
		while (j < nex && ex[j].type != UEV_RING_PAGE && ex[j].type != UEV_RING_LOST &&
		       ex[j].type != UEV_RING_RUN_END &&
		       !(ex[j].type == x->type && ex[j].len == x->len &&
			 !memcmp(ex[j].p, x->payload, x->len)) &&
		       in_ckpt(&ex[j], ck, nck))
			j++;
		ck_assert_msg(j < nex, "record seq %llu type %d beyond the expected ones",
			      (unsigned long long)x->seq, x->type);
		ck_assert_msg(ex[j].type == x->type && ex[j].cpu == x->cpu,
			      "seq %llu: type %d cpu %u, expected #%zu type %d cpu %u",
			      (unsigned long long)x->seq, x->type, x->cpu, j, ex[j].type, ex[j].cpu);
		ck_assert_uint_eq(ex[j].len, x->len);
		if (x->type == UEV_RING_RUN_END) /* end time is the writer's */
			ck_assert_mem_eq(ex[j].p + 8, x->payload + 8, 24);
		else
			ck_assert_mem_eq(ex[j].p, x->payload, x->len);
		nck = 0;
		j++;
	}
	ck_assert_uint_eq(j, nex);
	ck_assert_int_eq(inck, 0);
}

static void free_expected(void)
{
	for (size_t i = 0; i < nex; i++)
		free(ex[i].p);
	nex = 0;
}

/* ---- 1: round trip ----------------------------------------------------- */

/* The round trip's data: 1000 pages of two CPUs, with metadata, loss and
 * syncs in between, each expected as it is written. Its payload bytes. */
static uint64_t feed_round_trip(struct uev_ring_writer *w)
{
	uint64_t bytes = 0;
	uint8_t b[4096];

	for (unsigned i = 0; i < 1000; i++) {
		uint32_t len = 1 + (i * 7919u) % 4000;

		if (i == 300) {
			/* 101 unchanged, but no record of this segment names
			 * it (the pages do not use it): named again, and the
			 * most recently used first */
			ck_assert_int_eq(uev_ring_writer_comm(w, 102, "cc1-with-a-long-name"), 0);
			ck_assert_int_eq(uev_ring_writer_comm(w, 101, "sleep"), 0);
			comm_ent(b, 101, "sleep");
			comm_ent(b + 20, 102, "cc1-with-a-long-name");
			expect(UEV_RING_COMM, 0xffff, b, 40);
		}
		if (i == 400) /* replaced text: written again */
			w_format(w, 2, 17, "sched", "sched_switch", "name: sched_switch\nID: 17\nv2\n", 1);
		if (i == 500) {
			ck_assert_int_eq(uev_ring_writer_lost(w, 1, 5), 0);
			le(b, 5, 8);
			expect(UEV_RING_LOST, 1, b, 8);
		}
		if (i == 600)
			w_sync(w, 2000);
		if (i == 700) {
			ck_assert_int_eq(uev_ring_writer_lost(w, 0, 0), 0);
			le(b, 0, 8);
			expect(UEV_RING_LOST, 0, b, 8);
		}
		rt_gen(b, len, i);
		ck_assert_int_eq(rt_page(w, i % 2, b, len), 0);
		expect(UEV_RING_PAGE, (uint16_t)(i % 2), b, len);
		bytes += len;
		if (i % 37 == 0)
			ck_assert_int_eq(uev_ring_writer_flush(w), 0);
	}
	return bytes;
}

/* The counters of the round trip as read back. */
static void check_round_trip(const struct rt_read *r, uint64_t S, uint64_t N, uint64_t bytes)
{
	for (size_t i = 0; i < r->n; i++) {
		ck_assert_uint_eq(r->rec[i].seq, i + 1);
		ck_assert_uint_eq(r->rec[i].run_id, 1);
	}
	ck_assert_uint_eq(r->st.records, r->n);
	ck_assert_uint_eq(r->st.pages, 1000);
	ck_assert_uint_eq(r->st.page_bytes, bytes);
	ck_assert_uint_eq(r->st.lost_kernel, 5);
	ck_assert_uint_eq(r->st.lost_unknown, 1);
	ck_assert_uint_eq(r->st.seq_first, 1);
	ck_assert_uint_eq(r->st.seq_last, r->n);
	ck_assert_uint_eq(r->st.seq_gaps, 0);
	ck_assert_uint_eq(r->st.torn, 0);
	ck_assert_uint_eq(r->st.wraps, 0);
	ck_assert_uint_eq(r->st.segments_damaged, 0);
	ck_assert_uint_ge(r->st.segments_valid, bytes / S + 1);
	ck_assert_uint_eq(r->st.segments_valid + r->st.segments_empty, N);
	ck_assert_uint_gt(r->st.bytes_used, bytes);
}

START_TEST(t_round_trip)
{
	const char *path = rt_path(0, "rt.ring");
	uint64_t S, N, bytes = 0;
	uint8_t b[4096], rs[274];
	struct rt_read r;
	struct uev_ring_writer *w = rt_open(path, 4 * MiB);
	struct uev_ring_counters end = { 1000, 0, 5 };

	rt_geometry(4 * MiB, &S, &N);
	ck_assert_uint_eq(rt_file_size(path), 4096 + N * S);
	rt_begin(w);
	run_start_payload(rs, 1);
	w_format(w, 0, 0, "", "header_page", "\tfield: u64 timestamp;\toffset:0;\tsize:8;\n", 1);
	w_format(w, 1, 0, "", "header_event", "# compressed entry header\n", 1);
	w_format(w, 2, 17, "sched", "sched_switch", "name: sched_switch\nID: 17\n", 1);
	w_format(w, 2, 18, "user_events", "uev_m", "name: uev_m\nID: 18\n", 1);
	w_format(w, 2, 17, "sched", "sched_switch", "name: sched_switch\nID: 17\n", 0); /* same */
	w_announce(w, 1000, "ev u32 a; u64 b", 1);
	w_announce(w, 1000, "ev u32 a; u64 b", 0);
	ck_assert_int_eq(uev_ring_writer_comm(w, 100, "bash"), 0);
	ck_assert_int_eq(uev_ring_writer_comm(w, 101, "sleep"), 0);
	ck_assert_int_eq(uev_ring_writer_comm(w, 100, "bash"), 0); /* unchanged: no new entry */
	w_sync(w, 1000);
	/* Batched: one COMM before the first page, most recently seen first. */
	comm_ent(b, 100, "bash");
	comm_ent(b + 20, 101, "sleep");
	expect(UEV_RING_COMM, 0xffff, b, 40);
	bytes = feed_round_trip(w);
	end.bytes = bytes;
	le(b, 0, 8);
	le(b + 8, 1000, 8);
	le(b + 16, bytes, 8);
	le(b + 24, 5, 8);
	expect(UEV_RING_RUN_END, 0xffff, b, 32);
	ck_assert_int_eq(uev_ring_writer_close(w, &end), 0);
	ck_assert_uint_eq(rt_file_size(path), 4096 + N * S);

	ck_assert_int_eq(rt_read(path, &r), 0);
	ck_assert_msg(r.nreports == 0, "reports: %u, %s", r.nreports, rt_report0(&r));
	ck_assert_uint_eq(r.sb.segment_size, S);
	ck_assert_uint_eq(r.sb.segment_count, N);
	ck_assert_str_eq(r.sb.seat, "seat0");
	match_stream(&r, S, rs);
	check_round_trip(&r, S, N, bytes);
	rt_read_free(&r);
	free_expected();
}
END_TEST

/* ---- 2: wrap ----------------------------------------------------------- */

/* Reads the wrapped stream: every segment starts with the checkpoint, the
 * same metadata as first written, in order, and the one name the pages
 * use; the pages are rt_gen() pages
 * with consecutive counters. Their payload bytes; *npages of them, the
 * newest counter in *last. */
static uint64_t wrap_stream(const struct rt_read *r, size_t *npages, uint64_t *last)
{
	uint64_t seg = 0, next = 0, kept = 0;
	int inck = 0, nfmt = 0;

	*npages = 0;
	for (size_t i = 0; i < r->n; i++) {
		struct rt_rec *x = &r->rec[i];
		uint64_t c;

		if (x->segment_seq != seg) {
			seg = x->segment_seq;
			inck = 1;
			nfmt = 0;
		}
		if (inck) { /* metadata for all that follows, in this order */
			static const enum uev_ring_type ckpt[] = {
				UEV_RING_RUN_START, UEV_RING_SYNC, UEV_RING_FORMAT, UEV_RING_FORMAT,
				UEV_RING_FORMAT, UEV_RING_ANNOUNCE, UEV_RING_COMM
			};
			uint8_t init[20];

			ck_assert_int_eq(x->type, ckpt[nfmt]);
			for (size_t k = 0; k < nex; k++) /* the same as first written */
				if (ex[k].type == x->type && x->type != UEV_RING_FORMAT)
					ck_assert_mem_eq(ex[k].p, x->payload, ex[k].len);
			if (x->type == UEV_RING_FORMAT)
				ck_assert_mem_eq(ex[nfmt - 2].p, x->payload, ex[nfmt - 2].len);
			if (x->type == UEV_RING_COMM) {
				comm_ent(init, 1, "init");
				ck_assert_uint_eq(x->len, 20);
				ck_assert_mem_eq(x->payload, init, 20);
			}
			inck = ++nfmt < 7;
			continue;
		}
		if (x->type != UEV_RING_PAGE)
			continue;
		ck_assert_msg(rt_gen_check(x->payload, x->len, &c), "page seq %llu damaged",
			      (unsigned long long)x->seq);
		if ((*npages)++)
			ck_assert_uint_eq(c, next);
		next = c + 1;
		*last = c;
		kept += x->len;
	}
	return kept;
}

START_TEST(t_wrap)
{
	const char *path = rt_path(0, "wrap.ring");
	uint64_t S, N, fed = 0, counter = 0, last = 0, size0, kept;
	uint8_t b[4096];
	struct rt_read r;
	struct uev_ring_writer *w = rt_open(path, 1 * MiB);
	size_t npages;

	rt_geometry(1 * MiB, &S, &N);
	size0 = rt_file_size(path);
	ck_assert_uint_eq(size0, 4096 + N * S);
	rt_begin(w);
	w_format(w, 0, 0, "", "header_page", "hp\n", 1);
	w_format(w, 1, 0, "", "header_event", "he\n", 1);
	w_format(w, 2, 7, "s", "e7", "name: e7\n", 1);
	w_announce(w, 3, "ev3 u8 x", 1);
	uev_ring_writer_comm(w, 1, "init");
	uev_ring_writer_comm(w, 2, "once"); /* no page uses it: not carried on */
	w_sync(w, 5);
	while (fed < 100 * MiB) {
		uint32_t len = 100 + (uint32_t)((counter * 2654435761u) % 3900);

		ck_assert_int_eq(uev_ring_writer_comm_use(w, 1), 0); /* every page is init's */
		rt_gen(b, len, ++counter);
		ck_assert_int_eq(rt_page(w, (unsigned)(counter % 3), b, len), 0);
		fed += len;
		if (counter % 16 == 0)
			ck_assert_int_eq(uev_ring_writer_flush(w), 0);
	}
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	ck_assert_uint_eq(rt_file_size(path), size0);

	ck_assert_int_eq(rt_read(path, &r), 0);
	ck_assert_msg(r.nreports == 0, "reports: %u, %s", r.nreports, rt_report0(&r));
	kept = wrap_stream(&r, &npages, &last);
	ck_assert_uint_eq(last, counter);             /* newest there */
	ck_assert_uint_gt(counter - npages, counter / 2); /* oldest gone */
	ck_assert_uint_gt(kept, (N - 1) * S * 3 / 4); /* all but the slack survived */
	ck_assert_uint_eq(r.st.segments_valid, N);
	ck_assert_uint_eq(r.st.torn, 0);
	ck_assert_uint_eq(r.st.seq_gaps, 0);
	/* Each lap is N segments of less than S bytes of payload each. */
	fprintf(stderr, "wrap: %llu payload bytes through %llu x %llu: wraps %llu\n",
		(unsigned long long)fed, (unsigned long long)N, (unsigned long long)S,
		(unsigned long long)r.st.wraps);
	ck_assert_uint_ge(r.st.wraps, fed / (N * S));
	ck_assert_uint_le(r.st.wraps, fed / (N * S) * 5 / 4);
	rt_read_free(&r);
	free_expected();
}
END_TEST

/* ---- 3: runs ----------------------------------------------------------- */

START_TEST(t_runs)
{
	const char *path = rt_path(0, "runs.ring");
	uint8_t b[2048], rs[274];
	uint64_t S, N, run_first_segseq[4] = { 0 }, run_last_segseq[4] = { 0 }, pages[4] = { 0 };
	struct rt_read r;

	rt_geometry(4 * MiB, &S, &N);
	for (unsigned run = 1; run <= 3; run++) {
		struct uev_ring_writer *w = rt_open(path, 4 * MiB);

		rt_begin(w);
		ck_assert_int_eq(uev_ring_writer_format(w, 2, 1, "s", "e", "text"), 0);
		for (unsigned i = 0; i < 100; i++) {
			rt_gen(b, 1000 + i, run * 1000 + i);
			ck_assert_int_eq(rt_page(w, 0, b, 1000 + i), 0);
		}
		ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	}
	ck_assert_int_eq(rt_read(path, &r), 0);
	ck_assert_msg(r.nreports == 0, "reports: %u, %s", r.nreports, rt_report0(&r));
	for (size_t i = 0; i < r.n; i++) {
		struct rt_rec *x = &r.rec[i];
		uint64_t c;

		ck_assert_uint_eq(x->seq, i + 1); /* seq goes on across runs */
		ck_assert(x->run_id >= 1 && x->run_id <= 3);
		if (i)
			ck_assert_uint_ge(x->run_id, r.rec[i - 1].run_id);
		if (!run_first_segseq[x->run_id])
			run_first_segseq[x->run_id] = x->segment_seq;
		run_last_segseq[x->run_id] = x->segment_seq;
		if (x->type == UEV_RING_RUN_START) {
			run_start_payload(rs, x->run_id);
			ck_assert_mem_eq(x->payload, rs, 274);
		}
		if (x->type == UEV_RING_PAGE) {
			ck_assert(rt_gen_check(x->payload, x->len, &c));
			ck_assert_uint_eq(c, x->run_id * 1000 + pages[x->run_id]);
			pages[x->run_id]++;
		}
	}
	for (unsigned run = 1; run <= 3; run++) {
		ck_assert_uint_eq(pages[run], 100);
		if (run > 1) /* a run goes on in the last one's segment, or the next */
			ck_assert_uint_le(run_first_segseq[run] - run_last_segseq[run - 1], 1);
	}
	ck_assert_int_eq(r.rec[r.n - 1].type, UEV_RING_RUN_END);
	ck_assert_uint_eq(r.st.seq_gaps, 0);
	rt_read_free(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ring");
	TCase *tc = tcase_create("ring");

	tcase_add_unchecked_fixture(tc, rt_dir_setup, rt_dir_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, t_round_trip);
	tcase_add_test(tc, t_wrap);
	tcase_add_test(tc, t_runs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rt_run(suite());
}
