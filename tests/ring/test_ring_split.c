/* SPDX-License-Identifier: MIT */
/*
 * The split form of units (ring-split.c, codec 2): a bijection for any
 * bytes (kernel pages with every kind of event, pages that break every
 * rule, bytes that are not entries at all); the words of well-formed
 * pages moved out, exactly one per event; unsplit refusing what no raw
 * bytes split into and never reading or writing out of bounds on
 * mutated input; and the whole path through a ring file. Expected words
 * are built here from the kernel's event layout, not with the module.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ring-common.h"
#include "ring-test.h"

#define RAW_MAX (256 * 1024)

static uint8_t raw[RAW_MAX], back[RAW_MAX], split[RAW_MAX + 4], words[RAW_MAX];

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A kernel page (u64 timestamp, u64 commit, events) of @nev events of
 * every kind, the events' words in @w (as the split should move them);
 * returns its length and the word count in *nw. */
static uint32_t kpage(uint8_t *p, uint64_t *seed, unsigned nev, uint8_t *w, size_t *nw)
{
	uint32_t at = 16;

	memset(p, 0, 16);
	le32(p, (uint32_t)rt_rand(seed));
	for (unsigned i = 0; i < nev; i++) {
		unsigned kind = (unsigned)(rt_rand(seed) % 6);
		uint32_t delta = (uint32_t)(rt_rand(seed) % 5000) + 1, hdr, body;

		switch (kind) {
		case 0: /* long event: type_len 0, length word (counts itself) */
			body = 4 + 4 * (uint32_t)(30 + rt_rand(seed) % 40);
			hdr = delta << 5;
			break;
		case 1: /* time extend */
			body = 4;
			hdr = delta << 5 | 30;
			break;
		case 2: /* absolute time stamp */
			body = 4;
			hdr = delta << 5 | 31;
			break;
		case 3: /* padding with a length */
			body = 8;
			hdr = delta << 5 | 29;
			break;
		default: /* data, type_len 1..28 */
			body = 4 * (uint32_t)(1 + rt_rand(seed) % 28);
			hdr = delta << 5 | body / 4;
		}
		le32(p + at, hdr);
		memcpy(w + *nw, p + at, 4);
		*nw += 4;
		for (uint32_t k = 4; k < 4 + body; k++)
			p[at + k] = (uint8_t)("uev split"[k % 9] + i);
		if (kind == 0 || kind == 3)
			le32(p + at + 4, body);
		at += 4 + body;
	}
	le32(p + 8, at - 16); /* commit */
	if (rt_rand(seed) % 3 == 0) { /* stored missed count after the data */
		p[8 + 3] |= 0xc0;     /* flags above the commit bits */
		memset(p + at, 0x5a, 8);
		at += 8;
	}
	return at;
}

/* Entries (len, reserved, page, padding) of @n pages made by @make. */
static size_t entries(uint64_t *seed, unsigned n, int garbage, uint8_t *w, size_t *nw)
{
	size_t a = 0;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *page = raw + a + 8;
		uint32_t len;

		if (!garbage) {
			len = kpage(page, seed, 1 + (unsigned)(rt_rand(seed) % 40), w, nw);
		} else {
			len = 12 + (uint32_t)(rt_rand(seed) % 3000);
			for (uint32_t k = 0; k < len; k++)
				page[k] = (uint8_t)rt_rand(seed);
		}
		le32(raw + a, len);
		le32(raw + a + 4, 0);
		memset(page + len, 0, (8 - len % 8) % 8);
		a += uev_ring_unit_entry_size(len);
	}
	return a;
}

static void round_trip(size_t len)
{
	size_t n = uev_ring_split(raw, len, split, words);

	ck_assert_uint_eq(n, len + 4);
	memset(back, 0xee, len);
	ck_assert_int_eq(uev_ring_unsplit(split, n, back, len), 0);
	ck_assert_mem_eq(back, raw, len);
}

START_TEST(t_kernel_pages_round_trip)
{
	uint64_t seed = 1 + (uint64_t)_i;
	static uint8_t w[RAW_MAX];
	size_t nw = 0, len = entries(&seed, 1 + _i % 12, 0, w, &nw);

	round_trip(len);
	/* exactly the events' words moved, in order, at the end */
	ck_assert_uint_eq(uev_get32(split), nw);
	ck_assert_mem_eq(split + 4 + len - nw, w, nw);
}
END_TEST

START_TEST(t_any_bytes_round_trip)
{
	uint64_t seed = 100 + (uint64_t)_i;
	size_t nw = 0, len;
	static uint8_t w[RAW_MAX];

	if (_i % 3 == 0) { /* not entries at all, of any length */
		len = (size_t)(rt_rand(&seed) % 5000);
		for (size_t k = 0; k < len; k++)
			raw[k] = (uint8_t)rt_rand(&seed);
	} else { /* entries of random pages, and a page whose commit overruns it */
		len = entries(&seed, 1 + _i % 9, 1, w, &nw);
		if (_i % 3 == 2)
			raw[8 + 8] = 0xff;
	}
	round_trip(len);
}
END_TEST

START_TEST(t_unsplit_refuses)
{
	uint64_t seed = 7;
	static uint8_t w[RAW_MAX];
	size_t nw = 0, len = entries(&seed, 4, 0, w, &nw), n = uev_ring_split(raw, len, split, words);

	ck_assert_int_eq(uev_ring_unsplit(split, n - 1, back, len), -EINVAL);     /* wrong length */
	le32(split, (uint32_t)len + 4);                                          /* more words than bytes */
	ck_assert_int_eq(uev_ring_unsplit(split, n, back, len), -EINVAL);
	le32(split, (uint32_t)nw - 2);                                           /* not whole words */
	ck_assert_int_eq(uev_ring_unsplit(split, n, back, len), -EINVAL);
	le32(split, (uint32_t)nw - 4);                                           /* one word short */
	ck_assert_int_eq(uev_ring_unsplit(split, n, back, len), -EINVAL);
	le32(split, (uint32_t)nw + 4);                                           /* one word too many */
	ck_assert_int_eq(uev_ring_unsplit(split, n, back, len), -EINVAL);
	le32(split, (uint32_t)nw);
	ck_assert_int_eq(uev_ring_unsplit(split, n, back, len), 0);
}
END_TEST

/* Mutated split forms: unsplit either refuses or gives raw_len bytes
 * that split back into the same form (ASan/UBSan watch the bounds). */
START_TEST(t_unsplit_mutated)
{
	uint64_t seed = 11;
	static uint8_t w[RAW_MAX], again[RAW_MAX + 4];
	size_t nw = 0, len = entries(&seed, 6, 0, w, &nw), n = uev_ring_split(raw, len, split, words);
	static uint8_t orig[RAW_MAX + 4];
	unsigned ok = 0;

	memcpy(orig, split, n);
	for (int round = 0; round < 20000; round++) {
		memcpy(split, orig, n);
		for (int k = 0; k < 1 + round % 4; k++)
			split[rt_rand(&seed) % n] ^= (uint8_t)(1u << (rt_rand(&seed) % 8));
		if (uev_ring_unsplit(split, n, back, len) == 0) {
			ok++;
			ck_assert_uint_eq(uev_ring_split(back, len, again, words), n);
			ck_assert_mem_eq(again, split, n);
		}
	}
	ck_assert_uint_gt(ok, 0); /* body bytes flip freely */
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ring_split");
	TCase *tc = tcase_create("split");

	tcase_add_unchecked_fixture(tc, rt_dir_setup, rt_dir_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, t_kernel_pages_round_trip, 0, 50);
	tcase_add_loop_test(tc, t_any_bytes_round_trip, 0, 60);
	tcase_add_test(tc, t_unsplit_refuses);
	tcase_add_test(tc, t_unsplit_mutated);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rt_run(suite());
}
