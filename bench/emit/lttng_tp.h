/* LTTng-UST tracepoint provider for the emit micro-benchmark (bench_lttng.c).
 * Provider `uev_bench`, one event `emit` (seq, value, msg). */
#undef TRACEPOINT_PROVIDER
#define TRACEPOINT_PROVIDER uev_bench

#undef TRACEPOINT_INCLUDE
#define TRACEPOINT_INCLUDE "./lttng_tp.h"

#if !defined(UEV_BENCH_LTTNG_TP_H) || defined(TRACEPOINT_HEADER_MULTI_READ)
#define UEV_BENCH_LTTNG_TP_H

#include <stdint.h>
#include <lttng/tracepoint.h>

TRACEPOINT_EVENT(
	uev_bench,
	emit,
	TP_ARGS(uint32_t, seq, uint64_t, value, const char *, msg),
	TP_FIELDS(
		ctf_integer(uint32_t, seq, seq)
		ctf_integer(uint64_t, value, value)
		ctf_string(msg, msg)
	)
)

#endif /* UEV_BENCH_LTTNG_TP_H */

#include <lttng/tracepoint-event.h>
