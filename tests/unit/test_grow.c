/* SPDX-License-Identifier: MIT */
/* uev_grow(): doubling from 8, nothing moves when there is room, overflow
 * refused with the array untouched. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "uev-grow.h"

START_TEST(grows_by_doubling)
{
	int *v = NULL;
	size_t cap = 0;

	ck_assert_int_eq(UEV_GROW(v, cap, 1), 0);
	ck_assert_uint_eq(cap, 8);
	v[7] = 7;
	ck_assert_int_eq(UEV_GROW(v, cap, 8), 0);
	ck_assert_uint_eq(cap, 8);
	ck_assert_int_eq(UEV_GROW(v, cap, 9), 0);
	ck_assert_uint_eq(cap, 16);
	ck_assert_int_eq(v[7], 7);
	ck_assert_int_eq(UEV_GROW(v, cap, 1000), 0);
	ck_assert_uint_eq(cap, 1024);
	v[999] = 1;
	free(v);
}
END_TEST

START_TEST(overflow_is_refused_untouched)
{
	uint64_t *v = NULL;
	size_t cap = 0;

	ck_assert_int_eq(UEV_GROW(v, cap, 4), 0);
	v[0] = 42;
	ck_assert_int_eq(UEV_GROW(v, cap, SIZE_MAX / 4), -EOVERFLOW);
	ck_assert_int_eq(UEV_GROW(v, cap, SIZE_MAX), -EOVERFLOW);
	ck_assert_uint_eq(cap, 8);
	ck_assert_int_eq(v[0], 42);
	free(v);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("grow");
	TCase *tc = tcase_create("grow");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, grows_by_doubling);
	tcase_add_test(tc, overflow_is_refused_untouched);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
