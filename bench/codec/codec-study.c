/* SPDX-License-Identifier: MIT */
/*
 * codec-study: how well, and at what CPU cost, candidate codecs compress
 * the sub-buffer pages a ring file holds, in units of the size a writer
 * would compress at once (issue 14: compressed segments). It reads the
 * file's PAGE records, groups each CPU's pages in file order into units
 * of at most UNIT_KB of input (a page is never split), compresses every
 * unit with each codec and level, checks that it decompresses to the same
 * bytes, and prints one line per codec and unit size.
 *
 *   codec-study RING [EVENTS [UNIT_KB...]]
 *
 * RING     a ring file (record one with uev-aggregator; bench/codec/run.sh
 *          records the two loads of BENCHMARKS.md)
 * EVENTS   the events the file holds (uev-replay --stats), for bytes per
 *          event; 0 = do not print them
 * UNIT_KB  unit sizes to try (default 16 64 256)
 *
 * Columns: codec, unit size, units, input MiB (the PAGE payloads), output
 * MiB (compressed units + a 24-byte record header and 16 bytes of unit
 * header each, what a ring record of the unit would take), ratio of input
 * to output, bytes per event, compression and decompression CPU ms per
 * MiB of input (CLOCK_PROCESS_CPUTIME_ID, best of 3 passes).
 *
 * "none" is the file as uev writes it today: every page its own record
 * (24-byte header, padding to 8).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <lz4.h>
#include <lz4hc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "ringfile.h"

#define REC_HDR 24u
#define UNIT_HDR 16u

struct page {
	unsigned cpu;
	size_t off, len; /* in the pages buffer */
};

struct unit {
	size_t off, len; /* input bytes, contiguous in the units buffer */
};

enum codec { NONE, LZ4, LZ4HC, ZSTD };

struct config {
	const char *name;
	enum codec codec;
	int level;    /* lz4: acceleration; lz4hc, zstd: level */
	int hash_log; /* zstd: ZSTD_c_hashLog, 0 = the level's */
};

static const struct config configs[] = {
	{ "lz4", LZ4, 1, 0 },         { "lz4-a4", LZ4, 4, 0 },     { "lz4hc-4", LZ4HC, 4, 0 },
	{ "lz4hc-9", LZ4HC, 9, 0 },   { "zstd--3", ZSTD, -3, 0 },  { "zstd--1", ZSTD, -1, 0 },
	{ "zstd-1", ZSTD, 1, 0 },     { "zstd-1h12", ZSTD, 1, 12 }, { "zstd-3", ZSTD, 3, 0 },
	{ "zstd-6", ZSTD, 6, 0 },     { "zstd-9", ZSTD, 9, 0 },
};

static double cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		perror("codec-study");
		exit(1);
	}
	return p;
}

/* Every PAGE payload of the file, in file order. */
static size_t read_pages(const char *path, uint8_t **buf, size_t *nbuf, struct page **pages)
{
	struct uev_ring_reader *r;
	struct uev_ring_rec rec;
	size_t n = 0, cap = 0, used = 0;
	char err[256];
	int ret;

	if (uev_ring_reader_open(&r, path, NULL, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "codec-study: %s\n", err);
		exit(2);
	}
	while ((ret = uev_ring_reader_next(r, &rec)) > 0) {
		if (rec.type != UEV_RING_PAGE)
			continue;
		if (n == cap)
			*pages = xrealloc(*pages, (cap = cap ? 2 * cap : 4096) * sizeof(**pages));
		if (used + rec.len > *nbuf)
			*buf = xrealloc(*buf, *nbuf = 2 * (used + rec.len));
		memcpy(*buf + used, rec.payload, rec.len);
		(*pages)[n++] = (struct page){ rec.cpu, used, rec.len };
		used += rec.len;
	}
	if (ret < 0) {
		fprintf(stderr, "codec-study: %s: %s\n", path, uev_ring_reader_error(r));
		exit(2);
	}
	uev_ring_reader_close(r);
	return n;
}

/* Each CPU's pages, in order, packed into units of at most @max bytes. */
static size_t make_units(const uint8_t *pb, const struct page *pg, size_t np, size_t max, uint8_t *ub,
			 struct unit *u)
{
	size_t nu = 0, used = 0;
	unsigned maxcpu = 0;

	for (size_t i = 0; i < np; i++)
		maxcpu = pg[i].cpu > maxcpu ? pg[i].cpu : maxcpu;
	for (unsigned cpu = 0; cpu <= maxcpu; cpu++) {
		struct unit *cur = NULL;

		for (size_t i = 0; i < np; i++) {
			if (pg[i].cpu != cpu)
				continue;
			if (!cur || cur->len + pg[i].len > max) {
				cur = &u[nu++];
				*cur = (struct unit){ used, 0 };
			}
			memcpy(ub + used, pb + pg[i].off, pg[i].len);
			used += pg[i].len;
			cur->len += pg[i].len;
		}
	}
	return nu;
}

static size_t bound(enum codec c, size_t n)
{
	return c == ZSTD ? ZSTD_compressBound(n) : (size_t)LZ4_compressBound((int)n);
}

static size_t compress1(const struct config *c, ZSTD_CCtx *zc, void *dst, size_t cap, const void *src,
			size_t n)
{
	size_t r;

	switch (c->codec) {
	case LZ4:
		return (size_t)LZ4_compress_fast(src, dst, (int)n, (int)cap, c->level);
	case LZ4HC:
		return (size_t)LZ4_compress_HC(src, dst, (int)n, (int)cap, c->level);
	case ZSTD:
		ZSTD_CCtx_reset(zc, ZSTD_reset_session_and_parameters);
		ZSTD_CCtx_setParameter(zc, ZSTD_c_compressionLevel, c->level);
		if (c->hash_log)
			ZSTD_CCtx_setParameter(zc, ZSTD_c_hashLog, c->hash_log);
		r = ZSTD_compress2(zc, dst, cap, src, n);
		return ZSTD_isError(r) ? 0 : r;
	default:
		return 0;
	}
}

static size_t decompress1(const struct config *c, ZSTD_DCtx *zd, void *dst, size_t cap, const void *src,
			  size_t n)
{
	size_t r;

	if (c->codec == ZSTD) {
		r = ZSTD_decompressDCtx(zd, dst, cap, src, n);
		return ZSTD_isError(r) ? 0 : r;
	}
	int k = LZ4_decompress_safe(src, dst, (int)n, (int)cap);
	return k < 0 ? 0 : (size_t)k;
}

/* One codec on every unit: sizes, CPU (best of 3 passes), round trip. */
static void study(const struct config *c, size_t ukb, const uint8_t *ub, const struct unit *u, size_t nu,
		  size_t in, double events, ZSTD_CCtx *zc, ZSTD_DCtx *zd, uint8_t *out, uint8_t *back)
{
	double best_c = 1e30, best_d = 1e30, mib = in / 1048576.0;
	size_t total = 0;

	for (int pass = 0; pass < 3; pass++) {
		double t0 = cpu_ms(), dsum = 0;

		total = 0;
		for (size_t i = 0, at = 0; i < nu; i++) {
			size_t z = compress1(c, zc, out + at, bound(c->codec, u[i].len), ub + u[i].off, u[i].len);

			if (!z) {
				fprintf(stderr, "codec-study: %s failed\n", c->name);
				exit(1);
			}
			at += z;
			total += REC_HDR + UNIT_HDR + ((z + 7) & ~(size_t)7);
		}
		best_c = cpu_ms() - t0 < best_c ? cpu_ms() - t0 : best_c;
		/* Decompression, timed alone: each unit compressed again into
		 * one place, then decompressed and compared. */
		for (size_t i = 0; i < nu; i++) {
			size_t z = compress1(c, zc, out, bound(c->codec, u[i].len), ub + u[i].off, u[i].len);
			double t1 = cpu_ms();
			size_t d = decompress1(c, zd, back, 4u << 20, out, z);

			dsum += cpu_ms() - t1;
			if (d != u[i].len || memcmp(back, ub + u[i].off, d)) {
				fprintf(stderr, "codec-study: %s: unit %zu does not round-trip\n", c->name, i);
				exit(1);
			}
		}
		best_d = dsum < best_d ? dsum : best_d;
	}
	printf("%-10s %7zu %6zu %8.2f %8.2f %6.2f %8.2f %9.2f %9.2f\n", c->name, ukb, nu, mib,
	       total / 1048576.0, (double)in / total, events > 0 ? total / events : 0.0, best_c / mib,
	       best_d / mib);
}

int main(int argc, char **argv)
{
	static const size_t def_units[] = { 16, 64, 256 };
	uint8_t *pb = NULL, *ub, *out, *back;
	struct page *pg = NULL;
	struct unit *u;
	size_t npb = 0, np, in = 0, raw = 0;
	double events = argc > 2 ? strtod(argv[2], NULL) : 0;
	ZSTD_CCtx *zc = ZSTD_createCCtx();
	ZSTD_DCtx *zd = ZSTD_createDCtx();

	if (argc < 2) {
		fprintf(stderr, "usage: codec-study RING [EVENTS [UNIT_KB...]]\n");
		return 2;
	}
	np = read_pages(argv[1], &pb, &npb, &pg);
	for (size_t i = 0; i < np; i++) {
		in += pg[i].len;
		raw += REC_HDR + ((pg[i].len + 7) & ~(size_t)7);
	}
	if (!np) {
		fprintf(stderr, "codec-study: %s holds no pages\n", argv[1]);
		return 2;
	}
	ub = xrealloc(NULL, in);
	u = xrealloc(NULL, np * sizeof(*u));
	out = xrealloc(NULL, ZSTD_compressBound(in) + (size_t)LZ4_compressBound((int)in) + np * 64);
	back = xrealloc(NULL, 4u << 20);
	printf("# %s: %zu pages, %.2f MiB of page payloads; %s\n", argv[1], np, in / 1048576.0,
	       "zstd " ZSTD_VERSION_STRING ", lz4 " LZ4_VERSION_STRING);
	printf("%-10s %7s %6s %8s %8s %6s %8s %9s %9s\n", "codec", "unit_kb", "units", "in_MiB", "out_MiB",
	       "ratio", "B/event", "comp_ms/M", "dec_ms/M");
	printf("%-10s %7s %6zu %8.2f %8.2f %6.2f %8.2f %9s %9s\n", "none", "page", np, in / 1048576.0,
	       raw / 1048576.0, (double)in / raw, events > 0 ? raw / events : 0.0, "-", "-");
	size_t nunits = argc > 3 ? (size_t)(argc - 3) : sizeof(def_units) / sizeof(def_units[0]);

	for (size_t a = 0; a < nunits; a++) {
		size_t ukb = argc > 3 ? strtoul(argv[3 + a], NULL, 10) : def_units[a];
		size_t nu;

		if (ukb < 4 || ukb > 4096) {
			fprintf(stderr, "codec-study: UNIT_KB %s: 4..4096\n", argv[3 + a]);
			return 2;
		}
		nu = make_units(pb, pg, np, ukb << 10, ub, u);
		for (size_t k = 0; k < sizeof(configs) / sizeof(configs[0]); k++)
			study(&configs[k], ukb, ub, u, nu, in, events, zc, zd, out, back);
	}
	ZSTD_freeCCtx(zc);
	ZSTD_freeDCtx(zd);
	free(pb);
	free(pg);
	free(ub);
	free(u);
	free(out);
	free(back);
	return 0;
}
