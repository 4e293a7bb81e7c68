/* SPDX-License-Identifier: MIT */
/* Unit tests of the definition parser (uev-def.c). Expected canonical texts
 * and error positions are derived from the grammar, not from the parser. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uev-def.h"

static struct uev_def def;
static struct uev_def_error err;

/* Byte offset of the @nth (0-based) occurrence of @tok in @s. */
static size_t pos_of(const char *s, const char *tok, int nth)
{
	const char *p = s;

	for (;;) {
		p = strstr(p, tok);
		ck_assert_ptr_nonnull(p);
		if (nth-- == 0)
			return (size_t)(p - s);
		p++;
	}
}

static void parse_ok(const char *name, const char *fields, const char *canonical)
{
	int r = uev_def_parse(name, fields, &def, &err);

	ck_assert_msg(r == 0, "'%s' '%s': %d (%s)", name, fields ? fields : "(null)", r, err.msg);
	ck_assert_str_eq(def.canonical, canonical);
}

static void parse_err(const char *name, const char *fields, int e, unsigned field, size_t pos)
{
	int r = uev_def_parse(name, fields, &def, &err);

	ck_assert_msg(r == e, "'%s' '%s': got %d want %d (%s)", name ? name : "(null)",
		      fields ? fields : "(null)", r, e, err.msg);
	ck_assert_int_eq(err.err, e);
	ck_assert_msg(err.field == field, "'%s': field %u, want %u (%s)", fields ? fields : "",
		      err.field, field, err.msg);
	ck_assert_msg(err.pos == pos, "'%s': pos %zu, want %zu (%s)", fields ? fields : "",
		      err.pos, pos, err.msg);
	ck_assert_msg(err.msg[0] != 0, "no error message");
}

START_TEST(t_canonical)
{
	parse_ok("ev", "  u32   a ;u64 b;  __rel_loc   char[]  s ; ", "ev u32 a; u64 b; __rel_loc char[] s");
	parse_ok("ev", NULL, "ev");
	parse_ok("ev", "", "ev");
	parse_ok("ev", "   \t ", "ev");
	parse_ok("ev", "u8 a;", "ev u8 a");
	parse_ok("ev", "\tchar[16]\n name\r", "ev char[16] name");
	parse_ok("ev", "char[16] t; char[1] o; char[1024] k", "ev char[16] t; char[1] o; char[1024] k");
	parse_ok("_E9", "u8 _x9", "_E9 u8 _x9");
}
END_TEST

static const struct {
	const char *name;
	unsigned size;
	uint8_t type;
} types[] = {
	{ "u8", 1, UEV_T_U8 },   { "u16", 2, UEV_T_U16 }, { "u32", 4, UEV_T_U32 },
	{ "u64", 8, UEV_T_U64 }, { "s8", 1, UEV_T_S8 },   { "s16", 2, UEV_T_S16 },
	{ "s32", 4, UEV_T_S32 }, { "s64", 8, UEV_T_S64 },
};

START_TEST(t_int_types)
{
	char fields[64], canon[64];
	char all[256] = "", allc[256] = "ev";
	size_t sum = 0;

	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(fields, sizeof(fields), "%s v", types[i].name);
		snprintf(canon, sizeof(canon), "ev %s v", types[i].name);
		parse_ok("ev", fields, canon);
		ck_assert_uint_eq(def.nfields, 1);
		ck_assert_uint_eq(def.nstrings, 0);
		ck_assert_uint_eq(def.fixed_size, types[i].size);
		ck_assert_uint_eq(def.field[0].type, types[i].type);
		ck_assert_uint_eq(def.field[0].size, types[i].size);
		ck_assert_str_eq(def.field[0].name, "v");
		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s %s f%u", i ? ";" : "",
			 types[i].name, i);
		snprintf(allc + strlen(allc), sizeof(allc) - strlen(allc), "%s%s f%u", i ? "; " : " ",
			 types[i].name, i);
		sum += types[i].size;
	}
	parse_ok("ev", all, allc);
	ck_assert_uint_eq(def.nfields, 8);
	ck_assert_uint_eq(def.fixed_size, sum);
}
END_TEST

START_TEST(t_sizes)
{
	static const unsigned size[] = { 1, 2, 4, 8, 1, 2, 4, 8, 16, 4, 4 };
	unsigned total = 0;

	parse_ok("ev", "u8 a; u16 b; u32 c; u64 d; s8 e; s16 f; s32 g; s64 h; char[16] i; "
		 "__rel_loc char[] j; __rel_loc char[] k", "ev u8 a; u16 b; u32 c; u64 d; s8 e; "
		 "s16 f; s32 g; s64 h; char[16] i; __rel_loc char[] j; __rel_loc char[] k");
	ck_assert_uint_eq(def.nfields, 11);
	ck_assert_uint_eq(def.nstrings, 2);
	for (unsigned i = 0; i < 11; i++) {
		char name[2] = { (char)('a' + i), 0 };

		ck_assert_uint_eq(def.field[i].size, size[i]);
		ck_assert_str_eq(def.field[i].name, name);
		total += size[i];
	}
	ck_assert_uint_eq(def.field[8].type, UEV_T_CHAR_ARRAY);
	ck_assert_uint_eq(def.field[9].type, UEV_T_REL_LOC);
	ck_assert_uint_eq(def.field[10].type, UEV_T_REL_LOC);
	ck_assert_uint_eq(def.fixed_size, total);
	ck_assert_uint_eq(total, 54);
}
END_TEST

START_TEST(t_parse_field)
{
	struct uev_def_field f;
	const char *s = "u32 seqXXX";

	ck_assert_int_eq(uev_def_parse_field(s, 7, &f, &err), 0); /* "u32 seq" only */
	ck_assert_uint_eq(f.type, UEV_T_U32);
	ck_assert_uint_eq(f.size, 4);
	ck_assert_str_eq(f.name, "seq");
	ck_assert_int_eq(uev_def_parse_field(" __rel_loc char[] s ", 20, &f, &err), 0);
	ck_assert_uint_eq(f.type, UEV_T_REL_LOC);
	ck_assert_uint_eq(f.size, 4);
	ck_assert_int_eq(uev_def_parse_field("char[300] t", 11, &f, &err), 0);
	ck_assert_uint_eq(f.type, UEV_T_CHAR_ARRAY);
	ck_assert_uint_eq(f.size, 300);
	ck_assert_int_eq(uev_def_parse_field("  u128 x", 8, &f, &err), -EINVAL);
	ck_assert_uint_eq(err.pos, 2);
	ck_assert_int_eq(uev_def_parse_field("   ", 3, &f, &err), -EINVAL);
	ck_assert_int_eq(uev_def_parse_field("u8 a", 4, &f, NULL), 0); /* err may be NULL */
	ck_assert_int_eq(uev_def_parse_field("u8 1", 4, &f, NULL), -EINVAL);
}
END_TEST

START_TEST(t_unknown_types)
{
	static const char *const bad[] = { "u128", "int", "long", "struct", "U32", "u", "char" };
	char fields[64];

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(fields, sizeof(fields), "u32 a;  %s x; u8 b", bad[i]);
		parse_err("ev", fields, -EINVAL, 2, strlen("u32 a;  "));
		ck_assert_msg(strstr(err.msg, bad[i]), "message '%s' lacks '%s'", err.msg, bad[i]);
	}
}
END_TEST

START_TEST(t_loc_forms)
{
	const char *f = "u8 a; __data_loc char[] s";

	parse_err("ev", f, -EINVAL, 2, pos_of(f, "__data_loc", 0));
	ck_assert_msg(strstr(err.msg, "__rel_loc"), "message '%s' does not mention __rel_loc", err.msg);
	f = "__rel_loc u32 x";
	parse_err("ev", f, -EINVAL, 1, pos_of(f, "u32", 0));
	f = "u8 a;__rel_loc char[16] x";
	parse_err("ev", f, -EINVAL, 2, pos_of(f, "char[16]", 0));
	f = "__rel_loc";
	parse_err("ev", f, -EINVAL, 1, strlen(f));
}
END_TEST

START_TEST(t_char_arrays)
{
	static const char *const bad[] = { "char[0]", "char[1025]", "char[x]", "char[]",
					   "char[-1]", "char[16x]", "char[99999999999999999999]" };
	char fields[64];

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(fields, sizeof(fields), "u16 a; %s t", bad[i]);
		parse_err("ev", fields, -EINVAL, 2, pos_of(fields, bad[i], 0));
	}
	parse_ok("ev", "char[1] a; char[1024] b", "ev char[1] a; char[1024] b");
	ck_assert_uint_eq(def.fixed_size, 1025);
}
END_TEST

START_TEST(t_field_names)
{
	char long_name[80], fields[128];

	parse_err("ev", "u32 9a", -EINVAL, 1, 4);
	parse_err("ev", "u8 ok; u32 a-b", -EINVAL, 2, 11);
	parse_err("ev", "u8 ok; u32 common_pid", -EINVAL, 2, 11);
	parse_err("ev", "u32 common_x", -EINVAL, 1, 4);
	memset(long_name, 'n', 64);
	long_name[64] = 0;
	snprintf(fields, sizeof(fields), "u8 a; u32 %s", long_name);
	parse_err("ev", fields, -EINVAL, 2, 10);
	long_name[63] = 0; /* 63 bytes + NUL fits */
	snprintf(fields, sizeof(fields), "u32 %s", long_name);
	ck_assert_int_eq(uev_def_parse("ev", fields, &def, &err), 0);
	ck_assert_str_eq(def.field[0].name, long_name);
	/* 'common' alone is not the kernel's prefix */
	ck_assert_int_eq(uev_def_parse("ev", "u32 common", &def, &err), 0);
}
END_TEST

/* The offending token of a duplicate is the second field's name. */
START_TEST(t_duplicate)
{
	const char *f = "u32 a; u64 b; s8 a";

	parse_err("ev", f, -EINVAL, 3, pos_of(f, "a", 1));
	ck_assert_msg(strstr(err.msg, "'a'"), "message: %s", err.msg);
}
END_TEST

START_TEST(t_structure_errors)
{
	parse_err("ev", "u32 a;;u32 b", -EINVAL, 2, 6);
	parse_err("ev", "u32 a; ;u32 b", -EINVAL, 2, 6);
	parse_err("ev", ";", -EINVAL, 1, 0);
	parse_err("ev", "u32", -EINVAL, 1, 3);          /* name expected at the end */
	parse_err("ev", "u8 a; u32", -EINVAL, 2, 9);
	parse_err("ev", "u32 a b", -EINVAL, 1, 6);
	parse_err("ev", "u8 z; u32 a b c", -EINVAL, 2, 12);
}
END_TEST

START_TEST(t_field_count)
{
	char fields[512], canon[512];
	size_t n = 0, c = 0;

	c += (size_t)snprintf(canon, sizeof(canon), "ev");
	for (unsigned i = 0; i < UEV_MAX_FIELDS; i++) {
		n += (size_t)snprintf(fields + n, sizeof(fields) - n, "%su8 f%u", i ? ";" : "", i);
		c += (size_t)snprintf(canon + c, sizeof(canon) - c, "%su8 f%u", i ? "; " : " ", i);
	}
	parse_ok("ev", fields, canon);
	ck_assert_uint_eq(def.nfields, 32);
	ck_assert_uint_eq(def.fixed_size, 32);
	snprintf(fields + n, sizeof(fields) - n, ";u8 f32");
	parse_err("ev", fields, -E2BIG, 33, n + 1);
}
END_TEST

/* Build fields whose canonical definition "ev u8 <name>; u8 <name>..." is
 * exactly @target bytes (NUL excluded); returns the offset of the last
 * field's type in @fields (fields are joined by a bare ';'). */
static size_t build_def(size_t target, char *fields, size_t fsize, char *canon, size_t csize)
{
	size_t flen = 0, clen, last = 0;
	unsigned i = 0;

	clen = (size_t)snprintf(canon, csize, "ev");
	fields[0] = 0;
	while (clen < target) {
		size_t sep = i ? 2 : 1; /* "; " or " " */
		size_t rest = target - clen - sep - 3; /* after "u8 " */
		size_t L = rest > 63 ? 40 : rest; /* 40 leaves >= 19 for the next */
		char name[64];

		ck_assert_uint_ge(L, 3);
		ck_assert_uint_le(L, 63);
		memset(name, 'x', L);
		name[L] = 0;
		name[0] = (char)('a' + i % 26);
		name[1] = (char)('a' + i / 26);
		flen += (size_t)snprintf(fields + flen, fsize - flen, "%s", i ? ";" : "");
		last = flen;
		flen += (size_t)snprintf(fields + flen, fsize - flen, "u8  %s", name);
		clen += (size_t)snprintf(canon + clen, csize - clen, "%su8 %s", i ? "; " : " ", name);
		i++;
	}
	ck_assert_uint_eq(strlen(canon), target);
	return last;
}

START_TEST(t_def_max)
{
	char fields[1024], canon[1024];
	size_t last;

	build_def(UEV_DEF_MAX - 1, fields, sizeof(fields), canon, sizeof(canon));
	parse_ok("ev", fields, canon);
	ck_assert_uint_eq(strlen(def.canonical), 511);
	last = build_def(UEV_DEF_MAX, fields, sizeof(fields), canon, sizeof(canon));
	ck_assert_int_eq(uev_def_parse("ev", fields, &def, &err), -E2BIG);
	ck_assert_int_eq(err.err, -E2BIG);
	ck_assert_uint_gt(err.field, 1);
	/* the field that overflowed is the last one */
	{
		unsigned nf = 1;

		for (const char *p = fields; *p; p++)
			nf += *p == ';';
		ck_assert_uint_eq(err.field, nf);
	}
	ck_assert_uint_eq(err.pos, last);
}
END_TEST

START_TEST(t_event_names)
{
	char n64[65], n63[64];

	parse_err(NULL, "u8 a", -EINVAL, 0, 0);
	parse_err("", "u8 a", -EINVAL, 0, 0);
	parse_err("9x", "u8 a", -EINVAL, 0, 0);
	parse_err("a-b", "u8 a", -EINVAL, 0, 0);
	parse_err("a:b", "u8 a", -EINVAL, 0, 0);
	parse_err("a b", NULL, -EINVAL, 0, 0);
	memset(n64, 'e', 64);
	n64[64] = 0;
	parse_err(n64, "u8 a", -EINVAL, 0, 0);
	memcpy(n63, n64, 63);
	n63[63] = 0;
	ck_assert_int_eq(uev_def_parse(n63, "u8 a", &def, &err), 0);
	ck_assert_int_eq(uev_def_parse("ok", "u8 a", &def, NULL), 0);
	ck_assert_int_eq(uev_def_parse("9", "u8 a", &def, NULL), -EINVAL);
}
END_TEST

START_TEST(t_fixed_limit)
{
	/* Every string needs at least its NUL: fixed + nstrings <= 4060. */
	parse_err("ev", "char[1024] a; char[1024] b; char[1024] c; char[1024] d", -E2BIG, 0, 0);
	ck_assert_int_eq(uev_def_parse("ev", "char[1024] a; char[1024] b; char[1024] c; char[988] d",
				       &def, &err), 0);
	ck_assert_uint_eq(def.fixed_size, UEV_PAYLOAD_MAX);
	parse_err("ev", "char[1024] a; char[1024] b; char[1024] c; char[989] d", -E2BIG, 0, 0);
	ck_assert_int_eq(uev_def_parse("ev", "char[1024] a; char[1024] b; char[1024] c; char[983] d; "
				       "__rel_loc char[] e", &def, &err), 0);
	parse_err("ev", "char[1024] a; char[1024] b; char[1024] c; char[984] d; __rel_loc char[] e",
		  -E2BIG, 0, 0);
}
END_TEST

START_TEST(t_type_text_and_names)
{
	struct uev_def_field f = { .type = UEV_T_CHAR_ARRAY, .size = 12 };
	char buf[32];

	ck_assert_str_eq(uev_def_type_text(&f, buf, sizeof(buf)), "char[12]");
	f.type = UEV_T_REL_LOC;
	ck_assert_str_eq(uev_def_type_text(&f, buf, sizeof(buf)), "__rel_loc char[]");
	f.type = UEV_T_S16;
	ck_assert_str_eq(uev_def_type_text(&f, buf, sizeof(buf)), "s16");
	ck_assert_int_eq(uev_def_valid_name("abc", 3), 1);
	ck_assert_int_eq(uev_def_valid_name("abc", 0), 0);
	ck_assert_int_eq(uev_def_valid_name("a.c", 3), 0);
	ck_assert_int_eq(uev_def_valid_name("a.c", 1), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("uev-def");
	TCase *tc = tcase_create("parse");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, t_canonical);
	tcase_add_test(tc, t_int_types);
	tcase_add_test(tc, t_sizes);
	tcase_add_test(tc, t_parse_field);
	tcase_add_test(tc, t_unknown_types);
	tcase_add_test(tc, t_loc_forms);
	tcase_add_test(tc, t_char_arrays);
	tcase_add_test(tc, t_field_names);
	tcase_add_test(tc, t_duplicate);
	tcase_add_test(tc, t_structure_errors);
	tcase_add_test(tc, t_field_count);
	tcase_add_test(tc, t_def_max);
	tcase_add_test(tc, t_event_names);
	tcase_add_test(tc, t_fixed_limit);
	tcase_add_test(tc, t_type_text_and_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
