/* SPDX-License-Identifier: MIT */
/*
 * Invariant: when uev_capture_page() appends a PAGE, every event id in it
 * has its FORMAT, and every marker announcement in it its ANNOUNCE, earlier
 * in the ring file. The writer repeats both in each segment's checkpoint,
 * so the ring can lose any older segment without losing what a younger one
 * needs. Formats are read from tracefs the first time an id is met, and the
 * tep handle is reloaded when an id is unknown to it: dynamic events (user
 * events) can be created while the aggregator runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event-parse.h>
#include <tracefs.h>

#include "capture.h"
#include "trigger.h"
#include "uev-decode.h"
#include "uev-seat.h"
#include "ringfile.h"
#include "uev-abi.h"

#define MAX_ID 65536    /* common_type is a u16 */
#define MAX_PIDS 4194304 /* pid_max limit */

#define MAX_SYSTEMS 64
#define PEND_MAX 64
#define PEND_BYTES (1u << 20)

/* What the per-event loop does with an id, looked up once per event. */
enum id_kind {
	ID_NEW = 0, /* format not recorded yet */
	ID_PLAIN,   /* nothing but its pid */
	ID_NAMES,   /* fork, exec, rename: also a pid's name */
	ID_MARKER,  /* ftrace raw_data: may be a marker announcement */
};
/* Or'ed into an id's kind: an incident trigger watches it (trigger.h). */
#define ID_WATCH 0x80

struct uev_capture {
	struct uev_ring_writer *w;
	const char *systems[MAX_SYSTEMS + 3];
	struct tep_handle *tep;
	uint8_t *kind;           /* [MAX_ID]: enum id_kind */
	uint8_t *pid_seen;       /* bitmap [MAX_PIDS/8]: comm recorded */
	int raw_id, raw_id_off, raw_buf_off;
	int name_ids[3];         /* sched_process_fork, sched_process_exec, task_rename */
	int type_off, pid_off;   /* common_type (u16) and common_pid (s32); -1: ask tep */
	struct uev_capture_stats st;
	struct uev_ring_sync sync; /* a sync marker's point, until written */
	int have_sync;
	struct uev_trigger *trig;  /* NULL: no incident triggers */
	/* Recorded pages that hold marker events of ids not announced yet:
	 * the announcement may be in another CPU's page, drained later; when
	 * it comes, their events go to the triggers after all (bounded: the
	 * oldest go first). */
	struct pend { unsigned cpu; size_t len; uint8_t *page; } pend[PEND_MAX];
	unsigned npend;
	size_t pend_bytes;
};

/* The ids of the events that name processes, looked up whenever the tep
 * handle learns formats, so that the per-event path only compares ids. */
static void find_name_ids(struct uev_capture *c)
{
	static const char *const names[3][2] = {
		{ "sched", "sched_process_fork" }, { "sched", "sched_process_exec" },
		{ "task", "task_rename" },
	};

	for (int i = 0; i < 3; i++) {
		struct tep_event *e = tep_find_event_by_name(c->tep, names[i][0], names[i][1]);

		c->name_ids[i] = e ? e->id : -1;
	}
}

/* Every event starts with the same common fields; where they have the
 * usual types, read them in place instead of through tep per event (a
 * fifth of the aggregator's CPU at 800k events/s went to tep_data_type
 * and tep_data_pid, bench/drain). */
static void find_common(struct uev_capture *c)
{
	struct tep_event *any = tep_get_events_count(c->tep) > 0 ? tep_get_event(c->tep, 0) : NULL;
	struct tep_format_field *t = any ? tep_find_common_field(any, "common_type") : NULL;
	struct tep_format_field *p = any ? tep_find_common_field(any, "common_pid") : NULL;

	c->type_off = t && t->size == 2 ? t->offset : -1;
	c->pid_off = p && p->size == 4 ? p->offset : -1;
}

/* @data: an event body of at least 8 bytes. */
static __attribute__((noinline)) int event_type_tep(struct uev_capture *c, const uint8_t *data)
{
	struct tep_record rec = { .data = (void *)data };

	return tep_data_type(c->tep, &rec);
}

static __attribute__((noinline)) int event_pid_tep(struct uev_capture *c, const uint8_t *data)
{
	struct tep_record rec = { .data = (void *)data };

	return tep_data_pid(c->tep, &rec);
}

static inline int event_type(struct uev_capture *c, const uint8_t *data)
{
	uint16_t v;

	if (c->type_off < 0)
		return event_type_tep(c, data);
	memcpy(&v, data + c->type_off, 2);
	return v;
}

static inline int event_pid(struct uev_capture *c, const uint8_t *data)
{
	int32_t v;

	if (c->pid_off < 0)
		return event_pid_tep(c, data);
	memcpy(&v, data + c->pid_off, 4);
	return v;
}

/* The instance can only hold events of the configured systems. */
static int load_tep(struct uev_capture *c)
{
	struct tep_handle *tep = uev_formats_load(c->systems);
	struct tep_event *raw;
	struct tep_format_field *fid, *fbuf;

	if (!tep)
		return -ENOENT;
	tep_free(c->tep);
	c->tep = tep;
	c->raw_id = -1;
	raw = tep_find_event_by_name(tep, "ftrace", "raw_data");
	fid = raw ? tep_find_field(raw, "id") : NULL;
	fbuf = raw ? tep_find_field(raw, "buf") : NULL;
	if (fid && fbuf) {
		c->raw_id = raw->id;
		c->raw_id_off = fid->offset;
		c->raw_buf_off = fbuf->offset;
	}
	find_name_ids(c);
	find_common(c);
	return 0;
}

static int record_header(struct uev_capture *c, struct tracefs_instance *inst,
			 enum uev_ring_format_kind kind, const char *file)
{
	char *text = tracefs_instance_file_read(inst, file, NULL);
	int r;

	if (!text)
		return -errno ? -errno : -ENOENT;
	r = uev_ring_writer_format(c->w, kind, 0, "", file, text);
	free(text);
	return r;
}

static int adopt(void *ctx, unsigned cpu, const void *page, size_t len);

int uev_capture_new(struct uev_capture **out, struct uev_ring_writer *w,
		    struct tracefs_instance *instance, const char *const *systems,
		    char *err, size_t errsize)
{
	struct uev_capture *c = calloc(1, sizeof(*c));
	size_t n = 0;
	int r;

	if (!c)
		return -ENOMEM;
	c->w = w;
	c->systems[n++] = "ftrace";
	c->systems[n++] = "user_events";
	for (size_t i = 0; systems && systems[i] && n < MAX_SYSTEMS; i++)
		c->systems[n++] = systems[i];
	c->kind = calloc(MAX_ID, 1);
	c->pid_seen = calloc(MAX_PIDS / 8, 1);
	if (!c->kind || !c->pid_seen) {
		uev_capture_free(c);
		return -ENOMEM;
	}
	r = load_tep(c);
	if (r == 0)
		r = record_header(c, instance, UEV_RING_FMT_HEADER_PAGE, "events/header_page");
	if (r == 0)
		r = record_header(c, instance, UEV_RING_FMT_HEADER_EVENT, "events/header_event");
	if (r == 0 && (r = uev_ring_writer_stage_pages(w, adopt, c)) < 0) {
		snprintf(err, errsize, "recording what the open units a stopped aggregator left need: %s",
			 strerror(-r));
		uev_capture_free(c);
		return r;
	}
	if (r < 0) {
		snprintf(err, errsize, "cannot read the event formats from tracefs: %s", strerror(-r));
		uev_capture_free(c);
		return r;
	}
	*out = c;
	return 0;
}

void uev_capture_free(struct uev_capture *c)
{
	if (!c)
		return;
	tep_free(c->tep);
	for (unsigned i = 0; i < c->npend; i++)
		free(c->pend[i].page);
	free(c->kind);
	free(c->pid_seen);
	free(c);
}

void uev_capture_set_trigger(struct uev_capture *c, struct uev_trigger *t)
{
	c->trig = t;
	/* ids met already (pages a killed run left) are looked at again */
	for (int id = 0; t && id < MAX_ID; id++) {
		struct tep_event *ev;

		if (c->kind[id] != ID_NEW && (ev = tep_find_event(c->tep, id)) &&
		    uev_trigger_wants(t, ev->system, ev->name))
			c->kind[id] |= ID_WATCH;
	}
}

const struct uev_capture_stats *uev_capture_stats(const struct uev_capture *c)
{
	return &c->st;
}

static int record_format(struct uev_capture *c, int id)
{
	struct tep_event *ev = tep_find_event(c->tep, id);
	char *text;
	int r;

	if (!ev && load_tep(c) == 0) /* created after we loaded the formats */
		ev = tep_find_event(c->tep, id);
	if (!ev && uev_formats_find(c->tep, id) == 0) { /* of a system enabled later */
		ev = tep_find_event(c->tep, id);
		find_name_ids(c);
	}
	/* An id tracefs cannot explain is not retried per event. */
	c->kind[id] = id == c->name_ids[0] || id == c->name_ids[1] || id == c->name_ids[2] ? ID_NAMES
		      : id == c->raw_id ? ID_MARKER : ID_PLAIN;
	if (!ev)
		return 0;
	if (uev_trigger_wants(c->trig, ev->system, ev->name))
		c->kind[id] |= ID_WATCH;
	text = tracefs_event_file_read(NULL, ev->system, ev->name, "format", NULL);
	if (!text)
		return 0;
	r = uev_ring_writer_format(c->w, UEV_RING_FMT_EVENT, (uint32_t)id, ev->system, ev->name, text);
	free(text);
	c->st.formats += r == 0;
	return r;
}

/* The comm of @pid for the page being taken: the writer's when it knows
 * the pid (it then names it again in a segment that has not yet), else
 * from /proc while it lives (the common case: emitters and kernel threads
 * outlive a flush interval). 1: named now. */
static int record_comm(struct uev_capture *c, int pid)
{
	char path[32], comm[32] = "";
	ssize_t n;
	int fd;

	if (pid <= 0 || pid >= MAX_PIDS)
		return 0;
	if ((c->pid_seen[pid / 8] & (1u << (pid % 8))) && uev_ring_writer_comm_use(c->w, pid) != -ENOENT)
		return 0;
	c->pid_seen[pid / 8] |= (uint8_t)(1u << (pid % 8));
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	comm[n] = 0;
	comm[strcspn(comm, "\n")] = 0;
	n = uev_ring_writer_comm(c->w, pid, comm);
	return n < 0 ? (int)n : 1;
}

/* Names from the scheduler's own events, for processes too short-lived for
 * /proc to still know them at the next flush: fork (child_comm), exec (the
 * basename of filename, as the kernel sets comm), rename (newcomm). */
static int record_sched_comm(struct uev_capture *c, unsigned cpu, const uint8_t *data, uint32_t size)
{
	struct tep_record rec = { .cpu = (int)cpu, .data = (void *)data, .size = (int)size };
	char comm[16];
	int32_t pid;

	if (!uev_event_comm(tep_find_event_by_record(c->tep, &rec), &rec, &pid, comm) || pid <= 0 ||
	    pid >= MAX_PIDS)
		return 0;
	c->pid_seen[pid / 8] |= (uint8_t)(1u << (pid % 8));
	pid = uev_ring_writer_comm(c->w, (int32_t)pid, comm);
	return pid < 0 ? pid : 1;
}

static void rescan(struct uev_capture *c, uint32_t mid);
static void watch(struct uev_capture *c, unsigned cpu, const void *page, size_t len, int64_t only_mid);

/* A marker announcement: u32 event id, definition, NUL. */
static int record_announce(struct uev_capture *c, const uint8_t *data, int size)
{
	const uint8_t *p = data + c->raw_buf_off;
	int len = size - c->raw_buf_off;
	uint32_t id;

	if (len < 6 || memchr(p + 4, 0, (size_t)len - 4) == NULL)
		return 0;
	memcpy(&id, p, 4);
	if (uev_trigger_announce(c->trig, id, (const char *)p + 4) == 1)
		rescan(c, id);
	len = uev_ring_writer_announce(c->w, id, (const char *)p + 4);
	return len < 0 ? len : 1;
}

/* The kernel's loss mark on @page: 0 none, -1 lost without a count, or
 * the count the kernel stored behind the data (read as kbuffer reads it:
 * a stored count of 0 is no loss). */
static int64_t page_missed(const uint8_t *page, size_t len)
{
	uint64_t flags, count = 0;
	size_t at;

	if (len < UEV_PAGE_HDR)
		return 0;
	memcpy(&flags, page + 8, 8);
	if (!(flags & UEV_PAGE_MISSED_EVENTS))
		return 0;
	if (!(flags & UEV_PAGE_MISSED_STORED))
		return -1;
	at = UEV_PAGE_HDR + (flags & UEV_PAGE_COMMIT_MASK);
	if (at + 8 > len)
		return -1;
	memcpy(&count, page + at, 8);
	return count > INT64_MAX ? INT64_MAX : (int64_t)count;
}

size_t uev_capture_keep(const void *page, size_t len)
{
	size_t keep = UEV_PAGE_HDR + uev_page_commit(page, len) + (page_missed(page, len) > 0 ? 8 : 0);

	return len < UEV_PAGE_HDR ? len : keep < len ? keep : len;
}

/* A recorded page with events of markers not announced yet, kept for
 * when they are. */
static void defer(struct uev_capture *c, unsigned cpu, const void *page, size_t len)
{
	uint8_t *copy;

	if (len > PEND_BYTES || !(copy = malloc(len)))
		return;
	while (c->npend && (c->npend == PEND_MAX || c->pend_bytes + len > PEND_BYTES)) {
		c->pend_bytes -= c->pend[0].len;
		free(c->pend[0].page);
		memmove(c->pend, c->pend + 1, --c->npend * sizeof *c->pend);
	}
	memcpy(copy, page, len);
	c->pend[c->npend++] = (struct pend){ cpu, len, copy };
	c->pend_bytes += len;
}

/* Marker @mid was just announced, and a trigger watches it: the kept
 * pages' events of it go to the triggers now. */
static void rescan(struct uev_capture *c, uint32_t mid)
{
	for (unsigned i = 0; i < c->npend; i++)
		watch(c, c->pend[i].cpu, c->pend[i].page, c->pend[i].len, mid);
}

/* The watched events of a recorded page, to the triggers, each (the rate
 * limit, min_interval_s, decides how many of them fire). */
static void watch(struct uev_capture *c, unsigned cpu, const void *page, size_t len, int64_t only_mid)
{
	struct uev_page_walk walk;
	const uint8_t *data;
	const char *why;
	uint32_t size;

	if (uev_page_walk_init(&walk, page, len, &why))
		return;
	while (uev_page_walk_next(&walk, &data, &size, &why) > 0) {
		int id = size >= 8 ? event_type(c, data) : -1, marker = 0;
		uint32_t mid = 0;

		if (id < 0 || id >= MAX_ID)
			continue;
		if ((c->kind[id] & ~ID_WATCH) == ID_MARKER && size > (uint32_t)c->raw_buf_off) {
			memcpy(&mid, data + c->raw_id_off, 4);
			marker = uev_trigger_marker_watched(c->trig, mid);
		}
		if (only_mid >= 0 ? !marker || mid != (uint64_t)only_mid : !(c->kind[id] & ID_WATCH) && !marker)
			continue;
		uev_trigger_event(c->trig, c->tep, cpu, page, len, data, size, marker, mid,
				  marker ? data + c->raw_buf_off : NULL, marker ? size - (uint32_t)c->raw_buf_off : 0);
	}
}

/*
 * A page is recorded whole or not at all, so that a caller told -ENOBUFS
 * can offer the same page again: the metadata it needs is idempotent
 * (formats and announcements already known are not written again, a pid
 * already named is not named again), its LOST and PAGE records go in
 * together, and the counters move only once it is in.
 */
static int capture(struct uev_capture *c, unsigned cpu, const void *page, size_t len, int record)
{
	struct uev_page_walk walk;
	const uint8_t *data;
	const char *why;
	uint32_t size;
	int r = 0, bad, last_pid = 0, unknown = 0;
	uint64_t events = 0, announcements = 0, comms = 0;
	/* The page holds an event a trigger watches: looked at once the page
	 * is in (a page refused with -ENOBUFS comes again). */
	int watched = 0;
	int64_t missed = page_missed(page, len);
	size_t keep = uev_capture_keep(page, len);

	/* A page the walk finds malformed cannot come from the kernel's ring
	 * buffer; it is still kept as it came, for the reader to report. */
	bad = uev_page_walk_init(&walk, page, len, &why);
	/* Per event: one table lookup for its id, and its pid is only
	 * looked up when it changes (pages come in runs of one task's events). */
	while (r == 0 && !bad && uev_page_walk_next(&walk, &data, &size, &why) > 0) {
		int id = size >= 8 ? event_type(c, data) : -1, pid, kind;

		events++;
		if (id < 0 || id >= MAX_ID)
			continue;
		if (c->kind[id] == ID_NEW && (r = record_format(c, id)) < 0)
			break;
		kind = c->kind[id];
		if (kind & ID_WATCH) {
			kind &= ~ID_WATCH;
			watched = 1;
		}
		pid = event_pid(c, data);
		if (pid != last_pid) {
			comms += (r = record_comm(c, pid)) > 0;
			if (r < 0)
				break;
			r = 0;
		}
		last_pid = pid;
		if (kind == ID_NAMES) {
			comms += (r = record_sched_comm(c, cpu, data, size)) > 0;
			r = r < 0 ? r : 0;
		} else if (kind == ID_MARKER && size > (uint32_t)c->raw_buf_off) {
			struct uev_ring_sync sy;
			uint32_t mid;

			memcpy(&mid, data + c->raw_id_off, 4);
			if (c->trig && !watched && uev_trigger_marker_watched(c->trig, mid))
				watched = 1;
			else if (!unknown && mid != UEV_MARKER_ANNOUNCE && mid != UEV_MARKER_SYNC &&
				 uev_trigger_user(c->trig) && !uev_trigger_marker_known(c->trig, mid))
				unknown = 1;
			if (mid == UEV_MARKER_ANNOUNCE) {
				announcements += (r = record_announce(c, data, (int)size)) > 0;
				r = r < 0 ? r : 0;
			}
			/* the aggregator's own sync marker (clock-sync.h): its
			 * SYNC goes before this PAGE, so the page's events use it */
			else if (mid == UEV_MARKER_SYNC &&
				 uev_sync_marker_match(page, len, data, size, (uint32_t)c->raw_buf_off, pid, &sy) > 0) {
				/* A marker matches once: its SYNC is kept until written, so
				 * a page offered again after -ENOBUFS still gets it. */
				c->sync = sy;
				c->have_sync = 1;
			}
		}
	}
	if (r == 0 && c->have_sync && (r = uev_ring_writer_sync(c->w, &c->sync)) == 0)
		c->have_sync = 0;
	if (r == 0 && record)
		r = uev_ring_writer_page_lost(c->w, cpu, page, keep, missed != 0, missed > 0 ? (uint64_t)missed : 0);
	if (r < 0)
		return r;
	if (watched && record)
		watch(c, cpu, page, len, -1);
	if (unknown && record)
		defer(c, cpu, page, len);
	c->st.events += events;
	c->st.announcements += announcements;
	c->st.comms += comms;
	if (record) { /* an adopted page's LOST is the killed run's */
		c->st.lost += missed > 0 ? (uint64_t)missed : 0;
		c->st.lost_unknown += missed < 0;
	}
	c->st.pages++;
	c->st.bytes += keep;
	if (len >= 8) {
		uint64_t ts;

		memcpy(&ts, page, 8);
		c->st.newest_ts = ts > c->st.newest_ts ? ts : c->st.newest_ts;
	}
	return 0;
}

int uev_capture_page(struct uev_capture *c, unsigned cpu, void *page, size_t len)
{
	return capture(c, cpu, page, len, 1);
}

/* A page of an open unit a killed writer left: its metadata is recorded
 * again, as for a page read now, since the unit becomes this run's. Its
 * LOST record went in before it, in the killed run. */
static int adopt(void *ctx, unsigned cpu, const void *page, size_t len)
{
	return capture(ctx, cpu, page, len, 0);
}
