/* SPDX-License-Identifier: MIT */
/*
 * The seat's user events on kernels with user_events: the events of the
 * seat's schemas are registered with USER_EVENT_REG_PERSIST (so they exist
 * before any emitter starts) and enabled in the seat's instance; events
 * named by the configuration (names or globs) are enabled when they appear,
 * checked once per flush (at most a second apart). Nothing happens on a
 * marker kernel.
 */
#ifndef UEV_USEREV_H
#define UEV_USEREV_H

#include <stddef.h>
#include <stdint.h>

struct uev_config;
struct uev_seat;
struct tracefs_instance;

struct uev_userev {
	int fd;               /* user_events_data, -1 on marker kernels */
	uint32_t *words;      /* our enable words, one per registered event */
	char **names;         /* registered (and enabled) events */
	size_t n, names_cap;
	char **globs;         /* [user] event entries */
	size_t nglobs;
	struct uev_seat *seat;
	struct tracefs_instance *mirror; /* also enabled there (a boot ring), or NULL */
	char warning[512];    /* set up, but not everything: said once by main */
};

/* Parse every schema of @c; all errors ("FILE:LINE: message") into @err.
 * 0, -EINVAL (schema errors), or -ENOMEM ("FILE: cannot parse it: ..." in
 * @err). Touches nothing. */
int uev_userev_check(const struct uev_config *c, char *err, size_t errsize);

/* Register and enable. 0 (also on marker kernels), -errno with @err. An
 * event that exists with other fields (an older schema's persistent
 * registration) is deleted and registered anew; if it is still in use it
 * is left out, the seat goes on, and u->warning says which. */
int uev_userev_setup(struct uev_userev *u, struct uev_seat *seat, const struct uev_config *c,
		     char *err, size_t errsize);

/* Enable every event enabled in the seat's instance in @inst too, now and
 * as they appear (the boot's persistent instance, boot-ring.h); they stay
 * enabled there after close. 0, or -EIO when one could not be enabled. */
int uev_userev_mirror(struct uev_userev *u, struct tracefs_instance *inst);
/* Enable events matching the configured globs that appeared since. */
void uev_userev_rescan(struct uev_userev *u);

/* Disable them in the instance and drop our enablers (the events stay
 * registered: PERSIST, unless an emitter registered one first without it:
 * the kernel then keeps the emitter's, which goes with its last user). */
void uev_userev_close(struct uev_userev *u);

#endif
