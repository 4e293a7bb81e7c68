/* SPDX-License-Identifier: MIT */
/*
 * The fields of a user record (a user_events event or a marker record, as
 * a uev definition types them): read one at a time, and rendered, in one
 * place for every output. uev-ringdump and uev-seat print them as text,
 * uev-replay as text, JSON members and Perfetto args; all go through
 * uev_render_user_fields(), so a field looks the same everywhere a format
 * shows it, and the string escaping of each format is written once.
 */
#ifndef UEV_USER_RENDER_H
#define UEV_USER_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "uev-def.h"

struct uev_rec;
struct uev_decoder;
struct trace_seq;

/*
 * Field @i of a user payload. Integers in *num (sign-extended for sNN),
 * strings in *str and *slen (NUL excluded). Bounds are checked: a __rel_loc that
 * points outside the payload or is not NUL-terminated gives -EBADMSG.
 * Returns the field's type (enum uev_type) or -EBADMSG.
 */
int uev_payload_field(const struct uev_def *def, const uint8_t *p, size_t len, unsigned i,
		      uint64_t *num, const char **str, size_t *slen);

/* Where rendered bytes go: put(ctx, s, n) appends @n bytes (never a NUL). */
struct uev_render_sink {
	void (*put)(void *ctx, const char *s, size_t n);
	void *ctx;
};

enum uev_render_style {
	/* name=value, separated by spaces; strings in double quotes with '"'
	 * and '\' backslashed and other control bytes as \xNN; a field that
	 * cannot be read is <bad>. The form uev-ringdump and uev-replay print. */
	UEV_RENDER_TEXT,
	/* "name":value members of a JSON object (no braces), separated by
	 * commas; strings JSON-escaped (\n, \t, \uNNNN); an unreadable field
	 * is null. uev-replay's --json "fields" and --perfetto "args". */
	UEV_RENDER_JSON,
};

/* @n bytes of @s as a string of @style: quoted and escaped, UTF-8 passed
 * through (libuev cuts strings on code points). */
void uev_render_string(enum uev_render_style style, const struct uev_render_sink *k, const char *s, size_t n);

/*
 * Every field of user record @r (r->def set: a USER record with a
 * definition) in definition order, integers in decimal (signed types
 * signed). @first 0 when members or fields were written before, so the
 * first field is separated from them too.
 */
void uev_render_user_fields(enum uev_render_style style, const struct uev_render_sink *k,
			    const struct uev_rec *r, int first);

/* Append "field=value …" (UEV_RENDER_TEXT) for a user record, or the
 * kernel's own print format for a kernel record, or a line about an
 * announcement or an unknown marker record. @d may be NULL. */
void uev_rec_print_fields(struct uev_decoder *d, const struct uev_rec *r, struct trace_seq *s);

#endif
