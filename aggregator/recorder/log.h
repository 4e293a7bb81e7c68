/* SPDX-License-Identifier: MIT */
/*
 * How the recorder's modules say what they did and what went wrong without
 * stopping them (a dyndbg query the kernel refused, drm.debug changed, a
 * stop that waits for slow writes): through a sink the program installs.
 * They never print themselves; an error that ends an operation is returned
 * as -errno with a message in the caller's buffer instead. uev-aggregator's
 * sink prints each message as one line of standard error.
 */
#ifndef UEV_LOG_H
#define UEV_LOG_H

/* A sink: @fn gets each message, without a trailing newline, and @ctx.
 * A zeroed struct (no @fn) drops the messages. */
struct uev_log {
	void (*fn)(void *ctx, const char *msg);
	void *ctx;
};

/* Format a message (cut at 4 KiB) and hand it to @log's sink, if any;
 * @log may be NULL. */
void uev_log_say(const struct uev_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
