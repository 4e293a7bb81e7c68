/* SPDX-License-Identifier: MIT */
/*
 * The drain loop. Kernel facts it rests on (see kernel/README.md):
 *  - a read of trace_pipe_raw hands out at most one sub-buffer, and only a
 *    read of exactly the sub-buffer size is reliable; with O_NONBLOCK an
 *    empty buffer gives EAGAIN at once;
 *  - poll on it (io_uring POLL_ADD too) fires by the watermark
 *    (buffer_percent), the efficient moment to read when busy;
 *  - a read consumes: the kernel forgets the page as it copies it out.
 *
 * Invariants:
 *  1. Nothing read is ever only in this process's memory. Each CPU reads
 *     into its own slot of the writer's stage (a shared mapping of a file,
 *     ringfile.h), and the ring writer keeps appended records there too,
 *     until they are in the ring file. A kill -9 at any instant leaves
 *     every consumed page in the stage, and the next start writes it
 *     (recover_slots()); a slot's page header is zeroed before each read
 *     and after the page is recorded, so a non-zero header is a page that
 *     may not be recorded yet.
 *  2. No wait is unbounded. The only blocking call is one io_uring wait,
 *     always with a timeout no later than the next flush deadline; reads
 *     of trace_pipe_raw are never queued in io_uring (a queued read can
 *     only be stopped by a cancel, and a cancel that never completes was
 *     a hang). io_uring only waits on the watermark (one-shot polls, which
 *     consume nothing and need no cancelling), the signal descriptor, and
 *     carries the file writes and fsyncs.
 *  3. Every flush interval, every CPU that is not held back by the writer
 *     is read until the kernel says it is empty, whatever the polls did.
 *     A CPU is held back ("stalled") only while the writer has no room
 *     for its page, which ends when a write completes; meanwhile the
 *     kernel's buffer holds the rest (or counts what it loses).
 *  4. Pages of a CPU are recorded in the order they were read: a stalled
 *     CPU reads nothing until its page is in.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <liburing.h>
#include <tracefs.h>

#include "capture.h"
#include "drain-loop.h"
#include "uev-decode.h"

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static struct io_uring_sqe *sqe_get(struct drain_loop *l)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

	if (!sqe) { /* full: hand what we have to the kernel and retry */
		io_uring_submit(&l->ring);
		sqe = io_uring_get_sqe(&l->ring);
	}
	return sqe;
}

static void arm_poll(struct drain_loop *l, int i)
{
	struct io_uring_sqe *sqe = sqe_get(l);

	if (!sqe)
		return; /* the next flush reads it anyway */
	io_uring_prep_poll_add(sqe, l->cpu[i].fd, POLLIN);
	io_uring_sqe_set_data64(sqe, TAG(T_POLL, i));
	l->cpu[i].polling = 1;
}

static void arm_signal(struct drain_loop *l)
{
	struct io_uring_sqe *sqe = sqe_get(l);

	if (!sqe)
		return;
	io_uring_prep_poll_add(sqe, l->o->sigfd, POLLIN);
	io_uring_sqe_set_data64(sqe, TAG(T_SIGNAL, 0));
	l->sig_armed = 1;
}

/* Writes are started in pieces of WRITE_BATCH: each costs a fixed amount
 * (with direct I/O, a device round trip), and nothing is lost by waiting
 * since the bytes are in the stage. The flush deadline writes whatever
 * is there, which keeps the flush-interval promise. */
#define WRITE_BATCH (256u * 1024u)

/* An fsync covers the writes that completed before it started. It is
 * submitted when none is in flight, and new writes wait meanwhile (a
 * bounded while: the ones in flight complete). IOSQE_IO_DRAIN would order
 * it for us, but a drained request also waits for the polls, which may
 * never fire, and holds back every request after it: that stopped all
 * writes, and then the stop, after the first fsync of a quiet seat. */
static int fsync_now(struct drain_loop *l)
{
	struct io_uring_sqe *sqe;

	if (!l->fsync_due)
		return 1;
	if (l->writes || l->fsyncs || !(sqe = sqe_get(l)))
		return 0;
	io_uring_prep_fsync(sqe, uev_ring_writer_fd(l->o->writer), IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data64(sqe, TAG(T_FSYNC, 0));
	l->fsyncs++;
	l->fsync_due = 0;
	return 1;
}

static void submit_writes(struct drain_loop *l, int force)
{
	if (!fsync_now(l))
		return;
	if (!force && !uev_ring_writer_due(l->o->writer, WRITE_BATCH))
		return;
	for (int slot = 0; slot < MAX_WRITES; slot++) {
		struct io_uring_sqe *sqe;

		if (l->wr_busy[slot])
			continue;
		if (uev_ring_writer_take(l->o->writer, &l->wr[slot], 1) == 0)
			return;
		if (!(sqe = sqe_get(l))) {
			uev_ring_writer_done(l->o->writer, &l->wr[slot], -EAGAIN);
			return;
		}
		io_uring_prep_write(sqe, uev_ring_writer_fd(l->o->writer), l->wr[slot].buf,
				    l->wr[slot].len, l->wr[slot].offset);
		io_uring_sqe_set_data64(sqe, TAG(T_WRITE, slot));
		l->wr_busy[slot] = 1;
		l->writes++;
	}
}

/* Due by the policy: after the writes this flush queued (fsync_now()). */
static void maybe_fsync(struct drain_loop *l, int64_t now)
{
	if (l->o->fsync == UEV_DRAIN_FSYNC_NEVER ||
	    (l->o->fsync == UEV_DRAIN_FSYNC_INTERVAL &&
	     now - l->last_fsync < (int64_t)l->o->fsync_interval_s * 1000000000ll))
		return;
	l->fsync_due = 1;
	l->last_fsync = now;
}

static void read_signals(struct drain_loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->o->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int signo = (int)si.ssi_signo;

		if (signo == SIGTERM || signo == SIGINT)
			l->stopping = 1;
		else if (signo == SIGUSR1)
			l->flush_now = 1;
		if (l->o->hooks.on_signal && l->o->hooks.on_signal(l->o->hooks.ctx, signo))
			l->stopping = 1;
	}
}

static int handle(struct drain_loop *l, struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	int tag = (int)(ud >> 32), i = (int)(uint32_t)ud, res = cqe->res;

	switch (tag) {
	case T_POLL:
		l->cpu[i].polling = 0;
		l->cpu[i].ready = 1; /* also on an error: the read says what it is */
		break;
	case T_SIGNAL:
		l->sig_armed = 0;
		read_signals(l);
		break;
	case T_WRITE:
		l->writes--;
		uev_ring_writer_done(l->o->writer, &l->wr[i], res);
		l->wr_busy[i] = 0;
		if (res < 0 && res != -EAGAIN && res != -EINTR)
			return drain_fail(l, res, "writing the ring file");
		break;
	case T_FSYNC:
		l->fsyncs--;
		if (res < 0)
			return drain_fail(l, res, "fdatasync of the ring file");
		break;
	}
	return 0;
}

/* Waits at most until @deadline for completions and handles them all. */
static int wait_and_handle(struct drain_loop *l, int64_t deadline)
{
	int64_t left = deadline - now_ns();
	struct __kernel_timespec ts = { 0, 0 };
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	int r = 0, w;

	if (left > 0) {
		ts.tv_sec = left / 1000000000ll;
		ts.tv_nsec = left % 1000000000ll;
	}
	w = io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, &ts, NULL);
	if (w < 0 && w != -ETIME && w != -EINTR && w != -EBUSY)
		return drain_fail(l, w, "io_uring");
	io_uring_for_each_cqe(&l->ring, head, cqe) {
		int h = handle(l, cqe);

		r = r ? r : h;
		n++;
	}
	io_uring_cq_advance(&l->ring, n);
	return r;
}

/* Stalled CPUs try again (writes may have made room), oldest page first. */
static int unstall(struct drain_loop *l)
{
	for (int i = 0; i < l->ncpu; i++) {
		int r;

		if (l->cpu[i].stalled && (r = drain_record(l, i)) < 0)
			return r;
		if (!l->cpu[i].stalled && !l->cpu[i].polling && !l->cpu[i].absent && !l->stopping)
			l->cpu[i].ready = 1;
	}
	return 0;
}

/* A flush asked for by another thread is done when nothing it wrote is
 * still on its way to the file. */
static void publish_flushed(struct drain_loop *l)
{
	if (!l->o->flush_done || l->gen_pending <= atomic_load(l->o->flush_done))
		return;
	if (l->writes || l->fsyncs || uev_ring_writer_due(l->o->writer, 1))
		return;
	for (int i = 0; i < l->ncpu; i++)
		if (l->cpu[i].stalled)
			return;
	atomic_store(l->o->flush_done, l->gen_pending);
}

/* Every CPU read until empty: the flush-interval promise. A read of more
 * pages than the buffer holds would be chasing a writer that outruns us:
 * the CPU stays ready and the loop comes back to it. */
static int flush(struct drain_loop *l, int64_t now)
{
	int r = 0;

	if (l->o->flush_req)
		l->gen_pending = atomic_load(l->o->flush_req);

	for (int i = 0; i < l->ncpu && r == 0; i++)
		r = drain_read_cpu(l, i, l->buffer_pages);
	/* What was read is to be in the file within the interval, open
	 * units too; one the writer has no room for yet stays in the stage
	 * and is sealed at the next flush. */
	if (r == 0 && (r = uev_ring_writer_seal(l->o->writer)) == -ENOBUFS)
		r = 0;
	if (l->o->hooks.on_flush)
		l->o->hooks.on_flush(l->o->hooks.ctx);
	submit_writes(l, 1);
	maybe_fsync(l, now); /* after the writes just queued have completed */
	return r;
}

static int run(struct drain_loop *l)
{
	const struct uev_drain_opts *o = l->o;
	int r = 0;

	while (!l->stopping && r == 0) {
		int64_t now, deadline = l->next_flush;
		int any_ready = 0;

		for (int i = 0; i < l->ncpu; i++)
			any_ready |= l->cpu[i].ready && !l->cpu[i].stalled;
		if (l->next_tick && l->next_tick < deadline)
			deadline = l->next_tick;
		if ((r = wait_and_handle(l, any_ready || l->flush_now ? 0 : deadline)) < 0)
			break;
		if (!l->sig_armed && !l->stopping)
			arm_signal(l);
		if ((r = unstall(l)) < 0)
			break;
		for (int i = 0; i < l->ncpu && r == 0; i++)
			if (l->cpu[i].ready)
				r = drain_read_cpu(l, i, READ_BUDGET);
		now = now_ns();
		if (r == 0 && (l->flush_now || now >= l->next_flush)) {
			l->flush_now = 0;
			l->next_flush = now + (int64_t)o->flush_ms * 1000000ll;
			r = flush(l, now);
		}
		if (l->next_tick && now >= l->next_tick) {
			l->next_tick = now + (int64_t)o->tick_ms * 1000000ll;
			if (o->hooks.on_tick)
				o->hooks.on_tick(o->hooks.ctx);
		}
		for (int i = 0; i < l->ncpu; i++)
			if (!l->cpu[i].polling && !l->cpu[i].ready && !l->cpu[i].stalled && !l->cpu[i].absent)
				arm_poll(l, i);
		submit_writes(l, 0);
		publish_flushed(l);
	}
	return r;
}

/*
 * Stop: read every CPU until empty (events that arrive after that are
 * the next run's), and wait for the writes, within STOP_WRITE_WAIT_NS in
 * all. Polls still armed are left to io_uring_queue_exit(): they consume
 * nothing. A stop that cannot get its bytes written in time leaves them
 * in the stage, so even then nothing is lost: the next start writes them.
 */
static int finish(struct drain_loop *l, int r)
{
	int64_t give_up = now_ns() + STOP_WRITE_WAIT_NS, said = now_ns() + 1000000000ll;
	int u;

	l->stopping = 1;
	for (int i = 0; i < l->ncpu && r == 0; i++)
		r = drain_read_cpu(l, i, l->buffer_pages); /* what the buffer held at the signal */
	for (;;) {
		int stalled = 0, open_units = 0;

		for (int i = 0; i < l->ncpu; i++)
			stalled |= l->cpu[i].stalled;
		if (r == 0 && !stalled && (u = uev_ring_writer_seal(l->o->writer)) < 0) {
			open_units = u == -ENOBUFS;
			r = open_units ? 0 : u;
		}
		submit_writes(l, 1);
		if (!stalled && !open_units && !l->writes && !l->fsyncs)
			break;
		if (now_ns() > said) {
			uev_log_say(&l->o->log, "stopping: ring file writes are slow; waiting up to %lld s",
				    STOP_WRITE_WAIT_NS / 1000000000ll);
			said = INT64_MAX;
		}
		if (now_ns() > give_up) {
			uev_ring_writer_stage_keep(l->o->writer);
			return r ? r : drain_fail(l, -ETIMEDOUT, "stopping: ring file writes did not complete; "
							 "what they carry stays in the stage for the next start");
		}
		wait_and_handle(l, now_ns() + 100000000ll); /* 100 ms steps */
		if ((u = unstall(l)) < 0) {
			/* Not the synchronous flush below while writes are in
			 * flight: the stage keeps their bytes for the next start. */
			r = r ? r : u;
			uev_ring_writer_stage_keep(l->o->writer);
			break;
		}
		for (int i = 0; i < l->ncpu; i++) /* a page that just got in may have had followers */
			if (!l->cpu[i].stalled && l->cpu[i].ready && r == 0)
				r = drain_read_cpu(l, i, l->buffer_pages);
	}
	if (r == 0)
		r = uev_ring_writer_flush(l->o->writer);
	for (int i = 0; i < l->ncpu; i++)
		if (l->cpu[i].stalled)
			uev_ring_writer_stage_keep(l->o->writer);
	return r;
}

int uev_drain_run(const struct uev_drain_opts *o, char *err, size_t errsize)
{
	struct drain_loop l = { .o = o, .err = err, .errsize = errsize, .ring = { .ring_fd = -1 } };
	int r;

	err[0] = 0;
	r = drain_setup(&l);
	if (r == 0)
		r = drain_recover_slots(&l);
	if (r == 0) {
		int64_t now = now_ns();

		l.next_flush = now + (int64_t)o->flush_ms * 1000000ll;
		l.next_tick = o->tick_ms ? now + (int64_t)o->tick_ms * 1000000ll : 0;
		l.last_fsync = now;
		for (int i = 0; i < l.ncpu; i++)
			arm_poll(&l, i);
		arm_signal(&l);
		io_uring_submit(&l.ring);
		if (o->hooks.on_ready)
			o->hooks.on_ready(o->hooks.ctx);
		r = run(&l);
		r = finish(&l, r);
	}
	if (r < 0 && !err[0])
		snprintf(err, errsize, "draining: %s", strerror(-r));
	drain_teardown(&l);
	return r;
}
