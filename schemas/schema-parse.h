/* SPDX-License-Identifier: MIT */
/*
 * The in-memory form of a .uev schema (docs/schema-format.md) and the parser
 * that builds it. Every type and name check goes through libuev's uev-def so
 * that a schema accepts exactly what uev_event_register() accepts.
 */
#ifndef UEV_SCHEMA_PARSE_H
#define UEV_SCHEMA_PARSE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "uev-def.h"

struct schema_field {
	unsigned line;
	struct uev_def_field def; /* type, size and name, as uev-def parsed them */
};

struct schema_event {
	unsigned line;
	char *name;     /* as written after 'event'; NULL when it was invalid */
	char *full;     /* "<provider>_<name>"; NULL unless name and provider are valid */
	char *desc;     /* one line, comment already stripped */
	char *fields;   /* canonical field list for UEV_EVENT_INIT; NULL until validated */
	struct schema_field *field; /* only the fields that parsed */
	unsigned nfields;
	size_t cap;
};

struct schema_diag {
	unsigned line; /* 0: about the file as a whole (I/O) */
	unsigned seq;  /* discovery order, keeps the sort stable */
	char *msg;
};

struct schema {
	const char *path; /* as given: diagnostics must name what the user typed */
	char *provider;
	unsigned provider_line;
	struct schema_event *event;
	size_t nevents, cap;
	struct schema_diag *diag;
	size_t ndiag, diagcap;
	int error; /* 0, or -ENOMEM: an allocation failed, the parse stopped and
		    * the schema is incomplete (diagnostics too); sticky */
};

/* Parse @path into @s (zeroed first). Nothing is printed and the process
 * never ends here. Return: -ENOMEM when memory ran out (s->error; use
 * nothing of @s), else the number of errors; when it is 0 every event has
 * full, desc and fields set, and once schema_check_names() adds no error
 * either the schema can be generated. Call schema_free() in every case. */
ssize_t schema_parse(struct schema *s, const char *path);

/* Record an error at @line (0: the file as a whole). Out of memory, it
 * sets s->error instead; once s->error is set it does nothing. */
void schema_error(struct schema *s, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Print the errors as "FILE:LINE: message" lines, sorted by line. */
void schema_print_errors(struct schema *s, FILE *out);

/* Free everything @s holds (also after a failed parse) and zero it. */
void schema_free(struct schema *s);

/* schema-gen.c: report events whose generated C identifiers would collide
 * with each other or with the registration function. Return: s->error (0,
 * or -ENOMEM if recording an error ran out of memory). */
int schema_check_names(struct schema *s);

/* schema-gen.c: write the C header for a schema without errors. @source is
 * named in the "generated from" comment. Return: 0, or -1 on a write error
 * (errno set). */
int schema_gen(const struct schema *s, const char *source, FILE *out);

#endif
