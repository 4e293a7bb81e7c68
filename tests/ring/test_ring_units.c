/* SPDX-License-Identifier: MIT */
/*
 * UNIT records (ring-unit.c, docs/ring-format.md "Compressed units"):
 * written by uev_ring_writer_unit(), read back as the PAGEs they hold, in
 * order and byte for byte; a unit whose bytes are valid as a record but do
 * not unpack is reported and costs its pages only; bad arguments and
 * malformed headers are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ring-common.h"
#include "ring-test.h"

#define MiB (1ull << 20)

/* Pages that start with their counter (@first, @first + 1, ...) as
 * rt_gen() pages do, then repeat a byte (compressible), or go on with
 * random bytes (not compressible). */
static void make_pages(uint8_t *buf, struct uev_ring_page_in *in, unsigned n, size_t len, uint64_t first,
		       int random)
{
	uint64_t st = first * 7919 + 1;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = buf + i * len;

		uev_put64(p, first + i);
		for (size_t k = 8; k < len; k++)
			p[k] = random ? (uint8_t)rt_rand(&st) : (uint8_t)(first + i);
		in[i] = (struct uev_ring_page_in){ p, len };
	}
}

/* A file: PAGE 0 (cpu 0), a zstd unit of pages 1-5 (cpu 1), PAGE 6 (cpu
 * 0), a stored unit of pages 7-9 (cpu 2, random bytes). */
static void write_mixed(const char *path, uint8_t *pages)
{
	struct uev_ring_writer *w = rt_open(path, 1 * MiB);
	struct uev_ring_page_in in[5];
	uint8_t one[900];

	rt_begin(w);
	rt_gen(one, sizeof(one), 0);
	ck_assert_int_eq(rt_page(w, 0, one, sizeof(one)), 0);
	make_pages(pages, in, 5, 1000, 1, 0);
	ck_assert_int_eq(uev_ring_writer_unit(w, 1, in, 5, 1), 0);
	rt_gen(one, sizeof(one), 6);
	ck_assert_int_eq(rt_page(w, 0, one, sizeof(one)), 0);
	make_pages(pages + 5 * 1000, in, 3, 1000, 7, 1);
	ck_assert_int_eq(uev_ring_writer_unit(w, 2, in, 3, 1), 0);
	ck_assert_int_eq(uev_ring_writer_close(w, &(struct uev_ring_counters){ 10, 9800, 0 }), 0);
}

/* The PAGE records of @r, in order. */
static size_t pages_of(const struct rt_read *r, const struct rt_rec **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n && n < max; i++)
		if (r->rec[i].type == UEV_RING_PAGE)
			out[n++] = &r->rec[i];
	return n;
}

static uint8_t byte_at(const char *path, uint64_t off)
{
	int fd = open(path, O_RDONLY);
	uint8_t b = 0;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &b, 1, (off_t)off), 1);
	close(fd);
	return b;
}

START_TEST(t_units_read_back)
{
	const char *path = rt_path(0, "units.ring");
	static uint8_t pages[8 * 1000];
	const struct rt_rec *p[16];
	struct rt_read r;
	size_t n;

	write_mixed(path, pages);
	ck_assert_int_eq(rt_read(path, &r), 0);
	ck_assert_msg(r.nreports == 0, "%s", rt_report0(&r));
	ck_assert_uint_eq(r.sb.version, UEV_RING_VERSION);
	n = pages_of(&r, p, 16);
	ck_assert_uint_eq(n, 10);
	for (size_t i = 0; i < n; i++) {
		uint64_t counter = ~0ull;

		ck_assert_uint_eq(p[i]->len, i == 0 || i == 6 ? 900 : 1000);
		ck_assert_uint_eq(p[i]->cpu, i == 0 || i == 6 ? 0 : i < 6 ? 1 : 2);
		if (i >= 1 && i <= 5)
			ck_assert_mem_eq(p[i]->payload, pages + (i - 1) * 1000, 1000);
		else if (i >= 7)
			ck_assert_mem_eq(p[i]->payload, pages + 5000 + (i - 7) * 1000, 1000);
		else
			ck_assert_msg(rt_gen_check(p[i]->payload, p[i]->len, &counter) && counter == i,
				      "page %zu: counter %llu", i, (unsigned long long)counter);
	}
	/* A unit's pages: its seq and offset, sub 0, 1, ...; the next record
	 * one seq on, as after any record. */
	for (size_t i = 1; i <= 5; i++) {
		ck_assert_uint_eq(p[i]->seq, p[1]->seq);
		ck_assert_uint_eq(p[i]->offset, p[1]->offset);
		ck_assert_uint_eq(p[i]->sub, i - 1);
		ck_assert_uint_eq(p[i]->unit_pages, 5);
	}
	ck_assert_uint_eq(p[0]->sub + p[0]->unit_pages + p[6]->unit_pages, 0);
	ck_assert_uint_eq(p[6]->seq, p[1]->seq + 1);
	ck_assert_uint_eq(p[7]->unit_pages, 3);
	/* the codec byte of each: zstd (of the split form, on the layout
	 * it is made for) for the compressible unit, stored for the random one */
	ck_assert_uint_eq(byte_at(path, p[1]->offset + UEV_RING_REC_HDR),
			  __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && sizeof(long) == 8 ? UEV_RING_CODEC_ZSTD_SPLIT
											  : UEV_RING_CODEC_ZSTD);
	ck_assert_uint_eq(byte_at(path, p[7]->offset + UEV_RING_REC_HDR), UEV_RING_CODEC_STORED);
	ck_assert_uint_eq(r.st.units, 2);
	ck_assert_uint_eq(r.st.units_bad, 0);
	ck_assert_uint_eq(r.st.pages, 10);
	ck_assert_uint_eq(r.st.seq_gaps, 0);
	ck_assert_uint_eq(r.st.records, r.n);
	rt_read_free(&r);
}
END_TEST

/* Rewrite the UNIT record at @off after @edit changed its payload, with a
 * record CRC that matches again: valid as a record, damaged as a unit. */
static void patch_unit(const char *path, uint64_t off, void (*edit)(uint8_t *payload, uint32_t len))
{
	int fd = open(path, O_RDWR);
	uint8_t hdr[UEV_RING_REC_HDR], *pl;
	uint32_t len;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, hdr, sizeof(hdr), (off_t)off), (ssize_t)sizeof(hdr));
	ck_assert_uint_eq(uev_get16(hdr), UEV_RING_UNIT);
	len = uev_get32(hdr + 4);
	pl = malloc(len);
	ck_assert_int_eq(pread(fd, pl, len, (off_t)(off + sizeof(hdr))), (ssize_t)len);
	edit(pl, len);
	uev_put32(hdr + 20, uev_crc32c(uev_crc32c(0, hdr, 20), pl, len));
	ck_assert_int_eq(pwrite(fd, hdr, sizeof(hdr), (off_t)off), (ssize_t)sizeof(hdr));
	ck_assert_int_eq(pwrite(fd, pl, len, (off_t)(off + sizeof(hdr))), (ssize_t)len);
	free(pl);
	close(fd);
}

static void flip_packed(uint8_t *p, uint32_t len)
{
	p[UEV_RING_UNIT_HDR + (len - UEV_RING_UNIT_HDR) / 2] ^= 0x5a;
}

static void wrong_raw_crc(uint8_t *p, uint32_t len)
{
	(void)len;
	uev_put32(p + 8, uev_get32(p + 8) ^ 1);
}

static void codec_unknown(uint8_t *p, uint32_t len)
{
	(void)len;
	p[0] = 7;
}

static void other_run(uint8_t *p, uint32_t len)
{
	(void)len;
	uev_put32(p + 12, uev_get32(p + 12) + 1);
}

static void (*const edits[])(uint8_t *, uint32_t) = { flip_packed, wrong_raw_crc, codec_unknown, other_run };

START_TEST(t_unit_damage_costs_its_pages)
{
	char name[32];
	const char *path;
	static uint8_t pages[8 * 1000];
	const struct rt_rec *p[16];
	struct rt_read r;
	uint64_t unit_off;
	size_t n;

	snprintf(name, sizeof(name), "damaged-%d.ring", _i);
	path = rt_path(0, name);
	write_mixed(path, pages);
	ck_assert_int_eq(rt_read(path, &r), 0);
	n = pages_of(&r, p, 16);
	ck_assert_uint_eq(n, 10);
	unit_off = p[1]->offset;
	rt_read_free(&r);
	patch_unit(path, unit_off, edits[_i]);

	ck_assert_int_eq(rt_read(path, &r), 0);
	ck_assert_uint_eq(r.nreports, 1);
	ck_assert_msg(rt_reported_at(&r, unit_off), "%s", rt_report0(&r));
	ck_assert_msg(strstr(r.report[0], "compressed unit of CPU 1"), "%s", r.report[0]);
	ck_assert_uint_eq(r.st.units, 2);
	ck_assert_uint_eq(r.st.units_bad, 1);
	ck_assert_uint_eq(r.st.seq_gaps, 0);
	/* the five pages of the unit are gone, the rest are all there */
	n = pages_of(&r, p, 16);
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(p[0]->cpu, 0);
	ck_assert_uint_eq(p[1]->cpu, 0);
	for (size_t i = 2; i < 5; i++)
		ck_assert_mem_eq(p[i]->payload, pages + 5000 + (i - 2) * 1000, 1000);
	rt_read_free(&r);
}
END_TEST

/* A reader following the file as units are written (uev_ring_reader_follow,
 * refresh after each flush): every page once, in the order written, across
 * segment boundaries, zstd and stored units alike. */
START_TEST(t_units_followed)
{
	const char *path = rt_path(0, "follow.ring");
	struct uev_ring_writer *w = rt_open(path, 1 * MiB);
	static uint8_t pages[3 * 2000];
	struct uev_ring_page_in in[3];
	struct uev_ring_reader *rd;
	struct uev_ring_rec rec;
	uint64_t next = 0, segs_seen = 0, last_seg = 0;
	uint8_t one[1000];
	char err[256];
	int k;

	rt_begin(w);
	ck_assert_int_eq(uev_ring_writer_flush(w), 0);
	ck_assert_int_eq(uev_ring_reader_open(&rd, path, NULL, NULL, err, sizeof(err)), 0);
	uev_ring_reader_follow(rd);
	for (unsigned it = 0; it < 40; it++) {
		uint64_t c = 4 * (uint64_t)it;

		make_pages(pages, in, 3, 2000, c, it % 2 == 0);
		ck_assert_int_eq(uev_ring_writer_unit(w, it % 2, in, 3, 1), 0);
		rt_gen(one, sizeof(one), c + 3);
		ck_assert_int_eq(rt_page(w, it % 2, one, sizeof(one)), 0);
		ck_assert_int_eq(uev_ring_writer_flush(w), 0);
		ck_assert_int_ge(uev_ring_reader_refresh(rd), 0);
		while ((k = uev_ring_reader_next(rd, &rec)) == 1) {
			if (rec.type != UEV_RING_PAGE)
				continue;
			ck_assert_uint_eq(uev_get64(rec.payload), next);
			ck_assert_uint_eq(rec.unit_pages ? rec.sub : 3, next % 4);
			next++;
			segs_seen += rec.segment_seq != last_seg;
			last_seg = rec.segment_seq;
		}
		ck_assert_int_eq(k, 0);
		ck_assert_uint_eq(next, c + 4); /* all of it, at once */
	}
	ck_assert_uint_ge(segs_seen, 3); /* two segment boundaries crossed at least */
	ck_assert_uint_eq(uev_ring_reader_stats(rd)->units, 40);
	ck_assert_uint_eq(uev_ring_reader_stats(rd)->units_bad, 0);
	uev_ring_reader_close(rd);
	ck_assert_int_eq(uev_ring_writer_close(w, NULL), 0);
}
END_TEST

START_TEST(t_unit_refuses_bad_arguments)
{
	const char *path = rt_path(0, "args.ring");
	struct uev_ring_writer *w = rt_open(path, 1 * MiB);
	static uint8_t big[300 * 4096];
	struct uev_ring_page_in in[300];
	uint8_t small[8] = { 0 };

	ck_assert_int_eq(uev_ring_writer_unit(w, 0, in, 1, 1), -EINVAL); /* no run yet */
	rt_begin(w);
	make_pages(big, in, 300, 4096, 0, 1);
	ck_assert_int_eq(uev_ring_writer_unit(w, 0, in, 0, 1), -EINVAL);
	ck_assert_int_eq(uev_ring_writer_unit(w, 0, in, 1, 0), -EINVAL);
	ck_assert_int_eq(uev_ring_writer_unit(w, 0, in, 1, 99), -EINVAL);
	ck_assert_int_eq(uev_ring_writer_unit(w, UEV_RING_CPU_MAX + 1, in, 1, 1), -EINVAL);
	ck_assert_int_eq(uev_ring_writer_unit(w, 0, &(struct uev_ring_page_in){ small, sizeof(small) }, 1, 1),
			 -EINVAL);
	/* more than a unit may hold unpacked */
	ck_assert_int_eq(uev_ring_writer_unit(w, 0, in, 300, 1), -E2BIG);
	/* random pages do not shrink: 20 of 4 KiB do not fit a 64 KiB segment */
	ck_assert_int_eq(uev_ring_writer_unit(w, 0, in, 20, 1), -E2BIG);
	/* what fits is still written */
	ck_assert_int_eq(uev_ring_writer_unit(w, 0, in, 4, 1), 0);
	ck_assert_int_eq(uev_ring_writer_close(w, &(struct uev_ring_counters){ 4, 4 * 4096, 0 }), 0);
	{
		const struct rt_rec *p[8];
		struct rt_read r;

		ck_assert_int_eq(rt_read(path, &r), 0);
		ck_assert_msg(r.nreports == 0, "%s", rt_report0(&r));
		ck_assert_uint_eq(pages_of(&r, p, 8), 4);
		for (unsigned i = 0; i < 4; i++)
			ck_assert_mem_eq(p[i]->payload, big + i * 4096, 4096);
		rt_read_free(&r);
	}
}
END_TEST

/* The decoder of the UNIT header: every field's rule. */
START_TEST(t_unit_header_rules)
{
	uint8_t p[UEV_RING_UNIT_HDR + 32] = { 0 };
	struct uev_ring_rec rec = { .type = UEV_RING_UNIT, .cpu = 3, .len = sizeof(p), .payload = p };
	struct uev_ring_unit_rec u;

	/* stored, one page of 24 bytes: entry 8 + 24 = 32 raw bytes */
	uev_put16(p + 2, 1);
	uev_put32(p + 4, 32);
	ck_assert_int_eq(uev_ring_rec_unit(&rec, &u), 0);
	ck_assert_uint_eq(u.cpu, 3);
	ck_assert_uint_eq(u.pages, 1);
	ck_assert_uint_eq(u.data_len, 32);
	p[0] = 3; /* unknown codec */
	ck_assert_int_eq(uev_ring_rec_unit(&rec, &u), -EINVAL);
	p[0] = 0;
	p[1] = 1; /* reserved */
	ck_assert_int_eq(uev_ring_rec_unit(&rec, &u), -EINVAL);
	p[1] = 0;
	uev_put32(p + 12, 0x12345678); /* run_lo: any value, checked against the run by the reader */
	ck_assert_int_eq(uev_ring_rec_unit(&rec, &u), 0);
	ck_assert_uint_eq(u.run_lo, 0x12345678);
	uev_put32(p + 12, 0);
	uev_put16(p + 2, 0); /* no page */
	ck_assert_int_eq(uev_ring_rec_unit(&rec, &u), -EINVAL);
	uev_put16(p + 2, 2); /* two pages cannot be 32 bytes */
	ck_assert_int_eq(uev_ring_rec_unit(&rec, &u), -EINVAL);
	uev_put16(p + 2, 1);
	uev_put32(p + 4, 40); /* stored: data must be raw_len */
	ck_assert_int_eq(uev_ring_rec_unit(&rec, &u), -EINVAL);
	uev_put32(p + 4, UEV_RING_UNIT_RAW_MAX + 8);
	p[0] = UEV_RING_CODEC_ZSTD;
	ck_assert_int_eq(uev_ring_rec_unit(&rec, &u), -EINVAL);
	rec.type = UEV_RING_PAGE;
	ck_assert_int_eq(uev_ring_rec_unit(&rec, &u), -EINVAL);
	rec.type = UEV_RING_UNIT;
	rec.len = UEV_RING_UNIT_HDR; /* nothing packed */
	ck_assert_int_eq(uev_ring_rec_unit(&rec, &u), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ring-units");
	TCase *tc = tcase_create("units");

	tcase_add_unchecked_fixture(tc, rt_dir_setup, rt_dir_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, t_units_read_back);
	tcase_add_loop_test(tc, t_unit_damage_costs_its_pages, 0,
			    (int)(sizeof(edits) / sizeof(edits[0])));
	tcase_add_test(tc, t_units_followed);
	tcase_add_test(tc, t_unit_refuses_bad_arguments);
	tcase_add_test(tc, t_unit_header_rules);
	suite_add_tcase(s, tc);
	return rt_run(s);
}
