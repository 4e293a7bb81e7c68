/* SPDX-License-Identifier: MIT */
/*
 * replay-mkruns FILE: a ring file with two runs in one segment, on two
 * "boots", whose event id 600 means different events: uevtest:alpha
 * (int value) in run 1, uevtest:beta (u64 big) in run 2. Each run has one
 * page on CPU 0 with one event: alpha value=111, then beta big=222, both at
 * trace time 5 s, one wall-clock minute apart. A tool that takes a record
 * for the wrong run decodes a page with the other run's format (or none).
 * Exits 0 when written and both runs' records are in one segment (which
 * run a record belongs to is left to the tools under test).
 *
 * replay-mkruns FILE step: both runs of one boot instead, run 2 ten
 * seconds later on the trace clock, but 15 s later on the wall clock:
 * the wall clock was stepped 5 s forward between the runs (NTP, a
 * virtual machine restored), as their SYNC records say.
 */
#include <stdio.h>
#include <string.h>

#include "ring-common.h"
#include "fake-kernel.h"


static int step; /* the second form above */

static int run(const char *path, int k)
{
	uint64_t t = T0 + (step && k ? 10000000000ull : 0);
	struct uev_ring_create c = { .path = path, .size = 1 << 20, .seat = "mkruns", .mode = 0644, .gid = (gid_t)-1 };
	struct uev_ring_run_info ri = { .trace_clock = "boot", .seat = "mkruns", .host = "h",
					.kernel_release = "6.0-test", .flush_interval_ms = 1000 };
	struct uev_ring_sync sy = { t, WALL + (uint64_t)k * (step ? 15000000000ull : 60000000000ull), t, t };
	struct uev_ring_writer *w;
	char fmt[1024], err[256];
	uint8_t page[64] = { 0 };
	uint32_t len = k ? 16 : 12; /* common fields + value, or + big */

	snprintf(ri.boot_id, sizeof(ri.boot_id), "%08d-0000-4000-8000-000000000000", step ? 1 : k + 1);
	snprintf(fmt, sizeof(fmt), "name: %s\nID: 600\n%s\tfield:%s;\toffset:8;\tsize:%u;\tsigned:%d;\n\n"
		 "print fmt: \"%s=%%%s\", REC->%s\n", k ? "beta" : "alpha", common,
		 k ? "u64 big" : "int value", len - 8, !k, k ? "big" : "value", k ? "llu" : "d",
		 k ? "big" : "value");
	/* sub-buffer: timestamp, commit; one event: type_len = len / 4, delta 0 */
	uev_put64(page, t);
	uev_put64(page + 8, 4 + len);
	uev_put32(page + 16, len / 4);
	uev_put16(page + 20, 600);
	uev_put32(page + 24, 4242); /* common_pid */
	if (k)
		uev_put64(page + 28, 222);
	else
		uev_put32(page + 28, 111);
	if (uev_ring_writer_open(&w, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "replay-mkruns: %s\n", err);
		return -1;
	}
	if (uev_ring_writer_sync(w, &sy) < 0 ||
	    uev_ring_writer_format(w, UEV_RING_FMT_HEADER_PAGE, 0, "", "header_page", header_page) < 0 ||
	    uev_ring_writer_format(w, UEV_RING_FMT_HEADER_EVENT, 0, "", "header_event", header_event) < 0 ||
	    uev_ring_writer_format(w, UEV_RING_FMT_EVENT, 600, "uevtest", k ? "beta" : "alpha", fmt) < 0 ||
	    uev_ring_writer_begin_run(w, &ri) < 0 || uev_ring_writer_comm(w, 4242, "mkruns") < 0 ||
	    uev_ring_writer_page(w, 0, page, 20 + len) < 0) {
		fprintf(stderr, "replay-mkruns: writing run %d failed\n", k + 1);
		uev_ring_writer_close(w, NULL);
		return -1;
	}
	return uev_ring_writer_close(w, NULL);
}

int main(int argc, char **argv)
{
	struct uev_ring_reader *r;
	struct uev_ring_rec rec;
	uint64_t seg = 0;
	char err[256];
	int same = 1;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "step"))) {
		fprintf(stderr, "usage: replay-mkruns FILE [step]\n");
		return 2;
	}
	step = argc == 3;
	remove(argv[1]);
	if (run(argv[1], 0) < 0 || run(argv[1], 1) < 0)
		return 1;
	if (uev_ring_reader_open(&r, argv[1], NULL, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "replay-mkruns: %s\n", err);
		return 1;
	}
	while (uev_ring_reader_next(r, &rec) > 0) {
		same &= !seg || rec.segment_seq == seg;
		seg = rec.segment_seq;
	}
	uev_ring_reader_close(r);
	if (!same) {
		fprintf(stderr, "replay-mkruns: the runs do not share one segment\n");
		return 1;
	}
	return 0;
}
