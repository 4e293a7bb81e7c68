/* SPDX-License-Identifier: MIT */
/* Helpers for tests against the real tracefs: throw-away seats and a reader
 * that decodes everything a seat's kernel ring holds. */
#ifndef UEV_KTEST_H
#define UEV_KTEST_H

#include <stdint.h>
#include <check.h>
#include "uev-decode.h"
#include "uev-seat.h"

struct krec {
	enum uev_rec_kind kind;
	int cpu, pid;
	unsigned long long ts;
	long long missed;
	char name[64];
	unsigned nfields;
	uint64_t num[UEV_MAX_FIELDS];
	char *str[UEV_MAX_FIELDS]; /* strings, NULL for integers */
	int bad;                   /* a field did not decode */
};

struct krecs {
	struct krec *v;
	size_t n, cap;
};

/* Skip the whole program (exit 77) unless root with tracefs. */
void ktest_require_root_tracefs(void);
/* A unique seat for this test run ("t<pid>_<n>") with its own run dir. */
void ktest_seat_new(struct uev_seat *s, char *run_dir, size_t size, int start);
/* Remove every instance and run dir this test program created. */
void ktest_cleanup(void);
/* A test program's end: run @su, free it, ktest_cleanup(); the exit
 * status (1 when a test failed). */
int ktest_run(Suite *su);
/* Consume and decode the seat's kernel ring, all CPUs (CPU order, then ring order). */
void ktest_read(struct uev_seat *s, struct krecs *out);
void ktest_free(struct krecs *r);
/* Count records of @kind named @name (NULL: any name). */
size_t ktest_count(const struct krecs *r, enum uev_rec_kind kind, const char *name);
uint64_t ktest_mono_ns(void);

#endif
