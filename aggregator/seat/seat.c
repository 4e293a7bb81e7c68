/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <tracefs.h>

#include "seat.h"
#include "uev-abi.h"

bool uev_seat_name_valid(const char *s)
{
	return uev_seat_name_ok(s);
}

/*
 * Emitters map only a page owned by root (uev-marker.c: anyone else could
 * shrink it under them). An aggregator running as its own user, as the
 * systemd unit runs it, therefore gives its page to root, which takes
 * CAP_CHOWN; as root this is a no-op.
 */
static int page_give_root(int fd, const char *path, char *err, size_t errsize)
{
	struct stat st;
	int e;

	if (fstat(fd, &st) == 0 && st.st_uid == 0)
		return 0;
	if (fchown(fd, 0, 0) == 0)
		return 0;
	e = errno;
	snprintf(err, errsize, "%s: cannot give it to root (%s): emitters map only a root-owned page; "
		 "run as root or with CAP_CHOWN", path, strerror(e));
	return -e;
}

/*
 * The page is created at full size in one step under a temporary name and
 * renamed into place, so an emitter can never map a short file (nor one it
 * would refuse for its owner); an existing page is only ever written, never
 * truncated or replaced (uev-abi.h).
 */
static int page_open(struct uev_seat *s, const char *run_dir, char *err, size_t errsize)
{
	struct uev_enable_page init = { .magic = UEV_PAGE_MAGIC, .version = UEV_PAGE_VERSION };
	char tmp[1100];
	struct stat st;
	void *m;
	int fd, r = 0;

	if (mkdir(run_dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errsize, "%s: cannot create: %s", run_dir, strerror(errno));
		return -errno;
	}
	snprintf(s->page_path, sizeof(s->page_path), "%s/%s.enable", run_dir, s->name);
	fd = open(s->page_path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		snprintf(tmp, sizeof(tmp), "%s/.%s.enable.%d", run_dir, s->name, (int)getpid());
		fd = open(tmp, O_RDWR | O_CLOEXEC | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
		/* fchmod() first: once root's, the file is no longer ours. */
		if (fd >= 0 && (fchmod(fd, 0644) < 0 ||
				(r = page_give_root(fd, s->page_path, err, errsize)) < 0 ||
				pwrite(fd, &init, sizeof(init), 0) != sizeof(init) ||
				fsync(fd) < 0 || link(tmp, s->page_path) < 0)) {
			/* link() not rename(): a page another reader created
			 * meanwhile wins and is used instead. */
			close(fd);
			fd = -1;
		}
		unlink(tmp);
		if (r < 0)
			return r;
		if (fd < 0)
			fd = open(s->page_path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0) {
		snprintf(err, errsize, "%s: %s", s->page_path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < UEV_PAGE_SIZE) {
		close(fd);
		snprintf(err, errsize, "%s: not a %u-byte regular file; remove it while no emitter runs",
			 s->page_path, UEV_PAGE_SIZE);
		return -EINVAL;
	}
	if ((r = page_give_root(fd, s->page_path, err, errsize)) < 0) { /* an earlier run's page */
		close(fd);
		return r;
	}
	m = mmap(NULL, UEV_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		snprintf(err, errsize, "%s: mmap: %s", s->page_path, strerror(errno));
		return -errno;
	}
	s->page = m;
	if (s->page->magic != UEV_PAGE_MAGIC || s->page->version != UEV_PAGE_VERSION) {
		snprintf(err, errsize, "%s: not a uev enable page (magic %#x version %u)",
			 s->page_path, s->page->magic, s->page->version);
		munmap(m, UEV_PAGE_SIZE);
		s->page = NULL;
		return -EINVAL;
	}
	return 0;
}

int uev_seat_open(struct uev_seat *s, const char *name, const char *run_dir,
		  char *err, size_t errsize)
{
	char dummy[8];
	int r;

	if (!err) {
		err = dummy;
		errsize = sizeof(dummy);
	}
	memset(s, 0, sizeof(*s));
	if (!uev_seat_name_valid(name)) {
		snprintf(err, errsize, "bad seat name '%.64s' (use A-Z a-z 0-9 _ -, at most %d bytes)",
			 name ? name : "", UEV_SEAT_MAX - 1);
		return -EINVAL;
	}
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->instance_name, sizeof(s->instance_name), UEV_INSTANCE_PREFIX "%s", name);
	if (!tracefs_tracing_dir()) {
		snprintf(err, errsize, "tracefs is not mounted and could not be mounted (need root)");
		return -ENOENT;
	}
	/* The page first: a seat refused for its page (say, no CAP_CHOWN to
	 * give it to root) must not leave an instance behind. */
	r = page_open(s, run_dir ? run_dir : UEV_RUN_DIR_DEFAULT, err, errsize);
	if (r < 0)
		return r;
	s->instance = tracefs_instance_create(s->instance_name);
	if (!s->instance) {
		r = -errno;
		snprintf(err, errsize, "cannot create tracefs instance %s: %s", s->instance_name,
			 strerror(errno));
		munmap(s->page, UEV_PAGE_SIZE);
		s->page = NULL;
	}
	return r;
}

int uev_seat_set_clock(struct uev_seat *s, const char *clock)
{
	char *cur = tracefs_get_clock(s->instance);
	int same = cur && !strcmp(cur, clock);

	free(cur);
	if (same)
		return 0;
	return tracefs_instance_file_write(s->instance, "trace_clock", clock) < 0 ? -EINVAL : 0;
}

/* What buffer_size_kb shows once @kb is written: the kernel gives each
 * CPU whole sub-buffers of (sub-buffer size - 16) data bytes and prints
 * their data bytes, so 4096 reads back as 4099 with 4 KiB sub-buffers. */
static unsigned long shown_kb(struct uev_seat *s, unsigned long kb)
{
	char *sb = tracefs_instance_file_read(s->instance, "buffer_subbuf_size_kb", NULL);
	unsigned long data = (sb ? strtoul(sb, NULL, 10) * 1024 : (unsigned long)getpagesize()) - 16;
	unsigned long pages = (kb * 1024 + data - 1) / data;

	free(sb);
	return (pages < 2 ? 2 : pages) * data >> 10;
}

int uev_seat_set_buffer_kb(struct uev_seat *s, unsigned long kb)
{
	char *cur = tracefs_instance_file_read(s->instance, "buffer_size_kb", NULL);
	/* Any write, even of the size it has, makes the kernel stop recording
	 * for a moment (events written meanwhile are dropped uncounted), so a
	 * restart on a kept instance writes only what really differs. */
	int same = cur && (strtoul(cur, NULL, 10) == kb || strtoul(cur, NULL, 10) == shown_kb(s, kb));

	free(cur);
	if (same)
		return 0;
	return tracefs_instance_set_buffer_size(s->instance, kb, -1) < 0 ? -errno : 0;
}

int uev_seat_grant(struct uev_seat *s, unsigned gid)
{
	char *dir = tracefs_instance_get_dir(s->instance);
	char path[1024];
	const char *top = tracefs_tracing_dir();
	struct stat st;
	int r = 0;

	if (!dir || !top)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/trace_marker_raw", dir);
	if (chown(dir, (uid_t)-1, (gid_t)gid) < 0 || chmod(dir, 0750) < 0 ||
	    chown(path, (uid_t)-1, (gid_t)gid) < 0 || chmod(path, 0220) < 0)
		r = -errno;
	snprintf(path, sizeof(path), "%s/instances", top);
	for (int i = 0; i < 2 && r == 0; i++) {
		const char *d = i ? path : top;

		if (stat(d, &st) < 0 || chmod(d, (st.st_mode & 07777) | 0001) < 0)
			r = -errno;
	}
	tracefs_put_tracing_file(dir);
	return r;
}

int uev_seat_markers_start(struct uev_seat *s)
{
	if (tracefs_option_enable(s->instance, TRACEFS_OPTION_MARKERS) < 0 ||
	    tracefs_trace_on(s->instance) < 0)
		return -EIO;
	s->page->owner_pid = getpid();
	uev_page_publish(s->page, 1, 1);
	return 0;
}

int uev_seat_markers_stop(struct uev_seat *s)
{
	uev_page_publish(s->page, 0, 0);
	return 0;
}

void uev_seat_close(struct uev_seat *s, bool destroy)
{
	if (s->page)
		munmap(s->page, UEV_PAGE_SIZE);
	if (s->instance) {
		if (destroy)
			tracefs_instance_destroy(s->instance);
		tracefs_instance_free(s->instance);
	}
	memset(s, 0, sizeof(*s));
}

/* N when @name is "cpuN" in the kernel's spelling (decimal, no leading
 * zero), else -1. */
static long cpu_number(const char *name)
{
	char *end;
	unsigned long n;

	if (strncmp(name, "cpu", 3) || name[3] < '0' || name[3] > '9' || (name[3] == '0' && name[4]))
		return -1;
	errno = 0;
	n = strtoul(name + 3, &end, 10);
	return *end || errno || n > LONG_MAX ? -1 : (long)n;
}

static int cmp_cpu(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

int uev_seat_cpus_in(const char *dir, unsigned max, unsigned **cpus, unsigned *n, char *err, size_t errsize)
{
	char path[PATH_MAX];
	struct dirent *de;
	unsigned k = 0, cap = 0;
	DIR *d;
	int r = 0;

	*cpus = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/per_cpu", dir);
	if (!(d = opendir(path))) {
		r = -errno;
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return r;
	}
	/* Counted first, then read again into an array of that size. */
	while ((de = readdir(d)))
		cap += cpu_number(de->d_name) >= 0;
	rewinddir(d);
	if (cap && !(*cpus = malloc(cap * sizeof(**cpus))))
		r = -ENOMEM;
	while (r == 0 && (de = readdir(d)) && k < cap) {
		long c = cpu_number(de->d_name);

		if (c >= 0 && (unsigned long)c > max) {
			snprintf(err, errsize, "%s/%s: CPU %ld is above %u, the highest CPU number a ring file "
				 "can record; refusing to record only some CPUs", path, de->d_name, c, max);
			r = -ERANGE;
		} else if (c >= 0) {
			(*cpus)[k++] = (unsigned)c;
		}
	}
	closedir(d);
	if (r == 0 && k == 0) {
		snprintf(err, errsize, "%s: no cpuN directory in it", path);
		r = -ENOENT;
	}
	if (r < 0) {
		if (r == -ENOMEM)
			snprintf(err, errsize, "%s: out of memory", path);
		free(*cpus);
		*cpus = NULL;
		return r;
	}
	qsort(*cpus, k, sizeof(**cpus), cmp_cpu);
	*n = k;
	return 0;
}

int uev_seat_cpus(struct tracefs_instance *inst, unsigned max, unsigned **cpus, unsigned *n, char *err,
		  size_t errsize)
{
	char *dir = inst ? tracefs_instance_get_dir(inst) : NULL;
	const char *top = inst ? dir : tracefs_tracing_dir();
	int r;

	if (!top) {
		*cpus = NULL;
		*n = 0;
		snprintf(err, errsize, "listing the CPUs: %s", inst ? "out of memory" : "tracefs is not mounted");
		return inst ? -ENOMEM : -ENOENT;
	}
	r = uev_seat_cpus_in(top, max, cpus, n, err, errsize);
	tracefs_put_tracing_file(dir);
	return r;
}
