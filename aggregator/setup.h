/* SPDX-License-Identifier: MIT */
/*
 * Setting a seat's instance up from its configuration (clock, buffers,
 * kernel events and filters, dyndbg queries) and undoing what must not
 * outlive the aggregator (dyndbg). Touches only the seat's own instance.
 */
#ifndef UEV_SETUP_H
#define UEV_SETUP_H

#include <stddef.h>

struct uev_config;
struct uev_seat;

struct uev_setup {
	char **dyndbg_undo;   /* queries that revert what was applied */
	size_t ndyndbg;
};

/* The event systems @c enables, NULL-terminated into @out (at most @max
 * slots incl. the NULL), pointing into @c. Returns their number. */
int uev_setup_systems(const struct uev_config *c, const char **out, size_t max);

/* Check, before anything is touched, that every configured kernel event
 * exists and every filter parses. 0 or -EINVAL with all problems in @err. */
int uev_setup_check(const struct uev_config *c, char *err, size_t errsize);

/* Apply @c to the seat's instance. 0 or -errno (@err says what). */
int uev_setup_apply(struct uev_setup *s, struct uev_seat *seat, const struct uev_config *c,
		    char *err, size_t errsize);

/* SIGHUP: enable what @fresh adds, disable what it drops, new filters. */
void uev_setup_reload(struct uev_setup *s, struct uev_seat *seat, const struct uev_config *old,
		      const struct uev_config *fresh);

/* Revert the dyndbg queries. */
void uev_setup_revert(struct uev_setup *s);

#endif
