/* SPDX-License-Identifier: MIT */
/* Event formats of a few systems from tracefs, without what libtracefs'
 * tracefs_local_events*() also loads (kallsyms, printk formats: over a
 * second of CPU here, and not needed to find ids, pids and fields). */
#ifndef UEV_FORMATS_H
#define UEV_FORMATS_H

struct tep_handle;

/* A tep handle knowing header_page and every event of @systems
 * (NULL-terminated). NULL with errno set on failure. */
struct tep_handle *uev_formats_load(const char *const *systems);

/* Find the event with @id among all of tracefs and parse its format into
 * @tep (an event enabled after start-up, e.g. by a reload). 0 or -ENOENT. */
int uev_formats_find(struct tep_handle *tep, int id);

#endif
