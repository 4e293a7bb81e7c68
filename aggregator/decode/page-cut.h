/* SPDX-License-Identifier: MIT */
/*
 * A sub-buffer encoded anew with a subset of its events: shared by the boot
 * import (recorder/boot-cut.c: leave out what the file holds already) and
 * incident bundles (incident/: keep only a time window).
 *
 * A page that loses events is encoded anew rather than patched: the kernel
 * gives each event a delta from the one before it on the page (27 bits,
 * larger gaps in a TIME_EXTEND record before it; newer kernels may write
 * absolute TIME_STAMP records), so taking events out changes the deltas of
 * those after them. kbuffer reads every event's absolute time; the new page
 * starts at the first kept event's time, and each kept event keeps its bytes
 * with a new delta, behind a TIME_EXTEND where the gap needs one. So every
 * reader computes the same times as from the original page.
 */
#ifndef UEV_PAGE_CUT_H
#define UEV_PAGE_CUT_H

#include <stddef.h>
#include <stdint.h>

#include "page-check.h"

struct kbuffer;

/*
 * Page @page (@size bytes, laid out as @l says; NULL: this machine's) again
 * with only the events @keep marks, one byte per event in kbuffer's walk
 * order (kbuffer_read_event, then kbuffer_next_event). @kb must read that
 * layout, and the page must have passed uev_page_check_as() (its framing is
 * trusted here). The missed-events flags (and the stored count behind the
 * data) are kept when @keep_missed is set, else dropped: the loss they tell
 * of happened before the page's first event, so a caller that drops that
 * event drops the loss with it.
 *
 * 0 with *@out a new zero-filled buffer (the caller frees it) of at least
 * @size bytes and *@len the bytes the new page uses (header, committed data,
 * stored missed count): what a ring file keeps of it; -ENOMEM, or -EINVAL
 * when kbuffer refuses the page.
 */
int uev_page_cut(struct kbuffer *kb, const struct uev_page_layout *l, const void *page, size_t size,
		 const uint8_t *keep, int keep_missed, uint8_t **out, size_t *len);

#endif
