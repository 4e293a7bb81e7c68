/* SPDX-License-Identifier: MIT */
/*
 * A fixed script of libdrm KMS calls on file descriptors that are not DRM
 * devices (/dev/null, a regular file, a closed fd), for the uev-kms-shim
 * tests. It prints one line per call: what the call returned and errno
 * after it (errno is set to EXDEV before each call, so a call that leaves
 * errno alone shows 18). Run with and without the shim preloaded, the
 * output must be byte for byte the same; check.py knows the events the
 * shim records for this script.
 *
 * usage: kms-calls REGULAR-FILE
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <xf86drm.h>
#include <xf86drmMode.h>

#define SENTINEL EXDEV

static int fd_null, fd_file, fd_closed;

static void show(const char *what, long r, int err)
{
	printf("%-40s r=%ld errno=%d\n", what, r, err);
}

#define CALL(what, expr) do { \
		long r_; \
		errno = SENTINEL; \
		r_ = (long)(expr); \
		show(what, r_, errno); \
	} while (0)

static void add(drmModeAtomicReqPtr req, uint32_t obj, uint32_t prop, uint64_t value)
{
	char what[64];

	snprintf(what, sizeof(what), "add %u/%u", obj, prop);
	CALL(what, drmModeAtomicAddProperty(req, obj, prop, value));
}

/* Resources: NULL on /dev/null; tests/kms-shim/fake-res.so fabricates
 * them (CRTCs 31 32, connectors 40 41, planes 50 51 52) so that the shim
 * learns their kinds. */
static void resources(void)
{
	drmModeResPtr res;
	drmModePlaneResPtr planes;

	errno = SENTINEL;
	res = drmModeGetResources(fd_null);
	show(res ? "get_resources: crtcs" : "get_resources", res ? res->count_crtcs : -1, errno);
	drmModeFreeResources(res);
	errno = SENTINEL;
	planes = drmModeGetPlaneResources(fd_null);
	show(planes ? "get_plane_resources: planes" : "get_plane_resources",
	     planes ? (long)planes->count_planes : -1, errno);
	drmModeFreePlaneResources(planes);
}

static void atomic(void)
{
	drmModeAtomicReqPtr req = drmModeAtomicAlloc(), empty = drmModeAtomicAlloc(), big;

	/* 8 items on 4 objects: CRTC 31, connector 40, planes 50 and 51 */
	add(req, 31, 1, 1);
	add(req, 31, 2, 0x55);
	add(req, 40, 3, 31);
	add(req, 50, 4, 31);
	add(req, 50, 5, 0);
	add(req, 50, 6, 99);
	add(req, 51, 4, 31);
	add(req, 31, 7, 1);
	CALL("commit null test_only|allow_modeset",
	     drmModeAtomicCommit(fd_null, req, DRM_MODE_ATOMIC_TEST_ONLY | DRM_MODE_ATOMIC_ALLOW_MODESET, NULL));
	CALL("commit closed nonblock|event",
	     drmModeAtomicCommit(fd_closed, req, DRM_MODE_ATOMIC_NONBLOCK | DRM_MODE_PAGE_FLIP_EVENT, NULL));
	CALL("commit file 0", drmModeAtomicCommit(fd_file, req, 0, NULL));
	/* rewound to 3 items (31, 31, 40), then connector 41: planes 50 and
	 * 51 are no longer in the request */
	drmModeAtomicSetCursor(req, 3);
	CALL("commit null rewound", drmModeAtomicCommit(fd_null, req, DRM_MODE_ATOMIC_TEST_ONLY, NULL));
	add(req, 41, 3, 31);
	CALL("commit null re-added", drmModeAtomicCommit(fd_null, req, DRM_MODE_ATOMIC_NONBLOCK, NULL));
	drmModeAtomicFree(req);

	/* nothing to commit: libdrm returns 0 without a call */
	CALL("commit null empty", drmModeAtomicCommit(fd_null, empty, DRM_MODE_ATOMIC_TEST_ONLY, NULL));
	drmModeAtomicFree(empty);
	CALL("commit null NULL", drmModeAtomicCommit(fd_null, NULL, 0, NULL));
	CALL("add NULL", drmModeAtomicAddProperty(NULL, 31, 1, 1));

	/* more objects than the shim tracks per request: not known */
	big = drmModeAtomicAlloc();
	for (uint32_t i = 0; i < 70; i++)
		add(big, 1000 + i, 1, i);
	CALL("commit null big", drmModeAtomicCommit(fd_null, big, DRM_MODE_ATOMIC_TEST_ONLY, NULL));
	drmModeAtomicFree(big);
}

static void legacy(void)
{
	uint32_t conns[2] = { 40, 41 };
	drmModeModeInfo mode = {
		.clock = 148500, .hdisplay = 1920, .vdisplay = 1080, .vrefresh = 60,
		.name = "1920x1080",
	};
	drmModeModeInfo full = mode;

	/* a name that fills all 32 bytes, no NUL */
	memcpy(full.name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", DRM_DISPLAY_MODE_LEN);
	CALL("page_flip null", drmModePageFlip(fd_null, 31, 77, DRM_MODE_PAGE_FLIP_EVENT, NULL));
	CALL("page_flip_target closed",
	     drmModePageFlipTarget(fd_closed, 32, 78,
				   DRM_MODE_PAGE_FLIP_EVENT | DRM_MODE_PAGE_FLIP_TARGET_RELATIVE, NULL, 2));
	CALL("set_crtc file", drmModeSetCrtc(fd_file, 31, 77, 10, 20, conns, 2, &mode));
	CALL("set_crtc null off", drmModeSetCrtc(fd_null, 32, 0, 0, 0, NULL, 0, NULL));
	CALL("set_crtc null full name", drmModeSetCrtc(fd_null, 31, 79, 0, 0, conns, 1, &full));
}

/* The compositor's handlers: each prints what libdrm handed it. */
static void on_vblank(int fd, unsigned int seq, unsigned int sec, unsigned int usec, void *data)
{
	(void)fd;
	printf("vblank_handler seq=%u time=%u.%06u data=%p\n", seq, sec, usec, data);
}

static void on_flip(int fd, unsigned int seq, unsigned int sec, unsigned int usec, void *data)
{
	(void)fd;
	printf("page_flip_handler seq=%u time=%u.%06u data=%p errno=%d\n", seq, sec, usec, data, errno);
}

static void on_flip2(int fd, unsigned int seq, unsigned int sec, unsigned int usec,
		     unsigned int crtc, void *data)
{
	(void)fd;
	printf("page_flip_handler2 seq=%u time=%u.%06u crtc=%u data=%p errno=%d\n", seq, sec, usec,
	       crtc, data, errno);
}

/* One DRM event as the kernel would queue it on a DRM fd, written into a
 * pipe that drmHandleEvent() then reads. */
static void queue(int fd, uint32_t type, uint32_t seq, uint32_t sec, uint32_t usec, uint32_t crtc)
{
	struct drm_event_vblank ev = {
		.base = { .type = type, .length = sizeof(ev) },
		.user_data = 0x5eed, .tv_sec = sec, .tv_usec = usec, .sequence = seq, .crtc_id = crtc,
	};

	if (write(fd, &ev, sizeof(ev)) != (ssize_t)sizeof(ev))
		perror("kms-calls: write event");
}

/* Flip completions through drmHandleEvent(): a version-3 context with
 * page_flip_handler2 (the CRTC id), a version-2 one (no CRTC id), a vblank
 * event (not a flip), a context with no flip handler, a closed fd. */
static void handle_events(void)
{
	drmEventContext v3 = { .version = 3, .vblank_handler = on_vblank,
			       .page_flip_handler = on_flip, .page_flip_handler2 = on_flip2 };
	drmEventContext v2 = { .version = 2, .vblank_handler = on_vblank, .page_flip_handler = on_flip };
	drmEventContext none = { .version = 2, .vblank_handler = on_vblank };
	int p[2];

	if (pipe(p) < 0) {
		perror("kms-calls: pipe");
		return;
	}
	queue(p[1], DRM_EVENT_FLIP_COMPLETE, 77, 5, 250000, 31);
	CALL("handle_event v3 flip", drmHandleEvent(p[0], &v3));
	queue(p[1], DRM_EVENT_FLIP_COMPLETE, 78, 6, 1, 32);
	CALL("handle_event v2 flip", drmHandleEvent(p[0], &v2));
	queue(p[1], DRM_EVENT_VBLANK, 79, 7, 2, 31);
	CALL("handle_event v2 vblank", drmHandleEvent(p[0], &v2));
	queue(p[1], DRM_EVENT_FLIP_COMPLETE, 80, 8, 3, 31);
	CALL("handle_event no flip handler", drmHandleEvent(p[0], &none));
	CALL("handle_event closed", drmHandleEvent(fd_closed, &v3));
	close(p[0]);
	close(p[1]);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: kms-calls REGULAR-FILE\n");
		return 2;
	}
	fd_null = open("/dev/null", O_RDWR | O_CLOEXEC);
	fd_file = open(argv[1], O_RDONLY | O_CLOEXEC);
	/* closed, and high enough that no open of the shim's (libuev opens
	 * tracefs files on the first KMS call) gets that number again */
	fd_closed = fd_null < 0 ? -1 : fcntl(fd_null, F_DUPFD_CLOEXEC, 900);
	if (fd_null < 0 || fd_file < 0 || fd_closed < 0) {
		perror("kms-calls: open");
		return 1;
	}
	close(fd_closed);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("fds null=%d file=%d closed=%d\n", fd_null, fd_file, fd_closed);
	resources();
	atomic();
	legacy();
	handle_events();
	close(fd_null);
	close(fd_file);
	return 0;
}
