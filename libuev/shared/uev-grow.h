/* SPDX-License-Identifier: MIT */
/*
 * uev_grow(): the one way a growing array gets room, in libuev and in every
 * library and tool of the reading side. Capacity doubles (from 8), so n
 * appends cost O(n) copies in all; the element count times the size is
 * checked for overflow before realloc, since counts come from files and
 * the kernel. On failure the array and its capacity are left as they were:
 * the caller still owns a valid array and frees it as usual.
 */
#ifndef UEV_GROW_H
#define UEV_GROW_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* Room for @need elements of @size bytes in the array *@arrayp (a pointer
 * to the caller's array pointer) of capacity *@cap elements. 0 when there
 * is room (nothing moves if there already was), -ENOMEM, or -EOVERFLOW
 * when @need elements cannot be addressed. */
static inline int uev_grow(void *arrayp, size_t *cap, size_t need, size_t size)
{
	void **array = (void **)arrayp;
	size_t n = *cap ? *cap : 8;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return -EOVERFLOW;
		n *= 2;
	}
	if (size && n > SIZE_MAX / size)
		return -EOVERFLOW;
	p = realloc(*array, n * size);
	if (!p)
		return -ENOMEM;
	*array = p;
	*cap = n;
	return 0;
}

/* UEV_GROW(v, cap, need): uev_grow() for an array variable @v of any
 * element type, with a size_t capacity @cap. */
#define UEV_GROW(v, cap, need) uev_grow(&(v), &(cap), (need), sizeof(*(v)))

#endif
