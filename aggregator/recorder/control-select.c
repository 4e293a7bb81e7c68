/* SPDX-License-Identifier: MIT */
/*
 * Client selections (control-select.h). drm.debug goes through a
 * uev_drm_debug of its own ("SEAT.control"), which already owns only the
 * bits it set and survives a kill -9 through its record. Events and dyndbg
 * queries are reference counted here, and RUN-DIR/SEAT.control lists what
 * must be undone ("event SYSTEM:EVENT", "dyndbg INVERSE-QUERY") whenever it
 * changes, before the kernel does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <tracefs.h>

#include "control-select.h"
#include "setup.h"
#include "uev-abi.h"
#include "uev-grow.h"

static unsigned drm_union(const struct uev_select *s)
{
	unsigned m = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->h[i].kind == UEV_SEL_DRM)
			m |= s->h[i].drm_mask;
	return m;
}

static size_t holders(const struct uev_select *s, enum uev_cfg_sel_kind kind, const char *sel)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->h[i].kind == kind && !strcmp(s->h[i].sel, sel);
	return n;
}

/* The undo list, whole, replaced atomically. */
static void record_write(const struct uev_select *s)
{
	char tmp[PATH_MAX + 8];
	FILE *f;

	if (!s->record[0])
		return;
	if (!s->nowned && !s->ndd) {
		unlink(s->record);
		return;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", s->record);
	if (!(f = fopen(tmp, "we")))
		return;
	for (size_t i = 0; i < s->nowned; i++)
		fprintf(f, "event %s\n", s->owned_events[i]);
	for (size_t i = 0; i < s->ndd; i++)
		if (s->dd_undo[i])
			fprintf(f, "dyndbg %s\n", s->dd_undo[i]);
	if (fflush(f) == 0 && fsync(fileno(f)) == 0 && fclose(f) == 0)
		rename(tmp, s->record);
	else
		unlink(tmp);
}

static int event_set(struct tracefs_instance *inst, const char *sel, int on)
{
	char sys[64], ev[256];
	const char *colon = strchr(sel, ':');

	if (!colon || (size_t)(colon - sel) >= sizeof sys)
		return -EINVAL;
	snprintf(sys, sizeof sys, "%.*s", (int)(colon - sel), sel);
	snprintf(ev, sizeof ev, "%s", colon + 1);
	if (on)
		return tracefs_event_enable(inst, sys, ev) < 0 ? -ENOENT : 0;
	return tracefs_event_disable(inst, sys, ev) < 0 ? -ENOENT : 0;
}

static int event_on(struct tracefs_instance *inst, const char *sel)
{
	char sys[64];
	const char *colon = strchr(sel, ':');

	if (!colon || (size_t)(colon - sel) >= sizeof sys)
		return 0;
	snprintf(sys, sizeof sys, "%.*s", (int)(colon - sel), sel);
	return tracefs_event_is_enabled(inst, sys, colon + 1) == TRACEFS_ALL_ENABLED;
}

/* What a killed run left: undone now, line by line. */
static void recover(struct uev_select *s)
{
	char line[1024];
	FILE *f = s->record[0] ? fopen(s->record, "re") : NULL;

	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "event ", 6) && s->inst)
			event_set(s->inst, line + 6, 0);
		else if (!strncmp(line, "dyndbg ", 7))
			uev_dyndbg_write(line + 7);
	}
	fclose(f);
	unlink(s->record);
}

void uev_select_init(struct uev_select *s, struct tracefs_instance *inst, const char *seat, const char *run_dir,
		     const struct uev_log *log)
{
	char name[96];

	memset(s, 0, sizeof *s);
	s->inst = inst;
	if ((size_t)snprintf(s->record, sizeof s->record, "%s/%s.control", run_dir ? run_dir : UEV_RUN_DIR_DEFAULT,
			     seat) >= sizeof s->record)
		s->record[0] = 0;
	recover(s);
	snprintf(name, sizeof name, "%s.control", seat);
	uev_drm_debug_start(&s->drm, name, run_dir, 0, log);
}

static int hold_add(struct uev_select *s, uint64_t client, enum uev_cfg_sel_kind kind, const char *sel, unsigned mask)
{
	int r = UEV_GROW(s->h, s->cap, s->n + 1);

	if (r < 0)
		return r;
	memset(&s->h[s->n], 0, sizeof *s->h);
	s->h[s->n].client = client;
	s->h[s->n].kind = kind;
	snprintf(s->h[s->n].sel, sizeof s->h[s->n].sel, "%s", sel);
	s->h[s->n].drm_mask = mask;
	s->n++;
	return 0;
}

int uev_select_enable(struct uev_select *s, uint64_t client, enum uev_cfg_sel_kind kind, const char *sel,
		      unsigned mask, char *msg, size_t msgsize)
{
	int r;

	for (size_t i = 0; i < s->n; i++)
		if (s->h[i].client == client && s->h[i].kind == kind && !strcmp(s->h[i].sel, sel))
			return 0; /* held already: once is enough */
	if (kind == UEV_SEL_EVENT && !holders(s, kind, sel) && !event_on(s->inst, sel)) {
		char *dup = strdup(sel);

		if (!dup || (r = UEV_GROW(s->owned_events, s->owned_cap, s->nowned + 1)) < 0) {
			free(dup);
			return -ENOMEM;
		}
		s->owned_events[s->nowned++] = dup;
		record_write(s);
		if ((r = event_set(s->inst, sel, 1)) < 0) {
			free(s->owned_events[--s->nowned]);
			record_write(s);
			snprintf(msg, msgsize, "the kernel has no event %s", sel);
			return r;
		}
	} else if (kind == UEV_SEL_DYNDBG && !holders(s, kind, sel)) {
		char *q = strdup(sel), *u = uev_dyndbg_inverse(sel);

		if (!q || (r = UEV_GROW(s->dd_query, s->dd_cap, s->ndd + 1)) < 0 ||
		    (r = UEV_GROW(s->dd_undo, s->dd_undo_cap, s->ndd + 1)) < 0) {
			free(q);
			free(u);
			return -ENOMEM;
		}
		s->dd_query[s->ndd] = q;
		s->dd_undo[s->ndd++] = u;
		record_write(s);
		if ((r = uev_dyndbg_write(sel)) < 0) {
			free(s->dd_query[--s->ndd]);
			free(s->dd_undo[s->ndd]);
			record_write(s);
			snprintf(msg, msgsize, "the kernel refused the dyndbg query '%s': %s", sel, strerror(-r));
			return r;
		}
	}
	if (kind == UEV_SEL_DRM && access(s->drm.path, W_OK) < 0) {
		r = -errno;
		snprintf(msg, msgsize, "%s: %s (is a DRM driver loaded?)", s->drm.path, strerror(-r));
		return r;
	}
	if ((r = hold_add(s, client, kind, sel, mask)) < 0)
		return r;
	if (kind == UEV_SEL_DRM)
		uev_drm_debug_reload(&s->drm, drm_union(s));
	return 0;
}

/* The last holder of @kind @sel went: undo what this layer did for it. */
static void release(struct uev_select *s, enum uev_cfg_sel_kind kind, const char *sel)
{
	if (holders(s, kind, sel))
		return;
	if (kind == UEV_SEL_EVENT) {
		for (size_t i = 0; i < s->nowned; i++)
			if (!strcmp(s->owned_events[i], sel)) {
				event_set(s->inst, sel, 0);
				free(s->owned_events[i]);
				s->owned_events[i] = s->owned_events[--s->nowned];
				break;
			}
	} else if (kind == UEV_SEL_DYNDBG) {
		for (size_t i = 0; i < s->ndd; i++)
			if (!strcmp(s->dd_query[i], sel)) {
				if (s->dd_undo[i])
					uev_dyndbg_write(s->dd_undo[i]);
				free(s->dd_query[i]);
				free(s->dd_undo[i]);
				s->dd_query[i] = s->dd_query[--s->ndd];
				s->dd_undo[i] = s->dd_undo[s->ndd];
				break;
			}
	}
	record_write(s);
}

int uev_select_disable(struct uev_select *s, uint64_t client, int all, enum uev_cfg_sel_kind kind,
		       const char *sel)
{
	int found = 0, drm = 0;

	for (size_t i = 0; i < s->n;) {
		struct uev_hold h = s->h[i];

		if (h.client != client || (!all && (h.kind != kind || strcmp(h.sel, sel)))) {
			i++;
			continue;
		}
		s->h[i] = s->h[--s->n];
		found = 1;
		drm |= h.kind == UEV_SEL_DRM;
		release(s, h.kind, h.sel);
	}
	if (drm)
		uev_drm_debug_reload(&s->drm, drm_union(s));
	return found ? 0 : -ENOENT;
}

void uev_select_list(const struct uev_select *s, uint64_t client, char *buf, size_t size)
{
	static const char *const kinds[] = { "dyndbg", "drm", "event" };
	size_t o = 0;

	buf[0] = 0;
	for (size_t i = 0; i < s->n && o < size; i++)
		if (s->h[i].client == client)
			o += (size_t)snprintf(buf + o, size - o, "enabled %s %s\n", kinds[s->h[i].kind], s->h[i].sel);
}

void uev_select_fini(struct uev_select *s)
{
	while (s->n)
		uev_select_disable(s, s->h[0].client, 1, UEV_SEL_EVENT, NULL);
	uev_drm_debug_stop(&s->drm);
	free(s->h);
	free(s->owned_events);
	free(s->dd_query);
	free(s->dd_undo);
	if (s->record[0])
		unlink(s->record);
	memset(s, 0, sizeof *s);
}
