/* SPDX-License-Identifier: MIT */
/*
 * uev-seat: bring a seat's tracefs instance up or down and look into its
 * kernel ring. The admin side of the marker backend until uev-aggregator
 * maintains seats itself.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event-parse.h>
#include <trace-seq.h>
#include <tracefs.h>

#include "uev-decode.h"
#include "uev-seat.h"
#include "uev-abi.h"
#include "uev-grow.h"

#define MAX_EVENTS 32

struct opts {
	const char *seat, *run_dir, *clock, *group;
	const char *events[MAX_EVENTS];
	int nevents;
	long buffer_kb;
	int announcements;
};

struct line {
	unsigned long long ts;
	int cpu;
	char *text;
};

struct lines {
	struct line *v;
	size_t n, cap;
	size_t announcements;
	int show_announcements;
	unsigned long long lost;
	int lost_unknown;
	struct uev_decoder *dec;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: uev-seat [--seat NAME] [--run-dir DIR] COMMAND\n"
		"  up      create or reuse the instance uev.<seat> and start marker recording\n"
		"          [--clock CLOCK] [--buffer-kb KB] [--event SYSTEM:EVENT]...\n"
		"          [--group GROUP]  let GROUP's members emit into the seat\n"
		"  down    stop marker recording (emitters stop writing)\n"
		"  remove  stop and remove the instance\n"
		"  status  show the instance and enable page state\n"
		"  dump    print and consume what the instance's kernel ring holds, in time order\n"
		"          [-a|--announcements] also show the marker announcements\n"
		"Seat: --seat, else $XDG_SEAT, else seat0. Needs root.\n");
}

static int cmp_line(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

static int collect(void *ctx, const struct uev_rec *r)
{
	struct lines *l = ctx;
	struct trace_seq s;

	if (r->kind == UEV_REC_ANNOUNCE) {
		l->announcements++;
		if (!l->show_announcements)
			return 0;
	}
	if (r->missed > 0)
		l->lost += (unsigned long long)r->missed;
	else if (r->missed < 0)
		l->lost_unknown = 1;
	if (UEV_GROW(l->v, l->cap, l->n + 1) < 0)
		return -ENOMEM;
	trace_seq_init(&s);
	trace_seq_printf(&s, "%6llu.%06llu cpu%d %6d %-22s ", r->ts / 1000000000ull,
			 r->ts / 1000ull % 1000000ull, r->cpu, r->pid, r->name);
	if (r->missed)
		trace_seq_printf(&s, "[events lost before this one] ");
	uev_rec_print_fields(l->dec, r, &s);
	trace_seq_terminate(&s);
	l->v[l->n].ts = r->ts;
	l->v[l->n].cpu = r->cpu;
	l->v[l->n].text = strdup(s.buffer);
	trace_seq_destroy(&s);
	if (!l->v[l->n].text)
		return -ENOMEM;
	l->n++;
	return 0;
}

static int dump(struct uev_seat *s, const struct opts *o)
{
	static const char *systems[] = { "ftrace", "printk", "sched", "user_events", NULL };
	struct tep_handle *tep = uev_formats_load(systems);
	struct lines l = { .show_announcements = o->announcements };
	struct uev_snapshot snap;
	int r = 0;

	if (!tep || uev_decoder_new(&l.dec, tep) < 0) {
		fprintf(stderr, "uev-seat: cannot load event formats from tracefs\n");
		tep_free(tep);
		return 1;
	}
	printf("# %-13s %-4s %6s %-22s %s\n", "time [s]", "cpu", "tid", "event", "fields");
	if (uev_snapshot_take(s, &snap) < 0 || uev_snapshot_decode(&snap, l.dec, collect, &l) < 0)
		r = 1;
	uev_snapshot_free(&snap);
	/* Pages come CPU by CPU; a person wants one time line. */
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_line);
	for (size_t i = 0; i < l.n; i++) {
		puts(l.v[i].text);
		free(l.v[i].text);
	}
	if (l.lost || l.lost_unknown)
		printf("# lost in the kernel: %llu%s events\n", l.lost, l.lost_unknown ? "+" : "");
	printf("# %zu records, %zu announcements%s\n", l.n, l.announcements,
	       l.show_announcements || !l.announcements ? "" : " (not shown; -a shows them)");
	free(l.v);
	uev_decoder_free(l.dec);
	tep_free(tep);
	return r;
}

static int up(struct uev_seat *s, const struct opts *o)
{
	if (o->clock && uev_seat_set_clock(s, o->clock) < 0) {
		fprintf(stderr, "uev-seat: --clock %s: the kernel refused it (see trace_clock)\n", o->clock);
		return 2;
	}
	if (o->buffer_kb > 0) {
		int r = uev_seat_set_buffer_kb(s, (unsigned long)o->buffer_kb);

		if (r < 0) {
			fprintf(stderr, "uev-seat: --buffer-kb %ld: %s\n", o->buffer_kb, strerror(-r));
			return 2;
		}
	}
	for (int i = 0; i < o->nevents; i++) {
		char sys[128], *ev;

		snprintf(sys, sizeof(sys), "%s", o->events[i]);
		ev = strchr(sys, ':');
		if (!ev || tracefs_event_enable(s->instance, sys, (*ev = 0, ev + 1)) < 0) {
			fprintf(stderr, "uev-seat: --event %s: no such event (use SYSTEM:EVENT)\n", o->events[i]);
			return 2;
		}
	}
	if (o->group) {
		struct group *g = getgrnam(o->group);

		if (!g) {
			fprintf(stderr, "uev-seat: --group %s: no such group\n", o->group);
			return 2;
		}
		int r = uev_seat_grant(s, (unsigned)g->gr_gid);

		if (r < 0) {
			fprintf(stderr, "uev-seat: --group %s: %s\n", o->group, strerror(-r));
			return 1;
		}
	}
	if (uev_seat_markers_start(s) < 0) {
		fprintf(stderr, "uev-seat: cannot start marker recording in %s\n", s->instance_name);
		return 1;
	}
	printf("seat %s: instance %s recording, enable page %s (epoch %u)\n", s->name,
	       s->instance_name, s->page_path, s->page->epoch);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seat", required_argument, NULL, 's' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "clock", required_argument, NULL, 'c' },
		{ "buffer-kb", required_argument, NULL, 'b' },
		{ "event", required_argument, NULL, 'e' },
		{ "group", required_argument, NULL, 'g' },
		{ "announcements", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct opts o = { .seat = getenv("XDG_SEAT") };
	struct uev_seat s;
	char err[1200], *end;
	const char *cmd;
	int c, r = 0;

	while ((c = getopt_long(argc, argv, "s:r:c:b:e:g:ah", lo, NULL)) != -1) {
		switch (c) {
		case 's': o.seat = optarg; break;
		case 'r': o.run_dir = optarg; break;
		case 'c': o.clock = optarg; break;
		case 'g': o.group = optarg; break;
		case 'a': o.announcements = 1; break;
		case 'b':
			o.buffer_kb = strtol(optarg, &end, 10);
			if (*end || o.buffer_kb <= 0) {
				fprintf(stderr, "uev-seat: --buffer-kb: '%s' is not a positive number\n", optarg);
				return 2;
			}
			break;
		case 'e':
			if (o.nevents == MAX_EVENTS) {
				fprintf(stderr, "uev-seat: more than %d --event options\n", MAX_EVENTS);
				return 2;
			}
			o.events[o.nevents++] = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	if (!o.seat || !*o.seat)
		o.seat = "seat0";
	if (strcmp(cmd, "up") && strcmp(cmd, "down") && strcmp(cmd, "remove") &&
	    strcmp(cmd, "status") && strcmp(cmd, "dump")) {
		fprintf(stderr, "uev-seat: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "up") && uev_seat_name_valid(o.seat)) {
		char inst[80];

		snprintf(inst, sizeof(inst), UEV_INSTANCE_PREFIX "%s", o.seat);
		if (!tracefs_instance_exists(inst)) {
			fprintf(stderr, "uev-seat: seat %s is not up (no tracefs instance %s)\n", o.seat, inst);
			return 1;
		}
	}
	if (uev_seat_open(&s, o.seat, o.run_dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "uev-seat: %s\n", err);
		return uev_seat_name_valid(o.seat) ? 1 : 2;
	}
	if (!strcmp(cmd, "up"))
		r = up(&s, &o);
	else if (!strcmp(cmd, "down") || !strcmp(cmd, "remove"))
		uev_seat_markers_stop(&s);
	else if (!strcmp(cmd, "status"))
		printf("seat %s: instance %s, page %s: %s, epoch %u, owner pid %d\n", s.name,
		       s.instance_name, s.page_path, s.page->enabled & 1 ? "enabled" : "disabled",
		       s.page->epoch, s.page->owner_pid);
	else
		r = dump(&s, &o);
	uev_seat_close(&s, !strcmp(cmd, "remove"));
	return r;
}
