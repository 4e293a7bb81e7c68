/* SPDX-License-Identifier: MIT */
/*
 * The seat module's one public header (aggregator/seat/): a seat's tracefs
 * instance and enable page (seat.h), a one-shot read of its kernel ring
 * (snapshot.h) and event formats loaded from tracefs (formats.h). Code
 * outside this folder includes this header only.
 */
#ifndef UEV_SEAT_API_H
#define UEV_SEAT_API_H

#include "seat.h"
#include "snapshot.h"
#include "formats.h"

#endif
