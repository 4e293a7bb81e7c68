/* SPDX-License-Identifier: MIT */
/* Seat configuration: every key with good values, one message per bad value,
 * kernel event filters (docs/uev.conf.5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-test.h"

/* ---- Every key with good values ----------------------------------------- */

START_TEST(test_all_keys)
{
	char text[8192];

	snprintf(text, sizeof text,
		 "# full configuration\n"
		 "[seat]\n"
		 "clock = mono_raw\n"
		 "buffer_kb = 8192   # per CPU\n"
		 "subbuf_kb = 16\n"
		 "flush_interval_ms = 250\n"
		 "fsync = interval\n"
		 "fsync_interval_s = 5\n"
		 "keep_instance = yes\n"
		 "\n"
		 "[ring]\n"
		 "path = /srv/rings/seat0.ring\n"
		 "size = 1G\n"
		 "mode = 0600\n"
		 "group = root\n"
		 "direct_io = no\n"
		 "compression = zstd:3\n"
		 "[user]\n"
		 "schema = %s\n"
		 "schema = %s\n"
		 "event = weston_*\n"
		 "event = frame_done\n"
		 "event = commit_[ab]?\n"
		 "[kernel]\n"
		 "event = drm:drm_vblank_event if crtc == 0\n"
		 "event = sched:sched_*\n"
		 "[dyndbg]\n"
		 "query = module drm +p\n"
		 "query = file drivers/gpu/drm/drm_vblank.c line 100 =pf\n",
		 path_in("b.uev"), path_in("a.uev"));
	P_ok(text);
	ck_assert_str_eq(cfg.clock, "mono_raw");
	ck_assert_uint_eq(cfg.buffer_kb, 8192);
	ck_assert_uint_eq(cfg.subbuf_kb, 16);
	ck_assert_uint_eq(cfg.flush_interval_ms, 250);
	ck_assert_int_eq(cfg.fsync, UEV_FSYNC_INTERVAL);
	ck_assert_uint_eq(cfg.fsync_interval_s, 5);
	ck_assert_int_eq(cfg.keep_instance, 1);
	ck_assert_str_eq(cfg.ring_path, "/srv/rings/seat0.ring");
	ck_assert_uint_eq(cfg.ring_size, 1u << 30);
	ck_assert_uint_eq(cfg.ring_mode, 0600);
	ck_assert_int_eq(cfg.ring_gid, 0);
	ck_assert_int_eq(cfg.ring_direct, 0);
	ck_assert_int_eq(cfg.ring_compression, 3);
	ck_assert_uint_eq(cfg.nschemas, 2); /* file order, not sorted */
	ck_assert_str_eq(cfg.schemas[0], path_in("b.uev"));
	ck_assert_str_eq(cfg.schemas[1], path_in("a.uev"));
	ck_assert_uint_eq(cfg.nuser_events, 3);
	ck_assert_str_eq(cfg.user_events[0], "weston_*");
	ck_assert_str_eq(cfg.user_events[1], "frame_done");
	ck_assert_str_eq(cfg.user_events[2], "commit_[ab]?");
	ck_assert_uint_eq(cfg.nkevents, 2);
	ck_assert_str_eq(cfg.kevents[0].system, "drm");
	ck_assert_str_eq(cfg.kevents[0].event, "drm_vblank_event");
	ck_assert_str_eq(cfg.kevents[0].filter, "crtc == 0");
	ck_assert_str_eq(cfg.kevents[1].system, "sched");
	ck_assert_str_eq(cfg.kevents[1].event, "sched_*");
	ck_assert_ptr_null(cfg.kevents[1].filter);
	ck_assert_uint_eq(cfg.ndyndbg, 2);
	ck_assert_str_eq(cfg.dyndbg[0], "module drm +p");
	ck_assert_str_eq(cfg.dyndbg[1], "file drivers/gpu/drm/drm_vblank.c line 100 =pf");
	assert_round_trip();
}
END_TEST

/* One key at a time: section, key, value, and how to check the result. */
static const struct good {
	const char *sec, *key, *value, *expect; /* expect: printed field */
} goods[] = {
	{ "seat", "clock", "boot", "boot" }, { "seat", "clock", "mono", "mono" },
	{ "seat", "clock", "mono_raw", "mono_raw" }, { "seat", "clock", "tai", "tai" },
	{ "seat", "clock", "global", "global" }, { "seat", "clock", "local", "local" },
	{ "seat", "clock", "perf", "perf" },
	{ "seat", "buffer_kb", "64", "64" }, { "seat", "buffer_kb", "1048576", "1048576" },
	{ "seat", "buffer_kb", "0100", "100" },
	{ "seat", "subbuf_kb", "0", "0" }, { "seat", "subbuf_kb", "4", "4" },
	{ "seat", "subbuf_kb", "8", "8" }, { "seat", "subbuf_kb", "1024", "1024" },
	{ "seat", "flush_interval_ms", "10", "10" },
	{ "seat", "flush_interval_ms", "600000", "600000" },
	{ "seat", "fsync", "every-flush", "0" }, { "seat", "fsync", "interval", "1" },
	{ "seat", "fsync", "never", "2" },
	{ "seat", "fsync_interval_s", "1", "1" }, { "seat", "fsync_interval_s", "86400", "86400" },
	{ "seat", "keep_instance", "yes", "1" }, { "seat", "keep_instance", "true", "1" },
	{ "seat", "keep_instance", "1", "1" }, { "seat", "keep_instance", "no", "0" },
	{ "seat", "keep_instance", "false", "0" }, { "seat", "keep_instance", "0", "0" },
	{ "ring", "path", "/r", "/r" }, { "ring", "path", "/var/lib/uev/x y.ring", "/var/lib/uev/x y.ring" },
	{ "ring", "path", "/a#b", "/a#b" },
	{ "ring", "size", "260K", "266240" }, { "ring", "size", "266240", "266240" },
	{ "ring", "size", "1T", "1099511627776" }, { "ring", "size", "64m", "67108864" },
	{ "ring", "size", "3G", "3221225472" }, { "ring", "size", "1024k", "1048576" },
	{ "ring", "mode", "0640", "416" }, { "ring", "mode", "640", "416" },
	{ "ring", "mode", "0", "0" }, { "ring", "mode", "0775", "509" },
	{ "ring", "mode", "00600", "384" },
	{ "ring", "group", "root", "0" }, { "ring", "group", "0", "0" },
	{ "ring", "direct_io", "no", "0" }, { "ring", "direct_io", "yes", "1" },
	{ "ring", "compression", "none", "0" }, { "ring", "compression", "zstd", "1" },
	{ "ring", "compression", "zstd:1", "1" }, { "ring", "compression", "zstd:19", "19" },
	{ "ring", "compression", "zstd:22", "22" },
	{ "ring", "group", "1234", "1234" }, { "ring", "group", "4294967294", "4294967294" },
	{ "user", "event", "weston_frame", "weston_frame" }, { "user", "event", "*", "*" },
	{ "user", "event", "a?c[xyz]_*", "a?c[xyz]_*" },
	{ "kernel", "event", "printk:console", "printk:console" },
	{ "kernel", "event", "drm:*", "drm:*" },
	{ "kernel", "event", "drm:drm_vblank_event if crtc == 0", "drm:drm_vblank_event|crtc == 0" },
	{ "kernel", "event", "drm:drm_vblank_event\tif\t crtc==0 &&  seq>1",
	  "drm:drm_vblank_event|crtc==0 &&  seq>1" },
	{ "kernel", "event", "sched:sched_process_exec if comm ~ \"wes*\"",
	  "sched:sched_process_exec|comm ~ \"wes*\"" },
	{ "dyndbg", "query", "module drm +p", "module drm +p" },
	{ "dyndbg", "query", "func drm_crtc_vblank_on -p", "func drm_crtc_vblank_on -p" },
	{ "dyndbg", "query", "format \"vblank on\" =_", "format \"vblank on\" =_" },
	{ "dyndbg", "query", "class DRM_UT_KMS module drm +pmflt", "class DRM_UT_KMS module drm +pmflt" },
	{ "dyndbg", "query", "file drm_vblank.c line 10-20 +", "file drm_vblank.c line 10-20 +" },
	/* DRM categories: bit 0 core .. bit 9 drmres, any case, DRM_UT_ optional */
	{ "dyndbg", "drm_debug", "kms atomic", "20" },
	{ "dyndbg", "drm_debug", "KMS,Atomic", "20" },
	{ "dyndbg", "drm_debug", "core, driver ,kms", "7" },
	{ "dyndbg", "drm_debug", "drm_ut_dp DRM_UT_LEASE", "384" },
	{ "dyndbg", "drm_debug", "prime vbl state drmres", "616" },
	{ "dyndbg", "drm_debug", "kms kms", "4" },
	{ "dyndbg", "drm_debug", "0x14", "20" },
	{ "dyndbg", "drm_debug", "0X3FF", "1023" },
	{ "dyndbg", "drm_debug", "20", "20" },
	{ "dyndbg", "drm_debug", "0x100 kms", "260" },
	{ "dyndbg", "drm_debug", "none", "0" },
	{ "dyndbg", "drm_debug", "0", "0" },
	{ "dyndbg", "drm_debug", "\"kms\tdp\"", "260" },
};

static void field(char *out, size_t size, const char *key, const char *sec)
{
	if (!strcmp(key, "clock"))
		snprintf(out, size, "%s", cfg.clock);
	else if (!strcmp(key, "buffer_kb"))
		snprintf(out, size, "%u", cfg.buffer_kb);
	else if (!strcmp(key, "subbuf_kb"))
		snprintf(out, size, "%u", cfg.subbuf_kb);
	else if (!strcmp(key, "flush_interval_ms"))
		snprintf(out, size, "%u", cfg.flush_interval_ms);
	else if (!strcmp(key, "fsync"))
		snprintf(out, size, "%d", (int)cfg.fsync);
	else if (!strcmp(key, "fsync_interval_s"))
		snprintf(out, size, "%u", cfg.fsync_interval_s);
	else if (!strcmp(key, "keep_instance"))
		snprintf(out, size, "%d", cfg.keep_instance);
	else if (!strcmp(key, "direct_io"))
		snprintf(out, size, "%d", cfg.ring_direct);
	else if (!strcmp(key, "compression"))
		snprintf(out, size, "%d", cfg.ring_compression);
	else if (!strcmp(key, "path"))
		snprintf(out, size, "%s", cfg.ring_path);
	else if (!strcmp(key, "size"))
		snprintf(out, size, "%llu", (unsigned long long)cfg.ring_size);
	else if (!strcmp(key, "mode"))
		snprintf(out, size, "%u", cfg.ring_mode);
	else if (!strcmp(key, "group"))
		snprintf(out, size, "%ld", cfg.ring_gid);
	else if (!strcmp(sec, "user"))
		snprintf(out, size, "%s", cfg.nuser_events == 1 ? cfg.user_events[0] : "?");
	else if (!strcmp(sec, "kernel") && cfg.nkevents == 1)
		snprintf(out, size, "%s:%s%s%s", cfg.kevents[0].system, cfg.kevents[0].event,
			 cfg.kevents[0].filter ? "|" : "",
			 cfg.kevents[0].filter ? cfg.kevents[0].filter : "");
	else if (!strcmp(key, "drm_debug"))
		snprintf(out, size, "%u", cfg.drm_debug);
	else if (!strcmp(sec, "dyndbg"))
		snprintf(out, size, "%s", cfg.ndyndbg == 1 ? cfg.dyndbg[0] : "?");
	else
		snprintf(out, size, "?");
}

START_TEST(test_good_value)
{
	const struct good *g = &goods[_i];
	char text[512], got[8192];

	snprintf(text, sizeof text, "[%s]\n%s = %s\n", g->sec, g->key, g->value);
	P_ok(text);
	field(got, sizeof got, g->key, g->sec);
	ck_assert_msg(!strcmp(got, g->expect), "%s: got '%s', expected '%s'", text, got, g->expect);
	assert_round_trip();
}
END_TEST

START_TEST(test_fsync_interval_only_with_interval)
{
	P_ok("[seat]\nfsync = every-flush\n");
	assert_round_trip();
	P_ok("[seat]\nfsync_interval_s = 7\nfsync = interval\n");
	ck_assert_uint_eq(cfg.fsync_interval_s, 7);
	P_err("[seat]\nfsync_interval_s = 7\nfsync = never\n",
	      "t.conf:2: [seat] fsync_interval_s: ", "only applies to fsync = interval");
	ck_assert_int_eq(cfg.fsync, UEV_FSYNC_INTERVAL); /* unchanged on error */
}
END_TEST

/* ---- Bad values: one message "t.conf:2: [sec] key: ..." ------------------ */

static const struct bad {
	const char *sec, *key, *value, *part;
} bads[] = {
	{ "seat", "clock", "Boot", "unknown clock 'Boot'" },
	{ "seat", "clock", "x86_tsc", "unknown clock 'x86_tsc' (boot, mono, mono_raw, tai, local, global or perf)" },
	/* Offered by the kernel, but no wall time within 1 ms (clock-sync.h). */
	{ "seat", "clock", "counter", "clock 'counter' cannot be put on the wall clock: it counts events" },
	{ "seat", "clock", "uptime", "clock 'uptime' cannot be put on the wall clock: it ticks in jiffies" },
	{ "seat", "clock", "x86-tsc", "clock 'x86-tsc' cannot be put on the wall clock: it counts CPU cycles, "
				      "not nanoseconds; use boot, mono, mono_raw, tai, local, global or perf" },
	{ "seat", "clock", "", "empty value" },
	{ "seat", "buffer_kb", "63", "out of range (64 .. 1048576)" },
	{ "seat", "buffer_kb", "1048577", "out of range" },
	{ "seat", "buffer_kb", "99999999999999999999999", "out of range" },
	{ "seat", "buffer_kb", "-1", "not a number" },
	{ "seat", "buffer_kb", "4k", "not a number" },
	{ "seat", "buffer_kb", "0x100", "not a number" },
	{ "seat", "subbuf_kb", "2", "power of two" },
	{ "seat", "subbuf_kb", "12", "power of two" },
	{ "seat", "subbuf_kb", "2048", "out of range (0 .. 1024)" },
	{ "seat", "flush_interval_ms", "9", "out of range (10 .. 600000)" },
	{ "seat", "flush_interval_ms", "600001", "out of range" },
	{ "seat", "fsync", "always", "unknown policy 'always'" },
	{ "seat", "fsync_interval_s", "0", "out of range (1 .. 86400)" },
	{ "seat", "fsync_interval_s", "86401", "out of range" },
	{ "seat", "keep_instance", "Yes", "not a boolean" },
	{ "seat", "keep_instance", "2", "not a boolean" },
	{ "ring", "direct_io", "auto", "not a boolean" },
	{ "ring", "compression", "lz4", "'lz4' is not a compression: none, zstd, or zstd:LEVEL with a level of 1 to 22" },
	{ "ring", "compression", "zstd:0", "not a compression" },
	{ "ring", "compression", "zstd:23", "not a compression" },
	{ "ring", "compression", "zstd:", "not a compression" },
	{ "ring", "compression", "zstd:-1", "not a compression" },
	{ "ring", "compression", "ZSTD", "not a compression" },
	{ "ring", "path", "relative.ring", "not an absolute path" },
	{ "ring", "path", "/var/lib/uev/", "ends with '/'" },
	{ "ring", "size", "266239", "out of range (260K .. 1T)" },
	{ "ring", "size", "259K", "out of range" },
	{ "ring", "size", "1099511627777", "out of range" },
	{ "ring", "size", "2T", "out of range" },
	{ "ring", "size", "64MB", "not a size" },
	{ "ring", "size", "64 M", "not a size" },
	{ "ring", "size", "1.5G", "not a size" },
	{ "ring", "size", "-64M", "not a size" },
	{ "ring", "size", "99999999999999999999", "not a size" },
	{ "ring", "size", "20000000000G", "not a size" },
	{ "ring", "mode", "0666", "world-writable" },
	{ "ring", "mode", "0642", "world-writable" },
	{ "ring", "mode", "01640", "bits outside 0777" },
	{ "ring", "mode", "4750", "bits outside 0777" },
	{ "ring", "mode", "0o640", "not an octal mode" },
	{ "ring", "mode", "0680", "not an octal mode" },
	{ "ring", "mode", "rw-r-----", "not an octal mode" },
	{ "ring", "group", "no_such_group_uevtest", "unknown group 'no_such_group_uevtest'" },
	{ "ring", "group", "4294967295", "out of range" },
	{ "ring", "group", "12a", "neither a group name nor a number" },
	{ "user", "schema", "relative.uev", "not an absolute path" },
	{ "user", "schema", "/nonexistent/uev-test/x.uev", "No such file or directory" },
	{ "user", "schema", "/", "not a regular file" },
	{ "user", "event", "weston-frame", "invalid character at column 7" },
	{ "user", "event", "a b", "invalid character" },
	{ "user", "event", "a:b", "invalid character" },
	{ "user", "event", "a[b", "'[' without ']'" },
	{ "user", "event", "ab]", "']' without '['" },
	{ "user", "event", "a[]", "empty [] class" },
	{ "user", "event", "a[*]", "inside a [...] class" },
	{ "user", "event", "a234567890123456789012345678901234567890123456789012345678901234"
			   "5678901234567890123456789012345678901234567890123456789012345678",
	  "too long" },
	{ "kernel", "event", "printk", "not SYSTEM:EVENT" },
	{ "kernel", "event", "a:b:c", "not SYSTEM:EVENT" },
	{ "kernel", "event", ":console", "system name" },
	{ "kernel", "event", "printk:", "missing event name" },
	{ "kernel", "event", "pr*k:console", "invalid system name" },
	{ "kernel", "event", "drm:vbl-ank", "invalid character" },
	{ "kernel", "event", "drm:vblank crtc == 0", "expected 'if FILTER'" },
	{ "kernel", "event", "drm:vblank iffy", "expected 'if FILTER'" },
	{ "kernel", "event", "drm:vblank if", "missing filter after 'if'" },
	{ "kernel", "event", "drm:vblank if   ", "missing filter after 'if'" }, /* trimmed */
	{ "dyndbg", "query", "+p", "needs at least one of module" },
	{ "dyndbg", "query", "class X +p", "needs at least one of module" },
	{ "dyndbg", "query", "module drm", "must be the flags" },
	{ "dyndbg", "query", "module drm +x", "must be the flags" },
	{ "dyndbg", "query", "module drm p", "must be the flags" },
	{ "dyndbg", "query", "module +p", "has no value" },
	{ "dyndbg", "query", "driver drm +p", "unknown keyword 'driver'" },
	{ "dyndbg", "query", "module drm +p; module i915 +p", "one query per line" },
	{ "dyndbg", "query", "format \"abc +p", "unterminated" },
	{ "dyndbg", "drm_debug", "kms bogus", "unknown DRM debug category 'bogus'" },
	{ "dyndbg", "drm_debug", "kms;atomic", "unknown DRM debug category 'kms;atomic'" },
	{ "dyndbg", "drm_debug", "ut_kms", "unknown DRM debug category 'ut_kms'" },
	{ "dyndbg", "drm_debug", "-1", "unknown DRM debug category '-1'" },
	{ "dyndbg", "drm_debug", "0x400", "'0x400' has bits outside 0x3ff" },
	{ "dyndbg", "drm_debug", "1024", "'1024' has bits outside 0x3ff" },
	{ "dyndbg", "drm_debug", "99999999999999999999999", "has bits outside 0x3ff" },
	{ "dyndbg", "drm_debug", "0x", "'0x' is not a number (decimal, or 0x and hex digits)" },
	{ "dyndbg", "drm_debug", "12ab", "'12ab' is not a number" },
	{ "dyndbg", "drm_debug", "0x1g", "'0x1g' is not a number" },
	{ "dyndbg", "drm_debug", ", ,", "no category given (write none for no categories)" },
	{ "dyndbg", "drm_debug", "", "empty value" },
	{ "dyndbg", "drm_debug", "000000000000000000000000000000000000000000000000000000000000000001",
	  "is too long for a category or a number" },
};

START_TEST(test_bad_value)
{
	const struct bad *b = &bads[_i];
	char text[512], prefix[128];

	snprintf(text, sizeof text, "[%s]\n%s = %s\n", b->sec, b->key, b->value);
	snprintf(prefix, sizeof prefix, "t.conf:2: [%s] %s: ", b->sec, b->key);
	P_err(text, prefix, b->part);
}
END_TEST

START_TEST(test_filter_limits)
{
	char *text = malloc(8300), *f = malloc(4200);

	memset(f, 'x', 4096);
	f[0] = 'a'; /* kept verbatim, whatever it says */
	f[4096] = '\0';
	snprintf(text, 8300, "[kernel]\nevent = a:b if %s\n", f);
	P_ok(text);
	ck_assert_uint_eq(strlen(cfg.kevents[0].filter), 4096);
	ck_assert_str_eq(cfg.kevents[0].filter, f);
	strcat(f, "y");
	snprintf(text, 8300, "[kernel]\nevent = a:b if %s\n", f);
	P_err(text, "t.conf:2: [kernel] event: ", "filter too long (4097 bytes, at most 4096)");
	/* an event name of 127 bytes fits, 128 does not */
	memset(f, 'e', 128);
	f[127] = '\0';
	snprintf(text, 8300, "[kernel]\nevent = s:%s\n", f);
	P_ok(text);
	ck_assert_str_eq(cfg.kevents[0].event, f);
	strcat(f, "e");
	snprintf(text, 8300, "[kernel]\nevent = s:%s\n", f);
	P_err(text, "t.conf:2: [kernel] event: ", "too long");
	free(text);
	free(f);
}
END_TEST

START_TEST(test_filter_verbatim_quoted)
{
	/* a '#' after a blank would start a comment: quote the whole value */
	P_ok("[kernel]\nevent = \"sched:sched_switch if next_comm == \\\"a #1\\\"  \"\n");
	ck_assert_str_eq(cfg.kevents[0].filter, "next_comm == \"a #1\"  ");
	assert_round_trip();
	P_ok("[kernel]\nevent = sched:sched_switch if prev_prio < 100 # comment\n");
	ck_assert_str_eq(cfg.kevents[0].filter, "prev_prio < 100");
}
END_TEST

void config_add_value_tests(TCase *tc)
{
	tcase_add_test(tc, test_all_keys);
	tcase_add_loop_test(tc, test_good_value, 0, (int)(sizeof goods / sizeof *goods));
	tcase_add_test(tc, test_fsync_interval_only_with_interval);
	tcase_add_loop_test(tc, test_bad_value, 0, (int)(sizeof bads / sizeof *bads));
	tcase_add_test(tc, test_filter_limits);
	tcase_add_test(tc, test_filter_verbatim_quoted);
}
