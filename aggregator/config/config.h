/* SPDX-License-Identifier: MIT */
/*
 * The seat configuration of uev-aggregator (format: docs/uev.conf.5): the
 * embedded default, the parser that applies a file on top of it, validation
 * and the dump in the same syntax. No globals, no printing: every message
 * goes to the caller's buffer as "FILE:LINE: [section] key: message" (or
 * "FILE:LINE: message" for syntax errors, "FILE: message" for I/O errors).
 */
#ifndef UEV_CONFIG_H
#define UEV_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct uev_kevent {
	char system[64];
	char event[128];   /* name or glob */
	char *filter;      /* ftrace filter, verbatim; NULL if none */
};

struct uev_config {
	char seat[64];
	char clock[16];
	unsigned buffer_kb, subbuf_kb, flush_interval_ms, fsync_interval_s;
	enum { UEV_FSYNC_EVERY_FLUSH, UEV_FSYNC_INTERVAL, UEV_FSYNC_NEVER } fsync;
	int keep_instance;
	char ring_path[4096];
	uint64_t ring_size;
	unsigned ring_mode;
	long ring_gid; /* -1: none */
	int ring_direct; /* O_DIRECT where the file system allows it */
	int ring_compression; /* zstd level of the ring's units; 0: none */
	/* Lists: n entries of a cap-sized array (UEV_GROW); a list moves
	 * between configurations with its capacity. */
	char **schemas;
	size_t nschemas, schemas_cap;
	char **user_events;
	size_t nuser_events, user_events_cap;
	struct uev_kevent *kevents;
	size_t nkevents, kevents_cap;
	char **dyndbg;
	size_t ndyndbg, dyndbg_cap;
	unsigned drm_debug; /* DRM debug categories the seat adds to drm.debug; 0: none */
	/* [boot] persistent_instance: the tracefs instance on memory that
	 * survives a warm reboot (trace_instance=NAME^traceoff@LABEL), ""
	 * for none (the default). */
	char boot_instance[64];
	/* [incident] (config-incident.c): what makes an incident bundle, the
	 * window it covers and the bounds of the directory that keeps them */
	char **triggers;               /* "SYSTEM:EVENT-GLOB [~ REGEX]" */
	size_t ntriggers, triggers_cap;
	unsigned incident_before_s, incident_after_s, incident_max_count, incident_min_interval_s;
	uint64_t incident_max_size;
	char incident_dir[4096];
	/* [control]: the seat's socket and who may use it for what */
	int control_socket;
	char **snapshot_allow;         /* "WHO" */
	size_t nsnapshot_allow, snapshot_allow_cap;
	char **allow;                  /* "WHO KIND SELECTION" */
	size_t nallow, allow_cap;
};

/* The embedded default for @seat: clock boot, buffer_kb 4096, subbuf_kb 0,
 * flush 1000 ms, fsync interval 30 s, ring /var/lib/uev/<seat>.ring 64M 0640
 * no group, direct I/O, schemas: every regular *.uev file in @schema_dir
 * (absolute paths, sorted bytewise; NULL or a missing directory: none), kernel events
 * printk:console, sched:sched_process_exec, sched:sched_process_fork,
 * task:task_rename, no user events, no dyndbg queries, drm_debug none.
 * 0, -EINVAL (bad seat name), -ENOMEM or -errno (unreadable @schema_dir). */
int uev_config_default(struct uev_config *c, const char *seat, const char *schema_dir);

/* Parse @path on top of @c (which must come from uev_config_default): keys
 * given replace their value; a repeatable key given at least once replaces
 * the whole list for that key. @errs (may be NULL) receives all messages
 * (up to 50 errors), separated by newlines, NUL-terminated, truncated
 * safely. 0 or -EINVAL (bad content), -ENOMEM, -errno (I/O: "FILE: strerror").
 * On error @c is left unchanged. */
int uev_config_load(struct uev_config *c, const char *path, char *errs, size_t errsize);

/* Same, from a string (for tests); @name is used in messages. */
int uev_config_parse(struct uev_config *c, const char *name, const char *text,
		     char *errs, size_t errsize);

/* The effective configuration in the same syntax, every key and list given
 * explicitly: parsing it on top of any default gives @c back. 0 or -EIO. */
int uev_config_write(const struct uev_config *c, FILE *out);

/* A deep copy of @src into @dst (which it sets up: free it with
 * uev_config_free), through the dump and the parser, which give a
 * configuration back whole. 0, -ENOMEM, or -EINVAL when @src no longer
 * parses (a schema file it names is gone). */
int uev_config_copy(struct uev_config *dst, const struct uev_config *src);

/* Frees the lists; @c is zeroed (freeing it again is harmless). */
void uev_config_free(struct uev_config *c);

/* Size parser shared with --size: digits with an optional binary suffix
 * K, M, G or T (either case): "64M", "1048576", "260K". -EINVAL on junk or
 * overflow of 64 bits. */
int uev_parse_size(const char *s, uint64_t *out);

/* [ring] compression, shared with --compression: "none" (0), "zstd"
 * (UEV_COMPRESSION_DEFAULT) or "zstd:N" (N from 1 to zstd's highest
 * level) into *level. 0, or -EINVAL with the reason in @msg. */
#define UEV_COMPRESSION_DEFAULT 1
int uev_compression_parse(const char *v, int *level, char *msg, size_t msgsize);
/* @level as uev_compression_parse() reads it back: "none" or "zstd:N". */
const char *uev_compression_name(int level, char *buf, size_t size);

/* The DRM debug categories of drm.debug that [dyndbg] drm_debug may name:
 * bit 0 core .. bit 9 drmres (docs/uev.conf.5). */
#define UEV_DRM_DEBUG_KNOWN 0x3ffu

/* @mask (bits of UEV_DRM_DEBUG_KNOWN) as category names separated by
 * single spaces, "none" for 0, in bit order: the drm_debug value that
 * parses back to @mask. Bits outside the known ones are written as one hex
 * number at the end. Returns @buf (truncated safely). */
const char *uev_drm_debug_names(unsigned long long mask, char *buf, size_t size);

/* ---- Internal to config.c, config-parse.c and config-check.c ---------- */

/* The characters of section, key and event names: [A-Za-z0-9_]. */
static inline int uev_cfg_word_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_';
}

enum uev_cfg_key {
	UEV_CFG_CLOCK, UEV_CFG_BUFFER_KB, UEV_CFG_SUBBUF_KB, UEV_CFG_FLUSH_MS,
	UEV_CFG_FSYNC, UEV_CFG_FSYNC_INTERVAL, UEV_CFG_KEEP_INSTANCE,
	UEV_CFG_RING_PATH, UEV_CFG_RING_SIZE, UEV_CFG_RING_MODE, UEV_CFG_RING_GROUP,
	UEV_CFG_RING_DIRECT, UEV_CFG_RING_COMPRESSION,
	UEV_CFG_SCHEMA, UEV_CFG_USER_EVENT, UEV_CFG_KERNEL_EVENT, UEV_CFG_DYNDBG_QUERY,
	UEV_CFG_DRM_DEBUG, UEV_CFG_BOOT_INSTANCE,
	UEV_CFG_TRIGGER, UEV_CFG_INC_BEFORE, UEV_CFG_INC_AFTER, UEV_CFG_INC_DIR,
	UEV_CFG_INC_MAX_COUNT, UEV_CFG_INC_MAX_SIZE, UEV_CFG_INC_MIN_INTERVAL,
	UEV_CFG_CTL_SOCKET, UEV_CFG_CTL_SNAPSHOT, UEV_CFG_CTL_ALLOW,
	UEV_CFG_NKEYS
};

struct uev_cfg_keydef {
	const char *section, *key;
	int repeatable;
};

/* Indexed by enum uev_cfg_key. */
extern const struct uev_cfg_keydef uev_cfg_keys[UEV_CFG_NKEYS];

/* Check @value of @key and store it in @c (lists: append; an empty value of
 * a repeatable key empties its list). 0; -EINVAL with a message in @msg;
 * -EEXIST if the entry is already in the list (*dup: its index); -ENOMEM. */
int uev_cfg_apply(struct uev_config *c, enum uev_cfg_key key, const char *value,
		  size_t *dup, char *msg, size_t msgsize);

/* The value of [dyndbg] drm_debug: words separated by blanks or commas,
 * each a category name (any case, "DRM_UT_" prefix optional), "none", or a
 * number (decimal, or 0x and hex digits) within UEV_DRM_DEBUG_KNOWN; the
 * mask is their OR. 0 or -EINVAL with a message naming the bad word. */
int uev_cfg_drm_parse(const char *v, unsigned *mask, char *msg, size_t msgsize);

/* @s for a message: single-quoted, control bytes as \xNN, cut after 80 bytes. */
const char *uev_cfg_quote(const char *s, char *buf, size_t size);

/* Parse @len bytes of @text (may hold NULs, which are errors) on top of @c;
 * messages are appended to @errs. */
int uev_cfg_parse_buf(struct uev_config *c, const char *name, const char *text, size_t len,
		      char *errs, size_t errsize);

/* Append one message to @errs (newline before it unless first). */
void uev_cfg_errf(char *errs, size_t errsize, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A copy of @s appended to the list (*@v, *@n, *@cap). 0 or -ENOMEM. */
int uev_cfg_strv_push(char ***v, size_t *n, size_t *cap, const char *s);
/* Frees the list's strings and array; all three are zeroed. */
void uev_cfg_strv_free(char ***v, size_t *n, size_t *cap);
int uev_cfg_kevent_push(struct uev_config *c, const char *system, const char *event,
			const char *filter);
void uev_cfg_kevents_free(struct uev_config *c);

/* ---- [incident] and [control] (config-incident.c) ---------------------- */

/* A trigger value split: the event's system and name glob, and the POSIX
 * extended regular expression after " ~ " (NULL: none). 0 or -EINVAL. */
struct uev_cfg_trigger {
	char system[64], event[128];
	const char *regex; /* into the value */
};
int uev_cfg_trigger_split(const char *v, struct uev_cfg_trigger *t, char *msg, size_t msgsize);

/* Who a [control] grant names: a user or group (by name in the file,
 * resolved when it is read), or everyone. */
struct uev_cfg_who {
	enum { UEV_WHO_UID, UEV_WHO_GID, UEV_WHO_ALL } kind;
	uint32_t id;
};
/* What an allow grant lets its holder enable for the seat. */
enum uev_cfg_sel_kind { UEV_SEL_DYNDBG, UEV_SEL_DRM, UEV_SEL_EVENT };
struct uev_cfg_grant {
	struct uev_cfg_who who;
	enum uev_cfg_sel_kind kind;
	const char *selection; /* into the value: a dyndbg query, DRM categories, an event glob */
	unsigned drm_mask;     /* UEV_SEL_DRM: the categories */
};
/* "user:NAME", "uid:N", "group:NAME", "gid:N" or "all" at the start of
 * @v; *@end after it. 0 or -EINVAL (an unknown user or group too). */
int uev_cfg_who_parse(const char *v, struct uev_cfg_who *who, const char **end, char *msg, size_t msgsize);
/* "WHO KIND SELECTION" (KIND dyndbg, drm or event). 0 or -EINVAL. */
int uev_cfg_grant_parse(const char *v, struct uev_cfg_grant *g, char *msg, size_t msgsize);
/* Check one [incident]/[control] key (uev_cfg_apply's share). */
int uev_cfg_apply_incident(struct uev_config *c, enum uev_cfg_key key, const char *v, size_t *dup,
			   char *msg, size_t msgsize);
/* The two sections in the dump's syntax. */
void uev_cfg_write_incident(const struct uev_config *c, FILE *out);
/* Their built-in defaults (uev_config_default). 0 or -ENOMEM. */
int uev_cfg_incident_default(struct uev_config *c);
/* One "key = value" line, quoted when needed; a list (empty: "key ="). */
void uev_cfg_put(FILE *out, const char *key, const char *v);
void uev_cfg_put_list(FILE *out, const char *key, char *const *v, size_t n);

/* Shared by the checks (config-check.c). */
int uev_cfg_glob_check(const char *v, size_t max, char *msg, size_t msgsize);
int uev_cfg_query_check(const char *v, char *msg, size_t msgsize);
int uev_cfg_set_uint(unsigned *dst, const char *v, unsigned min, unsigned max, char *msg, size_t msgsize);
int uev_cfg_set_bool(int *dst, const char *v, char *msg, size_t msgsize);
int uev_cfg_strv_add_unique(char ***l, size_t *n, size_t *cap, const char *v, size_t *dup);

#endif
