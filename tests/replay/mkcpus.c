/* SPDX-License-Identifier: MIT */
/*
 * replay-mkcpus FILE CPU...: a ring file of one run whose PAGE records
 * carry the CPU numbers given, however high or sparse (the ring's cpu field
 * is 16 bits), as a machine with that many CPUs would record them. Each
 * page holds one event uevtest:alpha with value=CPU, at trace time
 * 5 s + CPU µs, so which CPU each event came from shows in every output.
 * A CPU the ring cannot carry (above UEV_RING_CPU_MAX) must be refused by
 * the writer: then it prints "refused CPU N" and goes on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring-common.h"
#include "fake-kernel.h"


int main(int argc, char **argv)
{
	struct uev_ring_create c = { .size = 1 << 20, .seat = "mkcpus", .mode = 0644, .gid = (gid_t)-1 };
	struct uev_ring_run_info ri = { .boot_id = "00000001-0000-4000-8000-000000000000", .trace_clock = "boot",
					.seat = "mkcpus", .host = "h", .kernel_release = "6.0-test",
					.flush_interval_ms = 1000 };
	struct uev_ring_sync sy = { T0, WALL, T0, T0 };
	struct uev_ring_writer *w;
	char err[256];
	int r;

	if (argc < 3) {
		fprintf(stderr, "usage: replay-mkcpus FILE CPU...\n");
		return 2;
	}
	remove(argv[1]);
	c.path = argv[1];
	if (uev_ring_writer_open(&w, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "replay-mkcpus: %s\n", err);
		return 1;
	}
	if (uev_ring_writer_sync(w, &sy) < 0 ||
	    uev_ring_writer_format(w, UEV_RING_FMT_HEADER_PAGE, 0, "", "header_page", header_page) < 0 ||
	    uev_ring_writer_format(w, UEV_RING_FMT_HEADER_EVENT, 0, "", "header_event", header_event) < 0 ||
	    uev_ring_writer_format(w, UEV_RING_FMT_EVENT, 600, "uevtest", "alpha", alpha) < 0 ||
	    uev_ring_writer_begin_run(w, &ri) < 0 || uev_ring_writer_comm(w, 4242, "mkcpus") < 0) {
		fprintf(stderr, "replay-mkcpus: writing the run failed\n");
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		unsigned long cpu = strtoul(argv[i], NULL, 10);
		uint8_t page[64] = { 0 };

		/* sub-buffer: timestamp, commit; one event: type_len 3 (12 bytes), delta 0 */
		uev_put64(page, T0 + cpu * 1000);
		uev_put64(page + 8, 16);
		uev_put32(page + 16, 3);
		uev_put16(page + 20, 600);
		uev_put32(page + 24, 4242); /* common_pid */
		uev_put32(page + 28, (uint32_t)cpu);
		r = uev_ring_writer_page(w, (unsigned)cpu, page, 32);
		if (r == -EINVAL && cpu > UEV_RING_CPU_MAX) {
			printf("refused CPU %lu\n", cpu);
		} else if (r < 0) {
			fprintf(stderr, "replay-mkcpus: the page of CPU %lu: %s\n", cpu, strerror(-r));
			return 1;
		}
	}
	return uev_ring_writer_close(w, NULL) < 0;
}
