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
 * Version 1 files never have a run start inside a segment; a version 1
 * reader would take the second run's records for the first's. So before
 * anything is appended, the superblock says version 2.
 */
#include <errno.h>
#include <unistd.h>

#include "ring-write.h"

int uev_ring_super_upgrade(struct uev_ring_writer *w)
{
	uint8_t b[UEV_RING_SUPER_SIZE];
	struct uev_ring_super sb = w->sb;
	ssize_t n;

	if (sb.version >= 2)
		return 0;
	/* Bytes 128.. of a version 1 superblock are zero, or a reader has
	 * reported them: rewriting them zero loses nothing. Only version and
	 * crc change in the 128 bytes that count; a crash that writes one and
	 * not the other leaves a superblock that still reads as version 1
	 * (ring-common.c, torn_upgrade). */
	sb.version = 2;
	uev_ring_super_encode(b, &sb);
	if ((n = uev_ring_pwrite(w->fd, b, sizeof(b), 0)) < 0)
		return (int)n;
	if (fsync(w->fd) < 0)
		return -errno;
	w->sb.version = 2;
	return 0;
}

int uev_ring_resume(struct uev_ring_writer *w, uint64_t ckpt)
{
	const struct uev_ring_end *e = &w->at;
	uint32_t S = w->sb.segment_size, from = e->tail / w->align * w->align;
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
	/* With direct I/O the first write starts at the block holding the
	 * tail: that block's bytes before it must be the file's. */
	if (from < e->tail) {
		n = uev_ring_pread(w->fd, w->spare + from, e->tail - from, base + from);
		if (n < 0)
			return (int)n;
		if (n != (ssize_t)(e->tail - from))
			return -EIO;
	}
	s = &w->seg[w->nseg++];
	*s = (struct seg){ .buf = w->spare, .seq = e->tail_segment_seq, .base = base, .fill = e->tail,
			   .taken = e->tail, .open = 1, .wipe = 1 };
	w->spare = NULL;
	w->run_segment = 1; /* this one is the run's segment 0 */
	return 1;
}
