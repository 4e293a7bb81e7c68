// SPDX-License-Identifier: MIT
/*
 * tl_feed: uev-weston's own cost per timeline point, without Weston around
 * it. Recorded timeline lines (wbench.so with $UEVB_TL_FILE) are fed, one
 * scope write per line as Weston writes a point, through the module's real
 * scope_write(): this file includes weston/uev-weston.c, so the code
 * measured is the module's, not a copy.
 *
 * usage: tl_feed SEAT LINES REPS
 *   SEAT   the seat whose events the module registers (UEV_RUN_DIR as for
 *          the module); recording or not, as the caller arranged
 *   LINES  the recorded timeline scope
 *   REPS   passes over LINES that are timed (one untimed pass first fills
 *          the module's name tables from the object records)
 * Prints, on one line: the points and lines per pass, the seat's state,
 * ns per point through scope_write() (object records amortised over the
 * points, as they come in Weston), and ns per point for the parser alone
 * (line reassembly + uevw_parse_timeline(), nothing emitted).
 * Under callgrind, the inclusive count of feed_module() is the module's
 * instructions (and a few per line for the loop): divide by the "points fed
 * to scope_write" printed (the untimed pass included); feed_parser()'s by
 * REPS x points.
 */
#include <stdarg.h>
#include <time.h>

#include "uev-weston.c"

/* Weston's frontend (not linked here) provides this; the module asks for
 * it only in read_config(), which tl_feed does not call. */
struct weston_config *wet_get_config(struct weston_compositor *ec)
{
	(void)ec;
	return NULL;
}

/* weston_log() (the module's open_provider() says the seat's state) */
static int log_stderr(const char *fmt, va_list ap)
{
	return vfprintf(stderr, fmt, ap);
}

struct feed {
	char *buf;
	size_t nlines, npoints;
	size_t *off, *len;
};

static int load(const char *path, struct feed *f)
{
	FILE *fp = fopen(path, "r");
	size_t cap = 0, n = 0, cap_l = 0;
	size_t got;

	if (!fp)
		return -errno;
	f->buf = NULL;
	do {
		if (n + 65536 > cap && !(f->buf = realloc(f->buf, cap = 2 * cap + 65536)))
			return -ENOMEM;
		got = fread(f->buf + n, 1, cap - n, fp);
		n += got;
	} while (got > 0);
	fclose(fp);
	f->nlines = f->npoints = 0;
	f->off = f->len = NULL;
	for (size_t i = 0; i < n;) {
		char *nl = memchr(f->buf + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - f->buf) + 1 : n;

		if (f->nlines == cap_l) {
			cap_l = 2 * cap_l + 1024;
			if (!(f->off = realloc(f->off, cap_l * sizeof(*f->off))) ||
			    !(f->len = realloc(f->len, cap_l * sizeof(*f->len))))
				return -ENOMEM;
		}
		f->off[f->nlines] = i;
		f->len[f->nlines++] = end - i;
		f->npoints += !strncmp(f->buf + i, "{ \"T\"", 5);
		i = end;
	}
	return f->npoints ? 0 : -ENODATA;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* noinline: callgrind counts these two functions inclusively */
__attribute__((noinline)) static void feed_module(struct uevw_sub *sub, const struct feed *f)
{
	for (size_t i = 0; i < f->nlines; i++)
		scope_write(sub, f->buf + f->off[i], f->len[i]);
}

static size_t parsed;

static void parse_only(void *ctx, char *line, size_t len)
{
	struct uevw_record r;

	(void)ctx;
	parsed += uevw_parse_timeline(line, len, &r) == UEVW_POINT;
}

__attribute__((noinline)) static void feed_parser(struct uevw_lines *lb, const struct feed *f)
{
	for (size_t i = 0; i < f->nlines; i++)
		uevw_lines_feed(lb, f->buf + f->off[i], f->len[i], parse_only, NULL);
}

int main(int argc, char **argv)
{
	static struct uevw_lines lb;
	struct uevw_module mod = { 0 };
	struct uevw_sub *sub;
	struct feed f;
	double t0, t1, t2;
	long reps;
	int r;

	if (argc != 4 || (reps = strtol(argv[3], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: tl_feed SEAT LINES REPS\n");
		return 2;
	}
	r = load(argv[2], &f);
	if (r < 0) {
		fprintf(stderr, "tl_feed: %s: %s\n", argv[2],
			r == -ENODATA ? "no timeline point in the file" : strerror(-r));
		return 1;
	}
	weston_log_set_handler(log_stderr, log_stderr);
	mod.cfg.seat = strdup(argv[1]);
	if (open_provider(&mod) < 0 || uev_provider_backend(mod.provider) == UEV_BACKEND_OFF)
		return 1;
	sub = sub_new(&mod, "timeline");
	if (!sub)
		return 1;
	feed_module(sub, &f);   /* the name tables, as Weston's first records fill them */
	t0 = now();
	for (long i = 0; i < reps; i++)
		feed_module(sub, &f);
	t1 = now();
	for (long i = 0; i < reps; i++)
		feed_parser(&lb, &f);
	t2 = now();
	printf("points %zu lines %zu reps %ld seat %s %s: scope_write %.1f ns/point, parser alone %.1f ns/point; points fed to scope_write %zu, to the parser %zu\n",
	       f.npoints, f.nlines, reps, argv[1], timeline_recording() ? "recording" : "not-recording",
	       (t1 - t0) / ((double)reps * f.npoints), (t2 - t1) / ((double)reps * f.npoints),
	       (size_t)(reps + 1) * f.npoints, (size_t)reps * f.npoints);
	if (parsed != (size_t)reps * f.npoints || sub->lines.dropped)
		fprintf(stderr, "tl_feed: parsed %zu points of %zu, %llu lines dropped\n", parsed,
			(size_t)reps * f.npoints, (unsigned long long)sub->lines.dropped);
	sub_free(sub);
	uev_provider_close(mod.provider);
	free((char *)mod.cfg.seat);
	free(f.buf);
	free(f.off);
	free(f.len);
	return 0;
}
