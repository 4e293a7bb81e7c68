/* SPDX-License-Identifier: MIT */
#include "bench-cpus.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

int bench_allowed_cpus(int **cpus)
{
	long conf = sysconf(_SC_NPROCESSORS_CONF);
	size_t max = (size_t)(conf > 0 ? conf : 1), size;
	cpu_set_t *set;
	int n = 0;

	for (;; max *= 2) { /* CPU numbers may exceed the count */
		size = CPU_ALLOC_SIZE(max);
		if (!(set = CPU_ALLOC(max)))
			return -1;
		if (sched_getaffinity(0, size, set) == 0 || errno != EINVAL || max > (1u << 20))
			break;
		CPU_FREE(set);
	}
	*cpus = calloc(max, sizeof(**cpus));
	for (size_t c = 0; *cpus && c < max; c++)
		if (CPU_ISSET_S(c, size, set))
			(*cpus)[n++] = (int)c;
	CPU_FREE(set);
	if (*cpus && n == 0)
		(*cpus)[n++] = 0;
	return *cpus ? n : -1;
}

void bench_pin(int cpu)
{
	size_t size = CPU_ALLOC_SIZE((size_t)cpu + 1);
	cpu_set_t *set = CPU_ALLOC((size_t)cpu + 1);

	if (!set)
		return;
	CPU_ZERO_S(size, set);
	CPU_SET_S((size_t)cpu, size, set);
	pthread_setaffinity_np(pthread_self(), size, set);
	CPU_FREE(set);
}
