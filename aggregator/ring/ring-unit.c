/* SPDX-License-Identifier: MIT */
/*
 * UNIT records (docs/ring-format.md, "Compressed units"): several PAGEs of
 * one CPU packed into one record, compressed with zstd. The record's CRC
 * covers the packed bytes as for any record, so a torn or flipped unit is
 * found and skipped like any record, and it costs that unit's pages only:
 * every unit is compressed alone, never against an earlier one. raw_crc
 * covers the unpacked bytes as well: a codec that returned other bytes
 * than were packed (a bug, or another zstd that read them differently)
 * must not hand the decoder pages that nobody wrote.
 *
 * The unpacked bytes are entries of {u32 len, u32 reserved (0), the page,
 * zeros to a multiple of 8}, so that each page starts 8-byte aligned, as
 * a PAGE payload does in a segment.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "ring-common.h"
#include "uev-grow.h"


int uev_ring_rec_unit(const struct uev_ring_rec *rec, struct uev_ring_unit_rec *out)
{
	const uint8_t *p = rec->payload;

	memset(out, 0, sizeof(*out));
	if (rec->type != UEV_RING_UNIT || rec->len <= UEV_RING_UNIT_HDR || rec->cpu > UEV_RING_CPU_MAX ||
	    p[0] > UEV_RING_CODEC_ZSTD_SPLIT || p[1])
		return -EINVAL;
	out->cpu = rec->cpu;
	out->codec = (enum uev_ring_codec)p[0];
	out->pages = uev_get16(p + 2);
	out->raw_len = uev_get32(p + 4);
	out->raw_crc = uev_get32(p + 8);
	out->run_lo = uev_get32(p + 12);
	out->data = p + UEV_RING_UNIT_HDR;
	out->data_len = rec->len - UEV_RING_UNIT_HDR;
	if (!out->pages || out->pages > UEV_RING_UNIT_PAGES_MAX || out->raw_len > UEV_RING_UNIT_RAW_MAX ||
	    out->raw_len < out->pages * uev_ring_unit_entry_size(UEV_RING_PAGE_MIN) ||
	    (out->codec == UEV_RING_CODEC_STORED && out->data_len != out->raw_len)) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	return 0;
}

void uev_ring_unit_buf_free(struct uev_ring_unit_buf *b)
{
	free(b->data);
	free(b->split);
	ZSTD_freeDCtx(b->zctx);
	*b = (struct uev_ring_unit_buf){ 0 };
}

void uev_ring_unit_bufs_free(struct uev_ring_unit_bufs *b)
{
	free(b->raw);
	free(b->out);
	free(b->split);
	free(b->words);
	ZSTD_freeCCtx(b->zctx);
	*b = (struct uev_ring_unit_bufs){ 0 };
}

int uev_ring_unit_unpack(const struct uev_ring_unit_rec *u, struct uev_ring_unit_buf *b, const char **why)
{
	size_t got = u->raw_len, at = 0;
	uint8_t *buf;

	if (UEV_GROW(b->data, b->cap, u->raw_len) < 0 || (!b->zctx && !(b->zctx = ZSTD_createDCtx())))
		return -ENOMEM;
	buf = b->data;
	if (u->codec == UEV_RING_CODEC_STORED) {
		memcpy(buf, u->data, u->raw_len);
	} else {
		/* The frame must say its size, and say what the codec
		 * unpacks to: zstd then never writes past it, whatever the
		 * packed bytes hold. */
		int split = u->codec == UEV_RING_CODEC_ZSTD_SPLIT;
		size_t want = u->raw_len + (split ? 4 : 0);
		unsigned long long fs = ZSTD_getFrameContentSize(u->data, u->data_len);
		uint8_t *dst = buf;

		if (split) {
			if (UEV_GROW(b->split, b->split_cap, want) < 0)
				return -ENOMEM;
			dst = b->split;
		}
		if (fs != want) {
			*why = "its zstd frame does not give the unit's length";
			return -EINVAL;
		}
		got = ZSTD_decompressDCtx(b->zctx, dst, want, u->data, u->data_len);
		if (ZSTD_isError(got) || got != want) {
			*why = "its zstd frame does not decompress";
			return -EINVAL;
		}
		if (split && uev_ring_unsplit(dst, want, buf, u->raw_len) < 0) {
			*why = "its split form does not join up";
			return -EINVAL;
		}
	}
	if (uev_crc32c(0, buf, u->raw_len) != u->raw_crc) {
		*why = "unpacked, its CRC does not match";
		return -EINVAL;
	}
	for (uint32_t i = 0; i < u->pages; i++) {
		uint32_t len;

		if (u->raw_len - at < UEV_RING_UNIT_ENTRY_HDR) {
			*why = "fewer pages than its header says";
			return -EINVAL;
		}
		len = uev_get32(buf + at);
		if (uev_get32(buf + at + 4) || len < UEV_RING_PAGE_MIN ||
		    uev_ring_unit_entry_size(len) > u->raw_len - at) {
			*why = "a page entry that does not fit";
			return -EINVAL;
		}
		at += uev_ring_unit_entry_size(len);
	}
	if (at != u->raw_len) {
		*why = "bytes after its last page";
		return -EINVAL;
	}
	return 0;
}

const uint8_t *uev_ring_unit_page(const uint8_t *buf, size_t *cursor, uint32_t *len)
{
	const uint8_t *p = buf + *cursor;

	*len = uev_get32(p);
	*cursor += uev_ring_unit_entry_size(*len);
	return p + UEV_RING_UNIT_ENTRY_HDR;
}

size_t uev_ring_unit_entry_put(uint8_t *dst, const void *page, size_t len)
{
	size_t size = (size_t)uev_ring_unit_entry_size(len);

	/* each byte written once: the header, the page, then its padding */
	uev_put32(dst, (uint32_t)len);
	uev_put32(dst + 4, 0);
	memcpy(dst + UEV_RING_UNIT_ENTRY_HDR, page, len);
	memset(dst + UEV_RING_UNIT_ENTRY_HDR + len, 0, size - UEV_RING_UNIT_ENTRY_HDR - len);
	return size;
}

int uev_ring_unit_pack_raw(const uint8_t *raw, size_t raw_len, unsigned n, int level, uint64_t run_id,
			   struct uev_ring_unit_bufs *b, size_t *out_len)
{
	/* The split form is made for kernel pages of this layout; elsewhere
	 * it would still round-trip, but gain nothing. */
	int split = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && sizeof(long) == 8;
	const uint8_t *src;
	size_t z, src_len;

	if (!n || n > UEV_RING_UNIT_PAGES_MAX || level < 1 || level > ZSTD_maxCLevel() ||
	    raw_len < n * uev_ring_unit_entry_size(UEV_RING_PAGE_MIN))
		return -EINVAL;
	if (raw_len > UEV_RING_UNIT_RAW_MAX)
		return -E2BIG;
	if (UEV_GROW(b->out, b->out_cap, UEV_RING_UNIT_HDR + ZSTD_compressBound(raw_len + 4)) < 0 ||
	    (split && (UEV_GROW(b->split, b->split_cap, raw_len + 4) < 0 ||
		       UEV_GROW(b->words, b->words_cap, raw_len) < 0)))
		return -ENOMEM;
	if (!b->zctx && !(b->zctx = ZSTD_createCCtx()))
		return -ENOMEM;
	src = raw;
	src_len = raw_len;
	if (split) {
		src_len = uev_ring_split(raw, raw_len, b->split, b->words);
		src = b->split;
	}
	z = ZSTD_compressCCtx(b->zctx, b->out + UEV_RING_UNIT_HDR, b->out_cap - UEV_RING_UNIT_HDR, src, src_len,
			      level);
	if (ZSTD_isError(z))
		return -EIO;
	b->out[0] = split ? UEV_RING_CODEC_ZSTD_SPLIT : UEV_RING_CODEC_ZSTD;
	if (z >= raw_len) {
		memcpy(b->out + UEV_RING_UNIT_HDR, raw, raw_len);
		z = raw_len;
		b->out[0] = UEV_RING_CODEC_STORED;
	}
	b->out[1] = 0;
	uev_put16(b->out + 2, (uint16_t)n);
	uev_put32(b->out + 4, (uint32_t)raw_len);
	uev_put32(b->out + 8, uev_crc32c(0, raw, raw_len));
	uev_put32(b->out + 12, (uint32_t)run_id);
	*out_len = UEV_RING_UNIT_HDR + z;
	return 0;
}

int uev_ring_unit_pack(const struct uev_ring_page_in *pages, unsigned n, int level, uint64_t run_id,
		       struct uev_ring_unit_bufs *b, size_t *out_len)
{
	size_t raw = 0;

	if (!n || n > UEV_RING_UNIT_PAGES_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (pages[i].len < UEV_RING_PAGE_MIN || pages[i].len > UEV_RING_UNIT_RAW_MAX)
			return -EINVAL;
		raw += uev_ring_unit_entry_size(pages[i].len);
	}
	if (raw > UEV_RING_UNIT_RAW_MAX)
		return -E2BIG;
	if (UEV_GROW(b->raw, b->raw_cap, raw) < 0)
		return -ENOMEM;
	for (size_t i = 0, at = 0; i < n; i++)
		at += uev_ring_unit_entry_put(b->raw + at, pages[i].data, pages[i].len);
	return uev_ring_unit_pack_raw(b->raw, raw, n, level, run_id, b, out_len);
}
