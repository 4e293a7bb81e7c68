/* SPDX-License-Identifier: MIT */
/* Unit tests of the seat configuration (aggregator/config/config*.c). Expected values
 * and message prefixes come from docs/uev.conf.5, not from the parser. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static struct uev_config cfg;
static char errs[16384];
static char tmpdir[PATH_MAX]; /* realpath of a fresh directory per test */

static void mkfile(const char *name, const char *content)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void setup(void)
{
	char t[] = "/tmp/uev-config-test.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(t));
	ck_assert_ptr_nonnull(realpath(t, tmpdir));
	mkfile("a.uev", "a\n");
	mkfile("b.uev", "b\n");
	ck_assert_int_eq(uev_config_default(&cfg, "seat0", NULL), 0);
	errs[0] = '\0';
}

static void teardown(void)
{
	char cmd[PATH_MAX + 32];

	uev_config_free(&cfg);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

static int P(const char *text)
{
	return uev_config_parse(&cfg, "t.conf", text, errs, sizeof errs);
}

static int P_ok(const char *text)
{
	int r = P(text);

	ck_assert_msg(r == 0, "parse failed (%d) on:\n%s\nerrors:\n%s", r, text, errs);
	ck_assert_str_eq(errs, "");
	return r;
}

static unsigned nlines(const char *s)
{
	unsigned n = *s != '\0';

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Exactly one error, starting with @prefix and containing @part. */
static void P_err(const char *text, const char *prefix, const char *part)
{
	int r = P(text);

	ck_assert_msg(r == -EINVAL, "expected -EINVAL, got %d on:\n%s", r, text);
	ck_assert_msg(!strncmp(errs, prefix, strlen(prefix)),
		      "expected prefix '%s', got '%s'", prefix, errs);
	ck_assert_msg(strstr(errs, part), "expected '%s' in '%s'", part, errs);
	ck_assert_msg(nlines(errs) == 1, "expected one message, got:\n%s", errs);
}

static char *path_in(const char *name)
{
	static char p[4][PATH_MAX + 64];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof p[i], "%s/%s", tmpdir, name);
	return p[i];
}

static void assert_cfg_eq(const struct uev_config *a, const struct uev_config *b)
{
	ck_assert_str_eq(a->seat, b->seat);
	ck_assert_str_eq(a->clock, b->clock);
	ck_assert_uint_eq(a->buffer_kb, b->buffer_kb);
	ck_assert_uint_eq(a->subbuf_kb, b->subbuf_kb);
	ck_assert_uint_eq(a->flush_interval_ms, b->flush_interval_ms);
	ck_assert_int_eq(a->fsync, b->fsync);
	ck_assert_uint_eq(a->fsync_interval_s, b->fsync_interval_s);
	ck_assert_int_eq(a->keep_instance, b->keep_instance);
	ck_assert_str_eq(a->ring_path, b->ring_path);
	ck_assert_uint_eq(a->ring_size, b->ring_size);
	ck_assert_uint_eq(a->ring_mode, b->ring_mode);
	ck_assert_int_eq(a->ring_gid, b->ring_gid);
	ck_assert_int_eq(a->ring_direct, b->ring_direct);
	ck_assert_uint_eq(a->nschemas, b->nschemas);
	for (size_t i = 0; i < a->nschemas; i++)
		ck_assert_str_eq(a->schemas[i], b->schemas[i]);
	ck_assert_uint_eq(a->nuser_events, b->nuser_events);
	for (size_t i = 0; i < a->nuser_events; i++)
		ck_assert_str_eq(a->user_events[i], b->user_events[i]);
	ck_assert_uint_eq(a->nkevents, b->nkevents);
	for (size_t i = 0; i < a->nkevents; i++) {
		ck_assert_str_eq(a->kevents[i].system, b->kevents[i].system);
		ck_assert_str_eq(a->kevents[i].event, b->kevents[i].event);
		ck_assert_pstr_eq(a->kevents[i].filter, b->kevents[i].filter);
	}
	ck_assert_uint_eq(a->ndyndbg, b->ndyndbg);
	for (size_t i = 0; i < a->ndyndbg; i++)
		ck_assert_str_eq(a->dyndbg[i], b->dyndbg[i]);
	ck_assert_uint_eq(a->drm_debug, b->drm_debug);
}

/* uev_config_write(cfg) parsed on top of a fresh default equals cfg. */
static void assert_round_trip(void)
{
	struct uev_config back;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(uev_config_write(&cfg, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(uev_config_default(&back, cfg.seat, tmpdir), 0);
	r = uev_config_parse(&back, "written", text, errs, sizeof errs);
	ck_assert_msg(r == 0, "written config does not parse (%d):\n%s\n%s", r, text, errs);
	assert_cfg_eq(&cfg, &back);
	uev_config_free(&back);
	free(text);
}

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

int main(void)
{
	Suite *s = suite_create("uev-config");
	TCase *tc = tcase_create("config");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_default);
	tcase_add_test(tc, test_default_seat);
	tcase_add_test(tc, test_default_schema_dir);
	tcase_add_test(tc, test_all_keys);
	tcase_add_loop_test(tc, test_good_value, 0, (int)(sizeof goods / sizeof *goods));
	tcase_add_test(tc, test_fsync_interval_only_with_interval);
	tcase_add_loop_test(tc, test_bad_value, 0, (int)(sizeof bads / sizeof *bads));
	tcase_add_test(tc, test_filter_limits);
	tcase_add_test(tc, test_filter_verbatim_quoted);
	tcase_add_test(tc, test_quoting);
	tcase_add_test(tc, test_syntax_errors);
	tcase_add_test(tc, test_line_length);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_multiple_errors);
	tcase_add_test(tc, test_error_limit);
	tcase_add_test(tc, test_error_buffer);
	tcase_add_test(tc, test_repeatable);
	tcase_add_test(tc, test_schema_checks);
	tcase_add_test(tc, test_parse_size);
	tcase_add_test(tc, test_size_written);
	tcase_add_test(tc, test_drm_debug);
	tcase_add_test(tc, test_write_format);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
