/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <event-parse.h>
#include <tracefs.h>

#include "formats.h"

struct tep_handle *uev_formats_load(const char *const *systems)
{
	struct tep_handle *tep = tep_alloc();
	char *hp;
	int size;

	if (!tep)
		return NULL;
	hp = tracefs_instance_file_read(NULL, "events/header_page", &size);
	if (!hp || tep_parse_header_page(tep, hp, (unsigned long)size, sizeof(long)) < 0) {
		free(hp);
		tep_free(tep);
		errno = ENOENT;
		return NULL;
	}
	free(hp);
	for (size_t i = 0; systems && systems[i]; i++) {
		char **evs = tracefs_system_events(NULL, systems[i]);

		for (size_t j = 0; evs && evs[j]; j++) {
			char *fmt = tracefs_event_file_read(NULL, systems[i], evs[j], "format", &size);

			/* An event that vanished meanwhile, or a format this
			 * libtraceevent cannot parse, is skipped: its records
			 * are still kept, printed as unknown later. */
			if (fmt)
				tep_parse_event(tep, fmt, (unsigned long)size, systems[i]);
			free(fmt);
		}
		tracefs_list_free(evs);
	}
	return tep;
}

int uev_formats_find(struct tep_handle *tep, int id)
{
	char **sys = tracefs_event_systems(NULL);
	int found = -ENOENT;

	for (size_t i = 0; sys && sys[i] && found < 0; i++) {
		char **evs = tracefs_system_events(NULL, sys[i]);

		for (size_t j = 0; evs && evs[j] && found < 0; j++) {
			char *txt = tracefs_event_file_read(NULL, sys[i], evs[j], "id", NULL);
			int size;

			if (txt && atoi(txt) == id) {
				char *fmt = tracefs_event_file_read(NULL, sys[i], evs[j], "format", &size);

				if (fmt && tep_parse_event(tep, fmt, (unsigned long)size, sys[i]) == 0)
					found = 0;
				free(fmt);
			}
			free(txt);
		}
		tracefs_list_free(evs);
	}
	tracefs_list_free(sys);
	return found;
}
