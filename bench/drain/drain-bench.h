/* SPDX-License-Identifier: MIT */
/* Shared by the drain benchmark's programs (bench/drain). */
#ifndef DRAIN_BENCH_H
#define DRAIN_BENCH_H

/* The 4-byte id in front of every record produce writes ("DRAN"): neither
 * a uev event id in use nor UEV_MARKER_ANNOUNCE. */
#define DRAIN_MAGIC 0x4e415244u

#endif
