/* SPDX-License-Identifier: MIT */
/*
 * The incident directory kept within bounds (incident.h). A bundle is told
 * by its content, never by its name: a regular file that opens as a ring
 * file and holds an INCIDENT record (in its first segment's checkpoint, so
 * reading stops there). Their age is the time the record gives (the
 * trigger's wall time, else when the bundle was written), so a copied or
 * touched file keeps its place; the name breaks ties.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "incident.h"
#include "ringfile.h"
#include "uev-grow.h"

struct found {
	char *name;
	uint64_t when, size;
};

/* 1 with *when set when @path is a bundle, 0 when it is not. */
static int bundle_time(const char *path, uint64_t *when)
{
	struct uev_ring_reader *rd;
	struct uev_ring_rec rec;
	struct uev_ring_incident inc;
	char e[256];
	int found = 0;
	uint64_t first_seg = 0;

	if (uev_ring_reader_open(&rd, path, NULL, NULL, e, sizeof(e)) < 0)
		return 0;
	while (!found && uev_ring_reader_next(rd, &rec) > 0) {
		if (!first_seg)
			first_seg = rec.segment_seq;
		if (rec.segment_seq != first_seg)
			break; /* every segment's checkpoint has it: the first one tells */
		if (uev_ring_rec_incident(&rec, &inc) == 0) {
			*when = inc.trigger_realtime_ns ? inc.trigger_realtime_ns : inc.created_realtime_ns;
			found = 1;
		}
	}
	uev_ring_reader_close(rd);
	return found;
}

static int oldest_first(const void *a, const void *b)
{
	const struct found *x = a, *y = b;

	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* ".NAME.tmp-PID" of a process that no longer exists. */
static int stale_tmp(const char *name)
{
	const char *t = strstr(name, ".tmp-");
	char *end;
	long pid;

	if (!t || strchr(t + 5, '.'))
		return 0;
	pid = strtol(t + 5, &end, 10);
	return *end == 0 && pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

int uev_incident_prune(const char *dir, unsigned max_count, uint64_t max_bytes, unsigned *dropped,
		       uint64_t *dropped_bytes, char *err, size_t errsize)
{
	struct found *f = NULL;
	size_t n = 0, cap = 0, keep;
	uint64_t total = 0;
	struct dirent *de;
	DIR *d;
	int r = 0, dfd;

	if (dropped)
		*dropped = 0;
	if (dropped_bytes)
		*dropped_bytes = 0;
	if (!(d = opendir(dir))) {
		snprintf(err, errsize, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	dfd = dirfd(d);
	while ((de = readdir(d))) {
		char path[4096];
		struct stat sb;
		uint64_t when;

		/* hidden names are temporaries being written (finish); one
		 * whose writer is gone (a kill -9 before the rename) is removed */
		if (de->d_name[0] == '.' && stale_tmp(de->d_name)) {
			unlinkat(dfd, de->d_name, 0);
			continue;
		}
		if (de->d_name[0] == '.' || fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path) ||
		    !bundle_time(path, &when))
			continue;
		if (UEV_GROW(f, cap, n + 1) < 0 || !(f[n].name = strdup(de->d_name))) {
			r = -ENOMEM;
			snprintf(err, errsize, "%s: out of memory", dir);
			break;
		}
		f[n].when = when;
		f[n].size = (uint64_t)sb.st_size;
		total += f[n].size;
		n++;
	}
	if (n)
		qsort(f, n, sizeof(*f), oldest_first);
	keep = n;
	for (size_t i = 0; r == 0 && i < n && ((max_count && keep > max_count) || (max_bytes && total > max_bytes));
	     i++) {
		if (unlinkat(dfd, f[i].name, 0) < 0) {
			r = -errno;
			snprintf(err, errsize, "%s/%s: cannot remove it: %s", dir, f[i].name, strerror(errno));
			break;
		}
		keep--;
		total -= f[i].size;
		if (dropped)
			(*dropped)++;
		if (dropped_bytes)
			*dropped_bytes += f[i].size;
	}
	if (r == 0 && keep != n && fsync(dfd) < 0) {
		r = -errno;
		snprintf(err, errsize, "%s: fsync: %s", dir, strerror(errno));
	}
	for (size_t i = 0; i < n; i++)
		free(f[i].name);
	free(f);
	closedir(d);
	return r;
}
