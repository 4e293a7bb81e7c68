/* SPDX-License-Identifier: MIT */
/*
 * The decode module's one public header (aggregator/decode/): kernel
 * sub-buffer pages and event formats, with libtraceevent. Code outside this
 * folder includes this header only; the headers below are the module's
 * parts: records and the decoder (decode.h), user fields read and rendered
 * as text or JSON (user-render.h), ring files decoded run by run
 * (ringdecode.h), the bounds check of a page (page-check.h), a page
 * encoded anew with a subset of its events (page-cut.h), format texts
 * vetted before libtraceevent parses them (format-vet.h) and the clock sync
 * marker (clock-sync.h).
 */
#ifndef UEV_DECODE_API_H
#define UEV_DECODE_API_H

#include "decode.h"
#include "user-render.h"
#include "ringdecode.h"
#include "page-check.h"
#include "page-cut.h"
#include "format-vet.h"
#include "clock-sync.h"

#endif
