/* SPDX-License-Identifier: MIT */
/* A real uev-aggregator for tests: started like systemd would (READY=1 over
 * $NOTIFY_SOCKET), on a fresh seat, with emitters of two test events. */
#ifndef UEV_AGGTEST_H
#define UEV_AGGTEST_H

#include <sys/types.h>
#include <uev/uev.h>

#include "ringfile.h"

struct daemon {
	pid_t pid;
	char seat[32], conf[256], ring[256], run[256], sock[100];
	int nfd;
};

extern struct uev_event agg_tick; /* "u32 seq; u32 thread; __rel_loc char[] msg" */
extern struct uev_event agg_mark; /* "u32 k; u8 after" */
/* The ring size of the next agg_start() (default "16M"). */
extern const char *agg_ring_size;
/* Run in the daemon's child process before exec (NULL: nothing). */
extern void (*agg_in_child)(void);
/* This test program's scratch directory. */
extern char agg_dir[];

/* Skip unless root with tracefs; argv[1] is the aggregator; make agg_dir. */
void agg_setup(int argc, char **argv);
/* Remove agg_dir. */
void agg_cleanup(void);
/* Start the aggregator on a fresh seat (clock mono, buffer_kb 8192,
 * printk:console, the ring in agg_dir) with @extra config lines; wait for
 * READY=1. */
void agg_start(struct daemon *d, const char *extra, unsigned flush_ms);
/* (Re)start the daemon of @d and wait for READY=1 (30 s at most). */
void agg_launch(struct daemon *d);
/* SIGTERM; expect exit 0 and STOPPING=1. */
void agg_stop(struct daemon *d);
/* A provider on @d's seat with both events registered and enabled. */
struct uev_provider *agg_emitter(struct daemon *d);
/* A ring reader's report callback that fails the test. */
void agg_report(void *ctx, enum uev_ring_report_kind kind, uint64_t off, const char *msg);

#endif
