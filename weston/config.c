// SPDX-License-Identifier: MIT
/* [uev] scopes= of weston.ini, checked before anything is subscribed. */
#include "uev-weston.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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
