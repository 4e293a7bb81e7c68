/* SPDX-License-Identifier: MIT */
/* The benchmarks' producers: which CPUs they may run on, and pinning a
 * thread to one, for any CPU number (a cpu_set_t stops at 1024). */
#ifndef UEV_BENCH_CPUS_H
#define UEV_BENCH_CPUS_H

/* The CPUs this process may run on, ascending, into a new array *@cpus:
 * their number (at least 1), or -1. */
int bench_allowed_cpus(int **cpus);

/* Runs the calling thread on @cpu only. */
void bench_pin(int cpu);

#endif
