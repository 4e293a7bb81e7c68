/* SPDX-License-Identifier: MIT */
/* Layout of the ring file, shared by writer and reader (ring-common.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ring-common.h"

/* ---- geometry and superblock ------------------------------------------ */

int uev_ring_geometry(uint64_t size, uint32_t *seg_size, uint32_t *seg_count)
{
	uint64_t s = size / 64, n;

	s = s < UEV_RING_SEG_MIN ? UEV_RING_SEG_MIN : s > UEV_RING_SEG_MAX ? UEV_RING_SEG_MAX : s;
	s &= ~(uint64_t)4095;
	if (size < UEV_RING_SUPER_SIZE + UEV_RING_MIN_SEGMENTS * s)
		return -EINVAL;
	n = (size - UEV_RING_SUPER_SIZE) / s;
	if (n > UINT32_MAX)
		return -EINVAL;
	*seg_size = (uint32_t)s;
	*seg_count = (uint32_t)n;
	return 0;
}

uint64_t uev_ring_min_size(void)
{
	return UEV_RING_SUPER_SIZE + (uint64_t)UEV_RING_MIN_SEGMENTS * UEV_RING_SEG_MIN;
}

static const char super_magic[8] = "UEVRING";

void uev_ring_super_encode(uint8_t *b, const struct uev_ring_super *sb)
{
	memset(b, 0, UEV_RING_SUPER_SIZE);
	memcpy(b, super_magic, 8);
	uev_put32(b + 8, sb->version);
	uev_put32(b + 12, UEV_RING_SUPER_SIZE);
	uev_put64(b + 16, sb->file_size);
	uev_put32(b + 24, sb->segment_size);
	uev_put32(b + 28, sb->segment_count);
	memcpy(b + 32, sb->uuid, 16);
	uev_put64(b + 48, sb->created_realtime_ns);
	memcpy(b + 56, sb->seat, strnlen(sb->seat, sizeof(sb->seat) - 1));
	uev_put32(b + 124, uev_crc32c(0, b, 124));
}

/*
 * Upgrading an older version to this one rewrites the superblock with two
 * fields changed: version (bytes 8..11) and crc (124..127). Should a crash
 * leave only one of them written, the CRC matches the superblock with the
 * version field of the other version. Nothing of the newer version is
 * written before the upgrade is on disk (fsync), so such a superblock
 * still describes a file of the older one: its version is returned, 0
 * when the CRC matches no known version.
 */
static uint32_t torn_upgrade(const uint8_t *b, uint32_t v)
{
	uint8_t c[UEV_RING_SUPER_USED];

	memcpy(c, b, sizeof(c));
	for (uint32_t o = UEV_RING_VERSION_MIN; o <= UEV_RING_VERSION; o++) {
		if (o == v)
			continue;
		uev_put32(c + 8, o);
		if (uev_get32(b + 124) == uev_crc32c(0, c, 124))
			return o < v ? o : v;
	}
	return 0;
}

int uev_ring_super_decode(const uint8_t *b, struct uev_ring_super *sb, char *why, size_t whysize)
{
	uint32_t v = uev_get32(b + 8), s = uev_get32(b + 24), n = uev_get32(b + 28);
	uint64_t fsz = uev_get64(b + 16);
	uint32_t torn = 0;

	/* Magic first, then version (its place is the same in every version),
	 * and only then the CRC: a newer version may checksum differently. */
	if (memcmp(b, super_magic, 8) != 0) {
		snprintf(why, whysize, "not a uev ring file");
		return -EINVAL;
	}
	if (v < UEV_RING_VERSION_MIN || v > UEV_RING_VERSION) {
		snprintf(why, whysize, "unsupported ring version %u (this build knows %u to %u)", v,
			 UEV_RING_VERSION_MIN, UEV_RING_VERSION);
		return -EINVAL;
	}
	if (uev_get32(b + 124) != uev_crc32c(0, b, 124) && !(torn = torn_upgrade(b, v))) {
		snprintf(why, whysize, "not a uev ring file (superblock CRC mismatch)");
		return -EINVAL;
	}
	if (uev_get32(b + 12) != UEV_RING_SUPER_SIZE || s % 4096 || s < UEV_RING_SEG_MIN ||
	    s > UEV_RING_SEG_MAX || n < UEV_RING_MIN_SEGMENTS ||
	    fsz != UEV_RING_SUPER_SIZE + (uint64_t)n * s) {
		snprintf(why, whysize,
			 "not a uev ring file (invalid geometry: %u segments of %u bytes in %llu)", n,
			 s, (unsigned long long)fsz);
		return -EINVAL;
	}
	memset(sb, 0, sizeof(*sb));
	sb->version = torn ? torn : v;
	sb->file_size = fsz;
	sb->segment_size = s;
	sb->segment_count = n;
	memcpy(sb->uuid, b + 32, 16);
	sb->created_realtime_ns = uev_get64(b + 48);
	memcpy(sb->seat, b + 56, sizeof(sb->seat) - 1);
	return 0;
}

/* ---- segment and record headers -------------------------------------- */

void uev_ring_seghdr_encode(uint8_t *b, const struct uev_ring_seghdr *h)
{
	memset(b, 0, UEV_RING_SEG_HDR);
	memcpy(b, "USEG", 4);
	uev_put64(b + 8, h->segment_seq);
	uev_put64(b + 16, h->first_record_seq);
	uev_put64(b + 24, h->run_id);
	uev_put32(b + 32, h->run_segment);
	uev_put32(b + 4, uev_crc32c(0, b + 8, UEV_RING_SEG_HDR - 8));
}

enum uev_ring_seghdr_state uev_ring_seghdr_decode(const uint8_t *b, struct uev_ring_seghdr *h,
						   const char **why)
{
	uint8_t acc = 0;

	for (unsigned i = 0; i < UEV_RING_SEG_HDR; i++)
		acc |= b[i];
	if (!acc)
		return UEV_SEG_ZERO;
	*why = memcmp(b, "USEG", 4) ? "bad segment magic"
	       : uev_get32(b + 4) != uev_crc32c(0, b + 8, UEV_RING_SEG_HDR - 8)
		       ? "segment header CRC mismatch"
	       : uev_get64(b + 8) == 0 ? "segment_seq 0 in a written header"
					: NULL;
	if (*why)
		return UEV_SEG_BAD;
	h->segment_seq = uev_get64(b + 8);
	h->first_record_seq = uev_get64(b + 16);
	h->run_id = uev_get64(b + 24);
	h->run_segment = uev_get32(b + 32);
	return UEV_SEG_VALID;
}

void uev_ring_rechdr_seal(uint8_t *b, const struct uev_ring_rechdr *h)
{
	uev_put16(b, h->type);
	uev_put16(b + 2, h->cpu);
	uev_put32(b + 4, h->len);
	uev_put64(b + 8, h->seq);
	uev_put32(b + 16, h->segment_lo);
	uev_put32(b + 20, uev_crc32c(uev_crc32c(0, b, 20), b + UEV_RING_REC_HDR, h->len));
}

int uev_ring_rec_check(const uint8_t *seg, uint32_t seg_size, uint32_t pos, uint64_t segment_seq,
		       uint64_t expect_seq, struct uev_ring_rechdr *h, const char **why)
{
	const uint8_t *b = seg + pos;

	/* Lengths are compared by subtraction: nothing read from the file
	 * can overflow the bound. */
	if (pos > seg_size || seg_size - pos < UEV_RING_REC_HDR) {
		*why = "no room for another record";
		return 0;
	}
	h->type = uev_get16(b);
	h->cpu = uev_get16(b + 2);
	h->len = uev_get32(b + 4);
	h->seq = uev_get64(b + 8);
	h->segment_lo = uev_get32(b + 16);
	if (h->len > seg_size - pos - UEV_RING_REC_HDR)
		*why = "record length runs past the segment end";
	else if (uev_get32(b + 20) != uev_crc32c(uev_crc32c(0, b, 20), b + UEV_RING_REC_HDR, h->len))
		*why = "record CRC mismatch";
	else if (h->segment_lo != (uint32_t)segment_seq)
		*why = "record of an earlier lap (segment_lo differs)";
	else if (h->seq != expect_seq)
		*why = "record seq out of sequence";
	else
		return 1;
	return 0;
}

/* ---- I/O ---------------------------------------------------------------- */

ssize_t uev_ring_pread(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

ssize_t uev_ring_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pwrite(fd, (const char *)buf + done, len - done, (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/* ---- runs ------------------------------------------------------------ */

/* Only the run_id is read, not the whole payload (uev_ring_rec_run_start):
 * which run a record belongs to is decided by the header chain alone, the
 * same way in the writer's scan, the stage and the reader, even where a
 * reader then finds the RUN_START's text fields malformed. */
void uev_ring_run_step(uint16_t type, const uint8_t *payload, uint32_t len, uint64_t *run_id,
		       uint32_t *run_segment)
{
	if (type != UEV_RING_RUN_START || len < 8 || uev_get64(payload) == *run_id)
		return; /* the checkpoint's RUN_START repeats the header's run */
	*run_id = uev_get64(payload);
	*run_segment = 0;
}
