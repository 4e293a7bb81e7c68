// SPDX-License-Identifier: MIT
/* [uev] scopes= and snapshot-key= of weston.ini, checked before anything
 * is subscribed or bound. */
#include "uev-weston.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <linux/input-event-codes.h>

static bool scope_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

int uevw_parse_scopes(const char *list, struct uevw_config *cfg, char *err, size_t errsize)
{
	const char *p = list;

	cfg->nscopes = 0;
	for (;;) {
		size_t n = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		while (scope_char(p[n]))
			n++;
		if (n == 0 || n >= UEVW_SCOPE_MAX) {
			snprintf(err, errsize, "scope %d: %s", cfg->nscopes + 1,
				 n ? "name too long" : "empty or bad character (names are [A-Za-z0-9_-])");
			return -EINVAL;
		}
		if (cfg->nscopes == UEVW_SCOPES_MAX) {
			snprintf(err, errsize, "more than %d scopes", UEVW_SCOPES_MAX);
			return -EINVAL;
		}
		memcpy(cfg->scopes[cfg->nscopes], p, n);
		cfg->scopes[cfg->nscopes][n] = '\0';
		for (int i = 0; i < cfg->nscopes; i++)
			if (!strcmp(cfg->scopes[i], cfg->scopes[cfg->nscopes])) {
				snprintf(err, errsize, "scope '%s' twice", cfg->scopes[i]);
				return -EINVAL;
			}
		cfg->nscopes++;
		p += n;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return 0;
		if (*p++ != ',') {
			snprintf(err, errsize, "scope %d: bad character '%c' (names are [A-Za-z0-9_-])",
				 cfg->nscopes, p[-1]);
			return -EINVAL;
		}
	}
}

/* The keys a snapshot binding may use, by their evdev codes. */
static const struct { const char *name; uint32_t code; } keys[] = {
	{ "a", KEY_A }, { "b", KEY_B }, { "c", KEY_C }, { "d", KEY_D }, { "e", KEY_E },
	{ "f", KEY_F }, { "g", KEY_G }, { "h", KEY_H }, { "i", KEY_I }, { "j", KEY_J },
	{ "k", KEY_K }, { "l", KEY_L }, { "m", KEY_M }, { "n", KEY_N }, { "o", KEY_O },
	{ "p", KEY_P }, { "q", KEY_Q }, { "r", KEY_R }, { "s", KEY_S }, { "t", KEY_T },
	{ "u", KEY_U }, { "v", KEY_V }, { "w", KEY_W }, { "x", KEY_X }, { "y", KEY_Y },
	{ "z", KEY_Z }, { "0", KEY_0 }, { "1", KEY_1 }, { "2", KEY_2 }, { "3", KEY_3 },
	{ "4", KEY_4 }, { "5", KEY_5 }, { "6", KEY_6 }, { "7", KEY_7 }, { "8", KEY_8 },
	{ "9", KEY_9 }, { "f1", KEY_F1 }, { "f2", KEY_F2 }, { "f3", KEY_F3 }, { "f4", KEY_F4 },
	{ "f5", KEY_F5 }, { "f6", KEY_F6 }, { "f7", KEY_F7 }, { "f8", KEY_F8 }, { "f9", KEY_F9 },
	{ "f10", KEY_F10 }, { "f11", KEY_F11 }, { "f12", KEY_F12 }, { "space", KEY_SPACE },
	{ "print", KEY_SYSRQ }, { "pause", KEY_PAUSE }, { "scrolllock", KEY_SCROLLLOCK },
	{ "insert", KEY_INSERT }, { "delete", KEY_DELETE }, { "home", KEY_HOME }, { "end", KEY_END },
};

static const struct { const char *name; uint32_t bit; } mods_by_name[] = {
	{ "ctrl", UEVW_MOD_CTRL }, { "alt", UEVW_MOD_ALT }, { "super", UEVW_MOD_SUPER },
	{ "shift", UEVW_MOD_SHIFT },
};

int uevw_parse_key(const char *spec, uint32_t *key, uint32_t *mods, char *err, size_t errsize)
{
	const char *p = spec;

	*key = 0;
	*mods = 0;
	for (;;) {
		const char *plus = strchr(p, '+');
		size_t n = plus ? (size_t)(plus - p) : strlen(p);
		bool found = false;

		if (n == 0) {
			snprintf(err, errsize, "'%s': empty name", spec);
			return -EINVAL;
		}
		if (plus) {
			for (size_t i = 0; i < sizeof(mods_by_name) / sizeof(mods_by_name[0]); i++)
				if (strlen(mods_by_name[i].name) == n && !strncasecmp(p, mods_by_name[i].name, n)) {
					if (*mods & mods_by_name[i].bit) {
						snprintf(err, errsize, "'%s': %s twice", spec, mods_by_name[i].name);
						return -EINVAL;
					}
					*mods |= mods_by_name[i].bit;
					found = true;
				}
			if (!found) {
				snprintf(err, errsize, "'%s': '%.*s' is no modifier (ctrl, alt, super, shift)",
					 spec, (int)(n < 32 ? n : 32), p);
				return -EINVAL;
			}
			p = plus + 1;
			continue;
		}
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcasecmp(p, keys[i].name)) {
				*key = keys[i].code;
				return 0;
			}
		snprintf(err, errsize, "'%s': unknown key '%.32s' (a-z, 0-9, f1-f12, space, print, "
			 "pause, scrolllock, insert, delete, home, end)", spec, p);
		return -EINVAL;
	}
}
