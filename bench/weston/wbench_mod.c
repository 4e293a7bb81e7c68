// SPDX-License-Identifier: MIT
/*
 * wbench.so: the Weston 10 module bench/weston loads in every configuration,
 * so that every Weston it times carries the same frame counter:
 *  - $UEVB_FRAMES names an 8-byte file that is mapped shared; each repaint
 *    of any output (its frame_signal) adds one to it, and run.sh reads it at
 *    the start and end of the timed window. One add per frame, no syscall.
 *  - $UEVB_SCOPES (default "log,timeline"; "none": nothing) names the scopes
 *    subscribed, as uev-weston does by default, with Weston's own "log"
 *    subscriber on a plain FILE: /dev/null, or $UEVB_TL_FILE (run.sh
 *    records real timeline lines that way for tl_feed).
 * With the scopes subscribed, Weston formats every timeline point and
 * object record (the timeline scope produces nothing while unsubscribed)
 * and nothing else happens: the cost of this over UEVB_SCOPES=none is
 * Weston's formatting, which uev-weston pays too and does not control.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libweston/libweston.h>
#include <libweston/weston-log.h>

static volatile uint64_t *frames;
static struct wl_listener output_created;

static void on_frame(struct wl_listener *l, void *data)
{
	(void)l;
	(void)data;
	++*frames;
}

static void count_output(struct weston_output *o)
{
	struct wl_listener *l = calloc(1, sizeof(*l));   /* lives as long as Weston */

	if (!l)
		return;
	l->notify = on_frame;
	wl_signal_add(&o->frame_signal, l);
}

static void on_output_created(struct wl_listener *l, void *data)
{
	(void)l;
	count_output(data);
}

static int count_frames(struct weston_compositor *ec, const char *path)
{
	struct weston_output *o;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	void *p;

	if (fd < 0 || ftruncate(fd, sizeof(uint64_t)) < 0)
		return -1;
	p = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	frames = p;
	wl_list_for_each(o, &ec->output_list, link)
		count_output(o);
	output_created.notify = on_output_created;
	wl_signal_add(&ec->output_created_signal, &output_created);
	return 0;
}

static void subscribe(struct weston_compositor *ec, const char *scopes)
{
	const char *path = getenv("UEVB_TL_FILE");
	char *list = strdup(scopes), *save = NULL;
	FILE *f = fopen(path && *path ? path : "/dev/null", "w");

	if (!f || !list) {
		weston_log("wbench: cannot open %s\n", path && *path ? path : "/dev/null");
		free(list);
		return;
	}
	/* /dev/null keeps stdio's full buffering: one write(2) per 4 KiB, so
	 * that nearly all of this cost is Weston's formatting. A recording is
	 * line-buffered: whole lines even if Weston is killed. */
	if (path && *path)
		setvbuf(f, NULL, _IOLBF, 0);
	for (char *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		struct weston_log_subscriber *sub = weston_log_subscriber_create_log(f);

		if (sub)
			weston_log_subscribe(ec->weston_log_ctx, sub, s);
	}
	free(list);
}

WL_EXPORT int wet_module_init(struct weston_compositor *ec, int *argc, char *argv[])
{
	const char *path = getenv("UEVB_FRAMES"), *scopes = getenv("UEVB_SCOPES");

	(void)argc;
	(void)argv;
	if (path && *path && count_frames(ec, path) < 0)
		weston_log("wbench: cannot count frames in %s\n", path);
	if (!scopes)
		scopes = "log,timeline";
	if (strcmp(scopes, "none"))
		subscribe(ec, scopes);
	return 0;
}
