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

/*
 * Seat control: ask the seat's recorder (uev-aggregator) for an incident
 * bundle or for kernel debug selections, within the policy its seat
 * configuration grants the caller's uid and groups. The protocol is
 * uev-control(7); these calls speak it over RUN_DIR/SEAT.sock.
 *
 *   struct uev_seat *s;
 *   int fd;
 *   if (uev_seat_connect(NULL, &s) == 0) {
 *           if (uev_seat_snapshot(s, "frame took 300 ms", &fd) == 0)
 *                   ... read the bundle from fd (read-only), close it ...
 *           else
 *                   fprintf(stderr, "refused: %s\n", uev_seat_message(s));
 *           uev_seat_disconnect(s);
 *   }
 *
 * Every call returns 0 or a negative errno: the server's refusal as the
 * errno it names (-EPERM not allowed, -EINVAL malformed, -EBUSY ...), with
 * its text in uev_seat_message(); a request this library can tell is
 * malformed is refused locally the same way, without being sent.
 * -ECONNRESET: the server closed the connection (the seat's enables are
 * gone); every later call on that uev_seat returns -ENOTCONN.
 * No call raises SIGPIPE, uses a global or prints. The blocking calls wait
 * at most the connection's timeout (60 s, uev_seat_set_timeout()).
 * A uev_seat is not locked: use each from one thread at a time (one per
 * thread is fine); different uev_seats are independent.
 */
struct uev_seat;

/**
 * uev_seat_connect() - connect to the control socket of @seat.
 * @seat: NULL for $XDG_SEAT, else "seat0". The socket is
 *        $UEV_RUN_DIR/SEAT.sock ($UEV_RUN_DIR unset: /run/uev).
 * @out:  receives the connection.
 * Never blocks: a server whose backlog is full is -EAGAIN.
 * Return: 0; -EINVAL bad seat name, -ENAMETOOLONG path over the socket
 * address limit, -ENOENT no control socket (no recorder for the seat),
 * -ECONNREFUSED a socket nobody listens on, -EACCES, -ENOMEM.
 */
int uev_seat_connect(const char *seat, struct uev_seat **out);

/**
 * uev_seat_disconnect() - close the connection and free @s (NULL is fine).
 * The server reverts every selection this connection enabled. A bundle fd
 * already received stays valid.
 */
void uev_seat_disconnect(struct uev_seat *s);

/**
 * uev_seat_set_timeout() - how long the blocking calls wait for a reply.
 * @ms: 1 .. 3600000 (default 60000: a snapshot's reply covers some seconds
 * recorded after the request). Return: 0 or -EINVAL.
 */
int uev_seat_set_timeout(struct uev_seat *s, int ms);

/**
 * uev_seat_snapshot() - make an incident bundle now and receive it.
 * @reason: NULL or "", or 1..200 bytes of printable ASCII (spaces inside,
 *          not at either end); it is recorded in the bundle.
 * @fd:     receives a read-only, close-on-exec descriptor of the bundle
 *          (a ring file uev-replay(1) reads); the caller closes it.
 * Blocks until the reply or the timeout. uev_seat_message() then holds
 * "NAME BYTES" (the bundle's file name and size) or the refusal.
 * Return: 0; -ETIMEDOUT (the request stays pending: uev_seat_reply_read()
 * may still collect it, other requests are -EBUSY until then), -EBUSY a
 * request is pending, -EPERM not allowed, other -errno of the server.
 */
int uev_seat_snapshot(struct uev_seat *s, const char *reason, int *fd);

/**
 * uev_seat_snapshot_request() - send a snapshot request without waiting,
 * for an event loop: watch uev_seat_fd() for input and call
 * uev_seat_reply_read() when it is readable.
 * Return: 0; -EINVAL bad reason (see uev_seat_message()), -EBUSY a request
 * is pending, -EAGAIN the socket's buffer is full, -ENOTCONN, -EPIPE.
 */
int uev_seat_snapshot_request(struct uev_seat *s, const char *reason);

/**
 * uev_seat_fd() - the connection's socket (non-blocking, close-on-exec), to
 * poll for input; owned by @s: do not read or close it. -1 once closed.
 */
int uev_seat_fd(const struct uev_seat *s);

/**
 * uev_seat_reply_read() - collect the reply to the pending request, never
 * blocking. Unsolicited messages the server may interleave ("incident ...")
 * are read and skipped.
 * @fd: receives the bundle's descriptor for a snapshot (else -1).
 * Return: 0; -EAGAIN no reply yet; -EINVAL nothing pending; the server's
 * -errno; -ECONNRESET the server closed; -EMSGSIZE a reply over 4096 bytes
 * (skipped); -EPROTO a reply that breaks the protocol.
 */
int uev_seat_reply_read(struct uev_seat *s, int *fd);

/**
 * uev_seat_enable() - turn on a kernel debug selection for the life of this
 * connection, if the seat's policy allows it to the caller.
 * @kind:      "dyndbg" (@selection a dynamic debug query such as
 *             "module i915 +p"), "drm" (DRM debug category names separated
 *             by ' ' or ',', e.g. "kms atomic") or "event" ("system:event").
 * Return: 0; -EPERM not allowed; -EINVAL malformed; other -errno.
 */
int uev_seat_enable(struct uev_seat *s, const char *kind, const char *selection);

/**
 * uev_seat_disable() - undo an enable of this connection (@kind and
 * @selection as given to uev_seat_enable()), or all of them (@kind NULL,
 * @selection ignored). Return: as uev_seat_enable().
 */
int uev_seat_disable(struct uev_seat *s, const char *kind, const char *selection);

/**
 * uev_seat_status() - the recorder's status: lines of "key value" (the
 * protocol version is "protocol 1"), NUL-terminated in @buf.
 * Return: 0; -ERANGE @buf was too small (it holds the text cut); -errno.
 */
int uev_seat_status(struct uev_seat *s, char *buf, size_t size);

/**
 * uev_seat_message() - the text of the last reply: the server's message
 * when it refused (or this library's, for a request refused locally),
 * "NAME BYTES" after a snapshot, "" otherwise. Valid until the next call on
 * @s; never NULL.
 */
const char *uev_seat_message(const struct uev_seat *s);

#ifdef __cplusplus
}
#endif
#endif /* UEV_UEV_H */
