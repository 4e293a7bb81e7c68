/* SPDX-License-Identifier: MIT */
/* Unit tests of the payload encoder (uev-encode.c), checked against the
 * independent decoder in unit-decode.h. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uev-def.h"
#include "uev-internal.h"
#include "unit-decode.h"

#define SENTINEL 0xa5
#define ELL_LEN 3

static struct uev_provider *prov;
static uint8_t out[UEV_PAYLOAD_MAX + 64], small[UEV_PAYLOAD_MAX + 64];
static int flags;

static void setup(void)
{
	/* The options' 0 means "auto" (see test_emit), so $UEV_BACKEND makes
	 * sure; the tracefs path keeps the real kernel out of it either way. */
	struct uev_provider_options o = { .backend = UEV_BACKEND_OFF, .tracefs = "/nonexistent/uev" };

	setenv("UEV_BACKEND", "off", 1);
	ck_assert_int_eq(uev_provider_open(&prov, &o), 0);
	ck_assert_int_eq(uev_provider_backend(prov), UEV_BACKEND_OFF);
}

static void teardown(void)
{
	uev_provider_close(prov);
}

static void reg(struct uev_event *ev)
{
	ck_assert_int_eq(uev_event_register(prov, ev), 0);
	ck_assert(!uev_enabled(ev));
}

/* The packed encoder (typed wrappers) must produce the same bytes and flags
 * as the va_list one: feed it the fixed part just produced, with the text
 * slots scribbled over (it must ignore them), and the same strings. */
static void check_packed(const struct uev_event *ev, va_list ap, size_t len)
{
	static uint8_t fixed[UEV_PAYLOAD_MAX], packed[UEV_PAYLOAD_MAX];
	const char *texts[UEV_MAX_FIELDS];
	unsigned nt = 0;
	int pflags = 0;

	memcpy(fixed, out, ev->_p.fixed_size);
	for (unsigned i = 0; i < ev->_p.nfields; i++) {
		unsigned t = ev->_p.field[i].type;

		if (t == UEV_T_U64 || t == UEV_T_S64) {
			(void)va_arg(ap, uint64_t);
		} else if (t == UEV_T_CHAR_ARRAY || t == UEV_T_REL_LOC) {
			texts[nt++] = va_arg(ap, const char *);
			memset(fixed + ev->_p.field[i].offset, 0xaa, ev->_p.field[i].size);
		} else {
			(void)va_arg(ap, int);
		}
	}
	ck_assert_uint_eq(nt, ev->_p.ntext);
	ck_assert_uint_eq(uev_encode_packed(ev, packed, len, fixed, texts, &pflags), len);
	ck_assert_int_eq(pflags, flags);
	ck_assert_msg(!memcmp(packed, out, len), "packed encoding differs");
	if (len)
		ck_assert_uint_eq(uev_encode_packed(ev, packed, len - 1, fixed, texts, &pflags), 0);
}

/* Encode the arguments three ways: measuring (out NULL), into a buffer of
 * exactly that size, and into one byte less (must refuse: 0); then the same
 * through the packed encoder. Returns the payload length; checks nothing
 * past the payload / the cap was touched. */
static size_t encode(const struct uev_event *ev, ...)
{
	va_list ap, ap2, ap3, ap4;
	size_t need, len, cap;
	int mflags = 0, sflags = 0;

	va_start(ap, ev);
	va_copy(ap2, ap);
	va_copy(ap3, ap);
	va_copy(ap4, ap);
	need = uev_encode_va(ev, NULL, SIZE_MAX, ap, &mflags);
	memset(out, SENTINEL, sizeof(out));
	flags = 0;
	len = uev_encode_va(ev, out, need, ap2, &flags);
	cap = need ? need - 1 : 0;
	memset(small, SENTINEL, sizeof(small));
	if (need)
		ck_assert_uint_eq(uev_encode_va(ev, small, cap, ap3, &sflags), 0);
	check_packed(ev, ap4, len);
	va_end(ap4);
	va_end(ap3);
	va_end(ap2);
	va_end(ap);
	ck_assert_uint_eq(len, need);
	ck_assert_int_eq(flags, mflags);
	ck_assert_uint_le(len, UEV_PAYLOAD_MAX);
	ck_assert_uint_ge(len, ev->_p.fixed_size);
	for (size_t i = len; i < sizeof(out); i++)
		ck_assert_msg(out[i] == SENTINEL, "byte %zu past the payload (%zu) written", i, len);
	for (size_t i = cap; i < sizeof(small); i++)
		ck_assert_msg(small[i] == SENTINEL, "byte %zu past the cap (%zu) written", i, cap);
	return len;
}

static void decode(size_t len, const struct ufield *f, unsigned n, struct uval *v, int compact)
{
	size_t end;
	const char *why = udecode(out, len, f, n, v, &end);

	ck_assert_msg(why == NULL, "decoder: %s", why ? why : "");
	if (compact)
		ck_assert_uint_eq(end, len);
}

START_TEST(t_descriptor)
{
	static struct uev_event ev = UEV_EVENT_INIT("ev", "u8 a; __rel_loc char[] s; s64 b; "
		"char[10] c; __rel_loc char[] t; u16 d; __rel_loc char[] u; u32 e");
	static const uint8_t type[] = { UEV_T_U8, UEV_T_REL_LOC, UEV_T_S64, UEV_T_CHAR_ARRAY,
					UEV_T_REL_LOC, UEV_T_U16, UEV_T_REL_LOC, UEV_T_U32 };
	static const uint16_t size[] = { 1, 4, 8, 10, 4, 2, 4, 4 };
	static const uint8_t after[] = { 3, 2, 2, 2, 1, 1, 0, 0 };

	ck_assert_uint_eq(ev._enabled, 0);
	reg(&ev);
	ck_assert_uint_eq(ev._p.nfields, 8);
	ck_assert_uint_eq(ev._p.fixed_size, 1 + 4 + 8 + 10 + 4 + 2 + 4 + 4);
	for (unsigned i = 0; i < 8; i++) {
		ck_assert_uint_eq(ev._p.field[i].type, type[i]);
		ck_assert_uint_eq(ev._p.field[i].size, size[i]);
		ck_assert_uint_eq(ev._p.field[i].strings_after, after[i]);
	}
	ck_assert_int_eq(ev._p.error, 0);
}
END_TEST

START_TEST(t_integers)
{
	static struct uev_event ev = UEV_EVENT_INIT("ints",
		"u8 a; u16 b; u32 c; u64 d; s8 e; s16 f; s32 g; s64 h");
	static const struct ufield f[] = {
		{ UK_U, 1 }, { UK_U, 2 }, { UK_U, 4 }, { UK_U, 8 },
		{ UK_S, 1 }, { UK_S, 2 }, { UK_S, 4 }, { UK_S, 8 },
	};
	struct uval v[8];
	size_t len;

	reg(&ev);
	len = encode(&ev, 250, 65000, 0xdeadbeefu, (uint64_t)0x123456789abcdef0ull,
		     -5, -1234, -123456789, (int64_t)-9876543210ll);
	ck_assert_uint_eq(len, 1 + 2 + 4 + 8 + 1 + 2 + 4 + 8);
	ck_assert_int_eq(flags, 0);
	decode(len, f, 8, v, 1);
	ck_assert_uint_eq(v[0].u, 250);
	ck_assert_uint_eq(v[1].u, 65000);
	ck_assert_uint_eq(v[2].u, 0xdeadbeefu);
	ck_assert_uint_eq(v[3].u, 0x123456789abcdef0ull);
	ck_assert_int_eq(v[4].s, -5);
	ck_assert_int_eq(v[5].s, -1234);
	ck_assert_int_eq(v[6].s, -123456789);
	ck_assert_int_eq(v[7].s, -9876543210ll);

	len = encode(&ev, 0xff, 0xffff, 0xffffffffu, UINT64_MAX,
		     -128, -32768, INT32_MIN, INT64_MIN);
	decode(len, f, 8, v, 1);
	ck_assert_uint_eq(v[0].u, 0xff);
	ck_assert_uint_eq(v[1].u, 0xffff);
	ck_assert_uint_eq(v[2].u, 0xffffffffu);
	ck_assert_uint_eq(v[3].u, UINT64_MAX);
	ck_assert_int_eq(v[4].s, -128);
	ck_assert_int_eq(v[5].s, -32768);
	ck_assert_int_eq(v[6].s, INT32_MIN);
	ck_assert_int_eq(v[7].s, INT64_MIN);

	len = encode(&ev, 1, 2, 3u, (uint64_t)1 << 40, 127, 32767, INT32_MAX, INT64_MAX);
	decode(len, f, 8, v, 1);
	ck_assert_uint_eq(v[3].u, (uint64_t)1 << 40);
	ck_assert_int_eq(v[4].s, 127);
	ck_assert_int_eq(v[7].s, INT64_MAX);
}
END_TEST

static void str_is(const struct uval *v, const char *want)
{
	ck_assert_uint_eq(v->slen, strlen(want));
	ck_assert_msg(memcmp(v->str, want, v->slen) == 0, "'%.*s' != '%s'", (int)v->slen,
		      (const char *)v->str, want);
}

START_TEST(t_strings)
{
	static struct uev_event ev = UEV_EVENT_INIT("strs",
		"u32 a; __rel_loc char[] s1; u8 b; __rel_loc char[] s2; __rel_loc char[] s3");
	static const struct ufield f[] = { { UK_U, 4 }, { UK_REL, 4 }, { UK_U, 1 },
					   { UK_REL, 4 }, { UK_REL, 4 } };
	struct uval v[5];
	size_t len;

	reg(&ev);
	len = encode(&ev, 42u, "hello", 7, "", (const char *)NULL);
	ck_assert_uint_eq(len, 17 + 6 + 1 + 1);
	ck_assert_int_eq(flags, 0);
	decode(len, f, 5, v, 1);
	ck_assert_uint_eq(v[0].u, 42);
	ck_assert_uint_eq(v[2].u, 7);
	str_is(&v[1], "hello");
	str_is(&v[3], "");
	str_is(&v[4], "");
	ck_assert_uint_eq(v[1].data_off, 17); /* data follows the fixed part */
	ck_assert_uint_lt(v[1].data_off, v[3].data_off);
	ck_assert_uint_lt(v[3].data_off, v[4].data_off);

	len = encode(&ev, 1u, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 2, "second", "third!");
	decode(len, f, 5, v, 1);
	str_is(&v[1], "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
	str_is(&v[3], "second");
	str_is(&v[4], "third!");
	ck_assert_int_eq(flags, 0);
}
END_TEST

/* @got (@glen bytes) is @orig cut at the last UTF-8 boundary at or before
 * @budget bytes, followed by U+2026 when @ell. */
static void check_cut(const char *orig, const uint8_t *got, size_t glen, size_t budget, int ell)
{
	size_t keep = glen - (ell ? ELL_LEN : 0), best = 0;

	ck_assert_uint_ge(glen, ell ? ELL_LEN : 0);
	if (ell)
		ck_assert_msg(memcmp(got + keep, U_ELLIPSIS, ELL_LEN) == 0, "no ellipsis at the end");
	ck_assert_msg(memcmp(got, orig, keep) == 0, "kept text is not a prefix");
	for (size_t i = 0; i <= budget; i++) /* last boundary within the budget */
		if (((unsigned char)orig[i] & 0xc0) != 0x80)
			best = i;
	ck_assert_uint_eq(keep, best);
	ck_assert_msg(utf8_valid(got, glen), "cut text is not valid UTF-8");
}

START_TEST(t_char_array)
{
	static struct uev_event ev = UEV_EVENT_INIT("arr",
		"char[8] a; char[8] b; char[8] c; char[4] d; char[1] e; u8 z");
	static const struct ufield f[] = { { UK_CHAR, 8 }, { UK_CHAR, 8 }, { UK_CHAR, 8 },
					   { UK_CHAR, 4 }, { UK_CHAR, 1 }, { UK_U, 1 } };
	struct uval v[6];
	size_t len;

	reg(&ev);
	len = encode(&ev, "1234567", "ab", (const char *)NULL, "xyz", "", 9);
	ck_assert_uint_eq(len, 8 * 3 + 4 + 1 + 1);
	ck_assert_int_eq(flags, 0);
	decode(len, f, 6, v, 1);
	str_is(&v[0], "1234567");
	str_is(&v[1], "ab");
	for (unsigned i = 2; i < 8; i++)
		ck_assert_uint_eq(v[1].str[i], 0); /* zero padded */
	for (unsigned i = 0; i < 8; i++)
		ck_assert_uint_eq(v[2].str[i], 0); /* NULL -> "" */
	str_is(&v[3], "xyz");
	str_is(&v[4], "");
	ck_assert_uint_eq(v[5].u, 9);

	/* too long: N > 4 gets "…", N <= 4 just the prefix; the flag either way */
	len = encode(&ev, "12345678", "abcdefghijkl", "abc\xe2\x82\xac\xe2\x82\xac", "wxyz", "q", 1);
	ck_assert_int_eq(flags & UEV_EMIT_TRUNCATED, UEV_EMIT_TRUNCATED);
	decode(len, f, 6, v, 1);
	check_cut("12345678", v[0].str, v[0].slen, 8 - 1 - ELL_LEN, 1);
	check_cut("abcdefghijkl", v[1].str, v[1].slen, 8 - 1 - ELL_LEN, 1);
	check_cut("abc\xe2\x82\xac\xe2\x82\xac", v[2].str, v[2].slen, 8 - 1 - ELL_LEN, 1);
	str_is(&v[2], "abc" U_ELLIPSIS);
	str_is(&v[3], "wxy");
	str_is(&v[4], "");
	ck_assert_uint_eq(v[5].u, 1);

	/* only one field too long still raises the flag */
	len = encode(&ev, "a", "b", "c", "d", "e", 0);
	ck_assert_int_eq(flags & UEV_EMIT_TRUNCATED, UEV_EMIT_TRUNCATED);
	decode(len, f, 6, v, 1);
	str_is(&v[4], "");
}
END_TEST

/* A string of @n bytes: 'a'... with @mb (a UTF-8 sequence) at @at. */
static char *make_str(size_t n, size_t at, const char *mb)
{
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, 'a', n);
	s[n] = 0;
	if (mb)
		memcpy(s + at, mb, strlen(mb));
	/* some variety so a wrong offset shows */
	for (size_t i = 0; i < at && i < 26; i++)
		s[i] = (char)('A' + i);
	return s;
}

START_TEST(t_long_rel_loc)
{
	static struct uev_event ev = UEV_EVENT_INIT("longs", "u64 t; __rel_loc char[] s");
	static const struct ufield f[] = { { UK_U, 8 }, { UK_REL, 4 } };
	static const char *const mb[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };
	struct uval v[2];
	size_t len, cut;
	char *s;

	reg(&ev);
	/* bytes of text that fit before "…" and the NUL */
	cut = UEV_PAYLOAD_MAX - ev._p.fixed_size - 1 - ELL_LEN;

	s = make_str(2 * UEV_PAYLOAD_MAX, 0, NULL);
	len = encode(&ev, (uint64_t)5, s);
	ck_assert_uint_eq(len, UEV_PAYLOAD_MAX);
	ck_assert_int_eq(flags & UEV_EMIT_TRUNCATED, UEV_EMIT_TRUNCATED);
	decode(len, f, 2, v, 1);
	ck_assert_uint_eq(v[0].u, 5);
	check_cut(s, v[1].str, v[1].slen, cut, 1);
	ck_assert_uint_eq(v[1].slen, cut + ELL_LEN);
	free(s);

	/* exactly fitting: no cut, no flag */
	s = make_str(UEV_PAYLOAD_MAX - ev._p.fixed_size - 1, 0, NULL);
	len = encode(&ev, (uint64_t)6, s);
	ck_assert_uint_eq(len, UEV_PAYLOAD_MAX);
	ck_assert_int_eq(flags, 0);
	decode(len, f, 2, v, 1);
	str_is(&v[1], s);
	free(s);

	/* a multibyte char straddling (or starting at) the cut point */
	for (unsigned k = 0; k < 3; k++) {
		size_t mlen = strlen(mb[k]);

		for (size_t back = 0; back < mlen; back++) {
			s = make_str(UEV_PAYLOAD_MAX + 100, cut - back, mb[k]);
			len = encode(&ev, (uint64_t)k, s);
			ck_assert_uint_le(len, UEV_PAYLOAD_MAX);
			ck_assert_int_eq(flags & UEV_EMIT_TRUNCATED, UEV_EMIT_TRUNCATED);
			decode(len, f, 2, v, 1);
			check_cut(s, v[1].str, v[1].slen, cut, 1);
			/* the sequence is dropped whole when it crosses the cut */
			ck_assert_uint_eq(v[1].slen - ELL_LEN, cut - back);
			ck_assert(utf8_valid(v[1].str, v[1].slen));
			free(s);
		}
	}
}
END_TEST

START_TEST(t_budget)
{
	static struct uev_event ev2 = UEV_EVENT_INIT("two", "__rel_loc char[] a; __rel_loc char[] b");
	static struct uev_event ev3 = UEV_EVENT_INIT("three",
		"__rel_loc char[] a; u8 x; __rel_loc char[] b; __rel_loc char[] c");
	static const struct ufield f2[] = { { UK_REL, 4 }, { UK_REL, 4 } };
	static const struct ufield f3[] = { { UK_REL, 4 }, { UK_U, 1 }, { UK_REL, 4 }, { UK_REL, 4 } };
	struct uval v[4];
	char *big = make_str(3 * UEV_PAYLOAD_MAX, 0, NULL);
	size_t len;

	reg(&ev2);
	reg(&ev3);
	len = encode(&ev2, big, big);
	ck_assert_uint_le(len, UEV_PAYLOAD_MAX);
	ck_assert_int_eq(flags & UEV_EMIT_TRUNCATED, UEV_EMIT_TRUNCATED);
	decode(len, f2, 2, v, 1);
	/* a keeps one byte back for b */
	check_cut(big, v[0].str, v[0].slen, UEV_PAYLOAD_MAX - 8 - 1 - 1 - ELL_LEN, 1);
	ck_assert_uint_eq(v[1].slen, 0);

	/* a long first string and a short second one */
	len = encode(&ev2, big, "hi");
	decode(len, f2, 2, v, 1);
	ck_assert_uint_le(len, UEV_PAYLOAD_MAX);

	len = encode(&ev3, big, 3, big, big);
	ck_assert_uint_le(len, UEV_PAYLOAD_MAX);
	decode(len, f3, 4, v, 1);
	ck_assert_uint_eq(v[1].u, 3);
	check_cut(big, v[0].str, v[0].slen, UEV_PAYLOAD_MAX - 13 - 2 - 1 - ELL_LEN, 1);

	/* a short first string leaves the rest to the second */
	len = encode(&ev2, "abc", big);
	ck_assert_uint_eq(len, UEV_PAYLOAD_MAX);
	decode(len, f2, 2, v, 1);
	str_is(&v[0], "abc");
	check_cut(big, v[1].str, v[1].slen, UEV_PAYLOAD_MAX - 8 - 4 - 1 - ELL_LEN, 1);
	free(big);
}
END_TEST

START_TEST(t_utf8_cut)
{
	const char *s = "a\xc3\xa9" "b\xe2\x82\xac" "c\xf0\x9f\x98\x80" "d";
	/* byte:         0 1   2    3 4   5   6    7 8   9   10  11   12 */
	static const size_t want[] = { 0, 1, 1, 3, 4, 4, 4, 7, 8, 8, 8, 8, 12, 13 };

	for (size_t n = 0; n <= strlen(s); n++)
		ck_assert_msg(uev_utf8_cut(s, n) == want[n], "cut(%zu) = %zu, want %zu", n,
			      uev_utf8_cut(s, n), want[n]);
	ck_assert_uint_eq(uev_utf8_cut("abc", 2), 2);
	ck_assert_uint_eq(uev_utf8_cut("", 0), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("uev-encode");
	TCase *tc = tcase_create("encode");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_descriptor);
	tcase_add_test(tc, t_integers);
	tcase_add_test(tc, t_strings);
	tcase_add_test(tc, t_char_array);
	tcase_add_test(tc, t_long_rel_loc);
	tcase_add_test(tc, t_budget);
	tcase_add_test(tc, t_utf8_cut);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
