/* SPDX-License-Identifier: MIT */
/*
 * Tep handles kept across decodes of ring files (ringdecode.c), private to
 * decode/. A run's handle is made by a sequence of steps, the header page
 * and the event formats in file order, and the same sequence makes the
 * same handle; tep-kept.c keeps a few, with their steps, for later runs
 * that bring the same formats. Why and when a kept handle may stand in for
 * a fresh parse: ringdecode.c, above uev_ring_decode's run logic.
 */
#ifndef UEV_TEP_KEPT_H
#define UEV_TEP_KEPT_H

#include <stddef.h>
#include <stdint.h>

struct tep_handle;
struct tep_event;

struct tstep {
	int32_t id; /* the FORMAT record's event id; -1 the header page */
	uint8_t failed; /* did not parse: reported */
	char *system, *text;
};

struct tkept {
	struct tep_handle *tep;
	struct tstep *steps;
	size_t n, cap, bytes;
	uint64_t hash; /* of the n steps: uev_tstep_hash() */
	unsigned layout; /* the decoder's byte order and long size: part of the key */
	int handed; /* records were decoded with it in the current run */
	int spoilt; /* not to be kept: ringdecode.c's step() */
	/* Every step parsed into exactly one event, under the FORMAT
	 * record's id, and every event has the common fields of the first
	 * (ref): ids beyond a run's steps can then be hidden exactly. */
	int clean;
	size_t nev;
	const struct tep_event *ref;
};

#define TKEPT_MAX 8u
#define TKEPT_BYTES (1u << 20) /* text of one handle's steps: larger is not kept */

/* The hash of a step sequence with one more step (@h: of the steps
 * before; 0 for none). The same for the prescan of a file and for a
 * handle's steps. */
uint64_t uev_tstep_hash(uint64_t h, int id, const char *system, const char *text);

/* A new handle with no step, for runs of @layout. NULL on ENOMEM. */
struct tkept *tkept_new(unsigned layout);
void tkept_free(struct tkept *k);

/* Back to the kept ones (the oldest giving way; one too big or spoilt is
 * freed). */
void tkept_put(struct tkept *k);

/* Take every kept handle of @layout into @c (at most TKEPT_MAX): they are
 * the caller's until put back. */
size_t tkept_take(unsigned layout, struct tkept **c);

/* One step on @k: parsed into its handle (a header page at @long_size;
 * an event format vetted, uev_format_parse) and remembered. 0, or
 * -ENOMEM. *failed: the format did not parse. */
int tkept_step(struct tkept *k, int id, const char *system, const char *text, int long_size, int *failed);

/* Is step @i of @k this one? */
int tkept_step_is(const struct tkept *k, size_t i, int id, const char *system, const char *text);

/* Can @k decode a run's records after the first @at of its steps, for a
 * run that brings @run_n steps hashing to @run_hash in all? */
int tkept_usable(const struct tkept *k, size_t at, size_t run_n, uint64_t run_hash);

#endif
