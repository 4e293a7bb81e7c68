/* SPDX-License-Identifier: MIT */
/*
 * The drain loop: per-CPU trace_pipe_raw reads and ring-file writes through
 * one io_uring, a flush timer, and the daemon's signals, until told to stop.
 */
#ifndef UEV_DRAIN_H
#define UEV_DRAIN_H

#include <stddef.h>

#include "log.h"

struct tracefs_instance;
struct uev_ring_writer;
struct uev_capture;

enum uev_fsync_policy { UEV_DRAIN_FSYNC_EVERY_FLUSH, UEV_DRAIN_FSYNC_INTERVAL, UEV_DRAIN_FSYNC_NEVER };

/* What the loop reports to its owner. Return non-zero from on_signal to stop. */
struct uev_drain_hooks {
	void *ctx;
	int (*on_signal)(void *ctx, int signo);   /* SIGHUP, SIGUSR1 after the flush it causes */
	void (*on_flush)(void *ctx);              /* after each timer/USR1 flush: sync points */
	void (*on_ready)(void *ctx);              /* reads armed: READY=1 */
	void (*on_tick)(void *ctx);               /* every tick_ms (see below) */
};

struct uev_drain_opts {
	struct tracefs_instance *instance;
	struct uev_ring_writer *writer;
	struct uev_capture *capture;
	unsigned flush_ms;
	unsigned tick_ms;          /* 0, or a shorter period for on_tick; flushes stay flush_ms apart */
	enum uev_fsync_policy fsync;
	unsigned fsync_interval_s;
	int sigfd;                 /* signalfd for SIGTERM SIGINT SIGHUP SIGUSR1 */
	struct uev_drain_hooks hooks;
	struct uev_log log;        /* what the loop says that is no error (a stop waiting, pages recovered) */
	/* Another thread's wait for the file (NULL: none): it raises
	 * *flush_req and sends SIGUSR1; once a flush that started at or after
	 * that has its bytes written (in the page cache; fsync is the policy's),
	 * *flush_done reaches the value it saw. */
	_Atomic unsigned long long *flush_req, *flush_done;
};

/* Bytes of the stage's caller area (uev_ring_create.stage_extra) the
 * drain keeps its read pages in, for @ncpu CPUs of @subbuf-byte sub-buffers:
 * with fewer, it reads into memory a kill -9 loses. */
size_t uev_drain_stage_bytes(unsigned ncpu, size_t subbuf);

/* Run until SIGTERM/SIGINT (or a hook says stop), then drain what the
 * kernel still holds and write it. Every CPU of the instance is read
 * (uev_seat_cpus(): sparse numbers too); one with a number the ring
 * cannot record is refused at start. 0, or -errno with @err set. */
int uev_drain_run(const struct uev_drain_opts *o, char *err, size_t errsize);

#endif
