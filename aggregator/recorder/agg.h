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

#include "capture.h"
#include "config.h"
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
	char err[8192];                    /* what failed, said once by main */
};

/* Set up @a for main: nothing open, the log to standard error. */
void agg_init(struct agg *a);

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

/* sd_notify without libsystemd: @msg to $NOTIFY_SOCKET, if set. */
void agg_notify(const char *msg);

#endif
