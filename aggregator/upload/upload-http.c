/* SPDX-License-Identifier: MIT */
/*
 * The least HTTP/1.1 client systemd-journal-remote needs: one POST per
 * batch, on its own connection ("Connection: close"), with a
 * Content-Length (journal-remote 252 takes that and chunked bodies alike;
 * a known length lets the server refuse early), and the status line of the
 * answer. journal-remote answers 202 once it has stored every entry of the
 * body; a body that ends inside an entry gets 417, a wrong type 415.
 * No TLS: an https endpoint is reached through a local tunnel.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "upload.h"

int up_url_parse(struct up_url *u, const char *s, char *err, size_t errsize)
{
	const char *p, *h, *hend, *port = UP_DEFAULT_PORT;
	size_t plen = strlen(UP_DEFAULT_PORT), prefix;

	memset(u, 0, sizeof(*u));
	snprintf(u->text, sizeof(u->text), "%s", s);
	if (!strncasecmp(s, "https://", 8)) {
		snprintf(err, errsize, "%s: https is not supported: run a local TLS tunnel to the server (stunnel, "
				       "or socat TCP-LISTEN:19532,fork OPENSSL:HOST:19532) and give its http:// URL",
			 s);
		return -EPROTONOSUPPORT;
	}
	if (strncasecmp(s, "http://", 7)) {
		snprintf(err, errsize, "%s: not an http://HOST[:PORT][/PATH] URL", s);
		return -EINVAL;
	}
	h = s + 7;
	if (*h == '[') { /* [IPv6] */
		hend = strchr(h, ']');
		if (!hend) {
			snprintf(err, errsize, "%s: no ']' after the IPv6 address", s);
			return -EINVAL;
		}
		h++;
		p = hend + 1;
	} else {
		hend = h + strcspn(h, ":/");
		p = hend;
	}
	if (hend == h || (size_t)(hend - h) >= sizeof(u->host)) {
		snprintf(err, errsize, "%s: no host, or a host name too long", s);
		return -EINVAL;
	}
	memcpy(u->host, h, (size_t)(hend - h));
	if (*p == ':') {
		char *end;
		unsigned long n = strtoul(p + 1, &end, 10);

		if (end == p + 1 || n == 0 || n > 65535 || (*end && *end != '/')) {
			snprintf(err, errsize, "%s: the port is not a number from 1 to 65535", s);
			return -EINVAL;
		}
		port = p + 1;
		plen = (size_t)(end - port);
		p = end;
	}
	if (*p && *p != '/') {
		snprintf(err, errsize, "%s: not an http://HOST[:PORT][/PATH] URL", s);
		return -EINVAL;
	}
	memcpy(u->port, port, plen);
	prefix = strlen(p);
	while (prefix && p[prefix - 1] == '/')
		prefix--;
	if (strcspn(p, " \r\n\t") != strlen(p) || prefix + sizeof("/upload") > sizeof(u->path)) {
		snprintf(err, errsize, "%s: the path has spaces or is too long", s);
		return -EINVAL;
	}
	snprintf(u->path, sizeof(u->path), "%.*s/upload", (int)prefix, p);
	return 0;
}

/* A connected socket to @ai within @timeout_ms, or -errno. */
static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol), e = 0, r;

	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			e = -errno;
			close(fd);
			return e;
		}
		pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
		while ((r = poll(&pfd, 1, timeout_ms)) < 0 && errno == EINTR)
			;
		if (r == 0)
			e = -ETIMEDOUT;
		else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
			e = -errno;
		else
			e = -e;
		if (e) {
			close(fd);
			return e;
		}
	}
	/* blocking from here, each read and write bounded */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int connect_url(const struct up_url *u, int timeout_ms, char *err, size_t errsize)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG }, *res, *ai;
	int r = getaddrinfo(u->host, u->port, &hints, &res), fd = -EHOSTUNREACH;

	if (r) {
		snprintf(err, errsize, "%s: %s: %s", u->text, u->host, gai_strerror(r));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next)
		if ((fd = connect_one(ai, timeout_ms)) >= 0)
			break;
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errsize, "%s: connecting to %s port %s: %s", u->text, u->host, u->port, strerror(-fd));
	return fd;
}

/* @more: more follows at once (the head before the body): without it the
 * head goes out alone, and Nagle's algorithm against the server's delayed
 * ACK cost 40 ms a request. */
static int send_all(int fd, const char *p, size_t n, int more)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | (more ? MSG_MORE : 0));

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Has @buf (@n bytes, NUL-terminated) the whole answer: its head and as
 * much body as its Content-Length says? */
static int answer_complete(const char *buf, size_t n)
{
	const char *end = strstr(buf, "\r\n\r\n"), *p;

	if (!end)
		return 0;
	for (p = strchr(buf, '\n'); p && p < end; p = strchr(p + 1, '\n'))
		if (!strncasecmp(p + 1, "Content-Length:", 15))
			return n - (size_t)(end + 4 - buf) >= strtoul(p + 16, NULL, 10);
	return 0; /* no length: the close ends it */
}

/* The answer's head and the start of its body into @buf: bytes read, or
 * -errno. Reads until the answer is complete (journal-remote closes the
 * connection only some 50 ms after it answered: waiting for that made
 * each request that much slower), the connection closes, or the buffer
 * is full. */
static ssize_t read_answer(int fd, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = 0;
	while (n + 1 < size && !answer_complete(buf, n)) {
		ssize_t r = read(fd, buf + n, size - 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return n ? (ssize_t)n : (errno == EAGAIN ? -ETIMEDOUT : -errno);
		if (r == 0)
			break;
		n += (size_t)r;
		buf[n] = 0;
	}
	buf[n] = 0;
	return (ssize_t)n;
}

int up_post(const struct up_url *u, const char *body, size_t len, int timeout_ms, char *err, size_t errsize)
{
	char head[1400], ans[2048], *line, *msg;
	int fd = connect_url(u, timeout_ms, err, errsize), hl, wr, status;
	ssize_t n;

	if (fd < 0)
		return fd;
	hl = snprintf(head, sizeof(head),
		      "POST %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: uev-upload\r\n"
		      "Content-Type: application/vnd.fdo.journal\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		      u->path, strchr(u->host, ':') ? "[" : "", u->host, strchr(u->host, ':') ? "]" : "", u->port, len);
	wr = send_all(fd, head, (size_t)hl, len > 0);
	if (!wr)
		wr = send_all(fd, body, len, 0);
	/* A server that refuses may close before the body is in: its answer
	 * says why better than the broken pipe does. */
	n = read_answer(fd, ans, sizeof(ans));
	close(fd);
	if (n <= 0 || strncmp(ans, "HTTP/1.", 7) || strlen(ans) < 12) {
		int e = wr ? wr : n < 0 ? (int)n : -ECONNRESET;

		snprintf(err, errsize, "%s: %s: %s", u->text, wr ? "sending" : "no answer", strerror(-e));
		return e;
	}
	status = atoi(ans + 9);
	if (status >= 200 && status < 300 && !wr)
		return 0;
	if (status >= 200 && status < 300) { /* acknowledged what it got, not all */
		snprintf(err, errsize, "%s: sending: %s", u->text, strerror(-wr));
		return wr;
	}
	msg = strstr(ans, "\r\n\r\n");
	msg = msg ? msg + 4 : ans + n; /* the NUL at the end */
	msg[strcspn(msg, "\r\n")] = 0;
	line = ans;
	line[strcspn(line, "\r\n")] = 0;
	snprintf(err, errsize, "%s: the server answered \"%s\"%s%s", u->text, line, *msg ? ": " : "",
		 msg);
	return -EPROTO;
}
