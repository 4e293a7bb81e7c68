/* SPDX-License-Identifier: MIT */
/*
 * Seat configuration values (docs/uev.conf.5): the key table and one check
 * per key. Messages name the value, never the file or line (config-parse.c
 * adds those).
 */
#include "config.h"
#include "ringfile.h"
#include "uev-grow.h"
#include "uev-decode.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const struct uev_cfg_keydef uev_cfg_keys[UEV_CFG_NKEYS] = {
	[UEV_CFG_CLOCK] = { "seat", "clock", 0 },
	[UEV_CFG_BUFFER_KB] = { "seat", "buffer_kb", 0 },
	[UEV_CFG_SUBBUF_KB] = { "seat", "subbuf_kb", 0 },
	[UEV_CFG_FLUSH_MS] = { "seat", "flush_interval_ms", 0 },
	[UEV_CFG_FSYNC] = { "seat", "fsync", 0 },
	[UEV_CFG_FSYNC_INTERVAL] = { "seat", "fsync_interval_s", 0 },
	[UEV_CFG_KEEP_INSTANCE] = { "seat", "keep_instance", 0 },
	[UEV_CFG_RING_PATH] = { "ring", "path", 0 },
	[UEV_CFG_RING_SIZE] = { "ring", "size", 0 },
	[UEV_CFG_RING_MODE] = { "ring", "mode", 0 },
	[UEV_CFG_RING_GROUP] = { "ring", "group", 0 },
	[UEV_CFG_RING_DIRECT] = { "ring", "direct_io", 0 },
	[UEV_CFG_RING_COMPRESSION] = { "ring", "compression", 0 },
	[UEV_CFG_SCHEMA] = { "user", "schema", 1 },
	[UEV_CFG_USER_EVENT] = { "user", "event", 1 },
	[UEV_CFG_KERNEL_EVENT] = { "kernel", "event", 1 },
	[UEV_CFG_DYNDBG_QUERY] = { "dyndbg", "query", 1 },
	[UEV_CFG_DRM_DEBUG] = { "dyndbg", "drm_debug", 0 },
	[UEV_CFG_BOOT_INSTANCE] = { "boot", "persistent_instance", 0 },
	[UEV_CFG_TRIGGER] = { "incident", "trigger", 1 },
	[UEV_CFG_INC_BEFORE] = { "incident", "before_s", 0 },
	[UEV_CFG_INC_AFTER] = { "incident", "after_s", 0 },
	[UEV_CFG_INC_DIR] = { "incident", "dir", 0 },
	[UEV_CFG_INC_MAX_COUNT] = { "incident", "max_count", 0 },
	[UEV_CFG_INC_MAX_SIZE] = { "incident", "max_size", 0 },
	[UEV_CFG_INC_MIN_INTERVAL] = { "incident", "min_interval_s", 0 },
	[UEV_CFG_CTL_SOCKET] = { "control", "socket", 0 },
	[UEV_CFG_CTL_SNAPSHOT] = { "control", "snapshot", 1 },
	[UEV_CFG_CTL_ALLOW] = { "control", "allow", 1 },
};

#define RING_MIN ((uint64_t)260 << 10)
#define RING_MAX ((uint64_t)1 << 40)
#define FILTER_MAX 4096

const char *uev_cfg_quote(const char *s, char *buf, size_t size)
{
	size_t o = 0, i;

	if (size < 16) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '\'';
	for (i = 0; s[i] && i < 80; i++) {
		unsigned char ch = (unsigned char)s[i];
		size_t need = ch < 0x20 || ch == 0x7f ? 4 : 1;

		if (o + need + 5 > size)
			break;
		if (need == 4)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", ch);
		else
			buf[o++] = (char)ch;
	}
	if (s[i]) {
		/* cut inside a character: drop its first bytes (copied as is) */
		while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80) {
			i--;
			o--;
		}
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
}

#define Q(s) uev_cfg_quote((s), q, sizeof q)
#define FAIL(...) do { snprintf(msg, msgsize, __VA_ARGS__); return -EINVAL; } while (0)

/* Decimal digits only. 0, -EINVAL (not a number), -ERANGE (above @max). */
static int parse_uint(const char *v, unsigned long long max, unsigned long long *out)
{
	unsigned long long n = 0;
	int big = 0;

	if (!*v)
		return -EINVAL;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return -EINVAL;
		if (!big && n > (max - (unsigned)(*v - '0')) / 10)
			big = 1;
		n = n * 10 + (unsigned)(*v - '0');
	}
	*out = n;
	return big ? -ERANGE : 0;
}

int uev_cfg_set_uint(unsigned *dst, const char *v, unsigned min, unsigned max,
		     char *msg, size_t msgsize)
{
	unsigned long long n = 0;
	char q[128];
	int r = parse_uint(v, max, &n);

	if (r == -EINVAL)
		FAIL("%s is not a number (decimal digits only)", Q(v));
	if (r < 0 || n < min)
		FAIL("%s is out of range (%u .. %u)", Q(v), min, max);
	*dst = (unsigned)n;
	return 0;
}

int uev_cfg_set_bool(int *dst, const char *v, char *msg, size_t msgsize)
{
	char q[128];

	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		*dst = 1;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		*dst = 0;
	else
		FAIL("%s is not a boolean (yes, no, true, false, 1 or 0)", Q(v));
	return 0;
}

int uev_compression_parse(const char *v, int *level, char *msg, size_t msgsize)
{
	unsigned long long n;
	char q[128];
	int max = uev_ring_zstd_max_level();

	if (!strcmp(v, "none"))
		*level = 0;
	else if (!strcmp(v, "zstd"))
		*level = UEV_COMPRESSION_DEFAULT;
	else if (strncmp(v, "zstd:", 5) || parse_uint(v + 5, (unsigned long long)max, &n) < 0 || n < 1)
		FAIL("%s is not a compression: none, zstd, or zstd:LEVEL with a level of 1 to %d", Q(v), max);
	else
		*level = (int)n;
	return 0;
}

const char *uev_compression_name(int level, char *buf, size_t size)
{
	if (level <= 0)
		snprintf(buf, size, "none");
	else
		snprintf(buf, size, "zstd:%d", level);
	return buf;
}

/* A name or an fnmatch glob of name characters: * ? and [...] classes. */
int uev_cfg_glob_check(const char *v, size_t max, char *msg, size_t msgsize)
{
	size_t n = strlen(v), inclass = 0;
	int in = 0;
	char q[128];

	if (n >= max)
		FAIL("%s is too long (%zu bytes, at most %zu)", Q(v), n, max - 1);
	for (const char *p = v; *p; p++) {
		if (!uev_cfg_word_char(*p) && !strchr("*?[]", *p))
			FAIL("%s: invalid character at column %zu (names and globs use "
			     "A-Z a-z 0-9 _ * ? [ ])", Q(v), (size_t)(p - v) + 1);
		if (in && *p == ']' && !inclass)
			FAIL("%s: empty [] class", Q(v));
		if (in && *p == ']')
			in = 0;
		else if (in && !uev_cfg_word_char(*p))
			FAIL("%s: '%c' inside a [...] class", Q(v), *p);
		else if (in)
			inclass++;
		else if (*p == '[')
			in = 1, inclass = 0;
		else if (*p == ']')
			FAIL("%s: ']' without '['", Q(v));
	}
	if (in)
		FAIL("%s: '[' without ']'", Q(v));
	return 0;
}

static int kevent_check(struct uev_config *c, const char *v, size_t *dup,
			char *msg, size_t msgsize)
{
	char sys[64], ev[128], q[128];
	const char *colon, *sp = v, *rest, *filter = NULL;
	int r;

	while (*sp && *sp != ' ' && *sp != '\t')
		sp++;
	rest = sp + strspn(sp, " \t");
	colon = memchr(v, ':', (size_t)(sp - v));
	if (!colon || memchr(colon + 1, ':', (size_t)(sp - colon - 1)))
		FAIL("%s is not SYSTEM:EVENT", Q(v));
	if (colon == v || (size_t)(colon - v) >= sizeof sys)
		FAIL("%s: the system name must have 1 to %zu bytes", Q(v), sizeof sys - 1);
	memcpy(sys, v, (size_t)(colon - v));
	sys[colon - v] = '\0';
	for (const char *p = sys; *p; p++)
		if (!uev_cfg_word_char(*p))
			FAIL("%s: invalid system name (A-Z a-z 0-9 _ only)", Q(v));
	if (sp == colon + 1)
		FAIL("%s: missing event name after ':'", Q(v));
	if ((size_t)(sp - colon - 1) >= sizeof ev)
		FAIL("%s: event name too long (at most %zu bytes)", Q(v), sizeof ev - 1);
	memcpy(ev, colon + 1, (size_t)(sp - colon - 1));
	ev[sp - colon - 1] = '\0';
	r = uev_cfg_glob_check(ev, sizeof ev, msg, msgsize);
	if (r < 0)
		return r;
	if (*rest) {
		if (strncmp(rest, "if", 2) || (rest[2] && rest[2] != ' ' && rest[2] != '\t'))
			FAIL("expected 'if FILTER' after the event, found %s", Q(rest));
		filter = rest + 2 + strspn(rest + 2, " \t");
		if (!*filter)
			FAIL("%s: missing filter after 'if'", Q(v));
		if (strlen(filter) > FILTER_MAX)
			FAIL("filter too long (%zu bytes, at most %d)", strlen(filter), FILTER_MAX);
	}
	for (size_t i = 0; i < c->nkevents; i++)
		if (!strcmp(c->kevents[i].system, sys) && !strcmp(c->kevents[i].event, ev)) {
			*dup = i;
			return -EEXIST;
		}
	return uev_cfg_kevent_push(c, sys, ev, filter);
}

/* Light check of a dynamic debug query: [keyword value]... flags, with at
 * least one match keyword; quoted words as the kernel tokenizes them. */
int uev_cfg_query_check(const char *v, char *msg, size_t msgsize)
{
	static const char *const kw[] = { "module", "file", "func", "line", "format", "class" };
	struct { const char *s; size_t n; } w[32];
	size_t nw = 0, k;
	int match = 0;
	char q[128], q2[128], word[128];

	for (const char *p = v; *p; ) {
		const char *s;

		p += strspn(p, " \t");
		if (!*p)
			break;
		if (nw == sizeof w / sizeof *w)
			FAIL("%s has more than %zu words", Q(v), sizeof w / sizeof *w);
		if (*p == '"' || *p == '\'') {
			const char *e = strchr(p + 1, *p);

			if (!e)
				FAIL("%s: unterminated %c quote", Q(v), *p);
			w[nw].s = p + 1;
			w[nw++].n = (size_t)(e - p - 1);
			p = e + 1;
			continue;
		}
		if (*p == '#')
			FAIL("%s: '#' would start a comment in dynamic_debug/control", Q(v));
		for (s = p; *p && *p != ' ' && *p != '\t'; p++)
			if (*p == ';')
				FAIL("%s: one query per line (';' separates queries)", Q(v));
		w[nw].s = s;
		w[nw++].n = (size_t)(p - s);
	}
	k = nw - 1; /* v is not empty, so nw >= 1 */
	snprintf(word, sizeof word, "%.*s", (int)w[k].n, w[k].s);
	if (!strchr("-+=", word[0]) || strspn(word + 1, "pmflt_") != strlen(word + 1))
		FAIL("%s: the last word %s must be the flags: - + or = followed by p m f l t _",
		     Q(v), uev_cfg_quote(word, q2, sizeof q2));
	if (k % 2)
		FAIL("%s: a keyword has no value", Q(v));
	for (size_t i = 0; i < k; i += 2) {
		size_t j;

		for (j = 0; j < sizeof kw / sizeof *kw; j++)
			if (w[i].n == strlen(kw[j]) && !memcmp(w[i].s, kw[j], w[i].n))
				break;
		if (j == sizeof kw / sizeof *kw) {
			snprintf(word, sizeof word, "%.*s", (int)w[i].n, w[i].s);
			FAIL("%s: unknown keyword %s (module, file, func, line, format or class)",
			     Q(v), uev_cfg_quote(word, q2, sizeof q2));
		}
		match |= j < 5;
	}
	if (!match)
		FAIL("%s needs at least one of module, file, func, line or format", Q(v));
	return 0;
}

static int group_check(struct uev_config *c, const char *v, char *msg, size_t msgsize)
{
	unsigned long long n;
	struct group gr, *res = NULL;
	long sz = sysconf(_SC_GETGR_R_SIZE_MAX);
	size_t cap = 0;
	char *buf = NULL, q[128];
	int r;

	if (*v >= '0' && *v <= '9') {
		r = parse_uint(v, 4294967294u, &n);
		if (r == -EINVAL)
			FAIL("%s is neither a group name nor a number", Q(v));
		if (r < 0)
			FAIL("gid %s is out of range (0 .. 4294967294)", Q(v));
		c->ring_gid = (long)n;
		return 0;
	}
	/* Room for the group's members, twice as much while too little. */
	for (size_t need = sz > 0 ? (size_t)sz : 1024;; need = cap * 2) {
		if ((r = UEV_GROW(buf, cap, need)) < 0) {
			free(buf);
			return r;
		}
		r = getgrnam_r(v, &gr, buf, cap, &res);
		if (r != ERANGE || cap >= (1 << 20))
			break;
	}
	if (!r && res)
		c->ring_gid = (long)gr.gr_gid;
	free(buf);
	if (!r && res)
		return 0;
	if (!r || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM)
		FAIL("unknown group %s", Q(v));
	FAIL("cannot look up group %s: %s", Q(v), strerror(r));
}

static int mode_check(struct uev_config *c, const char *v, char *msg, size_t msgsize)
{
	unsigned m = 0;
	char q[128];

	if (!*v || strspn(v, "01234567") != strlen(v))
		FAIL("%s is not an octal mode (like 0640)", Q(v));
	for (const char *p = v; *p; p++) {
		m = m * 8 + (unsigned)(*p - '0');
		if (m > 07777)
			FAIL("%s has bits outside 0777", Q(v));
	}
	if (m & ~0777u)
		FAIL("%s has bits outside 0777 (setuid, setgid or sticky)", Q(v));
	if (m & 0002)
		FAIL("%s is world-writable", Q(v));
	c->ring_mode = m;
	return 0;
}

static int schema_check(struct uev_config *c, const char *v, size_t *dup,
			char *msg, size_t msgsize)
{
	struct stat st;
	char q[128];
	int fd;

	if (v[0] != '/')
		FAIL("%s is not an absolute path", Q(v));
	for (size_t i = 0; i < c->nschemas; i++)
		if (!strcmp(c->schemas[i], v)) {
			*dup = i;
			return -EEXIST;
		}
	fd = open(v, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		FAIL("%s: %s", Q(v), strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		FAIL("%s is not a regular file", Q(v));
	}
	close(fd);
	return uev_cfg_strv_push(&c->schemas, &c->nschemas, &c->schemas_cap, v);
}

int uev_cfg_strv_add_unique(char ***l, size_t *n, size_t *cap, const char *v, size_t *dup)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*l)[i], v)) {
			*dup = i;
			return -EEXIST;
		}
	return uev_cfg_strv_push(l, n, cap, v);
}

/* Only clocks whose every event gets its wall time right (clock-sync.h):
 * the others would record fine and replay with wrong times, found out only
 * when they matter. */
static int clock_check(struct uev_config *c, const char *v, char *msg, size_t msgsize)
{
	const struct uev_clock_info *ci = uev_clock_find(v);
	char q[128];

	if (!ci)
		FAIL("unknown clock %s (%s)", Q(v), uev_clock_accepted);
	if (ci->method == UEV_SYNC_REFUSED)
		FAIL("clock %s cannot be put on the wall clock: %s; use %s", Q(v), ci->refused,
		     uev_clock_accepted);
	snprintf(c->clock, sizeof(c->clock), "%s", ci->name);
	return 0;
}

static int subbuf_check(struct uev_config *c, const char *v, char *msg, size_t msgsize)
{
	unsigned n = 0;
	char q[128];
	int r = uev_cfg_set_uint(&n, v, 0, 1024, msg, msgsize);

	if (r < 0)
		return r;
	if (n && (n < 4 || (n & (n - 1))))
		FAIL("%s must be 0 (the kernel's default) or a power of two from 4 to 1024", Q(v));
	c->subbuf_kb = n;
	return 0;
}

static int fsync_check(struct uev_config *c, const char *v, char *msg, size_t msgsize)
{
	char q[128];

	if (!strcmp(v, "every-flush"))
		c->fsync = UEV_FSYNC_EVERY_FLUSH;
	else if (!strcmp(v, "interval"))
		c->fsync = UEV_FSYNC_INTERVAL;
	else if (!strcmp(v, "never"))
		c->fsync = UEV_FSYNC_NEVER;
	else
		FAIL("unknown policy %s (every-flush, interval or never)", Q(v));
	return 0;
}

static int path_check(struct uev_config *c, const char *v, char *msg, size_t msgsize)
{
	char q[128];

	if (v[0] != '/')
		FAIL("%s is not an absolute path", Q(v));
	if (strlen(v) >= sizeof c->ring_path)
		FAIL("path too long (%zu bytes, at most %zu)", strlen(v), sizeof c->ring_path - 1);
	if (v[strlen(v) - 1] == '/')
		FAIL("%s ends with '/' (it must name a file)", Q(v));
	strcpy(c->ring_path, v);
	return 0;
}

/* A tracefs instance name the kernel command line can give
 * (trace_instance=NAME...): letters, digits, '_', '-', '.', and not one of
 * the seats' own instances. "none" turns it off. */
static int boot_instance_check(struct uev_config *c, const char *v, char *msg, size_t msgsize)
{
	char q[128];

	if (!strcmp(v, "none")) {
		c->boot_instance[0] = 0;
		return 0;
	}
	if (strlen(v) >= sizeof c->boot_instance)
		FAIL("%s is too long (at most %zu characters)", Q(v), sizeof c->boot_instance - 1);
	for (const char *p = v; *p; p++)
		if (!uev_cfg_word_char(*p) && *p != '-' && *p != '.')
			FAIL("%s is not an instance name (letters, digits, '_', '-', '.'), or none", Q(v));
	if (!strncmp(v, "uev.", 4) || !strcmp(v, ".") || !strcmp(v, ".."))
		FAIL("%s names a seat's own instance, not the one trace_instance= puts on reserved memory", Q(v));
	strcpy(c->boot_instance, v);
	return 0;
}

static int size_check(struct uev_config *c, const char *v, char *msg, size_t msgsize)
{
	uint64_t size = 0;
	char q[128];

	if (uev_parse_size(v, &size) < 0)
		FAIL("%s is not a size (bytes, or a number with K, M, G or T)", Q(v));
	if (size < RING_MIN || size > RING_MAX)
		FAIL("%s is out of range (260K .. 1T)", Q(v));
	c->ring_size = size;
	return 0;
}

int uev_cfg_apply(struct uev_config *c, enum uev_cfg_key key, const char *v,
		  size_t *dup, char *msg, size_t msgsize)
{
	int r;

	if (!*v) {
		switch (key) {
		case UEV_CFG_SCHEMA: uev_cfg_strv_free(&c->schemas, &c->nschemas, &c->schemas_cap); return 0;
		case UEV_CFG_USER_EVENT:
			uev_cfg_strv_free(&c->user_events, &c->nuser_events, &c->user_events_cap);
			return 0;
		case UEV_CFG_KERNEL_EVENT: uev_cfg_kevents_free(c); return 0;
		case UEV_CFG_DYNDBG_QUERY: uev_cfg_strv_free(&c->dyndbg, &c->ndyndbg, &c->dyndbg_cap); return 0;
		case UEV_CFG_TRIGGER: uev_cfg_strv_free(&c->triggers, &c->ntriggers, &c->triggers_cap); return 0;
		case UEV_CFG_CTL_SNAPSHOT:
			uev_cfg_strv_free(&c->snapshot_allow, &c->nsnapshot_allow, &c->snapshot_allow_cap);
			return 0;
		case UEV_CFG_CTL_ALLOW: uev_cfg_strv_free(&c->allow, &c->nallow, &c->allow_cap); return 0;
		default: FAIL("empty value");
		}
	}
	switch (key) {
	case UEV_CFG_CLOCK:
		return clock_check(c, v, msg, msgsize);
	case UEV_CFG_BUFFER_KB:
		return uev_cfg_set_uint(&c->buffer_kb, v, 64, 1048576, msg, msgsize);
	case UEV_CFG_SUBBUF_KB:
		return subbuf_check(c, v, msg, msgsize);
	case UEV_CFG_FLUSH_MS:
		return uev_cfg_set_uint(&c->flush_interval_ms, v, 10, 600000, msg, msgsize);
	case UEV_CFG_FSYNC:
		return fsync_check(c, v, msg, msgsize);
	case UEV_CFG_FSYNC_INTERVAL:
		return uev_cfg_set_uint(&c->fsync_interval_s, v, 1, 86400, msg, msgsize);
	case UEV_CFG_KEEP_INSTANCE:
		return uev_cfg_set_bool(&c->keep_instance, v, msg, msgsize);
	case UEV_CFG_RING_DIRECT:
		return uev_cfg_set_bool(&c->ring_direct, v, msg, msgsize);
	case UEV_CFG_RING_COMPRESSION:
		return uev_compression_parse(v, &c->ring_compression, msg, msgsize);
	case UEV_CFG_RING_PATH:
		return path_check(c, v, msg, msgsize);
	case UEV_CFG_RING_SIZE:
		return size_check(c, v, msg, msgsize);
	case UEV_CFG_RING_MODE:
		return mode_check(c, v, msg, msgsize);
	case UEV_CFG_RING_GROUP:
		return group_check(c, v, msg, msgsize);
	case UEV_CFG_SCHEMA:
		return schema_check(c, v, dup, msg, msgsize);
	case UEV_CFG_USER_EVENT:
		r = uev_cfg_glob_check(v, sizeof c->kevents->event, msg, msgsize);
		return r < 0 ? r : uev_cfg_strv_add_unique(&c->user_events, &c->nuser_events, &c->user_events_cap, v, dup);
	case UEV_CFG_KERNEL_EVENT:
		return kevent_check(c, v, dup, msg, msgsize);
	case UEV_CFG_DYNDBG_QUERY:
		r = uev_cfg_query_check(v, msg, msgsize);
		return r < 0 ? r : uev_cfg_strv_add_unique(&c->dyndbg, &c->ndyndbg, &c->dyndbg_cap, v, dup);
	case UEV_CFG_DRM_DEBUG:
		return uev_cfg_drm_parse(v, &c->drm_debug, msg, msgsize);
	case UEV_CFG_BOOT_INSTANCE:
		return boot_instance_check(c, v, msg, msgsize);
	case UEV_CFG_NKEYS:
		break;
	default:
		return uev_cfg_apply_incident(c, key, v, dup, msg, msgsize);
	}
	FAIL("internal error: unknown key");
}
