/* SPDX-License-Identifier: MIT */
/*
 * Incident triggers ([incident] trigger, docs/uev.conf.5): events of the
 * seat that start an incident bundle. The capture (capture.c) asks once per
 * event id whether it is watched, and hands over the events of watched ids
 * only after their page is in the ring file; everything else costs the
 * capture one flag test per event. A trigger fires at most once per
 * min_interval_s of trace time (a storm of WARNs is one incident), and
 * firing only queues a request for whoever writes bundles: it never waits.
 */
#ifndef UEV_TRIGGER_H
#define UEV_TRIGGER_H

#include <stddef.h>
#include <stdint.h>

struct uev_config;
struct tep_handle;
struct uev_trigger;

/* What fired: when (the event's trace time), on which CPU, and what. */
struct uev_trigger_hit {
	uint64_t trace_ns;
	unsigned cpu;
	char what[256]; /* "printk:console: WARNING: CPU: 0 PID: ..." */
	char spec[200];  /* the [incident] trigger that matched */
};

typedef void (*uev_trigger_fn)(void *ctx, const struct uev_trigger_hit *hit);

/* Compile @c's triggers; @fire is called on the drain's thread for each
 * hit that passes the rate limit. NULL in *out when there are none. 0 or
 * -errno with @err set (a regex the config check let through cannot fail
 * here; memory can). */
int uev_trigger_new(struct uev_trigger **out, const struct uev_config *c, uev_trigger_fn fire, void *ctx,
		    char *err, size_t errsize);
void uev_trigger_free(struct uev_trigger *t);

/* Is kernel event @system:@name (a new id) watched? 1 or 0. */
int uev_trigger_wants(const struct uev_trigger *t, const char *system, const char *name);
/* A marker announcement (user event @mid defined as @def, "name fields"):
 * note whether it is watched. 1 when it is. */
int uev_trigger_announce(struct uev_trigger *t, uint32_t mid, const char *def);
/* Does a trigger name user events (user:...)? */
int uev_trigger_user(const struct uev_trigger *t);
/* Has marker @mid been announced (watched or not)? */
int uev_trigger_marker_known(const struct uev_trigger *t, uint32_t mid);
/* Is marker event @mid watched? */
int uev_trigger_marker_watched(const struct uev_trigger *t, uint32_t mid);

/* An event of a watched id (@mid: its marker id, for a marker event; @body
 * the marker payload after the id) in @page of @cpu, recorded: fire if a
 * trigger matches and the rate limit allows. 1 fired, 0 not. */
int uev_trigger_event(struct uev_trigger *t, struct tep_handle *tep, unsigned cpu, const void *page, size_t len,
		      const uint8_t *data, uint32_t size, int marker, uint32_t mid, const uint8_t *body,
		      uint32_t bodylen);

/* Counts, for status: hits seen, and fired (the others fell in the rate limit). */
void uev_trigger_counts(const struct uev_trigger *t, uint64_t *hits, uint64_t *fired);

#endif
