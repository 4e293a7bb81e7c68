/* SPDX-License-Identifier: MIT */
/*
 * The drain loop's state, shared by its two halves: the io_uring loop
 * (drain.c) and the per-CPU reading into the stage (drain-cpu.c). Private
 * to the aggregator; the API is drain.h.
 */
#ifndef UEV_DRAIN_LOOP_H
#define UEV_DRAIN_LOOP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <liburing.h>

#include "drain.h"
#include "ringfile.h"

#define MAX_WRITES 64
/* Pages read from one CPU before the others and the completions get a
 * turn; the CPU stays "ready" and is read again without waiting. */
#define READ_BUDGET 64
/* How long a stop waits for writes already submitted, before it gives
 * up and leaves what they carry in the stage for the next start. */
#define STOP_WRITE_WAIT_NS (10 * 1000000000ll)

enum tag { T_POLL = 1, T_SIGNAL, T_WRITE, T_FSYNC };
#define TAG(t, i) (((uint64_t)(t) << 32) | (uint32_t)(i))

struct drain_cpu {
	unsigned id;     /* its number: per_cpu/cpu<id>, the ring's cpu field */
	int fd;          /* trace_pipe_raw, O_NONBLOCK */
	uint8_t *slot;   /* its page in the stage (or heap without one) */
	int polling;     /* a watermark poll is armed */
	int ready;       /* the poll fired, or the read budget ran out */
	int stalled;     /* slot holds a page the writer had no room for yet */
	int absent;      /* ENODEV: a possible CPU that has not been online
			  * since the buffer was made; no poll, a read per flush */
};

struct drain_loop {
	const struct uev_drain_opts *o;
	struct io_uring ring;
	struct drain_cpu *cpu; /* one per CPU of the instance, ascending id */
	int ncpu;
	/* [ncpu], in the stage after the slots: the CPU whose page slot i
	 * holds. Set to cpu[i].id only while the slot is empty, so a page a
	 * killed run left is recorded as its own CPU's even when the CPUs
	 * differ now. */
	uint32_t *slot_cpu;
	size_t subbuf;
	int buffer_pages;    /* sub-buffers per CPU, and a few more */
	uint8_t *heap_slots; /* without a stage */
	struct uev_ring_extent wr[MAX_WRITES];
	uint8_t wr_busy[MAX_WRITES];
	unsigned writes, fsyncs; /* in flight */
	int stopping, flush_now, sig_armed, fsync_due;
	int64_t next_flush, next_tick, last_fsync;
	unsigned long long gen_pending; /* *flush_req when the last flush began */
	char *err;
	size_t errsize;
};

/* Sets the loop's message (the first one wins) and returns @r. */
int drain_fail(struct drain_loop *l, int r, const char *what);
/* Records the page in CPU @i's slot; -ENOBUFS leaves it there, stalled. */
int drain_record(struct drain_loop *l, int i);
/* Reads CPU @i until empty (ready = 0), stalled, or @budget pages. */
int drain_read_cpu(struct drain_loop *l, int i, int budget);
/* Descriptors, stage slots and the io_uring of @l; teardown undoes it. */
int drain_setup(struct drain_loop *l);
void drain_teardown(struct drain_loop *l);
/* Pages a killed aggregator read but may not have recorded: recorded
 * now, unless the stage shows the killed writer had them. */
int drain_recover_slots(struct drain_loop *l);

#endif
