/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the seat control protocol's parsers
 * (libuev/shared/uev-control.c), which uev-aggregator runs on whatever a
 * local client sends and libuev runs on whatever the server answers.
 *
 * Input: byte 0 picks the parser (even: request, odd: reply), the rest is
 * one message, copied to a buffer of exactly its size (ASan sees any read
 * past it; the parsers get a length, no NUL). Beyond "no crash", it checks
 * what the parsers promise:
 *  - a request that parses is formatted back by uev_ctl_request_format()
 *    into the same bytes (less a tolerated trailing newline), and an
 *    argument holds only printable ASCII;
 *  - a refused request has a message;
 *  - a reply that parses comes back the same through the server's
 *    formatters (ok, incident: byte for byte; error: same errno and text).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uev-control.h"

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_control: %s\n", what);
		abort();
	}
}

static void request(const char *msg, size_t len)
{
	static struct uev_ctl_request req;
	static char buf[UEV_CTL_MAX + 1], err[256];
	size_t want = len;
	int r;

	err[0] = '\0';
	r = uev_ctl_request_parse(msg, len, &req, err, sizeof(err));
	if (r < 0) {
		check(r == -EINVAL || r == -EMSGSIZE, "request refused with another errno");
		check(err[0] != '\0', "request refused without a message");
		return;
	}
	check(req.arglen == strlen(req.arg), "argument length");
	for (size_t i = 0; i < req.arglen; i++)
		check(req.arg[i] >= 0x20 && req.arg[i] <= 0x7e, "argument byte not printable");
	r = uev_ctl_request_format(buf, sizeof(buf), req.verb, req.kind, req.arg, err, sizeof(err));
	check(r >= 0, "a parsed request does not format");
	if (len && msg[len - 1] == '\n')
		want--;
	check((size_t)r == want && !memcmp(buf, msg, want), "request round trip differs");
}

static void reply(const char *msg, size_t len)
{
	static struct uev_ctl_reply rep, back;
	static char buf[UEV_CTL_REPLY_MAX + 1];
	int r = uev_ctl_reply_parse(msg, len, &rep), n;

	if (r < 0) {
		check(r == -EPROTO || r == -EMSGSIZE, "reply refused with another errno");
		return;
	}
	check(rep.textlen == strlen(rep.text) && rep.textlen < len, "reply text length");
	switch (rep.type) {
	case UEV_CTL_REPLY_OK:
		n = uev_ctl_reply_format_ok(buf, sizeof(buf), rep.text);
		/* "ok " with an empty text formats as "ok" */
		check((size_t)n == len - (len == 3) && !memcmp(buf, msg, (size_t)n), "ok round trip");
		break;
	case UEV_CTL_REPLY_INCIDENT: {
		char *sp = strchr(rep.text, ' ');

		if (!sp || memchr(rep.text, '\n', rep.textlen) || memchr(rep.text, '\t', rep.textlen))
			break;  /* not one the server's formatter writes */
		*sp = '\0';
		n = uev_ctl_incident_format(buf, sizeof(buf), rep.text, sp + 1);
		check((size_t)n == len && !memcmp(buf, msg, len), "incident round trip");
		break;
	}
	case UEV_CTL_REPLY_ERROR:
		check(rep.error < 0, "error reply without an errno");
		n = uev_ctl_reply_format_error(buf, sizeof(buf), rep.error, "%s", rep.text);
		check(uev_ctl_reply_parse(buf, (size_t)n, &back) == 0, "formatted error does not parse");
		check(back.error == rep.error, "error round trip errno");
		if (rep.textlen && !memchr(rep.text, '\n', rep.textlen) && !memchr(rep.text, '\t', rep.textlen))
			check(!strcmp(back.text, rep.text), "error round trip text");
		break;
	default:
		check(0, "reply of no type");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *msg;

	if (size == 0)
		return 0;
	msg = malloc(size - 1 ? size - 1 : 1);
	if (!msg)
		return 0;
	memcpy(msg, data + 1, size - 1);
	if (data[0] & 1)
		reply(msg, size - 1);
	else
		request(msg, size - 1);
	free(msg);
	return 0;
}
