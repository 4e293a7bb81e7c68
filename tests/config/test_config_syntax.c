/* SPDX-License-Identifier: MIT */
/* Seat configuration: quoting, syntax errors, line length, loading a file,
 * several errors at once and the error buffer (docs/uev.conf.5). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-test.h"

/* ---- Syntax -------------------------------------------------------------- */

START_TEST(test_quoting)
{
	P_ok("[ring]\npath = \"/a b/#c.ring\"   # comment\n");
	ck_assert_str_eq(cfg.ring_path, "/a b/#c.ring");
	assert_round_trip();
	P_ok("[ring]\npath = \"/x\\\"y\\\\z\"\n");
	ck_assert_str_eq(cfg.ring_path, "/x\"y\\z");
	assert_round_trip();
	P_ok("[ring]\npath = \"/trailing  \"\n");
	ck_assert_str_eq(cfg.ring_path, "/trailing  ");
	assert_round_trip();
	P_ok("[ring]\npath = /a#b\n");
	ck_assert_str_eq(cfg.ring_path, "/a#b");
	P_ok("[ring]\npath = /a\t#b\n");
	ck_assert_str_eq(cfg.ring_path, "/a");
	P_ok("[ring]\npath = /a \"b\"\n"); /* quotes inside an unquoted value are literal */
	ck_assert_str_eq(cfg.ring_path, "/a \"b\"");
	assert_round_trip();
	P_ok("  [seat]  # header comment\n\tclock=\"tai\" #x\n");
	ck_assert_str_eq(cfg.clock, "tai");
	P_err("[seat]\nclock = \"tai\"#x\n", "t.conf:2: [seat] clock: ", "after the closing quote");
	P_ok("[seat]\nclock=mono\n");
	ck_assert_str_eq(cfg.clock, "mono");
	P_err("[seat]\nclock = \"boot\n", "t.conf:2: [seat] clock: ", "unterminated quoted value");
	P_err("[seat]\nclock = \"boot\\\"\n", "t.conf:2: [seat] clock: ", "unterminated quoted value");
	P_err("[seat]\nclock = \"bo\\ot\"\n", "t.conf:2: [seat] clock: ", "invalid escape");
	P_err("[seat]\nclock = \"boot\" x\n", "t.conf:2: [seat] clock: ", "after the closing quote");
	P_err("[seat]\nclock = \"\"\n", "t.conf:2: [seat] clock: ", "empty value");
	P_err("[seat]\nclock = # nothing\n", "t.conf:2: [seat] clock: ", "empty value");
}
END_TEST

START_TEST(test_syntax_errors)
{
	P_err("clock = boot\n", "t.conf:1: ", "key 'clock' before any [section]");
	P_err("# c\n\n[sea]\nclock = boot\nbogus = 1\n", "t.conf:3: ",
	      "unknown section [sea]");
	P_err("[seat]\n[seat\n", "t.conf:2: ", "unterminated section header");
	P_err("[seat] x\n", "t.conf:1: ", "unexpected text after the section header");
	P_err("[seat]\nclok = boot\n", "t.conf:2: [seat] clok: ", "unknown key");
	P_err("[ring]\nclock = boot\n", "t.conf:2: [ring] clock: ", "unknown key");
	P_err("[seat]\nclock = boot\n\nclock = mono\n", "t.conf:4: [seat] clock: ",
	      "given twice (first on line 2)");
	P_err("[seat]\nclock = boot\n[ring]\n[seat]\nclock = boot\n", "t.conf:5: [seat] clock: ",
	      "given twice (first on line 2)");
	P_err("[seat]\nclock boot\n", "t.conf:2: ", "missing '=' after 'clock'");
	P_err("[seat]\nclock\n", "t.conf:2: ", "missing '=' after 'clock'");
	P_err("[seat]\n= boot\n", "t.conf:2: ", "missing key name before '='");
	P_err("[seat]\ncl-ock = boot\n", "t.conf:2: ", "invalid key name 'cl-ock'");
	P_err("[seat]\nclock = \xff\n", "t.conf:2: ", "invalid UTF-8 at column 9");
	P_err("[seat]\nclock = \xc0\xaf\n", "t.conf:2: ", "invalid UTF-8"); /* overlong */
	P_err("[seat]\nclock = \xe0\x80\xaf\n", "t.conf:2: ", "invalid UTF-8 at column 9");
	P_err("[seat]\nclock = \xf0\x80\x80\xaf\n", "t.conf:2: ", "invalid UTF-8 at column 9");
	P_err("[seat]\nclock = \xed\xa0\x80\n", "t.conf:2: ", "invalid UTF-8"); /* surrogate */
	P_err("[seat]\nclock = \xe2\x82\n", "t.conf:2: ", "invalid UTF-8"); /* cut */
	P_err("[seat]\nclock = \xf4\x90\x80\x80\n", "t.conf:2: ", "invalid UTF-8"); /* > U+10FFFF */
	P_err("[seat]\nclock = h\xc3\xa9\n", "t.conf:2: [seat] clock: ", "unknown clock 'h\xc3\xa9'");
	/* keys under an unknown section are not reported one by one */
	P_err("[nope]\na = 1\nb = 2\n", "t.conf:1: ", "unknown section");
}
END_TEST

START_TEST(test_line_length)
{
	char *text = malloc(8300);

	text[0] = '#';
	memset(text + 1, 'x', 8191); /* 8192 bytes: the longest line */
	strcpy(text + 8192, "\n[seat]\nclock = tai\n");
	P_ok(text);
	ck_assert_str_eq(cfg.clock, "tai");
	memset(text + 1, 'x', 8192); /* 8193 */
	strcpy(text + 8193, "\n[seat]\nclock = tai\n");
	P_err(text, "t.conf:1: ", "line too long (8193 bytes, at most 8192)");
	/* CRLF line ends: the CR does not count and is not part of the value */
	P_ok("[seat]\r\nclock = mono\r\n");
	ck_assert_str_eq(cfg.clock, "mono");
	free(text);
}
END_TEST

START_TEST(test_load)
{
	char text[] = "[seat]\nclock = tai\n";
	char nul[] = "[seat]\n# ok\nclock = mo\0no\n";
	char *p = path_in("u.conf");
	FILE *f;

	mkfile("u.conf", text);
	ck_assert_int_eq(uev_config_load(&cfg, p, errs, sizeof errs), 0);
	ck_assert_str_eq(cfg.clock, "tai");
	ck_assert_str_eq(errs, "");

	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(nul, 1, sizeof nul - 1, f), sizeof nul - 1);
	fclose(f);
	ck_assert_int_eq(uev_config_load(&cfg, p, errs, sizeof errs), -EINVAL);
	ck_assert_msg(!strncmp(errs, p, strlen(p)) && !strcmp(errs + strlen(p), ":3: NUL byte at column 11"),
		      "%s", errs);

	/* a UTF-8 byte order mark is skipped */
	mkfile("u.conf", "\xef\xbb\xbf[seat]\nclock = perf\n");
	ck_assert_int_eq(uev_config_load(&cfg, p, errs, sizeof errs), 0);
	ck_assert_str_eq(cfg.clock, "perf");

	/* I/O errors: "FILE: strerror" */
	p = path_in("missing.conf");
	ck_assert_int_eq(uev_config_load(&cfg, p, errs, sizeof errs), -ENOENT);
	ck_assert_msg(!strncmp(errs, p, strlen(p)) &&
		      !strcmp(errs + strlen(p), ": No such file or directory"), "%s", errs);
	ck_assert_int_eq(uev_config_load(&cfg, tmpdir, errs, sizeof errs), -EISDIR);
	ck_assert_msg(!strncmp(errs, tmpdir, strlen(tmpdir)) &&
		      !strcmp(errs + strlen(tmpdir), ": Is a directory"), "%s", errs);
	ck_assert_str_eq(cfg.clock, "perf");
}
END_TEST

START_TEST(test_multiple_errors)
{
	const char *text =
		"[seat]\n"                  /* 1 */
		"clock = bogus\n"           /* 2 */
		"buffer_kb = 1\n"           /* 3 */
		"fsync_interval_s = 9\n"    /* 4: reported after the file, sorted in */
		"fsync = never\n"           /* 5 */
		"[ring]\n"                  /* 6 */
		"mode = 0777\n"             /* 7 */
		"size 64M\n"                /* 8 */
		"[kernel]\n"                /* 9 */
		"event = nocolon\n"         /* 10 */
		"event = a:b\n"             /* 11 */
		"event = a:b if x\n"        /* 12 */
		"[dyndbg]\n"                /* 13 */
		"query = +p\n";             /* 14 */
	const char *expect =
		"t.conf:2: [seat] clock: unknown clock 'bogus' (boot, mono, mono_raw, tai, "
		"local, global or perf)\n"
		"t.conf:3: [seat] buffer_kb: '1' is out of range (64 .. 1048576)\n"
		"t.conf:4: [seat] fsync_interval_s: only applies to fsync = interval (fsync is never)\n"
		"t.conf:7: [ring] mode: '0777' is world-writable\n"
		"t.conf:8: missing '=' after 'size'\n"
		"t.conf:10: [kernel] event: 'nocolon' is not SYSTEM:EVENT\n"
		"t.conf:12: [kernel] event: 'a:b if x' is already listed on line 11\n"
		"t.conf:14: [dyndbg] query: '+p' needs at least one of module, file, func, line "
		"or format";

	ck_assert_int_eq(P(text), -EINVAL);
	ck_assert_str_eq(errs, expect);
	/* nothing was applied */
	ck_assert_str_eq(cfg.clock, "boot");
	ck_assert_int_eq(cfg.fsync, UEV_FSYNC_INTERVAL);
	ck_assert_uint_eq(cfg.nkevents, 4);
}
END_TEST

START_TEST(test_error_limit)
{
	char text[4096] = "[seat]\n";
	const char *last;

	for (int i = 0; i < 60; i++)
		strcat(text, "x = 1\n"); /* lines 2 .. 61 */
	ck_assert_int_eq(P(text), -EINVAL);
	ck_assert_uint_eq(nlines(errs), 51);
	ck_assert(!strncmp(errs, "t.conf:2: [seat] x: unknown key\n", 32));
	ck_assert_ptr_nonnull(strstr(errs, "t.conf:51: [seat] x: unknown key\n"));
	ck_assert_ptr_null(strstr(errs, "t.conf:52:"));
	last = strrchr(errs, '\n') + 1;
	ck_assert_str_eq(last, "t.conf: too many errors, stopped after line 51");
}
END_TEST

START_TEST(test_error_buffer)
{
	const char *text = "[seat]\nclock = bogus\nbuffer_kb = 1\n";
	char small[40];

	/* no buffer at all */
	ck_assert_int_eq(uev_config_parse(&cfg, "t.conf", text, NULL, 0), -EINVAL);
	/* truncated, terminated, marked */
	memset(small, 'Z', sizeof small);
	ck_assert_int_eq(uev_config_parse(&cfg, "t.conf", text, small, sizeof small), -EINVAL);
	ck_assert_uint_eq(strlen(small), sizeof small - 1);
	ck_assert(!strncmp(small, "t.conf:2: [seat] clock: unknown", 31));
	ck_assert_str_eq(small + sizeof small - 4, "...");
	/* truncation never splits a UTF-8 sequence: 'a' + 20 x U+00E9 as the
	 * file name; 36 bytes would end inside the 18th, so 35 are kept */
	memset(small, 'Z', sizeof small);
	ck_assert_int_eq(uev_config_parse(&cfg, "a\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
					  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
					  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
					  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
					  "x\n", small, sizeof small), -EINVAL);
	ck_assert_uint_eq(strlen(small), 38);
	ck_assert_str_eq(small + 35, "...");
	ck_assert_int_eq(small[0], 'a');
	for (size_t i = 1; i < 35; i += 2)
		ck_assert(!memcmp(small + i, "\xc3\xa9", 2));
	/* a previous content is replaced, not appended to */
	strcpy(errs, "old");
	P_ok("[seat]\n");
	ck_assert_str_eq(errs, "");
}
END_TEST

void config_add_syntax_tests(TCase *tc)
{
	tcase_add_test(tc, test_quoting);
	tcase_add_test(tc, test_syntax_errors);
	tcase_add_test(tc, test_line_length);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_multiple_errors);
	tcase_add_test(tc, test_error_limit);
	tcase_add_test(tc, test_error_buffer);
}
