/* SPDX-License-Identifier: MIT */
/*
 * Allocation failure injection for the schema parser (the one the
 * aggregator links for user_events registration).
 *
 * This program replaces malloc, calloc, realloc and free, so every
 * allocation made while a schema is parsed goes through the counter below:
 * the parser's own, and libc's inside fopen, getline, vasprintf and strdup
 * (glibc routes its internal allocations through a replaced malloc). The
 * real allocator is the next one in link order (libc's, or the sanitizer's
 * in an ASan build, which then still tracks every block).
 *
 * For each schema file given: parse it once with no failure to learn the
 * reference result and the number of allocations A, then for N = 1..A parse
 * it again with the Nth allocation failing (mode "once"), and again with
 * the Nth and every later allocation failing (mode "from"). Each run must
 *  - return (exit() or abort() inside the parser fails the test: see
 *    on_exit_check),
 *  - give either -ENOMEM or exactly the reference result (libc may absorb a
 *    failure itself: stdio falls back to an unbuffered stream), never a
 *    different schema that looks valid or a different list of errors,
 *  - leave no block allocated after schema_free().
 * At least one N must give -ENOMEM, so the test cannot pass vacuously.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "schema-parse.h"

/* ---- the allocator wrapper ---- */

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);

/* dlsym() may itself allocate before the real functions are known; those
 * few blocks come from here and are never freed. */
static _Alignas(16) unsigned char boot[4096];
static size_t boot_used;
static int resolving;

static int armed;            /* count and fail only inside the measured region */
static long calls;           /* allocations seen while armed */
static long fail_at;         /* 0: never fail */
static int fail_after;       /* also fail every allocation after fail_at */
static long failed;          /* allocations refused while armed */
static long live;            /* blocks allocated minus blocks freed while armed */

static void *boot_alloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n > sizeof(boot) - boot_used)
		return NULL;
	p = boot + boot_used;
	boot_used += n;
	return p;
}

static int from_boot(const void *p)
{
	return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + sizeof(boot);
}

static void resolve(void)
{
	if (real_free || resolving)
		return;
	resolving = 1;
	real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	resolving = 0;
	if (!real_malloc || !real_calloc || !real_realloc || !real_free) {
		static const char msg[] = "alloc-fail: cannot find the real allocator\n";

		(void)!write(2, msg, sizeof(msg) - 1);
		_exit(99);
	}
}

/* Whether this allocation is the one (or one of those) to refuse. */
static int refuse(void)
{
	if (!armed)
		return 0;
	calls++;
	if (fail_at && (calls == fail_at || (fail_after && calls > fail_at))) {
		failed++;
		errno = ENOMEM;
		return 1;
	}
	return 0;
}

void *malloc(size_t n)
{
	void *p;

	resolve();
	if (!real_malloc)
		return boot_alloc(n);
	if (refuse())
		return NULL;
	p = real_malloc(n);
	if (p && armed)
		live++;
	return p;
}

void *calloc(size_t n, size_t size)
{
	void *p;

	resolve();
	if (!real_calloc)
		return size && n > SIZE_MAX / size ? NULL : boot_alloc(n * size); /* zeroed: static */
	if (refuse())
		return NULL;
	p = real_calloc(n, size);
	if (p && armed)
		live++;
	return p;
}

void *realloc(void *old, size_t n)
{
	void *p;

	resolve();
	if (from_boot(old)) {
		/* Never expected: dlsym's blocks are not grown. */
		static const char msg[] = "alloc-fail: realloc of a bootstrap block\n";

		(void)!write(2, msg, sizeof(msg) - 1);
		_exit(99);
	}
	if (!real_realloc)
		return boot_alloc(n);
	if (refuse())
		return NULL;
	p = real_realloc(old, n);
	if (armed && p && !old)
		live++;
	if (armed && !p && old && n == 0)
		live--; /* realloc(p, 0) freed it */
	return p;
}

void free(void *p)
{
	if (!p || from_boot(p))
		return;
	resolve();
	if (armed)
		live--;
	real_free(p);
}

/* A sanitizer's own strdup() and strndup() allocate from its heap directly,
 * past malloc() above; these keep every copy countable in every build. */
char *strdup(const char *src)
{
	return strndup(src, strlen(src));
}

char *strndup(const char *src, size_t max)
{
	size_t n = strnlen(src, max);
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, src, n);
		d[n] = '\0';
	}
	return d;
}

/* ---- the test ---- */

static const char *current_path;
static const char *current_mode;
static long current_n;

/* The parser must never end the process: say where it did. */
static void on_exit_check(void)
{
	if (armed)
		fprintf(stderr, "FAIL: %s: the process exited inside the parser (mode %s, allocation %ld failing)\n",
			current_path, current_mode, current_n);
}

/* Everything the callers use of a parsed schema, as text, so that two
 * results compare with strcmp. Built while not armed. */
static char *describe(struct schema *s, ssize_t r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		perror("open_memstream");
		exit(99);
	}
	fprintf(f, "result %zd provider %s\n", r, s->provider ? s->provider : "(none)");
	for (size_t i = 0; i < s->nevents; i++) {
		struct schema_event *e = &s->event[i];

		fprintf(f, "event %u %s|%s|%s|%s nfields %u\n", e->line, e->name ? e->name : "-",
			e->full ? e->full : "-", e->desc ? e->desc : "-", e->fields ? e->fields : "-",
			e->nfields);
	}
	schema_print_errors(s, f);
	fclose(f);
	return buf;
}

/* Parse (and check the names, as uev-schema does) with the counter armed. */
static ssize_t parse_armed(struct schema *s, const char *path)
{
	ssize_t r;

	calls = failed = live = 0;
	armed = 1;
	r = schema_parse(s, path);
	if (r >= 0)
		r = schema_check_names(s);
	armed = 0;
	return r;
}

/* One run: parse with the given failure, compare, free, check for leaks.
 * Return: 1 if this run refused an allocation, 0 if it ran to the end
 * without reaching allocation @n, -1 on a test failure. *@enomem counts
 * the runs that reported -ENOMEM. */
static int run_once(const char *path, const char *ref, long n, int after, long *enomem)
{
	struct schema s;
	ssize_t r;
	char *got;
	int bad = 0, hit;

	current_mode = after ? "from" : "once";
	current_n = n;
	fail_at = n;
	fail_after = after;
	r = parse_armed(&s, path);
	hit = failed > 0;
	if (r == -ENOMEM) {
		if (!hit) {
			fprintf(stderr, "FAIL: %s: -ENOMEM with no allocation refused (mode %s, N=%ld)\n",
				path, current_mode, n);
			bad = 1;
		}
		(*enomem)++;
	} else {
		got = describe(&s, r);
		if (strcmp(got, ref)) {
			fprintf(stderr, "FAIL: %s: mode %s, allocation %ld failing: result %zd differs from the "
				"reference and is not -ENOMEM:\n--- got\n%s--- reference\n%s", path, current_mode,
				n, r, got, ref);
			bad = 1;
		}
		free(got);
	}
	armed = 1; /* count what schema_free() releases */
	fail_at = 0;
	schema_free(&s);
	armed = 0;
	if (live != 0) {
		fprintf(stderr, "FAIL: %s: mode %s, allocation %ld failing: %ld block%s leaked\n", path,
			current_mode, n, live, live == 1 ? "" : "s");
		bad = 1;
	}
	return bad ? -1 : hit;
}

static int test_file(const char *path)
{
	struct schema s;
	long total, enomem = 0, tolerated = 0;
	ssize_t r;
	char *ref;
	int bad = 0;

	current_path = path;
	/* Twice with no failure: the first primes libc's one-time state
	 * (stdio, locale) so that the leak count of later runs is exact. */
	for (int i = 0; i < 2; i++) {
		fail_at = 0;
		r = parse_armed(&s, path);
		if (i == 1)
			break;
		schema_free(&s);
	}
	total = calls;
	if (r < 0) {
		fprintf(stderr, "FAIL: %s: %s with no failure injected\n", path, strerror((int)-r));
		schema_free(&s);
		return 1;
	}
	ref = describe(&s, r);
	schema_free(&s);
	for (int after = 0; after <= 1; after++)
		for (long n = 1; n <= total + 1; n++) {
			long before = enomem;
			int k = run_once(path, ref, n, after, &enomem);

			if (k < 0)
				bad = 1;
			else if (k == 1 && enomem == before)
				tolerated++;
			if (k == 0 && n <= total) {
				fprintf(stderr, "FAIL: %s: only %ld allocations with allocation %ld failing (the "
					"reference made %ld)\n", path, calls, n, total);
				bad = 1;
			}
		}
	if (enomem == 0) {
		fprintf(stderr, "FAIL: %s: no injected failure gave -ENOMEM\n", path);
		bad = 1;
	}
	printf("%s: %ld allocations, %ld runs: %ld gave -ENOMEM, %ld absorbed by libc with the same result%s\n",
	       path, total, 2 * total, enomem, tolerated, bad ? " (FAILED)" : "");
	free(ref);
	return bad;
}

int main(int argc, char **argv)
{
	int bad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s SCHEMA.uev...\n", argv[0]);
		return 2;
	}
	resolve();
	atexit(on_exit_check);
	for (int i = 1; i < argc; i++)
		bad |= test_file(argv[i]);
	return bad;
}
