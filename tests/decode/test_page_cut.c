/* SPDX-License-Identifier: MIT */
/*
 * uev_page_cut() (aggregator/decode/page-cut.c) on a page that begins with
 * a TIME_EXTEND, as a CPU's page does when it was quiet for more than the
 * 2^27 ns an event header's delta holds before its first event. The cut
 * page must start its data right after the header, commit exactly what it
 * holds, and read back (kbuffer) as the kept events with their bodies and
 * their original times. It once began with 8 unwritten zero bytes outside
 * its commit (kbuffer_start_of_data() skips the leading extend), which the
 * ring file's split codec could not round-trip: an incident bundle lost
 * every event of that CPU's compressed unit (tests/qemu/incident).
 * Pages are laid out as this machine's kernel does (host layout).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <kbuffer.h>

#include "page-cut.h"

#define T0 1000000000ull
#define EXTEND ((5ull << 27) + 123) /* ~671 ms: needs a TIME_EXTEND */
#define NEV 3

static const uint64_t deltas[NEV] = { 0, 1000, 2000 }; /* after the extend */

static void put32(uint8_t *at, uint32_t v) { memcpy(at, &v, 4); }

/* The kernel's event header word, little-endian bitfield order. */
static uint32_t word(uint32_t type_len, uint32_t delta) { return type_len | delta << 5; }

/* A page: TIME_EXTEND, then NEV small events (type_len 2: 8 bytes of
 * body, "ev<i>"), the first 0 ns after the extend. Returns its size. */
static size_t make_page(uint8_t *page, size_t cap)
{
	uint64_t ts = T0, commit;
	size_t pos = UEV_PAGE_HDR;

	memset(page, 0, cap);
	memcpy(page, &ts, 8);
	put32(page + pos, word(30, (uint32_t)(EXTEND & ((1u << 27) - 1))));
	put32(page + pos + 4, (uint32_t)(EXTEND >> 27));
	pos += 8;
	for (int i = 0; i < NEV; i++) {
		put32(page + pos, word(2, (uint32_t)deltas[i]));
		memcpy(page + pos + 4, "ev0\0\0\0\0\0", 8);
		page[pos + 6] = (uint8_t)('0' + i);
		pos += 12;
	}
	commit = pos - UEV_PAGE_HDR;
	memcpy(page + 8, &commit, 8);
	return cap;
}

static struct kbuffer *kb_new(void)
{
	struct kbuffer *kb = kbuffer_alloc(sizeof(long) == 8 ? KBUFFER_LSIZE_8 : KBUFFER_LSIZE_4,
					   KBUFFER_ENDIAN_LITTLE);

	ck_assert_ptr_nonnull(kb);
	return kb;
}

/* Cut with @keep and check the result event by event. */
static void cut_and_check(const uint8_t keep[NEV])
{
	uint8_t page[256], *out = NULL;
	size_t len = 0, nkeep = 0, size = make_page(page, sizeof page);
	struct kbuffer *kb = kb_new();
	unsigned long long ts, want_ts[NEV], t = T0 + EXTEND;
	uint64_t commit;
	int i = 0;

	ck_assert_int_eq(sizeof(long), 8); /* the page above has a 64-bit commit word */
	for (int k = 0; k < NEV; k++) {
		t += deltas[k];
		want_ts[k] = t;
		nkeep += keep[k];
	}
	ck_assert_int_eq(uev_page_cut(kb, NULL, page, size, keep, 0, &out, &len), 0);
	memcpy(&commit, out + 8, 8);
	ck_assert_uint_eq(len, UEV_PAGE_HDR + commit);
	ck_assert_uint_eq(commit, 12 * nkeep); /* no extend needed, no gap */
	ck_assert_uint_eq(out[UEV_PAGE_HDR] & 31, 2); /* the first kept event, right after the header */
	ck_assert_int_ge(kbuffer_load_subbuffer(kb, out), 0);
	for (void *d = kbuffer_read_event(kb, &ts); d; d = kbuffer_next_event(kb, &ts)) {
		while (i < NEV && !keep[i])
			i++;
		ck_assert_int_lt(i, NEV);
		ck_assert_uint_eq(ts, want_ts[i]);
		ck_assert_int_eq(kbuffer_event_size(kb), 8);
		ck_assert_int_eq(((const char *)d)[2], '0' + i);
		i++;
	}
	while (i < NEV && !keep[i])
		i++;
	ck_assert_int_eq(i, NEV); /* every kept event read back */
	free(out);
	kbuffer_free(kb);
}

START_TEST(cut_after_extend)
{
	static const uint8_t keeps[][NEV] = { { 0, 1, 1 }, { 1, 0, 1 }, { 0, 0, 1 }, { 1, 1, 0 } };

	cut_and_check(keeps[_i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("page-cut");
	TCase *tc = tcase_create("extend");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, cut_after_extend, 0, 4);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
