/* SPDX-License-Identifier: MIT */
/*
 * drm.debug for a seat (drm-debug.h). The mask is global and the kernel
 * offers no atomic bit operation on it, so each change is read, then one
 * write of the whole mask. What this seat owns is the set of bits it turned
 * on itself (wanted & ~before); only those are ever turned off again.
 *
 * Crash safety rests on one invariant: the record file always names a
 * superset of the bits this seat owns in the kernel. Before bits are added
 * the record is widened to name them; after bits are cleared it is
 * narrowed (or removed). A kill -9 at any point leaves a record whose bits,
 * intersected with the mask the next start reads, are exactly the bits the
 * killed run had set and nobody cleared since. The record is replaced by
 * rename(), so it is read whole or not at all. Only one aggregator of a seat
 * runs per run directory (it holds the lock of RUN-DIR/SEAT.stage), so a
 * record found at start is a dead run's. It names the boot it was written
 * in: after a reboot the kernel's mask starts afresh and a record that
 * survived on a persistent run directory is dropped.
 */
#include "drm-debug.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "uev-abi.h"

#define NAMES 128

static void say(const struct uev_drm_debug *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(const struct uev_drm_debug *d, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	uev_log_say(&d->log, "seat %s: %s", d->seat, msg);
}

/* The kernel prints the mask in decimal (or 0x... where DRM uses dynamic
 * debug classes). 0 or -errno. */
static int mask_read(const char *path, unsigned long long *m)
{
	char buf[64], *end;
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = 0;
	errno = 0;
	*m = strtoull(buf, &end, 0);
	if (end == buf || errno || (*end && *end != '\n'))
		return -EINVAL;
	return 0;
}

/* One write of the whole mask, as `echo N > debug` does. 0 or -errno. */
static int mask_write(const char *path, unsigned long long m)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%llu\n", m), fd, r = 0;

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)len) != len)
		r = errno ? -errno : -EIO;
	if (close(fd) < 0 && !r)
		r = -errno;
	return r;
}

static void boot_id(char *out, size_t size)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	out[0] = 0;
	if (f) {
		if (!fgets(out, (int)size, f))
			out[0] = 0;
		fclose(f);
	}
	out[strcspn(out, "\n")] = 0;
}

/* "boot BOOT-ID\nadded 0xBITS\npid PID\n", or no file for no bits. The new
 * content goes to a fixed temporary name (one aggregator per seat) and is
 * renamed over the record. 0 or -errno. */
static int record_write(struct uev_drm_debug *d, unsigned long long bits)
{
	char tmp[PATH_MAX + 8], boot[64], buf[160];
	int fd, len, r = 0;

	if (!d->record[0])
		return -ENAMETOOLONG;
	if (!bits) {
		if (unlink(d->record) < 0 && errno != ENOENT)
			return -errno;
		d->recorded = 0;
		return 0;
	}
	boot_id(boot, sizeof(boot));
	len = snprintf(buf, sizeof(buf), "boot %s\nadded 0x%llx\npid %d\n", boot, bits, (int)getpid());
	snprintf(tmp, sizeof(tmp), "%s.new", d->record);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	/* No fsync: what must survive is a kill, and the page cache does; a
	 * reboot makes the record stale anyway (the boot id says so). */
	if (write(fd, buf, (size_t)len) != len)
		r = errno ? -errno : -EIO;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, d->record) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	else
		d->recorded = bits;
	return r;
}

/* A dead run's record: its bits, 0 if there is none or it is stale. */
static unsigned long long record_read(struct uev_drm_debug *d)
{
	char buf[256], boot[64], rboot[64] = "";
	unsigned long long bits = 0;
	int fd = open(d->record, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), pid = 0;
	ssize_t n;

	if (fd < 0) {
		if (errno != ENOENT)
			say(d, "%s: %s; bits of drm.debug a killed run may have set are not taken over",
			    d->record, strerror(errno));
		return 0;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	boot_id(boot, sizeof(boot));
	if (sscanf(buf, "boot %63s added %llx pid %d", rboot, &bits, &pid) != 3) {
		say(d, "%s: not a drm_debug record; removed", d->record);
		bits = 0;
	} else if (strcmp(rboot, boot)) {
		bits = 0; /* an earlier boot's: the kernel's mask started afresh since */
	}
	d->recorded = bits;
	if (!bits)
		record_write(d, 0);
	return bits;
}

/* Said once: without a record a kill -9 would leave the bits set. */
static void record_failed(struct uev_drm_debug *d, int r, unsigned long long bits)
{
	char names[NAMES];

	if (d->record_warned++)
		return;
	say(d, "%s: cannot write: %s; should this aggregator be killed, %s would stay set in drm.debug",
	    d->record[0] ? d->record : "the run directory", strerror(-r),
	    uev_drm_debug_names(bits, names, sizeof(names)));
}

/* Make the mask, read as @cur, hold d->wanted: add what it lacks, clear
 * the bits this seat owns and no longer wants. @when prefixes messages. */
static void reconcile(struct uev_drm_debug *d, unsigned long long cur, const char *when)
{
	unsigned long long owned = d->added & cur; /* bits cleared by others are theirs now */
	unsigned long long add = d->wanted & ~cur, drop = owned & ~d->wanted;
	unsigned long long next = (cur | add) & ~drop, after = (owned & ~drop) | add;
	unsigned long long others = d->wanted & cur & ~owned;
	char a[NAMES], c[NAMES];
	int r;

	if ((owned | add) & ~d->recorded) { /* widen the record first */
		r = record_write(d, d->recorded | owned | add);
		if (r < 0)
			record_failed(d, r, owned | add);
	}
	if (next != cur && (r = mask_write(d->path, next)) < 0) {
		say(d, "%s%s: cannot write 0x%llx: %s; drm.debug stays 0x%llx", when, d->path, next,
		    strerror(-r), cur);
		d->added = owned;
	} else {
		d->added = after;
		if (next != cur)
			say(d, "%sdrm.debug 0x%llx -> 0x%llx (%s%s%s%s%s)", when, cur, next,
			    add ? "added " : "", add ? uev_drm_debug_names(add, a, sizeof(a)) : "",
			    add && drop ? ", " : "", drop ? "cleared " : "",
			    drop ? uev_drm_debug_names(drop, c, sizeof(c)) : "");
	}
	if (others)
		say(d, "%sdrm.debug 0x%llx: %s already set by someone else, left set at stop", when, next,
		    uev_drm_debug_names(others, a, sizeof(a)));
	if (d->recorded != d->added && (r = record_write(d, d->added)) < 0 && d->added)
		record_failed(d, r, d->added);
}

/* Read the mask and reconcile; a missing file leaves the wish pending. */
static void apply(struct uev_drm_debug *d, const char *when)
{
	unsigned long long cur = 0;
	char names[NAMES];
	int r = mask_read(d->path, &cur);
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	d->last_try = ts.tv_sec;
	if (r == -ENOENT) {
		/* No DRM, so none of its bits are set: none are ours either. */
		if (d->wanted && !d->pending)
			say(d, "%s%s: not there (DRM not loaded or not built in); drm_debug %s is applied "
			    "when it appears", when, d->path, uev_drm_debug_names(d->wanted, names, sizeof(names)));
		d->pending = d->wanted != 0;
		d->added = 0;
		if (d->recorded)
			record_write(d, 0);
		return;
	}
	d->pending = 0;
	if (r < 0) {
		say(d, "%s%s: cannot read it: %s; drm_debug %s not applied", when, d->path, strerror(-r),
		    uev_drm_debug_names(d->wanted, names, sizeof(names)));
		return;
	}
	reconcile(d, cur, when);
}

void uev_drm_debug_start(struct uev_drm_debug *d, const char *seat, const char *run_dir,
			 unsigned wanted, const struct uev_log *log)
{
	const char *env = getenv("UEV_DRM_DEBUG_PATH");
	unsigned long long dead;

	memset(d, 0, sizeof(*d));
	if (log)
		d->log = *log;
	snprintf(d->seat, sizeof(d->seat), "%s", seat);
	snprintf(d->path, sizeof(d->path), "%s", env && *env ? env : UEV_DRM_DEBUG_PATH);
	if ((size_t)snprintf(d->record, sizeof(d->record), "%s/%s.drm-debug",
			     run_dir ? run_dir : UEV_RUN_DIR_DEFAULT, seat) >= sizeof(d->record))
		d->record[0] = 0;
	d->wanted = wanted;
	dead = d->record[0] ? record_read(d) : 0;
	if (!wanted && !dead)
		return; /* the usual seat: drm.debug is not even read */
	if (dead) {
		unsigned long long cur = 0;
		char names[NAMES];

		/* Bits the killed run set and nobody cleared since are ours
		 * (reconcile() drops the others). */
		if (mask_read(d->path, &cur) == 0 && (dead & cur))
			say(d, "%s: an earlier run had added %s to drm.debug and not cleared them; this "
			    "run takes them over", d->record, uev_drm_debug_names(dead & cur, names, sizeof(names)));
		d->added = dead;
	}
	apply(d, "");
}

void uev_drm_debug_reload(struct uev_drm_debug *d, unsigned wanted)
{
	d->wanted = wanted;
	if (!wanted)
		d->pending = 0;
	if (!d->seat[0] || (!wanted && !d->added && !d->recorded))
		return;
	apply(d, "reload: "); /* also when unchanged: bits cleared meanwhile come back */
}

void uev_drm_debug_poll(struct uev_drm_debug *d)
{
	struct timespec ts;

	if (!d->pending)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ts.tv_sec - d->last_try < 1)
		return;
	d->last_try = ts.tv_sec;
	if (access(d->path, F_OK) < 0)
		return;
	say(d, "%s appeared", d->path);
	apply(d, "");
}

void uev_drm_debug_stop(struct uev_drm_debug *d)
{
	if (!d->seat[0] || (!d->added && !d->recorded))
		return;
	d->wanted = 0;
	d->pending = 0;
	apply(d, "stop: ");
}
