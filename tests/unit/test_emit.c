/* SPDX-License-Identifier: MIT */
/* The public emit path without a kernel: the OFF backend, provider options,
 * registration errors, and the user_events write path against a pipe. The
 * marker backend has its own program (test_emit_marker.c). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uev-internal.h"
#include "unit-decode.h"

#define NOWHERE "/nonexistent/uev-unit"

static struct uev_provider *open_off(void)
{
	struct uev_provider_options o = { .tracefs = NOWHERE, .run_dir = NOWHERE };
	struct uev_provider *p;

	setenv("UEV_BACKEND", "off", 1);
	ck_assert_int_eq(uev_provider_open(&p, &o), 0);
	ck_assert_int_eq(uev_provider_backend(p), UEV_BACKEND_OFF);
	return p;
}

static void expect_empty(int fd)
{
	char c;

	ck_assert_msg(read(fd, &c, 1) < 0 && errno == EAGAIN, "unexpected data");
}

START_TEST(t_off_env)
{
	static struct uev_event ev = UEV_EVENT_INIT("off_ev", "u32 a; __rel_loc char[] s");
	struct uev_provider *p = open_off(), *q;

	ck_assert_ptr_nonnull(strstr(uev_provider_status(p), "off"));
	ck_assert_int_eq(uev_event_register(p, &ev), 0);
	ck_assert(!uev_enabled(&ev));
	ck_assert_int_eq(uev_emit(&ev, 1u, "x"), 0);
	ck_assert_int_eq((uev_emit)(&ev, 1u, "x"), 0);
	uev_provider_close(p);
	/* NULL options and the real tracefs: still off, nothing registered */
	ck_assert_int_eq(uev_provider_open(&q, NULL), 0);
	ck_assert_int_eq(uev_provider_backend(q), UEV_BACKEND_OFF);
	ck_assert_ptr_nonnull(strstr(uev_provider_status(q), "off"));
	uev_provider_close(q);
	ck_assert_str_eq(uev_backend_name(UEV_BACKEND_OFF), "off");
	ck_assert_str_eq(uev_backend_name(UEV_BACKEND_MARKER), "marker");
	ck_assert_str_eq(uev_backend_name(UEV_BACKEND_USER_EVENTS), "user_events");
	ck_assert_str_eq(uev_backend_name(UEV_BACKEND_AUTO), "auto");
	ck_assert_int_eq(uev_provider_backend(NULL), UEV_BACKEND_OFF);
	ck_assert_ptr_nonnull(strstr(uev_provider_status(NULL), "off"));
}
END_TEST

/* Asking for OFF through the options must give OFF, with no help from the
 * environment (the tracefs path would make "auto" pick the marker). */
START_TEST(t_off_options)
{
	struct uev_provider_options o = { .backend = UEV_BACKEND_OFF, .tracefs = NOWHERE,
					  .run_dir = NOWHERE };
	struct uev_provider *p;

	unsetenv("UEV_BACKEND");
	ck_assert_int_eq(uev_provider_open(&p, &o), 0);
	ck_assert_msg(uev_provider_backend(p) == UEV_BACKEND_OFF,
		      "options.backend = UEV_BACKEND_OFF gave '%s'", uev_provider_status(p));
	uev_provider_close(p);
}
END_TEST

/* enum uev_backend: "UEV_BACKEND_AUTO ... options only: choose, $UEV_BACKEND overrides" */
START_TEST(t_auto_env_override)
{
	struct uev_provider_options o = { .backend = UEV_BACKEND_AUTO, .tracefs = NOWHERE,
					  .run_dir = NOWHERE };
	struct uev_provider *p;

	setenv("UEV_BACKEND", "off", 1);
	ck_assert_int_eq(uev_provider_open(&p, &o), 0);
	ck_assert_msg(uev_provider_backend(p) == UEV_BACKEND_OFF,
		      "UEV_BACKEND=off with options AUTO gave '%s'", uev_provider_status(p));
	uev_provider_close(p);
}
END_TEST

START_TEST(t_bad_options)
{
	static const char *const bad[] = { "a/b", "..", "a b", "seat.0", "s\xc3\xa9", "seat:0",
		"0123456789012345678901234567890123456789012345678901234567890123" };
	struct uev_provider_options o = { .tracefs = NOWHERE, .run_dir = NOWHERE };
	struct uev_provider *p = (struct uev_provider *)&o;

	setenv("UEV_BACKEND", "bogus", 1);
	ck_assert_int_eq(uev_provider_open(&p, NULL), -EINVAL);
	ck_assert_ptr_null(p);
	setenv("UEV_BACKEND", "off", 1);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.seat = bad[i];
		p = (struct uev_provider *)&o;
		ck_assert_msg(uev_provider_open(&p, &o) == -EINVAL, "seat '%s' accepted", bad[i]);
		ck_assert_ptr_null(p);
	}
	o.seat = NULL;
	setenv("XDG_SEAT", "bad/seat", 1);
	ck_assert_int_eq(uev_provider_open(&p, &o), -EINVAL);
	o.seat = bad[6] + 1; /* 63 bytes: fits */
	ck_assert_int_eq(uev_provider_open(&p, &o), 0);
	ck_assert_str_eq(uev_provider_seat(p), bad[6] + 1);
	uev_provider_close(p);
	o.seat = NULL;
	unsetenv("XDG_SEAT");
	o.backend = 7;
	ck_assert_int_eq(uev_provider_open(&p, &o), -EINVAL);
	ck_assert_int_eq(uev_provider_open(NULL, &o), -EINVAL);
}
END_TEST

START_TEST(t_seat_choice)
{
	struct uev_provider_options o = { .tracefs = NOWHERE, .run_dir = NOWHERE };
	struct uev_provider *p;

	setenv("UEV_BACKEND", "off", 1);
	setenv("XDG_SEAT", "seat7", 1);
	ck_assert_int_eq(uev_provider_open(&p, &o), 0);
	ck_assert_str_eq(uev_provider_seat(p), "seat7");
	uev_provider_close(p);
	o.seat = "seat-x_9";
	ck_assert_int_eq(uev_provider_open(&p, &o), 0);
	ck_assert_str_eq(uev_provider_seat(p), "seat-x_9");
	uev_provider_close(p);
	o.seat = NULL;
	unsetenv("XDG_SEAT");
	ck_assert_int_eq(uev_provider_open(&p, &o), 0);
	ck_assert_str_eq(uev_provider_seat(p), "seat0");
	uev_provider_close(p);
}
END_TEST

START_TEST(t_event_error)
{
	static struct uev_event bad = UEV_EVENT_INIT("bad_ev", "u32 a; u128 b");
	static struct uev_event big = UEV_EVENT_INIT("big_ev", "char[1024] a; char[1024] b; char[1024] c; char[1024] d");
	static struct uev_event good = UEV_EVENT_INIT("good_ev", "u32 a");
	struct uev_provider *p = open_off();
	char msg[256];

	ck_assert_int_eq(uev_event_register(p, &bad), -EINVAL);
	ck_assert(!uev_enabled(&bad));
	ck_assert_int_eq(uev_event_error(&bad, msg, sizeof(msg)), -EINVAL);
	ck_assert_msg(strstr(msg, "bad_ev") && strstr(msg, "field 2") && strstr(msg, "u128"), "%s", msg);
	ck_assert_int_eq(uev_event_error(&bad, NULL, 0), -EINVAL);
	memset(msg, 'z', sizeof(msg));
	ck_assert_int_eq(uev_event_error(&bad, msg, 5), -EINVAL);
	ck_assert_uint_le(strlen(msg), 4);
	ck_assert_int_eq(uev_event_register(p, &big), -E2BIG);
	ck_assert_int_eq(uev_event_error(&big, msg, sizeof(msg)), -E2BIG);
	ck_assert_ptr_nonnull(strstr(msg, "big_ev"));
	ck_assert_int_eq(uev_event_error(&good, msg, sizeof(msg)), 0);
	/* What the kernel answers for a name registered with other fields
	 * (white-box: the real refusal is proven in the qemu kernel). */
	good._p.error = -EADDRINUSE;
	ck_assert_int_eq(uev_event_error(&good, msg, sizeof(msg)), -EADDRINUSE);
	ck_assert_msg(strstr(msg, "good_ev") && strstr(msg, "other fields"), "%s", msg);
	good._p.error = 0;
	ck_assert_int_eq(uev_event_register(NULL, &good), -EINVAL);
	ck_assert_int_eq(uev_event_register(p, NULL), -EINVAL);
	ck_assert_int_lt(uev_event_error(NULL, msg, sizeof(msg)), 0);
	uev_event_unregister(NULL);
	uev_event_unregister(&good); /* not registered: harmless */
	uev_provider_close(p);
}
END_TEST

/* The user_events write path, with a hand-built provider writing into a pipe. */
START_TEST(t_user_events_write)
{
	static const struct ufield f[] = { { UK_U, 2 }, { UK_REL, 4 }, { UK_CHAR, 6 }, { UK_S, 4 } };
	static struct uev_event ev = UEV_EVENT_INIT("ue_ev", "u16 a; __rel_loc char[] s; char[6] c; s32 d");
	struct uev_provider *off = open_off(), *up = calloc(1, sizeof(*up));
	uint8_t buf[2 * UEV_MARKER_MAX];
	struct uval v[4];
	char *big = malloc(2 * UEV_PAYLOAD_MAX);
	uint32_t idx;
	size_t end;
	int pfd[2];

	ck_assert_ptr_nonnull(up);
	ck_assert_ptr_nonnull(big);
	memset(big, 'b', 2 * UEV_PAYLOAD_MAX - 1);
	big[2 * UEV_PAYLOAD_MAX - 1] = 0;
	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(fcntl(pfd[0], F_SETFL, O_NONBLOCK), 0);
	up->backend = UEV_BACKEND_USER_EVENTS;
	up->data_fd = pfd[1];
	up->marker_fd = -1;
	ck_assert_int_eq(uev_event_register(off, &ev), 0);
	ck_assert_uint_eq(ev._p.nfields, 4);
	ck_assert_uint_eq(ev._p.fixed_size, 16);
	ev._p.provider = up;
	ev._p.prefix = 7;
	ev._enabled = 1;

	ck_assert_int_eq(uev_emit(&ev, 513, "str", "abcdefgh", -77), UEV_EMIT_WRITTEN | UEV_EMIT_TRUNCATED);
	ck_assert_int_eq(read(pfd[0], buf, sizeof(buf)), 4 + 16 + 4);
	expect_empty(pfd[0]);
	memcpy(&idx, buf, 4);
	ck_assert_uint_eq(idx, 7);
	ck_assert_ptr_null(udecode(buf + 4, 20, f, 4, v, &end));
	ck_assert_uint_eq(end, 20);
	ck_assert_uint_eq(v[0].u, 513);
	ck_assert_uint_eq(v[1].slen, 3);
	ck_assert(memcmp(v[1].str, "str", 3) == 0);
	ck_assert_uint_eq(v[2].slen, 2 + 3); /* char[6]: 6 - NUL - "…" = 2 kept */
	ck_assert(memcmp(v[2].str, "ab" U_ELLIPSIS, 5) == 0);
	ck_assert_int_eq(v[3].s, -77);

	ck_assert_int_eq((uev_emit)(&ev, 1, (const char *)NULL, "abc", 2), UEV_EMIT_WRITTEN);
	ck_assert_int_eq(read(pfd[0], buf, sizeof(buf)), 4 + 16 + 1);
	ck_assert_ptr_null(udecode(buf + 4, 17, f, 4, v, &end));
	ck_assert_uint_eq(v[1].slen, 0);

	ck_assert_int_eq((uev_emit)(&ev, 1, big, "", 3), UEV_EMIT_WRITTEN | UEV_EMIT_TRUNCATED);
	ck_assert_int_eq(read(pfd[0], buf, sizeof(buf)), 4 + UEV_PAYLOAD_MAX);
	ck_assert_ptr_null(udecode(buf + 4, UEV_PAYLOAD_MAX, f, 4, v, &end));
	ck_assert(memcmp(v[1].str + v[1].slen - 3, U_ELLIPSIS, 3) == 0);
	ck_assert_int_eq(v[3].s, 3);

	/* bit 0 of the kernel word is the switch */
	ev._enabled = 0;
	ck_assert_int_eq(uev_emit(&ev, 1, "x", "y", 1), 0);
	ck_assert_int_eq((uev_emit)(&ev, 1, "x", "y", 1), 0);
	ev._enabled = 2;
	ck_assert_int_eq((uev_emit)(&ev, 1, "x", "y", 1), 0);
	expect_empty(pfd[0]);

	/* a failing write: negative result, errno untouched */
	ev._enabled = 1;
	close(pfd[0]);
	signal(SIGPIPE, SIG_IGN);
	errno = 1234;
	ck_assert_int_eq((uev_emit)(&ev, 1, "x", "y", 1), -EPIPE);
	ck_assert_int_eq(errno, 1234);

	ev._p.provider = NULL;
	ev._enabled = 0;
	close(pfd[1]);
	free(up);
	free(big);
	uev_provider_close(off);
}
END_TEST

/* An event without fields: the record is the write_index alone. */
START_TEST(t_user_events_nofields)
{
	static struct uev_event ev = UEV_EVENT_INIT("tick", NULL);
	struct uev_provider *off = open_off(), *up = calloc(1, sizeof(*up));
	uint8_t buf[64];
	uint32_t idx;
	int pfd[2];

	ck_assert_ptr_nonnull(up);
	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(fcntl(pfd[0], F_SETFL, O_NONBLOCK), 0);
	up->backend = UEV_BACKEND_USER_EVENTS;
	up->data_fd = pfd[1];
	ck_assert_int_eq(uev_event_register(off, &ev), 0);
	ck_assert_uint_eq(ev._p.nfields, 0);
	ck_assert_uint_eq(ev._p.fixed_size, 0);
	ev._p.provider = up;
	ev._p.prefix = 0x01020304;
	ev._enabled = 1;
	ck_assert_int_eq(uev_emit(&ev), UEV_EMIT_WRITTEN);
	ck_assert_int_eq(read(pfd[0], buf, sizeof(buf)), 4);
	memcpy(&idx, buf, 4);
	ck_assert_uint_eq(idx, 0x01020304);
	expect_empty(pfd[0]);
	ev._p.provider = NULL;
	ev._enabled = 0;
	close(pfd[0]);
	close(pfd[1]);
	free(up);
	uev_provider_close(off);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("uev-emit");
	TCase *off = tcase_create("off"), *ue = tcase_create("user_events");
	SRunner *sr;
	int failed;

	tcase_add_test(off, t_off_env);
	tcase_add_test(off, t_off_options);
	tcase_add_test(off, t_auto_env_override);
	tcase_add_test(off, t_bad_options);
	tcase_add_test(off, t_seat_choice);
	tcase_add_test(off, t_event_error);
	tcase_add_test(ue, t_user_events_write);
	tcase_add_test(ue, t_user_events_nofields);
	suite_add_tcase(s, off);
	suite_add_tcase(s, ue);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
