/* SPDX-License-Identifier: MIT */
/*
 * Runs good-uev.h (every type, zero-field events, awkward field names) with
 * UEV_BACKEND=off: libuev must accept every generated definition and every
 * emitter must return 0.
 */
#define UEV_GOOD_ALL_IMPLEMENTATION
#include "good-uev.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	struct uev_provider *p = NULL;
	int r, failures = 0;

	if (uev_provider_open(&p, NULL) != 0 || uev_provider_backend(p) != UEV_BACKEND_OFF) {
		fprintf(stderr, "provider not open with the off backend\n");
		return 1;
	}
	r = uev_good_all_register(p);
	if (r != 0) {
		fprintf(stderr, "uev_good_all_register: %s\n", strerror(-r));
		failures++;
	}
	if (strcmp(uev_good_all_texts.fields,
		   "__rel_loc char[] a_string; __rel_loc char[] a_rel_loc; char[1] tiny; char[1024] big")) {
		fprintf(stderr, "texts fields: '%s'\n", uev_good_all_texts.fields);
		failures++;
	}
	if (strcmp(uev_good_all_empty.fields, "") || strcmp(uev_good_all_empty.name, "good_all_empty")) {
		fprintf(stderr, "empty event: '%s' '%s'\n", uev_good_all_empty.name, uev_good_all_empty.fields);
		failures++;
	}
	/* Plain int constants for the 64-bit fields: the typed function
	 * converts them, where a bare uev_emit() would read garbage. */
	r = uev_emit_good_all_empty() | uev_emit_good_all_also_empty() |
	    uev_emit_good_all_ints(1, 2, 3, 4, -1, -2, -3, -4) |
	    uev_emit_good_all_texts("string", "rel_loc", "t", "big") |
	    uev_emit_good_all_awkward(errno, 1, 2, "unix");
	if (r != 0) {
		fprintf(stderr, "an emitter returned %d\n", r);
		failures++;
	}
	uev_provider_close(p);
	if (failures)
		return 1;
	puts("good.uev header: register 0, every emitter 0 (disabled)");
	return 0;
}
