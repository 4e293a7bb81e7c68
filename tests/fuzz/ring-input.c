/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ring's input, expanded into a ring file (ring-input.h; the encoding
 * is described at the top of fuzz_ring.c): the superblock and segments the
 * input describes, made as consistent (geometry, CRCs, seq) as its control
 * byte asks, written into one memfd reused across runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ring-common.h"
#include "ring-input.h"
#include "ringfile.h"

#define FUZZ_SEP "--uev-fuzz-segment--"
#define FUZZ_AT "--uev-fuzz-at--"


enum {
	CTL_GEOMETRY = 0x01,
	CTL_SUPER_CRC = 0x02,
	CTL_SEG_CRC = 0x04,
	CTL_REC_CRC = 0x08,
	CTL_REC_SEQ = 0x10,
	CTL_BIG_SEG = 0x20,
};

/* Bounds that keep one run fast and its memory small: the reader's
 * memory is one segment, but the harness writes the file each run. */
#define MAX_CHUNKS 16u
#define MAX_PIECES 16u
#define MAX_FILE (8ull << 20)

static int memfd = -1;
static char path[64];
static uint8_t *segbuf; /* one segment being built, UEV_RING_SEG_MAX bytes */
static size_t segdirty;  /* bytes of segbuf that may be non-zero */

struct chunk {
	const uint8_t *p;
	size_t len;
};

int ring_input_init(void)
{
	memfd = memfd_create("uev-fuzz-ring", MFD_CLOEXEC);
	segbuf = calloc(1, UEV_RING_SEG_MAX);
	if (memfd < 0 || !segbuf)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	return 0;
}

const char *ring_input_path(void)
{
	return path;
}

static size_t split(const uint8_t *data, size_t size, const char *sep, struct chunk *c, size_t max)
{
	const size_t sl = strlen(sep);
	size_t n = 0;

	while (n < max) {
		const uint8_t *s = memmem(data, size, sep, sl);
		size_t l = s ? (size_t)(s - data) : size;

		c[n++] = (struct chunk){ data, l };
		if (!s)
			break;
		data += l + sl;
		size -= l + sl;
	}
	return n;
}

/* Where the segments go and how big the file is. */
struct layout {
	uint64_t file_size;
	uint32_t stride; /* distance between segment starts */
	uint32_t nseg;
};

static void layout(uint8_t *sb, uint8_t ctl, size_t nchunks, struct layout *l)
{
	uint32_t s, n;
	uint64_t fsz;

	if (ctl & CTL_GEOMETRY) {
		s = ctl & CTL_BIG_SEG ? 256u << 10 : UEV_RING_SEG_MIN;
		n = (uint32_t)(nchunks - 1 < UEV_RING_MIN_SEGMENTS ? UEV_RING_MIN_SEGMENTS : nchunks - 1);
		n += ctl >> 6;
		fsz = UEV_RING_SUPER_SIZE + (uint64_t)n * s;
		memcpy(sb, "UEVRING", 8);
		uev_put32(sb + 8, UEV_RING_VERSION);
		uev_put32(sb + 12, UEV_RING_SUPER_SIZE);
		uev_put64(sb + 16, fsz);
		uev_put32(sb + 24, s);
		uev_put32(sb + 28, n);
		*l = (struct layout){ fsz, s, n };
		return;
	}
	/* The superblock as the fuzzer left it. Segments are placed where the
	 * reader will look for them if its segment_size is usable at all, and
	 * the file gets the size it claims when that is not absurd, so that
	 * every geometry and size check can be reached both ways. */
	s = uev_get32(sb + 24);
	n = uev_get32(sb + 28);
	fsz = uev_get64(sb + 16);
	l->stride = s >= 4096 && s <= UEV_RING_SEG_MAX ? s : UEV_RING_SEG_MIN;
	l->nseg = (uint32_t)nchunks - 1;
	if (fsz >= UEV_RING_SUPER_SIZE && fsz <= MAX_FILE)
		l->file_size = fsz;
	else
		l->file_size = UEV_RING_SUPER_SIZE + (uint64_t)l->nseg * l->stride;
	(void)n;
}

/* The writer's side of the record rules, applied to a fuzzed segment so
 * that its records stay valid where ctl asks for it. */
static void fix_records(uint8_t *seg, size_t have, uint32_t S, uint8_t ctl)
{
	uint64_t sseq = uev_get64(seg + 8), rseq = uev_get64(seg + 16);
	uint32_t pos = UEV_RING_SEG_HDR;
	uint8_t zero[UEV_RING_REC_HDR] = { 0 };

	while (pos + UEV_RING_REC_HDR <= have && memcmp(seg + pos, zero, sizeof(zero))) {
		uint8_t *b = seg + pos;
		uint32_t len = uev_get32(b + 4);

		if (len > S - pos - UEV_RING_REC_HDR)
			break;
		if (ctl & CTL_REC_SEQ) {
			uev_put64(b + 8, rseq++);
			uev_put32(b + 16, (uint32_t)sseq);
		}
		if (ctl & CTL_REC_CRC)
			uev_put32(b + 20, uev_crc32c(uev_crc32c(0, b, 20), b + UEV_RING_REC_HDR, len));
		pos += (uint32_t)uev_ring_rec_size(len);
	}
}

/* The pieces of one segment chunk into segbuf (zero): the end of the
 * furthest one. */
static size_t place(const struct chunk *seg, uint32_t S)
{
	struct chunk piece[MAX_PIECES];
	size_t n = split(seg->p, seg->len, FUZZ_AT, piece, MAX_PIECES), end = 0;

	for (size_t k = 0; k < n; k++) {
		const uint8_t *b = piece[k].p;
		size_t len = piece[k].len;
		uint32_t at = 0;

		if (k > 0) {
			if (len < 4)
				continue;
			at = uev_get32(b) % S;
			b += 4;
			len -= 4;
		}
		if (len > S - at)
			len = S - at;
		memcpy(segbuf + at, b, len);
		end = at + len > end ? at + len : end;
	}
	return end;
}

/* What build_file() found, for the update that may follow. */
static struct layout cur_layout;
static uint8_t cur_ctl;

/* Segment @index of the file from a chunk of pieces, with ctl's fixes. */
static void write_segment(uint32_t index, const struct chunk *c)
{
	const struct layout *l = &cur_layout;
	uint64_t off = UEV_RING_SUPER_SIZE + (uint64_t)index * l->stride;
	size_t have, wr;

	if (off >= l->file_size)
		return;
	/* Only what the last chunk wrote is cleared: a 4 MiB memset per
	 * segment would dominate the run time. The record walk reads up to
	 * the segment end, so the rest must stay zero. */
	memset(segbuf, 0, segdirty);
	have = place(c, l->stride);
	segdirty = have > UEV_RING_SEG_HDR ? have : UEV_RING_SEG_HDR;
	if ((cur_ctl & CTL_SEG_CRC) && have > 0) {
		uev_put32(segbuf + 4, uev_crc32c(0, segbuf + 8, UEV_RING_SEG_HDR - 8));
		have = have < UEV_RING_SEG_HDR ? UEV_RING_SEG_HDR : have;
	}
	if (cur_ctl & (CTL_REC_CRC | CTL_REC_SEQ))
		fix_records(segbuf, have, l->stride, cur_ctl);
	wr = have < l->file_size - off ? have : (size_t)(l->file_size - off);
	if (wr && pwrite(memfd, segbuf, wr, (off_t)off) != (ssize_t)wr)
		abort();
}

int ring_input_build(const uint8_t *data, size_t size)
{
	struct chunk c[MAX_CHUNKS + 1];
	size_t n = split(data, size, FUZZ_SEP, c, MAX_CHUNKS + 1);
	uint8_t sb[UEV_RING_SUPER_SIZE] = { 0 };

	if (n == 0 || c[0].len == 0)
		return -1;
	cur_ctl = c[0].p[0];
	memcpy(sb, c[0].p + 1, c[0].len - 1 < sizeof(sb) ? c[0].len - 1 : sizeof(sb));
	layout(sb, cur_ctl, n, &cur_layout);
	if (cur_ctl & CTL_SUPER_CRC)
		uev_put32(sb + 124, uev_crc32c(0, sb, 124));

	/* ftruncate to 0 and back gives an all-zero file without writing it. */
	if (ftruncate(memfd, 0) < 0 || ftruncate(memfd, (off_t)cur_layout.file_size) < 0)
		abort();
	if (pwrite(memfd, sb, cur_layout.file_size < sizeof(sb) ? cur_layout.file_size : sizeof(sb),
		   0) < 0)
		abort();
	for (size_t k = 1; k < n; k++)
		write_segment((uint32_t)(k - 1), &c[k]);
	return 0;
}

/* The update after LATER: segments written over the file, as a writer
 * goes on (or a damaged one scribbles). */
void ring_input_update(const uint8_t *data, size_t size)
{
	struct chunk c[MAX_CHUNKS];
	size_t n = split(data, size, FUZZ_SEP, c, MAX_CHUNKS);
	uint32_t nseg = cur_layout.nseg ? cur_layout.nseg : 1;

	for (size_t k = 0; k < n; k++) {
		struct chunk rest = { c[k].p + 1, c[k].len - 1 };

		if (c[k].len)
			write_segment(c[k].p[0] % nseg, &rest);
	}
}

void ring_input_save(const char *to)
{
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	off_t off = 0;
	char buf[65536];
	ssize_t n;

	while (out >= 0 && (n = pread(memfd, buf, sizeof(buf), off)) > 0 && write(out, buf, (size_t)n) == n)
		off += n;
	if (out < 0 || close(out) < 0)
		perror(to);
}
