/* SPDX-License-Identifier: MIT */
/*
 * uev-upload's parts (docs/uev-upload.1): ring files and incident bundles
 * as systemd Journal Export Format entries (replay's journal writer), sent
 * in batches to a systemd-journal-remote over HTTP, and a state file that
 * remembers, per file, the last entry the server acknowledged.
 *
 * The invariant that makes a restart safe: the state only ever names an
 * entry the server answered 2xx for, and it is replaced atomically (write,
 * fsync, rename, fsync of the directory). A kill at any point re-sends at
 * most the batch that was in flight.
 */
#ifndef UEV_UPLOAD_H
#define UEV_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "replay.h"

/* ---- HTTP (upload-http.c) ---------------------------------------------- */

/* http://HOST[:PORT][/PREFIX]: the upload goes to PREFIX/upload. */
struct up_url {
	char host[256];
	char port[8];
	char path[512];   /* "PREFIX/upload" */
	char text[1024];  /* as given, for messages */
};

/* 19532: systemd-journal-remote's port for HTTP. */
#define UP_DEFAULT_PORT "19532"

/* @s into @u: 0, or -EINVAL (-EPROTONOSUPPORT for https) and a message. */
int up_url_parse(struct up_url *u, const char *s, char *err, size_t errsize);

/*
 * POST @len bytes of @body to @u as application/vnd.fdo.journal, with a
 * Content-Length, on a new connection; @timeout_ms for connecting and for
 * each read or write. 0 when the server answered 2xx; -errno for a
 * connection that failed, -EPROTO for another answer (its status line and
 * first body line in @err). @err names the URL.
 */
int up_post(const struct up_url *u, const char *body, size_t len, int timeout_ms, char *err, size_t errsize);

/* ---- the state file (upload-state.c) ------------------------------------ */

struct up_state_entry {
	uint8_t uuid[16];
	char cursor[160];  /* rp_cursor_format() of the last entry acknowledged */
	int done;          /* a bundle uploaded to its end: not read again */
};

struct up_state {
	const char *path;
	struct up_state_entry *e;
	size_t n, cap;
};

/*
 * Read @path into @s (a file that does not exist is an empty state). A line
 * that is not what up_state_save writes is an error naming the file and
 * line (-EBADMSG): the state is never reset silently, as that would upload
 * everything again.
 */
int up_state_load(struct up_state *s, const char *path, char *err, size_t errsize);
/* The entry of the file with @uuid, or NULL. */
struct up_state_entry *up_state_find(struct up_state *s, const uint8_t uuid[16]);
/* Set the cursor (and done mark) of @uuid: 0 or -ENOMEM. */
int up_state_set(struct up_state *s, const uint8_t uuid[16], const char *cursor, int done);
/* Replace the file atomically: a temporary file beside it, fsync, rename,
 * fsync of the directory. 0, or -errno with a message. */
int up_state_save(const struct up_state *s, char *err, size_t errsize);
void up_state_free(struct up_state *s);

/* ---- one ring file's entries (upload-source.c) -------------------------- */

struct up_source;

/*
 * Open @path (a ring file or an incident bundle) for reading in replay's
 * merge order. @follow: keep reading what an aggregator appends (every CPU
 * of this machine is watched). 0, or -errno with "path: why" in @err
 * (then *out is NULL).
 */
int up_source_open(struct up_source **out, const char *path, int follow, char *err, size_t errsize);
/* The file's uuid: what the state knows it by, whatever its path. */
const uint8_t *up_source_uuid(const struct up_source *s);
/* Entries up to and including @after are skipped (they were sent). */
void up_source_resume(struct up_source *s, const struct rp_cursor *after);
/*
 * The next entry appended to @body and its cursor's text in @cursor
 * (RP_CURSOR_TEXT bytes): 1; 0 at the end (following: nothing new that is
 * old enough to be in order yet, see up_source_open); -ENOMEM.
 */
int up_source_next(struct up_source *s, struct rp_buf *body, char *cursor);
/* Damage reports and read failures met so far (the replay library's
 * counts): uev-replay FILE shows them. */
uint64_t up_source_problems(const struct up_source *s);
uint64_t up_source_failures(const struct up_source *s);
void up_source_close(struct up_source *s);

#endif
