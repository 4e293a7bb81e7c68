/* SPDX-License-Identifier: MIT */
/*
 * Decoding a ring file with nothing but the ring file: the event formats,
 * marker announcements and names it stores make the tep handle and the
 * decoder, run by run (event ids mean something only within a run). Pages
 * come in file order; merging CPUs and files by time is uev-replay's job.
 */
#ifndef UEV_RINGDECODE_H
#define UEV_RINGDECODE_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "ringfile.h"

struct uev_ringdec_run {
	uint64_t run_id;
	char boot_id[37], kernel_release[65], seat[64], trace_clock[16], host[65];
	uint64_t start_realtime_ns;
	/* The recording machine's page layout (enum uev_ring_byte_order, long
	 * size): pages of another than this machine's are decoded as such. */
	uint8_t byte_order, long_size;
	/* The latest sync point: wall = realtime_ns + (ts - trace_ns). */
	uint64_t sync_trace_ns, sync_realtime_ns;
	int have_sync;
};

/* Called for every decoded record (see decode.h) of every PAGE. */
typedef int (*uev_ringdec_fn)(void *ctx, const struct uev_ringdec_run *run, const struct uev_rec *r);

/* 0 when read (problems go to @report), -errno with @err when the file could
 * not be opened or is not a ring file, or -ENOTSUP when a run's pages are of
 * a layout no decoder reads (uev_ring_layout_check: nothing is misread). */
int uev_ring_decode(const char *path, uev_ring_report_fn report, void *rctx,
		    uev_ringdec_fn fn, void *ctx, char *err, size_t errsize);

#endif
