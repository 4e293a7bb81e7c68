/* SPDX-License-Identifier: MIT */
/*
 * The seat control protocol's grammar (uev-control.h, docs/uev-control.7):
 * requests, replies and errno names. Both ends use these functions, so the
 * grammar exists once. Every parser takes a length and reads nothing past
 * it; nothing here allocates.
 *
 * The selection rules go beyond "printable ASCII" where the kernel's own
 * grammar would otherwise let a client smuggle more than the one selection
 * the server's policy checked: dynamic debug's control file takes several
 * queries separated by ';' or newlines and comments after '#', so neither
 * is accepted in a dyndbg selection.
 */
#include "uev-control.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const verb_names[] = {
	[UEV_CTL_STATUS] = "status", [UEV_CTL_SNAPSHOT] = "snapshot",
	[UEV_CTL_ENABLE] = "enable", [UEV_CTL_DISABLE] = "disable",
	[UEV_CTL_WATCH] = "watch",
};

static const char *const kind_names[] = {
	[UEV_CTL_KIND_DYNDBG] = "dyndbg", [UEV_CTL_KIND_DRM] = "drm",
	[UEV_CTL_KIND_EVENT] = "event",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *uev_ctl_verb_name(enum uev_ctl_verb verb)
{
	return (unsigned)verb < NELEM(verb_names) ? verb_names[verb] : NULL;
}

const char *uev_ctl_kind_name(enum uev_ctl_kind kind)
{
	return (unsigned)kind < NELEM(kind_names) ? kind_names[kind] : NULL;
}

/* Index of the table entry equal to s[0..n), or 0. Entry 0 is unused. */
static unsigned lookup(const char *const *names, size_t count, const char *s, size_t n)
{
	for (unsigned i = 1; i < count; i++)
		if (names[i] && strlen(names[i]) == n && !memcmp(names[i], s, n))
			return i;
	return 0;
}

enum uev_ctl_kind uev_ctl_kind_parse(const char *name)
{
	return name ? lookup(kind_names, NELEM(kind_names), name, strlen(name)) : UEV_CTL_KIND_NONE;
}

/* The errno names a server may send. EOPNOTSUPP and EWOULDBLOCK are the
 * same numbers as ENOTSUP and EAGAIN on Linux: the first name wins when
 * formatting, both parse. */
#define E(x) { x, #x }
static const struct { int err; const char *name; } errnos[] = {
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG), E(EBADF),
	E(EAGAIN), E(ENOMEM), E(EACCES), E(EFAULT), E(EBUSY), E(EEXIST), E(ENODEV),
	E(ENOTDIR), E(EISDIR), E(EINVAL), E(ENFILE), E(EMFILE), E(EFBIG), E(ENOSPC),
	E(EROFS), E(EPIPE), E(ERANGE), E(EDEADLK), E(ENAMETOOLONG), E(ENOSYS),
	E(ENOTEMPTY), E(ELOOP), E(ENODATA), E(ETIME), E(EPROTO), E(EBADMSG),
	E(EOVERFLOW), E(EMSGSIZE), E(ENOTSUP), E(EOPNOTSUPP), E(EWOULDBLOCK),
	E(EADDRINUSE), E(ENOTCONN), E(ESHUTDOWN), E(ETIMEDOUT), E(ECONNREFUSED),
	E(ECONNRESET), E(EALREADY), E(EINPROGRESS), E(EDQUOT), E(ECANCELED),
	E(ENOBUFS), E(ESTALE), E(ENOTTY), E(EXDEV), E(ENOEXEC),
};
#undef E

int uev_ctl_errno_parse(const char *name, size_t len)
{
	for (size_t i = 0; i < NELEM(errnos); i++)
		if (strlen(errnos[i].name) == len && !memcmp(errnos[i].name, name, len))
			return errnos[i].err;
	return 0;
}

const char *uev_ctl_errno_name(int err)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < NELEM(errnos); i++)
		if (errnos[i].err == err)
			return errnos[i].name;
	return NULL;
}

static int print(char c)
{
	return c >= 0x20 && c <= 0x7e;
}

static int word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	if (err && errsize) {
		va_start(ap, fmt);
		vsnprintf(err, errsize, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* A byte as the messages show it: 'c' or 0xNN. */
static const char *show(char c, char out[8])
{
	if (print(c) && c != '\'')
		snprintf(out, 8, "'%c'", c);
	else
		snprintf(out, 8, "0x%02x", (unsigned char)c);
	return out;
}

/* A selection's bytes for @kind; @off: where it starts in the message, for
 * the messages. */
static int check_selection(enum uev_ctl_kind kind, const char *s, size_t n, size_t off,
			   char *err, size_t errsize)
{
	const char *kn = kind_names[kind];
	char b[8];

	if (n == 0)
		return fail(err, errsize, "%s: empty selection", kn);
	if (s[0] == ' ' || s[n - 1] == ' ')
		return fail(err, errsize, "%s selection: extra space at byte %zu", kn,
			    off + (s[0] == ' ' ? 0 : n - 1));
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!print(c))
			return fail(err, errsize, "%s selection: byte %zu is %s, not printable ASCII",
				    kn, off + i, show(c, b));
		if (c == ' ' && s[i + 1] == ' ')  /* i + 1 < n: s[n - 1] is no space */
			return fail(err, errsize, "%s selection: extra space at byte %zu", kn, off + i + 1);
		switch (kind) {
		case UEV_CTL_KIND_DYNDBG:
			if (c == ';' || c == '#')
				return fail(err, errsize, "dyndbg selection: byte %zu is %s: one query, "
					    "no ';' or '#'", off + i, show(c, b));
			break;
		case UEV_CTL_KIND_DRM:   /* names separated by one ' ' or ',' */
			if (word_char(c))
				break;
			if (c != ' ' && c != ',')
				return fail(err, errsize, "drm selection: byte %zu is %s: category names "
					    "are [A-Za-z0-9_], separated by ' ' or ','", off + i, show(c, b));
			if (i == 0 || i == n - 1 || !word_char(s[i - 1]) || !word_char(s[i + 1]))
				return fail(err, errsize, "drm selection: empty category name at byte %zu",
					    off + i);
			break;
		case UEV_CTL_KIND_EVENT: /* system:event, both [A-Za-z0-9_]+ */
			if (word_char(c))
				break;
			if (c != ':' || i == 0 || i == n - 1 || memchr(s, ':', i))
				return fail(err, errsize, "event selection: byte %zu is %s: the form is "
					    "system:event, names of [A-Za-z0-9_]", off + i, show(c, b));
			break;
		default:
			break;
		}
	}
	if (kind == UEV_CTL_KIND_EVENT && !memchr(s, ':', n))
		return fail(err, errsize, "event selection: no ':' (the form is system:event)");
	return 0;
}

static int check_reason(const char *s, size_t n, size_t off, char *err, size_t errsize)
{
	char b[8];

	if (n == 0)
		return fail(err, errsize, "snapshot: empty reason after the space");
	if (n > UEV_CTL_REASON_MAX)
		return fail(err, errsize, "snapshot: reason of %zu bytes, at most %d", n,
			    UEV_CTL_REASON_MAX);
	if (s[0] == ' ' || s[n - 1] == ' ')
		return fail(err, errsize, "snapshot: extra space at byte %zu",
			    off + (s[0] == ' ' ? 0 : n - 1));
	for (size_t i = 0; i < n; i++)
		if (!print(s[i]))
			return fail(err, errsize, "snapshot: reason byte %zu is %s, not printable ASCII "
				    "or space", off + i, show(s[i], b));
	return 0;
}

int uev_ctl_request_parse(const char *msg, size_t len, struct uev_ctl_request *req,
			  char *err, size_t errsize)
{
	const char *sp, *arg;
	size_t vlen, alen, klen;
	unsigned verb;
	char b[8];

	req->verb = 0;
	req->kind = UEV_CTL_KIND_NONE;
	req->arglen = 0;
	req->arg[0] = '\0';
	if (len > UEV_CTL_MAX) {
		fail(err, errsize, "request of %zu bytes, at most %d", len, UEV_CTL_MAX);
		return -EMSGSIZE;
	}
	if (len && msg[len - 1] == '\n')
		len--;
	if (len == 0)
		return fail(err, errsize, "empty request");
	sp = memchr(msg, ' ', len);
	vlen = sp ? (size_t)(sp - msg) : len;
	verb = lookup(verb_names, NELEM(verb_names), msg, vlen);
	if (!verb) {
		size_t i = 0;

		while (i < vlen && i < 32 && print(msg[i]))
			i++;
		if (vlen == 0)
			return fail(err, errsize, "extra space at byte 0 (no verb)");
		if (i < vlen && i < 32)
			return fail(err, errsize, "unknown verb: byte %zu is %s", i, show(msg[i], b));
		return fail(err, errsize, "unknown verb '%.*s%s' (status, snapshot, enable, disable, "
			    "watch)", (int)i, msg, i < vlen ? "..." : "");
	}
	req->verb = verb;
	arg = sp ? sp + 1 : msg + len;
	alen = sp ? len - vlen - 1 : 0;
	switch (verb) {
	case UEV_CTL_STATUS:
	case UEV_CTL_WATCH:
		if (sp)
			return fail(err, errsize, "%s takes no argument (byte %zu)", verb_names[verb], vlen);
		return 0;
	case UEV_CTL_SNAPSHOT:
		if (sp && check_reason(arg, alen, vlen + 1, err, errsize) < 0)
			return -EINVAL;
		break;
	case UEV_CTL_DISABLE:
		if (!sp)
			return 0;
		__attribute__((fallthrough)); /* disable KIND SELECTION */
	case UEV_CTL_ENABLE:
		if (!sp)
			return fail(err, errsize, "enable needs KIND SELECTION (dyndbg, drm or event)");
		sp = memchr(arg, ' ', alen);
		klen = sp ? (size_t)(sp - arg) : alen;
		req->kind = lookup(kind_names, NELEM(kind_names), arg, klen);
		if (!req->kind) {
			size_t i = 0;

			while (i < klen && i < 32 && print(arg[i]))
				i++;
			if (klen == 0)
				return fail(err, errsize, "%s: extra space at byte %zu (no kind)",
					    verb_names[verb], vlen + 1);
			return fail(err, errsize, "%s: unknown kind '%.*s%s' (dyndbg, drm or event)",
				    verb_names[verb], (int)i, arg, i < klen ? "..." : "");
		}
		if (!sp)
			return fail(err, errsize, "%s %s: no selection", verb_names[verb],
				    kind_names[req->kind]);
		if (check_selection(req->kind, sp + 1, alen - klen - 1, vlen + klen + 2, err, errsize) < 0)
			return -EINVAL;
		arg = sp + 1;
		alen -= klen + 1;
		break;
	}
	memcpy(req->arg, arg, alen);
	req->arg[alen] = '\0';
	req->arglen = alen;
	return 0;
}

int uev_ctl_request_format(char *buf, size_t size, enum uev_ctl_verb verb,
			   enum uev_ctl_kind kind, const char *arg, char *err, size_t errsize)
{
	struct uev_ctl_request *req;
	const char *vn = uev_ctl_verb_name(verb), *kn = uev_ctl_kind_name(kind);
	int n, r;

	if (!vn || (kind != UEV_CTL_KIND_NONE && !kn))
		return fail(err, errsize, "no such verb (%d) or kind (%d)", (int)verb, (int)kind);
	if (arg && !*arg && kind == UEV_CTL_KIND_NONE)
		arg = NULL;
	if (kind != UEV_CTL_KIND_NONE)
		n = snprintf(buf, size, "%s %s %s", vn, kn, arg ? arg : "");
	else
		n = snprintf(buf, size, "%s%s%s", vn, arg ? " " : "", arg ? arg : "");
	if (n < 0 || (size_t)n >= size) {
		/* the parser's verdict first: a request no buffer could hold */
		if (n >= 0 && (size_t)n > UEV_CTL_MAX) {
			fail(err, errsize, "request of %d bytes, at most %d", n, UEV_CTL_MAX);
			return -EMSGSIZE;
		}
		fail(err, errsize, "request of %d bytes does not fit %zu", n, size);
		return -ENOBUFS;
	}
	/* the parser holds a whole request: keep it off the caller's stack */
	req = malloc(sizeof(*req));
	if (!req)
		return -ENOMEM;
	r = uev_ctl_request_parse(buf, (size_t)n, req, err, errsize);
	/* what the caller meant must be what a server reads back: a selection
	 * holding a '\n' at its end would otherwise be shortened silently */
	if (r == 0 && (req->verb != verb || req->kind != kind ||
		       req->arglen != (arg ? strlen(arg) : 0)))
		r = fail(err, errsize, "argument ends in a newline");
	free(req);
	return r < 0 ? r : n;
}

static int reply_char(char c)
{
	return print(c) || c == '\n' || c == '\t';
}

int uev_ctl_reply_parse(const char *msg, size_t len, struct uev_ctl_reply *rep)
{
	const char *text;
	size_t tlen;

	rep->type = 0;
	rep->error = 0;
	rep->textlen = 0;
	rep->text[0] = '\0';
	if (len > UEV_CTL_REPLY_MAX)
		return -EMSGSIZE;
	for (size_t i = 0; i < len; i++)
		if (!reply_char(msg[i]))
			return -EPROTO;
	if (len >= 2 && !memcmp(msg, "ok", 2) && (len == 2 || msg[2] == ' ')) {
		rep->type = UEV_CTL_REPLY_OK;
		text = msg + (len > 2 ? 3 : 2);
		tlen = len > 2 ? len - 3 : 0;
	} else if (len > 6 && !memcmp(msg, "error ", 6)) {
		const char *colon = memchr(msg + 6, ':', len - 6);
		size_t nlen = colon ? (size_t)(colon - msg - 6) : 0;
		int e;

		if (!colon || nlen < 2 || nlen > 15 || msg[6] != 'E' ||
		    (size_t)(colon - msg) + 1 >= len || colon[1] != ' ')
			return -EPROTO;
		for (size_t i = 0; i < nlen; i++)
			if (!((msg[6 + i] >= 'A' && msg[6 + i] <= 'Z') || (msg[6 + i] >= '0' && msg[6 + i] <= '9')))
				return -EPROTO;
		e = uev_ctl_errno_parse(msg + 6, nlen);
		rep->type = UEV_CTL_REPLY_ERROR;
		rep->error = e ? -e : -EIO;
		text = colon + 2;
		tlen = len - (size_t)(text - msg);
	} else if (len > 9 && !memcmp(msg, "incident ", 9) && msg[9] != ' ') {
		rep->type = UEV_CTL_REPLY_INCIDENT;
		text = msg + 9;
		tlen = len - 9;
	} else {
		return -EPROTO;
	}
	memcpy(rep->text, text, tlen);
	rep->text[tlen] = '\0';
	rep->textlen = tlen;
	return 0;
}

/* Append s (at most max bytes of it, '?' for what @ok refuses) to buf[*n..). */
static void append(char *buf, size_t cap, size_t *n, const char *s, int (*ok)(char))
{
	for (; s && *s && *n + 1 < cap; s++)
		buf[(*n)++] = ok(*s) ? *s : '?';
	buf[*n] = '\0';
}

static size_t reply_cap(size_t size)
{
	return size < UEV_CTL_REPLY_MAX + 1 ? size : UEV_CTL_REPLY_MAX + 1;
}

int uev_ctl_reply_format_ok(char *buf, size_t size, const char *text)
{
	size_t n = 0, cap = reply_cap(size);

	if (cap == 0)
		return 0;
	append(buf, cap, &n, "ok", print);
	if (text && *text)
		append(buf, cap, &n, " ", print);
	append(buf, cap, &n, text, reply_char);
	return (int)n;
}

int uev_ctl_reply_format_error(char *buf, size_t size, int err, const char *fmt, ...)
{
	const char *name = uev_ctl_errno_name(err);
	char msg[UEV_CTL_REPLY_MAX];
	size_t n = 0, cap = reply_cap(size);
	va_list ap;

	if (cap == 0)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	append(buf, cap, &n, "error ", print);
	append(buf, cap, &n, name && err ? name : "EIO", print);
	append(buf, cap, &n, ": ", print);
	append(buf, cap, &n, msg[0] ? msg : "(no message)", print);
	return (int)n;
}

int uev_ctl_incident_format(char *buf, size_t size, const char *name, const char *reason)
{
	size_t n = 0, cap = reply_cap(size);

	if (cap == 0)
		return 0;
	append(buf, cap, &n, "incident ", print);
	append(buf, cap, &n, name && *name ? name : "?", print);
	append(buf, cap, &n, " ", print);
	append(buf, cap, &n, reason, print);
	return (int)n;
}

int uev_ctl_snapshot_parse(const char *text, char *name, size_t namesize,
			   unsigned long long *bytes)
{
	const char *sp = strchr(text, ' ');
	size_t n = sp ? (size_t)(sp - text) : 0;
	char *end;

	for (size_t i = 0; i < n; i++)
		if (text[i] <= ' ' || text[i] > '~' || text[i] == '/')
			return -EPROTO;
	if (!sp || n == 0 || n >= namesize ||
	    (n == 1 && text[0] == '.') || (n == 2 && !memcmp(text, "..", 2)) ||
	    sp[1] < '0' || sp[1] > '9')
		return -EPROTO;
	errno = 0;
	*bytes = strtoull(sp + 1, &end, 10);
	if (errno || *end)
		return -EPROTO;
	memcpy(name, text, n);
	name[n] = '\0';
	return 0;
}
