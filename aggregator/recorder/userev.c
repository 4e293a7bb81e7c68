/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <tracefs.h>

#include "config.h"
#include "schema-parse.h"
#include "uev-seat.h"
#include "uev-abi.h"
#include "uev-grow.h"
#include "userev.h"

int uev_userev_check(const struct uev_config *c, char *err, size_t errsize)
{
	int bad = 0;

	for (size_t i = 0; i < c->nschemas; i++) {
		struct schema s;
		char *buf = NULL;
		size_t len = 0;
		ssize_t n = schema_parse(&s, c->schemas[i]);
		FILE *mem = n > 0 ? open_memstream(&buf, &len) : NULL;

		if (n > 0 && !mem)
			n = -ENOMEM;
		if (n < 0) {
			/* Not the schema's fault: no "FILE:LINE" blame, and stop. */
			snprintf(err + strlen(err), errsize - strlen(err), "%s: cannot parse it: %s\n",
				 c->schemas[i], strerror((int)-n));
			schema_free(&s);
			return (int)n;
		}
		if (n > 0) {
			bad++;
			schema_print_errors(&s, mem);
			fclose(mem);
			snprintf(err + strlen(err), errsize - strlen(err), "%s", buf ? buf : "");
			free(buf);
		}
		schema_free(&s);
	}
	return bad ? -EINVAL : 0;
}

static int enable(struct uev_userev *u, const char *name, int on)
{
	/* The mirror records on after the aggregator stops: it is never
	 * turned off here. */
	if (on && u->mirror)
		tracefs_event_file_write(u->mirror, "user_events", name, "enable", "1");
	return tracefs_event_file_write(u->seat->instance, "user_events", name, "enable",
					on ? "1" : "0") < 0 ? -EIO : 0;
}

int uev_userev_mirror(struct uev_userev *u, struct tracefs_instance *inst)
{
	int bad = 0;

	u->mirror = inst;
	for (size_t i = 0; i < u->n && u->fd >= 0; i++)
		if (tracefs_event_file_write(inst, "user_events", u->names[i], "enable", "1") < 0)
			bad++;
	return bad ? -EIO : 0;
}

static int add_name(struct uev_userev *u, const char *name)
{
	int r;

	for (size_t i = 0; i < u->n; i++)
		if (!strcmp(u->names[i], name))
			return (int)i;
	if ((r = UEV_GROW(u->names, u->names_cap, u->n + 1)) < 0)
		return r;
	u->names[u->n] = strdup(name);
	return u->names[u->n] ? (int)u->n++ : -ENOMEM;
}

/* Register @def ("name fields") persistently, keeping an enabler of ours. */
static int reg(struct uev_userev *u, const char *def, uint32_t *word)
{
	struct uev_user_reg r = {
		.size = sizeof(r),
		.enable_bit = 0,
		.enable_size = sizeof(*word),
		.flags = UEV_USER_EVENT_REG_PERSIST,
		.enable_addr = (uint64_t)(uintptr_t)word,
		.name_args = (uint64_t)(uintptr_t)def,
	};

	char name[UEV_DEF_MAX + 1];

	if (ioctl(u->fd, UEV_DIAG_IOCSREG, &r) == 0)
		return 0;
	if (errno == EINVAL) {
		r.flags = 0; /* before 6.7: no PERSIST; the event lives while we hold it */
		if (ioctl(u->fd, UEV_DIAG_IOCSREG, &r) == 0)
			return 0;
	}
	if (errno != EADDRINUSE)
		return -errno;
	/* The name exists with other fields: a persistent registration of an
	 * older schema outlives every process. Nobody can emit the new
	 * fields until it goes, so delete it (refused while it is in use:
	 * enabled somewhere, or an emitter holds it) and try once more. */
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(def, " :"), def);
	if (ioctl(u->fd, UEV_DIAG_IOCSDEL, name) < 0)
		return -EADDRINUSE;
	return ioctl(u->fd, UEV_DIAG_IOCSREG, &r) == 0 ? 0 : -errno;
}

int uev_userev_setup(struct uev_userev *u, struct uev_seat *seat, const struct uev_config *c,
		     char *err, size_t errsize)
{
	char path[600];
	struct schema *sch;
	size_t total = 0;
	int r = 0;

	memset(u, 0, sizeof(*u));
	u->fd = -1;
	u->seat = seat;
	u->globs = c->user_events;
	u->nglobs = c->nuser_events;
	snprintf(path, sizeof(path), "%s/user_events_data", tracefs_tracing_dir());
	u->fd = open(path, O_RDWR | O_CLOEXEC);
	if (u->fd < 0)
		return 0; /* a marker kernel: emitters announce themselves */
	/* Parse every schema once: the enable words must all exist (and never
	 * move: the kernel writes to them) before the first registration. */
	sch = calloc(c->nschemas ? c->nschemas : 1, sizeof(*sch));
	if (!sch)
		return -ENOMEM;
	for (size_t i = 0; i < c->nschemas && r == 0; i++) {
		ssize_t n = schema_parse(&sch[i], c->schemas[i]);

		if (n == 0)
			total += sch[i].nevents;
		else if (n < 0) {
			r = (int)n;
			snprintf(err, errsize, "%s: cannot parse it: %s", c->schemas[i], strerror((int)-n));
		}
	}
	u->words = r ? NULL : calloc(total ? total : 1, sizeof(*u->words));
	if (!u->words && !r) {
		r = -ENOMEM;
		snprintf(err, errsize, "user_events enable words: %s", strerror(ENOMEM));
	}
	for (size_t i = 0; i < c->nschemas && r == 0; i++) {
		struct schema *s = &sch[i];

		if (s->ndiag)
			continue; /* refused by uev_userev_check() already */
		for (size_t e = 0; e < s->nevents && r == 0; e++) {
			char def[UEV_DEF_MAX + 1];
			int k;

			snprintf(def, sizeof(def), "%s%s%s", s->event[e].full, s->event[e].nfields ? " " : "",
				 s->event[e].fields);
			k = add_name(u, s->event[e].full);
			if (k < 0)
				r = k;
			else if ((r = reg(u, def, &u->words[k])) == -EADDRINUSE) {
				size_t w = strlen(u->warning);

				snprintf(u->warning + w, sizeof(u->warning) - w, "%s%s", w ? ", " : "",
					 s->event[e].full);
				if (k == (int)u->n - 1) /* not ours: never enabled, never disabled */
					free(u->names[--u->n]);
				r = 0;
			} else if (r < 0)
				snprintf(err, errsize, "%s: event %s: the kernel refused it: %s%s", c->schemas[i],
					 s->event[e].full, strerror(-r),
					 r == -EADDRINUSE ? " (registered with other fields)" : "");
			else if ((r = enable(u, s->event[e].full, 1)) < 0)
				snprintf(err, errsize, "%s: cannot enable user_events:%s", seat->instance_name,
					 s->event[e].full);
		}
	}
	for (size_t i = 0; i < c->nschemas; i++)
		schema_free(&sch[i]);
	free(sch);
	if (r == 0)
		uev_userev_rescan(u);
	return r;
}

void uev_userev_rescan(struct uev_userev *u)
{
	char **evs;

	if (u->fd < 0 || !u->nglobs)
		return;
	evs = tracefs_system_events(NULL, "user_events");
	for (size_t i = 0; evs && evs[i]; i++)
		for (size_t g = 0; g < u->nglobs; g++)
			if (fnmatch(u->globs[g], evs[i], 0) == 0) {
				size_t before = u->n;

				if (add_name(u, evs[i]) >= 0 && u->n > before)
					enable(u, evs[i], 1);
				break;
			}
	tracefs_list_free(evs);
}

void uev_userev_close(struct uev_userev *u)
{
	for (size_t i = 0; i < u->n; i++) {
		if (u->fd >= 0)
			enable(u, u->names[i], 0);
		free(u->names[i]);
	}
	if (u->fd >= 0)
		close(u->fd); /* drops our enablers; PERSIST events stay */
	free(u->names);
	free(u->words);
	memset(u, 0, sizeof(*u));
	u->fd = -1;
}
