/* SPDX-License-Identifier: MIT */
/*
 * uev-upload's parts that need no server: URLs (what is taken, what is
 * refused and how it is said), cursors (text form both ways, and the order
 * resuming relies on), and the state file (a round trip through the
 * atomic save, and every kind of corrupt line reported by file and line,
 * the file left as it was).
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "upload.h"

static char dir[64], path[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/uevuptest.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(url_forms)
{
	struct up_url u;
	char err[512];

	ck_assert_int_eq(up_url_parse(&u, "http://collector", err, sizeof(err)), 0);
	ck_assert_str_eq(u.host, "collector");
	ck_assert_str_eq(u.port, "19532");
	ck_assert_str_eq(u.path, "/upload");
	ck_assert_int_eq(up_url_parse(&u, "HTTP://10.0.0.1:8080/journal/", err, sizeof(err)), 0);
	ck_assert_str_eq(u.host, "10.0.0.1");
	ck_assert_str_eq(u.port, "8080");
	ck_assert_str_eq(u.path, "/journal/upload");
	ck_assert_int_eq(up_url_parse(&u, "http://[::1]:19532", err, sizeof(err)), 0);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_str_eq(u.port, "19532");
}
END_TEST

START_TEST(url_refused)
{
	static const struct {
		const char *url, *msg;
		int err;
	} bad[] = {
		{ "https://collector", "https is not supported: run a local TLS tunnel", -EPROTONOSUPPORT },
		{ "collector:19532", "not an http://HOST[:PORT][/PATH] URL", -EINVAL },
		{ "http://", "no host", -EINVAL },
		{ "http://h:0", "the port is not a number from 1 to 65535", -EINVAL },
		{ "http://h:65536", "the port is not a number", -EINVAL },
		{ "http://h:80x", "the port is not a number", -EINVAL },
		{ "http://[::1", "no ']'", -EINVAL },
		{ "http://h/a b", "the path has spaces", -EINVAL },
	};
	struct up_url u;
	char err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		ck_assert_int_eq(up_url_parse(&u, bad[i].url, err, sizeof(err)), bad[i].err);
		ck_assert_msg(strstr(err, bad[i].msg) && strstr(err, bad[i].url), "%s: '%s'", bad[i].url, err);
	}
}
END_TEST

static struct rp_cursor cur(uint64_t run, int64_t key, uint64_t ts, int32_t cpu, uint32_t index)
{
	struct rp_cursor c = { .run = run, .key = key, .ts = ts, .cpu = cpu, .index = index };

	for (int i = 0; i < 16; i++)
		c.uuid[i] = (uint8_t)(0xa0 + i);
	return c;
}

START_TEST(cursor_text)
{
	struct rp_cursor a = cur(UINT64_MAX, INT64_MIN, UINT64_MAX, INT32_MIN, UINT32_MAX), b;
	char t[RP_CURSOR_TEXT], t2[RP_CURSOR_TEXT];

	rp_cursor_format(t, sizeof(t), &a);
	ck_assert_uint_lt(strlen(t), sizeof(t) - 1); /* the longest one fits */
	ck_assert_int_eq(rp_cursor_parse(&b, t), 0);
	ck_assert_int_eq(memcmp(&a, &b, sizeof(a)), 0);
	rp_cursor_format(t2, sizeof(t2), &b);
	ck_assert_str_eq(t, t2);
	static const char *const bad[] = {
		"", "uev1", "uev2;f=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf;r=1;c=0;t=1;i=0;k=1",
		"uev1;f=a0a1a2a3a4a5a6a7a8a9aaabacadae;r=1;c=0;t=1;i=0;k=1",
		"uev1;f=A0A1A2A3A4A5A6A7A8A9AAABACADAEAF;r=1;c=0;t=1;i=0;k=1",
		"uev1;f=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf;r=1;c=0;t=1;i=0;k=1 ",
		"uev1;f=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf;r=1;c=0;t=1;i=0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(rp_cursor_parse(&b, bad[i]) == -EINVAL, "took '%s'", bad[i]);
}
END_TEST

START_TEST(cursor_order)
{
	/* one run: trace time, then CPU, then index; the key is not asked
	 * (it may move between two reads of a wrapped ring) */
	struct rp_cursor a = cur(2, 1000, 50, 1, 0), b = cur(2, 999, 50, 1, 1);

	ck_assert_int_lt(rp_cursor_cmp(&a, &b), 0);
	ck_assert_int_gt(rp_cursor_cmp(&b, &a), 0);
	b = cur(2, 5, 50, 0, 9);
	ck_assert_int_gt(rp_cursor_cmp(&a, &b), 0);
	b = cur(2, 5, 51, 0, 0);
	ck_assert_int_lt(rp_cursor_cmp(&a, &b), 0);
	b = a;
	ck_assert_int_eq(rp_cursor_cmp(&a, &b), 0);
	/* two runs: the merge key, then the run */
	b = cur(3, 999, 1, 0, 0);
	ck_assert_int_gt(rp_cursor_cmp(&a, &b), 0);
	b = cur(1, 1000, 1, 0, 0);
	ck_assert_int_gt(rp_cursor_cmp(&a, &b), 0);
}
END_TEST

static void write_file(const char *p, const char *text)
{
	FILE *fp = fopen(p, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

START_TEST(state_round_trip)
{
	struct up_state s;
	struct rp_cursor a = cur(1, 7, 8, 0, 0), b = cur(2, 9, 10, 3, 1);
	char ta[RP_CURSOR_TEXT], tb[RP_CURSOR_TEXT], err[512] = "";
	uint8_t other[16];

	rp_cursor_format(ta, sizeof(ta), &a);
	b.uuid[0] = 0x01;
	rp_cursor_format(tb, sizeof(tb), &b);
	ck_assert_int_eq(up_state_load(&s, path, err, sizeof(err)), 0); /* none yet: empty */
	ck_assert_uint_eq(s.n, 0);
	ck_assert_int_eq(up_state_set(&s, a.uuid, ta, 0), 0);
	ck_assert_int_eq(up_state_set(&s, b.uuid, tb, 1), 0);
	ck_assert_int_eq(up_state_set(&s, a.uuid, ta, 0), 0); /* replaced, not added */
	ck_assert_int_eq(up_state_save(&s, err, sizeof(err)), 0);
	up_state_free(&s);
	ck_assert_int_eq(access(path, F_OK), 0);
	char tmp[160];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ck_assert_int_ne(access(tmp, F_OK), 0);
	ck_assert_int_eq(up_state_load(&s, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_str_eq(up_state_find(&s, a.uuid)->cursor, ta);
	ck_assert_int_eq(up_state_find(&s, a.uuid)->done, 0);
	ck_assert_str_eq(up_state_find(&s, b.uuid)->cursor, tb);
	ck_assert_int_eq(up_state_find(&s, b.uuid)->done, 1);
	memset(other, 0x55, sizeof(other));
	ck_assert_ptr_null(up_state_find(&s, other));
	up_state_free(&s);
}
END_TEST

START_TEST(state_corrupt)
{
	struct rp_cursor a = cur(1, 7, 8, 0, 0);
	char ta[RP_CURSOR_TEXT], text[1024], want[256], err[512];
	struct {
		const char *line, *msg;
	} bad[] = {
		{ "garbage", "not 'UUID CURSOR [done]'" },
		{ "a0a1 uev1;f=", "not 'UUID CURSOR [done]'" },
		{ "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf uev1;f=nonsense", "is not a cursor of file" },
		/* a cursor of another file */
		{ "b0a1a2a3a4a5a6a7a8a9aaabacadaeaf CUR", "is not a cursor of file b0a1" },
		{ "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf CUR finished", "after the cursor is not 'done'" },
		{ "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf CUR\na0a1a2a3a4a5a6a7a8a9aaabacadaeaf CUR", "listed twice" },
	};
	struct up_state s;

	rp_cursor_format(ta, sizeof(ta), &a);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[512], *c;

		snprintf(line, sizeof(line), "%s", bad[i].line);
		while ((c = strstr(line, "CUR")) && strlen(line) + strlen(ta) < sizeof(line)) {
			memmove(c + strlen(ta), c + 3, strlen(c + 3) + 1);
			memcpy(c, ta, strlen(ta));
		}
		snprintf(text, sizeof(text), "# comment\nuev-upload-state 1\n%s\n", line);
		write_file(path, text);
		err[0] = 0;
		ck_assert_int_eq(up_state_load(&s, path, err, sizeof(err)), -EBADMSG);
		up_state_free(&s);
		/* the twice-listed file is wrong on line 4 */
		snprintf(want, sizeof(want), "%s:%d: ", path, strstr(bad[i].line, "\n") ? 4 : 3);
		ck_assert_msg(strstr(err, want) && strstr(err, bad[i].msg), "line '%s': '%s'", line, err);
	}
	write_file(path, "uev-upload-state 2\n");
	ck_assert_int_eq(up_state_load(&s, path, err, sizeof(err)), -EBADMSG);
	up_state_free(&s);
	ck_assert_ptr_nonnull(strstr(err, ":1: not an uev-upload state file"));
	/* a directory where the file should be: said with its path */
	ck_assert_int_eq(up_state_load(&s, dir, err, sizeof(err)), 0 - EISDIR);
	up_state_free(&s);
	ck_assert_ptr_nonnull(strstr(err, dir));
}
END_TEST

START_TEST(state_save_fails)
{
	struct up_state s;
	struct rp_cursor a = cur(1, 7, 8, 0, 0);
	char ta[RP_CURSOR_TEXT], err[512] = "", p[160];

	snprintf(p, sizeof(p), "%s/no-such-dir/state", dir);
	ck_assert_int_eq(up_state_load(&s, p, err, sizeof(err)), 0);
	rp_cursor_format(ta, sizeof(ta), &a);
	ck_assert_int_eq(up_state_set(&s, a.uuid, ta, 0), 0);
	ck_assert_int_eq(up_state_save(&s, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "no-such-dir/state.tmp"));
	up_state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("upload");
	TCase *tc = tcase_create("parts");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, url_forms);
	tcase_add_test(tc, url_refused);
	tcase_add_test(tc, cursor_text);
	tcase_add_test(tc, cursor_order);
	tcase_add_test(tc, state_round_trip);
	tcase_add_test(tc, state_corrupt);
	tcase_add_test(tc, state_save_fails);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
