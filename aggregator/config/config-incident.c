/* SPDX-License-Identifier: MIT */
/*
 * [incident] and [control] (docs/uev.conf.5): what makes an incident
 * bundle, its window and the bounds of the directory that keeps the
 * bundles; the seat's control socket and who may use it for what. The
 * values are kept as written (the dump gives them back verbatim) and
 * checked here whole, so the recorder's parse of them cannot fail.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define Q(s) uev_cfg_quote((s), q, sizeof q)
#define FAIL(...) do { snprintf(msg, msgsize, __VA_ARGS__); return -EINVAL; } while (0)

#define REGEX_MAX 1024
#define SELECTION_MAX 512

/* Kernel error reports (KASAN, KFENCE; a WARN's too, on 6.12 and 7.3) and the
 * first line the kernel prints for a WARN, a BUG or an oops. A WARN's first
 * line is "WARNING: CPU: 0 PID: 1 at FILE:LINE FUNC" up to 6.x and
 * "WARNING: FILE:LINE at FUNC, CPU#0: COMM/PID" in 7.x (kernel/panic.c
 * __warn()). */
static const char *const default_triggers[] = {
	"error_report:error_report_end",
	"printk:console ~ ^(WARNING: CPU: |WARNING: .* CPU#[0-9]+: |BUG: |Oops: |kernel BUG at |general protection fault|UBSAN: )",
};

int uev_cfg_incident_default(struct uev_config *c)
{
	int r = 0;

	c->incident_before_s = 30;
	c->incident_after_s = 5;
	c->incident_max_count = 20;
	c->incident_max_size = (uint64_t)256 << 20;
	c->incident_min_interval_s = 60;
	snprintf(c->incident_dir, sizeof c->incident_dir, "/var/lib/uev/incidents");
	c->control_socket = 1;
	for (size_t i = 0; !r && i < sizeof default_triggers / sizeof *default_triggers; i++)
		r = uev_cfg_strv_push(&c->triggers, &c->ntriggers, &c->triggers_cap, default_triggers[i]);
	return r;
}

int uev_cfg_trigger_split(const char *v, struct uev_cfg_trigger *t, char *msg, size_t msgsize)
{
	const char *colon, *sp = v + strcspn(v, " \t");
	char q[128];
	int r;

	memset(t, 0, sizeof *t);
	colon = memchr(v, ':', (size_t)(sp - v));
	if (!colon || colon == v || sp == colon + 1)
		FAIL("%s is not SYSTEM:EVENT [~ REGEX]", Q(v));
	if ((size_t)(colon - v) >= sizeof t->system)
		FAIL("%s: the system name must have 1 to %zu bytes", Q(v), sizeof t->system - 1);
	memcpy(t->system, v, (size_t)(colon - v));
	for (const char *p = t->system; *p; p++)
		if (!uev_cfg_word_char(*p))
			FAIL("%s: invalid system name (A-Z a-z 0-9 _ only)", Q(v));
	if ((size_t)(sp - colon - 1) >= sizeof t->event)
		FAIL("%s: event name too long (at most %zu bytes)", Q(v), sizeof t->event - 1);
	memcpy(t->event, colon + 1, (size_t)(sp - colon - 1));
	if ((r = uev_cfg_glob_check(t->event, sizeof t->event, msg, msgsize)) < 0)
		return r;
	sp += strspn(sp, " \t");
	if (!*sp)
		return 0;
	if (*sp != '~' || (sp[1] != ' ' && sp[1] != '\t'))
		FAIL("expected '~ REGEX' after the event, found %s", Q(sp));
	t->regex = sp + 1 + strspn(sp + 1, " \t");
	if (!*t->regex)
		FAIL("%s: missing regular expression after '~'", Q(v));
	if (strlen(t->regex) > REGEX_MAX)
		FAIL("regular expression too long (%zu bytes, at most %d)", strlen(t->regex), REGEX_MAX);
	return 0;
}

static int trigger_check(struct uev_config *c, const char *v, size_t *dup, char *msg, size_t msgsize)
{
	struct uev_cfg_trigger t;
	regex_t re;
	char q[128], why[256];
	int r = uev_cfg_trigger_split(v, &t, msg, msgsize);

	if (r < 0)
		return r;
	if (t.regex) {
		if ((r = regcomp(&re, t.regex, REG_EXTENDED | REG_NOSUB)) != 0) {
			regerror(r, &re, why, sizeof why);
			regfree(&re);
			FAIL("%s: bad regular expression: %s", Q(t.regex), why);
		}
		regfree(&re);
	}
	return uev_cfg_strv_add_unique(&c->triggers, &c->ntriggers, &c->triggers_cap, v, dup);
}

/* A user or group by name or number; numbers need not exist. */
static int lookup(int group, const char *name, uint32_t *id)
{
	char buf[16384], *end;
	unsigned long n;

	if (group) {
		struct group gr, *res = NULL;

		if (!getgrnam_r(name, &gr, buf, sizeof buf, &res) && res) {
			*id = (uint32_t)res->gr_gid;
			return 0;
		}
	} else {
		struct passwd pw, *res = NULL;

		if (!getpwnam_r(name, &pw, buf, sizeof buf, &res) && res) {
			*id = (uint32_t)res->pw_uid;
			return 0;
		}
	}
	errno = 0;
	n = strtoul(name, &end, 10);
	if (name[0] < '0' || name[0] > '9' || *end || errno || n >= UINT32_MAX)
		return -ENOENT;
	*id = (uint32_t)n;
	return 0;
}

int uev_cfg_who_parse(const char *v, struct uev_cfg_who *who, const char **end, char *msg, size_t msgsize)
{
	size_t n = strcspn(v, " \t");
	char word[128], q[128];
	const char *colon;

	if (n >= sizeof word)
		FAIL("%s: the user or group is too long", Q(v));
	memcpy(word, v, n);
	word[n] = 0;
	*end = v + n + strspn(v + n, " \t");
	memset(who, 0, sizeof *who);
	if (!strcmp(word, "all")) {
		who->kind = UEV_WHO_ALL;
		return 0;
	}
	colon = strchr(word, ':');
	if (!colon || !colon[1])
		FAIL("%s is not user:NAME, uid:N, group:NAME, gid:N or all", Q(word));
	if (!strncmp(word, "user:", 5) || !strncmp(word, "uid:", 4)) {
		who->kind = UEV_WHO_UID;
		if (lookup(0, colon + 1, &who->id) < 0 || (word[1] == 'i' && strspn(colon + 1, "0123456789") != strlen(colon + 1)))
			FAIL("%s: no such user", Q(word));
	} else if (!strncmp(word, "group:", 6) || !strncmp(word, "gid:", 4)) {
		who->kind = UEV_WHO_GID;
		if (lookup(1, colon + 1, &who->id) < 0 || (word[1] == 'i' && strspn(colon + 1, "0123456789") != strlen(colon + 1)))
			FAIL("%s: no such group", Q(word));
	} else {
		FAIL("%s is not user:NAME, uid:N, group:NAME, gid:N or all", Q(word));
	}
	return 0;
}

int uev_cfg_grant_parse(const char *v, struct uev_cfg_grant *g, char *msg, size_t msgsize)
{
	const char *rest, *sel;
	char q[128];
	size_t n;
	int r;

	memset(g, 0, sizeof *g);
	if ((r = uev_cfg_who_parse(v, &g->who, &rest, msg, msgsize)) < 0)
		return r;
	n = strcspn(rest, " \t");
	sel = rest + n + strspn(rest + n, " \t");
	if (!*sel)
		FAIL("%s is not WHO KIND SELECTION (KIND: dyndbg, drm or event)", Q(v));
	if (strlen(sel) > SELECTION_MAX)
		FAIL("selection too long (%zu bytes, at most %d)", strlen(sel), SELECTION_MAX);
	g->selection = sel;
	if (n == 6 && !strncmp(rest, "dyndbg", 6)) {
		g->kind = UEV_SEL_DYNDBG;
		return uev_cfg_query_check(sel, msg, msgsize);
	}
	if (n == 3 && !strncmp(rest, "drm", 3)) {
		g->kind = UEV_SEL_DRM;
		if ((r = uev_cfg_drm_parse(sel, &g->drm_mask, msg, msgsize)) < 0)
			return r;
		if (!g->drm_mask)
			FAIL("%s grants no DRM category", Q(sel));
		return 0;
	}
	if (n == 5 && !strncmp(rest, "event", 5)) {
		struct uev_cfg_trigger t;

		g->kind = UEV_SEL_EVENT;
		if ((r = uev_cfg_trigger_split(sel, &t, msg, msgsize)) < 0)
			return r;
		if (t.regex)
			FAIL("%s: an event grant is SYSTEM:EVENT-GLOB, without '~'", Q(sel));
		return 0;
	}
	snprintf(msg, msgsize, "unknown kind '%.*s' (dyndbg, drm or event)", (int)(n < 32 ? n : 32), rest);
	return -EINVAL;
}

int uev_cfg_apply_incident(struct uev_config *c, enum uev_cfg_key key, const char *v, size_t *dup,
			   char *msg, size_t msgsize)
{
	struct uev_cfg_who who;
	struct uev_cfg_grant g;
	const char *end;
	char q[128];
	int r;

	switch (key) {
	case UEV_CFG_TRIGGER:
		return trigger_check(c, v, dup, msg, msgsize);
	case UEV_CFG_INC_BEFORE:
		return uev_cfg_set_uint(&c->incident_before_s, v, 0, 3600, msg, msgsize);
	case UEV_CFG_INC_AFTER:
		return uev_cfg_set_uint(&c->incident_after_s, v, 0, 600, msg, msgsize);
	case UEV_CFG_INC_MAX_COUNT:
		return uev_cfg_set_uint(&c->incident_max_count, v, 1, 100000, msg, msgsize);
	case UEV_CFG_INC_MIN_INTERVAL:
		return uev_cfg_set_uint(&c->incident_min_interval_s, v, 0, 86400, msg, msgsize);
	case UEV_CFG_INC_MAX_SIZE:
		if (uev_parse_size(v, &c->incident_max_size) < 0 || c->incident_max_size < (1u << 20))
			FAIL("%s is not a size of at least 1M (bytes, or a number with K, M, G or T)", Q(v));
		return 0;
	case UEV_CFG_INC_DIR:
		if (v[0] != '/')
			FAIL("%s is not an absolute path", Q(v));
		if (strlen(v) >= sizeof c->incident_dir - 64)
			FAIL("path too long (%zu bytes, at most %zu)", strlen(v), sizeof c->incident_dir - 65);
		snprintf(c->incident_dir, sizeof c->incident_dir, "%s", v);
		return 0;
	case UEV_CFG_CTL_SOCKET:
		return uev_cfg_set_bool(&c->control_socket, v, msg, msgsize);
	case UEV_CFG_CTL_SNAPSHOT:
		if ((r = uev_cfg_who_parse(v, &who, &end, msg, msgsize)) < 0)
			return r;
		if (*end)
			FAIL("unexpected %s after the user or group", Q(end));
		return uev_cfg_strv_add_unique(&c->snapshot_allow, &c->nsnapshot_allow, &c->snapshot_allow_cap,
					       v, dup);
	case UEV_CFG_CTL_ALLOW:
		if ((r = uev_cfg_grant_parse(v, &g, msg, msgsize)) < 0)
			return r;
		return uev_cfg_strv_add_unique(&c->allow, &c->nallow, &c->allow_cap, v, dup);
	default:
		break;
	}
	FAIL("internal error: unknown key");
}

void uev_cfg_write_incident(const struct uev_config *c, FILE *out)
{
	char v[64];
	uint64_t s = c->incident_max_size;

	fputs("\n[incident]\n", out);
	uev_cfg_put_list(out, "trigger", c->triggers, c->ntriggers);
	fprintf(out, "before_s = %u\nafter_s = %u\n", c->incident_before_s, c->incident_after_s);
	uev_cfg_put(out, "dir", c->incident_dir);
	fprintf(out, "max_count = %u\n", c->incident_max_count);
	if (!(s & ((1u << 20) - 1)))
		snprintf(v, sizeof v, "%lluM", (unsigned long long)(s >> 20));
	else
		snprintf(v, sizeof v, "%llu", (unsigned long long)s);
	fprintf(out, "max_size = %s\nmin_interval_s = %u\n", v, c->incident_min_interval_s);
	fputs("\n[control]\n", out);
	fprintf(out, "socket = %s\n", c->control_socket ? "yes" : "no");
	uev_cfg_put_list(out, "snapshot", c->snapshot_allow, c->nsnapshot_allow);
	uev_cfg_put_list(out, "allow", c->allow, c->nallow);
}
