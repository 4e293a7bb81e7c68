/* SPDX-License-Identifier: MIT */
/*
 * uev_tracedat_write() of a build without libtracecmd (-Dtracedat=disabled,
 * or libtracecmd not found: -Drecorder=false builds where libtracefs, which
 * libtracecmd requires, is absent). The export refuses with a message;
 * everything else of uev-replay works.
 */
#include <errno.h>
#include <stdio.h>

#include "tracedat.h"

int uev_tracedat_write(const char *path, uint64_t run_id, const char *out,
		       uev_ring_report_fn report, void *ctx, char *err, size_t errsize)
{
	(void)path, (void)run_id, (void)report, (void)ctx;
	snprintf(err, errsize, "%s: no trace.dat export in this build (built without libtracecmd)", out);
	return -ENOTSUP;
}
