/* SPDX-License-Identifier: MIT */
/*
 * Positive control of the compile checks: argument forms the generated
 * macros must accept, compiled with -Wall -Wextra and no output on stderr.
 * If this fails, the compile-fail tests would prove nothing.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "demo-uev.h"
#include "good-uev.h"
#include "kms-uev.h"
#include "weston-uev.h"

enum level { LEVEL_ERROR = 3, LEVEL_INFO = 6 };

int accepted(const char *cs, char *s, const char *const ccs, uint8_t u8,
	     uint64_t u64, int64_t s64, bool b, enum level l, unsigned long ul);

int accepted(const char *cs, char *s, const char *const ccs, uint8_t u8,
	     uint64_t u64, int64_t s64, bool b, enum level l, unsigned long ul)
{
	char buf[16] = "buf";
	const char cbuf[] = "cbuf";
	int r = 0;

	r |= uev_emit_demo_hello(cs, -1);
	r |= uev_emit_demo_hello(s, u8);
	r |= uev_emit_demo_hello(ccs, b);
	r |= uev_emit_demo_hello(buf, l);
	r |= uev_emit_demo_hello(cbuf, 'x');
	r |= uev_emit_demo_hello("literal", 0);
	r |= uev_emit_demo_hello((const char *)NULL, 0);
	r |= uev_emit_demo_tick(u8, 0u, u64, cs);
	r |= uev_emit_demo_tick(1, 2, s64, s);
	r |= uev_emit_demo_tick(1, 2, ul, "m");
	r |= uev_emit_demo_label(buf, 65535);
	r |= uev_emit_kms_atomic_commit(0x100, true, 0, 0, -1, errno, 31, 40, 4, 2, 8, u64);
	r |= uev_emit_weston_log("scope", LEVEL_INFO, cs);
	r |= uev_emit_good_all_empty();
	r |= uev_emit_good_all_ints(1, 2, 3, 4, -1, -2, -3, -4);
	return r;
}
