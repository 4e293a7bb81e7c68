// SPDX-License-Identifier: MIT
/*
 * uev-weston: a Weston 10 frontend module that records Weston's own log
 * scopes into the seat's trace ring through libuev, as typed events of
 * schemas/weston.uev, next to the kernel's DRM and input events.
 *
 * Weston 10 offers a module no custom log subscriber (struct
 * weston_log_subscriber is private), but it accepts any FILE for a "log"
 * subscriber: ours are fopencookie() FILEs without a buffer, so every scope
 * write reaches scope_write() once, whole, on Weston's main thread.
 *
 * scope_write() runs inside Weston's repaint path. Its contract: no
 * allocation, no lock and no syscall except the one write of each event
 * (libuev's emit); nothing beyond reassembling the line while the seat is
 * not recording; never weston_log() (it would recurse through "log"); never
 * fail Weston. Lines are reassembled into a fixed buffer per subscription;
 * object records of the timeline fill fixed, direct-mapped name tables.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libweston/libweston.h>
#include <libweston/weston-log.h>
#include <weston.h>

#define UEV_WESTON_IMPLEMENTATION
#include "weston-uev.h"

#include "snapshot.h"
#include "tl-parse.h"
#include "uev-weston.h"

/* Ids of the timeline are allocated in order per subscription: a table
 * indexed by id modulo its size holds the newest objects; an older object
 * that loses its slot is shown with an empty name. */
#define OUTPUT_SLOTS 32
#define OUTPUT_NAME_MAX 64
#define SURFACE_SLOTS 256
#define SURFACE_DESC_MAX 256

struct uevw_names {
	struct { uint32_t id; char name[OUTPUT_NAME_MAX]; } output[OUTPUT_SLOTS];
	struct { uint32_t id; char desc[SURFACE_DESC_MAX]; } surface[SURFACE_SLOTS];
};

struct uevw_sub {
	struct uevw_module *mod;
	char scope[UEVW_SCOPE_MAX];
	bool timeline;
	FILE *file;
	struct weston_log_subscriber *subscriber;
	struct uevw_names *names;     /* timeline only */
	struct uevw_lines lines;
};

struct uevw_module {
	struct weston_compositor *compositor;
	struct wl_listener destroy_listener;
	struct uev_provider *provider;
	struct uevw_config cfg;
	int nsubs;
	struct uevw_sub *subs[UEVW_SCOPES_MAX];
	struct uevw_snapshot *snapshot;     /* the snapshot key, when bound */
	struct weston_binding *snapshot_binding;
};

static void copy_str(char *dst, size_t size, const struct uevw_str *s)
{
	size_t n = s->p ? (s->len < size - 1 ? s->len : size - 1) : 0;

	memcpy(dst, s->p ? s->p : "", n);
	dst[n] = '\0';
}

static const char *output_name(const struct uevw_names *t, uint32_t id)
{
	return t->output[id % OUTPUT_SLOTS].id == id ? t->output[id % OUTPUT_SLOTS].name : "";
}

static const char *surface_desc(const struct uevw_names *t, uint32_t id)
{
	return t->surface[id % SURFACE_SLOTS].id == id ? t->surface[id % SURFACE_SLOTS].desc : "";
}

static bool point_is(const struct uevw_record *r, const char *name)
{
	return r->name.len == strlen(name) && !memcmp(r->name.p, name, r->name.len);
}

/* One timeline point -> one typed event (its names resolved). */
static void emit_point(const struct uevw_names *t, const struct uevw_record *r)
{
	const char *on = r->has_output ? output_name(t, r->output) : "";
	const char *sd = r->has_surface ? surface_desc(t, r->surface) : "";
	uint64_t ns = r->mono_ns;
	uint32_t o = r->output;

	if (point_is(r, "core_repaint_begin"))
		uev_emit_weston_repaint_begin(ns, o, on);
	else if (point_is(r, "core_repaint_posted"))
		uev_emit_weston_repaint_posted(ns, o, on);
	else if (point_is(r, "core_repaint_finished"))
		uev_emit_weston_repaint_finished(ns, o, r->vblank_ns, on);
	else if (point_is(r, "core_commit_damage"))
		uev_emit_weston_commit_damage(ns, r->surface, sd);
	else if (point_is(r, "core_flush_damage"))
		uev_emit_weston_flush_damage(ns, r->surface, o, sd, on);
	else if (point_is(r, "core_repaint_req"))
		uev_emit_weston_repaint_req(ns, o, on);
	else if (point_is(r, "core_repaint_enter_loop"))
		uev_emit_weston_repaint_enter_loop(ns, o, on);
	else if (point_is(r, "core_repaint_exit_loop"))
		uev_emit_weston_repaint_exit_loop(ns, o, on);
	else if (point_is(r, "renderer_gpu_begin"))
		uev_emit_weston_gpu_begin(ns, o, r->gpu_ns, on);
	else if (point_is(r, "renderer_gpu_end"))
		uev_emit_weston_gpu_end(ns, o, r->gpu_ns, on);
	else if (uev_enabled(&uev_weston_timeline_point)) {
		char name[64];

		copy_str(name, sizeof(name), &r->name);
		uev_emit_weston_timeline_point(ns, o, r->surface, name, on, sd);
	}
}

static void timeline_line(void *ctx, char *line, size_t len)
{
	struct uevw_sub *sub = ctx;
	struct uevw_names *t = sub->names;
	struct uevw_record r;

	switch (uevw_parse_timeline(line, len, &r)) {
	case UEVW_POINT:
		emit_point(t, &r);
		break;
	case UEVW_OBJ_OUTPUT:   /* upsert: a later record replaces the name */
		t->output[r.id % OUTPUT_SLOTS].id = r.id;
		copy_str(t->output[r.id % OUTPUT_SLOTS].name, OUTPUT_NAME_MAX, &r.text);
		break;
	case UEVW_OBJ_SURFACE:
		t->surface[r.id % SURFACE_SLOTS].id = r.id;
		copy_str(t->surface[r.id % SURFACE_SLOTS].desc, SURFACE_DESC_MAX, &r.text);
		break;
	case UEVW_OTHER:
		break;
	}
}

static void log_line_scope(const char *scope, const char *line)
{
	const char *msg;

	if (!uev_enabled(&uev_weston_log) || uevw_log_is_date(line))
		return;
	msg = uevw_log_strip(line);
	/* "log" (mostly what the flight recorder holds too) is Weston's info
	 * log; the other scopes are debug streams */
	uev_emit_weston_log(scope, (uint8_t)uevw_log_level(msg, strcmp(scope, "log") && strcmp(scope, "flight-recorder") ? 7 : 6), msg);
}

static void log_line(void *ctx, char *line, size_t len)
{
	struct uevw_sub *sub = ctx;

	(void)len;
	log_line_scope(sub->scope, line);
}

static bool timeline_recording(void)
{
	return uev_enabled(&uev_weston_repaint_begin) || uev_enabled(&uev_weston_repaint_posted) ||
	       uev_enabled(&uev_weston_repaint_finished) || uev_enabled(&uev_weston_commit_damage) ||
	       uev_enabled(&uev_weston_flush_damage) || uev_enabled(&uev_weston_repaint_req) ||
	       uev_enabled(&uev_weston_repaint_enter_loop) || uev_enabled(&uev_weston_repaint_exit_loop) ||
	       uev_enabled(&uev_weston_gpu_begin) || uev_enabled(&uev_weston_gpu_end) ||
	       uev_enabled(&uev_weston_timeline_point);
}

/* The cookie's write function: one call per scope write (unbuffered FILE). */
static ssize_t scope_write(void *cookie, const char *data, size_t len)
{
	struct uevw_sub *sub = cookie;

	if (len == 0)
		return 0;
	if (sub->timeline) {
		/* A whole point while nobody records: nothing to do. Object
		 * records are always kept: Weston sends each one only once. */
		if (sub->lines.len == 0 && len > 6 && !memcmp(data, "{ \"T\"", 5) &&
		    data[len - 1] == '\n' && !timeline_recording())
			return (ssize_t)len;
		uevw_lines_feed(&sub->lines, data, len, timeline_line, sub);
	} else {
		if (sub->lines.len == 0 && data[len - 1] == '\n' && !uev_enabled(&uev_weston_log))
			return (ssize_t)len;
		uevw_lines_feed(&sub->lines, data, len, log_line, sub);
	}
	return (ssize_t)len;
}

static FILE *cookie_file(void *cookie)
{
	static const cookie_io_functions_t io = { .write = scope_write };
	FILE *f = fopencookie(cookie, "w", io);

	if (f)
		setvbuf(f, NULL, _IONBF, 0);
	return f;
}

static void sub_free(struct uevw_sub *sub)
{
	if (!sub)
		return;
	if (sub->subscriber)
		weston_log_subscriber_destroy(sub->subscriber);
	if (sub->file)
		fclose(sub->file);
	free(sub->names);
	free(sub);
}

static struct uevw_sub *sub_new(struct uevw_module *mod, const char *scope)
{
	struct uevw_sub *sub = calloc(1, sizeof(*sub));

	if (!sub)
		return NULL;
	sub->mod = mod;
	snprintf(sub->scope, sizeof(sub->scope), "%s", scope);
	sub->timeline = !strcmp(scope, "timeline");
	if ((sub->timeline && !(sub->names = calloc(1, sizeof(*sub->names)))) ||
	    !(sub->file = cookie_file(sub))) {
		sub_free(sub);
		return NULL;
	}
	return sub;
}

/* What Weston's flight recorder already holds (its scopes, untagged: "log"
 * and by default "drm-backend") goes into the ring as log events of scope
 * "flight-recorder", so that the start-up log before this module is kept. */
static void backfill(struct uevw_module *mod)
{
	struct uevw_sub *sub;

	if (!uev_enabled(&uev_weston_log))
		return;
	sub = sub_new(mod, "flight-recorder");
	if (!sub) {
		weston_log("uev-weston: no memory for the backfill\n");
		return;
	}
	weston_log_flight_recorder_display_buffer(sub->file);
	if (sub->lines.len)     /* a last line without '\n' */
		uevw_lines_feed(&sub->lines, "\n", 1, log_line, sub);
	sub_free(sub);
}

static void module_destroy(struct wl_listener *listener, void *data)
{
	struct uevw_module *mod = wl_container_of(listener, mod, destroy_listener);
	uint64_t dropped = 0;

	(void)data;
	wl_list_remove(&mod->destroy_listener.link);
	if (mod->snapshot_binding)
		weston_binding_destroy(mod->snapshot_binding);
	uevw_snapshot_destroy(mod->snapshot);
	for (int i = 0; i < mod->nsubs; i++) {
		dropped += mod->subs[i]->lines.dropped;
		sub_free(mod->subs[i]);
	}
	if (dropped)
		weston_log("uev-weston: %llu scope lines over %d bytes were not recorded\n",
			   (unsigned long long)dropped, UEVW_LINE_MAX - 1);
	uev_provider_close(mod->provider);
	free((char *)mod->cfg.seat);
	free(mod);
}

/* snapshot= and snapshot-key= of [uev]. */
static void read_snapshot_config(struct weston_config_section *s, struct uevw_config *cfg)
{
	char *key = NULL, err[160];

	if (weston_config_section_get_bool(s, "snapshot", &cfg->snapshot, true) < 0 && errno == EINVAL)
		weston_log("uev-weston: [uev] snapshot: not 'true' or 'false', using true\n");
	weston_config_section_get_string(s, "snapshot-key", &key, UEVW_DEFAULT_SNAPSHOT_KEY);
	if (!key || strlen(key) >= sizeof(cfg->snapshot_spec) ||
	    uevw_parse_key(key, &cfg->snapshot_key, &cfg->snapshot_mods, err, sizeof(err)) < 0) {
		weston_log("uev-weston: [uev] snapshot-key=%.64s: %s; using %s\n", key ? key : "",
			   !key ? "no memory" : strlen(key) >= sizeof(cfg->snapshot_spec) ? "too long" : err,
			   UEVW_DEFAULT_SNAPSHOT_KEY);
		free(key);
		key = strdup(UEVW_DEFAULT_SNAPSHOT_KEY);
		uevw_parse_key(UEVW_DEFAULT_SNAPSHOT_KEY, &cfg->snapshot_key, &cfg->snapshot_mods,
			       err, sizeof(err));
	}
	snprintf(cfg->snapshot_spec, sizeof(cfg->snapshot_spec), "%s", key ? key : UEVW_DEFAULT_SNAPSHOT_KEY);
	free(key);
}

/* [uev] of weston.ini. A bad value is reported and replaced by its default:
 * recording is never a reason for Weston not to start. */
static void read_config(struct weston_compositor *ec, struct uevw_config *cfg)
{
	struct weston_config_section *s =
		weston_config_get_section(wet_get_config(ec), "uev", NULL, NULL);
	char *seat = NULL, *scopes = NULL, err[128];

	if (weston_config_section_get_bool(s, "backfill", &cfg->backfill, true) < 0 && errno == EINVAL)
		weston_log("uev-weston: [uev] backfill: not 'true' or 'false', using true\n");
	weston_config_section_get_string(s, "seat", &seat, NULL);
	cfg->seat = seat;
	weston_config_section_get_string(s, "scopes", &scopes, UEVW_DEFAULT_SCOPES);
	if (!scopes || uevw_parse_scopes(scopes, cfg, err, sizeof(err)) < 0) {
		weston_log("uev-weston: [uev] scopes=%s: %s; using %s\n", scopes ? scopes : "",
			   scopes ? err : "no memory", UEVW_DEFAULT_SCOPES);
		uevw_parse_scopes(UEVW_DEFAULT_SCOPES, cfg, err, sizeof(err));
	}
	free(scopes);
	read_snapshot_config(s, cfg);
}

static int open_provider(struct uevw_module *mod)
{
	struct uev_provider_options opts = { .seat = mod->cfg.seat };
	int r = uev_provider_open(&mod->provider, &opts);

	if (r == -EINVAL && mod->cfg.seat) {
		weston_log("uev-weston: [uev] seat=%s: not a valid seat name; using the default\n",
			   mod->cfg.seat);
		free((char *)mod->cfg.seat);
		mod->cfg.seat = NULL;
		r = uev_provider_open(&mod->provider, NULL);
	}
	if (r < 0) {
		weston_log("uev-weston: nothing is recorded: %s\n", strerror(-r));
		return r;
	}
	r = uev_weston_register(mod->provider);
	if (r < 0)
		weston_log("uev-weston: registering the weston events failed (%s); %s\n",
			   strerror(-r), uev_provider_status(mod->provider));
	else if (uev_provider_backend(mod->provider) == UEV_BACKEND_OFF)
		weston_log("uev-weston: nothing is recorded: %s\n", uev_provider_status(mod->provider));
	else
		weston_log("uev-weston: %s; seat %s %s\n", uev_provider_status(mod->provider),
			   uev_provider_seat(mod->provider),
			   uev_enabled(&uev_weston_log) ? "is recording"
			   : "is not recording now (events are written while it records)");
	return 0;
}

static void subscribe(struct uevw_module *mod)
{
	struct weston_log_context *ctx = mod->compositor->weston_log_ctx;

	for (int i = 0; i < mod->cfg.nscopes; i++) {
		struct uevw_sub *sub = sub_new(mod, mod->cfg.scopes[i]);

		if (sub)
			sub->subscriber = weston_log_subscriber_create_log(sub->file);
		if (!sub || !sub->subscriber) {
			weston_log("uev-weston: scope %s not recorded: no memory\n", mod->cfg.scopes[i]);
			sub_free(sub);
			continue;
		}
		/* a scope that does not exist yet is subscribed when created */
		weston_log_subscribe(ctx, sub->subscriber, sub->scope);
		mod->subs[mod->nsubs++] = sub;
	}
}

static void snapshot_key(struct weston_keyboard *keyboard, const struct timespec *time,
			 uint32_t key, void *data)
{
	struct uevw_module *mod = data;

	(void)keyboard;
	(void)time;
	(void)key;
	uevw_snapshot_trigger(mod->snapshot);
}

/* The snapshot key: with modifiers a key binding of its own, without them
 * one of Weston's debug bindings (the shell's debug key, then this key). The
 * seat's control socket is connected to at the first press, not here: the
 * aggregator may start after Weston. */
static void bind_snapshot(struct uevw_module *mod)
{
	struct weston_compositor *ec = mod->compositor;
	char reason[UEVW_KEY_SPEC_MAX + 32];

	if (!mod->cfg.snapshot)
		return;
	snprintf(reason, sizeof(reason), "weston: snapshot key %s", mod->cfg.snapshot_spec);
	mod->snapshot = uevw_snapshot_new(wl_display_get_event_loop(ec->wl_display), mod->cfg.seat,
					  reason, weston_log);
	if (mod->snapshot)
		mod->snapshot_binding = mod->cfg.snapshot_mods
			? weston_compositor_add_key_binding(ec, mod->cfg.snapshot_key,
							    mod->cfg.snapshot_mods, snapshot_key, mod)
			: weston_compositor_add_debug_binding(ec, mod->cfg.snapshot_key, snapshot_key, mod);
	if (!mod->snapshot_binding) {
		weston_log("uev-weston: no snapshot key: no memory\n");
		return;
	}
	weston_log("uev-weston: snapshot key: %s%s, for seat %s\n",
		   mod->cfg.snapshot_mods ? "" : "the debug key (the shell's mod+shift+space), then ",
		   mod->cfg.snapshot_spec, mod->cfg.seat ? mod->cfg.seat : uev_provider_seat(mod->provider));
}

/* The events are this module's statics: a second load (the module named
 * twice) would register them again and record every line twice. */
static bool loaded;

WL_EXPORT int wet_module_init(struct weston_compositor *ec, int *argc, char *argv[])
{
	struct uevw_module *mod;

	(void)argc;
	(void)argv;
	if (loaded) {
		weston_log("uev-weston: already loaded; ignoring the second load\n");
		return 0;
	}
	loaded = true;
	mod = calloc(1, sizeof(*mod));
	if (!mod) {
		weston_log("uev-weston: no memory; nothing is recorded\n");
		return 0;
	}
	mod->compositor = ec;
	read_config(ec, &mod->cfg);
	if (open_provider(mod) < 0) {
		free((char *)mod->cfg.seat);
		free(mod);
		return 0;
	}
	/* backfill first: the flight recorder then holds every line up to
	 * this one, and the subscriptions start with the next */
	if (mod->cfg.backfill)
		backfill(mod);
	subscribe(mod);
	bind_snapshot(mod);
	mod->destroy_listener.notify = module_destroy;
	wl_signal_add(&ec->destroy_signal, &mod->destroy_listener);
	return 0;
}
