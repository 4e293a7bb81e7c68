/* SPDX-License-Identifier: MIT */
/*
 * Definition parser. The accepted grammar is deliberately a subset of what
 * the kernel's user_events parser takes: only types whose payload encoding is
 * the same on both backends. __data_loc is refused because its offset counts
 * from the start of the kernel record, which differs between a user event
 * (payload at 8) and a trace_marker_raw record (payload at 12); __rel_loc
 * counts from the field itself and so survives the move unchanged.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uev-def.h"

static const struct {
	const char *name;
	uint8_t type;
	uint16_t size;
} int_types[] = {
	{ "u8", UEV_T_U8, 1 },   { "u16", UEV_T_U16, 2 },
	{ "u32", UEV_T_U32, 4 }, { "u64", UEV_T_U64, 8 },
	{ "s8", UEV_T_S8, 1 },   { "s16", UEV_T_S16, 2 },
	{ "s32", UEV_T_S32, 4 }, { "s64", UEV_T_S64, 8 },
};

static int fail(struct uev_def_error *err, int e, unsigned field, size_t pos,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(struct uev_def_error *err, int e, unsigned field, size_t pos,
		const char *fmt, ...)
{
	if (err) {
		va_list ap;

		err->err = e;
		err->field = field;
		err->pos = pos;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return e;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_ident(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

int uev_def_valid_name(const char *s, size_t len)
{
	if (len == 0 || len >= UEV_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_ident(s[i], i == 0))
			return 0;
	return 1;
}

/* Next whitespace-separated token of s[*i..len). */
static size_t next_token(const char *s, size_t len, size_t *i, size_t *start)
{
	while (*i < len && is_space(s[*i]))
		(*i)++;
	*start = *i;
	while (*i < len && !is_space(s[*i]))
		(*i)++;
	return *i - *start;
}

static int token_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

int uev_def_parse_field(const char *s, size_t len, struct uev_def_field *f,
			struct uev_def_error *err)
{
	size_t i = 0, t0, n, n0, nlen;
	const char *tok;

	memset(f, 0, sizeof(*f));
	n = next_token(s, len, &i, &t0);
	tok = s + t0;
	if (n == 0)
		return fail(err, -EINVAL, 0, 0, "empty field");
	if (token_is(tok, n, "__data_loc"))
		return fail(err, -EINVAL, 0, t0,
			    "'__data_loc' is not supported, use '__rel_loc char[]'");
	if (token_is(tok, n, "__rel_loc")) {
		n = next_token(s, len, &i, &t0);
		if (!token_is(s + t0, n, "char[]"))
			return fail(err, -EINVAL, 0, t0,
				    "'__rel_loc' must be followed by 'char[]'");
		f->type = UEV_T_REL_LOC;
		f->size = 4;
	} else if (n > 5 && memcmp(tok, "char[", 5) == 0 && tok[n - 1] == ']') {
		char *end;
		unsigned long v;
		char num[16] = "";

		if (n - 6 == 0 || n - 6 >= sizeof(num))
			return fail(err, -EINVAL, 0, t0,
				    "char[N] needs a size from 1 to %d", UEV_CHAR_ARRAY_MAX);
		memcpy(num, tok + 5, n - 6);
		v = strtoul(num, &end, 10);
		if (*end || num[0] < '0' || num[0] > '9' || v < 1 || v > UEV_CHAR_ARRAY_MAX)
			return fail(err, -EINVAL, 0, t0,
				    "char[N] needs a size from 1 to %d, not '%s'",
				    UEV_CHAR_ARRAY_MAX, num);
		f->type = UEV_T_CHAR_ARRAY;
		f->size = (uint16_t)v;
	} else {
		for (size_t k = 0; k < sizeof(int_types) / sizeof(int_types[0]); k++)
			if (token_is(tok, n, int_types[k].name)) {
				f->type = int_types[k].type;
				f->size = int_types[k].size;
			}
		if (!f->type)
			return fail(err, -EINVAL, 0, t0,
				    "unknown type '%.*s' (use u8..u64, s8..s64, char[N], __rel_loc char[])",
				    (int)(n > 40 ? 40 : n), tok);
	}
	nlen = next_token(s, len, &i, &n0);
	if (nlen == 0)
		return fail(err, -EINVAL, 0, len, "field name missing after the type");
	if (!uev_def_valid_name(s + n0, nlen))
		return fail(err, -EINVAL, 0, n0,
			    "bad field name '%.*s' (letters, digits, '_', not starting with a digit, < %d bytes)",
			    (int)(nlen > 40 ? 40 : nlen), s + n0, UEV_NAME_MAX);
	if (nlen >= 7 && memcmp(s + n0, "common_", 7) == 0)
		return fail(err, -EINVAL, 0, n0,
			    "field name '%.*s' clashes with the kernel's common_* fields",
			    (int)(nlen > 40 ? 40 : nlen), s + n0);
	memcpy(f->name, s + n0, nlen);
	f->name_pos = (uint16_t)n0;
	n = next_token(s, len, &i, &t0);
	if (n)
		return fail(err, -EINVAL, 0, t0, "unexpected '%.*s' after field name '%s'",
			    (int)(n > 40 ? 40 : n), s + t0, f->name);
	return 0;
}

const char *uev_def_type_text(const struct uev_def_field *f, char *buf, size_t size)
{
	if (f->type == UEV_T_REL_LOC)
		snprintf(buf, size, "__rel_loc char[]");
	else if (f->type == UEV_T_CHAR_ARRAY)
		snprintf(buf, size, "char[%u]", f->size);
	else
		snprintf(buf, size, "%s", int_types[f->type - UEV_T_U8].name);
	return buf;
}

/* Append to the canonical text; the kernel's limit includes the NUL. */
static int canon_add(struct uev_def *def, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 1 > sizeof(def->canonical))
		return -E2BIG;
	memcpy(def->canonical + *len, s, n + 1);
	*len += n;
	return 0;
}

int uev_def_parse(const char *name, const char *fields, struct uev_def *def,
		  struct uev_def_error *err)
{
	size_t clen = 0, pos = 0, flen;
	char type[32];
	int r;

	memset(def, 0, sizeof(*def));
	if (err)
		memset(err, 0, sizeof(*err));
	if (!name || !uev_def_valid_name(name, strlen(name)))
		return fail(err, -EINVAL, 0, 0,
			    "bad event name '%.40s' (letters, digits, '_', not starting with a digit, < %d bytes)",
			    name ? name : "(null)", UEV_NAME_MAX);
	canon_add(def, &clen, name);
	flen = fields ? strlen(fields) : 0;
	while (pos < flen) {
		size_t end = pos, k;
		struct uev_def_field *f;

		while (end < flen && fields[end] != ';')
			end++;
		for (k = pos; k < end && is_space(fields[k]); k++)
			;
		if (k == end) { /* blank: allowed only as the tail after a ';' */
			if (end < flen)
				return fail(err, -EINVAL, def->nfields + 1, pos,
					    "empty field between ';'");
			break;
		}
		if (def->nfields == UEV_MAX_FIELDS)
			return fail(err, -E2BIG, def->nfields + 1, k,
				    "more than %d fields", UEV_MAX_FIELDS);
		f = &def->field[def->nfields];
		r = uev_def_parse_field(fields + pos, end - pos, f, err);
		if (r < 0) {
			if (err) {
				err->field = def->nfields + 1;
				err->pos += pos;
			}
			return r;
		}
		def->nfields++;
		for (unsigned j = 0; j + 1 < def->nfields; j++)
			if (!strcmp(def->field[j].name, f->name))
				return fail(err, -EINVAL, def->nfields, pos + f->name_pos,
					    "duplicate field name '%s'", f->name);
		def->fixed_size += f->size;
		def->nstrings += f->type == UEV_T_REL_LOC;
		if (canon_add(def, &clen, def->nfields == 1 ? " " : "; ") ||
		    canon_add(def, &clen, uev_def_type_text(f, type, sizeof(type))) ||
		    canon_add(def, &clen, " ") || canon_add(def, &clen, f->name))
			return fail(err, -E2BIG, def->nfields, k,
				    "definition longer than %d bytes", UEV_DEF_MAX - 1);
		pos = end + 1;
	}
	/* Every string needs at least its NUL byte in the record. */
	if (def->fixed_size + def->nstrings > UEV_PAYLOAD_MAX)
		return fail(err, -E2BIG, 0, 0,
			    "fixed fields take %zu bytes, more than the %d a record holds",
			    def->fixed_size + def->nstrings, UEV_PAYLOAD_MAX);
	return 0;
}
