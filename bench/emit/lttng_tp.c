/* SPDX-License-Identifier: MIT */
/* Instantiates the uev_bench LTTng-UST probes (provider in lttng_tp.h),
 * statically linked into bench_lttng. */
#define TRACEPOINT_CREATE_PROBES
#define TRACEPOINT_DEFINE
#include "lttng_tp.h"
