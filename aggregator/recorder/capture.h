/* SPDX-License-Identifier: MIT */
/*
 * Capture: everything a page needs to be decoded later, written into the
 * ring file before the page itself. Event formats as tracefs prints them
 * (also for ids that appear after start: a user event registered late),
 * marker announcements, pid→comm names, and kernel-side loss.
 */
#ifndef UEV_CAPTURE_H
#define UEV_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

struct uev_ring_writer;
struct uev_capture;

struct uev_capture_stats {
	uint64_t pages, bytes, events, lost, lost_unknown, formats, announcements, comms;
	uint64_t newest_ts; /* the latest page's time stamp (its first event's) */
};

struct tracefs_instance;

/* Reads header_page/header_event of the seat's @instance (its sub-buffer
 * size is the instance's own) and the formats of the event systems
 * @systems (NULL-terminated; only events of these can be in the seat's
 * instance, and ftrace and user_events are always added) from tracefs, and
 * records the two headers, then what the pages of open units a killed
 * writer left need (uev_ring_writer_stage_pages()): call it before the
 * run begins. 0 or -errno (message in @err). */
int uev_capture_new(struct uev_capture **out, struct uev_ring_writer *w,
		    struct tracefs_instance *instance, const char *const *systems,
		    char *err, size_t errsize);

/* Record one sub-buffer of @cpu (as read from trace_pipe_raw, @len bytes
 * read), preceded by whatever metadata it needs. 0 or -errno; after
 * -ENOBUFS (the writer must write first) nothing of the page is recorded
 * or counted, and the same page can be offered again. */
int uev_capture_page(struct uev_capture *c, unsigned cpu, void *page, size_t len);
/* How many bytes of a page read from trace_pipe_raw (@len) its PAGE record
 * keeps: the header, the committed data and a stored loss count. */
size_t uev_capture_keep(const void *page, size_t len);

/* Incident triggers (trigger.h) watch the events of the pages recorded
 * from now on; NULL: none. The capture does not own @t. */
struct uev_trigger;
void uev_capture_set_trigger(struct uev_capture *c, struct uev_trigger *t);

const struct uev_capture_stats *uev_capture_stats(const struct uev_capture *c);
void uev_capture_free(struct uev_capture *c);

#endif
