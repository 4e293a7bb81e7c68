/* SPDX-License-Identifier: MIT */
/*
 * <uev/uev.h> — emit structured userspace events into the kernel trace ring
 * of a seat, next to the kernel's own events (one clock, one order).
 *
 *   static struct uev_event frame = UEV_EVENT_INIT("demo_frame",
 *           "u32 output; u64 seq; __rel_loc char[] name");
 *   struct uev_provider *p;
 *   uev_provider_open(&p, NULL);          // seat from $XDG_SEAT or "seat0"
 *   uev_event_register(p, &frame);        // once
 *   if (uev_enabled(&frame))              // one load, no syscall
 *           uev_emit(&frame, 1u, (uint64_t)42, "HDMI-A-1");
 *
 * Guarantees: nothing here crashes, blocks or fails the host program. With no
 * permission, no tracefs or no kernel support the events are simply disabled
 * and uev_emit() returns 0. The emit path never allocates and never locks; it
 * is async-signal-safe, thread-safe and keeps working in a fork()ed child.
 *
 * Functions return 0 or a positive value on success and a negative errno on
 * failure; they never print (set UEV_DEBUG=1 to get diagnostics on stderr
 * from uev_provider_open() and uev_event_register(), never from uev_emit()).
 */
#ifndef UEV_UEV_H
#define UEV_UEV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UEV_VERSION_MAJOR 0
#define UEV_VERSION_MINOR 1

/* Most fields one event may declare. */
#define UEV_MAX_FIELDS 32
/* Largest "name fields" definition, NUL included (kernel limit). */
#define UEV_DEF_MAX 512
/* Largest payload (fields + string data) of one record: the marker limit
 * (4064 bytes written to trace_marker_raw, minus the 4-byte id) and within
 * the ring buffer's largest event for 4 KiB sub-buffers. */
#define UEV_PAYLOAD_MAX 4060

/** Backends; uev_provider_backend() says which one a provider uses. */
enum uev_backend {
	UEV_BACKEND_AUTO = 0,        /**< options only: $UEV_BACKEND if set, else the best available */
	UEV_BACKEND_OFF = 1,         /**< events are disabled */
	UEV_BACKEND_USER_EVENTS = 2, /**< kernel user_events (6.4+ ABI) */
	UEV_BACKEND_MARKER = 3,      /**< the seat instance's trace_marker_raw */
};

/** uev_emit() result bits (a positive result means "written"). */
#define UEV_EMIT_WRITTEN   1
#define UEV_EMIT_TRUNCATED 2 /**< a string was cut at a UTF-8 boundary and ends in U+2026 */

struct uev_provider;

/** Options for uev_provider_open(); every member may be left 0/NULL. */
struct uev_provider_options {
	const char *seat;    /**< NULL: $XDG_SEAT, else "seat0" */
	const char *tracefs; /**< NULL: auto-detect the tracefs mount */
	const char *run_dir; /**< NULL: $UEV_RUN_DIR, else "/run/uev" (marker enable pages) */
	int backend;         /**< enum uev_backend; an explicit choice beats $UEV_BACKEND */
};

/*
 * One event, declared statically with UEV_EVENT_INIT(name, fields).
 * name: [A-Za-z_][A-Za-z0-9_]*; fields: user_events syntax separated by ';':
 *   u8 u16 u32 u64 s8 s16 s32 s64   integers (pass them as int/unsigned for
 *                                    8..32 bits, as uint64_t/int64_t for 64)
 *   char[N] name                     fixed text, N <= 1024 (pass const char *)
 *   __rel_loc char[] name            variable string (pass const char *)
 * The members below the first two are private to libuev.
 */
struct uev_event {
	const char *name;
	const char *fields;
	uint32_t _enabled;                /* bit 0: what uev_enabled() loads */
	struct uev_event_private {        /* libuev's; zero until registered */
		uint32_t prefix;          /* write_index or marker id */
		uint32_t announced;       /* marker epoch this event was announced in */
		int16_t error;            /* last registration error (-errno) */
		uint16_t error_pos;       /* its byte offset in fields */
		uint16_t nfields;
		uint16_t fixed_size;      /* bytes of the fixed part of the payload */
		uint16_t ntext;           /* char[N] and __rel_loc fields */
		struct uev_provider *provider;
		const char *canonical;    /* "name type f; ..." as registered */
		struct {
			uint8_t type;
			uint8_t strings_after; /* __rel_loc fields behind this one */
			uint16_t size;
			uint16_t offset;  /* in the payload */
		} field[UEV_MAX_FIELDS];
		uint8_t text[UEV_MAX_FIELDS]; /* indices of the text fields, in order */
	} _p;
};
/** Static initializer: struct uev_event ev = UEV_EVENT_INIT("n", "u32 a");
 * (every member spelled out, so that g++ -Wextra has nothing to say) */
#ifdef __cplusplus
#define UEV_EVENT_INIT(name_, fields_) { (name_), (fields_), 0, {} }
#else
#define UEV_EVENT_INIT(name_, fields_) { .name = (name_), .fields = (fields_), ._enabled = 0, ._p = { 0 } }
#endif

/**
 * uev_provider_open() - open the per-process provider for a seat.
 * @out:  receives the provider (also on a disabled backend).
 * @opts: NULL for defaults.
 *
 * Chooses the backend: @opts->backend if not AUTO, else $UEV_BACKEND
 * (user_events|marker|off|auto), else user_events when the kernel has it and
 * marker otherwise. A missing tracefs, permission or kernel feature is not an
 * error: the provider is returned with backend OFF and uev_provider_status()
 * says why.
 * Return: 0; -EINVAL for a bad seat name or backend value, -ENAMETOOLONG for
 * an over-long tracefs or run_dir path, -ENOMEM.
 */
int uev_provider_open(struct uev_provider **out, const struct uev_provider_options *opts);

/**
 * uev_provider_close() - unregister every event of @p and free it.
 * Registered events become disabled; they may be registered again later.
 * Not async-signal-safe; no emit may run concurrently on @p's events.
 */
void uev_provider_close(struct uev_provider *p);

/** uev_provider_backend() - the backend in use (UEV_BACKEND_OFF if @p is NULL). */
enum uev_backend uev_provider_backend(const struct uev_provider *p);

/** uev_provider_status() - one human-readable line: backend, seat and, when off, why. */
const char *uev_provider_status(const struct uev_provider *p);

/** uev_provider_seat() - the seat name @p emits into. */
const char *uev_provider_seat(const struct uev_provider *p);

/** uev_backend_name() - "auto", "off", "user_events" or "marker" ("?" otherwise). */
const char *uev_backend_name(int backend);

/**
 * uev_event_register() - validate @ev's name and fields and register it.
 * Return: 0 (also when the backend is off: the event then stays disabled);
 * -EINVAL bad name or field list (see uev_event_error()), -E2BIG definition
 * over 512 bytes or fixed part over UEV_PAYLOAD_MAX, -EADDRINUSE the kernel
 * has an event of that name with another field list, -EALREADY already
 * registered, -EMFILE kernel limit of user events reached, other -errno from
 * the kernel. On error @ev stays disabled.
 */
int uev_event_register(struct uev_provider *p, struct uev_event *ev);

/**
 * uev_event_unregister() - stop emitting @ev and release its kernel enabler.
 * Not async-signal-safe. Safe on an event that is not registered.
 */
void uev_event_unregister(struct uev_event *ev);

/**
 * uev_event_error() - describe @ev's last registration error.
 * Writes e.g. "demo_frame: field 2 at byte 9: unknown type 'u128'" into @buf.
 * Return: the errno value (negative), or 0 when there was no error.
 */
int uev_event_error(const struct uev_event *ev, char *buf, size_t size);

/**
 * uev_enabled() - is anybody recording @ev right now?
 * One atomic load of the enable word inside @ev: no syscall, no lock. The
 * kernel keeps the word current for user_events; for the marker backend a
 * watcher thread of libuev does, woken by the seat's reader through the
 * seat's shared enable page.
 */
static inline bool uev_enabled(const struct uev_event *ev)
{
	return __atomic_load_n(&ev->_enabled, __ATOMIC_RELAXED) & 1u;
}

/**
 * uev_emit() - write one record of @ev: the field values follow in
 * declaration order (strings as const char *, NULL is written as "").
 * One write per event, no allocation, no lock, async-signal-safe; not a
 * thread cancellation point, and errno is left as it was.
 * Strings that do not fit UEV_PAYLOAD_MAX are cut at a UTF-8 boundary and end
 * in "…" (U+2026). Prefer the typed wrappers generated by uev-schema, which
 * make a wrong argument type a compile error.
 * Return: 0 disabled (nothing written), UEV_EMIT_WRITTEN [| UEV_EMIT_TRUNCATED],
 * or a negative errno from the write (the event is still quietly dropped).
 */
int uev_emit(struct uev_event *ev, ...);

/** uev_emitv() - uev_emit() with a va_list. */
int uev_emitv(struct uev_event *ev, va_list ap);

/**
 * uev_emit_packed() - uev_emit() from values the caller already laid out:
 * the typed wrappers of uev-schema use it, no va_list to walk.
 * @fixed: the event's fixed part, its fields packed in declaration order in
 *         host byte order; the bytes of text fields (char[N], __rel_loc) are
 *         ignored and filled in from @texts. NULL when the event has no
 *         integer fields.
 * @texts: one string per text field, in declaration order (NULL is "").
 * Return: as uev_emit().
 */
int uev_emit_packed(struct uev_event *ev, const void *fixed, const char *const *texts);

/* The hot verb: skip the call entirely while disabled. (uev_emit)(...)
 * reaches the function. Evaluates @ev twice. */
#define uev_emit(ev, ...) \
	(__builtin_expect(uev_enabled(ev), 0) ? (uev_emit)((ev), ##__VA_ARGS__) : 0)

#ifdef __cplusplus
}
#endif
#endif /* UEV_UEV_H */
