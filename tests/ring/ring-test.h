/* SPDX-License-Identifier: MIT */
/* Helpers shared by the ring file tests. */
#ifndef UEV_RING_TEST_H
#define UEV_RING_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <check.h>

#include "ringfile.h"

/* The scratch directory of the test case (created by the unchecked
 * fixture in the parent, so it outlives the forked tests). */
extern char rt_dir[256];
/* Writers opened by rt_open() use direct I/O: rt_dir_setup() sets it from
 * rt_direct_wanted(), which is $UEV_RING_TEST_DIRECT=1. */
extern int rt_direct;
int rt_direct_wanted(void);
void rt_dir_setup(void);
void rt_dir_teardown(void);
/* rt_dir + "/" + name, in a static buffer per call slot (0..3). */
const char *rt_path(unsigned slot, const char *name);

/* One record as read back, payload copied. */
struct rt_rec {
	enum uev_ring_type type;
	uint16_t cpu;
	uint32_t len;
	uint64_t seq, segment_seq, run_id, offset;
	uint8_t *payload;
	uint32_t sub, unit_pages; /* a page of a UNIT (uev_ring_rec) */
};

struct rt_read {
	int err;                /* of uev_ring_reader_open / next */
	char errmsg[512];
	struct uev_ring_super sb;
	struct uev_ring_stats st;
	struct rt_rec *rec;
	size_t n, cap;
	unsigned nreports;
	unsigned nkind[2];       /* reports of damage, of torn ends (UEV_RING_TORN_END) */
	char report[4][256];    /* the first few, for failure messages */
	uint64_t report_off[64];
};

/* Reads the whole file into @r; returns r->err. */
int rt_read(const char *path, struct rt_read *r);
void rt_read_free(struct rt_read *r);
/* The first report as "offset: msg", or "" */
const char *rt_report0(const struct rt_read *r);
/* Was there a report at @off (among the first 64)? */
int rt_reported_at(const struct rt_read *r, uint64_t off);

struct uev_ring_writer *rt_open(const char *path, uint64_t size);
void rt_begin(struct uev_ring_writer *w);
void rt_run_info(struct uev_ring_run_info *ri);
/* page() / lost() that flushes and retries once on -ENOBUFS. */
int rt_page(struct uev_ring_writer *w, unsigned cpu, const void *p, size_t len);

/* Deterministic payload: 8-byte little-endian counter, then bytes derived
 * from it. rt_gen_check() returns 1 and the counter if @p is exactly that. */
void rt_gen(uint8_t *p, size_t len, uint64_t counter);
int rt_gen_check(const uint8_t *p, size_t len, uint64_t *counter);

/* Read @path back: no reports, no seq gaps, and its PAGE records are
 * rt_gen() pages with consecutive counters ending at @end - 1 (the oldest
 * may have been overwritten). Returns how many there are. */
uint64_t rt_check_pages(const char *path, uint64_t end);

uint64_t rt_rand(uint64_t *state);
/* A writer child killed at a random moment: once *@appended (shared with
 * it) is non-zero, up to 20 ms later, SIGKILL, reaped; returns *@appended
 * as the kill left it. */
uint64_t rt_kill_child(pid_t pid, const uint64_t *appended, uint64_t *seed);
/* The segment size and count the format prescribes for a file of @size
 * bytes (docs/ring-format.md), computed here, not by the module. */
void rt_geometry(uint64_t size, uint64_t *S, uint64_t *N);
uint64_t rt_file_size(const char *path);

/* Runs every test of @s and frees it: the exit status of a test program
 * (0 all passed, 1 some failed). */
int rt_run(Suite *s);

/* Checkpoint records start a segment: RUN_START ... up to the first COMM. */
int rt_is_ckpt_type(enum uev_ring_type t);

#endif
