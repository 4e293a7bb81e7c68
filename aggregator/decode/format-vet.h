/* SPDX-License-Identifier: MIT */
#ifndef UEV_FORMAT_VET_H
#define UEV_FORMAT_VET_H

/* Can libtraceevent parse @text (an event's format file) without
 * crashing or hanging? 1 yes, 0 no (it is parsed in a child to find out). */
int uev_format_vet(const char *system, const char *text);

/*
 * Parse a format text from a file into @tep: vetted (above), and when its
 * print fmt could read past a record (a __print_hex or __print_array whose
 * length is not bounded by the record, __get_str of a field that is not a
 * string), the event is marked as failed to parse, which makes
 * tep_print_event() print its fields one by one, each inside the record
 * (uev_page_check). 0, -EINVAL when refused or not parsed.
 */
struct tep_handle;
int uev_format_parse(struct tep_handle *tep, const char *system, const char *text, int vetted);

#endif
