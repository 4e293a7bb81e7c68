/* SPDX-License-Identifier: MIT */
/*
 * A bundle written out (incident.h): the scratch replayed into a ring
 * writer, run by run with the source's run ids, into a file sized for it,
 * then put in place atomically. A ring file holds a fixed size and wraps;
 * a bundle must not lose its start, so the size is estimated from the
 * scratch and checked afterwards (the oldest record must be the first the
 * writer wrote), and the file written again twice as large if not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <kbuffer.h>

#include "bundle-int.h"

struct out {
	struct uev_bundle *b;
	const char *tmp;
	uint64_t size;
	const struct uev_ring_incident *inc;
	struct uev_ring_writer *w;
	struct uev_ring_counters end;
	struct run_meta names; /* pid -> name as the scratch gives them so far (comm only) */
	/* Every name the scratch gives, for a pid a page uses before the COMM
	 * that names it: the source's writer names the pids of the pages in
	 * an open unit when it writes its COMM batch, which may come after a
	 * unit of another CPU sealed earlier. */
	struct run_meta later;
	struct kbuffer *kb;
};

#define RETRY(w, call) ({ int r_ = (call); if (r_ == -ENOBUFS && uev_ring_writer_flush(w) == 0) r_ = (call); r_; })

/* Every pid a page uses named in the bundle (the writer keeps a segment's
 * names to what its pages use). */
static int name_pid(void *ctx, int32_t pid)
{
	struct out *o = ctx;
	const char *n;
	int r = uev_ring_writer_comm_use(o->w, pid);

	if (r == -ENOENT && ((n = meta_name(&o->names, pid)) || (n = meta_name(&o->later, pid))))
		r = uev_ring_writer_comm(o->w, pid, n);
	return r == -ENOENT ? 0 : r;
}

int bundle_page_pids(struct kbuffer *kb, void *page, int (*fn)(void *ctx, int32_t pid), void *ctx)
{
	unsigned long long ts;
	int r;

	if (kbuffer_load_subbuffer(kb, page) < 0)
		return 0;
	for (void *d = kbuffer_read_event(kb, &ts); d; d = kbuffer_next_event(kb, &ts)) {
		int32_t pid;

		if (kbuffer_event_size(kb) < 8)
			continue;
		memcpy(&pid, (uint8_t *)d + 4, 4);
		if ((r = fn(ctx, pid)) < 0)
			return r;
	}
	return 0;
}

/* Names from a COMM: learnt; a renamed pid renamed in the writer too. */
static int comm(struct out *o, const struct scr_hdr *h, const uint8_t *p)
{
	struct uev_ring_comm_rec c;
	int r;

	if (uev_ring_rec_comm(&(struct uev_ring_rec){ .type = UEV_RING_COMM, .len = h->len, .payload = p }, &c) < 0)
		return 0;
	for (uint32_t i = 0; i < c.count; i++) {
		const char *old;
		int32_t pid;
		char name[16];

		uev_ring_comm_entry(&c, i, &pid, name);
		old = meta_name(&o->names, pid);
		if (old && strcmp(old, name) && o->w && (r = RETRY(o->w, uev_ring_writer_comm(o->w, pid, name))) < 0)
			return r;
	}
	return meta_learn(&o->names, &(struct uev_ring_rec){ .type = UEV_RING_COMM, .len = h->len, .payload = p });
}

static int run_end(struct out *o, const struct uev_ring_counters *end)
{
	int r = uev_ring_writer_close(o->w, end);

	o->w = NULL;
	o->end = (struct uev_ring_counters){ 0 };
	return r;
}

static int run_begin(struct out *o, const struct uev_ring_run_info *ri, uint64_t run_id, char *err, size_t errsize)
{
	struct uev_ring_create c = { .path = o->tmp, .size = o->size, .seat = o->b->seat, .mode = 0640,
				     .gid = (gid_t)-1, .compression = ri->compression };
	int r;

	if (o->w && (r = run_end(o, &o->end)) < 0)
		return r;
	if ((r = uev_ring_writer_open(&o->w, &c, err, errsize)) < 0)
		return r;
	if ((r = uev_ring_writer_begin_run_as(o->w, ri, run_id)) < 0 ||
	    (r = RETRY(o->w, uev_ring_writer_incident(o->w, o->inc))) < 0) {
		snprintf(err, errsize, "%s: starting run %llu: %s", o->tmp, (unsigned long long)run_id, strerror(-r));
		return r;
	}
	if (o->kb)
		kbuffer_free(o->kb);
	o->kb = kbuffer_alloc(ri->long_size == 4 ? KBUFFER_LSIZE_4 : KBUFFER_LSIZE_8,
			      ri->byte_order == UEV_RING_BIG_ENDIAN ? KBUFFER_ENDIAN_BIG : KBUFFER_ENDIAN_LITTLE);
	return o->kb ? 0 : -ENOMEM;
}

static int record(struct out *o, const struct scr_hdr *h, uint8_t *p, char *err, size_t errsize)
{
	struct uev_ring_rec rec = { .type = h->type, .cpu = h->cpu, .len = h->len, .payload = p };
	struct uev_ring_run_start_rec rs;
	struct uev_ring_format_rec f;
	struct uev_ring_announce_rec a;
	struct uev_ring_sync s;
	struct uev_ring_lost_rec l;
	struct uev_ring_run_end_rec e;

	if (h->type == UEV_RING_RUN_START) {
		if (uev_ring_rec_run_start(&rec, &rs) < 0 || (o->w && uev_ring_writer_run_id(o->w) == rs.run_id))
			return 0;
		return run_begin(o, &rs.info, rs.run_id, err, errsize);
	}
	if (h->type == UEV_RING_COMM)
		return comm(o, h, p);
	if (!o->w || uev_ring_writer_run_id(o->w) != h->run_id)
		return 0;
	switch (h->type) {
	case UEV_RING_SYNC:
		return uev_ring_rec_sync(&rec, &s) < 0 ? 0 : RETRY(o->w, uev_ring_writer_sync(o->w, &s));
	case UEV_RING_FORMAT:
		return uev_ring_rec_format(&rec, &f) < 0 ? 0 :
		       RETRY(o->w, uev_ring_writer_format(o->w, f.kind, f.id, f.system, f.name, f.text));
	case UEV_RING_ANNOUNCE:
		return uev_ring_rec_announce(&rec, &a) < 0 ? 0 : RETRY(o->w, uev_ring_writer_announce(o->w, a.id, a.def));
	case UEV_RING_LOST:
		if (uev_ring_rec_lost(&rec, &l) < 0)
			return 0;
		o->end.lost += l.count;
		return RETRY(o->w, uev_ring_writer_lost(o->w, l.cpu, l.count));
	case UEV_RING_PAGE: {
		int r = bundle_page_pids(o->kb, p, name_pid, o);

		o->end.pages++;
		o->end.bytes += h->len;
		return r < 0 ? r : RETRY(o->w, uev_ring_writer_page(o->w, h->cpu, p, h->len));
	}
	case UEV_RING_RUN_END:
		return uev_ring_rec_run_end(&rec, &e) < 0 ? 0 : run_end(o, &e.counters);
	default:
		return 0;
	}
}

/* The whole scratch into a ring file of o->size at o->tmp. */
static int write_all(struct out *o, char *err, size_t errsize)
{
	struct scr_hdr h;
	uint8_t *buf = NULL;
	size_t cap = 0;
	int r = 0, n;

	unlink(o->tmp);
	if (fseeko(o->b->scr, 0, SEEK_SET))
		return -errno;
	while (r >= 0 && (n = scr_next(o->b->scr, &h, &buf, &cap)) > 0)
		if (h.type == UEV_RING_COMM)
			r = meta_learn(&o->later, &(struct uev_ring_rec){ .type = UEV_RING_COMM, .len = h.len,
									  .payload = buf });
	if (r < 0 || n < 0 || fseeko(o->b->scr, 0, SEEK_SET)) {
		free(buf);
		return r < 0 ? r : -EIO;
	}
	while (r >= 0 && (n = scr_next(o->b->scr, &h, &buf, &cap)) > 0)
		r = record(o, &h, buf, err, errsize);
	if (r >= 0 && n < 0)
		r = n;
	if (r >= 0 && !o->w && !o->b->nruns) {
		/* nothing of the run was readable: a run of the seat alone, for the incident */
		struct uev_ring_run_info ri = { .byte_order = uev_ring_host_byte_order(),
						.long_size = uev_ring_host_long_size() };

		snprintf(ri.seat, sizeof(ri.seat), "%s", o->b->seat);
		r = run_begin(o, &ri, o->b->run_id, err, errsize);
	}
	if (o->w) {
		int r2 = run_end(o, &o->end);

		r = r < 0 ? r : r2;
	}
	free(buf);
	if (r < 0 && !err[0])
		snprintf(err, errsize, "%s: writing the bundle: %s", o->tmp, strerror(-r));
	return r;
}

/* Did the writer keep everything: nothing overwritten by a wrap? *@used:
 * the bytes its records took. */
static int whole(const char *path, uint64_t *used)
{
	struct uev_ring_reader *rd;
	struct uev_ring_rec rec;
	char e[64];
	int ok;

	if (uev_ring_reader_open(&rd, path, NULL, NULL, e, sizeof(e)) < 0)
		return 0;
	while (uev_ring_reader_next(rd, &rec) > 0)
		;
	ok = uev_ring_reader_stats(rd)->seq_first <= 1 && !uev_ring_reader_stats(rd)->seq_gaps;
	*used = uev_ring_reader_stats(rd)->bytes_used;
	uev_ring_reader_close(rd);
	return ok;
}

/* A file for @bytes of records, with room for each segment's checkpoint
 * and the record that does not fit at its end. */
static uint64_t size_for(uint64_t bytes)
{
	uint64_t seg = 64u << 10, need = bytes + bytes / 4 + 64 * 1024;
	uint64_t n = need / (seg / 2) + 1;

	if (n > 64) { /* larger files have larger segments: a checkpoint and
		       * an unfitting record cost a smaller share of each */
		seg = 4u << 20;
		n = need / (seg - seg / 4) + 1;
	}
	return 4096 + (n < 4 ? 4 : n) * seg;
}

int uev_bundle_finish(struct uev_bundle *b, const char *dir, const char *name,
		      const struct uev_incident_info *info, uint64_t *bytes, char *err, size_t errsize)
{
	char tmp[4096], dst[4096];
	struct uev_ring_incident inc = { 0 };
	struct timespec now;
	struct stat sb;
	struct out o = { .b = b };
	int r = 0, dfd, shrunk = 0;

	if (bytes)
		*bytes = 0;
	err[0] = 0;
	if (b->finished || !dir || !name || !*name || strchr(name, '/') || !info) {
		snprintf(err, errsize, "%s: a bundle is finished once, with a directory and a plain name", b->path);
		return -EINVAL;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.tmp-%d", dir, name, (int)getpid()) >= sizeof(tmp) ||
	    (size_t)snprintf(dst, sizeof(dst), "%s/%s", dir, name) >= sizeof(dst)) {
		snprintf(err, errsize, "%s/%s: name too long", dir, name);
		return -ENAMETOOLONG;
	}
	b->finished = 1;
	clock_gettime(CLOCK_REALTIME, &now);
	inc = (struct uev_ring_incident){ b->run_id, info->trigger_ns, b->from_ns, b->to_ns, info->trigger_realtime_ns,
					  (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec,
					  b->st.overwritten_to_ns, b->st.lost_records, b->st.problems,
					  info->reason ? info->reason : "", info->trigger ? info->trigger : "" };
	o.tmp = tmp;
	o.inc = &inc;
	/* The scratch holds pages unpacked; a bundle of a compressed ring
	 * takes about a fifth of that. Start small and double until nothing
	 * is overwritten; then, when the file is mostly empty, write it once
	 * more at the size its records took: a bundle is kept, and counts
	 * against [incident] max_size, for its whole preallocated size. */
	for (o.size = size_for(b->st.bytes / 4); r == 0; o.size *= 2) {
		uint64_t used = 0;

		if ((r = write_all(&o, err, errsize)) < 0)
			break;
		if (whole(tmp, &used)) {
			if (used > o.size / 2 || size_for(used) >= o.size || shrunk)
				break;
			o.size = size_for(used) / 2; /* doubled back by the loop */
			shrunk = 1;
			meta_free(&o.names);
			meta_free(&o.later);
			continue;
		}
		if (o.size > (4ull << 30)) {
			snprintf(err, errsize, "%s: the bundle does not fit 4 GiB", tmp);
			r = -EFBIG;
		}
		meta_free(&o.names);
		meta_free(&o.later);
	}
	if (r == 0 && rename(tmp, dst) < 0) {
		r = -errno;
		snprintf(err, errsize, "%s: cannot rename to %s: %s", tmp, dst, strerror(errno));
	}
	if (r == 0 && (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(dfd) < 0)
			r = -errno;
		close(dfd);
	}
	if (r < 0)
		unlink(tmp);
	else if (bytes && stat(dst, &sb) == 0)
		*bytes = (uint64_t)sb.st_size;
	if (r < 0 && !err[0])
		snprintf(err, errsize, "%s: %s", dst, strerror(-r));
	meta_free(&o.names);
	meta_free(&o.later);
	if (o.kb)
		kbuffer_free(o.kb);
	return r;
}
