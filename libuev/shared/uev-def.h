/* SPDX-License-Identifier: MIT */
/*
 * Event definitions: parse and validate "name" + "type field; type field" in
 * the user_events grammar subset uev supports, and produce the canonical text
 * the kernel (and the marker announcement) gets. Shared by libuev and the
 * uev-schema generator so both accept exactly the same definitions.
 */
#ifndef UEV_DEF_H
#define UEV_DEF_H

#include <stddef.h>
#include <stdint.h>
#include "uev/uev.h"

enum uev_type {
	UEV_T_U8 = 1, UEV_T_U16, UEV_T_U32, UEV_T_U64,
	UEV_T_S8, UEV_T_S16, UEV_T_S32, UEV_T_S64,
	UEV_T_CHAR_ARRAY, /* char[N]: fixed text */
	UEV_T_REL_LOC,    /* __rel_loc char[]: variable string */
};

#define UEV_NAME_MAX 64 /* identifier bytes incl. NUL */
#define UEV_CHAR_ARRAY_MAX 1024

struct uev_def_field {
	uint8_t type;       /* enum uev_type */
	uint16_t size;      /* bytes in the fixed part (4 for __rel_loc) */
	uint16_t name_pos;  /* offset of the name in the field's text */
	char name[UEV_NAME_MAX];
};

struct uev_def {
	unsigned nfields;
	unsigned nstrings;    /* __rel_loc fields */
	size_t fixed_size;
	struct uev_def_field field[UEV_MAX_FIELDS];
	char canonical[UEV_DEF_MAX]; /* "name type f; type f" */
};

struct uev_def_error {
	int err;        /* negative errno */
	unsigned field; /* 1-based field number, 0 = the name or the whole */
	size_t pos;     /* byte offset in the fields string */
	char msg[192];
};

/* Parse one field "u32 seq" (@len bytes at @s, no ';'). 0 or -EINVAL. */
int uev_def_parse_field(const char *s, size_t len, struct uev_def_field *f,
			struct uev_def_error *err);

/* Parse a whole definition; @fields may be NULL or empty. 0 or -errno
 * (-EINVAL syntax, -E2BIG size limits), @err says where and why. */
int uev_def_parse(const char *name, const char *fields, struct uev_def *def,
		  struct uev_def_error *err);

/* "u32", "char[16]", "__rel_loc char[]" for a parsed field. */
const char *uev_def_type_text(const struct uev_def_field *f, char *buf, size_t size);

/* Is @s a valid event or field identifier? */
int uev_def_valid_name(const char *s, size_t len);

#endif
