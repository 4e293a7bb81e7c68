/* SPDX-License-Identifier: MIT */
/*
 * The checks a decoder of untrusted sub-buffers needs in front of kbuffer
 * and libtraceevent, neither of which bounds its reads by anything but the
 * page's own header. The strict modes of the fuzz targets (FUZZ_PAGE_STRICT,
 * FUZZ_RING_STRICT) skip the inputs these refuse, to fuzz what lies behind
 * them; the fuzzing report proposes them as the fix for decode.c.
 */
#ifndef UEV_FUZZ_PAGE_CHECK_H
#define UEV_FUZZ_PAGE_CHECK_H

#include <stddef.h>
#include <stdint.h>

struct tep_handle;

/* @size bytes hold the 16-byte header, the committed data and, when the
 * header flags a stored missed-events count, those 8 bytes too. */
int fuzz_subbuffer_complete(const uint8_t *p, size_t size);

/* Complete, and every event header and body inside the committed data,
 * every event a step forward (kbuffer loops forever on a padding or data
 * length that does not advance), and for each data event whose format
 * @tep knows: every field inside the event, every __data_loc/__rel_loc
 * string inside it and NUL-terminated (libtraceevent prints it with %s). */
int fuzz_subbuffer_sane(struct tep_handle *tep, const uint8_t *p, size_t size);

#endif
