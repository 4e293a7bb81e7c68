/* SPDX-License-Identifier: MIT */
/*
 * What a sub-buffer from a file must satisfy before kbuffer and
 * libtraceevent may read it. Neither bounds its reads by anything but the
 * page's own header, and kbuffer loops forever on an event length that does
 * not move it forward; pages straight from the kernel are always sane, but
 * a ring file can be damaged or made up, and its reader must not crash or
 * hang on it (found by tests/fuzz, reproducers in tests/fuzz/crashes/).
 */
#include <stdint.h>
#include <string.h>
#include <event-parse.h>

#include "page-check.h"

/* One kernel event's data (@len bytes): every field of its format inside
 * it, every dynamic field's string inside it and NUL-terminated, because
 * libtraceevent prints those with %s. */
static int fields_inside(struct tep_handle *tep, const uint64_t *visible, const struct uev_page_layout *l,
			 const uint8_t *data, uint32_t len)
{
	struct tep_format_field *f;
	struct tep_event *ev;
	uint16_t type;

	if (len < 8) /* the common fields every lookup reads */
		return 0;
	type = uev_page_get16(l, data);
	if (!tep || !(ev = tep_find_event(tep, type)) || !uev_id_visible(visible, ev->id))
		return 1; /* printed as unknown: nothing of it is read */
	for (f = ev->format.fields; f; f = f->next) {
		uint32_t v, off, n;

		if (f->offset < 0 || (uint64_t)f->offset + (uint64_t)(f->size > 0 ? f->size : 0) > len)
			return 0;
		if (!(f->flags & TEP_FIELD_IS_DYNAMIC))
			continue;
		if ((uint64_t)f->offset + 4 > len)
			return 0;
		v = uev_page_get32(l, data + f->offset);
		off = (v & 0xffff) + (f->flags & TEP_FIELD_IS_RELATIVE ? (uint32_t)(f->offset + f->size) : 0);
		n = v >> 16;
		if (off > len || n > len - off || ((f->flags & TEP_FIELD_IS_STRING) && !memchr(data + off, 0, len - off)))
			return 0;
	}
	return 1;
}

int uev_page_check(struct tep_handle *tep, const void *page, size_t size, const char **why)
{
	return uev_page_check_as(tep, page, size, NULL, why);
}

int uev_page_check_as(struct tep_handle *tep, const void *page, size_t size,
		      const struct uev_page_layout *l, const char **why)
{
	return uev_page_check_visible(tep, NULL, page, size, l, why);
}

int uev_page_check_visible(struct tep_handle *tep, const uint64_t *visible, const void *page, size_t size,
			   const struct uev_page_layout *l, const char **why)
{
	struct uev_page_walk w;
	const uint8_t *body;
	uint32_t len;
	int r;

	if (uev_page_walk_init_as(&w, page, size, l, why) < 0)
		return 0;
	while ((r = uev_page_walk_next(&w, &body, &len, why)) > 0)
		if (!fields_inside(tep, visible, &w.lay, body, len)) {
			*why = "an event's fields or strings run past the event";
			return 0;
		}
	return r == 0;
}
