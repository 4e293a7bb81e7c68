/* SPDX-License-Identifier: MIT */
/*
 * The seat's control socket (uev-control(7)) and its incidents, on a
 * thread of their own: nothing a client does (a slow reader, a flood of
 * requests, a bundle being written) can hold up the drain. The policy is
 * the configuration's [control] section: root may do everything; others
 * what a grant names for their uid or one of their groups (taken from the
 * kernel's peer credentials at connect, never from the client's word).
 */
#ifndef UEV_CONTROL_H_AGG
#define UEV_CONTROL_H_AGG

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "capture.h"
#include "control-select.h"
#include "incidents.h"
#include "log.h"

#define UEV_CONTROL_CLIENTS 32

struct uev_control_client {
	int fd;                       /* -1: free */
	uint64_t id;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	gid_t groups[64];
	int ngroups;
	int watch;
	char who[96];                 /* "uid 1000 (weston, pid 42)" */
};

struct uev_control {
	/* The thread's own copy of the configuration ([incident], [control]),
	 * so a reload on the drain's thread never frees what it reads: a
	 * reload hands over a new copy (next), taken between requests. */
	struct uev_config own, *next;
	const struct uev_config *cfg; /* &own */
	char path[108];               /* the socket we bound ("" when activated or none) */
	int lfd;                      /* listening socket, -1: none */
	int stop_fd;                  /* eventfd: stop */
	pthread_t thread;
	int running;
	struct uev_control_client cl[UEV_CONTROL_CLIENTS];
	uint64_t next_id;
	struct uev_incidents inc;
	struct uev_select sel;
	struct uev_trigger *trig;     /* the capture's (counts only) */
	pthread_mutex_t lock;         /* the published status below */
	struct uev_capture_stats st;
	uint64_t ring_size, run_id;
	const char *ring_path;
	uint64_t requests, refused;
};

/* Set up: the incidents of run @run_id of @ring_path and the kernel
 * selections of instance @inst (reverting what a killed run left), and the
 * socket RUN-DIR/SEAT.sock (or the one systemd passed), if [control]
 * socket is on; then the thread. 0, or -errno with @err set (the seat
 * records on without it: the caller says so). */
struct tracefs_instance;
int uev_control_start(struct uev_control *c, const struct uev_config *cfg, const char *run_dir,
		      struct tracefs_instance *inst, const char *ring_path, uint64_t ring_size,
		      uint64_t run_id, struct uev_trigger *trig, const struct uev_log *log, char *err,
		      size_t errsize);
/* SIGHUP (the drain's thread): [incident] (but its triggers, which the
 * capture compiled at start) and [control] of @fresh apply from the next
 * request on. */
void uev_control_reload(struct uev_control *c, const struct uev_config *fresh);
/* The drain's counters, for status (each flush). */
void uev_control_publish(struct uev_control *c, const struct uev_capture_stats *st);
/* Stop the thread, revert every client's selections, close the socket;
 * jobs not finished are given up (said). */
void uev_control_stop(struct uev_control *c);

#endif
