/* SPDX-License-Identifier: MIT */
/* The record decoders (ringfile.h, uev_ring_rec_*): each takes what its
 * type's writer wrote, and refuses a payload that is truncated, has a
 * string without its NUL, is longer than its layout, or has a field out of
 * range, as well as a record of another type. Refused means -EINVAL and
 * the output zeroed, never a read past rec->len (the ASan build checks:
 * every payload here is a heap copy of exactly its length). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring-common.h"
#include "ring-test.h"

/* A record of @type whose payload is a heap copy of @len bytes of @p:
 * one byte past it is outside the allocation. Both are freed after each
 * test (free_made()), so the ASan build's leak check stays quiet. */
static void *made[256];
static unsigned nmade;

static void *keep(void *p)
{
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_lt(nmade, sizeof(made) / sizeof(made[0]));
	return made[nmade++] = p;
}

static void free_made(void)
{
	while (nmade)
		free(made[--nmade]);
}

static const struct uev_ring_rec *rec_of(enum uev_ring_type type, uint16_t cpu, const void *p, size_t len)
{
	struct uev_ring_rec *r = keep(malloc(sizeof(*r)));
	void *copy = keep(malloc(len ? len : 1));

	memcpy(copy, p, len);
	*r = (struct uev_ring_rec){ .type = type, .cpu = cpu, .len = (uint32_t)len, .payload = copy };
	return r;
}
#define rec(type, p, len) rec_of((type), 0xffff, (p), (len))

/* Every field zero after a refusal. */
static int all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return 0;
	return 1;
}

START_TEST(t_run_start)
{
	uint8_t rs[UEV_RING_RUN_START_LEN + 8] = { 0 };
	struct uev_ring_run_start_rec out;
	struct uev_ring_run_info ri;

	rt_run_info(&ri);
	uev_ring_run_start_encode(rs, 7, &ri);
	ck_assert_int_eq(uev_ring_rec_run_start(rec(UEV_RING_RUN_START, rs, UEV_RING_RUN_START_LEN), &out), 0);
	ck_assert_uint_eq(out.run_id, 7);
	ck_assert_str_eq(out.info.boot_id, ri.boot_id);
	ck_assert_str_eq(out.info.kernel_release, ri.kernel_release);
	ck_assert_str_eq(out.info.seat, ri.seat);
	ck_assert_str_eq(out.info.trace_clock, ri.trace_clock);
	ck_assert_str_eq(out.info.host, ri.host);
	ck_assert_uint_eq(out.info.aggregator_pid, ri.aggregator_pid);
	ck_assert_uint_eq(out.info.start_realtime_ns, ri.start_realtime_ns);
	ck_assert_uint_eq(out.info.flush_interval_ms, 1000);
	/* the older writers' lengths, and a longer one: the rest ignored */
	ck_assert_int_eq(uev_ring_rec_run_start(rec(UEV_RING_RUN_START, rs, UEV_RING_RUN_START_V1_LEN), &out), 0);
	ck_assert_uint_eq(out.info.flush_interval_ms, 0);
	ck_assert_uint_eq(out.info.byte_order, UEV_RING_LITTLE_ENDIAN);
	ck_assert_uint_eq(out.info.long_size, 8);
	ck_assert_int_eq(uev_ring_rec_run_start(rec(UEV_RING_RUN_START, rs, UEV_RING_RUN_START_V2_LEN), &out), 0);
	ck_assert_uint_eq(out.info.flush_interval_ms, 1000);
	ck_assert_int_eq(uev_ring_rec_run_start(rec(UEV_RING_RUN_START, rs, sizeof(rs)), &out), 0);
	ck_assert_str_eq(out.info.host, ri.host);
	/* truncated */
	ck_assert_int_eq(uev_ring_rec_run_start(rec(UEV_RING_RUN_START, rs, UEV_RING_RUN_START_V1_LEN - 1), &out),
			 -EINVAL);
	ck_assert(all_zero(&out, sizeof(out)));
	ck_assert_int_eq(uev_ring_rec_run_start(rec(UEV_RING_RUN_START, rs, 0), &out), -EINVAL);
	/* another type */
	ck_assert_int_eq(uev_ring_rec_run_start(rec(UEV_RING_SYNC, rs, UEV_RING_RUN_START_LEN), &out), -EINVAL);
	/* each text field without its NUL: boot_id, release, seat, clock, host */
	static const unsigned field[][2] = { { 8, 37 }, { 45, 65 }, { 110, 64 }, { 174, 16 }, { 190, 65 } };
	for (unsigned f = 0; f < 5; f++) {
		uint8_t bad[UEV_RING_RUN_START_LEN];

		memcpy(bad, rs, sizeof(bad));
		memset(bad + field[f][0], 'x', field[f][1]);
		ck_assert_int_eq(uev_ring_rec_run_start(rec(UEV_RING_RUN_START, bad, sizeof(bad)), &out), -EINVAL);
		ck_assert(all_zero(&out, sizeof(out)));
		bad[field[f][0] + field[f][1] - 1] = 0; /* the longest text a field holds */
		ck_assert_int_eq(uev_ring_rec_run_start(rec(UEV_RING_RUN_START, bad, sizeof(bad)), &out), 0);
	}
}
END_TEST

START_TEST(t_sync)
{
	struct uev_ring_sync s = { 1, 2, 3, 4 }, out;
	uint8_t b[UEV_RING_SYNC_LEN + 1] = { 0 };

	uev_ring_sync_encode(b, &s);
	ck_assert_int_eq(uev_ring_rec_sync(rec(UEV_RING_SYNC, b, UEV_RING_SYNC_LEN), &out), 0);
	ck_assert_mem_eq(&out, &s, sizeof(s));
	ck_assert_int_eq(uev_ring_rec_sync(rec(UEV_RING_SYNC, b, UEV_RING_SYNC_LEN - 1), &out), -EINVAL);
	ck_assert(all_zero(&out, sizeof(out)));
	ck_assert_int_eq(uev_ring_rec_sync(rec(UEV_RING_SYNC, b, UEV_RING_SYNC_LEN + 1), &out), -EINVAL);
	ck_assert_int_eq(uev_ring_rec_sync(rec(UEV_RING_RUN_END, b, UEV_RING_SYNC_LEN), &out), -EINVAL);
}
END_TEST

START_TEST(t_run_end)
{
	struct uev_ring_counters c = { 10, 20, 30 };
	struct uev_ring_run_end_rec out;
	uint8_t b[UEV_RING_RUN_END_LEN + 1] = { 0 };

	uev_ring_run_end_encode(b, 99, &c);
	ck_assert_int_eq(uev_ring_rec_run_end(rec(UEV_RING_RUN_END, b, UEV_RING_RUN_END_LEN), &out), 0);
	ck_assert_uint_eq(out.end_realtime_ns, 99);
	ck_assert_uint_eq(out.counters.pages, 10);
	ck_assert_uint_eq(out.counters.bytes, 20);
	ck_assert_uint_eq(out.counters.lost, 30);
	ck_assert_int_eq(uev_ring_rec_run_end(rec(UEV_RING_RUN_END, b, 31), &out), -EINVAL);
	ck_assert(all_zero(&out, sizeof(out)));
	ck_assert_int_eq(uev_ring_rec_run_end(rec(UEV_RING_RUN_END, b, 33), &out), -EINVAL);
	ck_assert_int_eq(uev_ring_rec_run_end(rec(UEV_RING_SYNC, b, 32), &out), -EINVAL);
}
END_TEST

START_TEST(t_lost)
{
	uint8_t b[9] = { 5, 0, 0, 0, 0, 0, 0, 1, 0 };
	struct uev_ring_lost_rec out;

	ck_assert_int_eq(uev_ring_rec_lost(rec_of(UEV_RING_LOST, 3, b, 8), &out), 0);
	ck_assert_uint_eq(out.cpu, 3);
	ck_assert_uint_eq(out.count, 5 | 1ull << 56); /* little-endian */
	ck_assert_int_eq(uev_ring_rec_lost(rec_of(UEV_RING_LOST, UEV_RING_CPU_MAX, b, 8), &out), 0);
	ck_assert_int_eq(uev_ring_rec_lost(rec_of(UEV_RING_LOST, 0xffff, b, 8), &out), -EINVAL);
	ck_assert(all_zero(&out, sizeof(out)));
	ck_assert_int_eq(uev_ring_rec_lost(rec_of(UEV_RING_LOST, 3, b, 7), &out), -EINVAL);
	ck_assert_int_eq(uev_ring_rec_lost(rec_of(UEV_RING_LOST, 3, b, 9), &out), -EINVAL);
	ck_assert_int_eq(uev_ring_rec_lost(rec_of(UEV_RING_PAGE, 3, b, 8), &out), -EINVAL);
}
END_TEST

START_TEST(t_page)
{
	uint8_t b[64] = { 1, 2, 3 };
	struct uev_ring_page_rec out;
	const struct uev_ring_rec *r = rec_of(UEV_RING_PAGE, 2, b, sizeof(b));

	ck_assert_int_eq(uev_ring_rec_page(r, &out), 0);
	ck_assert_uint_eq(out.cpu, 2);
	ck_assert_uint_eq(out.len, sizeof(b));
	ck_assert_ptr_eq(out.data, r->payload);
	ck_assert_int_eq(uev_ring_rec_page(rec_of(UEV_RING_PAGE, 2, b, UEV_RING_PAGE_MIN), &out), 0);
	ck_assert_int_eq(uev_ring_rec_page(rec_of(UEV_RING_PAGE, 2, b, UEV_RING_PAGE_MIN - 1), &out), -EINVAL);
	ck_assert(all_zero(&out, sizeof(out)));
	ck_assert_int_eq(uev_ring_rec_page(rec_of(UEV_RING_PAGE, 0xffff, b, sizeof(b)), &out), -EINVAL);
	ck_assert_int_eq(uev_ring_rec_page(rec_of(UEV_RING_LOST, 2, b, sizeof(b)), &out), -EINVAL);
}
END_TEST

/* A FORMAT payload: kind, id, then the three strings. */
static size_t format_payload(uint8_t *b, uint8_t kind, uint32_t id, const char *sys, const char *name,
			     const char *text)
{
	size_t n = 8;

	memset(b, 0, 8);
	b[0] = kind;
	uev_put32(b + 4, id);
	for (const char *s[] = { sys, name, text }, **p = s; p < s + 3; p++) {
		memcpy(b + n, *p, strlen(*p) + 1);
		n += strlen(*p) + 1;
	}
	return n;
}

START_TEST(t_format)
{
	uint8_t b[128];
	struct uev_ring_format_rec out;
	size_t n = format_payload(b, UEV_RING_FMT_EVENT, 0x01020304, "user_events", "ev", "name: ev\n");

	ck_assert_int_eq(uev_ring_rec_format(rec(UEV_RING_FORMAT, b, n), &out), 0);
	ck_assert_int_eq(out.kind, UEV_RING_FMT_EVENT);
	ck_assert_uint_eq(out.id, 0x01020304);
	ck_assert_str_eq(out.system, "user_events");
	ck_assert_str_eq(out.name, "ev");
	ck_assert_str_eq(out.text, "name: ev\n");
	/* empty strings are whole strings */
	n = format_payload(b, UEV_RING_FMT_HEADER_PAGE, 0, "", "", "");
	ck_assert_int_eq(uev_ring_rec_format(rec(UEV_RING_FORMAT, b, n), &out), 0);
	ck_assert_str_eq(out.text, "");
	/* truncated: every length short of the whole, down to no strings */
	n = format_payload(b, UEV_RING_FMT_EVENT, 1, "sys", "name", "text");
	for (size_t k = 0; k < n; k++) {
		ck_assert_int_eq(uev_ring_rec_format(rec(UEV_RING_FORMAT, b, k), &out), -EINVAL);
		ck_assert(all_zero(&out, sizeof(out)));
	}
	/* the text unterminated; a byte after its NUL; a kind out of range */
	b[n - 1] = 'x';
	ck_assert_int_eq(uev_ring_rec_format(rec(UEV_RING_FORMAT, b, n), &out), -EINVAL);
	b[n - 1] = 0;
	b[n] = 0;
	ck_assert_int_eq(uev_ring_rec_format(rec(UEV_RING_FORMAT, b, n + 1), &out), -EINVAL);
	b[0] = UEV_RING_FMT_EVENT + 1;
	ck_assert_int_eq(uev_ring_rec_format(rec(UEV_RING_FORMAT, b, n), &out), -EINVAL);
	b[0] = UEV_RING_FMT_EVENT;
	ck_assert_int_eq(uev_ring_rec_format(rec(UEV_RING_ANNOUNCE, b, n), &out), -EINVAL);
	ck_assert_int_eq(uev_ring_rec_format(rec(UEV_RING_FORMAT, b, n), &out), 0);
}
END_TEST

START_TEST(t_announce)
{
	const char def[] = "ev u32 a";
	uint8_t b[64];
	struct uev_ring_announce_rec out;
	size_t n = 4 + sizeof(def);

	uev_put32(b, 0xa1b2c3d4);
	memcpy(b + 4, def, sizeof(def));
	ck_assert_int_eq(uev_ring_rec_announce(rec(UEV_RING_ANNOUNCE, b, n), &out), 0);
	ck_assert_uint_eq(out.id, 0xa1b2c3d4);
	ck_assert_str_eq(out.def, def);
	for (size_t k = 0; k < n; k++) { /* truncated: unterminated, or no text at all */
		ck_assert_int_eq(uev_ring_rec_announce(rec(UEV_RING_ANNOUNCE, b, k), &out), -EINVAL);
		ck_assert(all_zero(&out, sizeof(out)));
	}
	/* bytes after the definition's NUL */
	b[n] = 'x';
	ck_assert_int_eq(uev_ring_rec_announce(rec(UEV_RING_ANNOUNCE, b, n + 1), &out), -EINVAL);
	/* an empty definition */
	b[4] = 0;
	ck_assert_int_eq(uev_ring_rec_announce(rec(UEV_RING_ANNOUNCE, b, 5), &out), -EINVAL);
	b[4] = 'e';
	ck_assert_int_eq(uev_ring_rec_announce(rec(UEV_RING_FORMAT, b, n), &out), -EINVAL);
}
END_TEST

START_TEST(t_comm)
{
	uint8_t b[3 * 20 + 1] = { 0 };
	struct uev_ring_comm_rec out;
	char name[16];
	int32_t pid;

	uev_put32(b, 42);
	strcpy((char *)b + 4, "short");
	uev_put32(b + 20, (uint32_t)-1);
	memset(b + 24, 'n', 15); /* the longest name: 15 characters */
	uev_put32(b + 40, 7);
	ck_assert_int_eq(uev_ring_rec_comm(rec(UEV_RING_COMM, b, 60), &out), 0);
	ck_assert_uint_eq(out.count, 3);
	uev_ring_comm_entry(&out, 0, &pid, name);
	ck_assert_int_eq(pid, 42);
	ck_assert_str_eq(name, "short");
	uev_ring_comm_entry(&out, 1, &pid, name);
	ck_assert_int_eq(pid, -1);
	ck_assert_str_eq(name, "nnnnnnnnnnnnnnn");
	uev_ring_comm_entry(&out, 2, &pid, name);
	ck_assert_str_eq(name, "");
	/* no entries: a checkpoint before any process was seen */
	ck_assert_int_eq(uev_ring_rec_comm(rec(UEV_RING_COMM, b, 0), &out), 0);
	ck_assert_uint_eq(out.count, 0);
	/* a part of an entry, truncated or over */
	for (size_t k = 1; k < 20; k++) {
		ck_assert_int_eq(uev_ring_rec_comm(rec(UEV_RING_COMM, b, 40 + k), &out), -EINVAL);
		ck_assert(all_zero(&out, sizeof(out)));
	}
	/* a name without its NUL */
	b[24 + 15] = 'n';
	ck_assert_int_eq(uev_ring_rec_comm(rec(UEV_RING_COMM, b, 60), &out), -EINVAL);
	ck_assert_int_eq(uev_ring_rec_comm(rec(UEV_RING_COMM, b, 20), &out), 0);
	ck_assert_int_eq(uev_ring_rec_comm(rec(UEV_RING_PAGE, b, 20), &out), -EINVAL);
}
END_TEST

/* Every record a writer writes decodes, each by its type's decoder. */
START_TEST(t_written)
{
	const char *path = rt_path(0, "records.ring");
	struct uev_ring_writer *w = rt_open(path, 4ull << 20);
	const struct uev_ring_sync sy = { 1, 2, 3, 4 };
	unsigned seen[UEV_RING_RUN_END + 1] = { 0 };
	uint8_t page[256];
	struct rt_read r;

	rt_begin(w);
	ck_assert_int_eq(uev_ring_writer_format(w, UEV_RING_FMT_HEADER_PAGE, 0, "", "header_page", "hp"), 0);
	ck_assert_int_eq(uev_ring_writer_format(w, UEV_RING_FMT_EVENT, 9, "sys", "ev", "name: ev"), 0);
	ck_assert_int_eq(uev_ring_writer_announce(w, 0x12345678, "m u32 a"), 0);
	ck_assert_int_eq(uev_ring_writer_comm(w, 1234, "a-very-long-process-name"), 0);
	ck_assert_int_eq(uev_ring_writer_sync(w, &sy), 0);
	rt_gen(page, sizeof(page), 1);
	ck_assert_int_eq(rt_page(w, 1, page, sizeof(page)), 0);
	ck_assert_int_eq(uev_ring_writer_lost(w, 1, 0), 0);
	ck_assert_int_eq(uev_ring_writer_page_lost(w, 2, page, sizeof(page), 1, 77), 0);
	ck_assert_int_eq(uev_ring_writer_close(w, &(struct uev_ring_counters){ 2, 512, 77 }), 0);
	ck_assert_int_eq(rt_read(path, &r), 0);
	for (size_t i = 0; i < r.n; i++) {
		const struct rt_rec *x = &r.rec[i];
		struct uev_ring_rec rec = { x->type, x->cpu, x->len, x->seq, x->segment_seq, x->run_id,
					    x->offset, x->payload, 0, 0 };
		union {
			struct uev_ring_run_start_rec rs;
			struct uev_ring_sync sy;
			struct uev_ring_format_rec f;
			struct uev_ring_announce_rec a;
			struct uev_ring_comm_rec c;
			struct uev_ring_page_rec p;
			struct uev_ring_lost_rec l;
			struct uev_ring_run_end_rec e;
		} u;
		int e = x->type == UEV_RING_RUN_START ? uev_ring_rec_run_start(&rec, &u.rs)
			: x->type == UEV_RING_SYNC    ? uev_ring_rec_sync(&rec, &u.sy)
			: x->type == UEV_RING_FORMAT  ? uev_ring_rec_format(&rec, &u.f)
			: x->type == UEV_RING_ANNOUNCE ? uev_ring_rec_announce(&rec, &u.a)
			: x->type == UEV_RING_COMM    ? uev_ring_rec_comm(&rec, &u.c)
			: x->type == UEV_RING_PAGE    ? uev_ring_rec_page(&rec, &u.p)
			: x->type == UEV_RING_LOST    ? uev_ring_rec_lost(&rec, &u.l)
			: x->type == UEV_RING_RUN_END ? uev_ring_rec_run_end(&rec, &u.e)
						      : -ENOENT;

		ck_assert_msg(e == 0, "record seq %llu of type %d does not decode: %d",
			      (unsigned long long)x->seq, x->type, e);
		seen[x->type]++;
	}
	for (unsigned t = UEV_RING_RUN_START; t <= UEV_RING_RUN_END; t++)
		ck_assert_msg(seen[t], "no record of type %u written", t);
	ck_assert_uint_eq(r.st.lost_kernel, 77);
	ck_assert_uint_eq(r.st.lost_unknown, 1);
	rt_read_free(&r);
}
END_TEST

/* A RUN_START says how the pages are laid out; a layout the format does
 * not define is refused by name. */
START_TEST(t_layout_field)
{
	struct uev_ring_run_info ri, back;
	struct uev_ring_run_start_rec out;
	uint8_t rs[UEV_RING_RUN_START_LEN];
	char err[256], want[256];

	rt_run_info(&ri);
	ri.byte_order = UEV_RING_BIG_ENDIAN;
	ri.long_size = 4;
	uev_ring_run_start_encode(rs, 9, &ri);
	ck_assert_uint_eq(rs[271], UEV_RING_BIG_ENDIAN);
	ck_assert_uint_eq(rs[272], 4);
	ck_assert_int_eq(uev_ring_rec_run_start(rec(UEV_RING_RUN_START, rs, sizeof(rs)), &out), 0);
	back = out.info;
	ck_assert_uint_eq(back.byte_order, UEV_RING_BIG_ENDIAN);
	ck_assert_uint_eq(back.long_size, 4);
	ck_assert_int_eq(uev_ring_layout_check(&back, "f.ring", 9, err, sizeof(err)), 0);
	back.long_size = 16;
	ck_assert_int_eq(uev_ring_layout_check(&back, "f.ring", 9, err, sizeof(err)), -ENOTSUP);
	snprintf(want, sizeof(want), "f.ring: run 9 was recorded as big-endian, 16-byte long, which "
		 "this build cannot decode (this machine: %s-endian, %zu-byte long)",
		 uev_ring_host_byte_order() == UEV_RING_BIG_ENDIAN ? "big" : "little", sizeof(long));
	ck_assert_str_eq(err, want);
	back.byte_order = 0;
	back.long_size = 8;
	ck_assert_int_eq(uev_ring_layout_check(&back, "f.ring", 9, err, sizeof(err)), -ENOTSUP);
	ck_assert_msg(strstr(err, "as byte order 0 (unknown), 8-byte long,"), "%s", err);
	/* 0 given to the writer: this machine's */
	ri.byte_order = 0;
	ri.long_size = 0;
	uev_ring_run_start_encode(rs, 9, &ri);
	ck_assert_int_eq(uev_ring_rec_run_start(rec(UEV_RING_RUN_START, rs, sizeof(rs)), &out), 0);
	ck_assert_int_eq(uev_ring_layout_is_host(&out.info), 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ring-records");
	TCase *tc = tcase_create("records");

	tcase_add_unchecked_fixture(tc, rt_dir_setup, rt_dir_teardown);
	tcase_add_checked_fixture(tc, NULL, free_made);
	tcase_add_test(tc, t_run_start);
	tcase_add_test(tc, t_sync);
	tcase_add_test(tc, t_run_end);
	tcase_add_test(tc, t_lost);
	tcase_add_test(tc, t_page);
	tcase_add_test(tc, t_format);
	tcase_add_test(tc, t_announce);
	tcase_add_test(tc, t_comm);
	tcase_add_test(tc, t_written);
	tcase_add_test(tc, t_layout_field);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rt_run(suite());
}
