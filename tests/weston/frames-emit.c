/* SPDX-License-Identifier: MIT */
/*
 * weston-frames-emit SEAT RUN-DIR: the weston provider's repaint and damage
 * points as a compositor with two outputs, A and B, would emit them, in a
 * fixed script with the awkward cases uev-replay --perfetto must draw
 * right (frames.sh checks the export):
 *   A: a repaint loop starts (a finished without a begin: vblank only);
 *      frame 1 finishes while B's frame 1 is open; frame 2 never finishes
 *      (frame 3 begins); frame 4 never finishes (the loop stops);
 *   B: frame 1 finishes after A's; frame 2 is open when the recording ends;
 *   surface 7 commits before any flush (no output track yet), then after
 *   its flush on A with an empty description (the newest one names it).
 * Every point carries its own CLOCK_MONOTONIC time, as Weston's do.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define UEV_WESTON_IMPLEMENTATION
#include "weston-uev.h"

static uint64_t now(void)
{
	struct timespec ts;

	usleep(2000); /* points apart, so their order is the script's */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A frame's end: its vblank 1 ms before the finished point. */
static void finished(uint32_t out, const char *name)
{
	uint64_t t = now();

	uev_emit_weston_repaint_finished(t, out, t - 1000000, name);
}

int main(int argc, char **argv)
{
	struct uev_provider_options o = { 0 };
	struct uev_provider *p;
	const struct uev_event *used[] = {
		&uev_weston_repaint_enter_loop, &uev_weston_repaint_begin,
		&uev_weston_repaint_posted, &uev_weston_repaint_finished,
		&uev_weston_repaint_exit_loop, &uev_weston_commit_damage,
		&uev_weston_flush_damage,
	};

	if (argc != 3) {
		fprintf(stderr, "usage: weston-frames-emit SEAT RUN-DIR\n");
		return 2;
	}
	o.seat = argv[1];
	o.run_dir = argv[2];
	if (uev_provider_open(&p, &o) < 0 || uev_weston_register(p) < 0) {
		fprintf(stderr, "weston-frames-emit: no provider\n");
		return 1;
	}
	for (size_t k = 0; k < sizeof(used) / sizeof(used[0]); k++) {
		for (int i = 0; i < 5000 && !uev_enabled(used[k]); i++)
			usleep(1000);
		if (!uev_enabled(used[k])) {
			fprintf(stderr, "weston-frames-emit: the seat never enabled the events\n");
			return 1;
		}
	}
	uev_emit_weston_repaint_enter_loop(now(), 1, "A");
	finished(1, "A");
	uev_emit_weston_commit_damage(now(), 7, "top-level window 'w7'");
	uev_emit_weston_repaint_begin(now(), 1, "A");                /* A 1 */
	uev_emit_weston_repaint_begin(now(), 2, "B");                /* B 1 */
	uev_emit_weston_flush_damage(now(), 7, 1, "top-level window 'w7'", "A");
	uev_emit_weston_repaint_posted(now(), 1, "A");
	finished(1, "A");
	uev_emit_weston_commit_damage(now(), 7, "");
	uev_emit_weston_repaint_posted(now(), 2, "B");
	finished(2, "B");
	uev_emit_weston_repaint_begin(now(), 1, "A");                /* A 2 */
	uev_emit_weston_repaint_begin(now(), 1, "A");                /* A 3 */
	uev_emit_weston_flush_damage(now(), 9, 1, "top-level window 'w9'", "A");
	uev_emit_weston_repaint_posted(now(), 1, "A");
	finished(1, "A");
	uev_emit_weston_commit_damage(now(), 9, "top-level window 'w9'");
	uev_emit_weston_repaint_begin(now(), 1, "A");                /* A 4 */
	uev_emit_weston_repaint_exit_loop(now(), 1, "A");
	uev_emit_weston_repaint_begin(now(), 2, "B");                /* B 2 */
	uev_provider_close(p);
	return 0;
}
