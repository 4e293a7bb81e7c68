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
 * The task names are tracedat-comm.c's; libtracecmd and the check of its
 * version are tracedat-write.c's.
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

#include "tracedat-int.h"

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

void td_note(struct td *t, uint64_t off, const char *fmt, ...)
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
int td_fail(struct td *t, int e, const char *what)
{
	snprintf(t->err, t->errsize, "%s: %s", what, strerror(e));
	return -e;
}

/* Write @rel (under the work directory, made as needed): replaced, or
 * appended to. */
int td_put(struct td *t, const char *rel, const void *data, size_t len, bool append)
{
	char p[PATH_MAX + 300];
	int fd, e = 0;

	snprintf(p, sizeof(p), "%s/%s", t->dir, rel);
	for (char *s = strchr(p + strlen(t->dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return td_fail(t, errno, p);
		*s = '/';
	}
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0600);
	if (fd < 0)
		return td_fail(t, errno, p);
	while (len && !e) {
		ssize_t w = write(fd, data, len);

		if (w > 0)
			data = (const char *)data + w, len -= (size_t)w;
		else if (w == 0 || errno != EINTR)
			e = w < 0 ? errno : EIO;
	}
	if (close(fd) < 0 && !e)
		e = errno;
	return e ? td_fail(t, e, p) : 0;
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
	struct uev_ring_run_start_rec rs;

	if (uev_ring_rec_run_start(rec, &rs) < 0)
		return td_note(t, rec->offset, "RUN_START of %u bytes is malformed", rec->len);
	snprintf(t->release, sizeof(t->release), "%s", rs.info.kernel_release);
	snprintf(t->clock, sizeof(t->clock), "%s", rs.info.trace_clock);
	snprintf(t->host, sizeof(t->host), "%s", rs.info.host);
	t->border = rs.info.byte_order, t->lsize = rs.info.long_size;
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
		return td_fail(t, ENOMEM, t->path);
	if (tep_parse_header_page(tep, (char *)text, (unsigned long)strlen(text),
				  t->border && t->lsize ? t->lsize : 8) == 0)
		size = tep_get_sub_buffer_size(tep);
	tep_free(tep);
	if (size < 64 || size > (1 << 24)) {
		td_note(t, rec->offset, "header_page gives no sub-buffer size; skipped");
		return 0;
	}
	t->hpsize = (uint32_t)size;
	t->hpoff = rec->offset;
	return (t->hpage = strdup(text)) ? 0 : td_fail(t, ENOMEM, t->path);
}

/* A FORMAT goes straight to its file; a later one of the same id replaces
 * it (the latest wins within a run). */
static int format(struct td *t, const struct uev_ring_rec *rec)
{
	struct uev_ring_format_rec f;
	const char *sys, *text;
	char rel[300];
	uint32_t id;

	if (uev_ring_rec_format(rec, &f) < 0) {
		td_note(t, rec->offset, "FORMAT record is malformed; skipped");
		return 0;
	}
	sys = f.system, text = f.text, id = f.id;
	if (f.kind == UEV_RING_FMT_HEADER_PAGE)
		return header_page(t, rec, text);
	if (f.kind == UEV_RING_FMT_HEADER_EVENT)
		return t->hevent = true, td_put(t, "events/header_event", text, strlen(text), false);
	/* The system becomes a directory. The event's name and id are read
	 * from the text, so the directory under it is named by id: two ids of
	 * one name (a user event registered again) stay apart. */
	if (!*sys || strchr(sys, '/') || !strcmp(sys, ".") || !strcmp(sys, "..") || strlen(sys) > 200) {
		td_note(t, rec->offset, "FORMAT of id %u has a bad system; skipped", id);
		return 0;
	}
	t->ftrace |= !strcmp(sys, "ftrace");
	snprintf(rel, sizeof(rel), "events/%s/%u/format", sys, id);
	return td_put(t, rel, text, strlen(text), false);
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
		return td_comms(t, rec);
	else if (rec->type == UEV_RING_PAGE && rec->cpu >= MAX_CPUS)
		td_note(t, rec->offset, "PAGE of cpu %u: a trace.dat export takes CPUs 0 to %u "
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
		e = td_fail(t, ENOMEM, t->path);
	while (!e && (e = uev_ring_reader_next(r, &rec)) > 0) {
		e = 0;
		if (rec.type != UEV_RING_PAGE || rec.run_id != t->run || rec.cpu >= MAX_CPUS)
			continue; /* (those of a bad CPU were reported in pass 1) */
		/* A ring still written to can have grown since pass 1. */
		if (rec.cpu >= t->ncpu || rec.len > t->subbuf) {
			td_note(t, rec.offset, "PAGE of cpu %u after the first pass; skipped", rec.cpu);
			continue;
		}
		memcpy(buf, rec.payload, rec.len);
		memset(buf + rec.len, 0, t->subbuf - rec.len);
		snprintf(rel, sizeof(rel), "cpu%u", rec.cpu);
		if ((e = td_put(t, rel, buf, t->subbuf, true)) == 0)
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
		return td_put(t, "events/header_page", t->hpage, strlen(t->hpage), false);
	td_note(t, t->hpoff, "run %llu: pages of up to %u bytes, header_page says %u; written as %u",
	     (unsigned long long)t->run, t->maxlen, t->hpsize, t->subbuf);
	if (!off || !size || sscanf(off, "offset:%u", &o) != 1 || o >= t->subbuf) {
		snprintf(t->err, t->errsize, "%s: run %llu: header_page has no data field to resize",
			 t->path, (unsigned long long)t->run);
		return -EBADMSG;
	}
	if (asprintf(&text, "%.*ssize:%u%s", (int)(size - t->hpage), t->hpage, t->subbuf - o,
		     size + 5 + strspn(size + 5, "0123456789")) < 0)
		return td_fail(t, ENOMEM, t->path);
	e = td_put(t, "events/header_page", text, strlen(text), false);
	free(text);
	return e;
}

/* The rest of the tracefs-shaped directory: saved_cmdlines, the ftrace
 * placeholder if needed, empty data files for CPUs without pages (at
 * least CPU 0). */
static int finish_dir(struct td *t)
{
	char rel[64];
	int e = td_cmdlines(t);

	if (!e && !t->ftrace)
		e = td_put(t, "events/ftrace/placeholder/format", placeholder, sizeof(placeholder) - 1, false);
	for (unsigned c = 0; !e && c < (t->ncpu ? t->ncpu : 1u); c++) {
		snprintf(rel, sizeof(rel), "cpu%u", c);
		if (!t->pages[c])
			e = td_put(t, rel, "", 0, false);
	}
	return e;
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

/* The work directory (beside @out: the file system the result needs
 * anyway, about as much, and not a RAM-backed /tmp) and the template of
 * the new file in @tmp. 0, or -errno with t->dir left empty. */
static int make_dirs(struct td *t, const char *out, char *tmp, size_t tmpsize)
{
	char *copy = strdup(out);
	int e = 0;

	if (!copy)
		e = td_fail(t, ENOMEM, out);
	else if (snprintf(t->dir, sizeof(t->dir), "%s/.uev-tracedat.XXXXXX", dirname(copy)) >=
			 (int)sizeof(t->dir) ||
		 snprintf(tmp, tmpsize, "%s.XXXXXX", out) >= (int)tmpsize)
		e = td_fail(t, ENAMETOOLONG, out);
	else if (!mkdtemp(t->dir))
		e = td_fail(t, errno, out);
	free(copy);
	if (e < 0)
		t->dir[0] = 0;
	return e;
}

int uev_tracedat_write(const char *path, uint64_t run_id, const char *out,
		       uev_ring_report_fn report, void *ctx, char *err, size_t errsize)
{
	struct td t = { .path = path, .report = report, .ctx = ctx, .err = err, .errsize = errsize,
			.want = run_id };
	char tmp[PATH_MAX];
	struct uev_ring_reader *r;
	uint64_t total;
	int e, fd = -1;

	if (err && errsize)
		err[0] = 0;
	if ((e = td_check_loaded(err, errsize)) < 0 ||
	    (e = uev_ring_reader_open(&r, path, report, ctx, err, errsize)) < 0)
		return e;
	if ((e = make_dirs(&t, out, tmp, sizeof(tmp))) == 0)
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
		e = uev_ring_decode(path, NULL, NULL, td_event_name, &t, err, errsize);
	/* Pass 3 reads the file again; its damage was reported in pass 1. */
	if (!e && (e = uev_ring_reader_open(&r, path, NULL, NULL, err, errsize)) == 0) {
		e = pages(&t, r);
		uev_ring_reader_close(r);
	}
	if (!e)
		e = finish_dir(&t);
	if (!e && ((fd = mkostemp(tmp, O_CLOEXEC)) < 0 || fchmod(fd, 0644) < 0)) {
		e = td_fail(&t, errno, out);
		if (fd >= 0)
			close(fd);
	}
	if (!e)
		e = td_write_dat(&t, fd, tmp, out);
	if (!e && rename(tmp, out) < 0)
		e = td_fail(&t, errno, out);
	if (fd >= 0 && e < 0)
		unlink(tmp);
	total = t.total;
	reset_run(&t, 0);
	if (t.dir[0])
		rmdir(t.dir);
	return e < 0 ? e : total > INT_MAX ? INT_MAX : (int)total;
}
