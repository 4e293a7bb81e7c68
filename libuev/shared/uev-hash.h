/* SPDX-License-Identifier: MIT */
/*
 * uev_hash_str(): the one string hash of the reading side's in-memory
 * tables (the format vetting cache, the kept tep handles' steps, the
 * problems uev-replay reports once). FNV-1a 64: cheap, and good enough
 * for keys that are compared in full on a match. Never stored in a file,
 * so it may change with the code.
 */
#ifndef UEV_HASH_H
#define UEV_HASH_H

#include <stdint.h>

#define UEV_HASH_INIT 0xcbf29ce484222325ull

/* @h (UEV_HASH_INIT to start) carried over string @s, then over a 0xff byte
 * that no string holds, so that chained strings hash apart wherever they
 * are split: ("ab", "c") is not ("a", "bc"). */
static inline uint64_t uev_hash_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return (h ^ 0xff) * 0x100000001b3ull;
}

/* @h carried over the four bytes of @v, low byte first. */
static inline uint64_t uev_hash_u32(uint64_t h, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		h = (h ^ (uint8_t)(v >> (8 * i))) * 0x100000001b3ull;
	return h;
}

#endif
