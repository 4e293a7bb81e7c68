/* SPDX-License-Identifier: MIT */
#ifndef UEV_FORMAT_VET_H
#define UEV_FORMAT_VET_H

#include <stddef.h>
#include <stdint.h>

/* Can libtraceevent parse @text (an event's format file) without
 * crashing or hanging? 1 yes, 0 no. A text is parsed in a child to find
 * out, once per process while its verdict stays in the process's cache
 * (below): every reader (uev_ring_decode, uev-replay) asks here. */
int uev_format_vet(const char *system, const char *text);

/* Start the vetter now: the process that forks a child per text, itself
 * forked at the first text otherwise (format-vet.c). Each fork of it
 * copies what the process had mapped when it started, so a program that
 * grows big (a fuzzer, its corpus and quarantine) starts it early, while
 * small. 0, or -errno (texts are then vetted by forking the caller). */
int uev_format_vet_start(void);

/* How many texts uev_format_vet() has parsed in a child so far (for
 * tests: with the cache, a text asked for again does not fork). */
unsigned long uev_format_vet_forks(void);

/* Empty the process's cache of verdicts (for tests: the next
 * uev_format_vet() of any text forks). */
void uev_format_vet_forget(void);

/*
 * Parse a format text from a file into @tep: vetted (above), and when its
 * print fmt could read past a record (a __print_hex or __print_array whose
 * length is not bounded by the record, __get_str of a field that is not a
 * string), the event is marked as failed to parse, which makes
 * tep_print_event() print its fields one by one, each inside the record
 * (uev_page_check). 0, -EINVAL when refused or not parsed.
 */
struct tep_handle;
int uev_format_parse(struct tep_handle *tep, const char *system, const char *text);

/*
 * The verdict cache: (system, text) -> verdict, compared on the whole
 * text. Bounded: at most UEV_FORMAT_CACHE_SETS * UEV_FORMAT_CACHE_WAYS
 * entries holding at most UEV_FORMAT_CACHE_BYTES of text; a new verdict
 * replaces the least recently used one of its set, then the least recently
 * used ones anywhere until its text fits; a text longer than the whole
 * budget is not kept. A file carries a few dozen formats, a kernel a few
 * thousand of at most some KiB. Not locked: uev_format_vet() locks its own.
 */
#define UEV_FORMAT_CACHE_SETS 128u
#define UEV_FORMAT_CACHE_WAYS 4u
#define UEV_FORMAT_CACHE_BYTES (1u << 20)

struct uev_format_cache_entry {
	char *key; /* system, NUL, text (no NUL); NULL: free */
	size_t len;
	uint64_t hash;
	uint64_t used; /* the cache's clock when last asked for */
	int ok;
};

struct uev_format_cache {
	struct uev_format_cache_entry e[UEV_FORMAT_CACHE_SETS][UEV_FORMAT_CACHE_WAYS];
	size_t bytes;    /* text held, <= UEV_FORMAT_CACHE_BYTES */
	size_t entries;
	uint64_t clock;
};

/* The verdict kept for (@system, @text): 1, 0, or -1 when none is. */
int uev_format_cache_get(struct uev_format_cache *c, const char *system, const char *text);
/* Keep verdict @ok for (@system, @text), within the bounds above (a text
 * that cannot be kept, for its size or for want of memory, is not). */
void uev_format_cache_put(struct uev_format_cache *c, const char *system, const char *text, int ok);
/* Forget every verdict and free their memory. */
void uev_format_cache_clear(struct uev_format_cache *c);

#endif
