/* SPDX-License-Identifier: MIT */
/* Must not compile: a double for the u16 field.
 * With -DUEV_TEST_CONTROL the same file must compile cleanly. */
#include <stddef.h>
#include <stdint.h>

#include "demo-uev.h"
#include "good-uev.h"

int f(uint64_t ns);

int f(uint64_t ns)
{
	(void)ns;
#ifdef UEV_TEST_CONTROL
	return uev_emit_demo_label("tag", 1);
#else
	return uev_emit_demo_label("tag", 1.5);
#endif
}
