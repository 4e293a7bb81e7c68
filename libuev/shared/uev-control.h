/* SPDX-License-Identifier: MIT */
/*
 * The seat control protocol (docs/uev-control.7): one parser and formatter
 * for both ends, libuev's client calls (uev_seat_*) and uev-aggregator's
 * control socket, so that both accept exactly the same messages. Internal:
 * built into libuev with hidden visibility, never exported or installed.
 *
 * Transport: AF_UNIX SOCK_SEQPACKET at RUN_DIR/SEAT.sock; one message per
 * request or reply, ASCII text without NUL. Requests:
 *   status | watch | disable
 *   snapshot[ REASON]                     REASON: 1..200 bytes of 0x20-0x7e
 *   enable KIND SELECTION | disable KIND SELECTION
 * Replies: "ok[ TEXT]", "error ENAME: MESSAGE"; unsolicited (after watch):
 * "incident NAME REASON".
 */
#ifndef UEV_CONTROL_H
#define UEV_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#define UEV_CTL_PROTOCOL 1
/* Largest request, in bytes as sent (a tolerated trailing '\n' included). */
#define UEV_CTL_MAX 1024
/* Largest reply or unsolicited message; a longer one is refused by the
 * receiver (-EMSGSIZE), so a server keeps its replies within this. */
#define UEV_CTL_REPLY_MAX 4096
#define UEV_CTL_REASON_MAX 200
/* Socket file name: RUN_DIR/SEAT + this. */
#define UEV_CTL_SOCKET_SUFFIX ".sock"

enum uev_ctl_verb {
	UEV_CTL_STATUS = 1,
	UEV_CTL_SNAPSHOT,
	UEV_CTL_ENABLE,
	UEV_CTL_DISABLE, /* kind NONE: all of this connection's enables */
	UEV_CTL_WATCH,
};

enum uev_ctl_kind {
	UEV_CTL_KIND_NONE = 0,
	UEV_CTL_KIND_DYNDBG, /* a dynamic debug query, "module i915 +p" */
	UEV_CTL_KIND_DRM,    /* DRM debug category names, "kms atomic" / "kms,atomic" */
	UEV_CTL_KIND_EVENT,  /* one kernel event, "system:event" */
};

struct uev_ctl_request {
	enum uev_ctl_verb verb;
	enum uev_ctl_kind kind;
	size_t arglen;               /* bytes of arg without its NUL */
	char arg[UEV_CTL_MAX + 1];   /* REASON or SELECTION ("" when absent) */
};

/* Unsolicited "incident" messages are not replies to a request. */
enum uev_ctl_reply_type { UEV_CTL_REPLY_OK = 1, UEV_CTL_REPLY_ERROR, UEV_CTL_REPLY_INCIDENT };

struct uev_ctl_reply {
	enum uev_ctl_reply_type type;
	int error;                   /* ERROR: -errno of ENAME (-EIO for an unknown name); else 0 */
	size_t textlen;
	/* OK: TEXT; ERROR: MESSAGE; INCIDENT: "NAME REASON". NUL-terminated. */
	char text[UEV_CTL_REPLY_MAX + 1];
};

/* The words of the grammar ("status", "dyndbg"...), NULL when out of range. */
const char *uev_ctl_verb_name(enum uev_ctl_verb verb);
const char *uev_ctl_kind_name(enum uev_ctl_kind kind);
/* "dyndbg" -> UEV_CTL_KIND_DYNDBG; 0 (NONE) when @name is no kind. */
enum uev_ctl_kind uev_ctl_kind_parse(const char *name);

/* Errno names both ways: "EPERM" <-> EPERM (positive). 0 / NULL when the
 * name or the number is not in the table. */
int uev_ctl_errno_parse(const char *name, size_t len);
const char *uev_ctl_errno_name(int err);

/*
 * uev_ctl_request_parse() - parse one request of @len bytes exactly as the
 * grammar says (a single trailing '\n' tolerated); never reads past @len and
 * does not need a NUL. Return: 0 and @req filled; -EMSGSIZE over UEV_CTL_MAX
 * bytes; -EINVAL anything else, with what and where (verb, kind, byte offset,
 * character) in @err.
 */
int uev_ctl_request_parse(const char *msg, size_t len, struct uev_ctl_request *req,
			  char *err, size_t errsize);

/*
 * uev_ctl_request_format() - write the request @verb [@kind] [@arg] into @buf
 * (NUL-terminated) and check it with uev_ctl_request_parse(), so a client
 * refuses locally what every server refuses. @arg: the reason (NULL or ""
 * for none) or the selection; @kind NONE except for enable/disable.
 * Return: the message length (without the NUL); -EINVAL/-EMSGSIZE as the
 * parser says (message in @err); -ENOBUFS when @buf is too small.
 */
int uev_ctl_request_format(char *buf, size_t size, enum uev_ctl_verb verb,
			   enum uev_ctl_kind kind, const char *arg, char *err, size_t errsize);

/*
 * uev_ctl_reply_parse() - parse one reply or unsolicited message of @len
 * bytes (never read past @len). Return: 0 and @rep filled; -EMSGSIZE over
 * UEV_CTL_REPLY_MAX; -EPROTO when it is none of ok/error/incident or holds
 * bytes outside printable ASCII, '\n' and '\t'.
 */
int uev_ctl_reply_parse(const char *msg, size_t len, struct uev_ctl_reply *rep);

/*
 * Replies for the server, written into @buf (NUL-terminated, at most
 * UEV_CTL_REPLY_MAX bytes whatever @size says). Text is copied as is
 * except for bytes no reply may hold (not printable ASCII, '\n' or '\t'; in
 * an error message also '\n' and '\t'), which become '?'. A text that does
 * not fit is cut. _error takes a negative or positive errno (an errno the
 * table lacks is sent as EIO) and a printf format.
 * Return: the message length.
 */
int uev_ctl_reply_format_ok(char *buf, size_t size, const char *text);
int uev_ctl_reply_format_error(char *buf, size_t size, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int uev_ctl_incident_format(char *buf, size_t size, const char *name, const char *reason);

/*
 * uev_ctl_snapshot_parse() - the text of a snapshot's ok reply, "NAME BYTES":
 * NAME (a file name: no '/', not "." or "..") into @name, BYTES into @bytes.
 * Return: 0, or -EPROTO.
 */
int uev_ctl_snapshot_parse(const char *text, char *name, size_t namesize,
			   unsigned long long *bytes);

/*
 * uev_ctl_send() - send one message, with @pass_fd as SCM_RIGHTS when it is
 * >= 0. MSG_NOSIGNAL (a closed peer is -EPIPE, never SIGPIPE); EINTR retried.
 * Return: 0 or -errno (-EAGAIN on a full non-blocking socket).
 */
int uev_ctl_send(int fd, const char *msg, size_t len, int pass_fd);

/*
 * uev_ctl_recv() - receive one message into @buf: at most @size - 1 bytes,
 * NUL-terminated. A file descriptor it carries goes to *@fd_out (close-on-
 * exec); any further ones, and all when @fd_out is NULL, are closed; *@fd_out
 * is -1 when none came. EINTR retried.
 * Return: the length; 0 when the peer closed; -EMSGSIZE for a message longer
 * than @size - 1 (it is consumed and its fds closed: the connection stays
 * usable); -EAGAIN on an empty non-blocking socket; other -errno.
 */
ssize_t uev_ctl_recv(int fd, char *buf, size_t size, int *fd_out);

#endif
