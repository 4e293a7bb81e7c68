/* SPDX-License-Identifier: MIT */
/*
 * CRC-32C of ring records (declared in ring-common.h). The writer
 * checksums every byte it stores, so this runs at the aggregator's data
 * rate. The zlib convention (pre- and post-inversion inside) lets callers
 * chain: crc(a|b) = uev_crc32c(uev_crc32c(0, a), b).
 *
 * Three ways, one result: slicing-by-8 tables anywhere; the SSE4.2 crc32
 * instruction (same polynomial and bit order, ~10x the tables); and, for
 * buffers of a page or more, that instruction on three independent
 * stretches at once. One crc32 has a latency of three cycles but the CPU
 * can start one per cycle, so a single chain leaves it two thirds idle.
 * The three partial CRCs are joined by linearity: the CRC register after
 * A|B is (register after A, advanced over |B| zero bytes) ^ (CRC of B from
 * zero), and advancing over a fixed length is a linear map on 32 bits,
 * tabulated once per byte of the register (adv1: a stretch, adv2: two).
 */
#include <pthread.h>
#include <string.h>

#include "ring-common.h"

#define POLY 0x82f63b78u /* CRC-32C (Castagnoli), reflected */

/* Stretch lengths: 3 KiB at a time, then 768 bytes, then one chain for
 * the rest (a page record is 4 KiB or a little less). */
static struct tier {
	size_t blk;
	uint32_t adv1[4][256], adv2[4][256];
} tiers[2] = { { .blk = 1024 }, { .blk = 256 } };

static uint32_t crc_tab[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

/* Advance a CRC register over one zero bit / @n zero bytes, bit by bit:
 * only used to build the tables. */
static uint32_t zero_bit(uint32_t c)
{
	return c & 1 ? (c >> 1) ^ POLY : c >> 1;
}

static uint32_t zero_bytes(uint32_t c, size_t n)
{
	for (size_t i = 0; i < 8 * n; i++)
		c = zero_bit(c);
	return c;
}

static uint32_t advance(const uint32_t t[4][256], uint32_t c)
{
	return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
}

static void crc_init(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;

		for (int k = 0; k < 8; k++)
			c = zero_bit(c);
		crc_tab[0][n] = c;
	}
	for (uint32_t n = 0; n < 256; n++)
		for (int k = 1; k < 8; k++)
			crc_tab[k][n] = (crc_tab[k - 1][n] >> 8) ^ crc_tab[0][crc_tab[k - 1][n] & 0xff];
	/* Linear: the advance of a register is the XOR of its bits'
	 * advances, so 32 slow ones build every entry. Advancing 2 BLK is
	 * advancing BLK twice. */
	for (struct tier *t = tiers; t < tiers + 2; t++) {
		for (int bit = 0; bit < 32; bit++) {
			uint32_t a = zero_bytes(1u << bit, t->blk);

			for (uint32_t n = 0; n < 256; n++)
				if (n & (1u << (bit % 8)))
					t->adv1[bit / 8][n] ^= a;
		}
		for (int b = 0; b < 4; b++)
			for (uint32_t n = 0; n < 256; n++)
				t->adv2[b][n] = advance(t->adv1, t->adv1[b][n]);
	}
}

static uint32_t crc_sw(uint32_t c, const uint8_t *p, size_t len)
{
	pthread_once(&crc_once, crc_init);
	for (; len >= 8; p += 8, len -= 8) {
		uint32_t lo = c ^ uev_get32(p), hi = uev_get32(p + 4);

		c = crc_tab[7][lo & 0xff] ^ crc_tab[6][(lo >> 8) & 0xff] ^
		    crc_tab[5][(lo >> 16) & 0xff] ^ crc_tab[4][lo >> 24] ^
		    crc_tab[3][hi & 0xff] ^ crc_tab[2][(hi >> 8) & 0xff] ^
		    crc_tab[1][(hi >> 16) & 0xff] ^ crc_tab[0][hi >> 24];
	}
	while (len--)
		c = crc_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t c, const uint8_t *p, size_t len)
{
	uint64_t c64 = c;

	if (len >= 3 * tiers[1].blk)
		pthread_once(&crc_once, crc_init);
	for (const struct tier *t = tiers; t < tiers + 2; t++)
		for (size_t blk = t->blk; len >= 3 * blk; p += 3 * blk, len -= 3 * blk) {
			uint64_t a = c64, b = 0, d = 0, v;

			for (size_t i = 0; i < blk; i += 8) {
				memcpy(&v, p + i, 8);
				a = __builtin_ia32_crc32di(a, v);
				memcpy(&v, p + blk + i, 8);
				b = __builtin_ia32_crc32di(b, v);
				memcpy(&v, p + 2 * blk + i, 8);
				d = __builtin_ia32_crc32di(d, v);
			}
			c64 = advance(t->adv2, (uint32_t)a) ^ advance(t->adv1, (uint32_t)b) ^ (uint32_t)d;
		}
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c64 = __builtin_ia32_crc32di(c64, v);
	}
	c = (uint32_t)c64;
	while (len--)
		c = __builtin_ia32_crc32qi(c, *p++);
	return c;
}
#endif

uint32_t uev_crc32c(uint32_t crc, const void *buf, size_t len)
{
#if defined(__x86_64__)
	static int hw = -1;

	if (hw < 0)
		hw = __builtin_cpu_supports("sse4.2");
	if (hw)
		return ~crc_hw(~crc, buf, len);
#endif
	return ~crc_sw(~crc, buf, len);
}

/* The table version, for other CPUs (and to check the instruction). */
uint32_t uev_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	return ~crc_sw(~crc, buf, len);
}
