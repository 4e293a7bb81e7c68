/* SPDX-License-Identifier: MIT */
/*
 * Seat configuration: the embedded default, loading a file, the dump in the
 * configuration syntax, and the helpers shared by config-parse.c (syntax)
 * and config-check.c (values). Format: docs/uev.conf.5.
 */
#include "config.h"
#include "uev-grow.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uev-abi.h"

#define CONFIG_FILE_MAX (16u << 20)

static const char *const default_kevents[][2] = {
	{ "printk", "console" },
	{ "sched", "sched_process_exec" },
	{ "sched", "sched_process_fork" },
	{ "task", "task_rename" },
};

int uev_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	switch (*s) {
	case 'K': case 'k': shift = 10; s++; break;
	case 'M': case 'm': shift = 20; s++; break;
	case 'G': case 'g': shift = 30; s++; break;
	case 'T': case 't': shift = 40; s++; break;
	default: break;
	}
	if (*s || v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

void uev_cfg_errf(char *errs, size_t size, const char *fmt, ...)
{
	size_t len, room, end;
	va_list ap;
	int n;

	if (!errs || size == 0)
		return;
	len = strnlen(errs, size);
	if (len >= size) {        /* not terminated: never read past it */
		errs[size - 1] = '\0';
		return;
	}
	if (len + 2 >= size)      /* no room for a newline and one byte */
		return;
	if (len)
		errs[len++] = '\n';
	room = size - len;
	va_start(ap, fmt);
	n = vsnprintf(errs + len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		errs[len ? len - 1 : 0] = '\0';
		return;
	}
	if ((size_t)n < room)
		return;
	/* Truncated: cut at a UTF-8 boundary and mark it with "..." */
	end = size - 1;
	if (end - len > 3)
		end -= 3;
	while (end > len && ((unsigned char)errs[end] & 0xc0) == 0x80)
		end--;
	if (end + 3 < size) {
		memcpy(errs + end, "...", 3);
		end += 3;
	}
	errs[end] = '\0';
}

int uev_cfg_strv_push(char ***v, size_t *n, size_t *cap, const char *s)
{
	char *d;
	int r = uev_grow(v, cap, *n + 1, sizeof **v);

	if (r < 0)
		return r;
	d = strdup(s);
	if (!d)
		return -ENOMEM;
	(*v)[(*n)++] = d;
	return 0;
}

void uev_cfg_strv_free(char ***v, size_t *n, size_t *cap)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
	*cap = 0;
}

int uev_cfg_kevent_push(struct uev_config *c, const char *system, const char *event,
			const char *filter)
{
	struct uev_kevent *k;
	int r;

	if (strlen(system) >= sizeof k->system || strlen(event) >= sizeof k->event)
		return -EINVAL;
	if ((r = UEV_GROW(c->kevents, c->kevents_cap, c->nkevents + 1)) < 0)
		return r;
	k = &c->kevents[c->nkevents];
	memset(k, 0, sizeof *k);
	strcpy(k->system, system);
	strcpy(k->event, event);
	if (filter && !(k->filter = strdup(filter)))
		return -ENOMEM;
	c->nkevents++;
	return 0;
}

void uev_cfg_kevents_free(struct uev_config *c)
{
	for (size_t i = 0; i < c->nkevents; i++)
		free(c->kevents[i].filter);
	free(c->kevents);
	c->kevents = NULL;
	c->nkevents = 0;
	c->kevents_cap = 0;
}

void uev_config_free(struct uev_config *c)
{
	uev_cfg_strv_free(&c->schemas, &c->nschemas, &c->schemas_cap);
	uev_cfg_strv_free(&c->user_events, &c->nuser_events, &c->user_events_cap);
	uev_cfg_strv_free(&c->dyndbg, &c->ndyndbg, &c->dyndbg_cap);
	uev_cfg_kevents_free(c);
	uev_cfg_strv_free(&c->triggers, &c->ntriggers, &c->triggers_cap);
	uev_cfg_strv_free(&c->snapshot_allow, &c->nsnapshot_allow, &c->snapshot_allow_cap);
	uev_cfg_strv_free(&c->allow, &c->nallow, &c->allow_cap);
	memset(c, 0, sizeof *c);
}

int uev_config_copy(struct uev_config *dst, const struct uev_config *src)
{
	char *text = NULL, errs[512];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f)
		return -ENOMEM;
	r = uev_config_write(src, f);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r == 0 && (r = uev_config_default(dst, src->seat, NULL)) == 0 &&
	    (r = uev_cfg_parse_buf(dst, "(copy)", text, len, errs, sizeof errs)) < 0)
		uev_config_free(dst);
	if (r == 0) /* the group as a number: the dump gives it, but only when set */
		dst->ring_gid = src->ring_gid;
	free(text);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular (or symlinked regular) "*.uev" in @dir, sorted. */
static int default_schemas(struct uev_config *c, const char *dir)
{
	char real[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	int r = 0;
	DIR *d;

	if (!dir)
		return 0;
	if (!realpath(dir, real))
		return errno == ENOENT ? 0 : -errno;
	d = opendir(real);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((errno = 0, de = readdir(d))) {
		size_t n = strlen(de->d_name);
		struct stat st;

		if (de->d_name[0] == '.' || n <= 4 || strcmp(de->d_name + n - 4, ".uev"))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s%s%s", real,
				     strcmp(real, "/") ? "/" : "", de->d_name) >= sizeof path) {
			r = -ENAMETOOLONG;
			break;
		}
		r = uev_cfg_strv_push(&c->schemas, &c->nschemas, &c->schemas_cap, path);
		if (r < 0)
			break;
	}
	if (!r && errno)
		r = -errno;
	closedir(d);
	if (!r && c->nschemas > 1)
		qsort(c->schemas, c->nschemas, sizeof *c->schemas, cmp_str);
	return r;
}

int uev_config_default(struct uev_config *c, const char *seat, const char *schema_dir)
{
	int r = 0;

	memset(c, 0, sizeof *c);
	c->ring_gid = -1;
	if (!uev_seat_name_ok(seat))
		return -EINVAL;
	strcpy(c->seat, seat);
	strcpy(c->clock, "boot");
	c->buffer_kb = 4096;
	c->subbuf_kb = 0;
	c->flush_interval_ms = 1000;
	c->fsync = UEV_FSYNC_INTERVAL;
	c->fsync_interval_s = 30;
	c->keep_instance = 0;
	snprintf(c->ring_path, sizeof c->ring_path, "/var/lib/uev/%s.ring", seat);
	c->ring_size = (uint64_t)64 << 20;
	c->ring_mode = 0640;
	c->ring_direct = 1;
	c->ring_compression = UEV_COMPRESSION_DEFAULT;
	for (size_t i = 0; !r && i < sizeof default_kevents / sizeof *default_kevents; i++)
		r = uev_cfg_kevent_push(c, default_kevents[i][0], default_kevents[i][1], NULL);
	if (!r)
		r = uev_cfg_incident_default(c);
	if (!r)
		r = default_schemas(c, schema_dir);
	if (r < 0) {
		uev_config_free(c);
		c->ring_gid = -1;
	}
	return r;
}

int uev_config_parse(struct uev_config *c, const char *name, const char *text,
		     char *errs, size_t errsize)
{
	if (errs && errsize)
		errs[0] = '\0';
	return uev_cfg_parse_buf(c, name, text ? text : "", text ? strlen(text) : 0,
				 errs, errsize);
}

static int read_all(int fd, char **bufp, size_t *lenp)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;

	for (;;) {
		ssize_t n;

		if (len == cap) {
			int r = cap >= CONFIG_FILE_MAX ? -EFBIG : UEV_GROW(buf, cap, cap ? cap * 2 : 8192);

			if (r < 0) {
				free(buf);
				return r;
			}
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

int uev_config_load(struct uev_config *c, const char *path, char *errs, size_t errsize)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	if (errs && errsize)
		errs[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
	} else {
		r = read_all(fd, &buf, &len);
		close(fd);
	}
	if (r < 0) {
		uev_cfg_errf(errs, errsize, "%s: %s", path, strerror(-r));
		return r;
	}
	r = uev_cfg_parse_buf(c, path, buf, len, errs, errsize);
	free(buf);
	return r;
}

/* ---- Dump ---------------------------------------------------------------- */

static int needs_quotes(const char *v)
{
	size_t n = strlen(v);

	if (!n || v[0] == ' ' || v[0] == '\t' || v[0] == '"' || v[0] == '#' ||
	    v[n - 1] == ' ' || v[n - 1] == '\t')
		return 1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f ||
		    (i && v[i] == '#' && (v[i - 1] == ' ' || v[i - 1] == '\t')))
			return 1;
	return 0;
}

void uev_cfg_put(FILE *out, const char *key, const char *v)
{
	fprintf(out, "%s = ", key);
	if (!needs_quotes(v)) {
		fputs(v, out);
	} else {
		fputc('"', out);
		for (; *v; v++) {
			if (*v == '"' || *v == '\\')
				fputc('\\', out);
			fputc(*v, out);
		}
		fputc('"', out);
	}
	fputc('\n', out);
}

void uev_cfg_put_list(FILE *out, const char *key, char *const *v, size_t n)
{
	if (!n)
		fprintf(out, "%s =\n", key);
	for (size_t i = 0; i < n; i++)
		uev_cfg_put(out, key, v[i]);
}

static void put_group(FILE *out, long gid)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (gid < 0) {
		fputs("# group: none (the ring keeps the aggregator's group)\n", out);
		return;
	}
	fprintf(out, "group = %ld", gid);
	if (!getgrgid_r((gid_t)gid, &gr, buf, sizeof buf, &res) && res && !needs_quotes(res->gr_name))
		fprintf(out, "  # %s", res->gr_name);
	fputc('\n', out);
}

int uev_config_write(const struct uev_config *c, FILE *out)
{
	static const char *const fsync_names[] = { "every-flush", "interval", "never" };
	static const char sfx[] = "KMGT";
	char v[64];
	int i;

	fprintf(out, "# uev-aggregator configuration of seat %s (see uev.conf(5))\n\n", c->seat);
	fputs("[seat]\n", out);
	uev_cfg_put(out, "clock", c->clock);
	fprintf(out, "buffer_kb = %u\nsubbuf_kb = %u\nflush_interval_ms = %u\n",
		c->buffer_kb, c->subbuf_kb, c->flush_interval_ms);
	fprintf(out, "fsync = %s\n", (unsigned)c->fsync < 3 ? fsync_names[c->fsync] : "?");
	if (c->fsync == UEV_FSYNC_INTERVAL)
		fprintf(out, "fsync_interval_s = %u\n", c->fsync_interval_s);
	fprintf(out, "keep_instance = %s\n", c->keep_instance ? "yes" : "no");

	fputs("\n[ring]\n", out);
	uev_cfg_put(out, "path", c->ring_path);
	for (i = 3; i >= 0; i--)
		if (c->ring_size && !(c->ring_size & ((UINT64_C(1) << (10 * (i + 1))) - 1)))
			break;
	if (i >= 0)
		snprintf(v, sizeof v, "%llu%c",
			 (unsigned long long)(c->ring_size >> (10 * (i + 1))), sfx[i]);
	else
		snprintf(v, sizeof v, "%llu", (unsigned long long)c->ring_size);
	fprintf(out, "size = %s\nmode = %04o\n", v, c->ring_mode);
	put_group(out, c->ring_gid);
	fprintf(out, "direct_io = %s\n", c->ring_direct ? "yes" : "no");
	fprintf(out, "compression = %s\n", uev_compression_name(c->ring_compression, v, sizeof v));

	fputs("\n[user]\n", out);
	uev_cfg_put_list(out, "schema", c->schemas, c->nschemas);
	uev_cfg_put_list(out, "event", c->user_events, c->nuser_events);

	fputs("\n[kernel]\n", out);
	if (!c->nkevents)
		fputs("event =\n", out);
	for (size_t k = 0; k < c->nkevents; k++) {
		const struct uev_kevent *e = &c->kevents[k];
		size_t n = strlen(e->system) + strlen(e->event) + 2 +
			   (e->filter ? strlen(e->filter) + 4 : 0);
		char *s = malloc(n);

		if (!s)
			return -ENOMEM;
		snprintf(s, n, "%s:%s%s%s", e->system, e->event, e->filter ? " if " : "",
			 e->filter ? e->filter : "");
		uev_cfg_put(out, "event", s);
		free(s);
	}

	fputs("\n[dyndbg]\n", out);
	uev_cfg_put_list(out, "query", c->dyndbg, c->ndyndbg);
	{
		char names[128];

		fprintf(out, "drm_debug = %s\n", uev_drm_debug_names(c->drm_debug, names, sizeof names));
	}
	fputs("\n[boot]\n", out);
	uev_cfg_put(out, "persistent_instance", c->boot_instance[0] ? c->boot_instance : "none");
	uev_cfg_write_incident(c, out);
	return fflush(out) || ferror(out) ? -EIO : 0;
}
