/* SPDX-License-Identifier: MIT */
/*
 * Kernel facts this loop is built around (../shared/KERNEL-FACTS.md):
 *  - trace_pipe_raw hands out at most one sub-buffer per read, and only a
 *    read of exactly the sub-buffer size is reliable;
 *  - an io_uring read of it completes by the poll watermark (buffer_percent),
 *    not when a single event arrives: that is the efficient path when busy;
 *  - pending reads are not cancelled by close(): cancel them explicitly.
 * So: one read per CPU outstanding, of exactly the sub-buffer size; and a
 * timer every flush interval that pulls what the watermark has not released
 * yet with non-blocking reads on a second descriptor, so one event reaches
 * the file within the interval and an idle seat costs one wakeup per
 * interval. A flush first cancels the outstanding reads and waits for them
 * (one may have completed with a page meanwhile): pages of a CPU must reach
 * the file in the order the kernel handed them out. File writes go through the same ring, in file order, from
 * memory the ring writer keeps stable until their completion.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <liburing.h>
#include <tracefs.h>

#include "capture.h"
#include "drain.h"
#include "page-check.h"
#include "ringfile.h"

#define MAX_CPUS 1024
#define MAX_WRITES 64

enum tag { T_READ = 1, T_SIGNAL, T_TIMER, T_WRITE, T_FSYNC, T_CANCEL, T_POLL };
#define TAG(t, i) (((uint64_t)(t) << 32) | (uint32_t)(i))

struct cpu {
	int fd;      /* io_uring reads (completing by the poll watermark) */
	int nbfd;    /* non-blocking: flush-time reads */
	void *buf;
	int pending;
	int wait;    /* caught up: the next read waits for the watermark */
	size_t stalled; /* bytes of a page in buf the writer had no room for yet */
};

struct loop {
	const struct uev_drain_opts *o;
	struct io_uring ring;
	struct cpu *cpu;
	int ncpu;
	size_t subbuf;
	void *flushbuf;
	struct uev_ring_extent wr[MAX_WRITES];
	uint8_t wr_busy[MAX_WRITES];
	unsigned inflight;
	struct signalfd_siginfo si;
	struct __kernel_timespec tick;
	int stopping, flush_now, flushing, timer_armed, sig_armed;
	unsigned ticks, ticks_per_flush;
	time_t last_fsync;
	char *err;
	size_t errsize;
};

static struct io_uring_sqe *sqe_get(struct loop *l)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

	if (!sqe) { /* full: hand what we have to the kernel and retry */
		io_uring_submit(&l->ring);
		sqe = io_uring_get_sqe(&l->ring);
	}
	if (sqe)
		l->inflight++;
	return sqe;
}

/* With O_NONBLOCK (see setup()) a read completes at once whenever the CPU's
 * buffer holds anything, and one that finds it empty waits for the
 * watermark. So a reader that has caught up with a busy writer would
 * chase it, a few events per read, each copied out under the buffer's
 * lock: at the unpaced maximum that made pages 3.1 KB on average instead
 * of 4 and raised the aggregator's CPU per MiB by a fifth (bench/drain).
 * After a read that found less than half a page, the next one is linked
 * behind a poll, which waits for the watermark as the kernel defines it
 * (buffer_percent); the flush timer still pulls what lies below it. */
static void arm_read(struct loop *l, int i)
{
	struct io_uring_sqe *sqe;

	if (l->cpu[i].wait) {
		if (io_uring_sq_space_left(&l->ring) < 2) /* poll and read in one submission */
			io_uring_submit(&l->ring);
		if (!(sqe = sqe_get(l)))
			return;
		io_uring_prep_poll_add(sqe, l->cpu[i].fd, POLLIN);
		io_uring_sqe_set_flags(sqe, IOSQE_IO_LINK);
		io_uring_sqe_set_data64(sqe, TAG(T_POLL, i));
	}
	if (!(sqe = sqe_get(l)))
		return;
	io_uring_prep_read(sqe, l->cpu[i].fd, l->cpu[i].buf, (unsigned)l->subbuf, 0);
	io_uring_sqe_set_data64(sqe, TAG(T_READ, i));
	l->cpu[i].pending = 1;
}

static void arm_signal(struct loop *l)
{
	struct io_uring_sqe *sqe = sqe_get(l);

	if (!sqe)
		return;
	io_uring_prep_read(sqe, l->o->sigfd, &l->si, sizeof(l->si), 0);
	io_uring_sqe_set_data64(sqe, TAG(T_SIGNAL, 0));
	l->sig_armed = 1;
}

static void arm_timer(struct loop *l)
{
	struct io_uring_sqe *sqe = sqe_get(l);

	if (!sqe)
		return;
	io_uring_prep_timeout(sqe, &l->tick, 0, 0);
	io_uring_sqe_set_data64(sqe, TAG(T_TIMER, 0));
	l->timer_armed = 1;
}

/* Record a page; if the writer holds too much unwritten data, write it out
 * synchronously first (the io_uring path could not keep up). With direct
 * I/O that cannot write a segment whose write is still in flight, so
 * -ENOBUFS can remain: the caller keeps the page (stall()) until writes
 * complete. */
static int capture(struct loop *l, int cpu, void *page, size_t len)
{
	int r = uev_capture_page(l->o->capture, (unsigned)cpu, page, len);

	if (r == -ENOBUFS) {
		r = uev_ring_writer_flush(l->o->writer);
		if (r == 0)
			r = uev_capture_page(l->o->capture, (unsigned)cpu, page, len);
	}
	return r;
}

/* A CPU with a stalled page reads nothing more until that page is in the
 * writer: pages of a CPU reach the file in the order they were read, and
 * meanwhile the kernel's buffer holds the rest (or counts what it loses). */
static void stall(struct loop *l, int i, const void *page, size_t len)
{
	if (page != l->cpu[i].buf)
		memcpy(l->cpu[i].buf, page, len);
	l->cpu[i].stalled = len;
}

static void arm_read(struct loop *l, int i);

/* Retry stalled pages (after writes completed); 0 or a capture error. */
static int unstall(struct loop *l)
{
	for (int i = 0; i < l->ncpu; i++) {
		int r;

		if (!l->cpu[i].stalled)
			continue;
		r = capture(l, i, l->cpu[i].buf, l->cpu[i].stalled);
		if (r == -ENOBUFS)
			continue;
		if (r < 0)
			return r;
		l->cpu[i].stalled = 0;
		if (!l->stopping && !l->flushing)
			arm_read(l, i);
	}
	return 0;
}

/* Non-blocking reads of every CPU until each is empty (or the writer has
 * no room: then that CPU stalls, see stall()). */
static int pull_all(struct loop *l)
{
	int r = 0;

	for (int i = 0; i < l->ncpu && r == 0; i++)
		for (int n = 0; n < 4096 && r == 0 && !l->cpu[i].stalled; n++) {
			ssize_t got = read(l->cpu[i].nbfd, l->flushbuf, l->subbuf);

			if (got <= 0)
				break;
			r = capture(l, i, l->flushbuf, (size_t)got);
			if (r == -ENOBUFS) {
				stall(l, i, l->flushbuf, (size_t)got);
				r = 0;
			}
		}
	return r;
}

/* Under load, pages arrive every few microseconds. Writing each batch of
 * completions at once would cost a write per page or two, and buffered
 * ext4 writes cannot complete inline in io_uring: every one is handed to
 * an io-wq worker and wakes it (measured at ~15% of the aggregator's CPU
 * at 800k events/s, bench/drain). So bytes wait until WRITE_BATCH of them
 * are ready; the flush timer writes whatever is there, which keeps the
 * flush-interval bound. The price: a kill -9 of the aggregator loses up to
 * that much drained data (at 40 MB/s, 6 ms of events) that would
 * otherwise have reached the page cache. */
#define WRITE_BATCH (256u * 1024u)

static void submit_writes(struct loop *l, int force)
{
	if (!force && !uev_ring_writer_due(l->o->writer, WRITE_BATCH))
		return;
	for (int slot = 0; slot < MAX_WRITES; slot++) {
		struct io_uring_sqe *sqe;

		if (l->wr_busy[slot])
			continue;
		if (uev_ring_writer_take(l->o->writer, &l->wr[slot], 1) == 0)
			return;
		sqe = sqe_get(l);
		if (!sqe) {
			uev_ring_writer_done(l->o->writer, &l->wr[slot], -EAGAIN);
			return;
		}
		io_uring_prep_write(sqe, uev_ring_writer_fd(l->o->writer), l->wr[slot].buf,
				    l->wr[slot].len, l->wr[slot].offset);
		io_uring_sqe_set_data64(sqe, TAG(T_WRITE, slot));
		l->wr_busy[slot] = 1;
	}
}

static void maybe_fsync(struct loop *l)
{
	struct io_uring_sqe *sqe;
	time_t now = time(NULL);

	if (l->o->fsync == UEV_DRAIN_FSYNC_NEVER ||
	    (l->o->fsync == UEV_DRAIN_FSYNC_INTERVAL && now - l->last_fsync < (time_t)l->o->fsync_interval_s))
		return;
	sqe = sqe_get(l);
	if (!sqe)
		return;
	/* DRAIN: after every write submitted before it has completed. */
	io_uring_prep_fsync(sqe, uev_ring_writer_fd(l->o->writer), IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_flags(sqe, IOSQE_IO_DRAIN);
	io_uring_sqe_set_data64(sqe, TAG(T_FSYNC, 0));
	l->last_fsync = now;
}

static void cancel(struct loop *l, uint64_t what);

static int handle(struct loop *l, struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	int tag = (int)(ud >> 32), i = (int)(uint32_t)ud, res = cqe->res, r = 0;

	l->inflight--;
	switch (tag) {
	case T_READ:
		l->cpu[i].pending = 0;
		l->cpu[i].wait = res <= 0 || uev_page_commit(l->cpu[i].buf, (size_t)res) < l->subbuf / 2;
		if (res > 0 && (r = capture(l, i, l->cpu[i].buf, (size_t)res)) == -ENOBUFS) {
			stall(l, i, l->cpu[i].buf, (size_t)res);
			r = 0;
		} else if (!l->stopping && !l->flushing) {
			arm_read(l, i);
		}
		break;
	case T_SIGNAL:
		l->sig_armed = 0;
		if (res == (int)sizeof(l->si)) {
			int signo = (int)l->si.ssi_signo;

			if (signo == SIGTERM || signo == SIGINT)
				l->stopping = 1;
			else if (signo == SIGUSR1)
				l->flush_now = 1;
			if (l->o->hooks.on_signal && l->o->hooks.on_signal(l->o->hooks.ctx, signo))
				l->stopping = 1;
		}
		if (!l->stopping)
			arm_signal(l);
		break;
	case T_TIMER:
		l->timer_armed = 0;
		if (l->o->hooks.on_tick)
			l->o->hooks.on_tick(l->o->hooks.ctx);
		if (++l->ticks >= l->ticks_per_flush) {
			l->ticks = 0;
			l->flush_now = 1;
		}
		if (!l->stopping)
			arm_timer(l);
		break;
	case T_WRITE:
		uev_ring_writer_done(l->o->writer, &l->wr[i], res);
		l->wr_busy[i] = 0;
		if (res < 0 && res != -EAGAIN && res != -EINTR) {
			snprintf(l->err, l->errsize, "writing the ring file: %s", strerror(-res));
			r = res;
		}
		break;
	default:
		break;
	}
	return r;
}

static int setup(struct loop *l)
{
	char path[64], *dir;
	long n = sysconf(_SC_NPROCESSORS_CONF);
	char *kb = tracefs_instance_file_read(l->o->instance, "buffer_subbuf_size_kb", NULL);

	l->subbuf = kb ? (size_t)strtoul(kb, NULL, 10) * 1024 : (size_t)getpagesize();
	free(kb);
	l->ncpu = (int)(n > 0 && n < MAX_CPUS ? n : 1);
	l->cpu = calloc((size_t)l->ncpu, sizeof(*l->cpu));
	l->flushbuf = malloc(l->subbuf);
	if (!l->cpu || !l->flushbuf)
		return -ENOMEM;
	dir = tracefs_instance_get_dir(l->o->instance);
	for (int i = 0; i < l->ncpu; i++) {
		char file[PATH_MAX];

		snprintf(path, sizeof(path), "per_cpu/cpu%d/trace_pipe_raw", i);
		snprintf(file, sizeof(file), "%s/%s", dir ? dir : "", path);
		/* O_NONBLOCK on the io_uring descriptor too: trace_pipe_raw has
		 * only .read, and without the flag io_uring's first try always
		 * returns -EAGAIN, so once the watermark is reached it arms a
		 * poll that fires at once, retries, and spins up to 128 times
		 * before handing the read to a worker thread: measured at 50-60%
		 * of the aggregator's CPU and the cause of loss above ~400k
		 * events/s (bench/drain). */
		l->cpu[i].fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		l->cpu[i].nbfd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		l->cpu[i].buf = malloc(l->subbuf);
		if (l->cpu[i].fd < 0 || l->cpu[i].nbfd < 0 || !l->cpu[i].buf) {
			snprintf(l->err, l->errsize, "%s: %s", file, strerror(errno ? errno : ENOMEM));
			tracefs_put_tracing_file(dir);
			return -errno ? -errno : -ENOMEM;
		}
	}
	tracefs_put_tracing_file(dir);
	return io_uring_queue_init(256, &l->ring, 0);
}

static void teardown(struct loop *l)
{
	for (int i = 0; l->cpu && i < l->ncpu; i++) {
		if (l->cpu[i].fd > 0)
			close(l->cpu[i].fd);
		if (l->cpu[i].nbfd > 0)
			close(l->cpu[i].nbfd);
		free(l->cpu[i].buf);
	}
	free(l->cpu);
	free(l->flushbuf);
}

/* Stop: cancel what still waits (reads, timer, signal read), let every
 * operation complete, then pull and write the rest synchronously. */
static void cancel(struct loop *l, uint64_t what)
{
	struct io_uring_sqe *sqe = sqe_get(l);

	if (!sqe)
		return;
	io_uring_prep_cancel64(sqe, what, 0);
	io_uring_sqe_set_data64(sqe, TAG(T_CANCEL, 0));
}

/* The poll a waiting read is linked behind, or else the read itself:
 * cancelling the poll fails the read with it. */
static void cancel_read(struct loop *l, int i)
{
	cancel(l, TAG(l->cpu[i].wait ? T_POLL : T_READ, i));
	if (l->cpu[i].wait) /* the poll may have fired already */
		cancel(l, TAG(T_READ, i));
}

static int finish(struct loop *l)
{
	struct io_uring_cqe *cqe;
	int r = 0;

	/* Writes in flight are left to complete: only the waiting is cut. */
	for (int i = 0; i < l->ncpu; i++)
		if (l->cpu[i].pending)
			cancel_read(l, i);
	if (l->timer_armed)
		cancel(l, TAG(T_TIMER, 0));
	if (l->sig_armed)
		cancel(l, TAG(T_SIGNAL, 0));
	io_uring_submit(&l->ring);
	while (l->inflight > 0 && io_uring_wait_cqe(&l->ring, &cqe) == 0) {
		int h = handle(l, cqe);

		r = r ? r : h;
		io_uring_cqe_seen(&l->ring, cqe);
	}
	/* Nothing is in flight now, so flush() makes room for everything and
	 * no page can stay stalled; one that did would be data lost. */
	if (r == 0)
		r = unstall(l);
	if (r == 0)
		r = pull_all(l);
	if (r == 0)
		r = unstall(l);
	for (int i = 0; i < l->ncpu && r == 0; i++)
		if (l->cpu[i].stalled)
			r = -ENOBUFS;
	if (r == 0)
		r = uev_ring_writer_flush(l->o->writer);
	return r;
}

int uev_drain_run(const struct uev_drain_opts *o, char *err, size_t errsize)
{
	struct loop l = { .o = o, .err = err, .errsize = errsize };
	struct io_uring_cqe *cqe;
	int r;

	{
		unsigned tick = o->tick_ms && o->tick_ms < o->flush_ms ? o->tick_ms : o->flush_ms;

		l.ticks_per_flush = (o->flush_ms + tick - 1) / tick;
		l.tick.tv_sec = tick / 1000;
		l.tick.tv_nsec = (long long)(tick % 1000) * 1000000;
	}
	l.last_fsync = time(NULL);
	r = setup(&l);
	if (r < 0) {
		if (!err[0])
			snprintf(err, errsize, "io_uring setup: %s", strerror(-r));
		teardown(&l);
		return r;
	}
	for (int i = 0; i < l.ncpu; i++) {
		l.cpu[i].wait = 1;
		arm_read(&l, i);
	}
	arm_signal(&l);
	arm_timer(&l);
	io_uring_submit(&l.ring);
	if (o->hooks.on_ready)
		o->hooks.on_ready(o->hooks.ctx);
	while (!l.stopping && r == 0) {
		unsigned head, n = 0;

		r = io_uring_submit_and_wait(&l.ring, 1);
		if (r < 0 && r != -EINTR) {
			snprintf(err, errsize, "io_uring: %s", strerror(-r));
			break;
		}
		r = 0;
		io_uring_for_each_cqe(&l.ring, head, cqe) {
			int h = handle(&l, cqe);

			r = r ? r : h;
			n++;
		}
		io_uring_cq_advance(&l.ring, n);
		if (l.flush_now && !l.flushing) {
			l.flush_now = 0;
			l.flushing = 1;
			for (int i = 0; i < l.ncpu; i++)
				if (l.cpu[i].pending)
					cancel_read(&l, i);
		}
		if (l.flushing && r == 0) {
			int waiting = 0;

			for (int i = 0; i < l.ncpu; i++)
				waiting |= l.cpu[i].pending;
			if (!waiting) {
				l.flushing = 0;
				r = pull_all(&l);
				if (o->hooks.on_flush)
					o->hooks.on_flush(o->hooks.ctx);
				for (int i = 0; i < l.ncpu && !l.stopping; i++) {
					if (l.cpu[i].stalled)
						continue; /* unstall() arms it */
					l.cpu[i].wait = 1; /* pull_all() emptied it */
					arm_read(&l, i);
				}
				submit_writes(&l, 1);
				maybe_fsync(&l); /* drains behind the writes just queued */
			}
		}
		if (r == 0)
			r = unstall(&l);
		submit_writes(&l, 0);
	}
	if (r == 0)
		r = finish(&l);
	else
		finish(&l);
	if (r < 0 && !err[0])
		snprintf(err, errsize, "draining: %s", strerror(-r));
	io_uring_queue_exit(&l.ring);
	teardown(&l);
	return r;
}
