/* SPDX-License-Identifier: MIT */
/* uev-weston's configuration ([uev] in weston.ini), parsed without Weston. */
#ifndef UEVW_UEV_WESTON_H
#define UEVW_UEV_WESTON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UEVW_SCOPES_MAX 8
#define UEVW_SCOPE_MAX 64
#define UEVW_DEFAULT_SCOPES "log,timeline"
/* the snapshot key: Weston's debug binding (mod+shift+space), then this */
#define UEVW_DEFAULT_SNAPSHOT_KEY "u"
#define UEVW_KEY_SPEC_MAX 64

/* Modifier bits, the values of libweston's enum weston_keyboard_modifier. */
#define UEVW_MOD_CTRL  (1u << 0)
#define UEVW_MOD_ALT   (1u << 1)
#define UEVW_MOD_SUPER (1u << 2)
#define UEVW_MOD_SHIFT (1u << 3)

struct uevw_config {
	const char *seat;                       /* NULL: libuev's default */
	int nscopes;
	char scopes[UEVW_SCOPES_MAX][UEVW_SCOPE_MAX];
	bool backfill;
	bool snapshot;                          /* the snapshot key is bound */
	uint32_t snapshot_key;                  /* evdev key code */
	uint32_t snapshot_mods;                 /* 0: a debug binding */
	char snapshot_spec[UEVW_KEY_SPEC_MAX];  /* as configured, for the log */
};

/* uevw_parse_scopes() - "a,b, c" into @cfg->scopes: names of [A-Za-z0-9_-],
 * at most UEVW_SCOPES_MAX, no duplicates, at least one.
 * Return: 0, or -EINVAL with the reason in @err. */
int uevw_parse_scopes(const char *list, struct uevw_config *cfg, char *err, size_t errsize);

/* uevw_parse_key() - "u", "f12", "ctrl+alt+s": at most one key name (a-z,
 * 0-9, f1-f12, space, print, pause, scrolllock, insert, delete, home, end)
 * after modifiers ctrl, alt, super, shift joined by '+', case-insensitive.
 * No modifier: the key is a debug binding (after Weston's debug key).
 * Return: 0, or -EINVAL with the reason in @err. */
int uevw_parse_key(const char *spec, uint32_t *key, uint32_t *mods, char *err, size_t errsize);

#endif
