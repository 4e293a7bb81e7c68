/* SPDX-License-Identifier: MIT */
/* The scratch file of a bundle (bundle-int.h): made, records appended and
 * read back; a bundle's start and end. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle-int.h"

static const uint8_t zeros[8];

int scr_put(FILE *scr, uint16_t type, uint16_t cpu, uint64_t run_id, const void *p, uint32_t len)
{
	struct scr_hdr h = { type, cpu, len, run_id };
	size_t pad = (8 - len % 8) % 8;

	if (fwrite(&h, sizeof(h), 1, scr) != 1 || (len && fwrite(p, len, 1, scr) != 1) ||
	    (pad && fwrite(zeros, pad, 1, scr) != 1))
		return errno ? -errno : -EIO;
	return 0;
}

int scr_next(FILE *scr, struct scr_hdr *h, uint8_t **buf, size_t *cap)
{
	size_t n = fread(h, 1, sizeof(*h), scr), want;

	if (n == 0 && feof(scr))
		return 0;
	if (n != sizeof(*h) || h->len > (64u << 20))
		return -EIO;
	want = ((size_t)h->len + 7) & ~(size_t)7;
	if (want > *cap) {
		uint8_t *nb = realloc(*buf, want);

		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = want;
	}
	if (want && fread(*buf, 1, want, scr) != want)
		return -EIO;
	return 1;
}

/* The scratch file: unnamed (O_TMPFILE) where the file system has that,
 * else a name unlinked at once; gone with the bundle, or with the process. */
static int scratch_open(const char *dir, FILE **out)
{
	char path[4096];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		if ((size_t)snprintf(path, sizeof(path), "%s/.uev-bundle-XXXXXX", dir) >= sizeof(path))
			return -ENAMETOOLONG;
		if ((fd = mkostemp(path, O_CLOEXEC)) >= 0)
			unlink(path);
	}
	if (fd < 0)
		return -errno;
	if (!(*out = fdopen(fd, "w+"))) {
		int e = errno;

		close(fd);
		return -e;
	}
	return 0;
}

int uev_bundle_begin(struct uev_bundle **out, const char *ring_path, uint64_t run_id, uint64_t from_ns,
		     uint64_t to_ns, const char *work_dir, char *err, size_t errsize)
{
	struct uev_bundle *b;
	int r;

	*out = NULL;
	if (!ring_path || !work_dir || !run_id || from_ns > to_ns) {
		snprintf(err, errsize, "%s: a bundle needs a run and a window whose start is not after its end",
			 ring_path ? ring_path : "(no ring file)");
		return -EINVAL;
	}
	if (!(b = calloc(1, sizeof(*b))) || !(b->path = strdup(ring_path))) {
		free(b);
		snprintf(err, errsize, "%s: out of memory", ring_path);
		return -ENOMEM;
	}
	b->run_id = run_id;
	b->from_ns = from_ns;
	b->to_ns = to_ns;
	if ((r = scratch_open(work_dir, &b->scr)) < 0) {
		snprintf(err, errsize, "%s: cannot make a scratch file there: %s", work_dir, strerror(-r));
		uev_bundle_free(b);
		return r;
	}
	*out = b;
	return 0;
}

void uev_bundle_free(struct uev_bundle *b)
{
	if (!b)
		return;
	if (b->scr)
		fclose(b->scr);
	free(b->runs);
	free(b->path);
	free(b);
}
