/* SPDX-License-Identifier: MIT */
/* The fixture and helpers shared by the seat configuration tests
 * (test_config*.c, one Check test case "config"). */
#ifndef UEV_CONFIG_TEST_H
#define UEV_CONFIG_TEST_H

#include <limits.h>
#include <stddef.h>

#include <check.h>

#include "config.h"

/* The configuration under test: ct_setup() sets the defaults for seat0. */
extern struct uev_config cfg;
/* The error text of the last parse. */
extern char errs[16384];
/* realpath of a fresh directory per test, holding a.uev and b.uev. */
extern char tmpdir[PATH_MAX];

/* Checked fixture: the directory and the default configuration; removes both. */
void ct_setup(void);
void ct_teardown(void);
/* Writes @content to tmpdir/@name. */
void mkfile(const char *name, const char *content);
/* tmpdir + "/" + name, in one of four static buffers used in turn. */
char *path_in(const char *name);
/* Parses @text as "t.conf" over cfg into errs; returns what the parser did. */
int P(const char *text);
/* Parses and asserts success and no message. */
int P_ok(const char *text);
/* Parses and asserts exactly one error, starting with @prefix and containing @part. */
void P_err(const char *text, const char *prefix, const char *part);
/* Lines in @s (the last one need not end in a newline). */
unsigned nlines(const char *s);
/* Asserts every field of @a equals @b. */
void assert_cfg_eq(const struct uev_config *a, const struct uev_config *b);
/* uev_config_write(cfg) parsed on top of a fresh default equals cfg. */
void assert_round_trip(void);

/* Add each file's tests to the test case, in file order. */
void config_add_value_tests(TCase *tc);
void config_add_syntax_tests(TCase *tc);
void config_add_list_tests(TCase *tc);

#endif
