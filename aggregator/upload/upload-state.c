/* SPDX-License-Identifier: MIT */
/*
 * uev-upload's state file: a line per source file, by the file's uuid (a
 * ring file keeps its uuid when renamed or copied; a path does not name
 * it), with the cursor of the last entry the server acknowledged:
 *
 *   # uev-upload state (docs/uev-upload.1)
 *   uev-upload-state 1
 *   UUID32HEX CURSOR [done]
 *
 * It is small (one line per file) and written whole each time, to a
 * temporary file that is synced and renamed over it, so a reader finds the
 * old state or the new, never a mix.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "upload.h"
#include "uev-grow.h"

#define MAGIC "uev-upload-state 1"

static int hex_uuid(uint8_t uuid[16], const char *s)
{
	for (int i = 0; i < 16; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdef", s[2 * i]) ||
		    !strchr("0123456789abcdef", s[2 * i + 1]))
			return -EINVAL;
		uuid[i] = (uint8_t)v;
	}
	return 0;
}

/* One entry line into @s; a message (without the place) when it is not one. */
static int parse_line(struct up_state *s, char *line, char *why, size_t whysize)
{
	char *sp = strchr(line, ' '), *cur, *mark;
	struct rp_cursor c;
	uint8_t uuid[16];

	if (!sp || sp - line != 32 || hex_uuid(uuid, line) < 0) {
		snprintf(why, whysize, "not 'UUID CURSOR [done]': '%.80s'", line);
		return -EBADMSG;
	}
	cur = sp + 1;
	mark = strchr(cur, ' ');
	if (mark)
		*mark++ = 0;
	if (mark && strcmp(mark, "done")) {
		snprintf(why, whysize, "'%.40s' after the cursor is not 'done'", mark);
		return -EBADMSG;
	}
	if (rp_cursor_parse(&c, cur) < 0 || memcmp(c.uuid, uuid, 16) || strlen(cur) >= RP_CURSOR_TEXT) {
		snprintf(why, whysize, "'%.80s' is not a cursor of file %.32s", cur, line);
		return -EBADMSG;
	}
	if (up_state_find(s, uuid)) {
		snprintf(why, whysize, "file %.32s is listed twice", line);
		return -EBADMSG;
	}
	return up_state_set(s, uuid, cur, mark != NULL);
}

int up_state_load(struct up_state *s, const char *path, char *err, size_t errsize)
{
	FILE *fp = fopen(path, "re");
	char *line = NULL, why[256];
	size_t cap = 0;
	unsigned no = 0;
	ssize_t n;
	int r = 0, magic = 0;

	memset(s, 0, sizeof(*s));
	s->path = path;
	if (!fp) {
		if (errno == ENOENT)
			return 0;
		r = -errno;
		snprintf(err, errsize, "%s: %s", path, strerror(-r));
		return r;
	}
	errno = 0;
	while (r == 0 && (n = getline(&line, &cap, fp)) >= 0) {
		no++;
		if (n && line[n - 1] == '\n')
			line[--n] = 0;
		if (!n || line[0] == '#')
			continue;
		if (!magic) {
			if (strcmp(line, MAGIC)) {
				snprintf(err, errsize, "%s:%u: not an uev-upload state file (no '%s' line)", path, no,
					 MAGIC);
				r = -EBADMSG;
			}
			magic = 1;
			continue;
		}
		if ((r = parse_line(s, line, why, sizeof(why))) == -EBADMSG)
			snprintf(err, errsize, "%s:%u: %s (fix or remove the line; it is not reset by itself)", path,
				 no, why);
		else if (r < 0)
			snprintf(err, errsize, "%s: %s", path, strerror(-r));
	}
	if (r == 0 && ferror(fp)) { /* errno as getline left it (EISDIR, EIO) */
		r = errno ? -errno : -EIO;
		snprintf(err, errsize, "%s: reading: %s", path, strerror(-r));
	}
	if (r == 0 && !magic && no) {
		r = -EBADMSG;
		snprintf(err, errsize, "%s:%u: not an uev-upload state file (no '%s' line)", path, no, MAGIC);
	}
	free(line);
	fclose(fp);
	return r;
}

struct up_state_entry *up_state_find(struct up_state *s, const uint8_t uuid[16])
{
	for (size_t i = 0; i < s->n; i++)
		if (!memcmp(s->e[i].uuid, uuid, 16))
			return &s->e[i];
	return NULL;
}

int up_state_set(struct up_state *s, const uint8_t uuid[16], const char *cursor, int done)
{
	struct up_state_entry *e = up_state_find(s, uuid);

	if (!e) {
		if (UEV_GROW(s->e, s->cap, s->n + 1) < 0)
			return -ENOMEM;
		e = &s->e[s->n++];
		memcpy(e->uuid, uuid, 16);
	}
	snprintf(e->cursor, sizeof(e->cursor), "%s", cursor);
	e->done = done;
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int up_state_save(const struct up_state *s, char *err, size_t errsize)
{
	char tmp[4096], dir[4096], line[256];
	int fd, r = 0, dfd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", s->path) >= (int)sizeof(tmp)) {
		snprintf(err, errsize, "%s: path too long", s->path);
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errsize, "%s: %s", tmp, strerror(-r));
		return r;
	}
	r = write_all(fd, "# uev-upload state (docs/uev-upload.1)\n" MAGIC "\n",
		      strlen("# uev-upload state (docs/uev-upload.1)\n" MAGIC "\n"));
	for (size_t i = 0; i < s->n && !r; i++) {
		int n = 0;

		for (int k = 0; k < 16; k++)
			n += snprintf(line + n, sizeof(line) - (size_t)n, "%02x", s->e[i].uuid[k]);
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s%s\n", s->e[i].cursor,
			      s->e[i].done ? " done" : "");
		r = write_all(fd, line, (size_t)n);
	}
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, s->path) < 0)
		r = -errno;
	if (r) {
		snprintf(err, errsize, "%s: writing the state: %s", s->path, strerror(-r));
		unlink(tmp);
		return r;
	}
	/* the rename itself is durable only with its directory */
	snprintf(dir, sizeof(dir), "%s", s->path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

void up_state_free(struct up_state *s)
{
	free(s->e);
	memset(s, 0, sizeof(*s));
}
