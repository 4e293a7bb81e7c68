/* SPDX-License-Identifier: MIT */
/*
 * What uev-kms-shim knows about KMS objects without asking the kernel:
 *  - which object ids are CRTCs, connectors and planes, learnt from the
 *    drmModeGetResources() / drmModeGetPlaneResources() results the
 *    compositor asked for (one table for the process, lock-free);
 *  - which objects an atomic request sets properties on, learnt from the
 *    drmModeAtomicAddProperty() calls that built it (per thread).
 * Nothing here calls libdrm or the kernel, so it is unit-tested alone.
 */
#ifndef UEV_KMS_OBJECTS_H
#define UEV_KMS_OBJECTS_H

#include <stdint.h>

enum kms_kind {
	KMS_KIND_UNKNOWN = 0,
	KMS_KIND_CRTC = 1,
	KMS_KIND_CONNECTOR = 2,
	KMS_KIND_PLANE = 3,
};

/* Object ids per (fd, id) the process-wide table holds; beyond that new ids
 * are not learnt (and stay unknown). */
#define KMS_OBJECTS_MAX 1024
/* Requests one thread tracks at once (the least recently used is reused)
 * and distinct objects per request (more makes the request not known). */
#define KMS_REQ_SLOTS 4
#define KMS_REQ_OBJECTS 64

/**
 * kms_objects_learn() - remember that the @n ids in @ids are of @kind on
 * the device open as @fd. Safe from any thread, no lock; an id learnt
 * again with another kind (another device behind a reused fd) takes the
 * new kind. Ids of 0, negative fds and fds of 2^24 or more are ignored.
 */
void kms_objects_learn(int fd, const uint32_t *ids, uint32_t n, enum kms_kind kind);

/** kms_objects_kind() - the kind learnt for @id on @fd, else KMS_KIND_UNKNOWN. */
enum kms_kind kms_objects_kind(int fd, uint32_t id);

/** kms_objects_reset() - forget every id (for tests; not thread-safe). */
void kms_objects_reset(void);

/**
 * kms_req_add() - drmModeAtomicAddProperty(@req, @obj, ...) returned
 * @cursor (> 0: the request's item count after the add; the new item is
 * item @cursor - 1). Records @obj for the calling thread's view of @req.
 * Items the thread did not see (added before it started to track, or by
 * a call that is not wrapped) make the request "not known"; an add at a
 * lower item than expected (drmModeAtomicSetCursor() rewound) forgets the
 * objects first added at or after that item; an add at item 0 starts over.
 */
void kms_req_add(const void *req, uint32_t obj, int cursor);

/** kms_req_forget() - @req is freed: drop the calling thread's view of it. */
void kms_req_forget(const void *req);

/** What an atomic request holds, as far as the calling thread knows. */
struct kms_req_summary {
	uint32_t objects;   /* distinct objects; 0 when not known */
	uint32_t planes;    /* of which known planes */
	uint32_t crtc;      /* first known CRTC, in the order of the adds; 0: none */
	uint32_t connector; /* first known connector; 0: none */
};

/**
 * kms_req_summarize() - summarize @req, which has @cursor items now
 * (drmModeAtomicGetCursor()), for a commit on @fd. All zero when the
 * thread did not see every item of it.
 */
void kms_req_summarize(const void *req, int fd, int cursor, struct kms_req_summary *out);

#endif
