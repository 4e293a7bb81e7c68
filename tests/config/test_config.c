/* SPDX-License-Identifier: MIT */
/* Unit tests of the seat configuration (aggregator/config/config*.c). Expected values
 * and message prefixes come from docs/uev.conf.5, not from the parser.
 * One test case, "config", its tests spread over files by concern:
 * defaults here, test_config_values.c, test_config_syntax.c, test_config_lists.c. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "config-test.h"

/* ---- Default ------------------------------------------------------------- */

START_TEST(test_default)
{
	ck_assert_str_eq(cfg.seat, "seat0");
	ck_assert_str_eq(cfg.clock, "boot");
	ck_assert_uint_eq(cfg.buffer_kb, 4096);
	ck_assert_uint_eq(cfg.subbuf_kb, 0);
	ck_assert_uint_eq(cfg.flush_interval_ms, 1000);
	ck_assert_int_eq(cfg.fsync, UEV_FSYNC_INTERVAL);
	ck_assert_uint_eq(cfg.fsync_interval_s, 30);
	ck_assert_int_eq(cfg.keep_instance, 0);
	ck_assert_str_eq(cfg.ring_path, "/var/lib/uev/seat0.ring");
	ck_assert_uint_eq(cfg.ring_size, 64u << 20);
	ck_assert_uint_eq(cfg.ring_mode, 0640);
	ck_assert_int_eq(cfg.ring_gid, -1);
	ck_assert_int_eq(cfg.ring_direct, 1);
	ck_assert_uint_eq(cfg.nschemas, 0);
	ck_assert_uint_eq(cfg.nuser_events, 0);
	ck_assert_uint_eq(cfg.ndyndbg, 0);
	ck_assert_uint_eq(cfg.drm_debug, 0);
	ck_assert_uint_eq(cfg.nkevents, 4);
	ck_assert_str_eq(cfg.kevents[0].system, "printk");
	ck_assert_str_eq(cfg.kevents[0].event, "console");
	ck_assert_str_eq(cfg.kevents[1].system, "sched");
	ck_assert_str_eq(cfg.kevents[1].event, "sched_process_exec");
	ck_assert_str_eq(cfg.kevents[2].system, "sched");
	ck_assert_str_eq(cfg.kevents[2].event, "sched_process_fork");
	ck_assert_str_eq(cfg.kevents[3].system, "task");
	ck_assert_str_eq(cfg.kevents[3].event, "task_rename");
	for (int i = 0; i < 4; i++)
		ck_assert_ptr_null(cfg.kevents[i].filter);
	/* an empty file changes nothing */
	P_ok("");
	P_ok("\n# only a comment\n   \n");
	ck_assert_uint_eq(cfg.nkevents, 4);
	assert_round_trip();
}
END_TEST

START_TEST(test_default_seat)
{
	struct uev_config c;

	ck_assert_int_eq(uev_config_default(&c, "my-seat_2", NULL), 0);
	ck_assert_str_eq(c.ring_path, "/var/lib/uev/my-seat_2.ring");
	uev_config_free(&c);
	ck_assert_int_eq(uev_config_default(&c, "", NULL), -EINVAL);
	ck_assert_int_eq(uev_config_default(&c, "a/b", NULL), -EINVAL);
	ck_assert_int_eq(uev_config_default(&c, "seat 0", NULL), -EINVAL);
	ck_assert_int_eq(uev_config_default(&c,
		"a234567890123456789012345678901234567890123456789012345678901234", NULL), -EINVAL);
	uev_config_free(&c); /* harmless after a failure */
}
END_TEST

START_TEST(test_default_schema_dir)
{
	struct uev_config c;
	char sub[PATH_MAX + 64];

	/* created out of order, plus things that must be ignored */
	mkfile("c.txt", "c\n");
	mkfile(".hidden.uev", "h\n");
	mkfile(".uev", "h\n");
	mkfile("auev", "h\n");
	snprintf(sub, sizeof sub, "%s/d.uev", tmpdir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	mkfile("B.uev", "B\n");
	ck_assert_int_eq(uev_config_default(&c, "seat0", tmpdir), 0);
	ck_assert_uint_eq(c.nschemas, 3);
	ck_assert_str_eq(c.schemas[0], path_in("B.uev")); /* bytewise: 'B' < 'a' */
	ck_assert_str_eq(c.schemas[1], path_in("a.uev"));
	ck_assert_str_eq(c.schemas[2], path_in("b.uev"));
	uev_config_free(&c);

	/* missing directory or NULL: no schemas, no error */
	ck_assert_int_eq(uev_config_default(&c, "seat0", path_in("missing")), 0);
	ck_assert_uint_eq(c.nschemas, 0);
	uev_config_free(&c);
	/* a file where a directory is expected is an error */
	ck_assert_int_eq(uev_config_default(&c, "seat0", path_in("a.uev")), -ENOTDIR);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("uev-config");
	TCase *tc = tcase_create("config");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, ct_setup, ct_teardown);
	tcase_add_test(tc, test_default);
	tcase_add_test(tc, test_default_seat);
	tcase_add_test(tc, test_default_schema_dir);
	config_add_value_tests(tc);
	config_add_syntax_tests(tc);
	config_add_list_tests(tc);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
