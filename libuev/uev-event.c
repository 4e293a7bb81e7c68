/* SPDX-License-Identifier: MIT */
/*
 * Events: registration (validate, canonicalise, hand to the backend) and the
 * emit path. The emit path must stay async-signal-safe: it touches only the
 * event, the provider's immutable-after-open fields and the stack, and it
 * preserves errno for the host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uev-def.h"
#include "uev-internal.h"

static int list_add(struct uev_provider *p, struct uev_event *ev)
{
	if (p->nevents == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct uev_event **n = realloc(p->events, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->events = n;
		p->cap = cap;
	}
	p->events[p->nevents++] = ev;
	return 0;
}

static void list_del(struct uev_provider *p, struct uev_event *ev)
{
	for (size_t i = 0; i < p->nevents; i++)
		if (p->events[i] == ev) {
			p->events[i] = p->events[--p->nevents];
			return;
		}
}

static int reg_fail(struct uev_provider *p, struct uev_event *ev, int err, unsigned pos)
{
	char msg[256];

	ev->_error = (int16_t)err;
	ev->_error_pos = (uint16_t)pos;
	if (p && p->debug) {
		uev_event_error(ev, msg, sizeof(msg));
		uev_debug(p, "register: %s", msg);
	}
	return err;
}

UEV_EXPORT int uev_event_register(struct uev_provider *p, struct uev_event *ev)
{
	struct uev_def_error err;
	struct uev_def def;
	int r;

	if (!ev)
		return -EINVAL;
	if (ev->_provider)
		return reg_fail(p, ev, -EALREADY, 0);
	ev->_enable = &uev_disabled_word;
	r = uev_def_parse(ev->name, ev->fields, &def, &err);
	if (r < 0)
		return reg_fail(p, ev, r, (unsigned)err.pos);
	if (!p)
		return reg_fail(p, ev, -EINVAL, 0);
	ev->_nfields = (uint16_t)def.nfields;
	ev->_fixed_size = (uint16_t)def.fixed_size;
	for (unsigned i = 0, strings = def.nstrings; i < def.nfields; i++) {
		strings -= def.field[i].type == UEV_T_REL_LOC;
		ev->_field[i].type = def.field[i].type;
		ev->_field[i].size = def.field[i].size;
		ev->_field[i].strings_after = (uint8_t)strings;
	}
	ev->_error = 0;
	if (p->backend == UEV_BACKEND_OFF)
		return 0;
	ev->_canonical = strdup(def.canonical);
	if (!ev->_canonical)
		return reg_fail(p, ev, -ENOMEM, 0);
	pthread_mutex_lock(&p->lock);
	r = list_add(p, ev);
	if (r == 0)
		r = p->backend == UEV_BACKEND_USER_EVENTS ? uev_ue_register(p, ev)
							  : uev_marker_register(p, ev);
	if (r < 0) {
		list_del(p, ev);
		pthread_mutex_unlock(&p->lock);
		free((char *)ev->_canonical);
		ev->_canonical = NULL;
		ev->_enable = &uev_disabled_word;
		return reg_fail(p, ev, r, 0);
	}
	ev->_provider = p;
	pthread_mutex_unlock(&p->lock);
	uev_debug(p, "registered '%s' (%s)", def.canonical,
		  uev_backend_name(p->backend));
	return 0;
}

UEV_EXPORT void uev_event_unregister(struct uev_event *ev)
{
	struct uev_provider *p = ev ? ev->_provider : NULL;

	if (!p)
		return;
	__atomic_store_n(&ev->_enable, &uev_disabled_word, __ATOMIC_RELEASE);
	pthread_mutex_lock(&p->lock);
	if (p->backend == UEV_BACKEND_USER_EVENTS)
		uev_ue_unregister(p, ev);
	list_del(p, ev);
	pthread_mutex_unlock(&p->lock);
	free((char *)ev->_canonical);
	ev->_canonical = NULL;
	ev->_provider = NULL;
}

UEV_EXPORT int uev_event_error(const struct uev_event *ev, char *buf, size_t size)
{
	struct uev_def_error err;
	struct uev_def def;
	int e = ev ? ev->_error : -EINVAL;
	const char *name = ev && ev->name ? ev->name : "(null)";

	if (!buf || !size)
		return e;
	if (!ev)
		snprintf(buf, size, "no event");
	else if (e == 0)
		snprintf(buf, size, "%s: no error", name);
	else if (uev_def_parse(ev->name, ev->fields, &def, &err) < 0 && err.field)
		snprintf(buf, size, "%s: field %u at byte %zu: %s", name, err.field, err.pos, err.msg);
	else if (err.err)
		snprintf(buf, size, "%s: %s", name, err.msg);
	else if (e == -EADDRINUSE)
		snprintf(buf, size,
			 "%s: the kernel already has an event of this name with other fields "
			 "(rename it, or delete the old one once unused)", name);
	else if (e == -EALREADY)
		snprintf(buf, size, "%s: already registered", name);
	else if (e == -EMFILE)
		snprintf(buf, size, "%s: kernel limit of user events reached (kernel.user_events_max)", name);
	else
		snprintf(buf, size, "%s: %s", name, strerror(-e));
	return e;
}

/* Most records are small: encode into this much stack first. */
#define UEV_STACK_RECORD 256

static int send_record(struct uev_provider *p, struct uev_event *ev, uint8_t *buf, size_t len)
{
	memcpy(buf, &ev->_prefix, 4);
	if (p->backend == UEV_BACKEND_USER_EVENTS)
		return write(p->data_fd, buf, len) < 0 ? -errno : 0;
	return uev_marker_send(p, ev, buf, len);
}

UEV_EXPORT int uev_emitv(struct uev_event *ev, va_list ap)
{
	struct uev_provider *p;
	uint8_t small[UEV_STACK_RECORD];
	int saved = errno, flags = 0, r;
	size_t len;
	va_list again;

	if (!uev_enabled(ev))
		return 0;
	p = ev->_provider;
	va_copy(again, ap);
	len = uev_encode(ev, small + 4, sizeof(small) - 4, ap, &flags);
	if (len) {
		r = send_record(p, ev, small, 4 + len);
	} else {
		/* Larger: measure, then encode into a buffer of exactly that
		 * size, so that the stack stays small even on a signal stack. */
		va_list measure;

		va_copy(measure, again);
		len = uev_encode(ev, NULL, SIZE_MAX, measure, &flags);
		va_end(measure);
		{
			uint8_t big[4 + len];

			uev_encode(ev, big + 4, len, again, &flags);
			r = send_record(p, ev, big, 4 + len);
		}
	}
	va_end(again);
	errno = saved;
	return r < 0 ? r : UEV_EMIT_WRITTEN | flags;
}

UEV_EXPORT int (uev_emit)(struct uev_event *ev, ...)
{
	va_list ap;
	int r;

	va_start(ap, ev);
	r = uev_emitv(ev, ap);
	va_end(ap);
	return r;
}
