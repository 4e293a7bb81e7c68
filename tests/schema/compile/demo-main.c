/* SPDX-License-Identifier: MIT */
/*
 * Runs the generated demo, weston and kms headers with UEV_BACKEND=off: every
 * event must register (libuev re-validates the definitions the header
 * carries) and every emitter must return 0, "disabled". The demo objects are
 * defined here and the weston and kms ones in demo-other.c, so linking proves that
 * the IMPLEMENTATION switch defines each object exactly once.
 */
#define UEV_DEMO_IMPLEMENTATION
#include "demo-uev.h"
#include "weston-uev.h"
#include "kms-uev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int other_unit_emit(void); /* demo-other.c */

static int failures;

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                              \
		}                                                                \
	} while (0)

int main(void)
{
	const char *backend = getenv("UEV_BACKEND");
	struct uev_provider *p = NULL;
	char msg[256];

	CHECK(backend && strcmp(backend, "off") == 0);
	CHECK(uev_provider_open(&p, NULL) == 0);
	CHECK(uev_provider_backend(p) == UEV_BACKEND_OFF);

	/* The header carries the canonical definitions, 'string' spelled out. */
	CHECK(strcmp(uev_demo_hello.name, "demo_hello") == 0);
	CHECK(strcmp(uev_demo_hello.fields, "__rel_loc char[] program; s32 pid") == 0);
	CHECK(strcmp(uev_demo_tick.fields, "u32 seq; u32 thread; u64 mono_ns; __rel_loc char[] msg") == 0);
	CHECK(strcmp(uev_demo_label.fields, "char[16] tag; u16 code") == 0);

	CHECK(uev_demo_register(p) == 0);
	CHECK(uev_weston_register(p) == 0);
	CHECK(uev_kms_register(p) == 0);
	CHECK(!uev_enabled(&uev_demo_hello));

	CHECK(uev_emit_demo_hello("schema-test", 42) == 0);
	CHECK(uev_emit_demo_tick(1, 2, 3, "message") == 0);
	CHECK(uev_emit_demo_label("a tag longer than sixteen bytes", 65535) == 0);
	CHECK(other_unit_emit() == 0);

	/* The first error is returned and the remaining events are still tried:
	 * the last event carries the error too. */
	CHECK(uev_demo_register(NULL) == -EINVAL);
	CHECK(uev_event_error(&uev_demo_label, msg, sizeof(msg)) == -EINVAL);

	uev_provider_close(p);
	if (failures)
		return 1;
	puts("demo, weston and kms headers: register 0, every emitter 0 (disabled)");
	return 0;
}
