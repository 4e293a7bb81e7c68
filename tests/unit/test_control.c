/* SPDX-License-Identifier: MIT */
/* The seat control protocol's grammar (libuev/shared/uev-control.c): every
 * verb and kind, the size and character boundaries, and reply round trips.
 * Messages are given by length, copied into an exact-size heap buffer so
 * that ASan catches any read past it. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "uev-control.h"

static struct uev_ctl_request req;
static char err[256];

/* Parse @n bytes of @msg from a heap copy of exactly @n bytes. */
static int parse_n(const char *msg, size_t n)
{
	char *copy = malloc(n ? n : 1);
	int r;

	memcpy(copy, msg, n);
	err[0] = '\0';
	r = uev_ctl_request_parse(copy, n, &req, err, sizeof(err));
	free(copy);
	return r;
}

static int parse(const char *msg)
{
	return parse_n(msg, strlen(msg));
}

/* Refused with -EINVAL and a message that contains @what. */
#define REFUSED(msg, what) do { \
		ck_assert_int_eq(parse(msg), -EINVAL); \
		ck_assert_msg(strstr(err, what), "'%s': message '%s' lacks '%s'", msg, err, what); \
	} while (0)

START_TEST(every_verb)
{
	ck_assert_int_eq(parse("status"), 0);
	ck_assert_int_eq(req.verb, UEV_CTL_STATUS);
	ck_assert_int_eq(parse("watch"), 0);
	ck_assert_int_eq(req.verb, UEV_CTL_WATCH);
	ck_assert_int_eq(parse("snapshot"), 0);
	ck_assert_int_eq(req.verb, UEV_CTL_SNAPSHOT);
	ck_assert_str_eq(req.arg, "");
	ck_assert_int_eq(parse("snapshot frame took 300 ms (output HDMI-A-1)"), 0);
	ck_assert_str_eq(req.arg, "frame took 300 ms (output HDMI-A-1)");
	ck_assert_uint_eq(req.arglen, 35);
	ck_assert_int_eq(parse("disable"), 0);
	ck_assert_int_eq(req.verb, UEV_CTL_DISABLE);
	ck_assert_int_eq(req.kind, UEV_CTL_KIND_NONE);
	ck_assert_int_eq(parse("status\n"), 0);      /* one newline tolerated */
	ck_assert_int_eq(parse("snapshot why\n"), 0);
	ck_assert_str_eq(req.arg, "why");
}
END_TEST

START_TEST(every_kind)
{
	ck_assert_int_eq(parse("enable dyndbg module i915 +p"), 0);
	ck_assert_int_eq(req.verb, UEV_CTL_ENABLE);
	ck_assert_int_eq(req.kind, UEV_CTL_KIND_DYNDBG);
	ck_assert_str_eq(req.arg, "module i915 +p");
	ck_assert_int_eq(parse("enable dyndbg file drivers/gpu/drm/* +pflmt"), 0);
	ck_assert_int_eq(parse("enable drm kms atomic"), 0);
	ck_assert_int_eq(req.kind, UEV_CTL_KIND_DRM);
	ck_assert_str_eq(req.arg, "kms atomic");
	ck_assert_int_eq(parse("disable drm kms,atomic,state"), 0);
	ck_assert_int_eq(req.verb, UEV_CTL_DISABLE);
	ck_assert_str_eq(req.arg, "kms,atomic,state");
	ck_assert_int_eq(parse("enable event drm:drm_vblank_event"), 0);
	ck_assert_int_eq(req.kind, UEV_CTL_KIND_EVENT);
	ck_assert_str_eq(req.arg, "drm:drm_vblank_event");
	ck_assert_int_eq(parse("disable event sched:sched_switch\n"), 0);
	ck_assert_str_eq(req.arg, "sched:sched_switch");
}
END_TEST

START_TEST(bad_verbs_and_kinds)
{
	REFUSED("", "empty");
	REFUSED("\n", "empty");
	REFUSED("stat", "unknown verb 'stat'");
	REFUSED("STATUS", "unknown verb");
	REFUSED("statusx", "unknown verb 'statusx'");
	REFUSED("frobnicate everything", "unknown verb 'frobnicate'");
	REFUSED("st\x01tus", "byte 2 is 0x01");
	REFUSED("status now", "takes no argument");
	REFUSED("watch ", "takes no argument");
	REFUSED("enable", "needs KIND SELECTION");
	REFUSED("enable kernel module x +p", "unknown kind 'kernel'");
	REFUSED("enable dyndbg", "no selection");
	REFUSED("disable drm", "no selection");
	REFUSED("enable dyndbg ", "empty selection");
	REFUSED("enable drm kms,,atomic", "empty category name");
	REFUSED("enable drm kms, atomic", "empty category name");
	REFUSED("enable drm kms;atomic", "byte 14 is ';'");
	REFUSED("enable drm ,kms", "empty category name");
	REFUSED("enable event sched", "no ':'");
	REFUSED("enable event sched:", "the form is system:event");
	REFUSED("enable event :x", "the form is system:event");
	REFUSED("enable event a:b:c", "byte 16 is ':'");
	REFUSED("enable event a/b:c", "byte 14 is '/'");
	REFUSED("enable dyndbg module x +p; module y +p", "no ';' or '#'");
	REFUSED("enable dyndbg module x +p #c", "no ';' or '#'");
}
END_TEST

START_TEST(spaces)
{
	REFUSED(" status", "extra space at byte 0");
	REFUSED("snapshot ", "empty reason");
	REFUSED("snapshot  why", "extra space at byte 9");
	REFUSED("snapshot why ", "extra space at byte 12");
	ck_assert_int_eq(parse("snapshot a  b"), 0);   /* inside a reason: free text */
	REFUSED("enable  dyndbg module x +p", "extra space at byte 7");
	REFUSED("enable dyndbg  module x +p", "extra space at byte 14");
	REFUSED("enable dyndbg module  x +p", "extra space at byte 21");
	REFUSED("enable dyndbg module x +p ", "extra space at byte 25");
	REFUSED("disable ", "extra space at byte 8");
	REFUSED("status\n\n", "unknown verb");
	REFUSED("snapshot why\r", "0x0d");
	REFUSED("snapshot why\n\n", "0x0a");
}
END_TEST

START_TEST(characters)
{
	char msg[64];

	REFUSED("snapshot caf\xc3\xa9", "reason byte 12 is 0xc3");
	REFUSED("snapshot tab\there", "0x09");
	REFUSED("snapshot \x7f", "0x7f");
	REFUSED("enable dyndbg module \x1b +p", "byte 21 is 0x1b");
	/* a NUL inside: the length says where the message ends, not the NUL */
	memcpy(msg, "snapshot a\0b", 12);
	ck_assert_int_eq(parse_n(msg, 12), -EINVAL);
	ck_assert_msg(strstr(err, "byte 10 is 0x00"), "%s", err);
	ck_assert_int_eq(parse_n("status\0", 7), -EINVAL);
	ck_assert_int_eq(parse_n("stat\0us", 7), -EINVAL);
	ck_assert_msg(strstr(err, "byte 4 is 0x00"), "%s", err);
	/* ...and nothing past it is read: "status" within a longer buffer */
	ck_assert_int_eq(parse_n("statusXYZ", 6), 0);
	ck_assert_int_eq(parse_n("snapshot abc", 10), 0);
	ck_assert_str_eq(req.arg, "a");
}
END_TEST

static char *filled(size_t n, const char *head)
{
	char *m = malloc(n + 1);

	memset(m, 'x', n);
	memcpy(m, head, strlen(head));
	m[n] = '\0';
	return m;
}

START_TEST(sizes)
{
	char *m;

	/* reason: 200 bytes yes, 201 no */
	m = filled(9 + 200, "snapshot ");
	ck_assert_int_eq(parse(m), 0);
	ck_assert_uint_eq(req.arglen, 200);
	free(m);
	m = filled(9 + 201, "snapshot ");
	REFUSED(m, "reason of 201 bytes, at most 200");
	free(m);
	/* the whole request: 1024 bytes yes, 1025 no (EMSGSIZE) */
	m = filled(1024, "enable dyndbg module ");
	ck_assert_int_eq(parse(m), 0);
	ck_assert_uint_eq(req.arglen, 1024 - 14);
	ck_assert_uint_eq(strlen(req.arg), 1024 - 14);
	free(m);
	m = filled(1025, "enable dyndbg module ");
	ck_assert_int_eq(parse(m), -EMSGSIZE);
	ck_assert_msg(strstr(err, "1025 bytes, at most 1024"), "%s", err);
	free(m);
	/* 1024 counts the tolerated newline too */
	m = filled(1024, "enable dyndbg module ");
	m[1023] = '\n';
	ck_assert_int_eq(parse(m), 0);
	ck_assert_uint_eq(req.arglen, 1023 - 14);
	free(m);
	/* a huge unknown verb is named, cut */
	m = filled(1000, "");
	REFUSED(m, "unknown verb 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'");
	free(m);
}
END_TEST

START_TEST(format_checks)
{
	char buf[UEV_CTL_MAX + 1], small[8];

	ck_assert_int_eq(uev_ctl_request_format(buf, sizeof(buf), UEV_CTL_SNAPSHOT, 0, "key F12",
						 err, sizeof(err)), 16);
	ck_assert_str_eq(buf, "snapshot key F12");
	ck_assert_int_eq(uev_ctl_request_format(buf, sizeof(buf), UEV_CTL_SNAPSHOT, 0, "", err,
						 sizeof(err)), 8);
	ck_assert_str_eq(buf, "snapshot");
	ck_assert_int_eq(uev_ctl_request_format(buf, sizeof(buf), UEV_CTL_SNAPSHOT, 0, NULL, err,
						 sizeof(err)), 8);
	ck_assert_int_eq(uev_ctl_request_format(buf, sizeof(buf), UEV_CTL_ENABLE, UEV_CTL_KIND_DRM,
						 "kms", err, sizeof(err)), 14);
	ck_assert_str_eq(buf, "enable drm kms");
	ck_assert_int_eq(uev_ctl_request_format(buf, sizeof(buf), UEV_CTL_DISABLE, 0, NULL, err,
						 sizeof(err)), 7);
	/* refused locally as the server would */
	ck_assert_int_eq(uev_ctl_request_format(buf, sizeof(buf), UEV_CTL_SNAPSHOT, 0, "bad\x01",
						 err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(uev_ctl_request_format(buf, sizeof(buf), UEV_CTL_STATUS, 0, "x", err,
						 sizeof(err)), -EINVAL);
	ck_assert_int_eq(uev_ctl_request_format(buf, sizeof(buf), UEV_CTL_ENABLE, UEV_CTL_KIND_EVENT,
						 "sched:x\n", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(uev_ctl_request_format(buf, sizeof(buf), UEV_CTL_ENABLE, 0, "x", err,
						 sizeof(err)), -EINVAL);
	ck_assert_int_eq(uev_ctl_request_format(buf, sizeof(buf), 99, 0, NULL, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(uev_ctl_request_format(small, sizeof(small), UEV_CTL_STATUS, 0, NULL, err,
						 sizeof(err)), 6);
	ck_assert_int_eq(uev_ctl_request_format(small, sizeof(small), UEV_CTL_WATCH, 0, NULL, err,
						 sizeof(err)), 5);
	ck_assert_int_eq(uev_ctl_request_format(small, sizeof(small), UEV_CTL_SNAPSHOT, 0, "x", err,
						 sizeof(err)), -ENOBUFS);
	{
		char *big = filled(1100, "");
		char *out = malloc(2048);

		ck_assert_int_eq(uev_ctl_request_format(out, 2048, UEV_CTL_ENABLE, UEV_CTL_KIND_DYNDBG,
							 big, err, sizeof(err)), -EMSGSIZE);
		ck_assert_int_eq(uev_ctl_request_format(buf, sizeof(buf), UEV_CTL_ENABLE,
							 UEV_CTL_KIND_DYNDBG, big, err, sizeof(err)),
				 -EMSGSIZE);
		free(big);
		free(out);
	}
}
END_TEST

static struct uev_ctl_reply rep;

static int rparse(const char *msg)
{
	size_t n = strlen(msg);
	char *copy = malloc(n ? n : 1);
	int r;

	memcpy(copy, msg, n);
	r = uev_ctl_reply_parse(copy, n, &rep);
	free(copy);
	return r;
}

START_TEST(replies)
{
	char buf[UEV_CTL_REPLY_MAX + 1], name[64];
	unsigned long long bytes;

	ck_assert_int_eq(rparse("ok"), 0);
	ck_assert_int_eq(rep.type, UEV_CTL_REPLY_OK);
	ck_assert_str_eq(rep.text, "");
	ck_assert_int_eq(rparse("ok seat0-20261202-073349-1.ring 1048576"), 0);
	ck_assert_int_eq(uev_ctl_snapshot_parse(rep.text, name, sizeof(name), &bytes), 0);
	ck_assert_str_eq(name, "seat0-20261202-073349-1.ring");
	ck_assert_uint_eq(bytes, 1048576);
	ck_assert_int_eq(rparse("ok protocol 1\nseat seat0\nring_bytes 67108864"), 0);
	ck_assert_str_eq(rep.text, "protocol 1\nseat seat0\nring_bytes 67108864");
	ck_assert_int_eq(rparse("error EPERM: uid 1000 may not snapshot seat0"), 0);
	ck_assert_int_eq(rep.type, UEV_CTL_REPLY_ERROR);
	ck_assert_int_eq(rep.error, -EPERM);
	ck_assert_str_eq(rep.text, "uid 1000 may not snapshot seat0");
	ck_assert_int_eq(rparse("error EOPNOTSUPP: x"), 0);
	ck_assert_int_eq(rep.error, -EOPNOTSUPP);
	ck_assert_int_eq(rparse("error EFUTURE: a name this side lacks"), 0);
	ck_assert_int_eq(rep.error, -EIO);
	ck_assert_int_eq(rparse("incident seat0-1.ring kernel WARNING"), 0);
	ck_assert_int_eq(rep.type, UEV_CTL_REPLY_INCIDENT);
	ck_assert_str_eq(rep.text, "seat0-1.ring kernel WARNING");
	/* broken ones */
	ck_assert_int_eq(rparse(""), -EPROTO);
	ck_assert_int_eq(rparse("okay"), -EPROTO);
	ck_assert_int_eq(rparse("OK"), -EPROTO);
	ck_assert_int_eq(rparse("error EPERM"), -EPROTO);
	ck_assert_int_eq(rparse("error EPERM:x"), -EPROTO);
	ck_assert_int_eq(rparse("error eperm: x"), -EPROTO);
	ck_assert_int_eq(rparse("error : x"), -EPROTO);
	ck_assert_int_eq(rparse("incident "), -EPROTO);
	ck_assert_int_eq(rparse("ok caf\xc3\xa9"), -EPROTO);
	ck_assert_int_eq(uev_ctl_reply_parse("ok a\0b", 6, &rep), -EPROTO);
	ck_assert_int_eq(uev_ctl_snapshot_parse("x.ring", name, sizeof(name), &bytes), -EPROTO);
	ck_assert_int_eq(uev_ctl_snapshot_parse("../x 12", name, sizeof(name), &bytes), -EPROTO);
	ck_assert_int_eq(uev_ctl_snapshot_parse(".. 12", name, sizeof(name), &bytes), -EPROTO);
	ck_assert_int_eq(uev_ctl_snapshot_parse("x -12", name, sizeof(name), &bytes), -EPROTO);
	ck_assert_int_eq(uev_ctl_snapshot_parse("x 12 more", name, sizeof(name), &bytes), -EPROTO);
	ck_assert_int_eq(uev_ctl_snapshot_parse("x 99999999999999999999999", name, sizeof(name),
						&bytes), -EPROTO);
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "ok ", 3);
	ck_assert_int_eq(uev_ctl_reply_parse(buf, UEV_CTL_REPLY_MAX, &rep), 0);
	ck_assert_uint_eq(rep.textlen, UEV_CTL_REPLY_MAX - 3);
	ck_assert_int_eq(uev_ctl_reply_parse(buf, UEV_CTL_REPLY_MAX + 1, &rep), -EMSGSIZE);
}
END_TEST

START_TEST(reply_round_trips)
{
	char buf[UEV_CTL_REPLY_MAX + 1];
	static const int errs[] = { EPERM, EINVAL, EMSGSIZE, ENOENT, EBUSY, EAGAIN, ENOSPC, EIO,
				    ENOTSUP, EACCES, ETIMEDOUT, ENOMEM };
	char *long_text;
	int n;

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		n = uev_ctl_reply_format_error(buf, sizeof(buf), -errs[i], "refused: %s %d", "why", 7);
		ck_assert_int_eq(uev_ctl_reply_parse(buf, (size_t)n, &rep), 0);
		ck_assert_int_eq(rep.type, UEV_CTL_REPLY_ERROR);
		ck_assert_int_eq(rep.error, -errs[i]);
		ck_assert_str_eq(rep.text, "refused: why 7");
		ck_assert_int_eq(uev_ctl_errno_parse(uev_ctl_errno_name(errs[i]),
						     strlen(uev_ctl_errno_name(errs[i]))), errs[i]);
	}
	/* positive errno too; unknown numbers go out as EIO */
	n = uev_ctl_reply_format_error(buf, sizeof(buf), EPERM, "x");
	ck_assert_str_eq(buf, "error EPERM: x");
	n = uev_ctl_reply_format_error(buf, sizeof(buf), -4095, "x");
	ck_assert_str_eq(buf, "error EIO: x");
	/* bytes a reply may not hold become '?'; an error message is one line */
	n = uev_ctl_reply_format_error(buf, sizeof(buf), -EINVAL, "a\nb\x01");
	ck_assert_str_eq(buf, "error EINVAL: a?b?");
	n = uev_ctl_reply_format_ok(buf, sizeof(buf), "protocol 1\nseat s\x80");
	ck_assert_str_eq(buf, "ok protocol 1\nseat s?");
	ck_assert_int_eq(uev_ctl_reply_parse(buf, (size_t)n, &rep), 0);
	ck_assert_str_eq(rep.text, "protocol 1\nseat s?");
	n = uev_ctl_reply_format_ok(buf, sizeof(buf), NULL);
	ck_assert_str_eq(buf, "ok");
	n = uev_ctl_incident_format(buf, sizeof(buf), "seat0-3.ring", "printk: WARNING");
	ck_assert_int_eq(uev_ctl_reply_parse(buf, (size_t)n, &rep), 0);
	ck_assert_int_eq(rep.type, UEV_CTL_REPLY_INCIDENT);
	ck_assert_str_eq(rep.text, "seat0-3.ring printk: WARNING");
	/* never more than UEV_CTL_REPLY_MAX, whatever the buffer */
	long_text = filled(10000, "");
	{
		char *big = malloc(20000);

		n = uev_ctl_reply_format_ok(big, 20000, long_text);
		ck_assert_int_eq(n, UEV_CTL_REPLY_MAX);
		ck_assert_int_eq(uev_ctl_reply_parse(big, (size_t)n, &rep), 0);
		free(big);
	}
	n = uev_ctl_reply_format_ok(buf, 5, long_text);
	ck_assert_int_eq(n, 4);
	ck_assert_str_eq(buf, "ok x");
	free(long_text);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(uev_ctl_verb_name(UEV_CTL_SNAPSHOT), "snapshot");
	ck_assert_ptr_null(uev_ctl_verb_name(0));
	ck_assert_ptr_null(uev_ctl_verb_name(42));
	ck_assert_int_eq(uev_ctl_kind_parse("drm"), UEV_CTL_KIND_DRM);
	ck_assert_int_eq(uev_ctl_kind_parse("DRM"), UEV_CTL_KIND_NONE);
	ck_assert_int_eq(uev_ctl_kind_parse(NULL), UEV_CTL_KIND_NONE);
	ck_assert_int_eq(uev_ctl_errno_parse("EPERMX", 6), 0);
	ck_assert_int_eq(uev_ctl_errno_parse("EPERMX", 5), EPERM);
	ck_assert_ptr_null(uev_ctl_errno_name(0));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("control");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, every_verb);
	tcase_add_test(tc, every_kind);
	tcase_add_test(tc, bad_verbs_and_kinds);
	tcase_add_test(tc, spaces);
	tcase_add_test(tc, characters);
	tcase_add_test(tc, sizes);
	tcase_add_test(tc, format_checks);
	tcase_add_test(tc, replies);
	tcase_add_test(tc, reply_round_trips);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
