/* SPDX-License-Identifier: MIT */
/*
 * What uev-kms-shim adds to drmModeAtomicCommit(): ns per call on /dev/null
 * (libdrm duplicates and sorts the request and makes the ioctl, which
 * fails with ENOTTY), run by bench/kms-shim/run.sh without the shim, with
 * it on a seat that does not record and with it recording.
 *
 * usage: kms_commit commit|frame ITERATIONS [threaded]
 *   commit  one request of 8 properties on 4 objects (a CRTC, a connector,
 *           two planes: a small single-output flip), committed ITERATIONS
 *           times
 *   frame   what a compositor does per frame: alloc, the same 8 adds,
 *           commit, free; ITERATIONS times
 *   threaded  start an idle thread first. glibc's malloc takes a faster,
 *           lock-free path while a process has one thread; libuev's
 *           marker backend starts a watcher thread, so in a single-threaded
 *           program the shim also makes libdrm's own mallocs dearer. Most
 *           compositors have threads anyway (Mesa's, their own): with
 *           "threaded" every configuration pays for that alike.
 * Prints "MODE NS_PER_CALL".
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xf86drmMode.h>

static const uint32_t items[8][2] = {
	{ 31, 1 }, { 31, 2 }, { 40, 3 }, { 50, 4 }, { 50, 5 }, { 50, 6 }, { 51, 4 }, { 51, 5 },
};

static drmModeAtomicReqPtr build(void)
{
	drmModeAtomicReqPtr req = drmModeAtomicAlloc();

	for (int i = 0; i < 8 && req; i++)
		drmModeAtomicAddProperty(req, items[i][0], items[i][1], (uint64_t)i);
	return req;
}

static void *idle(void *arg)
{
	pause();
	return arg;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC), frame;
	long n = argc >= 3 ? atol(argv[2]) : 0;
	drmModeAtomicReqPtr req;
	pthread_t th;
	double t;

	if (argc < 3 || argc > 4 || n <= 0 || (strcmp(argv[1], "commit") && strcmp(argv[1], "frame")) ||
	    (argc == 4 && strcmp(argv[3], "threaded")) || fd < 0) {
		fprintf(stderr, "usage: kms_commit commit|frame ITERATIONS [threaded]\n");
		return 2;
	}
	if (argc == 4 && pthread_create(&th, NULL, idle, NULL)) {
		fprintf(stderr, "kms_commit: no thread\n");
		return 1;
	}
	frame = !strcmp(argv[1], "frame");
	/* as a compositor does at start: the shim learns the ids, opens the
	 * provider here, not in the timed loop */
	drmModeFreeResources(drmModeGetResources(fd));
	req = build();
	t = now();
	for (long i = 0; i < n; i++) {
		if (frame) {
			drmModeAtomicReqPtr r = build();

			drmModeAtomicCommit(fd, r, DRM_MODE_ATOMIC_NONBLOCK, NULL);
			drmModeAtomicFree(r);
		} else {
			drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_NONBLOCK, NULL);
		}
	}
	t = now() - t;
	drmModeAtomicFree(req);
	printf("%s %.1f\n", argv[1], t / (double)n);
	fflush(stdout);
	_exit(0); /* the idle thread never returns */
}
