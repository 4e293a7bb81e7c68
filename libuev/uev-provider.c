/* SPDX-License-Identifier: MIT */
/*
 * Provider: one per process and seat. Opening never fails for lack of kernel
 * support or permission: such a provider simply has backend OFF, so a host
 * program can always open one and emit unconditionally.
 */
#include <errno.h>
#include <mntent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "uev-def.h"
#include "uev-internal.h"

#define TRACEFS_MAGIC 0x74726163

void uev_debug(const struct uev_provider *p, const char *fmt, ...)
{
	va_list ap;

	if (!p || !p->debug)
		return;
	va_start(ap, fmt);
	fputs("uev: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int is_tracefs(const char *dir)
{
	struct statfs sf;

	return statfs(dir, &sf) == 0 && (unsigned long)sf.f_type == TRACEFS_MAGIC;
}

/* The usual mount points first, then wherever /proc/self/mounts says. */
static int find_tracefs(char *out, size_t size)
{
	static const char *const known[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	struct mntent *m, ent;
	char buf[4096];
	FILE *f;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (is_tracefs(known[i])) {
			snprintf(out, size, "%s", known[i]);
			return 0;
		}
	f = setmntent("/proc/self/mounts", "re");
	if (!f)
		return -ENOENT;
	while ((m = getmntent_r(f, &ent, buf, sizeof(buf))))
		if (!strcmp(m->mnt_type, "tracefs") && strlen(m->mnt_dir) < size) {
			snprintf(out, size, "%s", m->mnt_dir);
			endmntent(f);
			return 0;
		}
	endmntent(f);
	return -ENOENT;
}

static int parse_backend(const char *s)
{
	if (!s || !*s || !strcmp(s, "auto"))
		return UEV_BACKEND_AUTO;
	if (!strcmp(s, "user_events"))
		return UEV_BACKEND_USER_EVENTS;
	if (!strcmp(s, "marker"))
		return UEV_BACKEND_MARKER;
	if (!strcmp(s, "off"))
		return UEV_BACKEND_OFF;
	return -EINVAL;
}

/* Pick and open the backend; on any failure leave p OFF with a reason. */
static void open_backend(struct uev_provider *p, int want)
{
	char path[sizeof(p->tracefs) + 32];
	struct stat st;

	if (want == UEV_BACKEND_OFF) {
		snprintf(p->status, sizeof(p->status), "off: disabled by request");
		return;
	}
	if (stat(p->tracefs, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(p->status, sizeof(p->status), "off: no tracefs at %s", p->tracefs);
		return;
	}
	if (want == UEV_BACKEND_AUTO) {
		snprintf(path, sizeof(path), "%s/user_events_data", p->tracefs);
		if (stat(path, &st) == 0)
			want = UEV_BACKEND_USER_EVENTS;
		else if (errno == ENOENT)
			want = UEV_BACKEND_MARKER;
		else {
			snprintf(p->status, sizeof(p->status), "off: cannot access %s: %s",
				 p->tracefs, strerror(errno));
			return;
		}
	}
	if ((want == UEV_BACKEND_USER_EVENTS ? uev_ue_open(p) : uev_marker_open(p)) == 0) {
		p->backend = want;
		snprintf(p->status, sizeof(p->status), "%s: seat %s via %s",
			 uev_backend_name(want), p->seat, p->tracefs);
	}
}

UEV_EXPORT int uev_provider_open(struct uev_provider **out, const struct uev_provider_options *opts)
{
	static const struct uev_provider_options none;
	const char *seat, *env;
	struct uev_provider *p;
	int want;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!opts)
		opts = &none;
	seat = opts->seat ? opts->seat : getenv("XDG_SEAT");
	if (!seat || !*seat)
		seat = "seat0";
	if (!uev_seat_name_ok(seat))
		return -EINVAL;
	want = opts->backend != UEV_BACKEND_AUTO ? opts->backend : parse_backend(getenv("UEV_BACKEND"));
	if (want < UEV_BACKEND_AUTO || want > UEV_BACKEND_MARKER)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->backend = UEV_BACKEND_OFF;
	p->debug = (env = getenv("UEV_DEBUG")) && *env && strcmp(env, "0");
	p->data_fd = -1;
	p->marker_fd = -1;
	p->watch_fd = -1;
	pthread_mutex_init(&p->lock, NULL);
	uev_fork_track(p);
	snprintf(p->seat, sizeof(p->seat), "%s", seat);
	env = opts->run_dir ? opts->run_dir : getenv("UEV_RUN_DIR");
	if ((env && strlen(env) >= sizeof(p->run_dir)) ||
	    (opts->tracefs && strlen(opts->tracefs) >= sizeof(p->tracefs))) {
		uev_fork_untrack(p);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return -ENAMETOOLONG;
	}
	snprintf(p->run_dir, sizeof(p->run_dir), "%s", env && *env ? env : UEV_RUN_DIR_DEFAULT);
	if (opts->tracefs)
		snprintf(p->tracefs, sizeof(p->tracefs), "%s", opts->tracefs);
	if (!opts->tracefs && find_tracefs(p->tracefs, sizeof(p->tracefs)) < 0)
		snprintf(p->status, sizeof(p->status), "off: no tracefs mounted");
	else
		open_backend(p, want);
	uev_debug(p, "%s", p->status);
	*out = p;
	return 0;
}

UEV_EXPORT void uev_provider_close(struct uev_provider *p)
{
	if (!p)
		return;
	while (p->nevents)
		uev_event_unregister(p->events[p->nevents - 1]);
	uev_fork_untrack(p);
	if (p->backend == UEV_BACKEND_MARKER || p->page)
		uev_marker_close(p);
	if (p->data_fd >= 0)
		close(p->data_fd);
	pthread_mutex_destroy(&p->lock);
	free(p->events);
	free(p);
}

UEV_EXPORT enum uev_backend uev_provider_backend(const struct uev_provider *p)
{
	return p ? p->backend : UEV_BACKEND_OFF;
}

UEV_EXPORT const char *uev_provider_status(const struct uev_provider *p)
{
	return p ? p->status : "off: no provider";
}

UEV_EXPORT const char *uev_provider_seat(const struct uev_provider *p)
{
	return p ? p->seat : "";
}

UEV_EXPORT const char *uev_backend_name(int backend)
{
	switch (backend) {
	case UEV_BACKEND_USER_EVENTS: return "user_events";
	case UEV_BACKEND_MARKER: return "marker";
	case UEV_BACKEND_AUTO: return "auto";
	case UEV_BACKEND_OFF: return "off";
	default: return "?";
	}
}
