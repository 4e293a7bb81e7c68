/* SPDX-License-Identifier: MIT */
/*
 * What the kernel says about a persistent ring it took over
 * (boot-klog.c), from the messages of 6.12 and 7.3 as their sources print
 * them (kernel/trace/ring_buffer.c): dropped sub-buffers counted, a CPU
 * cleared whole named, a buffer that held nothing before (magic) and
 * everything else ignored.
 */
#include <check.h>

#include "boot-klog.h"

START_TEST(klog_7_3)
{
	struct uev_boot_loss l[8];
	const char *t = "Tracing: mapped boot instance uevboot at physical memory 0x1e000000 of size 0x400000\n"
			"Ring buffer meta [0] invalid buffer page detected\n"
			"Ring buffer meta [0] is from previous boot! (3 pages discarded)\n"
			"Ring buffer meta [1] is from previous boot!\n"
			"Ring buffer meta [2] invalid head page detected\n"
			"Ring buffer [2] rewound 4 pages\n"
			"Ring buffer meta [3] commit page not found\n"
			"Ring buffer boot meta mismatch of magic\n";
	size_t n = uev_boot_klog_parse(t, l, 8);

	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(l[0].cpu, 0);
	ck_assert_uint_eq(l[0].pages, 3);
	ck_assert_uint_eq(l[1].cpu, 3);
	ck_assert_uint_eq(l[1].pages, 0);
}
END_TEST

START_TEST(klog_6_12)
{
	struct uev_boot_loss l[8];
	const char *t = "Ring buffer boot meta[0] mismatch of magic or struct size\n"
			"Ring buffer meta [0] is from previous boot!\n"
			"Ring buffer boot meta [1] buffer invalid commit\n"
			"Ring buffer meta [5] invalid buffer page\n"
			"something else: Ring buffer boot meta [x] junk";
	size_t n = uev_boot_klog_parse(t, l, 8);

	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(l[0].cpu, 1);
	ck_assert_uint_eq(l[0].pages, 0);
	ck_assert_uint_eq(l[1].cpu, 5);
	ck_assert_uint_eq(uev_boot_klog_parse(t, l, 1), 1); /* at most max */
	ck_assert_uint_eq(uev_boot_klog_parse("", l, 8), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("boot-klog");
	TCase *tc = tcase_create("parse");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, klog_7_3);
	tcase_add_test(tc, klog_6_12);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
