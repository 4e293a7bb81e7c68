/* SPDX-License-Identifier: MIT */
/*
 * The tep handles uev_ring_decode() keeps across decodes
 * (aggregator/decode/tep-kept.c, ringdecode.c): whatever was decoded before
 * in the process, a file decodes exactly as it does in a fresh process
 * (each Check test runs in a fresh child: its first decode is the fresh
 * one). The cases are the ones where a kept handle holds more, or other,
 * formats than a run has brought at the point a record is decoded.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event-parse.h>
#include <trace-seq.h>

#include "ring-common.h"
#include "fake-kernel.h"
#include "ringdecode.h"
#include "user-render.h"

static const char beta[] =
	"name: beta\nID: 601\n" FAKE_COMMON_FIELDS
	"\tfield:int value;\toffset:8;\tsize:4;\tsigned:1;\n\n"
	"print fmt: \"beta=%d\", REC->value\n";
/* Lower id than alpha, and no common fields: libtraceevent takes the
 * common fields from the lowest id it holds. */
static const char bare[] = "name: bare\nID: 7\nformat:\n\tfield:int value;\toffset:8;\tsize:4;\tsigned:1;\n\n"
			   "print fmt: \"bare=%d\", REC->value\n";

/* Id 7 too, with the common fields. */
static const char gamma_[] = "name: gamma\nID: 7\n" FAKE_COMMON_FIELDS
			     "\tfield:int value;\toffset:8;\tsize:4;\tsigned:1;\n\n"
			     "print fmt: \"gamma=%d\", REC->value\n";

/* One step of a file: a format (text, id) or a page with one event of @id. */
struct item {
	const char *format;
	int id;
};

static char dir[64];

/* A ring file of one run: @items in order. Its path, in a buffer of @n. */
static void make(const char *name, const struct item *items, size_t nitems, char *path, size_t n)
{
	struct uev_ring_create c = { .path = path, .size = 1 << 20, .seat = "kept", .mode = 0644, .gid = (gid_t)-1 };
	struct uev_ring_run_info ri = { .trace_clock = "boot", .seat = "kept", .host = "h",
					.kernel_release = "6.0-test", .flush_interval_ms = 1000,
					.boot_id = "00000001-0000-4000-8000-000000000000" };
	struct uev_ring_sync sy = { T0, WALL, T0, T0 };
	struct uev_ring_writer *w;
	char err[256];

	snprintf(path, n, "%s/%s.ring", dir, name);
	ck_assert_msg(uev_ring_writer_open(&w, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(uev_ring_writer_sync(w, &sy), 0);
	ck_assert_int_eq(uev_ring_writer_format(w, UEV_RING_FMT_HEADER_PAGE, 0, "", "header_page", header_page), 0);
	ck_assert_int_eq(uev_ring_writer_begin_run(w, &ri), 0);
	for (size_t i = 0; i < nitems; i++) {
		uint8_t page[64] = { 0 };

		if (items[i].format) {
			ck_assert_int_eq(uev_ring_writer_format(w, UEV_RING_FMT_EVENT, (uint32_t)items[i].id, "uevtest",
								 "x", items[i].format), 0);
			continue;
		}
		/* sub-buffer: timestamp, commit; one event of 12 bytes: type_len 3 */
		uev_put64(page, T0 + i * 1000);
		uev_put64(page + 8, 16);
		uev_put32(page + 16, 3);
		uev_put16(page + 20, (uint16_t)items[i].id);
		uev_put32(page + 24, 4242);
		uev_put32(page + 28, 100 + (uint32_t)i);
		ck_assert_int_eq(uev_ring_writer_page(w, 0, page, 32), 0);
	}
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
}

static int print(void *ctx, const struct uev_ringdec_run *run, const struct uev_rec *r)
{
	struct trace_seq *out = ctx;

	(void)run;
	trace_seq_printf(out, "%llu pid %d %s: ", r->ts, r->pid, r->name ? r->name : "?");
	uev_rec_print_fields(NULL, r, out);
	trace_seq_putc(out, '\n');
	return 0;
}

/* The decoded text of @path (a new string). */
static char *decode(const char *path)
{
	struct trace_seq out;
	char err[256], *s;

	trace_seq_init(&out);
	ck_assert_msg(uev_ring_decode(path, NULL, NULL, print, &out, err, sizeof(err)) == 0, "%s", err);
	trace_seq_terminate(&out);
	s = strdup(out.buffer);
	trace_seq_destroy(&out);
	return s;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/uev-kept.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* @first decoded before @then must leave @then's text as it is alone. */
static void same_after(const struct item *a, size_t na, const struct item *b, size_t nb, const char *want)
{
	char pa[128], pb[128], *fresh, *after;

	make("a", a, na, pa, sizeof(pa));
	make("b", b, nb, pb, sizeof(pb));
	fresh = decode(pb); /* the test's process has decoded nothing before */
	if (want)
		ck_assert_msg(strstr(fresh, want), "fresh decode lacks \"%s\":\n%s", want, fresh);
	free(decode(pa));
	after = decode(pb);
	ck_assert_str_eq(after, fresh);
	free(decode(pa));
	free(decode(pa));
	free(after);
	after = decode(pb);
	ck_assert_str_eq(after, fresh);
	free(after);
	free(fresh);
}

/* A handle with alpha, kept; a file whose page comes before its alpha:
 * that record is of an id without a format, the later one alpha's. */
START_TEST(format_after_page)
{
	const struct item a[] = { { alpha, 600 }, { NULL, 600 } };
	const struct item b[] = { { beta, 601 }, { NULL, 600 }, { alpha, 600 }, { NULL, 600 } };

	same_after(a, 2, b, 4, "alpha: value=");
}
END_TEST

/* No format at all when the first record comes, one later: the common
 * fields (pid) are not known then, as in a fresh handle. */
START_TEST(no_format_yet)
{
	const struct item a[] = { { alpha, 600 }, { NULL, 600 } };
	const struct item b[] = { { NULL, 600 }, { alpha, 600 }, { NULL, 600 } };

	same_after(a, 2, b, 3, NULL);
	same_after(b, 3, a, 2, "alpha: value=");
}
END_TEST

/* A format without common fields, and of the lowest id, after the first
 * page: libtraceevent reads the common fields of every record from that
 * one once it is there, but not before. */
START_TEST(bare_after_page)
{
	const struct item a[] = { { alpha, 600 }, { NULL, 600 }, { bare, 7 }, { NULL, 600 } };
	const struct item b[] = { { alpha, 600 }, { NULL, 600 }, { bare, 7 }, { NULL, 600 }, { NULL, 7 } };

	same_after(a, 4, b, 5, "alpha: value=");
	same_after(b, 5, a, 4, "alpha: value=");
}
END_TEST

/* A run that starts as a kept handle's did and then brings another format
 * (a handle with the first steps must be parsed for it, and libtraceevent
 * must have read the common fields where a fresh parse had, before the
 * format without them came). */
START_TEST(diverges_later)
{
	const struct item a[] = { { alpha, 600 }, { NULL, 600 }, { gamma_, 7 }, { NULL, 600 }, { NULL, 7 } };
	const struct item b[] = { { alpha, 600 }, { NULL, 600 }, { bare, 7 }, { NULL, 600 } };

	same_after(a, 5, b, 4, "alpha: value=");
	same_after(b, 4, a, 5, "gamma: gamma=");
}
END_TEST

/* The same formats under other ids: not the same steps. */
START_TEST(other_ids)
{
	const struct item a[] = { { alpha, 600 }, { NULL, 600 }, { beta, 601 }, { NULL, 601 } };
	const struct item b[] = { { alpha, 601 }, { NULL, 600 }, { beta, 600 }, { NULL, 601 } };

	same_after(a, 4, b, 4, NULL);
	same_after(b, 4, a, 4, "beta: beta=");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kept-handles");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, format_after_page);
	tcase_add_test(tc, no_format_yet);
	tcase_add_test(tc, bare_after_page);
	tcase_add_test(tc, diverges_later);
	tcase_add_test(tc, other_ids);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
