/* SPDX-License-Identifier: MIT */
/*
 * Decoding of ring-buffer sub-buffers (as read from trace_pipe_raw) into
 * records: kernel events through libtraceevent, user events from marker
 * records through the announcements seen earlier in the stream (or from the
 * user_events formats the tep handle knows). Used by uev-seat's dump, by the
 * tests, and by the aggregator and replay later.
 */
#ifndef UEV_DECODE_H
#define UEV_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "uev-def.h"

struct tep_handle;
struct tep_event;
struct tep_record;

enum uev_rec_kind {
	UEV_REC_KERNEL,    /* any kernel event (printk:console, sched:…) */
	UEV_REC_USER,      /* a user event with a known definition */
	UEV_REC_ANNOUNCE,  /* a marker announcement (definition in def) */
	UEV_REC_UNKNOWN,   /* a marker record whose id was never announced */
};

struct uev_rec {
	enum uev_rec_kind kind;
	int cpu;
	int pid;
	unsigned long long ts;
	long long missed;           /* >0 lost before this record, -1 lost (count unknown) */
	struct tep_event *event;    /* kernel format of the record */
	struct tep_record *record;
	const struct uev_def *def;  /* USER and ANNOUNCE */
	const char *name;           /* user event name or "system:event" (valid during the callback) */
	uint32_t marker_id;         /* marker records */
	/* User payload (fields + string data). For USER records with a
	 * definition and ANNOUNCE ones its integers are in this machine's
	 * byte order (a swapped copy, valid until the next record, when the
	 * pages are of the other order: uev_decoder_layout); otherwise the
	 * page's bytes as recorded. */
	const uint8_t *payload;
	size_t len;
};

struct uev_decoder;

/* @tep must know the header page and the ftrace:raw_data format. */
int uev_decoder_new(struct uev_decoder **out, struct tep_handle *tep);
void uev_decoder_free(struct uev_decoder *d);

/*
 * The pages to come were written by a kernel of another byte order
 * (@big_endian) or word size (@long_size 4 or 8): kbuffer reads their
 * headers so, the tep handle their fields (tep_set_file_bigendian,
 * tep_set_long_size), and user payloads are handed out in this machine's
 * byte order. The default is this machine's own layout. 0, -ENOTSUP for a
 * long size no kernel has, -ENOMEM. The tep handle's header_page must be
 * parsed with the same long size.
 */
int uev_decoder_layout(struct uev_decoder *d, int big_endian, unsigned long_size);

/*
 * Only the events of the tep handle whose ids are set in @visible (a bit
 * per id below 65536, uev_id_visible; NULL, the default: all) are known to
 * the decoder: the others decode, and are checked, as events without a
 * format. The bitmap stays the caller's and may change between pages. For
 * a handle that holds formats a file brings only later (ringdecode.c keeps
 * handles across decodes of the same formats).
 */
void uev_decoder_visible(struct uev_decoder *d, const uint64_t *visible);

/* Decode with @tep from now on (the same formats so far, parsed again
 * into another handle: ringdecode.c), with the layout set by
 * uev_decoder_layout(). Between pages only. 0. */
int uev_decoder_set_tep(struct uev_decoder *d, struct tep_handle *tep);

/* Stop iterating when the callback returns non-zero (that value is returned). */
typedef int (*uev_rec_fn)(void *ctx, const struct uev_rec *r);

/* Decode one sub-buffer read from per_cpu/cpu@cpu/trace_pipe_raw (@size
 * bytes: all of it, or as a ring file keeps it, the header, the committed
 * data and a stored missed count). A sub-buffer that is not safe to decode
 * (uev_page_check) gives -EBADMSG, the reason in uev_decoder_why(). With
 * @fn NULL only the announcements are learnt: a thread may announce an event
 * on one CPU and another thread use it on another, so a reader that does not
 * merge CPUs by time must pre-scan every page before decoding any. */
int uev_decoder_page(struct uev_decoder *d, void *page, size_t size, int cpu, uev_rec_fn fn, void *ctx);
const char *uev_decoder_why(const struct uev_decoder *d);

/* The same one record at a time, for a reader that merges pages: load()
 * a sub-buffer (it must stay in place until next() returns 0), then
 * next() fills @r and @rec (r->record = @rec) and returns 1 per record, 0
 * at the page end. @r is valid until the next call. */
int uev_decoder_load(struct uev_decoder *d, void *page, size_t size, int cpu);
int uev_decoder_next(struct uev_decoder *d, struct uev_rec *r, struct tep_record *rec);

/* Learn a marker announcement kept outside the ring pages (the ring file's
 * ANNOUNCE records): @def is "name fields". 0 or -EINVAL if malformed. */
int uev_decoder_announce(struct uev_decoder *d, uint32_t id, const char *def);

/* A marker record that was UNKNOWN when decoded, now that its id may have
 * been announced: 1 when it became USER (def, name, payload as next() would
 * have set them), 0 when it stays unknown. Only for the current record. */
int uev_decoder_resolve(struct uev_decoder *d, struct uev_rec *r);

/* The definition and name announced for marker id @id, or NULL. */
const struct uev_def *uev_decoder_find(struct uev_decoder *d, uint32_t id, const char **name);

/* Announcements that conflicted (same id, another definition). */
unsigned uev_decoder_conflicts(const struct uev_decoder *d);

/*
 * The task name a kernel event gives a pid as it happens: a fork names the
 * child (child_comm), task_rename the task (newcomm), an exec the task (the
 * basename of filename, as the kernel sets comm). 1 with *pid and @comm
 * (at most 15 characters, NUL-terminated) filled, 0 for any other event or
 * a field that cannot be read. Shared by the aggregator's COMM records,
 * replay's names and trace.dat's cmdlines, so all three name alike.
 */
int uev_event_comm(struct tep_event *ev, struct tep_record *rec, int32_t *pid, char comm[16]);

#endif
