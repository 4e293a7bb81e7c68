/* SPDX-License-Identifier: MIT */
/*
 * Pure parsing of what Weston 10 writes into its log scopes, kept apart from
 * libweston so that it is unit-tested without a compositor:
 *  - line reassembly: scope writes arrive in pieces (an object record of the
 *    "timeline" scope comes in three writes), lines are cut at '\n' into a
 *    fixed buffer; a line longer than the buffer is dropped and counted;
 *  - "timeline" lines: points  { "T":[s, ns], "N":"name"[, "wo":ID]
 *    [, "ws":ID][, "vblank_monotonic":[s, ns]][, "gpu":[s, ns]] }
 *    and object records  { "id":N, "type":"weston_output", "name":"..." }
 *    or  { "id":N, "type":"weston_surface", "desc":"..."|null[, "main_surface":M] };
 *  - "log" lines: "[HH:MM:SS.mmm] message", level guessed from the words.
 * Nothing here allocates; the parsers only read the line they are given.
 */
#ifndef UEVW_TL_PARSE_H
#define UEVW_TL_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest line kept; Weston's timeline lines are ~70 bytes, surface
 * descriptions a few hundred, log lines rarely over 1 KiB. */
#define UEVW_LINE_MAX 4096

struct uevw_lines {
	size_t len;          /* bytes of the current, unfinished line */
	bool overlong;       /* the current line overflowed: drop up to '\n' */
	uint64_t dropped;    /* lines dropped for being longer than the buffer */
	char buf[UEVW_LINE_MAX];
};

/* Called with each complete line, NUL-terminated, without its '\n'. */
typedef void (*uevw_line_fn)(void *ctx, char *line, size_t len);

/* uevw_lines_feed() - append @len bytes of one scope write; call @fn for
 * every line it completes. */
void uevw_lines_feed(struct uevw_lines *lb, const char *data, size_t len,
		     uevw_line_fn fn, void *ctx);

enum uevw_kind {
	UEVW_OTHER = 0,      /* not a line this parser understands */
	UEVW_POINT,          /* a timeline point */
	UEVW_OBJ_OUTPUT,     /* object record of a weston_output */
	UEVW_OBJ_SURFACE,    /* object record of a weston_surface */
};

struct uevw_str {
	const char *p;       /* into the line; NULL for JSON null or absent */
	size_t len;
};

struct uevw_record {
	enum uevw_kind kind;
	/* points */
	uint64_t mono_ns;
	struct uevw_str name;    /* "N" */
	bool has_output, has_surface, has_vblank, has_gpu;
	uint32_t output, surface;
	uint64_t vblank_ns, gpu_ns;
	/* object records */
	uint32_t id;
	struct uevw_str text;    /* output name or surface desc (p NULL: null) */
	uint32_t main_surface;   /* 0 when absent */
};

/* uevw_parse_timeline() - parse one "timeline" line into @rec.
 * Return: @rec->kind (UEVW_OTHER for a malformed or unknown line). */
enum uevw_kind uevw_parse_timeline(const char *line, size_t len, struct uevw_record *rec);

/* uevw_log_strip() - the message of a "log" line: Weston's "[HH:MM:SS.mmm] "
 * prefix removed when present. Returns a pointer into @line. */
const char *uevw_log_strip(const char *line);

/* uevw_log_is_date() - Weston's "Date: YYYY-MM-DD TZ" day marker line. */
bool uevw_log_is_date(const char *line);

/* uevw_log_level() - syslog level guessed from the message (Weston 10 has no
 * levels): 3 for errors and failures, 4 for warnings, @dflt otherwise. */
int uevw_log_level(const char *msg, int dflt);

#endif
