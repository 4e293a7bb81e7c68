/* SPDX-License-Identifier: MIT */
/* Ring file under damage: files with flipped, zeroed, copied, forged, cut
 * or extended bytes, wiped segment headers, noise. The reader must never
 * crash, report the damage, and return only records that the undamaged
 * file holds, byte for byte. A writer killed at random moments is
 * test_ring_crash.c. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring-test.h"

#define MiB (1024ull * 1024)

static uint8_t *orig;       /* the good file */
static size_t orig_size;
static struct rt_read good; /* what it holds */
static uint8_t *significant; /* per byte: read by the reader as data or header */
static uint8_t *last_of_run; /* per segment index: no continuation of its run */
static uint64_t S, N;

static void build_original(void)
{
	const char *path = rt_path(0, "good.ring");
	struct uev_ring_writer *w;
	uint64_t seed = 42, n = 0;
	uint8_t b[4096];
	FILE *f;

	for (unsigned run = 0; run < 2; run++) {
		w = rt_open(path, 1 * MiB);
		rt_begin(w);
		ck_assert_int_eq(uev_ring_writer_format(w, 0, 0, "", "header_page", "hp"), 0);
		ck_assert_int_eq(uev_ring_writer_format(w, 2, 9, "s", "e9", "fmt e9"), 0);
		ck_assert_int_eq(uev_ring_writer_announce(w, 77, "ev77 u32 x"), 0);
		for (unsigned i = 0; i < (run ? 200u : 700u); i++) {
			size_t len = 1 + rt_rand(&seed) % 4000;

			if (i % 50 == 0)
				ck_assert_int_eq(uev_ring_writer_comm(w, (int32_t)i, "comm"), 0);
			if (i % 99 == 0)
				ck_assert_int_eq(uev_ring_writer_lost(w, i % 2, i), 0);
			rt_gen(b, len, ++n);
			ck_assert_int_eq(rt_page(w, i % 2, b, len), 0);
		}
		ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
	}
	orig_size = rt_file_size(path);
	orig = malloc(orig_size);
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(orig, 1, orig_size, f), orig_size);
	fclose(f);
	ck_assert_int_eq(rt_read(path, &good), 0);
	ck_assert_msg(good.nreports == 0, "%s", rt_report0(&good));
	ck_assert_uint_ge(good.st.wraps, 1);
	S = good.sb.segment_size;
	N = good.sb.segment_count;

	significant = calloc(1, orig_size);
	last_of_run = calloc(1, N);
	memset(significant, 1, 4096);
	for (size_t i = 0; i < good.n; i++) {
		struct rt_rec *x = &good.rec[i];
		uint64_t seg = (x->offset - 4096) / S;

		memset(significant + 4096 + seg * S, 1, 64);
		memset(significant + x->offset, 1, 24 + x->len);
		last_of_run[seg] = i + 1 == good.n || good.rec[i + 1].run_id != x->run_id;
	}
}

static void free_original(void)
{
	free(orig);
	free(significant);
	free(last_of_run);
	rt_read_free(&good);
}

static const struct rt_rec *orig_rec(uint64_t seq)
{
	size_t lo = 0, hi = good.n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (good.rec[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < good.n && good.rec[lo].seq == seq ? &good.rec[lo] : NULL;
}

/*
 * Must the reader report this damage? When it changed any byte the reader
 * relies on, yes, except where damage looks exactly like a writer that
 * stopped: from some record of a run's last segment to the segment end,
 * everything now zero.
 */
static int must_report(const uint8_t *bad)
{
	for (unsigned o = 0; o < 4096; o++)
		if (bad[o] != orig[o])
			return 1;
	for (uint64_t seg = 0; seg < N; seg++) {
		uint64_t base = 4096 + seg * S, first = 0, o;
		const struct rt_rec *r = NULL;

		for (o = base; o < base + S; o++)
			if (significant[o] && bad[o] != orig[o])
				break;
		if (o == base + S)
			continue;
		if (o < base + 64 || !last_of_run[seg])
			return 1;
		first = o;
		for (size_t i = 0; i < good.n; i++)
			if (good.rec[i].offset <= first && first < good.rec[i].offset + 24 + good.rec[i].len)
				r = &good.rec[i];
		ck_assert_ptr_nonnull(r);
		for (o = r->offset; o < base + S; o++)
			if (bad[o])
				return 1;
	}
	return 0;
}

static void forge_header(uint8_t *p, uint64_t *seed)
{
	uint64_t v = rt_rand(seed);

	switch (rt_rand(seed) % 4) {
	case 0: /* another or a huge segment_seq */
		v = v % 2 ? v : 1 + v % (N * 3);
		for (int i = 0; i < 8; i++)
			p[8 + i] = (uint8_t)(v >> (8 * i));
		break;
	case 1: /* first_record_seq */
		for (int i = 0; i < 8; i++)
			p[16 + i] = (uint8_t)(v >> (8 * i));
		break;
	case 2: /* run_segment */
		for (int i = 0; i < 4; i++)
			p[32 + i] = (uint8_t)(v >> (8 * i));
		break;
	default: /* the seq of another segment: a duplicate */
		memcpy(p + 8, orig + 4096 + (v % N) * S + 8, 8);
	}
	uint32_t crc = uev_crc32c(0, p + 8, 56);
	for (int i = 0; i < 4; i++)
		p[4 + i] = (uint8_t)(crc >> (8 * i));
}

/* A record header whose length runs past the segment end, anywhere up to
 * 4 GiB, with a CRC over the bytes the segment has. */
static void forge_record(uint8_t *bad, uint64_t *seed)
{
	const struct rt_rec *x = &good.rec[rt_rand(seed) % good.n];
	uint8_t *p = bad + x->offset;
	uint64_t avail = 4096 + ((x->offset - 4096) / S + 1) * S - x->offset - 24;
	uint32_t len = (uint32_t)(avail + 1 + rt_rand(seed) % (UINT32_MAX - avail));
	uint32_t crc;

	for (int i = 0; i < 4; i++)
		p[4 + i] = (uint8_t)(len >> (8 * i));
	crc = uev_crc32c(uev_crc32c(0, p, 20), p + 24, avail);
	for (int i = 0; i < 4; i++)
		p[20 + i] = (uint8_t)(crc >> (8 * i));
}

static size_t corrupt(uint8_t *bad, uint64_t seed, unsigned *mode)
{
	size_t size = orig_size;
	uint64_t s = seed * 7919 + 1;

	memcpy(bad, orig, orig_size);
	*mode = (unsigned)(seed % 9);
	switch (*mode) {
	case 0: /* random byte flips */
		for (int i = 0; i < 200; i++)
			bad[rt_rand(&s) % size] ^= (uint8_t)(1 + rt_rand(&s) % 255);
		break;
	case 1: /* zeroed ranges, each within a segment */
		for (unsigned k = 1 + rt_rand(&s) % 3; k; k--) {
			uint64_t seg = rt_rand(&s) % N, a = rt_rand(&s) % S, l = 1 + rt_rand(&s) % (S - a);

			memset(bad + 4096 + seg * S + a, 0, l);
		}
		break;
	case 2: /* truncated */
		size = rt_rand(&s) % orig_size;
		break;
	case 3: /* garbage appended */
		size = orig_size + 1 + rt_rand(&s) % 10000;
		for (size_t o = orig_size; o < size; o++)
			bad[o] = (uint8_t)rt_rand(&s);
		break;
	case 4: /* forged headers, valid CRCs, odd values */
		for (unsigned k = 1 + rt_rand(&s) % 2; k; k--)
			forge_header(bad + 4096 + (rt_rand(&s) % N) * S, &s);
		forge_record(bad, &s);
		break;
	case 5: /* overlapping copies: a chunk, or a whole segment over another */
		if (rt_rand(&s) % 2) {
			uint64_t l = 1 + rt_rand(&s) % (2 * S), from = rt_rand(&s) % (size - l),
				 to = rt_rand(&s) % (size - l);

			memmove(bad + to, bad + from, l);
		} else {
			memcpy(bad + 4096 + (rt_rand(&s) % N) * S, orig + 4096 + (rt_rand(&s) % N) * S, S);
		}
		break;
	case 6: /* random bytes over a range */
		for (uint64_t a = rt_rand(&s) % size, l = 1 + rt_rand(&s) % S; l && a < size; l--, a++)
			bad[a] = (uint8_t)rt_rand(&s);
		break;
	case 7: /* flips in segment headers only */
		for (int i = 0; i < 3; i++)
			bad[4096 + (rt_rand(&s) % N) * S + rt_rand(&s) % 64] ^= (uint8_t)(1 + rt_rand(&s) % 255);
		break;
	default: { /* a record cut out, the rest of its segment moved up: all CRCs valid */
		const struct rt_rec *x = &good.rec[rt_rand(&s) % good.n];
		uint64_t end = 4096 + ((x->offset - 4096) / S + 1) * S, l = (24 + x->len + 7) & ~7ull;

		memmove(bad + x->offset, bad + x->offset + l, end - x->offset - l);
		memset(bad + end - l, 0, l);
	}
	}
	return size;
}

START_TEST(t_corruption)
{
	const char *path = rt_path(1, "bad.ring");
	uint8_t *bad = malloc(2 * MiB);
	unsigned seeds = 540, refused = 0, reported = 0, mode;

	build_original();
	for (uint64_t seed = 0; seed < seeds; seed++) {
		size_t size = corrupt(bad, seed, &mode);
		struct rt_read r;
		FILE *f = fopen(path, "wb");
		int e;

		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(fwrite(bad, 1, size, f), size);
		fclose(f);
		e = rt_read(path, &r);
		if (size != orig_size) {
			ck_assert_msg(e == -EINVAL, "seed %llu: size %zu read: %d",
				      (unsigned long long)seed, size, e);
			ck_assert_msg(strstr(r.errmsg, "size mismatch") ||
					      strstr(r.errmsg, "not a uev ring file"),
				      "seed %llu: %s", (unsigned long long)seed, r.errmsg);
			refused++;
			continue;
		}
		if (e == -EINVAL) { /* superblock damaged */
			ck_assert_msg(memcmp(bad, orig, 128) != 0, "seed %llu: refused: %s",
				      (unsigned long long)seed, r.errmsg);
			ck_assert(r.errmsg[0]);
			refused++;
			continue;
		}
		ck_assert_msg(e == 0, "seed %llu: %d %s", (unsigned long long)seed, e, r.errmsg);
		for (size_t i = 0; i < r.n; i++) {
			const struct rt_rec *x = &r.rec[i], *o = orig_rec(x->seq);

			ck_assert_msg(o, "seed %llu mode %u: seq %llu is not in the original",
				      (unsigned long long)seed, mode, (unsigned long long)x->seq);
			ck_assert_msg(x->type == o->type && x->cpu == o->cpu && x->len == o->len &&
					      x->run_id == o->run_id && x->segment_seq == o->segment_seq &&
					      uev_crc32c(0, x->payload, x->len) ==
						      uev_crc32c(0, o->payload, o->len),
				      "seed %llu mode %u: seq %llu differs from the original",
				      (unsigned long long)seed, mode, (unsigned long long)x->seq);
			if (i)
				ck_assert_uint_gt(x->seq, r.rec[i - 1].seq);
			/* a gap inside a segment is damage read past, and said */
			if (i && x->segment_seq == r.rec[i - 1].segment_seq && x->seq != r.rec[i - 1].seq + 1)
				ck_assert_msg(r.nreports > 0, "seed %llu mode %u: seq %llu after %llu unreported",
					      (unsigned long long)seed, mode, (unsigned long long)x->seq,
					      (unsigned long long)r.rec[i - 1].seq);
		}
		ck_assert_uint_eq(r.st.records, r.n);
		if (mode != 4 && must_report(bad))
			ck_assert_msg(r.nreports > 0, "seed %llu mode %u: damage not reported (%zu of %zu records)",
				      (unsigned long long)seed, mode, r.n, good.n);
		if (r.n < good.n && mode != 4)
			ck_assert_msg(r.nreports > 0 || !must_report(bad), "seed %llu", (unsigned long long)seed);
		reported += r.nreports > 0;
		rt_read_free(&r);
	}
	fprintf(stderr, "corruption: %u files, %u refused, %u with reports\n", seeds, refused, reported);
	ck_assert_uint_gt(refused, seeds / 8);
	ck_assert_uint_gt(reported, seeds / 2);
	free(bad);
	free_original();
}
END_TEST

/*
 * Bytes flipped in the payloads of 1 to 4 consecutive PAGE records in the
 * middle of a segment (their headers intact, as when the damage hits the
 * bulk of a record): exactly those records are lost, reported once, and
 * reading goes on with the same run. The headers chaining to the next
 * valid record rule out a RUN_START among the lost ones, so the records
 * after them are not dropped as "run cannot be told", even when more damage
 * follows before any record that names its run.
 */
START_TEST(t_payload_runs)
{
	const char *path = rt_path(1, "runs.ring");
	size_t at = 0;

	build_original();
	/* a stretch of 4 PAGEs of one segment, then 2 more records of it */
	for (size_t i = good.n / 3; i + 6 < good.n && !at; i++) {
		size_t k = 0;

		while (k < 6 && good.rec[i + k].type == UEV_RING_PAGE && good.rec[i + k].len > 16 &&
		       good.rec[i + k].segment_seq == good.rec[i].segment_seq)
			k++;
		if (k == 6)
			at = i;
	}
	ck_assert_uint_gt(at, 0);
	for (unsigned k = 1; k <= 4; k++) {
		uint8_t *bad = malloc(orig_size);
		struct rt_read r;
		FILE *f;

		memcpy(bad, orig, orig_size);
		for (unsigned j = 0; j < k; j++) {
			const struct rt_rec *x = &good.rec[at + j];

			bad[x->offset + 24 + x->len / 2] ^= 0x40;
		}
		/* with k == 4, the 5th record holds, the 6th is damaged too */
		if (k == 4)
			bad[good.rec[at + 5].offset + 24 + good.rec[at + 5].len / 2] ^= 0x40;
		f = fopen(path, "wb");
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(fwrite(bad, 1, orig_size, f), orig_size);
		fclose(f);
		ck_assert_int_eq(rt_read(path, &r), 0);
		ck_assert_uint_eq(r.n, good.n - k - (k == 4));
		ck_assert_uint_eq(r.nreports, 1 + (k == 4));
		ck_assert_msg(rt_reported_at(&r, good.rec[at].offset), "%u: %s", k, rt_report0(&r));
		ck_assert_msg(!strstr(r.report[0], "cannot be told"), "%u: %s", k, r.report[0]);
		for (size_t i = 0, o = 0; i < r.n; i++, o++) {
			while (o >= at && o < at + k + 2 && (o < at + k || (k == 4 && o == at + 5)))
				o++;
			ck_assert_uint_eq(r.rec[i].seq, good.rec[o].seq);
			ck_assert_uint_eq(r.rec[i].run_id, good.rec[o].run_id);
			ck_assert_uint_eq(r.rec[i].len, good.rec[o].len);
		}
		rt_read_free(&r);
		free(bad);
	}
	free_original();
}
END_TEST

/* Each segment header wiped in turn: reported at the header, the records
 * of a middle segment counted as a gap. */
START_TEST(t_wiped_header)
{
	const char *path = rt_path(1, "wiped.ring");
	uint8_t *bad = malloc(2 * MiB);

	ck_assert_ptr_nonnull(bad);
	build_original();
	for (uint64_t seg = 0; seg < N; seg++) {
		uint64_t base = 4096 + seg * S, lost = 0, oldest = (good.rec[0].offset - 4096) / S;
		struct rt_read r;
		FILE *f = fopen(path, "wb");

		memcpy(bad, orig, orig_size);
		memset(bad + base, 0, 64);
		ck_assert_uint_eq(fwrite(bad, 1, orig_size, f), orig_size);
		fclose(f);
		ck_assert_int_eq(rt_read(path, &r), 0);
		ck_assert_msg(rt_reported_at(&r, base), "segment %llu: %s", (unsigned long long)seg,
			      rt_report0(&r));
		ck_assert_uint_eq(r.st.segments_damaged, 1);
		for (size_t i = 0; i < good.n; i++)
			lost += (good.rec[i].offset - 4096) / S == seg;
		ck_assert_uint_eq(r.n, good.n - lost);
		if (seg != oldest && seg != (oldest + N - 1) % N)
			ck_assert_uint_eq(r.st.seq_gaps, lost);
		rt_read_free(&r);
	}
	free(bad);
	free_original();
}
END_TEST

/* Pure noise, and a zeroed file: never a crash, never a record. */
START_TEST(t_noise)
{
	const char *path = rt_path(2, "noise.ring");
	uint64_t s = 99;

	for (int k = 0; k < 20; k++) {
		size_t size = k < 10 ? 4096 + 4 * 65536 * (size_t)(1 + k % 3) : (size_t)(rt_rand(&s) % 400000);
		uint8_t *b = malloc(size + 1);
		struct rt_read r;
		FILE *f = fopen(path, "wb");

		for (size_t i = 0; i < size; i++)
			b[i] = k % 2 ? 0 : (uint8_t)rt_rand(&s);
		ck_assert_uint_eq(fwrite(b, 1, size, f), size);
		fclose(f);
		ck_assert_int_eq(rt_read(path, &r), -EINVAL);
		ck_assert_msg(strstr(r.errmsg, "not a uev ring file"), "%s", r.errmsg);
		free(b);
	}
	{ /* a valid superblock over noise: every segment damaged, no record */
		const char *p2 = rt_path(3, "noise2.ring");
		struct uev_ring_writer *w = rt_open(p2, 1 * MiB);
		size_t size = rt_file_size(p2);
		uint8_t *b = malloc(size);
		struct rt_read r;
		FILE *f = fopen(p2, "r+b");

		ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
		ck_assert_uint_eq(fread(b, 1, size, f), size);
		for (size_t i = 4096; i < size; i++)
			b[i] = (uint8_t)rt_rand(&s);
		rewind(f);
		ck_assert_uint_eq(fwrite(b, 1, size, f), size);
		fclose(f);
		ck_assert_int_eq(rt_read(p2, &r), 0);
		ck_assert_uint_eq(r.n, 0);
		ck_assert_uint_eq(r.st.segments_damaged, r.sb.segment_count);
		ck_assert_uint_eq(r.nreports, r.sb.segment_count);
		free(b);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ring-damage");
	TCase *tc = tcase_create("damage");

	tcase_add_unchecked_fixture(tc, rt_dir_setup, rt_dir_teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, t_corruption);
	tcase_add_test(tc, t_payload_runs);
	tcase_add_test(tc, t_wiped_header);
	tcase_add_test(tc, t_noise);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rt_run(suite());
}
