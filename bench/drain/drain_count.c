/* SPDX-License-Identifier: MIT */
/*
 * drain_count: what a drainer's output holds, for the drain benchmark.
 *
 *   drain_count ring FILE       a uev ring file (docs/ring-format.md)
 *   drain_count tracedat FILE   a trace-cmd trace.dat (built with libtracecmd)
 *
 * Prints one line of "key value" pairs:
 *   events N     records of produce (ftrace raw_data with id DRAIN_MAGIC)
 *   lost N       losses the file itself reports (LOST records / missed
 *                events on sub-buffers; -1 when the count is unknown)
 *   used_bytes N bytes of the file that hold data (ring: superblock,
 *                segment headers and records up to the end of each written
 *                segment; trace.dat: the file size)
 *   file_bytes N st_size; allocated_bytes N st_blocks * 512
 *
 * The ring walk trusts a freshly created file (zeros after the last record
 * of each segment) and does not check CRCs: it is a counter, not a reader.
 * It reads PAGE records and the pages packed in UNIT records itself (with
 * libzstd), not through the ring module it counts for.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <event-parse.h>
#include <kbuffer.h>
#include <zstd.h>
#ifdef HAVE_TRACECMD
#include <trace-cmd.h>
#endif

#include "drain-bench.h"

static int raw_id = -1; /* ftrace:raw_data */

static int is_ours(const uint8_t *data, int size)
{
	uint16_t type;
	uint32_t id;

	if (size < 12)
		return 0;
	memcpy(&type, data, 2);
	memcpy(&id, data + 8, 4);
	return id == DRAIN_MAGIC && (raw_id < 0 || type == raw_id);
}

static int read_raw_id(void)
{
	FILE *f = fopen("/sys/kernel/tracing/events/ftrace/raw_data/id", "re");
	int id = -1;

	if (f) {
		if (fscanf(f, "%d", &id) != 1)
			id = -1;
		fclose(f);
	}
	return id;
}

static uint16_t le16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t le32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t le64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* The events of produce in one sub-buffer @p of @len bytes. */
static uint64_t page_events(struct kbuffer *kb, uint8_t *page, const uint8_t *p, uint32_t len)
{
	uint64_t events = 0;
	unsigned long long ts;
	void *data;

	memcpy(page, p, len);
	memset(page + len, 0, 64);
	if (kbuffer_load_subbuffer(kb, page) == 0)
		for (data = kbuffer_read_event(kb, &ts); data; data = kbuffer_next_event(kb, &ts))
			events += is_ours(data, kbuffer_event_size(kb));
	return events;
}

/* Codec 2's split form back into entries, as docs/ring-format.md
 * ("Compressed units") describes it, written here from that text: 1 when
 * both runs are used up exactly. */
static int join(const uint8_t *in, uint32_t raw_len, uint8_t *raw)
{
	uint32_t nw = le32(in), a = 0, rp = 4, wp, wend = 4 + raw_len;

	if (nw > raw_len || nw % 4)
		return 0;
	wp = 4 + raw_len - nw;
#define REST(dst, n)                                           \
	do {                                                   \
		if ((uint64_t)rp + (n) > 4 + raw_len - nw)     \
			return 0;                              \
		memcpy((dst), in + rp, (n));                   \
		rp += (n);                                     \
	} while (0)
	while (a + 8 <= raw_len) {
		uint32_t len, pos, e, c;
		uint64_t size;
		uint8_t *pg = raw + a + 8;

		if (rp + 4 > 4 + raw_len - nw)
			return 0;
		len = le32(in + rp);
		size = 8 + (((uint64_t)len + 7) & ~7ull);
		if (size > raw_len - a)
			break;
		REST(raw + a, 8);
		pos = len < 16 ? len : 16;
		REST(pg, pos);
		e = len;
		if (len >= 16) {
			c = le32(pg + 8) & ((1u << 27) - 1);
			e = c < len - 16 ? 16 + c : len;
		}
		while (e - pos >= 4) {
			uint32_t w, r, t, b;

			if (wp + 4 > wend)
				return 0;
			memcpy(pg + pos, in + wp, 4);
			wp += 4;
			w = le32(pg + pos);
			pos += 4;
			r = e - pos;
			t = w & 31;
			if (t == 0 || (t == 29 && (w >> 5)))
				b = r >= 4 ? (rp + 4 <= 4 + raw_len - nw ? le32(in + rp) : 0xffffffffu) : r;
			else if (t == 29)
				b = r;
			else if (t >= 30)
				b = 4;
			else
				b = 4 * t;
			b = b < r ? b : r;
			REST(pg + pos, b);
			pos += b;
		}
		REST(pg + pos, (uint32_t)size - 8 - pos);
		a += (uint32_t)size;
	}
	REST(raw + a, raw_len - a);
#undef REST
	return rp == 4 + raw_len - nw && wp == wend;
}

/* A UNIT payload (docs/ring-format.md, "Compressed units"): 16 bytes of
 * header, then zstd of the entries (codec 1), zstd of their split form
 * (codec 2) or the raw entries (codec 0); each entry is {u32 len, u32 0,
 * page, pad to 8}. Adds its pages' events. */
static void unit_events(struct kbuffer *kb, uint8_t *page, const uint8_t *p, uint32_t len, uint8_t *raw,
			uint64_t *events, uint64_t *pages, uint64_t *page_bytes)
{
	uint32_t raw_len = le32(p + 4), at = 0;
	size_t got = raw_len;

	if (len < 16 || raw_len > (1u << 20))
		return;
	if (p[0] == 1) {
		got = ZSTD_decompress(raw, 1u << 20, p + 16, len - 16);
	} else if (p[0] == 2) {
		static uint8_t split[(1u << 20) + 4];

		got = ZSTD_decompress(split, sizeof(split), p + 16, len - 16);
		if (ZSTD_isError(got) || got != (size_t)raw_len + 4 || !join(split, raw_len, raw))
			return;
		got = raw_len;
	} else if (len - 16 == raw_len)
		memcpy(raw, p + 16, raw_len);
	else
		return;
	if (ZSTD_isError(got) || got != raw_len)
		return;
	while (at + 8 <= raw_len) {
		uint32_t n = le32(raw + at);

		if (n > raw_len - at - 8)
			break;
		*events += page_events(kb, page, raw + at + 8, n);
		(*pages)++;
		*page_bytes += n;
		at += 8 + ((n + 7) & ~7u);
	}
}

static int count_ring(const char *file, const struct stat *st)
{
	uint64_t events = 0, lost = 0, used = 4096, pages = 0, page_bytes = 0, segs = 0;
	long lost_unknown = 0;
	struct kbuffer *kb = kbuffer_alloc(KBUFFER_LSIZE_SAME_AS_HOST, KBUFFER_ENDIAN_SAME_AS_HOST);
	uint8_t *page = calloc(1, (1u << 20) + 64), *raw = malloc(1u << 20), *seg = NULL, super[4096];
	uint32_t S, N;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !kb || !page || !raw) {
		perror(file);
		return 1;
	}
	if (pread(fd, super, sizeof(super), 0) != (ssize_t)sizeof(super) || memcmp(super, "UEVRING\0", 8) != 0) {
		fprintf(stderr, "%s: not a uev ring file\n", file);
		return 1;
	}
	S = le32(super + 24);
	N = le32(super + 28);
	seg = malloc(S);
	if (!seg || S < 4096 || (uint64_t)4096 + (uint64_t)S * N > (uint64_t)st->st_size) {
		fprintf(stderr, "%s: bad geometry\n", file);
		return 1;
	}
	for (uint32_t i = 0; i < N; i++) {
		off_t off = (off_t)(4096 + (uint64_t)i * S);
		uint64_t pos = 64;

		if (pread(fd, seg, 64, off) != 64 || memcmp(seg, "USEG", 4) != 0 || le64(seg + 8) == 0)
			continue;
		if (pread(fd, seg, S, off) != (ssize_t)S)
			continue;
		segs++;
		while (pos + 24 <= S) {
			const uint8_t *r = seg + pos;
			unsigned type = le16(r);
			uint32_t len = le32(r + 4);

			if (type < 1 || type > 9 || pos + 24 + len > S)
				break;
			if (type == 6 && len <= (1u << 20)) { /* PAGE */
				pages++;
				page_bytes += len;
				events += page_events(kb, page, r + 24, len);
			} else if (type == 9) { /* UNIT */
				unit_events(kb, page, r + 24, len, raw, &events, &pages, &page_bytes);
			} else if (type == 7 && len >= 8) { /* LOST */
				uint64_t c = le64(r + 24);

				if (c)
					lost += c;
				else
					lost_unknown++;
			}
			pos += 24 + (((uint64_t)len + 7) & ~7ull);
		}
		used += pos;
	}
	close(fd);
	printf("events %llu lost %lld lost_unknown %ld used_bytes %llu file_bytes %lld allocated_bytes %lld "
	       "segments %llu segment_size %u pages %llu page_bytes %llu\n",
	       (unsigned long long)events, (long long)lost, lost_unknown, (unsigned long long)used,
	       (long long)st->st_size, (long long)st->st_blocks * 512, (unsigned long long)segs, S,
	       (unsigned long long)pages, (unsigned long long)page_bytes);
	kbuffer_free(kb);
	free(raw);
	free(page);
	free(seg);
	return 0;
}

#ifdef HAVE_TRACECMD
struct tc_count {
	uint64_t events, lost;
	long lost_unknown;
};

static void tc_count_handle(struct tracecmd_input *h, struct tc_count *c)
{
	int ncpu = tep_get_cpus(tracecmd_get_tep(h));

	/* CPU by CPU, in file order: no merge by time, nothing decoded. */
	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct tep_record *rec;

		for (rec = tracecmd_read_data(h, cpu); rec; rec = tracecmd_read_data(h, cpu)) {
			c->events += is_ours(rec->data, rec->size);
			if (rec->missed_events > 0)
				c->lost += (uint64_t)rec->missed_events;
			else if (rec->missed_events < 0)
				c->lost_unknown++;
			tracecmd_free_record(rec);
		}
	}
}

static int count_tracedat(const char *file, const struct stat *st)
{
	struct tracecmd_input *h = tracecmd_open(file, 0);
	struct tc_count c = { 0 };
	int n;

	if (!h) {
		fprintf(stderr, "%s: libtracecmd cannot open it\n", file);
		return 1;
	}
	tc_count_handle(h, &c);
	n = tracecmd_buffer_instances(h);
	for (int i = 0; i < n; i++) {
		struct tracecmd_input *b = tracecmd_buffer_instance_handle(h, i);

		if (!b)
			continue;
		tc_count_handle(b, &c);
		tracecmd_close(b);
	}
	tracecmd_close(h);
	printf("events %llu lost %lld lost_unknown %ld used_bytes %lld file_bytes %lld allocated_bytes %lld\n",
	       (unsigned long long)c.events, (long long)c.lost, c.lost_unknown, (long long)st->st_size,
	       (long long)st->st_size, (long long)st->st_blocks * 512);
	return 0;
}
#endif

int main(int argc, char **argv)
{
	struct stat st;

	if (argc != 3) {
		fprintf(stderr, "usage: drain_count ring|tracedat FILE\n");
		return 2;
	}
	if (stat(argv[2], &st) < 0) {
		perror(argv[2]);
		return 1;
	}
	raw_id = read_raw_id();
	if (!strcmp(argv[1], "ring"))
		return count_ring(argv[2], &st);
#ifdef HAVE_TRACECMD
	if (!strcmp(argv[1], "tracedat"))
		return count_tracedat(argv[2], &st);
#else
	if (!strcmp(argv[1], "tracedat")) {
		fprintf(stderr, "drain_count: built without libtracecmd\n");
		return 1;
	}
#endif
	fprintf(stderr, "usage: drain_count ring|tracedat FILE\n");
	return 2;
}
