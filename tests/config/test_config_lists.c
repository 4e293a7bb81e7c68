/* SPDX-License-Identifier: MIT */
/* Seat configuration: repeatable keys (lists), schema file checks, sizes,
 * [dyndbg] drm_debug and the written form (docs/uev.conf.5). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-test.h"

/* ---- Lists --------------------------------------------------------------- */

START_TEST(test_repeatable)
{
	struct uev_config c;

	/* a list given in the file replaces the default list */
	P_ok("[kernel]\nevent = irq:irq_handler_entry\n");
	ck_assert_uint_eq(cfg.nkevents, 1);
	ck_assert_str_eq(cfg.kevents[0].system, "irq");
	/* a list not given is kept; keys not given are kept */
	P_ok("[seat]\nclock = tai\n");
	ck_assert_uint_eq(cfg.nkevents, 1);
	P_ok("[user]\nevent = a\n");
	ck_assert_str_eq(cfg.clock, "tai");
	ck_assert_uint_eq(cfg.nkevents, 1);
	ck_assert_uint_eq(cfg.nuser_events, 1);
	/* an empty value empties the list; later entries add again */
	P_ok("[kernel]\nevent =\n");
	ck_assert_uint_eq(cfg.nkevents, 0);
	assert_round_trip();
	P_ok("[kernel]\nevent = a:b\nevent =\nevent = c:d\n");
	ck_assert_uint_eq(cfg.nkevents, 1);
	ck_assert_str_eq(cfg.kevents[0].system, "c");
	P_ok("[user]\nevent = x\nevent = y\nevent =   # none\n");
	ck_assert_uint_eq(cfg.nuser_events, 0);
	P_ok("[dyndbg]\nquery = module drm +p\nquery =\n");
	ck_assert_uint_eq(cfg.ndyndbg, 0);

	/* the same entry twice is an error that names the first line */
	P_err("[user]\nevent = a\nevent = b\nevent = a\n", "t.conf:4: [user] event: ",
	      "'a' is already listed on line 2");
	P_err("[kernel]\nevent = a:b\nevent = a:b if x > 1\n", "t.conf:3: [kernel] event: ",
	      "already listed on line 2");
	P_err("[dyndbg]\nquery = module drm +p\n\nquery = module drm +p\n",
	      "t.conf:4: [dyndbg] query: ", "already listed on line 2");
	/* after emptying, the numbering restarts */
	P_err("[user]\nevent = a\nevent =\nevent = b\nevent = b\n", "t.conf:5: [user] event: ",
	      "already listed on line 4");

	/* schemas: the file's list replaces the directory's */
	ck_assert_int_eq(uev_config_default(&c, "seat0", tmpdir), 0);
	ck_assert_uint_eq(c.nschemas, 2);
	ck_assert_int_eq(uev_config_parse(&c, "t.conf", "[seat]\nclock = mono\n", errs, sizeof errs), 0);
	ck_assert_uint_eq(c.nschemas, 2);
	snprintf(errs, sizeof errs, "[user]\nschema = %s\n", path_in("b.uev"));
	ck_assert_int_eq(uev_config_parse(&c, "t.conf", errs, errs + 4096, 4096), 0);
	ck_assert_uint_eq(c.nschemas, 1);
	ck_assert_str_eq(c.schemas[0], path_in("b.uev"));
	snprintf(errs, sizeof errs, "[user]\nschema = %s\nschema = %s\n", path_in("a.uev"),
		 path_in("a.uev"));
	ck_assert_int_eq(uev_config_parse(&c, "t.conf", errs, errs + 4096, 4096), -EINVAL);
	ck_assert_ptr_nonnull(strstr(errs + 4096, "t.conf:3: [user] schema: "));
	ck_assert_ptr_nonnull(strstr(errs + 4096, "already listed on line 2"));
	ck_assert_uint_eq(c.nschemas, 1); /* unchanged on error */
	uev_config_free(&c);
}
END_TEST

START_TEST(test_schema_checks)
{
	char text[2 * PATH_MAX], d[PATH_MAX + 64];

	snprintf(d, sizeof d, "%s/dir.uev", tmpdir);
	ck_assert_int_eq(mkdir(d, 0755), 0);
	snprintf(text, sizeof text, "[user]\nschema = %s\n", d);
	P_err(text, "t.conf:2: [user] schema: ", "is not a regular file");
	if (geteuid() != 0) { /* root reads everything */
		mkfile("secret.uev", "x\n");
		ck_assert_int_eq(chmod(path_in("secret.uev"), 0), 0);
		snprintf(text, sizeof text, "[user]\nschema = %s\n", path_in("secret.uev"));
		P_err(text, "t.conf:2: [user] schema: ", "Permission denied");
	}
	snprintf(text, sizeof text, "[user]\nschema = \"%s\"\n", path_in("a.uev"));
	P_ok(text);
	ck_assert_str_eq(cfg.schemas[0], path_in("a.uev"));
}
END_TEST

/* ---- Sizes --------------------------------------------------------------- */

START_TEST(test_parse_size)
{
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "0", 0 }, { "1", 1 }, { "1048576", 1048576 }, { "260K", 266240 },
		{ "260k", 266240 }, { "64M", 64ull << 20 }, { "2g", 2ull << 30 },
		{ "1T", 1ull << 40 }, { "16777215T", 16777215ull << 40 },
		{ "18446744073709551615", UINT64_MAX }, { "007K", 7 << 10 },
	};
	static const char *const bad[] = {
		"", "K", "M1", "1KB", "1Ki", "1 K", " 1", "1 ", "-1", "+1", "1.5M", "0x10",
		"18446744073709551616", "16777216T", "17179869184G", "99999999999999999999999",
		"1P", "1e6",
	};

	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		uint64_t v = 12345;

		ck_assert_msg(uev_parse_size(ok[i].s, &v) == 0, "%s", ok[i].s);
		ck_assert_msg(v == ok[i].v, "%s: %llu", ok[i].s, (unsigned long long)v);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		uint64_t v = 12345;

		ck_assert_msg(uev_parse_size(bad[i], &v) == -EINVAL, "'%s' accepted", bad[i]);
		ck_assert_uint_eq(v, 12345);
	}
	ck_assert_int_eq(uev_parse_size(NULL, &(uint64_t){ 0 }), -EINVAL);
}
END_TEST

START_TEST(test_size_written)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "266240", "size = 260K\n" }, { "266241", "size = 266241\n" },
		{ "1048576", "size = 1M\n" }, { "1536M", "size = 1536M\n" },
		{ "1024G", "size = 1T\n" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char text[64], *out = NULL;
		size_t len = 0;
		FILE *f;

		snprintf(text, sizeof text, "[ring]\nsize = %s\n", cases[i].in);
		P_ok(text);
		f = open_memstream(&out, &len);
		ck_assert_int_eq(uev_config_write(&cfg, f), 0);
		fclose(f);
		ck_assert_msg(strstr(out, cases[i].out), "%s: no '%s' in\n%s", cases[i].in,
			      cases[i].out, out);
		free(out);
		assert_round_trip();
	}
}
END_TEST

/* [dyndbg] drm_debug: the whole message for a bad word, the key once,
 * nothing applied on error, and the names written back. */
START_TEST(test_drm_debug)
{
	char names[128];

	ck_assert_int_eq(P("[dyndbg]\ndrm_debug = kms atomic frobnicate dp\n"), -EINVAL);
	ck_assert_str_eq(errs, "t.conf:2: [dyndbg] drm_debug: unknown DRM debug category 'frobnicate' "
			       "(core, driver, kms, prime, atomic, vbl, state, lease, dp, drmres, none, "
			       "or a number like 0x14)");
	P_err("[dyndbg]\ndrm_debug = kms\nquery = module drm +p\ndrm_debug = dp\n",
	      "t.conf:4: [dyndbg] drm_debug: ", "given twice (first on line 2)");
	P_err("[dyndbg]\ndrm_debug = kms\n[seat]\nclock = tai\n[dyndbg]\ndrm_debug = kms\n",
	      "t.conf:6: [dyndbg] drm_debug: ", "given twice (first on line 2)");
	P_err("[kernel]\ndrm_debug = kms\n", "t.conf:2: [kernel] drm_debug: ", "unknown key");
	ck_assert_uint_eq(cfg.drm_debug, 0); /* nothing of a refused file applies */
	P_ok("[dyndbg]\ndrm_debug = 0x114 # KMS, ATOMIC, DP\n");
	ck_assert_uint_eq(cfg.drm_debug, 0x114);
	assert_round_trip();
	P_ok("[dyndbg]\nquery = module drm +p\n"); /* another key keeps it */
	ck_assert_uint_eq(cfg.drm_debug, 0x114);
	P_ok("[dyndbg]\ndrm_debug = none\n");
	ck_assert_uint_eq(cfg.drm_debug, 0);
	ck_assert_str_eq(uev_drm_debug_names(0, names, sizeof names), "none");
	ck_assert_str_eq(uev_drm_debug_names(0x14, names, sizeof names), "kms atomic");
	ck_assert_str_eq(uev_drm_debug_names(0x3ff, names, sizeof names),
			 "core driver kms prime atomic vbl state lease dp drmres");
	ck_assert_str_eq(uev_drm_debug_names(0x10404, names, sizeof names), "kms 0x10400");
	ck_assert_str_eq(uev_drm_debug_names(0x3ff, names, 10), "core driv");
}
END_TEST

/* [boot] persistent_instance: an instance name or none, never a seat's
 * own instance, written back as given. */
START_TEST(test_boot_instance)
{
	ck_assert_str_eq(cfg.boot_instance, "");
	P_ok("[boot]\npersistent_instance = boot_map\n");
	ck_assert_str_eq(cfg.boot_instance, "boot_map");
	assert_round_trip();
	P_err("[boot]\npersistent_instance = uev.seat0\n", "t.conf:2: [boot] persistent_instance: ",
	      "names a seat's own instance");
	P_err("[boot]\npersistent_instance = a/b\n", "t.conf:2: [boot] persistent_instance: ",
	      "is not an instance name");
	P_err("[boot]\npersistent_instance = ..\n", "t.conf:2: [boot] persistent_instance: ",
	      "names a seat's own instance");
	ck_assert_str_eq(cfg.boot_instance, "boot_map"); /* nothing of a refused file applies */
	P_ok("[boot]\npersistent_instance = none\n");
	ck_assert_str_eq(cfg.boot_instance, "");
	assert_round_trip();
}
END_TEST

START_TEST(test_write_format)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	P_ok("[ring]\ngroup = root\nmode = 0600\n[user]\nevent = w_*\n[kernel]\n"
	     "event = \"x:y if a == \\\" #\\\"\"\n");
	f = open_memstream(&out, &len);
	ck_assert_int_eq(uev_config_write(&cfg, f), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(out, "\n[seat]\nclock = boot\nbuffer_kb = 4096\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nmode = 0600\n"));
	ck_assert_ptr_nonnull(strstr(out, "\ngroup = 0  # root\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n[user]\nschema =\nevent = w_*\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n[kernel]\nevent = \"x:y if a == \\\" #\\\"\"\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n[dyndbg]\nquery =\ndrm_debug = none\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n[boot]\npersistent_instance = none\n"));
	free(out);
	assert_round_trip();
	P_ok("[dyndbg]\ndrm_debug = DP, Atomic,kms\n");
	f = open_memstream(&out, &len);
	ck_assert_int_eq(uev_config_write(&cfg, f), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(out, "\ndrm_debug = kms atomic dp\n"));
	free(out);
	assert_round_trip();

	/* values the parser would read differently are quoted */
	strcpy(cfg.ring_path, " /x");
	strcpy(cfg.clock, "#x");
	f = open_memstream(&out, &len);
	ck_assert_int_eq(uev_config_write(&cfg, f), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(out, "\npath = \" /x\"\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nclock = \"#x\"\n"));
	free(out);
}
END_TEST

void config_add_list_tests(TCase *tc)
{
	tcase_add_test(tc, test_repeatable);
	tcase_add_test(tc, test_schema_checks);
	tcase_add_test(tc, test_parse_size);
	tcase_add_test(tc, test_size_written);
	tcase_add_test(tc, test_drm_debug);
	tcase_add_test(tc, test_boot_instance);
	tcase_add_test(tc, test_write_format);
}
