/* SPDX-License-Identifier: MIT */
/*
 * The stage: where the writer keeps the bytes it has not written yet
 * (docs/ring-format.md, "The stage").
 *
 * Invariant: every byte the writer appended and every page its caller took
 * from the kernel lives in a MAP_SHARED mapping of one file (by default on
 * tmpfs, /run/uev/SEAT.stage) until it is in the ring file. A kill -9 ends
 * the process, not the file's pages, so the next writer of the same ring
 * finds those bytes and writes them before it continues. What a power cut
 * can lose is unchanged: whatever had not been synced.
 *
 * The segment slots hold segment images exactly as the writer builds them
 * (header, then records), so recovery needs no log of its own: a slot is
 * live when its header is valid, and its records are valid up to where the
 * killed writer stopped appending (every record carries its CRC and seq).
 * Writing a slot's valid prefix back at its segment's place is idempotent:
 * the ring only ever received bytes from that image, so the bytes it
 * already has are the same ones. A slot whose segment the ring file has
 * since overwritten with a newer lap (a higher segment_seq at that index)
 * is stale and skipped. Free slots get their header zeroed, so they are
 * never mistaken for live ones.
 *
 * The caller's area (stage_extra bytes) is the caller's to use; the
 * aggregator keeps the page each CPU read last there until it is recorded.
 * uev_ring_writer_stage_had_page() tells it whether the killed writer had
 * already recorded such a page, so it is written neither twice nor never.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring-write.h"
#include "uev-grow.h"

#define STAGE_HDR 4096u
#define STAGE_VERSION 1u
#define STAGE_SLOTS (MAX_SEGS + 4u)

struct staged_page { /* a PAGE record, or a UNIT's raw length and CRC */
	uint16_t cpu;
	uint32_t len, crc;
};

struct uev_ring_stage {
	int fd;
	char *path;
	uint8_t *map;
	size_t map_len, extra;
	uint32_t nslots;
	uint32_t used; /* bitmap of slots in use */
	int keep;
	struct staged_page *pages, *units;
	size_t npages, pages_cap, nunits, units_cap;
	uint32_t nareas, area_size; /* the open units' areas, after the slots */
	struct uev_ring_stage_report rep;
};

static uint8_t *slot(const struct uev_ring_stage *st, uint32_t k, uint32_t S)
{
	return st->map + STAGE_HDR + (size_t)k * S;
}

static void hdr_encode(uint8_t *b, const struct uev_ring_writer *w, uint32_t nslots, uint32_t nareas,
		       uint32_t area_size, size_t extra)
{
	memset(b, 0, 64);
	memcpy(b, "UEVSTAGE", 8);
	uev_put32(b + 8, STAGE_VERSION);
	memcpy(b + 12, w->sb.uuid, 16);
	uev_put32(b + 28, w->sb.segment_size);
	uev_put32(b + 32, w->sb.segment_count);
	uev_put32(b + 36, nslots);
	uev_put64(b + 40, extra);
	uev_put32(b + 48, nareas);
	uev_put32(b + 52, area_size);
	uev_put32(b + 60, uev_crc32c(0, b, 60));
}

/* NULL when the header @b describes a stage of this ring whose segment
 * slots can be recovered (its file being @size bytes), else why not. The
 * open units' areas and the caller's area may have another size (another
 * CPU count, unit size or sub-buffer size, or compression turned on or
 * off): *@nareas, *@area_size and *@extra say which. */
static const char *hdr_check(const uint8_t *b, const struct uev_ring_writer *w, uint32_t nslots,
			     uint64_t size, uint32_t *nareas, uint32_t *area_size, size_t *extra)
{
	uint8_t want[64];

	if (memcmp(b, "UEVSTAGE", 8) || uev_get32(b + 60) != uev_crc32c(0, b, 60))
		return "not a stage file";
	*extra = (size_t)uev_get64(b + 40);
	*nareas = uev_get32(b + 48);
	*area_size = uev_get32(b + 52);
	if (*nareas > UEV_RING_CPU_MAX || *area_size > UEV_RING_UNIT_RAW_MAX || *area_size % 4096 ||
	    (*nareas && *area_size <= UEV_RING_AREA_HDR))
		return "its open unit areas are not valid";
	hdr_encode(want, w, nslots, *nareas, *area_size, *extra);
	if (memcmp(b + 12, want + 12, 16))
		return "it belongs to another ring file";
	if (memcmp(b, want, 64))
		return "it was made for another ring geometry or stage version";
	if (size != STAGE_HDR + (uint64_t)nslots * w->sb.segment_size + (uint64_t)*nareas * *area_size + *extra)
		return "its size is not the one its header gives";
	return NULL;
}

/* Bytes of the slot image @img that are valid records from its header on;
 * its PAGE records go into the table uev_ring_writer_stage_had_page()
 * reads, and those at or after @fresh (bytes the ring file lacked) are
 * counted as recovered. */
static uint32_t valid_prefix(struct uev_ring_writer *w, const uint8_t *img, const struct uev_ring_seghdr *h,
			     uint32_t fresh)
{
	uint32_t S = w->sb.segment_size, pos = UEV_RING_SEG_HDR;
	struct uev_ring_rechdr rh;
	const char *why;
	struct uev_ring_stage *st = w->stage;

	for (uint64_t seq = h->first_record_seq; uev_ring_rec_check(img, S, pos, h->segment_seq, seq, &rh, &why);
	     seq++) {
		uint32_t size = (uint32_t)uev_ring_rec_size(rh.len);

		if (fresh != UINT32_MAX && rh.type == UEV_RING_PAGE)
			uev_ring_stage_note_page(w, rh.cpu, img + pos + UEV_RING_REC_HDR, rh.len);
		if (fresh != UINT32_MAX && rh.type == UEV_RING_UNIT && rh.len > UEV_RING_UNIT_HDR &&
		    UEV_GROW(st->units, st->units_cap, st->nunits + 1) == 0)
			st->units[st->nunits++] = (struct staged_page){
				rh.cpu, uev_get32(img + pos + UEV_RING_REC_HDR + 4),
				uev_get32(img + pos + UEV_RING_REC_HDR + 8) };
		if (fresh != UINT32_MAX && pos + size > fresh) {
			st->rep.records++;
			st->rep.bytes += size;
		}
		pos += size;
	}
	return pos;
}

/* Where @img's first @len bytes first differ from the ring file's bytes at
 * @base (@len when they do not): what the killed writer had not written. */
static uint32_t first_new_byte(struct uev_ring_writer *w, const uint8_t *img, uint32_t len, uint64_t base)
{
	uint8_t *b = malloc(len);
	ssize_t got = b ? uev_ring_pread(w->fd, b, len, base) : -ENOMEM;
	uint32_t d = 0;

	if (got < 0)
		got = 0;
	while (d < (uint32_t)got && b[d] == img[d])
		d++;
	free(b);
	return d;
}

/* The segment_seq the ring file holds at @index (0: none valid). */
static uint64_t file_seq(struct uev_ring_writer *w, uint32_t index)
{
	uint8_t b[UEV_RING_SEG_HDR];
	struct uev_ring_seghdr h;
	const char *why;
	uint64_t off = UEV_RING_SUPER_SIZE + (uint64_t)index * w->sb.segment_size;

	if (uev_ring_pread(w->fd, b, sizeof(b), off) != (ssize_t)sizeof(b) ||
	    uev_ring_seghdr_decode(b, &h, &why) != UEV_SEG_VALID)
		return 0;
	return h.segment_seq;
}

/* Writes every live slot's valid records back to the ring file, oldest
 * segment first (two slots can only share an index a whole lap apart, and
 * then the newer must win). */
static int recover(struct uev_ring_writer *w, char *err, size_t errsize)
{
	struct uev_ring_stage *st = w->stage;
	uint32_t S = w->sb.segment_size, N = w->sb.segment_count, order[STAGE_SLOTS], n = 0;
	struct uev_ring_seghdr h[STAGE_SLOTS];
	const char *why;

	for (uint32_t k = 0; k < st->nslots; k++)
		if (uev_ring_seghdr_decode(slot(st, k, S), &h[k], &why) == UEV_SEG_VALID)
			order[n++] = k;
	for (uint32_t i = 1; i < n; i++) /* insertion sort by segment_seq: n <= 8 */
		for (uint32_t j = i; j > 0 && h[order[j]].segment_seq < h[order[j - 1]].segment_seq; j--) {
			uint32_t t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (uint32_t i = 0; i < n; i++) {
		const struct uev_ring_seghdr *g = &h[order[i]];
		uint32_t index = (uint32_t)((g->segment_seq - 1) % N), len;
		uint64_t base = UEV_RING_SUPER_SIZE + (uint64_t)index * S;
		ssize_t wr;

		if (file_seq(w, index) > g->segment_seq)
			continue; /* the ring came round over it since */
		len = valid_prefix(w, slot(st, order[i], S), g, UINT32_MAX);
		valid_prefix(w, slot(st, order[i], S), g, first_new_byte(w, slot(st, order[i], S), len, base));
		wr = uev_ring_pwrite(w->fd, slot(st, order[i], S), len, base);
		if (wr < 0) {
			snprintf(err, errsize, "writing back what %s held: %s", st->path, strerror((int)-wr));
			return (int)wr;
		}
		st->rep.segments++;
	}
	if (n && fdatasync(w->fd) < 0) {
		snprintf(err, errsize, "fdatasync after writing back %s: %s", st->path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Maps the stage file at @len bytes (resizing it first). */
static int map(struct uev_ring_stage *st, size_t len)
{
	if (st->map)
		munmap(st->map, st->map_len);
	st->map = NULL;
	if (ftruncate(st->fd, (off_t)len) < 0)
		return -errno;
	st->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, st->fd, 0);
	if (st->map == MAP_FAILED) {
		st->map = NULL;
		return -errno;
	}
	st->map_len = len;
	return 0;
}

static int open_file(struct uev_ring_stage *st, const char *path, struct stat *sb)
{
	st->fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (st->fd < 0 || fstat(st->fd, sb) < 0)
		return -errno;
	if (!S_ISREG(sb->st_mode) || sb->st_uid != geteuid())
		return -EPERM;
	if (flock(st->fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	return 0;
}

int uev_ring_stage_open(struct uev_ring_writer *w, const char *path, size_t extra, uint32_t nareas,
			uint32_t area_size, char *err, size_t errsize)
{
	struct uev_ring_stage *st = calloc(1, sizeof(*st));
	uint32_t S = w->sb.segment_size, old_n = 0, old_a = 0;
	uint8_t head[64] = { 0 };
	const char *why = NULL;
	size_t old_extra = 0, slots;
	struct stat sb;
	int r;

	if (!st || !(st->path = strdup(path))) {
		free(st);
		snprintf(err, errsize, "%s: out of memory", path);
		return -ENOMEM;
	}
	w->stage = st;
	st->nslots = STAGE_SLOTS;
	st->extra = (extra + 4095) & ~(size_t)4095;
	slots = STAGE_HDR + (size_t)st->nslots * S;
	if ((r = open_file(st, path, &sb)) < 0) {
		snprintf(err, errsize, "stage %s: %s", path,
			 r == -EPERM ? "not a regular file of this user; refusing" : strerror(-r));
		return r;
	}
	if (sb.st_size > 0 && uev_ring_pread(st->fd, head, sizeof(head), 0) != (ssize_t)sizeof(head))
		why = "shorter than its header";
	else if (sb.st_size > 0)
		why = hdr_check(head, w, st->nslots, (uint64_t)sb.st_size, &old_n, &old_a, &old_extra);
	if (why)
		snprintf(st->rep.discarded, sizeof(st->rep.discarded), "%s", why);
	if (sb.st_size > 0 && !why) {
		/* Recovered as it is, then resized for this writer. */
		st->rep.recovered = 1;
		if ((r = map(st, slots + (size_t)old_n * old_a + old_extra)) < 0 || (r = recover(w, err, errsize)) < 0) {
			if (!err[0])
				snprintf(err, errsize, "stage %s: %s", path, strerror(-r));
			return r;
		}
		w->pend.areas = st->map + slots;
		w->pend.nareas = old_n;
		w->pend.area_size = old_a;
		uev_ring_pending_recover(w, &st->rep);
		/* Units left open keep their areas where they are, whatever
		 * this writer would have made: this run seals them. */
		if (st->rep.units) {
			nareas = old_n;
			area_size = old_a;
		}
		if (old_extra != st->extra)
			snprintf(st->rep.discarded, sizeof(st->rep.discarded),
				 "its page area was made for another CPU count or sub-buffer size");
		if (old_n != nareas || old_a != area_size)
			r = ftruncate(st->fd, (off_t)slots) < 0 ? -errno : 0;
		else if (old_extra != st->extra)
			r = ftruncate(st->fd, (off_t)(slots + (size_t)old_n * old_a)) < 0 ? -errno : 0;
	} else if (ftruncate(st->fd, 0) < 0) { /* start it afresh */
		r = -errno;
	}
	st->nareas = nareas;
	st->area_size = area_size;
	if (r == 0)
		r = map(st, slots + (size_t)nareas * area_size + st->extra);
	if (r < 0) {
		snprintf(err, errsize, "stage %s: %s", path, strerror(-r));
		return r;
	}
	w->pend.areas = nareas ? st->map + slots : NULL;
	w->pend.nareas = nareas;
	w->pend.area_size = area_size;
	hdr_encode(st->map, w, st->nslots, nareas, area_size, st->extra);
	for (uint32_t k = 0; k < st->nslots; k++)
		memset(slot(st, k, S), 0, UEV_RING_SEG_HDR);
	return 0;
}

int uev_ring_buf_get(struct uev_ring_writer *w, uint8_t **buf)
{
	struct uev_ring_stage *st = w->stage;

	if (!st)
		return posix_memalign((void **)buf, 4096, w->sb.segment_size) == 0 ? 0 : -ENOMEM;
	/* The lowest free slot: a quiet writer keeps touching the same two. */
	for (uint32_t k = 0; k < st->nslots; k++)
		if (!(st->used & (1u << k))) {
			st->used |= 1u << k;
			*buf = slot(st, k, w->sb.segment_size);
			return 0;
		}
	return -ENOBUFS; /* every slot holds bytes not yet written: write first */
}

void uev_ring_buf_put(struct uev_ring_writer *w, uint8_t *buf)
{
	struct uev_ring_stage *st = w->stage;

	if (!buf)
		return;
	if (!st) {
		free(buf);
		return;
	}
	memset(buf, 0, UEV_RING_SEG_HDR); /* no longer live */
	st->used &= ~(1u << ((size_t)(buf - slot(st, 0, w->sb.segment_size)) / w->sb.segment_size));
}

void uev_ring_stage_close(struct uev_ring_writer *w, int clean)
{
	struct uev_ring_stage *st = w->stage;

	if (!st)
		return;
	/* A clean close wrote everything: nothing is left to recover. */
	if (clean && !st->keep && st->path)
		unlink(st->path);
	if (st->map)
		munmap(st->map, st->map_len);
	if (st->fd >= 0)
		close(st->fd);
	free(st->pages);
	free(st->units);
	free(st->path);
	free(st);
	w->stage = NULL;
}

void *uev_ring_writer_stage_area(struct uev_ring_writer *w, size_t *len)
{
	struct uev_ring_stage *st = w->stage;

	if (!st || !st->extra)
		return NULL;
	*len = st->extra;
	return st->map + STAGE_HDR + (size_t)st->nslots * w->sb.segment_size + (size_t)st->nareas * st->area_size;
}

void uev_ring_stage_note_page(struct uev_ring_writer *w, unsigned cpu, const void *page, size_t len)
{
	struct uev_ring_stage *st = w->stage;

	if (st && UEV_GROW(st->pages, st->pages_cap, st->npages + 1) == 0)
		st->pages[st->npages++] = (struct staged_page){ (uint16_t)cpu, (uint32_t)len,
								 uev_crc32c(0, page, len) };
}

int uev_ring_stage_had_unit(const struct uev_ring_writer *w, unsigned cpu, uint32_t raw_len, uint32_t raw_crc)
{
	const struct uev_ring_stage *st = w->stage;

	for (size_t i = 0; st && i < st->nunits; i++)
		if (st->units[i].cpu == cpu && st->units[i].len == raw_len && st->units[i].crc == raw_crc)
			return 1;
	return 0;
}

int uev_ring_writer_stage_had_page(const struct uev_ring_writer *w, unsigned cpu, const void *page,
				   size_t len)
{
	const struct uev_ring_stage *st = w->stage;
	uint32_t crc = uev_crc32c(0, page, len);

	for (size_t i = 0; st && i < st->npages; i++)
		if (st->pages[i].cpu == cpu && st->pages[i].len == len && st->pages[i].crc == crc)
			return 1;
	return 0;
}

void uev_ring_writer_stage_keep(struct uev_ring_writer *w)
{
	if (w->stage)
		w->stage->keep = 1;
}

const struct uev_ring_stage_report *uev_ring_writer_stage_report(const struct uev_ring_writer *w)
{
	return w->stage ? &w->stage->rep : NULL;
}
