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

/* ---- fixed-layout payloads -------------------------------------------- */

static void put_str(uint8_t *p, const char *s, size_t size)
{
	size_t l = s ? strnlen(s, size - 1) : 0;

	memcpy(p, s ? s : "", l);
	memset(p + l, 0, size - l);
}

static void get_str(char *d, const uint8_t *p, size_t size)
{
	memcpy(d, p, size - 1);
	d[size - 1] = 0;
}

/* RUN_START field offsets, in payload order. */
enum { RS_BOOT = 8, RS_KREL = 45, RS_SEAT = 110, RS_CLOCK = 174, RS_HOST = 190, RS_PID = 255,
       RS_TIME = 259, RS_FLUSH = 267, RS_ORDER = 271, RS_LONG = 272 };

uint8_t uev_ring_host_byte_order(void)
{
	const uint16_t one = 1;

	return *(const uint8_t *)&one ? UEV_RING_LITTLE_ENDIAN : UEV_RING_BIG_ENDIAN;
}

/* The size of the kernel's long is what the pages need; a writer built
 * for the kernel's word size (as uev-aggregator must be: it parses the
 * kernel's pages with sizeof(long) too) has the same. */
uint8_t uev_ring_host_long_size(void)
{
	return (uint8_t)sizeof(long);
}

const char *uev_ring_layout_name(char *buf, size_t size, uint8_t byte_order, uint8_t long_size)
{
	char order[32];

	if (byte_order == UEV_RING_LITTLE_ENDIAN || byte_order == UEV_RING_BIG_ENDIAN)
		snprintf(order, sizeof(order), "%s-endian",
			 byte_order == UEV_RING_LITTLE_ENDIAN ? "little" : "big");
	else
		snprintf(order, sizeof(order), "byte order %u (unknown)", byte_order);
	snprintf(buf, size, "%s, %u-byte long", order, long_size);
	return buf;
}

int uev_ring_layout_check(const struct uev_ring_run_info *ri, const char *path, uint64_t run_id,
			  char *err, size_t errsize)
{
	char file[64], host[64];

	if ((ri->byte_order == UEV_RING_LITTLE_ENDIAN || ri->byte_order == UEV_RING_BIG_ENDIAN) &&
	    (ri->long_size == 4 || ri->long_size == 8))
		return 0;
	snprintf(err, errsize, "%s: run %llu was recorded as %s, which this build cannot decode (this machine: %s)",
		 path, (unsigned long long)run_id,
		 uev_ring_layout_name(file, sizeof(file), ri->byte_order, ri->long_size),
		 uev_ring_layout_name(host, sizeof(host), uev_ring_host_byte_order(),
				      uev_ring_host_long_size()));
	return -ENOTSUP;
}

int uev_ring_layout_is_host(const struct uev_ring_run_info *ri)
{
	return ri->byte_order == uev_ring_host_byte_order() && ri->long_size == uev_ring_host_long_size();
}

void uev_ring_run_start_encode(uint8_t *p, uint64_t run_id, const struct uev_ring_run_info *ri)
{
	uev_put64(p, run_id);
	put_str(p + RS_BOOT, ri->boot_id, sizeof(ri->boot_id));
	put_str(p + RS_KREL, ri->kernel_release, sizeof(ri->kernel_release));
	put_str(p + RS_SEAT, ri->seat, sizeof(ri->seat));
	put_str(p + RS_CLOCK, ri->trace_clock, sizeof(ri->trace_clock));
	put_str(p + RS_HOST, ri->host, sizeof(ri->host));
	uev_put32(p + RS_PID, ri->aggregator_pid);
	uev_put64(p + RS_TIME, ri->start_realtime_ns);
	uev_put32(p + RS_FLUSH, ri->flush_interval_ms);
	p[RS_ORDER] = ri->byte_order ? ri->byte_order : uev_ring_host_byte_order();
	p[RS_LONG] = ri->long_size ? ri->long_size : uev_ring_host_long_size();
}

int uev_ring_run_start_decode(const uint8_t *p, size_t len, uint64_t *run_id,
			      struct uev_ring_run_info *ri)
{
	if (len < UEV_RING_RUN_START_V1_LEN)
		return -EINVAL;
	*run_id = uev_get64(p);
	get_str(ri->boot_id, p + RS_BOOT, sizeof(ri->boot_id));
	get_str(ri->kernel_release, p + RS_KREL, sizeof(ri->kernel_release));
	get_str(ri->seat, p + RS_SEAT, sizeof(ri->seat));
	get_str(ri->trace_clock, p + RS_CLOCK, sizeof(ri->trace_clock));
	get_str(ri->host, p + RS_HOST, sizeof(ri->host));
	ri->aggregator_pid = uev_get32(p + RS_PID);
	ri->start_realtime_ns = uev_get64(p + RS_TIME);
	ri->flush_interval_ms = len >= UEV_RING_RUN_START_V2_LEN ? uev_get32(p + RS_FLUSH) : 0;
	ri->byte_order = len >= UEV_RING_RUN_START_LEN ? p[RS_ORDER] : UEV_RING_LITTLE_ENDIAN;
	ri->long_size = len >= UEV_RING_RUN_START_LEN ? p[RS_LONG] : 8;
	return 0;
}

void uev_ring_run_step(uint16_t type, const uint8_t *payload, uint32_t len, uint64_t *run_id,
		       uint32_t *run_segment)
{
	if (type != UEV_RING_RUN_START || len < 8 || uev_get64(payload) == *run_id)
		return; /* the checkpoint's RUN_START repeats the header's run */
	*run_id = uev_get64(payload);
	*run_segment = 0;
}

int uev_ring_rec_run_start(const struct uev_ring_rec *rec, uint64_t *run_id,
			   struct uev_ring_run_info *info)
{
	memset(info, 0, sizeof(*info));
	return uev_ring_run_start_decode(rec->payload, rec->len, run_id, info);
}

int uev_ring_rec_format(const struct uev_ring_rec *rec, struct uev_ring_format_rec *f)
{
	const char *p = rec->payload, *end = p + rec->len, *name, *text;

	if (rec->len < 8)
		return -EINVAL;
	f->kind = (enum uev_ring_format_kind)(uint8_t)p[0];
	f->id = uev_get32((const uint8_t *)p + 4);
	f->system = p + 8;
	name = memchr(f->system, 0, (size_t)(end - f->system));
	text = name ? memchr(name + 1, 0, (size_t)(end - name - 1)) : NULL;
	if (!text || !memchr(text + 1, 0, (size_t)(end - text - 1)))
		return -EINVAL;
	f->name = name + 1;
	f->text = text + 1;
	return 0;
}

int uev_ring_rec_announce(const struct uev_ring_rec *rec, uint32_t *id, const char **def)
{
	const uint8_t *p = rec->payload;

	if (rec->len <= 4 || !memchr(p + 4, 0, rec->len - 4))
		return -EINVAL;
	*id = uev_get32(p);
	*def = (const char *)p + 4;
	return 0;
}

int uev_ring_rec_comm(const struct uev_ring_rec *rec, uint32_t i, int32_t *pid, char comm[16])
{
	const uint8_t *p = (const uint8_t *)rec->payload + (size_t)i * UEV_RING_COMM_ENT;

	if (i >= rec->len / UEV_RING_COMM_ENT)
		return 0;
	*pid = (int32_t)uev_get32(p);
	memcpy(comm, p + 4, 15);
	comm[15] = 0;
	return 1;
}

int uev_ring_rec_sync(const struct uev_ring_rec *rec, struct uev_ring_sync *s)
{
	return uev_ring_sync_decode(rec->payload, rec->len, s);
}

void uev_ring_sync_encode(uint8_t *p, const struct uev_ring_sync *s)
{
	uev_put64(p, s->trace_ns);
	uev_put64(p + 8, s->realtime_ns);
	uev_put64(p + 16, s->monotonic_ns);
	uev_put64(p + 24, s->boottime_ns);
}

int uev_ring_sync_decode(const uint8_t *p, size_t len, struct uev_ring_sync *s)
{
	if (len < UEV_RING_SYNC_LEN)
		return -EINVAL;
	s->trace_ns = uev_get64(p);
	s->realtime_ns = uev_get64(p + 8);
	s->monotonic_ns = uev_get64(p + 16);
	s->boottime_ns = uev_get64(p + 24);
	return 0;
}

void uev_ring_run_end_encode(uint8_t *p, uint64_t realtime_ns, const struct uev_ring_counters *c)
{
	uev_put64(p, realtime_ns);
	uev_put64(p + 8, c ? c->pages : 0);
	uev_put64(p + 16, c ? c->bytes : 0);
	uev_put64(p + 24, c ? c->lost : 0);
}
