/* SPDX-License-Identifier: MIT */
/*
 * The marker backend: for kernels without user_events, the same payloads go
 * to the seat instance's trace_marker_raw, and the seat's reader tells
 * emitters whether to write through the enable page (see uev-abi.h).
 *
 * Invariants:
 *  - uev_enabled() loads the word inside each event, never the page: one
 *    load, as with user_events. A watcher thread per provider keeps those
 *    words equal to the page's enabled bit. It sleeps in FUTEX_WAIT on the
 *    page's `changes` counter and re-reads the page whenever it moved, so a
 *    change reaches every event within a wakeup, and an idle process never
 *    wakes. Until the page file exists the watcher looks for it once a
 *    second. Event words change only under p->lock (watcher, registration,
 *    unregistration), so none is left behind.
 *  - p->page never moves. It starts as an anonymous zero page; the page file
 *    is mapped over the same address (MAP_FIXED), which other threads
 *    observe atomically. The emit path reads the epoch through it.
 *  - The trace_marker_raw descriptor number never changes once published.
 *    Each recording epoch it is reopened (the reader may have recreated the
 *    instance) and the new file is dup2()ed onto the published number, which
 *    is atomic for concurrent writers. Closing and reusing a number instead
 *    could let a racing emit write into an unrelated file of the host.
 *  - fork() keeps only the calling thread: the child starts its own watcher
 *    (with its own stop eventfd) for every provider it inherited.
 *  - The seat reader stores the new epoch before the enabled bit, but an
 *    emitter loads its enable word relaxed: on a weakly ordered CPU it may
 *    see "enabled" with the old epoch and write one record before it
 *    announces. Harmless: announcements are content-addressed and the
 *    aggregator keeps every one it saw in the ring file's checkpoints.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "uev-internal.h"
#include "uev-sys.h"

/* Every provider, for fork(): their locks, and the marker watchers. */
static pthread_mutex_t fork_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static struct uev_provider *fork_list;

static int page_try_map(struct uev_provider *p)
{
	struct uev_enable_page head;
	struct stat st;
	void *m;
	int fd = open(p->page_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	/* A page someone else could shrink would SIGBUS the host: only trust a
	 * full-size regular file owned by root (or by ourselves, for tests). */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < UEV_PAGE_SIZE ||
	    (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    pread(fd, &head, 8, 0) != 8 || head.magic != UEV_PAGE_MAGIC ||
	    head.version != UEV_PAGE_VERSION) {
		close(fd);
		return -EINVAL;
	}
	m = mmap((void *)p->page, UEV_PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -errno;
	uev_debug(p, "seat %s: enable page %s mapped", p->seat, p->page_path);
	return 0;
}

/* Copy the page's enabled bit into every event's enable word. */
static void apply(struct uev_provider *p)
{
	uint32_t on = __atomic_load_n(&p->page->enabled, __ATOMIC_ACQUIRE) & 1u;

	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->nevents; i++)
		__atomic_store_n(&p->events[i]->_enabled, on, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&p->lock);
}

static void *watcher_main(void *arg)
{
	struct uev_provider *p = arg;
	struct pollfd pfd = { .fd = p->watch_fd, .events = POLLIN };
	int mapped = p->page_mapped;

	while (!__atomic_load_n(&p->stopping, __ATOMIC_ACQUIRE)) {
		uint32_t seen;

		if (!mapped && !(mapped = page_try_map(p) == 0)) {
			poll(&pfd, 1, 1000);
			continue;
		}
		p->page_mapped = 1; /* for a fork()ed child's new watcher */
		/* Read the counter before the state: a change after this
		 * read makes the wait below return at once. */
		seen = __atomic_load_n(&p->page->changes, __ATOMIC_ACQUIRE);
		apply(p);
		syscall(SYS_futex, &p->page->changes, FUTEX_WAIT, seen, NULL, NULL, 0);
	}
	return NULL;
}

static int watcher_start(struct uev_provider *p)
{
	sigset_t all, old;
	int r;

	p->watch_fd = eventfd(0, EFD_CLOEXEC);
	if (p->watch_fd < 0)
		return -errno;
	/* The host's signals must never land on our thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&p->watcher, NULL, watcher_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	p->watching = r == 0;
	return -r;
}

/* Stop and join the watcher. It may sit in poll() or in FUTEX_WAIT, and may
 * be between its stop check and either: keep waking it until it is gone. */
static void watcher_stop(struct uev_provider *p)
{
	uint64_t one = 1;

	if (!p->watching)
		return;
	__atomic_store_n(&p->stopping, 1, __ATOMIC_RELEASE);
	for (;;) {
		struct timespec t;

		if (write(p->watch_fd, &one, sizeof(one)) < 0)
			break;
		syscall(SYS_futex, &p->page->changes, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += 10 * 1000000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000;
		}
		if (pthread_timedjoin_np(p->watcher, NULL, &t) == 0)
			break;
	}
	p->watching = 0;
}

/* fork(): no provider lock may be held by a thread that will not exist in
 * the child, so all of them are taken around it. */
static void fork_prepare(void)
{
	pthread_mutex_lock(&fork_lock);
	for (struct uev_provider *p = fork_list; p; p = p->next_provider)
		pthread_mutex_lock(&p->lock);
}

static void fork_parent(void)
{
	for (struct uev_provider *p = fork_list; p; p = p->next_provider)
		pthread_mutex_unlock(&p->lock);
	pthread_mutex_unlock(&fork_lock);
}

static void fork_child(void)
{
	for (struct uev_provider *p = fork_list; p; p = p->next_provider) {
		pthread_mutex_unlock(&p->lock);
		if (!p->watching)
			continue;
		/* The inherited eventfd is shared with the parent: a stop on
		 * either side would wake both watchers. */
		close(p->watch_fd);
		p->watching = 0;
		watcher_start(p);
	}
	pthread_mutex_unlock(&fork_lock);
}

static void fork_register(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

int uev_marker_open(struct uev_provider *p)
{
	void *m;
	int fd, r;

	snprintf(p->marker_path, sizeof(p->marker_path), "%s/instances/" UEV_INSTANCE_PREFIX "%s/trace_marker_raw",
		 p->tracefs, p->seat);
	snprintf(p->page_path, sizeof(p->page_path), "%s/%s.enable", p->run_dir, p->seat);
	p->marker_fd = UEV_FD_UNOPENED;
	p->marker_tried_epoch = UINT32_MAX; /* no epoch tried yet */
	/* Permission is decided now: an emitter that may not write stays off
	 * for good instead of paying for encoding on every enabled emit. A
	 * missing instance is fine: the seat's reader creates it later. */
	fd = open(p->marker_path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT) {
		snprintf(p->status, sizeof(p->status), "off: cannot open %s: %s",
			 p->marker_path, strerror(errno));
		return -errno;
	}
	if (fd >= 0)
		close(fd);
	m = mmap(NULL, UEV_PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -ENOMEM;
	p->page = m;
	/* A page that exists already is mapped before the first registration,
	 * so events are born with the seat's current state. */
	p->page_mapped = page_try_map(p) == 0;
	pthread_mutex_lock(&fork_lock); /* a fork now would copy a half-started watcher */
	r = watcher_start(p);
	pthread_mutex_unlock(&fork_lock);
	if (r < 0) {
		snprintf(p->status, sizeof(p->status), "off: cannot start the enable page watcher");
		return -EAGAIN;
	}
	return 0;
}

void uev_fork_track(struct uev_provider *p)
{
	pthread_once(&fork_once, fork_register);
	pthread_mutex_lock(&fork_lock);
	p->next_provider = fork_list;
	fork_list = p;
	pthread_mutex_unlock(&fork_lock);
}

void uev_fork_untrack(struct uev_provider *p)
{
	pthread_mutex_lock(&fork_lock);
	for (struct uev_provider **pp = &fork_list; *pp; pp = &(*pp)->next_provider)
		if (*pp == p) {
			*pp = p->next_provider;
			break;
		}
	pthread_mutex_unlock(&fork_lock);
}

void uev_marker_close(struct uev_provider *p)
{
	watcher_stop(p);
	if (p->watch_fd >= 0)
		close(p->watch_fd);
	if (p->marker_fd >= 0)
		close(p->marker_fd);
	if (p->page)
		munmap((void *)p->page, UEV_PAGE_SIZE);
}

/* Called with p->lock held and @ev already in p->events. */
int uev_marker_register(struct uev_provider *p, struct uev_event *ev)
{
	ev->_p.prefix = uev_marker_id(ev->_p.canonical);
	__atomic_store_n(&ev->_p.announced, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&ev->_enabled, __atomic_load_n(&p->page->enabled, __ATOMIC_ACQUIRE) & 1u,
			 __ATOMIC_RELAXED);
	return 0;
}

/* The descriptor for this epoch, or -1. Async-signal-safe. */
static int marker_fd(struct uev_provider *p, uint32_t epoch)
{
	int fd = __atomic_load_n(&p->marker_fd, __ATOMIC_ACQUIRE), nfd, expected, saved;

	if (__atomic_load_n(&p->marker_tried_epoch, __ATOMIC_ACQUIRE) == epoch)
		return fd;
	saved = errno; /* the host's errno survives an emit */
	nfd = open(p->marker_path, O_WRONLY | O_CLOEXEC);
	if (nfd >= 0) {
		expected = UEV_FD_UNOPENED;
		if (fd < 0 && __atomic_compare_exchange_n(&p->marker_fd, &expected, nfd, 0,
							  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			fd = nfd;
		} else {
			fd = fd < 0 ? expected : fd;
			dup2(nfd, fd);
			close(nfd);
		}
	}
	__atomic_store_n(&p->marker_tried_epoch, epoch, __ATOMIC_RELEASE);
	errno = saved;
	return fd;
}

int uev_marker_send(struct uev_provider *p, struct uev_event *ev, const uint8_t *buf, size_t len)
{
	uint32_t epoch = __atomic_load_n(&p->page->epoch, __ATOMIC_ACQUIRE);
	int fd = marker_fd(p, epoch);
	long r;

	if (fd < 0)
		return -EBADF;
	if (__atomic_load_n(&ev->_p.announced, __ATOMIC_RELAXED) != epoch) {
		/* Two threads may both announce: readers take identical
		 * announcements as one, so no lock is needed. */
		uint8_t ann[8 + UEV_DEF_MAX];
		uint32_t head[2] = { UEV_MARKER_ANNOUNCE, ev->_p.prefix };
		size_t n = strlen(ev->_p.canonical) + 1;

		memcpy(ann, head, sizeof(head));
		memcpy(ann + 8, ev->_p.canonical, n);
		r = uev_sys_write(fd, ann, 8 + n);
		if (r < 0)
			return (int)r;
		__atomic_store_n(&ev->_p.announced, epoch, __ATOMIC_RELAXED);
	}
	r = uev_sys_write(fd, buf, len);
	return r < 0 ? (int)r : 0;
}
