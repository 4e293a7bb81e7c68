// SPDX-License-Identifier: MIT
/*
 * uev-kms-shim.so: an LD_PRELOAD shim for libdrm compositors that records
 * their KMS calls (atomic commits, page flips, legacy mode sets) as the
 * typed events of schemas/kms.uev, next to the kernel's drm:* events.
 *
 * Each wrapper calls the real libdrm function (dlsym(RTLD_NEXT)) with the
 * same arguments and returns what it returned with errno as it left it:
 * the compositor cannot tell the shim is there, except for the time one
 * emit takes while the seat records the event. While it does not, a
 * wrapper costs a few loads and branches: the clock is read, the request
 * tracked and the summary built only when the event is enabled.
 *
 * The provider is opened on the first call of a wrapper that emits or
 * learns objects (pthread_once), so a process that never uses KMS never
 * opens it. When libuev cannot record (no tracefs, no rights, backend off)
 * the events stay disabled and the shim only passes calls through.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xf86drm.h>
#include <xf86drmMode.h>

#define UEV_KMS_IMPLEMENTATION
#include "kms-uev.h"

#include "kms-objects.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

/* The real functions, resolved once (shim_real) and read after
 * pthread_once() or the acquire load of real_ready, which order the
 * writes before every read. */
static struct {
	int (*atomic_add_property)(drmModeAtomicReqPtr, uint32_t, uint32_t, uint64_t);
	int (*atomic_get_cursor)(const drmModeAtomicReqPtr);
	int (*atomic_commit)(int, const drmModeAtomicReqPtr, uint32_t, void *);
	void (*atomic_free)(drmModeAtomicReqPtr);
	int (*page_flip)(int, uint32_t, uint32_t, uint32_t, void *);
	int (*page_flip_target)(int, uint32_t, uint32_t, uint32_t, void *, uint32_t);
	int (*set_crtc)(int, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t *, int,
			drmModeModeInfoPtr);
	drmModeResPtr (*get_resources)(int);
	drmModePlaneResPtr (*get_plane_resources)(int);
	int (*handle_event)(int, drmEventContextPtr);
} real;

static pthread_once_t real_once = PTHREAD_ONCE_INIT;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int real_ready, init_ready; /* set (release) when each once is done */
static struct uev_provider *provider;

/* The next definition of @name after this object (libdrm's); when the shim
 * was loaded after libdrm (dlopen instead of LD_PRELOAD), the global one,
 * unless that is the shim's own. NULL when there is none. */
static void *next_symbol(const char *name, void *self)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (!f) {
		f = dlsym(RTLD_DEFAULT, name);
		if (f == self)
			f = NULL;
	}
	return f;
}

/* @name must be one of the shim's own wrappers: naming any other libdrm
 * function in C makes it an undefined symbol of the shim, and the shim
 * could then not be loaded into a process without libdrm (every child a
 * preloaded compositor starts). drmModeAtomicGetCursor() is looked up by
 * its name only. */
#define RESOLVE(member, name) \
	(*(void **)&real.member = next_symbol(#name, (void *)(name)))

static void resolve_real(void)
{
	int saved = errno;

	RESOLVE(atomic_add_property, drmModeAtomicAddProperty);
	*(void **)&real.atomic_get_cursor = next_symbol("drmModeAtomicGetCursor", NULL);
	RESOLVE(atomic_commit, drmModeAtomicCommit);
	RESOLVE(atomic_free, drmModeAtomicFree);
	RESOLVE(page_flip, drmModePageFlip);
	RESOLVE(page_flip_target, drmModePageFlipTarget);
	RESOLVE(set_crtc, drmModeSetCrtc);
	RESOLVE(get_resources, drmModeGetResources);
	RESOLVE(get_plane_resources, drmModeGetPlaneResources);
	RESOLVE(handle_event, drmHandleEvent);
	__atomic_store_n(&real_ready, 1, __ATOMIC_RELEASE);
	errno = saved;
}

/* The real functions, then the provider: seat and backend as libuev
 * chooses them ($XDG_SEAT, $UEV_BACKEND, ...). Failing to open or register
 * leaves the events disabled: pass-through. */
static void init_all(void)
{
	int saved = errno;
	int r;

	pthread_once(&real_once, resolve_real);
	r = uev_provider_open(&provider, NULL);

	if (r == 0)
		r = uev_kms_register(provider);
	/* Never print into the host's stderr unless asked to (as libuev). */
	if (getenv("UEV_DEBUG"))
		fprintf(stderr, "uev-kms-shim: %s\n",
			r < 0 ? strerror(-r) : uev_provider_status(provider));
	__atomic_store_n(&init_ready, 1, __ATOMIC_RELEASE);
	errno = saved;
}

/* Every wrapper: the real functions. The flag spares the hot wrappers
 * a call into libc once done; pthread_once() still decides who runs it
 * and makes the others wait. */
static inline void shim_real(void)
{
	if (!__atomic_load_n(&real_ready, __ATOMIC_ACQUIRE))
		pthread_once(&real_once, resolve_real);
}

/* Wrappers that emit or learn: the real functions and the provider. */
static inline void shim_init(void)
{
	if (!__atomic_load_n(&init_ready, __ATOMIC_ACQUIRE))
		pthread_once(&init_once, init_all);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The errno to record: errno after the call when it failed, else 0. */
static int32_t call_errno(int result, int err)
{
	return result < 0 ? err : 0;
}

SHIM_EXPORT int drmModeAtomicAddProperty(drmModeAtomicReqPtr req, uint32_t object_id,
					 uint32_t property_id, uint64_t value)
{
	int r;

	shim_real();
	if (!real.atomic_add_property) {
		errno = ENOSYS;
		return -ENOSYS;
	}
	r = real.atomic_add_property(req, object_id, property_id, value);
	/* Only while the commit event is recorded: a request started before
	 * that is then "not known" rather than miscounted. */
	if (r > 0 && uev_enabled(&uev_kms_atomic_commit))
		kms_req_add(req, object_id, r);
	return r;
}

SHIM_EXPORT void drmModeAtomicFree(drmModeAtomicReqPtr req)
{
	shim_real();
	kms_req_forget(req);
	if (real.atomic_free)
		real.atomic_free(req);
}

SHIM_EXPORT int drmModeAtomicCommit(int fd, const drmModeAtomicReqPtr req, uint32_t flags,
				    void *user_data)
{
	struct kms_req_summary sum;
	uint64_t t0;
	int r, err, props;

	shim_init();
	if (!real.atomic_commit) {
		errno = ENOSYS;
		return -ENOSYS;
	}
	if (!uev_enabled(&uev_kms_atomic_commit))
		return real.atomic_commit(fd, req, flags, user_data);
	t0 = now_ns();
	r = real.atomic_commit(fd, req, flags, user_data);
	err = errno;
	t0 = now_ns() - t0;
	props = req && real.atomic_get_cursor ? real.atomic_get_cursor(req) : 0;
	kms_req_summarize(req, fd, props, &sum);
	uev_emit_kms_atomic_commit(flags, !!(flags & DRM_MODE_ATOMIC_TEST_ONLY),
				   !!(flags & DRM_MODE_ATOMIC_NONBLOCK),
				   !!(flags & DRM_MODE_ATOMIC_ALLOW_MODESET), r, call_errno(r, err),
				   sum.crtc, sum.connector, sum.objects, sum.planes,
				   (uint32_t)(props > 0 ? props : 0), t0);
	errno = err;
	return r;
}

static int page_flip_call(int fd, uint32_t crtc, uint32_t fb, uint32_t flags, void *user_data,
			  uint32_t target, bool with_target)
{
	if (with_target)
		return real.page_flip_target(fd, crtc, fb, flags, user_data, target);
	return real.page_flip(fd, crtc, fb, flags, user_data);
}

/* Both page flips; @target is 0 for drmModePageFlip(). */
static int page_flip(int fd, uint32_t crtc, uint32_t fb, uint32_t flags, void *user_data,
		     uint32_t target, bool with_target)
{
	uint64_t t0;
	int r, err;

	shim_init();
	if (with_target ? !real.page_flip_target : !real.page_flip) {
		errno = ENOSYS;
		return -ENOSYS;
	}
	if (!uev_enabled(&uev_kms_page_flip))
		return page_flip_call(fd, crtc, fb, flags, user_data, target, with_target);
	t0 = now_ns();
	r = page_flip_call(fd, crtc, fb, flags, user_data, target, with_target);
	err = errno;
	t0 = now_ns() - t0;
	uev_emit_kms_page_flip(crtc, fb, flags, target, r, call_errno(r, err), t0);
	errno = err;
	return r;
}

SHIM_EXPORT int drmModePageFlip(int fd, uint32_t crtc_id, uint32_t fb_id, uint32_t flags,
				void *user_data)
{
	return page_flip(fd, crtc_id, fb_id, flags, user_data, 0, false);
}

SHIM_EXPORT int drmModePageFlipTarget(int fd, uint32_t crtc_id, uint32_t fb_id, uint32_t flags,
				      void *user_data, uint32_t target_vblank)
{
	return page_flip(fd, crtc_id, fb_id, flags, user_data, target_vblank, true);
}

SHIM_EXPORT int drmModeSetCrtc(int fd, uint32_t crtcId, uint32_t bufferId, uint32_t x,
			       uint32_t y, uint32_t *connectors, int count,
			       drmModeModeInfoPtr mode)
{
	char name[DRM_DISPLAY_MODE_LEN + 1] = "";
	uint64_t t0;
	int r, err;

	shim_init();
	if (!real.set_crtc) {
		errno = ENOSYS;
		return -ENOSYS;
	}
	if (!uev_enabled(&uev_kms_set_crtc))
		return real.set_crtc(fd, crtcId, bufferId, x, y, connectors, count, mode);
	t0 = now_ns();
	r = real.set_crtc(fd, crtcId, bufferId, x, y, connectors, count, mode);
	err = errno;
	t0 = now_ns() - t0;
	/* the kernel's mode name need not end in a NUL within its 32 bytes */
	if (mode)
		memcpy(name, mode->name, DRM_DISPLAY_MODE_LEN);
	uev_emit_kms_set_crtc(crtcId, bufferId, x, y, connectors && count > 0 ? connectors[0] : 0,
			      (uint32_t)(count > 0 ? count : 0), mode ? mode->hdisplay : 0,
			      mode ? mode->vdisplay : 0, mode ? mode->vrefresh : 0, r,
			      call_errno(r, err), t0, name);
	errno = err;
	return r;
}

/* The compositor's own look at the device tells the shim which ids are
 * CRTCs, connectors and planes; learnt whether or not the seat records,
 * since it asks once at start and again only on hotplug. */
SHIM_EXPORT drmModeResPtr drmModeGetResources(int fd)
{
	drmModeResPtr res;

	shim_init();
	if (!real.get_resources) {
		errno = ENOSYS;
		return NULL;
	}
	res = real.get_resources(fd);
	if (res) {
		kms_objects_learn(fd, res->crtcs, res->count_crtcs > 0 ? (uint32_t)res->count_crtcs : 0,
				  KMS_KIND_CRTC);
		kms_objects_learn(fd, res->connectors,
				  res->count_connectors > 0 ? (uint32_t)res->count_connectors : 0,
				  KMS_KIND_CONNECTOR);
	}
	return res;
}

SHIM_EXPORT drmModePlaneResPtr drmModeGetPlaneResources(int fd)
{
	drmModePlaneResPtr res;

	shim_init();
	if (!real.get_plane_resources) {
		errno = ENOSYS;
		return NULL;
	}
	res = real.get_plane_resources(fd);
	if (res)
		kms_objects_learn(fd, res->planes, res->count_planes, KMS_KIND_PLANE);
	return res;
}

/* The compositor's event context while its drmHandleEvent() runs on this
 * thread: the shim's flip handlers record the flip and call the
 * compositor's own with the same arguments. */
static __thread const drmEventContext *flip_ctx;

static void flip_record(unsigned int sequence, unsigned int sec, unsigned int usec,
			unsigned int crtc)
{
	int saved = errno;

	uev_emit_kms_flip_done(crtc, sequence, (uint64_t)sec * 1000000000u + (uint64_t)usec * 1000u);
	errno = saved;
}

static void flip_handler(int fd, unsigned int sequence, unsigned int sec, unsigned int usec,
			 void *user_data)
{
	flip_record(sequence, sec, usec, 0);
	flip_ctx->page_flip_handler(fd, sequence, sec, usec, user_data);
}

static void flip_handler2(int fd, unsigned int sequence, unsigned int sec, unsigned int usec,
			  unsigned int crtc, void *user_data)
{
	flip_record(sequence, sec, usec, crtc);
	flip_ctx->page_flip_handler2(fd, sequence, sec, usec, crtc, user_data);
}

/* A flip completion as the compositor learns it: after its commit
 * returned, before its handler runs (so before whatever the handler
 * records, e.g. Weston's repaint_finished). libdrm picks the handler by
 * the context's version and by which handlers are set; the shim's copy
 * has the same version and sets exactly the same ones, so libdrm picks
 * the same. It copies only the fields of the caller's version (an older
 * caller's struct is shorter) and passes a context of a version newer
 * than this shim knows through untouched. */
SHIM_EXPORT int drmHandleEvent(int fd, drmEventContextPtr evctx)
{
	const drmEventContext *outer;
	drmEventContext mine;
	int r, err;

	shim_init();
	if (!real.handle_event) {
		errno = ENOSYS;
		return -1;
	}
	if (!evctx || evctx->version < 2 || evctx->version > DRM_EVENT_CONTEXT_VERSION ||
	    !uev_enabled(&uev_kms_flip_done))
		return real.handle_event(fd, evctx);
	memset(&mine, 0, sizeof(mine));
	mine.version = evctx->version;
	mine.vblank_handler = evctx->vblank_handler;
	mine.page_flip_handler = evctx->page_flip_handler ? flip_handler : NULL;
	if (evctx->version >= 3)
		mine.page_flip_handler2 = evctx->page_flip_handler2 ? flip_handler2 : NULL;
	if (evctx->version >= 4)
		mine.sequence_handler = evctx->sequence_handler;
	outer = flip_ctx; /* a handler may call drmHandleEvent() again */
	flip_ctx = evctx;
	r = real.handle_event(fd, &mine);
	err = errno;
	flip_ctx = outer;
	errno = err;
	return r;
}
