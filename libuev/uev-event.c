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
#include "uev-grow.h"
#include "uev-internal.h"
#include "uev-sys.h"

static int list_add(struct uev_provider *p, struct uev_event *ev)
{
	int r = UEV_GROW(p->events, p->cap, p->nevents + 1);

	if (r < 0)
		return r;
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

	ev->_p.error = (int16_t)err;
	ev->_p.error_pos = (uint16_t)pos;
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
	if (ev->_p.provider)
		return reg_fail(p, ev, -EALREADY, 0);
	__atomic_store_n(&ev->_enabled, 0, __ATOMIC_RELAXED);
	r = uev_def_parse(ev->name, ev->fields, &def, &err);
	if (r < 0)
		return reg_fail(p, ev, r, (unsigned)err.pos);
	if (!p)
		return reg_fail(p, ev, -EINVAL, 0);
	ev->_p.nfields = (uint16_t)def.nfields;
	ev->_p.fixed_size = (uint16_t)def.fixed_size;
	ev->_p.ntext = 0;
	for (unsigned i = 0, strings = def.nstrings, off = 0; i < def.nfields; i++) {
		uint8_t type = def.field[i].type;

		strings -= type == UEV_T_REL_LOC;
		ev->_p.field[i].type = type;
		ev->_p.field[i].size = def.field[i].size;
		ev->_p.field[i].offset = (uint16_t)off;
		ev->_p.field[i].strings_after = (uint8_t)strings;
		if (type == UEV_T_CHAR_ARRAY || type == UEV_T_REL_LOC)
			ev->_p.text[ev->_p.ntext++] = (uint8_t)i;
		off += def.field[i].size;
	}
	ev->_p.error = 0;
	if (p->backend == UEV_BACKEND_OFF)
		return 0;
	ev->_p.canonical = strdup(def.canonical);
	if (!ev->_p.canonical)
		return reg_fail(p, ev, -ENOMEM, 0);
	/* The kernel (or the watcher) may enable the event the moment the
	 * backend knows it, and an emit on another thread then needs the
	 * provider: publish it first. */
	__atomic_store_n(&ev->_p.provider, p, __ATOMIC_RELEASE);
	pthread_mutex_lock(&p->lock);
	r = list_add(p, ev);
	if (r == 0)
		r = p->backend == UEV_BACKEND_USER_EVENTS ? uev_ue_register(p, ev)
							  : uev_marker_register(p, ev);
	if (r < 0) {
		list_del(p, ev);
		__atomic_store_n(&ev->_enabled, 0, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&p->lock);
		ev->_p.provider = NULL;
		free((char *)ev->_p.canonical);
		ev->_p.canonical = NULL;
		return reg_fail(p, ev, r, 0);
	}
	pthread_mutex_unlock(&p->lock);
	uev_debug(p, "registered '%s' (%s)", def.canonical,
		  uev_backend_name(p->backend));
	return 0;
}

UEV_EXPORT void uev_event_unregister(struct uev_event *ev)
{
	struct uev_provider *p = ev ? ev->_p.provider : NULL;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock); /* the marker watcher writes words under it */
	if (p->backend == UEV_BACKEND_USER_EVENTS)
		uev_ue_unregister(p, ev);
	list_del(p, ev);
	__atomic_store_n(&ev->_enabled, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&p->lock);
	free((char *)ev->_p.canonical);
	ev->_p.canonical = NULL;
	ev->_p.provider = NULL;
}

UEV_EXPORT int uev_event_error(const struct uev_event *ev, char *buf, size_t size)
{
	struct uev_def_error err;
	struct uev_def def;
	int e = ev ? ev->_p.error : -EINVAL;
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

/* Where an emit's values come from: a va_list, or a packed fixed part and
 * text pointers. Encoding may run twice (measure, then write), so a va_list
 * is copied for each run. */
struct source {
	va_list *va;
	const void *fixed;
	const char *const *texts;
};

static size_t encode(const struct uev_event *ev, uint8_t *out, size_t cap,
		     const struct source *src, int *flags)
{
	va_list ap;
	size_t n;

	if (!src->va)
		return uev_encode_packed(ev, out, cap, src->fixed, src->texts, flags);
	va_copy(ap, *src->va);
	n = uev_encode_va(ev, out, cap, ap, flags);
	va_end(ap);
	return n;
}

/* Send prefix + payload (@len payload bytes behind 4 free ones at @buf). */
static inline int send(struct uev_event *ev, uint8_t *buf, size_t len, int flags)
{
	struct uev_provider *p = ev->_p.provider;
	long r;

	memcpy(buf, &ev->_p.prefix, 4);
	if (p->backend == UEV_BACKEND_USER_EVENTS)
		r = uev_sys_write(p->data_fd, buf, 4 + len);
	else
		r = uev_marker_send(p, ev, buf, 4 + len);
	return r < 0 ? (int)r : UEV_EMIT_WRITTEN | flags;
}

/* A record over the stack buffer: measure it, then encode it again into a
 * buffer of exactly its size, so that the stack stays small even on a
 * signal stack. */
static __attribute__((noinline)) int emit_large(struct uev_event *ev, const struct source *src)
{
	int flags = 0;
	size_t len = encode(ev, NULL, SIZE_MAX, src, &flags);
	uint8_t big[4 + len];

	encode(ev, big + 4, len, src, &flags);
	return send(ev, big, len, flags);
}

UEV_EXPORT int uev_emitv(struct uev_event *ev, va_list ap)
{
	uint8_t small[UEV_STACK_RECORD];
	int flags = 0, r;
	size_t len;
	va_list copy;

	if (!uev_enabled(ev))
		return 0;
	va_copy(copy, ap);
	len = uev_encode_va(ev, small + 4, sizeof(small) - 4, copy, &flags);
	va_end(copy);
	if (len)
		return send(ev, small, len, flags);
	va_copy(copy, ap);
	r = emit_large(ev, &(struct source){ .va = &copy });
	va_end(copy);
	return r;
}

UEV_EXPORT int (uev_emit)(struct uev_event *ev, ...)
{
	va_list ap;
	int r;

	if (!uev_enabled(ev))
		return 0;
	va_start(ap, ev);
	r = uev_emitv(ev, ap);
	va_end(ap);
	return r;
}

UEV_EXPORT int uev_emit_packed(struct uev_event *ev, const void *fixed, const char *const *texts)
{
	uint8_t small[UEV_STACK_RECORD];
	int flags = 0;
	size_t len;

	if (!uev_enabled(ev))
		return 0;
	len = uev_encode_packed(ev, small + 4, sizeof(small) - 4, fixed, texts, &flags);
	if (!len)
		return emit_large(ev, &(struct source){ .fixed = fixed, .texts = texts });
	return send(ev, small, len, flags);
}
