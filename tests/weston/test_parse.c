/* SPDX-License-Identifier: MIT */
/* Unit tests of uev-weston's parsers (weston/tl-parse.c, config.c), with the
 * lines Weston 10 writes into its "timeline" and "log" scopes, as they
 * arrive: one write per point, object records in three writes. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/input-event-codes.h>

#include "tl-parse.h"
#include "uev-weston.h"

#define MAXL 8
static char got[MAXL][UEVW_LINE_MAX];
static size_t got_len[MAXL];
static int ngot;

static void collect(void *ctx, char *line, size_t len)
{
	(void)ctx;
	ck_assert_int_lt(ngot, MAXL);
	ck_assert_uint_eq(strlen(line), len);   /* NUL-terminated, no '\n' */
	memcpy(got[ngot], line, len + 1);
	got_len[ngot++] = len;
}

static struct uevw_lines lb;

static void setup(void)
{
	memset(&lb, 0, sizeof(lb));
	ngot = 0;
}

static void feed(const char *s)
{
	uevw_lines_feed(&lb, s, strlen(s), collect, NULL);
}

static bool str_is(const struct uevw_str *s, const char *want)
{
	return s->p && s->len == strlen(want) && !memcmp(s->p, want, s->len);
}

static enum uevw_kind parse(const char *line, struct uevw_record *r)
{
	return uevw_parse_timeline(line, strlen(line), r);
}

START_TEST(point_plain)
{
	struct uevw_record r;

	ck_assert_int_eq(parse("{ \"T\":[4923, 618649626], \"N\":\"core_repaint_begin\", \"wo\":1 }", &r), UEVW_POINT);
	ck_assert_uint_eq(r.mono_ns, 4923618649626ull);
	ck_assert(str_is(&r.name, "core_repaint_begin"));
	ck_assert(r.has_output && !r.has_surface && !r.has_vblank && !r.has_gpu);
	ck_assert_uint_eq(r.output, 1);
}
END_TEST

/* nsec is printed with %ld: 5 ns is "5", not "000000005" */
START_TEST(point_nsec_not_padded)
{
	struct uevw_record r;

	ck_assert_int_eq(parse("{ \"T\":[12, 5], \"N\":\"core_repaint_req\", \"wo\":3 }", &r), UEVW_POINT);
	ck_assert_uint_eq(r.mono_ns, 12000000005ull);
	ck_assert_int_eq(parse("{ \"T\":[12, 1000000000], \"N\":\"x\" }", &r), UEVW_OTHER);
}
END_TEST

START_TEST(point_vblank_surface_gpu)
{
	struct uevw_record r;

	ck_assert_int_eq(parse("{ \"T\":[4923, 609551722], \"N\":\"core_repaint_finished\", \"wo\":1, "
			       "\"vblank_monotonic\":[4923, 609550406] }", &r), UEVW_POINT);
	ck_assert(r.has_vblank);
	ck_assert_uint_eq(r.vblank_ns, 4923609550406ull);
	ck_assert_int_eq(parse("{ \"T\":[1, 2], \"N\":\"core_flush_damage\", \"ws\":2, \"wo\":1 }", &r), UEVW_POINT);
	ck_assert(r.has_surface && r.has_output);
	ck_assert_uint_eq(r.surface, 2);
	ck_assert_uint_eq(r.output, 1);
	ck_assert_int_eq(parse("{ \"T\":[1, 2], \"N\":\"core_commit_damage\", \"ws\":7 }", &r), UEVW_POINT);
	ck_assert(r.has_surface && !r.has_output);
	ck_assert_int_eq(parse("{ \"T\":[7, 100], \"N\":\"renderer_gpu_begin\", \"gpu\":[6, 999999999], \"wo\":2 }", &r),
			 UEVW_POINT);
	ck_assert(r.has_gpu && r.has_output);
	ck_assert_uint_eq(r.gpu_ns, 6999999999ull);
	/* a key this parser does not know is skipped, whatever its value */
	ck_assert_int_eq(parse("{ \"T\":[1, 2], \"N\":\"future\", \"x\":[1, 2], \"y\":\"s\", \"z\":9 }", &r), UEVW_POINT);
	ck_assert(str_is(&r.name, "future"));
}
END_TEST

START_TEST(malformed)
{
	static const char *const bad[] = {
		"", "{", "}", "not json", "{ \"T\":[1, 2] }", "{ \"N\":\"x\" }",
		"{ \"T\":[1 2], \"N\":\"x\" }", "{ \"T\":[1, 2], \"N\":\"x\", \"wo\":4294967296 }",
		"{ \"T\":[1, 2], \"N\":\"x\" } trailing", "{ \"T\":[1, 2], \"N\":\"x\"",
		"{ \"T\":[99999999999999999999, 2], \"N\":\"x\" }", "{ \"id\":1, \"type\":\"weston_output\" }",
		"{ \"id\":1, \"type\":\"something_else\", \"name\":\"a\" }",
	};
	struct uevw_record r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(bad[i], &r) == UEVW_OTHER, "accepted: %s", bad[i]);
}
END_TEST

/* An object record comes in three writes: prefix, quoted string, tail. */
START_TEST(object_three_writes)
{
	struct uevw_record r;

	feed("{ \"id\":1, \"type\":\"weston_output\", \"name\":");
	feed("\"headless\"");
	ck_assert_int_eq(ngot, 0);
	feed(" }\n");
	ck_assert_int_eq(ngot, 1);
	ck_assert_int_eq(uevw_parse_timeline(got[0], got_len[0], &r), UEVW_OBJ_OUTPUT);
	ck_assert_uint_eq(r.id, 1);
	ck_assert(str_is(&r.text, "headless"));

	feed("{ \"id\":5, \"type\":\"weston_surface\", \"desc\":");
	feed("\"top-level window 'simple-shm' of org.freedesktop.weston.simple-shm\"");
	feed(", \"main_surface\":3 }\n");
	ck_assert_int_eq(ngot, 2);
	ck_assert_int_eq(uevw_parse_timeline(got[1], got_len[1], &r), UEVW_OBJ_SURFACE);
	ck_assert_uint_eq(r.id, 5);
	ck_assert_uint_eq(r.main_surface, 3);
	ck_assert(str_is(&r.text, "top-level window 'simple-shm' of org.freedesktop.weston.simple-shm"));
}
END_TEST

START_TEST(surface_desc_null_and_quotes)
{
	struct uevw_record r;

	ck_assert_int_eq(parse("{ \"id\":2, \"type\":\"weston_surface\", \"desc\":null }", &r), UEVW_OBJ_SURFACE);
	ck_assert_ptr_null(r.text.p);
	/* Weston does not escape: a title may hold '"', even '", "' */
	ck_assert_int_eq(parse("{ \"id\":3, \"type\":\"weston_surface\", \"desc\":\"a \"b\", c\" }", &r),
			 UEVW_OBJ_SURFACE);
	ck_assert(str_is(&r.text, "a \"b\", c"));
}
END_TEST

START_TEST(lines_split_and_joined)
{
	/* two points in one write, one point over two writes */
	feed("{ \"T\":[1, 2], \"N\":\"a\" }\n{ \"T\":[3, 4], \"N\":\"b\" }\n{ \"T\":[5,");
	ck_assert_int_eq(ngot, 2);
	feed(" 6], \"N\":\"c\" }\n");
	ck_assert_int_eq(ngot, 3);
	ck_assert_str_eq(got[0], "{ \"T\":[1, 2], \"N\":\"a\" }");
	ck_assert_str_eq(got[2], "{ \"T\":[5, 6], \"N\":\"c\" }");
	ck_assert_uint_eq(lb.dropped, 0);
}
END_TEST

/* A line longer than the buffer is dropped whole and counted; the lines
 * around it are intact. */
START_TEST(line_too_long)
{
	char *big = malloc(UEVW_LINE_MAX * 2 + 2);

	ck_assert_ptr_nonnull(big);
	feed("before\n");
	memset(big, 'x', UEVW_LINE_MAX * 2);
	big[UEVW_LINE_MAX * 2] = '\0';
	feed("start");
	feed(big);          /* overflows here */
	feed(big);          /* and stays dropped */
	feed("\nafter\n");
	ck_assert_int_eq(ngot, 2);
	ck_assert_str_eq(got[0], "before");
	ck_assert_str_eq(got[1], "after");
	ck_assert_uint_eq(lb.dropped, 1);
	/* the longest line kept: UEVW_LINE_MAX - 1 bytes (one for the NUL) */
	big[UEVW_LINE_MAX - 1] = '\n';
	big[UEVW_LINE_MAX] = '\0';
	feed(big);
	ck_assert_int_eq(ngot, 3);
	ck_assert_uint_eq(got_len[2], UEVW_LINE_MAX - 1);
	big[UEVW_LINE_MAX] = '\n';
	big[UEVW_LINE_MAX - 1] = 'x';
	big[UEVW_LINE_MAX + 1] = '\0';
	feed(big);
	ck_assert_int_eq(ngot, 3);
	ck_assert_uint_eq(lb.dropped, 2);
	free(big);
}
END_TEST

START_TEST(log_prefix)
{
	ck_assert_str_eq(uevw_log_strip("[07:16:33.968] weston 10.0.1"), "weston 10.0.1");
	ck_assert_str_eq(uevw_log_strip("[07:16:33.968]"), "");
	/* continuation lines and other scopes have no stamp: kept whole */
	ck_assert_str_eq(uevw_log_strip("               Build: 10.0.1"), "               Build: 10.0.1");
	ck_assert_str_eq(uevw_log_strip("[repaint] out 1"), "[repaint] out 1");
	ck_assert_str_eq(uevw_log_strip("[07:16:33.96] x"), "[07:16:33.96] x");
	ck_assert_str_eq(uevw_log_strip("[07:16:33.968x] x"), "[07:16:33.968x] x");
	ck_assert(uevw_log_is_date("Date: 2026-12-02 UTC"));
	ck_assert(!uevw_log_is_date("[07:16:33.968] Date: x"));
}
END_TEST

START_TEST(log_levels)
{
	ck_assert_int_eq(uevw_log_level("fatal: failed to create compositor backend", 6), 3);
	ck_assert_int_eq(uevw_log_level("Error: bad thing", 6), 3);
	ck_assert_int_eq(uevw_log_level("atomic: couldn't commit new state", 6), 3);
	ck_assert_int_eq(uevw_log_level("warning: no input devices found", 6), 4);
	ck_assert_int_eq(uevw_log_level("Output 'headless' enabled", 6), 6);
	ck_assert_int_eq(uevw_log_level("[repaint] terrorize", 7), 7);   /* words only */
	ck_assert_int_eq(uevw_log_level("a warning and an error", 6), 3);
}
END_TEST

START_TEST(config_scopes)
{
	struct uevw_config cfg;
	char err[128];

	ck_assert_int_eq(uevw_parse_scopes("log,timeline", &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.nscopes, 2);
	ck_assert_str_eq(cfg.scopes[1], "timeline");
	ck_assert_int_eq(uevw_parse_scopes(" log , drm-backend,proto_x ", &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.nscopes, 3);
	ck_assert_str_eq(cfg.scopes[1], "drm-backend");
	static const char *const bad[] = { "", "log,,timeline", "log,", "lo g", "log;timeline",
					   "log,log", "a,b,c,d,e,f,g,h,i" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(uevw_parse_scopes(bad[i], &cfg, err, sizeof(err)) == -EINVAL, "accepted '%s'", bad[i]);
		ck_assert_msg(err[0], "no reason for '%s'", bad[i]);
	}
}
END_TEST

START_TEST(config_snapshot_key)
{
	static const char *const bad[] = { "", "+", "ctrl+", "+u", "ctrl++u", "meta+u", "ctrl+ctrl+u",
					   "uu", "f13", "ctrl+alt", "u+ctrl" };
	uint32_t key, mods;
	char err[160];

	ck_assert_int_eq(uevw_parse_key("u", &key, &mods, err, sizeof(err)), 0);
	ck_assert_uint_eq(key, KEY_U);
	ck_assert_uint_eq(mods, 0);
	ck_assert_int_eq(uevw_parse_key("Ctrl+ALT+F12", &key, &mods, err, sizeof(err)), 0);
	ck_assert_uint_eq(key, KEY_F12);
	ck_assert_uint_eq(mods, UEVW_MOD_CTRL | UEVW_MOD_ALT);
	ck_assert_int_eq(uevw_parse_key("super+shift+print", &key, &mods, err, sizeof(err)), 0);
	ck_assert_uint_eq(key, KEY_SYSRQ);
	ck_assert_uint_eq(mods, UEVW_MOD_SUPER | UEVW_MOD_SHIFT);
	ck_assert_int_eq(uevw_parse_key("0", &key, &mods, err, sizeof(err)), 0);
	ck_assert_uint_eq(key, KEY_0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(uevw_parse_key(bad[i], &key, &mods, err, sizeof(err)) == -EINVAL,
			      "accepted '%s'", bad[i]);
	uevw_parse_key("meta+u", &key, &mods, err, sizeof(err));
	ck_assert_str_eq(err, "'meta+u': 'meta' is no modifier (ctrl, alt, super, shift)");
	uevw_parse_key("f13", &key, &mods, err, sizeof(err));
	ck_assert_msg(strstr(err, "unknown key 'f13'"), "%s", err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("weston-parse");
	TCase *tc = tcase_create("parse");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, point_plain);
	tcase_add_test(tc, point_nsec_not_padded);
	tcase_add_test(tc, point_vblank_surface_gpu);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, object_three_writes);
	tcase_add_test(tc, surface_desc_null_and_quotes);
	tcase_add_test(tc, lines_split_and_joined);
	tcase_add_test(tc, line_too_long);
	tcase_add_test(tc, log_prefix);
	tcase_add_test(tc, log_levels);
	tcase_add_test(tc, config_scopes);
	tcase_add_test(tc, config_snapshot_key);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
