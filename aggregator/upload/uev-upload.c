/* SPDX-License-Identifier: MIT */
/*
 * uev-upload --url http://HOST:PORT [options] [RING-FILE...]: ring files and
 * incident bundles to a systemd-journal-remote, resuming where the last
 * acknowledged batch ended (docs/uev-upload.1).
 *
 * Each file goes out in batches, one POST each; only after the server's
 * 2xx is the state file replaced with the batch's last cursor. A kill or a
 * failure therefore re-sends at most the batch in flight (journal-remote
 * stores each complete entry as it arrives, so those few may be stored
 * twice), and never loses one.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "upload.h"
#include "uev-grow.h"

#define BODY_MAX (4u << 20) /* bytes of one POST, whatever --batch says */

struct opts {
	struct up_url url;
	const char *state_path, *incidents;
	int follow, once, verbose;
	unsigned batch, timeout_s, interval_s;
};

/* A bundle found uploaded to its end, not opened again while it stays so. */
struct seen {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct run {
	struct opts o;
	struct up_state st;
	struct rp_buf body;
	struct seen *done;
	size_t ndone, capdone;
	time_t next_scan;
	int failed;        /* a file could not be read: exit 1 at the end */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *fp)
{
	fputs("usage: uev-upload --url http://HOST[:PORT][/PATH] [options] [RING-FILE...]\n"
	      "Send ring files and incident bundles to systemd-journal-remote, resuming where it stopped.\n\n"
	      "  --url URL          the journal-remote (POST URL/upload; port 19532 if none)\n"
	      "  --state FILE       where the last acknowledged entry of each file is kept\n"
	      "                     (default /var/lib/uev/upload.state)\n"
	      "  --incidents DIR    also every incident bundle in DIR not yet uploaded, checked again\n"
	      "                     every --interval seconds unless --once\n"
	      "  --follow, -f       keep sending what the aggregator appends to the (one) RING-FILE\n"
	      "  --once             one pass over everything, then exit\n"
	      "  --batch N          entries per request (default 500): at most that many are sent\n"
	      "                     twice after a kill or a failure\n"
	      "  --timeout SEC      for connecting and for each read or write (default 30)\n"
	      "  --interval SEC     between checks of --incidents DIR (default 10)\n"
	      "  --verbose, -v      a line for every file, also when nothing was new\n"
	      "  --help, --version\n\n"
	      "Exit status: 0 everything sent, 1 a request, a file or the state failed (the state keeps\n"
	      "the last acknowledged entry), 2 bad usage.\n", fp);
}

static int number(const char *opt, const char *s, unsigned lo, unsigned hi, unsigned *v)
{
	char *end;
	unsigned long n = strtoul(s, &end, 10);

	if (!*s || *end || n < lo || n > hi) {
		fprintf(stderr, "uev-upload: %s: '%s' is not a number from %u to %u\n", opt, s, lo, hi);
		return -1;
	}
	*v = (unsigned)n;
	return 0;
}

enum { O_URL = 256, O_STATE, O_INCIDENTS, O_ONCE, O_BATCH, O_TIMEOUT, O_INTERVAL, O_VERSION, O_HELP };

static int parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, 0, O_URL }, { "state", required_argument, 0, O_STATE },
		{ "incidents", required_argument, 0, O_INCIDENTS }, { "follow", no_argument, 0, 'f' },
		{ "once", no_argument, 0, O_ONCE }, { "batch", required_argument, 0, O_BATCH },
		{ "timeout", required_argument, 0, O_TIMEOUT }, { "interval", required_argument, 0, O_INTERVAL },
		{ "verbose", no_argument, 0, 'v' }, { "version", no_argument, 0, O_VERSION },
		{ "help", no_argument, 0, O_HELP }, { 0, 0, 0, 0 },
	};
	const char *url = NULL;
	char err[1200];
	int c;

	o->state_path = "/var/lib/uev/upload.state";
	o->batch = 500;
	o->timeout_s = 30;
	o->interval_s = 10;
	while ((c = getopt_long(argc, argv, "fv", opts, NULL)) != -1) {
		switch (c) {
		case O_URL: url = optarg; break;
		case O_STATE: o->state_path = optarg; break;
		case O_INCIDENTS: o->incidents = optarg; break;
		case 'f': o->follow = 1; break;
		case 'v': o->verbose = 1; break;
		case O_ONCE: o->once = 1; break;
		case O_BATCH: if (number("--batch", optarg, 1, 1000000, &o->batch) < 0) return -1; break;
		case O_TIMEOUT: if (number("--timeout", optarg, 1, 3600, &o->timeout_s) < 0) return -1; break;
		case O_INTERVAL: if (number("--interval", optarg, 1, 86400, &o->interval_s) < 0) return -1; break;
		case O_VERSION: printf("uev-upload %s\n", UEV_VERSION_STRING); exit(0);
		case O_HELP: usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (!url) {
		fprintf(stderr, "uev-upload: --url is required\n");
		return -1;
	}
	if (up_url_parse(&o->url, url, err, sizeof(err)) < 0) {
		fprintf(stderr, "uev-upload: %s\n", err);
		return -1;
	}
	if (optind >= argc && !o->incidents) {
		fprintf(stderr, "uev-upload: nothing to upload: give ring files or --incidents DIR\n");
		return -1;
	}
	if (o->follow && (argc - optind != 1 || o->once)) {
		fprintf(stderr, "uev-upload: --follow follows exactly one ring file, and never ends "
				"(not with --once)\n");
		return -1;
	}
	return 0;
}

static int save(struct run *R, const uint8_t *uuid, const char *cursor, int done)
{
	char err[1200];
	int r = up_state_set(&R->st, uuid, cursor, done);

	if (r < 0 || (r = up_state_save(&R->st, err, sizeof(err))) < 0) {
		fprintf(stderr, "uev-upload: %s\n", r == -ENOMEM ? strerror(ENOMEM) : err);
		return -1;
	}
	return 0;
}

static int scan_incidents(struct run *R);

/* POST the batch in R->body; on success the state names @cursor. -1 with
 * the message printed (the state untouched). */
static int send_batch(struct run *R, const char *path, const uint8_t *uuid, const char *cursor)
{
	char err[1400];

	if (up_post(&R->o.url, R->body.s, R->body.len, (int)R->o.timeout_s * 1000, err, sizeof(err)) < 0) {
		fprintf(stderr, "uev-upload: %s: %s\n", path, err);
		return -1;
	}
	return save(R, uuid, cursor, 0);
}

/*
 * Upload @path from after its acknowledged cursor. @bundle: a finished file
 * that is marked done at its end. 0 sent (or nothing new), 1 the file could
 * not be read (reported; the others go on), -1 the server, the connection
 * or the state failed (reported: stop).
 */
static int upload_file(struct run *R, const char *path, int follow, int bundle)
{
	struct up_source *src;
	struct up_state_entry *se;
	struct rp_cursor after;
	char err[1200], cursor[RP_CURSOR_TEXT], last[RP_CURSOR_TEXT] = "";
	unsigned long long sent = 0, batches = 0;
	unsigned n = 0;
	int r;

	if (up_source_open(&src, path, follow, err, sizeof(err)) < 0) {
		fprintf(stderr, "uev-upload: %s\n", err);
		return 1;
	}
	const uint8_t *uuid = up_source_uuid(src);

	if ((se = up_state_find(&R->st, uuid))) {
		if (se->done && bundle) {
			up_source_close(src);
			return 0;
		}
		if (rp_cursor_parse(&after, se->cursor) == 0)
			up_source_resume(src, &after);
	}
	R->body.len = 0;
	for (;;) {
		r = stop ? 0 : up_source_next(src, &R->body, cursor);
		if (r < 0) {
			fprintf(stderr, "uev-upload: %s: %s\n", path, strerror(-r));
			up_source_close(src);
			return -1;
		}
		if (r > 0) {
			memcpy(last, cursor, sizeof(last));
			n++;
		}
		/* a full batch, or the end of what there is now */
		if (n && (r == 0 || n >= R->o.batch || R->body.len >= BODY_MAX)) {
			if (send_batch(R, path, uuid, last) < 0) {
				up_source_close(src);
				return -1;
			}
			sent += n;
			batches++;
			n = 0;
			R->body.len = 0;
		}
		if (r > 0)
			continue;
		if (!follow || stop)
			break;
		/* following: bundles between polls, then a nap */
		if (R->o.incidents && time(NULL) >= R->next_scan && scan_incidents(R) < 0) {
			up_source_close(src);
			return -1;
		}
		usleep(200000);
	}
	if (sent || R->o.verbose)
		fprintf(stderr, "uev-upload: %s: %llu entries sent in %llu request%s\n", path, sent, batches,
			batches == 1 ? "" : "s");
	if (up_source_problems(src) || up_source_failures(src)) {
		fprintf(stderr, "uev-upload: %s: %llu problems in the file%s (uev-replay %s shows them)\n", path,
			(unsigned long long)up_source_problems(src),
			up_source_failures(src) ? ", and its reading failed part way" : "", path);
		R->failed |= up_source_failures(src) != 0;
	}
	/* A bundle read to its end is done: it is finished when it has not
	 * changed for a while (the aggregator may still be writing a new one). */
	struct stat sb;

	if (bundle && !stop && !up_source_failures(src) && stat(path, &sb) == 0 &&
	    sb.st_mtime + (time_t)R->o.interval_s < time(NULL)) {
		struct rp_cursor none = { .key = INT64_MIN };

		if (!last[0] && (se = up_state_find(&R->st, uuid)))
			memcpy(last, se->cursor, sizeof(last));
		if (!last[0]) {
			memcpy(none.uuid, uuid, 16);
			rp_cursor_format(last, sizeof(last), &none);
		}
		if (save(R, uuid, last, 1) < 0) {
			up_source_close(src);
			return -1;
		}
		if (UEV_GROW(R->done, R->capdone, R->ndone + 1) == 0)
			R->done[R->ndone++] = (struct seen){ sb.st_dev, sb.st_ino, sb.st_size, sb.st_mtim };
	}
	up_source_close(src);
	return 0;
}

static int known_done(const struct run *R, const struct stat *sb)
{
	for (size_t i = 0; i < R->ndone; i++)
		if (R->done[i].dev == sb->st_dev && R->done[i].ino == sb->st_ino && R->done[i].size == sb->st_size &&
		    R->done[i].mtime.tv_sec == sb->st_mtim.tv_sec && R->done[i].mtime.tv_nsec == sb->st_mtim.tv_nsec)
			return 1;
	return 0;
}

static int cmp_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every bundle in --incidents DIR, by name (they are named by time): the
 * hidden files and *.tmp an aggregator is still writing are left out. */
static int scan_incidents(struct run *R)
{
	struct dirent **names;
	int n = scandir(R->o.incidents, &names, NULL, cmp_name), r = 0;

	R->next_scan = time(NULL) + (time_t)R->o.interval_s;
	if (n < 0) {
		fprintf(stderr, "uev-upload: %s: %s\n", R->o.incidents, strerror(errno));
		R->failed = 1;
		return 0;
	}
	for (int i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		size_t len = strlen(nm);
		char path[4096];
		struct stat sb;

		if (r >= 0 && !stop && nm[0] != '.' && !(len > 4 && !strcmp(nm + len - 4, ".tmp")) &&
		    snprintf(path, sizeof(path), "%s/%s", R->o.incidents, nm) < (int)sizeof(path) &&
		    stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && !known_done(R, &sb)) {
			r = upload_file(R, path, 0, 1);
			R->failed |= r > 0;
		}
		free(names[i]);
	}
	free(names);
	return r < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	static struct run R;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[1200];
	int r = 0;

	if (parse_args(&R.o, argc, argv) < 0)
		return 2;
	if (up_state_load(&R.st, R.o.state_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "uev-upload: %s\n", err);
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (;;) {
		for (int i = optind; i < argc && r >= 0 && !stop; i++) {
			r = upload_file(&R, argv[i], R.o.follow, 0);
			R.failed |= r > 0;
		}
		if (r >= 0 && R.o.incidents && !stop)
			r = scan_incidents(&R);
		if (r < 0 || stop || R.o.once || R.o.follow || !R.o.incidents)
			break;
		while (!stop && time(NULL) < R.next_scan)
			usleep(200000);
		optind = argc; /* the files given were sent: only bundles come again */
	}
	up_state_free(&R.st);
	rp_buf_free(&R.body);
	free(R.done);
	return r < 0 || R.failed ? 1 : 0;
}
