/* SPDX-License-Identifier: MIT */
/*
 * libtracecmd writes the trace.dat from the work directory (tracedat.c)
 * and reads it back.
 *
 * Debian's libtracecmd-dev ships no header for the writer (trace-cmd-
 * private.h is not installed) although the .so exports it: the
 * declarations below are those of 3.1.6, on an opaque handle. The result
 * is read back with the reader before it replaces the output, so a library
 * that behaves otherwise fails here, not in the user's report.
 *
 * Those declarations, the struct they pass and the library bugs worked
 * around (here and in tracedat.c) hold for the libtracecmd versions the
 * build names in UEV_TRACECMD_NEEDED (1.3.1 = trace-cmd 3.1.6) and no
 * others. So the writer is compiled only when the build's libtracecmd is
 * one of them (UEV_TRACECMD_VERIFIED, decided in meson.build), and before
 * it runs, the libtracecmd actually loaded must carry the build's version
 * too: the soname (libtracecmd.so.1) lets any 1.x stand in at run time.
 * Otherwise td_check_loaded() refuses, naming both versions, and
 * uev_tracedat_write() fails with -ENOTSUP before reading anything.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracedat-int.h"

#if !defined(UEV_TRACECMD_VERSION) || !defined(UEV_TRACECMD_NEEDED)
#error "the build passes UEV_TRACECMD_VERSION and UEV_TRACECMD_NEEDED (aggregator/tracedat/meson.build)"
#endif

#ifdef UEV_TRACECMD_VERIFIED
#include <link.h>
#include <event-parse.h>
#include <trace-cmd.h>
#include <tracefs.h>

struct tracecmd_output;
struct tracecmd_event_list {
	struct tracecmd_event_list *next;
	const char *glob;
};
struct tracecmd_output *tracecmd_output_create_fd(int fd);
int tracecmd_output_set_trace_dir(struct tracecmd_output *h, const char *dir);
int tracecmd_output_set_kallsyms(struct tracecmd_output *h, const char *kallsyms);
int tracecmd_output_set_version(struct tracecmd_output *h, int version);
void tracecmd_set_quiet(struct tracecmd_output *h, bool quiet);
void tracecmd_set_out_clock(struct tracecmd_output *h, const char *clock);
int tracecmd_output_write_headers(struct tracecmd_output *h, struct tracecmd_event_list *list);
int tracecmd_write_cmdlines(struct tracecmd_output *h);
int tracecmd_write_cpus(struct tracecmd_output *h, int cpus);
struct tracecmd_option *tracecmd_add_option(struct tracecmd_output *h, unsigned short id,
					    int size, const void *data);
int tracecmd_write_options(struct tracecmd_output *h);
int tracecmd_write_cpu_data(struct tracecmd_output *h, int cpus, char *const *files,
			    const char *buffer);
void tracecmd_output_close(struct tracecmd_output *h);
int tracecmd_page_size(struct tracecmd_input *in);

/* Option ids of the file format (trace-cmd.dat.v6(5)). */
enum { OPT_TRACECLOCK = 4, OPT_UNAME = 5 };

/*
 * libtracecmd 3.1.6 never frees two small strings: the output handle's
 * kallsyms path and the clock name a reader parses. They are its leaks, not
 * ours; keep them out of the LeakSanitizer reports of uev programs.
 */
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#define LIB_LEAKS(stmt) do { __lsan_disable(); stmt; __lsan_enable(); } while (0)
#else
#define LIB_LEAKS(stmt) do { stmt; } while (0)
#endif

/*
 * Write the trace.dat to @fd (a new file beside @out). Two process-wide
 * settings are touched: libtracefs' tracing directory is the work
 * directory while the handle is made (the file's page size is read from
 * it then, and must be the run's sub-buffer size, not this host's), and
 * libtracecmd's log level is set to none, because 3.1.6 prints warnings to
 * stderr by default and has no way to read the level back.
 */
static int write_dat(struct td *t, int fd, const char *out)
{
	struct tracecmd_event_list all = { .glob = "all" };
	unsigned ncpu = t->ncpu ? t->ncpu : 1u;
	char nokallsyms[PATH_MAX + 16], opt[160], **files = calloc(ncpu, sizeof(*files));
	struct tracecmd_output *h;
	const char *what = "a handle";
	int e = 0;

	tracecmd_set_loglevel(TEP_LOG_NONE);
	/* Without the work directory the handle would take this host's page
	 * size, which need not be the run's. */
	h = files && tracefs_set_tracing_dir(t->dir) == 0 ? tracecmd_output_create_fd(fd) : NULL;
	(void)tracefs_set_tracing_dir(NULL); /* back to the default: cannot fail */
	if (!h) {
		close(fd);
		errno = files ? errno : ENOMEM;
		goto fail;
	}
	tracecmd_set_quiet(h, true);
	/* A kallsyms that does not exist: else the library copies this
	 * host's /proc/kallsyms (lowering kptr_restrict to do so). */
	snprintf(nokallsyms, sizeof(nokallsyms), "%s/none", t->dir);
	what = "the settings", errno = 0;
	LIB_LEAKS(e = tracecmd_output_set_kallsyms(h, nokallsyms));
	if (e < 0 || tracecmd_output_set_trace_dir(h, t->dir) < 0 || tracecmd_output_set_version(h, 6) < 0)
		goto fail;
	if (t->clock[0])
		tracecmd_set_out_clock(h, t->clock);
	what = "the formats", errno = 0;
	if (tracecmd_output_write_headers(h, &all) < 0) /* 3.1: no list means no events */
		goto fail;
	what = "the task names", errno = 0;
	if (tracecmd_write_cmdlines(h) < 0 || tracecmd_write_cpus(h, (int)ncpu) < 0)
		goto fail;
	what = "the options", errno = 0;
	/* TRACECLOCK makes readers parse the clock stored with the data. */
	snprintf(opt, sizeof(opt), "[%s]", t->clock);
	if (t->clock[0] && !tracecmd_add_option(h, OPT_TRACECLOCK, (int)strlen(opt) + 1, opt))
		goto fail;
	snprintf(opt, sizeof(opt), "Linux %s %s", t->host[0] ? t->host : "?", t->release);
	if ((t->release[0] && !tracecmd_add_option(h, OPT_UNAME, (int)strlen(opt) + 1, opt)) ||
	    tracecmd_write_options(h) < 0)
		goto fail;
	what = "the CPU data", errno = 0;
	for (unsigned c = 0; c < ncpu; c++)
		if (asprintf(&files[c], "%s/cpu%u", t->dir, c) < 0) {
			files[c] = NULL;
			errno = ENOMEM;
			goto fail;
		}
	e = 0;
	if (tracecmd_write_cpu_data(h, (int)ncpu, files, NULL) == 0)
		goto done;
fail:
	e = errno > 0 ? errno : EIO;
	snprintf(t->err, t->errsize, "%s: libtracecmd could not write %s: %s", out, what, strerror(e));
done:
	for (unsigned c = 0; files && c < ncpu; c++)
		free(files[c]);
	free(files);
	if (h)
		tracecmd_output_close(h); /* closes @fd */
	return -e;
}

/* Read the file back: it must open, with the ring's sub-buffer size. */
static int check_dat(struct td *t, const char *tmp, const char *out)
{
	struct tracecmd_input *in;
	int ps = -1;

	LIB_LEAKS(in = tracecmd_open(tmp, TRACECMD_FL_LOAD_NO_PLUGINS);
		  ps = in ? tracecmd_page_size(in) : -1; tracecmd_close(in));
	if (ps == (int)t->subbuf)
		return 0;
	if (ps < 0)
		snprintf(t->err, t->errsize, "%s: the trace.dat written does not read back", out);
	else
		snprintf(t->err, t->errsize, "%s: libtracecmd wrote pages of %d bytes, not %u",
			 out, ps, t->subbuf);
	return -EPROTO;
}

int td_write_dat(struct td *t, int fd, const char *tmp, const char *out)
{
	int e = write_dat(t, fd, out);

	return e ? e : check_dat(t, tmp, out);
}

static int find_tracecmd(struct dl_phdr_info *info, size_t size, void *name)
{
	const char *base = strrchr(info->dlpi_name, '/');

	(void)size;
	base = base ? base + 1 : info->dlpi_name;
	if (strncmp(base, "libtracecmd.so", 14))
		return 0;
	snprintf(name, PATH_MAX, "%s", info->dlpi_name);
	return 1;
}

/*
 * The libtracecmd loaded must be the build's: the library has no call that
 * tells its version, but trace-cmd's build installs it as
 * libtracecmd.so.X.Y.Z behind the soname link. 0 when that name carries
 * the build's version, or no version to compare (linked statically, or a
 * renamed file: the build's version stands); else -ENOTSUP with the reason.
 */
int td_check_loaded(char *err, size_t errsize)
{
	char name[PATH_MAX] = "", real[PATH_MAX];
	const char *v;

	dl_iterate_phdr(find_tracecmd, name);
	if (!name[0] || !realpath(name, real))
		return 0;
	v = strrchr(real, '/');
	v = strstr(v ? v : real, "libtracecmd.so.");
	if (!v || !strchr(v += 15, '.') || !strcmp(v, UEV_TRACECMD_VERSION))
		return 0;
	snprintf(err, errsize, "trace.dat export is not available: this program was built against "
		 "libtracecmd %s but runs with libtracecmd %s (%s); its trace.dat writer uses libtracecmd's "
		 "private functions, known only for libtracecmd %s", UEV_TRACECMD_VERSION, v, real,
		 UEV_TRACECMD_NEEDED);
	return -ENOTSUP;
}

#else /* !UEV_TRACECMD_VERIFIED: no libtracecmd call at all */

int td_check_loaded(char *err, size_t errsize)
{
	snprintf(err, errsize, "trace.dat export is not available: this program was built against "
		 "libtracecmd %s, and its trace.dat writer uses libtracecmd's private functions, known only "
		 "for libtracecmd %s", UEV_TRACECMD_VERSION, UEV_TRACECMD_NEEDED);
	return -ENOTSUP;
}

/* Never reached: uev_tracedat_write() asks td_check_loaded() first. */
int td_write_dat(struct td *t, int fd, const char *tmp, const char *out)
{
	(void)tmp, (void)out;
	close(fd);
	return td_check_loaded(t->err, t->errsize);
}

#endif
