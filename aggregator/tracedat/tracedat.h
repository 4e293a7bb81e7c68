/* SPDX-License-Identifier: MIT */
/*
 * A ring file's run as a trace-cmd trace.dat (version 6), for
 * `trace-cmd report` and KernelShark. The ring pages go in unchanged (padded
 * back to full sub-buffers), so the kernel's missed-events flags and stored
 * loss counts stay in them and trace-cmd reports the drops itself.
 */
#ifndef UEV_TRACEDAT_H
#define UEV_TRACEDAT_H

#include <stddef.h>
#include <stdint.h>

#include "ringfile.h"

/*
 * Write the pages of @path's newest run (or of run @run_id if non-zero) to
 * @out as trace.dat. Returns the number of pages written or -errno with a
 * message naming the file (and offset where relevant) in @err. Problems in
 * the ring file go to @report and are skipped, never fatal.
 *
 * -ENOTSUP, before anything is read, when the libtracecmd built against or
 * loaded is not a version the writer was checked against (message in @err).
 *
 * @out is replaced only on success (written beside it, then renamed). The
 * work files live in a temporary directory beside @out and are always
 * removed. Nothing is printed. Process-wide side effects (libtracecmd
 * 3.1.6 offers no other way): libtracecmd's log level is set to none, and
 * libtracefs' custom tracing directory is cleared. Not thread-safe.
 */
int uev_tracedat_write(const char *path, uint64_t run_id, const char *out,
		       uev_ring_report_fn report, void *ctx, char *err, size_t errsize);

#endif
