/* SPDX-License-Identifier: MIT */
/* The fixture and helpers the seat configuration tests share (config-test.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-test.h"

struct uev_config cfg;
char errs[16384];
char tmpdir[PATH_MAX];

void mkfile(const char *name, const char *content)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	ck_assert_int_eq(fclose(f), 0);
}

void ct_setup(void)
{
	char t[] = "/tmp/uev-config-test.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(t));
	ck_assert_ptr_nonnull(realpath(t, tmpdir));
	mkfile("a.uev", "a\n");
	mkfile("b.uev", "b\n");
	ck_assert_int_eq(uev_config_default(&cfg, "seat0", NULL), 0);
	errs[0] = '\0';
}

void ct_teardown(void)
{
	char cmd[PATH_MAX + 32];

	uev_config_free(&cfg);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

int P(const char *text)
{
	return uev_config_parse(&cfg, "t.conf", text, errs, sizeof errs);
}

int P_ok(const char *text)
{
	int r = P(text);

	ck_assert_msg(r == 0, "parse failed (%d) on:\n%s\nerrors:\n%s", r, text, errs);
	ck_assert_str_eq(errs, "");
	return r;
}

unsigned nlines(const char *s)
{
	unsigned n = *s != '\0';

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Exactly one error, starting with @prefix and containing @part. */
void P_err(const char *text, const char *prefix, const char *part)
{
	int r = P(text);

	ck_assert_msg(r == -EINVAL, "expected -EINVAL, got %d on:\n%s", r, text);
	ck_assert_msg(!strncmp(errs, prefix, strlen(prefix)),
		      "expected prefix '%s', got '%s'", prefix, errs);
	ck_assert_msg(strstr(errs, part), "expected '%s' in '%s'", part, errs);
	ck_assert_msg(nlines(errs) == 1, "expected one message, got:\n%s", errs);
}

char *path_in(const char *name)
{
	static char p[4][PATH_MAX + 64];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof p[i], "%s/%s", tmpdir, name);
	return p[i];
}

void assert_cfg_eq(const struct uev_config *a, const struct uev_config *b)
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
	ck_assert_str_eq(a->boot_instance, b->boot_instance);
}

/* uev_config_write(cfg) parsed on top of a fresh default equals cfg. */
void assert_round_trip(void)
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
