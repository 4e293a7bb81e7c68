/* SPDX-License-Identifier: MIT */
#ifndef UEV_PAGE_CHECK_H
#define UEV_PAGE_CHECK_H

#include <stddef.h>

struct tep_handle;

/*
 * Is the sub-buffer @page (@size bytes: header, committed data, and the
 * stored missed-events count when its header says so) safe to hand to
 * kbuffer and libtraceevent: every event header and body inside the
 * committed data, every event a step forward, and for each event whose
 * format @tep knows (may be NULL), every field inside the event and every
 * __data_loc/__rel_loc string inside it and NUL-terminated? 1, or 0 with
 * the reason in *why.
 */
int uev_page_check(struct tep_handle *tep, const void *page, size_t size, const char **why);

#endif
