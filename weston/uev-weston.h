/* SPDX-License-Identifier: MIT */
/* uev-weston's configuration ([uev] in weston.ini), parsed without Weston. */
#ifndef UEVW_UEV_WESTON_H
#define UEVW_UEV_WESTON_H

#include <stdbool.h>
#include <stddef.h>

#define UEVW_SCOPES_MAX 8
#define UEVW_SCOPE_MAX 64
#define UEVW_DEFAULT_SCOPES "log,timeline"

struct uevw_config {
	const char *seat;                       /* NULL: libuev's default */
	int nscopes;
	char scopes[UEVW_SCOPES_MAX][UEVW_SCOPE_MAX];
	bool backfill;
};

/* uevw_parse_scopes() - "a,b, c" into @cfg->scopes: names of [A-Za-z0-9_-],
 * at most UEVW_SCOPES_MAX, no duplicates, at least one.
 * Return: 0, or -EINVAL with the reason in @err. */
int uevw_parse_scopes(const char *list, struct uevw_config *cfg, char *err, size_t errsize);

#endif
