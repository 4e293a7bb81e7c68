/* SPDX-License-Identifier: MIT */
/* CRC-32C: the check value of the standard, and the SSE4.2 path equal to
 * the table path on every length and alignment and when chained. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ring-common.h"

START_TEST(check_value)
{
	ck_assert_uint_eq(uev_crc32c(0, "123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(uev_crc32c_sw(0, "123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(uev_crc32c(0, "", 0), 0);
}
END_TEST

START_TEST(fast_equals_table)
{
	static unsigned char buf[3 * 4096 + 16];

	srand(7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)rand();
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len < 300; len++)
			ck_assert_uint_eq(uev_crc32c(0, buf + off, len), uev_crc32c_sw(0, buf + off, len));
	/* 3 stretches of 1 KiB, then of 256 bytes: the interleaved path and its joins */
	for (size_t len = 700; len < sizeof(buf) - 16; len += 7)
		ck_assert_uint_eq(uev_crc32c(0, buf + 3, len), uev_crc32c_sw(0, buf + 3, len));
	ck_assert_uint_eq(uev_crc32c(0x12345678u, buf, 4096), uev_crc32c_sw(0x12345678u, buf, 4096));
	/* chaining: crc(a|b) == crc(crc(a), b) */
	ck_assert_uint_eq(uev_crc32c(uev_crc32c(0, buf, 1000), buf + 1000, 3000),
			  uev_crc32c_sw(0, buf, 4000));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("crc");
	TCase *tc = tcase_create("crc32c");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, check_value);
	tcase_add_test(tc, fast_equals_table);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
