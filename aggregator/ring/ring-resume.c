/* SPDX-License-Identifier: MIT */
/*
 * Ring file writer, starting a run where the last one stopped
 * (docs/ring-format.md, "Runs"): a restart costs its own records, not the
 * rest of a segment. The run's checkpoint is appended right after the
 * newest segment's last valid record, in that segment, when it fits with
 * room to spare; otherwise the run starts a new segment as it always could.
 *
 * Continuing a segment that a killed writer left is safe because of what
 * the first write of the continued segment covers: from the block holding
 * the append position to the segment end, the bytes behind the new records
 * zeroed. Whatever the earlier run left there (a torn record, stale bytes
 * of an older lap) is gone once that write is done, so the reader's rule
 * "only zeros after a run's last record, or it was torn" holds for the new
 * run as it did for the old. Until it is done no other write of the
 * segment is started (ring-flush.c), so the zeros can never land over
 * records written after them.
 *
 * Where the last run stopped is uev_ring_find_end(): the scan of the
 * segment headers (ring-scan.c) and a walk of the newest segment.
 *
 * Version 1 files never have a run start inside a segment; a version 1
 * reader would take the second run's records for the first's. A version 2
 * reader would take the pages of a machine of another byte order or word
 * size for its own (version 3 records the layout in RUN_START). So before
 * anything is appended, the superblock says this version.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "ring-write.h"

/* Walks the valid records of segment @g (its image in @buf) and fills in
 * @end's tail: where they stop, and the run current there. */
static void walk_tail(const uint8_t *buf, uint32_t S, const struct uev_ring_seginfo *g,
		      struct uev_ring_end *end)
{
	struct uev_ring_rechdr h;
	const char *why;
	uint32_t pos = UEV_RING_SEG_HDR;
	uint64_t seq = g->first_seq;

	end->have_tail = 1;
	end->tail_index = g->index;
	end->tail_segment_seq = g->seq;
	end->tail_run_id = g->run_id;
	end->tail_run_segment = g->run_segment;
	for (; uev_ring_rec_check(buf, S, pos, g->seq, seq, &h, &why); seq++) {
		uev_ring_run_step(h.type, buf + pos + UEV_RING_REC_HDR, h.len, &end->tail_run_id,
				  &end->tail_run_segment);
		pos += (uint32_t)uev_ring_rec_size(h.len);
	}
	end->tail = pos;
	end->tail_seq = seq;
	/* A run that started in this segment and never reached another has
	 * its id only in its RUN_START. */
	if (end->tail_run_id > end->max_run_id)
		end->max_run_id = end->tail_run_id;
	if (seq > end->next_seq)
		end->next_seq = seq;
}

/*
 * A header at the next index that is neither valid nor zero is most likely
 * one a kill tore while the last run moved on to it: the next run starts a
 * new segment there, which heals it, rather than continue the one before
 * and leave it reported as damaged until the ring comes round.
 */
static int next_torn(int fd, const struct uev_ring_super *sb, struct uev_ring_end *end)
{
	uint8_t b[UEV_RING_SEG_HDR];
	struct uev_ring_seghdr h;
	const char *why;
	ssize_t n = uev_ring_pread(fd, b, sizeof(b),
				   UEV_RING_SUPER_SIZE + (uint64_t)end->next_index * sb->segment_size);

	if (n < 0)
		return (int)n;
	if (n < (ssize_t)sizeof(b) || uev_ring_seghdr_decode(b, &h, &why) == UEV_SEG_BAD)
		end->have_tail = 0;
	return 0;
}

/*
 * The writer's view of the same rules: continue after the newest valid
 * segment's last valid record. Only the newest segment needs reading: a run
 * that started in the middle of an older one either went on into a newer
 * segment, whose header names it, or ended before a later run began.
 */
int uev_ring_find_end(int fd, const struct uev_ring_super *sb, struct uev_ring_end *end)
{
	struct uev_ring_stats st = { 0 };
	struct uev_ring_seginfo *v, *g;
	uint32_t n, S = sb->segment_size;
	uint8_t *buf;
	ssize_t r = uev_ring_scan(fd, sb, &v, &n, &st, NULL, NULL);

	if (r < 0)
		return (int)r;
	*end = (struct uev_ring_end){ .next_seq = 1, .next_segment_seq = 1 };
	for (uint32_t i = 0; i < n; i++) {
		end->max_run_id = v[i].run_id > end->max_run_id ? v[i].run_id : end->max_run_id;
		end->next_seq = v[i].first_seq > end->next_seq ? v[i].first_seq : end->next_seq;
	}
	if (n) {
		g = &v[n - 1];
		end->next_segment_seq = g->seq + 1;
		end->next_index = (g->index + 1) % sb->segment_count;
		if (!(buf = malloc(S)))
			r = -ENOMEM;
		else if ((r = uev_ring_pread(fd, buf, S, UEV_RING_SUPER_SIZE + (uint64_t)g->index * S)) >= 0) {
			memset(buf + r, 0, S - (size_t)r);
			walk_tail(buf, S, g, end);
			r = next_torn(fd, sb, end);
		}
		free(buf);
	}
	free(v);
	return r < 0 ? (int)r : 0;
}

int uev_ring_super_upgrade(struct uev_ring_writer *w)
{
	uint8_t b[UEV_RING_SUPER_SIZE];
	struct uev_ring_super sb = w->sb;
	ssize_t n;

	if (sb.version >= UEV_RING_VERSION)
		return 0;
	/* Bytes 128.. of an older superblock are zero, or a reader has
	 * reported them: rewriting them zero loses nothing. Only version and
	 * crc change in the 128 bytes that count; a crash that writes one and
	 * not the other leaves a superblock that still reads as the older
	 * version (ring-common.c, torn_upgrade). */
	sb.version = UEV_RING_VERSION;
	uev_ring_super_encode(b, &sb);
	if ((n = uev_ring_pwrite(w->fd, b, sizeof(b), 0)) < 0)
		return (int)n;
	if (fsync(w->fd) < 0)
		return -errno;
	w->sb.version = UEV_RING_VERSION;
	return 0;
}

int uev_ring_resume(struct uev_ring_writer *w, uint64_t ckpt)
{
	const struct uev_ring_end *e = &w->at;
	uint32_t S = w->sb.segment_size;
	uint64_t base = UEV_RING_SUPER_SIZE + (uint64_t)e->tail_index * S;
	struct seg *s;
	ssize_t n;

	/* The newest segment, its records ending at the seq the run would
	 * write next (not so when an older segment's header claims a later
	 * first_record_seq: damage, and a new segment is the clean answer),
	 * and room for the checkpoint and a quarter segment of data. */
	if (!e->have_tail || e->tail_seq != e->next_seq ||
	    e->tail_segment_seq + 1 != e->next_segment_seq || e->tail < UEV_RING_SEG_HDR ||
	    e->tail + ckpt + S / 4 > S)
		return 0;
	/* The buffer holds the segment's image from its header on, as for a
	 * segment this run started: with direct I/O the first write starts at
	 * the block holding the tail, whose bytes before it must be the
	 * file's; and with a stage (ring-stage.c) a kill before that write
	 * completes is recovered from this image, which must therefore be the
	 * whole segment up to the tail, header and earlier records included. */
	n = uev_ring_pread(w->fd, w->spare, e->tail, base);
	if (n < 0)
		return (int)n;
	if (n != (ssize_t)e->tail)
		return -EIO;
	s = &w->seg[w->nseg++];
	*s = (struct seg){ .buf = w->spare, .seq = e->tail_segment_seq, .base = base, .fill = e->tail,
			   .taken = e->tail, .open = 1, .wipe = 1 };
	w->spare = NULL;
	w->run_segment = 1; /* this one is the run's segment 0 */
	return 1;
}
