/* SPDX-License-Identifier: MIT */
/*
 * One run of a ring file as a trace-cmd trace.dat (file version 6: every
 * trace-cmd and KernelShark reads it).
 *
 * Why a work directory: libtracecmd 3.1.6 builds every section of a
 * trace.dat from the files of a tracing directory (events/header_page,
 * events/header_event, events/SYSTEM/EVENT/format, saved_cmdlines) and one
 * data file per CPU; its writer has no lower-level call that takes a format
 * or a page from memory. It can be pointed at any directory, though
 * (tracecmd_output_set_trace_dir). So the run is laid out in a directory
 * shaped like tracefs, beside the output, and the library writes the file
 * as `trace-cmd record` does. Three passes over the ring: the run's
 * metadata and the size of its pages; task names (the project's decoder);
 * the pages.
 *
 * Debian's libtracecmd-dev ships no header for the writer (trace-cmd-
 * private.h is not installed) although the .so exports it: the
 * declarations below are those of 3.1.6, on an opaque handle. The result
 * is read back with the reader before it replaces the output, so a library
 * that behaves otherwise fails here, not in the user's report.
 *
 * Those declarations, the struct they pass and the library bugs worked
 * around below hold for the libtracecmd versions the build names in
 * UEV_TRACECMD_NEEDED (1.3.1 = trace-cmd 3.1.6) and no others. So the
 * writer is compiled only when the build's libtracecmd is one of them
 * (UEV_TRACECMD_VERIFIED, decided in meson.build), and before it runs, the
 * libtracecmd actually loaded must carry the build's version too: the
 * soname (libtracecmd.so.1) lets any 1.x stand in at run time. Otherwise
 * uev_tracedat_write() fails with -ENOTSUP, naming both versions.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <event-parse.h>
#include <tracefs.h>

#include "uev-decode.h"
#include "tracedat.h"

#if !defined(UEV_TRACECMD_VERSION) || !defined(UEV_TRACECMD_NEEDED)
#error "the build passes UEV_TRACECMD_VERSION and UEV_TRACECMD_NEEDED (aggregator/meson.build)"
#endif

#ifdef UEV_TRACECMD_VERIFIED
#include <link.h>
#include <trace-cmd.h>

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

/* A file per CPU number up to the highest: bounded by the most CPUs any
 * kernel has (NR_CPUS 8192), not by the ring's 16-bit cpu field. */
#define MAX_CPUS 8192u

/*
 * libtracecmd 3.1.6 dereferences NULL when the ftrace section would be
 * empty, which it is for a run without marker records. This stands in
 * then. Its id is above any 16-bit common_type, so it never claims a
 * record, and sorts last: libtraceevent finds common_pid and the other
 * common fields in the event of the lowest id, which must be a real one.
 */
static const char placeholder[] =
	"name: uev_placeholder\nID: 65536\nformat:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n"
	"print fmt: \"placeholder\"\n";

struct comm {
	int32_t pid;
	uint32_t order;  /* of COMM entries: the later in the file wins */
	uint64_t ts;     /* of names from events: 1 + their time; 0 for COMM */
	char name[16];
};

struct td {
	const char *path;
	uev_ring_report_fn report;
	void *ctx;
	char *err;
	size_t errsize;
	char dir[PATH_MAX];      /* the work directory */
	uint64_t want, run;      /* run asked for (0: the newest), run collected */
	char clock[16], release[65], host[65];
	uint8_t border, lsize;   /* the run's page layout (0: no RUN_START read) */
	char *hpage;             /* the run's header_page */
	uint64_t hpoff;          /* its record's offset */
	uint32_t hpsize;         /* the sub-buffer size it gives */
	uint32_t maxlen;         /* of the run's PAGE records */
	uint32_t subbuf;         /* the page size written */
	bool hevent, ftrace;     /* header_event / an ftrace format laid out */
	struct comm *comm;
	size_t ncomm, capcomm;
	uint32_t order;
	unsigned ncpu;           /* highest CPU with a page + 1 */
	uint64_t *pages;         /* [ncpu]: pages in each CPU's data file */
	uint64_t total;
};

static void note(struct td *t, uint64_t off, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!t->report)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->report(t->ctx, UEV_RING_DAMAGE, off, msg);
}

/* -@e with "@what: strerror" in the caller's buffer. */
static int fail(struct td *t, int e, const char *what)
{
	snprintf(t->err, t->errsize, "%s: %s", what, strerror(e));
	return -e;
}

/* Write @rel (under the work directory, made as needed): replaced, or
 * appended to. */
static int put(struct td *t, const char *rel, const void *data, size_t len, bool append)
{
	char p[PATH_MAX + 300];
	int fd, e = 0;

	snprintf(p, sizeof(p), "%s/%s", t->dir, rel);
	for (char *s = strchr(p + strlen(t->dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return fail(t, errno, p);
		*s = '/';
	}
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0600);
	if (fd < 0)
		return fail(t, errno, p);
	while (len && !e) {
		ssize_t w = write(fd, data, len);

		if (w > 0)
			data = (const char *)data + w, len -= (size_t)w;
		else if (w == 0 || errno != EINTR)
			e = w < 0 ? errno : EIO;
	}
	if (close(fd) < 0 && !e)
		e = errno;
	return e ? fail(t, e, p) : 0;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag;
	if (ftw->level > 0)
		remove(p);
	return 0;
}

/* Forget the run collected so far (a newer one starts, or the end). */
static void reset_run(struct td *t, uint64_t run)
{
	struct td keep = { .path = t->path, .report = t->report, .ctx = t->ctx, .err = t->err,
			   .errsize = t->errsize, .want = t->want, .run = run };

	if (t->dir[0])
		nftw(t->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(t->hpage), free(t->comm), free(t->pages);
	memcpy(keep.dir, t->dir, sizeof(keep.dir));
	*t = keep;
}

static void run_start(struct td *t, const struct uev_ring_rec *rec)
{
	const char *p = (const char *)rec->payload + 8 + 37; /* after run_id, boot_id */
	struct uev_ring_run_info ri;
	uint64_t id;

	if (rec->len < 8 + 37 + 65 + 64 + 16 + 65 + 4 + 8)
		return note(t, rec->offset, "RUN_START of %u bytes is too short", rec->len);
	snprintf(t->release, sizeof(t->release), "%.*s", 64, p);
	snprintf(t->clock, sizeof(t->clock), "%.*s", 15, p + 65 + 64);
	snprintf(t->host, sizeof(t->host), "%.*s", 64, p + 65 + 64 + 16);
	if (uev_ring_rec_run_start(rec, &id, &ri) == 0)
		t->border = ri.byte_order, t->lsize = ri.long_size;
}

/*
 * libtracecmd writes a trace.dat in this machine's byte order and long
 * size (its header says so, and readers swap by it), and the pages go in
 * unchanged: pages of another layout would be misread by every reader of
 * the result. 0, or -ENOTSUP with the reason.
 */
static int layout_ok(struct td *t)
{
	struct uev_ring_run_info ri = { .byte_order = t->border ? t->border : UEV_RING_LITTLE_ENDIAN,
					.long_size = t->border ? t->lsize : 8 };
	char file[64], here[64];

	if (uev_ring_layout_check(&ri, t->path, t->run, t->err, t->errsize) < 0)
		return -ENOTSUP; /* no decoder reads it either */
	if (uev_ring_layout_is_host(&ri))
		return 0;
	snprintf(t->err, t->errsize,
		 "%s: run %llu was recorded as %s, and a trace.dat is written as this machine's pages are (%s): "
		 "export it on a machine like the recording one, or read the ring file with uev-replay",
		 t->path, (unsigned long long)t->run,
		 uev_ring_layout_name(file, sizeof(file), ri.byte_order, ri.long_size),
		 uev_ring_layout_name(here, sizeof(here), uev_ring_host_byte_order(), uev_ring_host_long_size()));
	return -ENOTSUP;
}

/* The run's first header_page is kept (every checkpoint repeats it), with
 * the sub-buffer size it gives: where its data field ends. */
static int header_page(struct td *t, const struct uev_ring_rec *rec, const char *text)
{
	struct tep_handle *tep;
	int size = 0;

	if (t->hpage)
		return 0;
	if (!(tep = tep_alloc()))
		return fail(t, ENOMEM, t->path);
	if (tep_parse_header_page(tep, (char *)text, (unsigned long)strlen(text),
				  t->border && t->lsize ? t->lsize : 8) == 0)
		size = tep_get_sub_buffer_size(tep);
	tep_free(tep);
	if (size < 64 || size > (1 << 24)) {
		note(t, rec->offset, "header_page gives no sub-buffer size; skipped");
		return 0;
	}
	t->hpsize = (uint32_t)size;
	t->hpoff = rec->offset;
	return (t->hpage = strdup(text)) ? 0 : fail(t, ENOMEM, t->path);
}

/* A FORMAT goes straight to its file; a later one of the same id replaces
 * it (the latest wins within a run). */
static int format(struct td *t, const struct uev_ring_rec *rec)
{
	const char *sys, *name, *text, *end = (const char *)rec->payload + rec->len;
	const uint8_t *p = rec->payload;
	char rel[300];
	uint32_t id;

	sys = (const char *)p + 8;
	name = rec->len > 8 ? memchr(sys, 0, (size_t)(end - sys)) : NULL;
	text = name ? memchr(name + 1, 0, (size_t)(end - name - 1)) : NULL;
	if (!text || !memchr(text + 1, 0, (size_t)(end - text - 1))) {
		note(t, rec->offset, "FORMAT record is malformed; skipped");
		return 0;
	}
	text++;
	/* little-endian, as every integer of the ring file's own */
	id = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
	if (p[0] == UEV_RING_FMT_HEADER_PAGE)
		return header_page(t, rec, text);
	if (p[0] == UEV_RING_FMT_HEADER_EVENT)
		return t->hevent = true, put(t, "events/header_event", text, strlen(text), false);
	/* The system becomes a directory. The event's name and id are read
	 * from the text, so the directory under it is named by id: two ids of
	 * one name (a user event registered again) stay apart. */
	if (p[0] != UEV_RING_FMT_EVENT || !*sys || strchr(sys, '/') || !strcmp(sys, ".") ||
	    !strcmp(sys, "..") || strlen(sys) > 200) {
		note(t, rec->offset, "FORMAT of id %u has a bad kind or system; skipped", id);
		return 0;
	}
	t->ftrace |= !strcmp(sys, "ftrace");
	snprintf(rel, sizeof(rel), "events/%s/%u/format", sys, id);
	return put(t, rel, text, strlen(text), false);
}

static int comm_cmp(const void *a, const void *b)
{
	const struct comm *x = a, *y = b;

	if (x->pid != y->pid)
		return (x->pid > y->pid) - (x->pid < y->pid);
	if (x->ts != y->ts)
		return (x->ts > y->ts) - (x->ts < y->ts);
	return (x->order > y->order) - (x->order < y->order);
}

/* Sort by pid, keeping each pid's latest name: by time if an event gave
 * one, else the last of the file. */
static void comm_compact(struct td *t)
{
	size_t n = 0;

	if (t->ncomm)
		qsort(t->comm, t->ncomm, sizeof(*t->comm), comm_cmp);
	for (size_t i = 0; i < t->ncomm; i++) {
		if (n && t->comm[n - 1].pid == t->comm[i].pid)
			n--;
		t->comm[n++] = t->comm[i];
	}
	t->ncomm = n;
}

static int comm_add(struct td *t, int32_t pid, const char *name, size_t len, uint64_t ts)
{
	struct comm c = { .pid = pid, .order = t->order++, .ts = ts };

	snprintf(c.name, sizeof(c.name), "%.*s", (int)(len < 15 ? len : 15), name);
	for (char *s = c.name; *s; s++)
		*s = *s == '\n' ? ' ' : *s; /* saved_cmdlines has a pid per line */
	if (pid <= 0)
		return 0;
	if (t->ncomm == t->capcomm) {
		/* Every segment's checkpoint repeats the names: squeeze the
		 * repeats out before growing. */
		comm_compact(t);
		if (t->ncomm >= t->capcomm / 2) {
			size_t cap = t->capcomm ? 2 * t->capcomm : 1024;
			struct comm *n = realloc(t->comm, cap * sizeof(*n));

			if (!n)
				return fail(t, ENOMEM, t->path);
			t->comm = n, t->capcomm = cap;
		}
	}
	t->comm[t->ncomm++] = c;
	return 0;
}

static int comms(struct td *t, const struct uev_ring_rec *rec)
{
	char name[16];
	int32_t pid;
	int e = 0;

	if (rec->len % 20)
		note(t, rec->offset, "COMM record of %u bytes is not whole entries", rec->len);
	for (uint32_t i = 0; !e && uev_ring_rec_comm(rec, i, &pid, name); i++)
		e = comm_add(t, pid, name, strlen(name), 0);
	return e;
}

/* Pass 1: the run, its metadata, and the extent of its pages. */
static int meta(struct td *t, const struct uev_ring_rec *rec)
{
	/* Run ids only grow in file order: a newer run starts over. */
	if (t->want ? rec->run_id != t->want : rec->run_id < t->run)
		return 0;
	if (rec->run_id != t->run)
		reset_run(t, rec->run_id);
	if (rec->type == UEV_RING_RUN_START)
		run_start(t, rec);
	else if (rec->type == UEV_RING_FORMAT)
		return format(t, rec);
	else if (rec->type == UEV_RING_COMM)
		return comms(t, rec);
	else if (rec->type == UEV_RING_PAGE && rec->cpu >= MAX_CPUS)
		note(t, rec->offset, "PAGE of cpu %u: a trace.dat export takes CPUs 0 to %u "
		     "(no kernel has more); skipped", rec->cpu, MAX_CPUS - 1);
	else if (rec->type == UEV_RING_PAGE) {
		t->maxlen = rec->len > t->maxlen ? rec->len : t->maxlen;
		t->ncpu = rec->cpu >= t->ncpu ? rec->cpu + 1u : t->ncpu;
	}
	/* SYNC and ANNOUNCE have no place in a trace.dat. LOST is in the
	 * pages already: the kernel's missed-events flags and stored counts,
	 * which trace-cmd reports itself. */
	return 0;
}

/*
 * Pass 2, through the project's decoder: names from the kernel's own
 * events, by time. The COMM records follow the order the aggregator
 * drained CPUs in, so a fork met late on one CPU can record the parent's
 * name for a child that renamed itself earlier on another. A fork names
 * the child and the parent, exec (the basename, as the kernel does) and
 * rename the task itself.
 */
static int event_name(void *ctx, const struct uev_ringdec_run *run, const struct uev_rec *r)
{
	unsigned long long pid;
	struct td *t = ctx;
	const char *v;
	char comm[16];
	int32_t p;
	int len, e;

	if (run->run_id != t->run || r->kind != UEV_REC_KERNEL || !r->event)
		return 0;
	/* A fork also names its parent, as it is at that moment. */
	if (!strcmp(r->event->name, "sched_process_fork") &&
	    tep_get_field_val(NULL, r->event, "parent_pid", r->record, &pid, 0) == 0 &&
	    pid <= INT32_MAX && (v = tep_get_field_raw(NULL, r->event, "parent_comm", r->record,
						       &len, 0)) && len > 0 &&
	    (e = comm_add(t, (int32_t)pid, v, strnlen(v, (size_t)len), r->ts + 1)) < 0)
		return e;
	if (!uev_event_comm(r->event, r->record, &p, comm))
		return 0;
	return comm_add(t, p, comm, strlen(comm), r->ts + 1);
}

/* Pass 3: the run's pages, each padded with zeros to the page size (a
 * trace.dat CPU stream is whole pages) and appended to its CPU's data
 * file. File order is, per CPU, the kernel's order. */
static int pages(struct td *t, struct uev_ring_reader *r)
{
	struct uev_ring_rec rec;
	uint8_t *buf = malloc(t->subbuf);
	char rel[32];
	int e = 0;

	t->pages = calloc(t->ncpu ? t->ncpu : 1u, sizeof(*t->pages));
	if (!buf || !t->pages)
		e = fail(t, ENOMEM, t->path);
	while (!e && (e = uev_ring_reader_next(r, &rec)) > 0) {
		e = 0;
		if (rec.type != UEV_RING_PAGE || rec.run_id != t->run || rec.cpu >= MAX_CPUS)
			continue; /* (those of a bad CPU were reported in pass 1) */
		/* A ring still written to can have grown since pass 1. */
		if (rec.cpu >= t->ncpu || rec.len > t->subbuf) {
			note(t, rec.offset, "PAGE of cpu %u after the first pass; skipped", rec.cpu);
			continue;
		}
		memcpy(buf, rec.payload, rec.len);
		memset(buf + rec.len, 0, t->subbuf - rec.len);
		snprintf(rel, sizeof(rel), "cpu%u", rec.cpu);
		if ((e = put(t, rel, buf, t->subbuf, true)) == 0)
			t->pages[rec.cpu]++, t->total++;
	}
	free(buf);
	if (e < 0 && !t->err[0])
		snprintf(t->err, t->errsize, "%s: %s", t->path,
			 uev_ring_reader_error(r)[0] ? uev_ring_reader_error(r) : strerror(-e));
	return e;
}

/*
 * The page size: the header_page's sub-buffer size, unless the run's pages
 * are longer (an aggregator that recorded the top instance's header_page
 * for an instance with bigger sub-buffers). Then the next power of two
 * that holds them, and header_page's data field is made to say so: it is
 * where libtracecmd reads the page size from.
 */
static int page_size(struct td *t)
{
	const char *data = strstr(t->hpage, "char data;");
	const char *off = data ? strstr(data, "offset:") : NULL, *size = data ? strstr(data, "size:") : NULL;
	unsigned o;
	char *text;
	int e;

	for (t->subbuf = t->hpsize; t->subbuf < t->maxlen;)
		t->subbuf *= 2;
	if (t->subbuf == t->hpsize)
		return put(t, "events/header_page", t->hpage, strlen(t->hpage), false);
	note(t, t->hpoff, "run %llu: pages of up to %u bytes, header_page says %u; written as %u",
	     (unsigned long long)t->run, t->maxlen, t->hpsize, t->subbuf);
	if (!off || !size || sscanf(off, "offset:%u", &o) != 1 || o >= t->subbuf) {
		snprintf(t->err, t->errsize, "%s: run %llu: header_page has no data field to resize",
			 t->path, (unsigned long long)t->run);
		return -EBADMSG;
	}
	if (asprintf(&text, "%.*ssize:%u%s", (int)(size - t->hpage), t->hpage, t->subbuf - o,
		     size + 5 + strspn(size + 5, "0123456789")) < 0)
		return fail(t, ENOMEM, t->path);
	e = put(t, "events/header_page", text, strlen(text), false);
	free(text);
	return e;
}

/* The rest of the tracefs-shaped directory: saved_cmdlines ("pid comm"
 * lines), the ftrace placeholder if needed, empty data files for CPUs
 * without pages (at least CPU 0). */
static int finish_dir(struct td *t)
{
	char rel[64], *lines = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&lines, &size);
	int e;

	if (!f)
		return fail(t, ENOMEM, t->path);
	comm_compact(t);
	for (size_t i = 0; i < t->ncomm; i++)
		fprintf(f, "%d %s\n", t->comm[i].pid, t->comm[i].name);
	e = fclose(f) ? fail(t, ENOMEM, t->path) : put(t, "saved_cmdlines", lines, size, false);
	free(lines);
	if (!e && !t->ftrace)
		e = put(t, "events/ftrace/placeholder/format", placeholder, sizeof(placeholder) - 1, false);
	for (unsigned c = 0; !e && c < (t->ncpu ? t->ncpu : 1u); c++) {
		snprintf(rel, sizeof(rel), "cpu%u", c);
		if (!t->pages[c])
			e = put(t, rel, "", 0, false);
	}
	return e;
}
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

/* Pass 1 over the whole file, with the reader's reports. */
static int pass_meta(struct td *t, struct uev_ring_reader *r)
{
	struct uev_ring_rec rec;
	int e;

	while ((e = uev_ring_reader_next(r, &rec)) > 0)
		if ((e = meta(t, &rec)) < 0)
			return e;
	if (e < 0)
		snprintf(t->err, t->errsize, "%s: %s", t->path,
			 uev_ring_reader_error(r)[0] ? uev_ring_reader_error(r) : strerror(-e));
	return e;
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
static int check_loaded(char *err, size_t errsize)
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

int uev_tracedat_write(const char *path, uint64_t run_id, const char *out,
		       uev_ring_report_fn report, void *ctx, char *err, size_t errsize)
{
	struct td t = { .path = path, .report = report, .ctx = ctx, .err = err, .errsize = errsize,
			.want = run_id };
	char tmp[PATH_MAX], *copy;
	struct uev_ring_reader *r;
	uint64_t total;
	int e, fd = -1;

	if (err && errsize)
		err[0] = 0;
	if ((e = check_loaded(err, errsize)) < 0 ||
	    (e = uev_ring_reader_open(&r, path, report, ctx, err, errsize)) < 0)
		return e;
	/* Work files go beside @out: the file system the result needs
	 * anyway, about as much, and not a RAM-backed /tmp. */
	copy = strdup(out);
	if (!copy)
		e = fail(&t, ENOMEM, out);
	else if (snprintf(t.dir, sizeof(t.dir), "%s/.uev-tracedat.XXXXXX", dirname(copy)) >=
			 (int)sizeof(t.dir) ||
		 snprintf(tmp, sizeof(tmp), "%s.XXXXXX", out) >= (int)sizeof(tmp))
		e = fail(&t, ENAMETOOLONG, out);
	else if (!mkdtemp(t.dir))
		e = fail(&t, errno, out);
	free(copy);
	if (e < 0)
		t.dir[0] = 0;
	else
		e = pass_meta(&t, r);
	uev_ring_reader_close(r);
	if (!e && !t.run)
		e = -ENOENT, snprintf(err, errsize, run_id ? "%s: no run %llu in the file" :
				      "%s: no run in the file", path, (unsigned long long)run_id);
	else if (!e && (!t.hpage || !t.hevent))
		e = -ENODATA, snprintf(err, errsize, "%s: run %llu has no header_page or header_event",
				       path, (unsigned long long)t.run);
	if (!e)
		e = layout_ok(&t);
	if (!e)
		e = page_size(&t);
	if (!e)
		e = uev_ring_decode(path, NULL, NULL, event_name, &t, err, errsize);
	/* Pass 3 reads the file again; its damage was reported in pass 1. */
	if (!e && (e = uev_ring_reader_open(&r, path, NULL, NULL, err, errsize)) == 0) {
		e = pages(&t, r);
		uev_ring_reader_close(r);
	}
	if (!e)
		e = finish_dir(&t);
	if (!e && ((fd = mkostemp(tmp, O_CLOEXEC)) < 0 || fchmod(fd, 0644) < 0)) {
		e = fail(&t, errno, out);
		if (fd >= 0)
			close(fd);
	}
	if (!e)
		e = write_dat(&t, fd, out);
	if (!e)
		e = check_dat(&t, tmp, out);
	if (!e && rename(tmp, out) < 0)
		e = fail(&t, errno, out);
	if (fd >= 0 && e < 0)
		unlink(tmp);
	total = t.total;
	reset_run(&t, 0);
	if (t.dir[0])
		rmdir(t.dir);
	return e < 0 ? e : total > INT_MAX ? INT_MAX : (int)total;
}

#else /* !UEV_TRACECMD_VERIFIED: no libtracecmd call at all */

int uev_tracedat_write(const char *path, uint64_t run_id, const char *out,
		       uev_ring_report_fn report, void *ctx, char *err, size_t errsize)
{
	(void)path, (void)run_id, (void)out, (void)report, (void)ctx;
	snprintf(err, errsize, "trace.dat export is not available: this program was built against "
		 "libtracecmd %s, and its trace.dat writer uses libtracecmd's private functions, known only "
		 "for libtracecmd %s", UEV_TRACECMD_VERSION, UEV_TRACECMD_NEEDED);
	return -ENOTSUP;
}

#endif
