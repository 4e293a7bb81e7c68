/* SPDX-License-Identifier: MIT */
/*
 * uev-aggregator's own state and steps, private to the program's three
 * files: uev-aggregator.c (options, configuration, checks, main),
 * agg-start.c (the ring file, signals, the seat's instance; the stop) and
 * agg-run.c (the drain and what it calls back: sync points, reload,
 * sd_notify). Every message is printed here, by the program: the modules
 * below return errors in a buffer and say the rest through a.log.
 */
#ifndef UEV_AGG_H
#define UEV_AGG_H

#include <limits.h>
#include <stdint.h>
#include <time.h>

#include "boot-ring.h"
#include "capture.h"
#include "config.h"
#include "control.h"
#include "log.h"
#include "setup.h"
#include "uev-decode.h"
#include "uev-seat.h"
#include "userev.h"

#ifndef UEV_SCHEMA_DIR
#define UEV_SCHEMA_DIR "/usr/share/uev/schemas"
#endif
#ifndef UEV_CONFIG_DIR
#define UEV_CONFIG_DIR "/etc/uev"
#endif

/* The command line, before the configuration is applied. */
struct agg_opts {
	const char *seat, *ring;
	uint64_t size;      /* 0: the configuration's */
	long flush_ms;      /* 0: the configuration's */
	int compression;    /* -1: the configuration's, else a zstd level or 0 */
	int keep, recreate, print;
};

struct agg {
	struct agg_opts opt;
	struct uev_config cfg;
	const char *config_path, *run_dir; /* NULL: built-in configuration, default run dir */
	char stage[PATH_MAX];              /* the ring's stage file, "" for none */
	struct uev_seat seat;
	struct uev_ring_writer *w;
	struct uev_capture *cap;
	struct uev_setup setup;
	struct uev_userev userev;
	struct uev_log log;                /* the modules' messages: standard error */
	int sigfd;
	time_t last_sync;
	const struct uev_clock_info *clock; /* the instance's: a reload keeps it */
	int sync_final, sync_warned;
	/* [boot] persistent_instance (agg-boot.c) */
	struct uev_boot_ring boot;         /* inst NULL: none */
	int boot_clear;                    /* its content was taken this start: clear it */
	struct uev_boot_mark boot_mark;
	time_t boot_marked;
	int boot_mark_warned;
	/* [incident] and [control] (agg-control.c) */
	struct uev_trigger *trig;          /* NULL: no triggers */
	struct uev_control ctl;
	char err[8192];                    /* what failed, said once by main */
};

/* Set up @a for main: nothing open, the log to standard error. */
void agg_init(struct agg *a);
/* Block the daemon's signals (SIGTERM, SIGINT, SIGHUP, SIGUSR1) from the
 * start: agg_start()'s signalfd then reads those that came meanwhile. */
void agg_signals_block(void);

/* The ring file's creation parameters from the configuration and the
 * command line (no stage, no --recreate: the caller's to add). */
struct uev_ring_create agg_ring_create(const struct agg *a);

/* Check that every CPU can be drained, then open (or create) the ring
 * file with its stage. 0, or the exit status (1 or 2) after saying why. */
int agg_ring_open(struct agg *a);

/* Signals to a signalfd, the seat's instance and enable page, the
 * configuration applied, user events registered, the capture. 0 or -errno
 * with a->err set. */
int agg_start(struct agg *a);

/* A run in the ring file, markers on, the drain until SIGTERM/SIGINT, and
 * the final sync point. 0 or -errno with a->err set (or empty). */
int agg_run(struct agg *a);

/* Say @r (0 or what start or run returned), undo what start did, close the
 * ring file with the capture's counters. Returns the exit status. */
int agg_stop(struct agg *a, int r);

/* This boot's id (/proc/sys/kernel/random/boot_id; the environment's
 * UEV_BOOT_ID instead, for tests that play a later boot). */
void agg_boot_id(char out[37]);
/* [boot] persistent_instance: before the ring file is opened for the
 * run, what that instance kept of the previous boot goes into the file
 * as a recovered run, or is refused with the reason (said). Always 0: the
 * seat records either way. */
int agg_boot_import(struct agg *a);
/* After the run started: record the seat's selection into that instance
 * too (cleared first when its content was taken) and mark it with this
 * file and run. 0 (what fails is said; the seat goes on without it). */
int agg_boot_arm(struct agg *a);
/* The mark again, on every CPU (each CPU's buffer wraps on its own). */
int agg_boot_mark(struct agg *a);

/* Incident triggers on the capture (after agg_start made it). 0 or -errno. */
int agg_triggers_setup(struct agg *a);
/* The control thread for the run (after it began); what fails is said. */
void agg_control_start(struct agg *a);
/* Stop it: bundles still open are written from what the file holds. */
void agg_control_stop(struct agg *a);

/* sd_notify without libsystemd: @msg to $NOTIFY_SOCKET, if set. */
void agg_notify(const char *msg);

#endif
