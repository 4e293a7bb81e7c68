/* SPDX-License-Identifier: MIT */
#ifndef UEV_FORMAT_VET_H
#define UEV_FORMAT_VET_H

/* Can libtraceevent parse @text (an event's format file) without
 * crashing or hanging? 1 yes, 0 no (it is parsed in a child to find out). */
int uev_format_vet(const char *system, const char *text);

#endif
