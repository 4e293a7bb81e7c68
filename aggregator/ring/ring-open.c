/* SPDX-License-Identifier: MIT */
/*
 * Ring file writer, opening (docs/ring-format.md): the file at the
 * configured path becomes the writer's, locked, with a superblock that
 * matches the configured size, and the writer continues after what the
 * file holds. An existing file is used, refused, or with --recreate
 * replaced; a missing one is created complete before it gets its name.
 * Appending is ring-write.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring-write.h"

static int fail(char *err, size_t errsize, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errsize, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err && errsize)
		vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	return e;
}

/* Makes the empty file @w->fd a new ring: mode, group, superblock, space. */
static int init_file(struct uev_ring_writer *w, const struct uev_ring_create *c, uint32_t S,
		     uint32_t N, char *err, size_t errsize)
{
	struct uev_ring_super *sb = &w->sb;
	uint8_t b[UEV_RING_SUPER_SIZE];
	int r;

	if (fchmod(w->fd, c->mode & 07777) < 0 ||
	    (c->gid != (gid_t)-1 && fchown(w->fd, (uid_t)-1, c->gid) < 0))
		return fail(err, errsize, -errno, "%s: setting mode/group: %s", c->path, strerror(errno));
	*sb = (struct uev_ring_super){ .version = UEV_RING_VERSION,
				       .file_size = UEV_RING_SUPER_SIZE + (uint64_t)N * S,
				       .segment_size = S, .segment_count = N,
				       .created_realtime_ns = now_ns() };
	if (getrandom(sb->uuid, 16, GRND_INSECURE) != 16 && getrandom(sb->uuid, 16, 0) != 16)
		return fail(err, errsize, -EIO, "%s: no random bytes for the file uuid", c->path);
	sb->uuid[6] = (uint8_t)((sb->uuid[6] & 0x0f) | 0x40); /* RFC 4122 version 4 */
	sb->uuid[8] = (uint8_t)((sb->uuid[8] & 0x3f) | 0x80);
	snprintf(sb->seat, sizeof(sb->seat), "%s", c->seat ? c->seat : "");
	uev_ring_super_encode(b, sb);
	w->at = (struct uev_ring_end){ .next_seq = 1, .next_segment_seq = 1 };
	if ((r = (int)uev_ring_pwrite(w->fd, b, sizeof(b), 0)) < 0)
		return fail(err, errsize, r, "%s: writing the superblock: %s", c->path, strerror(-r));
	if ((r = posix_fallocate(w->fd, 0, (off_t)sb->file_size)) != 0)
		return fail(err, errsize, -r, "%s: preallocating %llu bytes: %s", c->path,
			    (unsigned long long)sb->file_size, strerror(r));
	if (fsync(w->fd) < 0)
		return fail(err, errsize, -errno, "%s: fsync: %s", c->path, strerror(errno));
	return 0;
}

/* A new file gets its name only once complete (O_TMPFILE, then linkat), so
 * a crash while creating cannot leave a half-made ring that later opens
 * would refuse. Returns 1 when someone else took the name meanwhile. */
static int create_new(struct uev_ring_writer *w, const struct uev_ring_create *c, uint32_t S,
		      uint32_t N, char *err, size_t errsize)
{
	char *dup = strdup(c->path), proc[64];
	const char *dir = dup ? dirname(dup) : NULL;
	int inplace = 0, r, dfd;

	if (!dup)
		return fail(err, errsize, -ENOMEM, "%s: out of memory", c->path);
	w->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, c->mode & 0777);
	if (w->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		/* No O_TMPFILE here: create in place, superblock first. */
		w->fd = open(c->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, c->mode & 0777);
		inplace = 1;
	}
	if (w->fd < 0)
		r = errno == EEXIST ? 1 : fail(err, errsize, -errno, "%s: %s", c->path, strerror(errno));
	else if (flock(w->fd, LOCK_EX | LOCK_NB) < 0)
		r = fail(err, errsize, -EBUSY, "%s: in use by another uev-aggregator", c->path);
	else if ((r = init_file(w, c, S, N, err, errsize)) < 0 && inplace)
		unlink(c->path); /* ours, and unusable */
	if (r == 0 && !inplace) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->fd);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, c->path, AT_SYMLINK_FOLLOW) < 0 &&
		    (errno != ENOENT || linkat(w->fd, "", AT_FDCWD, c->path, AT_EMPTY_PATH) < 0))
			r = errno == EEXIST ? 1 : fail(err, errsize, -errno, "%s: %s", c->path, strerror(errno));
	}
	if (r == 0 && (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd); /* the name is durable too; best effort */
		close(dfd);
	}
	if (r == 1 && w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
	free(dup);
	return r;
}

static int open_existing(struct uev_ring_writer *w, const struct uev_ring_create *c, uint32_t S,
			 uint32_t N, char *err, size_t errsize)
{
	uint8_t b[UEV_RING_SUPER_SIZE];
	char why[160] = "";
	struct stat st;
	ssize_t n;
	int r;

	w->fd = open(c->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (w->fd < 0)
		return errno == ELOOP ? fail(err, errsize, -ELOOP, "%s: is a symbolic link; refusing", c->path)
				      : fail(err, errsize, -errno, "%s: %s", c->path, strerror(errno));
	if (flock(w->fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK
			       ? fail(err, errsize, -EBUSY, "%s: in use by another uev-aggregator", c->path)
			       : fail(err, errsize, -errno, "%s: flock: %s", c->path, strerror(errno));
	if (fstat(w->fd, &st) < 0)
		return fail(err, errsize, -errno, "%s: %s", c->path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(err, errsize, -EEXIST, "%s: not a regular file; refusing", c->path);
	if ((n = uev_ring_pread(w->fd, b, sizeof(b), 0)) < 0)
		return fail(err, errsize, (int)n, "%s: %s", c->path, strerror((int)-n));
	if (n < (ssize_t)sizeof(b))
		snprintf(why, sizeof(why), "not a uev ring file");
	else if (uev_ring_super_decode(b, &w->sb, why, sizeof(why)) == 0) {
		/* The configured size is compared by the geometry it yields:
		 * the file is 4096 + N*S, usually a little less than asked. */
		if (w->sb.segment_size != S || w->sb.segment_count != N)
			snprintf(why, sizeof(why), "ring of %llu bytes, configured %llu",
				 (unsigned long long)w->sb.file_size, (unsigned long long)c->size);
		else if ((uint64_t)st.st_size != w->sb.file_size)
			snprintf(why, sizeof(why), "%llu bytes on disk, the ring has %llu",
				 (unsigned long long)st.st_size, (unsigned long long)w->sb.file_size);
	}
	if (why[0] && !c->recreate)
		return fail(err, errsize, -EEXIST, "%s: %s; use --recreate to replace it", c->path, why);
	if (why[0]) {
		if (ftruncate(w->fd, 0) < 0)
			return fail(err, errsize, -errno, "%s: truncating: %s", c->path, strerror(errno));
		return init_file(w, c, S, N, err, errsize);
	}
	if ((r = uev_ring_find_end(w->fd, &w->sb, &w->at)) < 0)
		return fail(err, errsize, r, "%s: scanning: %s", c->path, strerror(-r));
	return 0;
}

/* The writes' own descriptor with O_DIRECT, if the file system takes it:
 * some refuse the flag at open (EINVAL), some only at the first transfer,
 * so an aligned read of the superblock has to work too. Otherwise the
 * writer stays on the page cache, which is always correct. */
static void open_direct(struct uev_ring_writer *w, const char *proc)
{
	void *b;
	int fd = open(proc, O_RDWR | O_CLOEXEC | O_DIRECT);

	if (fd < 0)
		return;
	if (posix_memalign(&b, 4096, 4096) == 0) {
		if (pread(fd, b, 4096, 0) == 4096) {
			w->io_fd = fd;
			w->align = 4096;
		}
		free(b);
	}
	if (w->io_fd != fd)
		close(fd);
}

/*
 * A killed writer's io_uring writes can still be in flight after its
 * process is gone (they hold their file, not the process). One landing
 * after we wrote the same blocks would put an older image of them back:
 * records lost. So the descriptor the writes go through holds an OFD lock
 * (its open file description's, released only when the last request
 * using it is done), and a new writer waits for it, a bounded while.
 */
#define OLD_WRITES_WAIT_MS 5000

static int wait_for_old_writes(struct uev_ring_writer *w, const char *path, char *err, size_t errsize)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	for (int ms = 0; fcntl(w->io_fd, F_OFD_SETLK, &fl) < 0; ms += 10) {
		if (errno != EAGAIN && errno != EACCES)
			return fail(err, errsize, -errno, "%s: lock: %s", path, strerror(errno));
		if (ms >= OLD_WRITES_WAIT_MS)
			return fail(err, errsize, -EBUSY,
				    "%s: writes of a stopped uev-aggregator are still in flight after %d s",
				    path, OLD_WRITES_WAIT_MS / 1000);
		usleep(10000);
	}
	return 0;
}

int uev_ring_writer_open(struct uev_ring_writer **out, const struct uev_ring_create *c, char *err,
			 size_t errsize)
{
	struct uev_ring_writer *w;
	uint32_t S, N, nareas = 0, area_size = 0;
	struct stat st;
	int r = 1;

	*out = NULL;
	fail(err, errsize, 0, "%s", "");
	if (!c || !c->path)
		return fail(err, errsize, -EINVAL, "no ring file path");
	if (uev_ring_geometry(c->size, &S, &N) < 0)
		return fail(err, errsize, -EINVAL, "%s: size %llu too small, at least %llu bytes", c->path,
			    (unsigned long long)c->size, (unsigned long long)uev_ring_min_size());
	if (c->seat && strlen(c->seat) >= sizeof(w->sb.seat))
		return fail(err, errsize, -EINVAL, "%s: seat name too long", c->path);
	if (!(w = calloc(1, sizeof(*w))))
		return fail(err, errsize, -ENOMEM, "%s: out of memory", c->path);
	w->fd = -1;
	w->io_fd = -1;
	w->mru = w->lru = NIL;
	w->tick = 1;
	w->pend.packed = -1;
	memset(w->chash, 0xff, sizeof(w->chash));
	w->ckpt_fixed = uev_ring_rec_size(UEV_RING_RUN_START_LEN) + uev_ring_rec_size(UEV_RING_SYNC_LEN);
	/* A name that appears between lstat() and creating it is then
	 * opened as an existing file: twice at most. */
	for (int tries = 0; r == 1 && tries < 2; tries++) {
		if (lstat(c->path, &st) == 0)
			r = S_ISLNK(st.st_mode)
				    ? fail(err, errsize, -ELOOP, "%s: is a symbolic link; refusing", c->path)
				    : open_existing(w, c, S, N, err, errsize);
		else
			r = errno != ENOENT ? fail(err, errsize, -errno, "%s: %s", c->path, strerror(errno))
					    : create_new(w, c, S, N, err, errsize);
	}
	if (r == 1)
		r = fail(err, errsize, -EBUSY, "%s: created by someone else meanwhile", c->path);
	if (r == 0) {
		char proc[64];

		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->fd);
		w->align = 1;
		if (c->direct)
			open_direct(w, proc);
		if (w->io_fd < 0)
			w->io_fd = open(proc, O_RDWR | O_CLOEXEC);
		if (w->io_fd < 0)
			r = fail(err, errsize, -errno, "%s: reopen: %s", c->path, strerror(errno));
	}
	if (r == 0)
		r = wait_for_old_writes(w, c->path, err, errsize);
	/* What a killed writer left in the stage goes in first; the writer
	 * then continues after it. */
	if (r == 0 && (r = uev_ring_pending_init(w, c, &nareas, &area_size)) < 0)
		fail(err, errsize, r, "%s: compression level %d: zstd has 1 to %d", c->path, c->compression,
		     uev_ring_zstd_max_level());
	if (r == 0 && c->stage_path) {
		r = uev_ring_stage_open(w, c->stage_path, c->stage_extra, nareas, area_size, err, errsize);
	} else if (r == 0 && nareas) {
		if (!(w->pend.heap = calloc(nareas, area_size)))
			r = fail(err, errsize, -ENOMEM, "%s: out of memory", c->path);
		w->pend.areas = w->pend.heap;
		w->pend.nareas = w->pend.heap ? nareas : 0;
		w->pend.area_size = area_size;
	}
	if (r == 0 && (r = uev_ring_find_end(w->fd, &w->sb, &w->at)) < 0)
		fail(err, errsize, r, "%s: scanning: %s", c->path, strerror(-r));
	if (r < 0) {
		uev_ring_writer_free(w);
		return r;
	}
	*out = w;
	return 0;
}
