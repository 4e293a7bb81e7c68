/* SPDX-License-Identifier: MIT */
/*
 * The contract between libuev emitters and the seat's reader (uev-seat,
 * uev-aggregator, uev-replay) for the marker backend. Internal: not installed,
 * but every side includes this one file, so the layout exists exactly once.
 *
 * Enable page: <run_dir>/<seat>.enable, a regular file of UEV_PAGE_SIZE bytes,
 * owned by root, mode 0644, maintained by the seat's reader and mapped
 * read-only (MAP_SHARED) by every emitter. Invariants the reader keeps:
 *   - it is created once at full size and never truncated, unlinked or
 *     replaced while emitters may map it (a shrinking file would SIGBUS them);
 *   - `enabled` bit 0 is set only while the instance records markers;
 *   - `epoch` grows by one each time recording (re)starts, so that emitters
 *     write their announcements again into a ring that may have lost them;
 *   - every change is published with uev_page_publish(): `changes` grows and
 *     a shared futex wake on it follows. Each emitting process has one
 *     watcher thread asleep in FUTEX_WAIT on `changes`; it copies `enabled`
 *     into the enable word of every event of the process, which is what
 *     uev_enabled() loads. No wake, no change seen: never store directly.
 *
 * Marker records: trace_marker_raw takes a host-endian u32 id + payload. A
 * user event's id is uev_marker_id() of its canonical definition (so every
 * process and every fork agrees without coordination); its payload is exactly
 * the user_events payload (__rel_loc offsets are position independent). Before
 * an event's first record in an epoch the emitter writes an announcement:
 * id UEV_MARKER_ANNOUNCE, payload = u32 event id + canonical definition
 * "name field; field" + NUL.
 */
#ifndef UEV_ABI_H
#define UEV_ABI_H

#include <linux/futex.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define UEV_PAGE_MAGIC   0x50564555u /* "UEVP" little-endian */
#define UEV_PAGE_VERSION 1u
#define UEV_PAGE_SIZE    4096u

struct uev_enable_page {
	uint32_t magic;
	uint32_t version;
	uint32_t enabled;  /* bit 0: the seat records markers now */
	uint32_t epoch;    /* recording (re)starts; 0 = never started */
	int32_t owner_pid; /* the reader that maintains the page */
	uint32_t changes;  /* futex word: bumped on every change */
	uint32_t reserved[(UEV_PAGE_SIZE - 24) / 4];
};
_Static_assert(sizeof(struct uev_enable_page) == UEV_PAGE_SIZE, "page size");

/*
 * The kernel's user_events ABI (6.4+), spelled out because bookworm's
 * linux-libc-dev (6.1) predates <linux/user_events.h>.
 */
struct uev_user_reg {
	uint32_t size;
	uint8_t enable_bit;
	uint8_t enable_size;
	uint16_t flags;
	uint64_t enable_addr;
	uint64_t name_args;
	uint32_t write_index;
} __attribute__((packed));

struct uev_user_unreg {
	uint32_t size;
	uint8_t disable_bit;
	uint8_t reserved;
	uint16_t reserved2;
	uint64_t disable_addr;
} __attribute__((packed));

_Static_assert(sizeof(struct uev_user_reg) == 28, "struct user_reg is 28 bytes");
_Static_assert(sizeof(struct uev_user_unreg) == 16, "struct user_unreg is 16 bytes");

#define UEV_DIAG_IOCSREG   _IOWR('*', 0, struct uev_user_reg *)
#define UEV_DIAG_IOCSDEL   _IOW('*', 1, char *)
#define UEV_DIAG_IOCSUNREG _IOW('*', 2, struct uev_user_unreg *)
#define UEV_USER_EVENT_REG_PERSIST (1u << 0) /* 6.7+, needs CAP_PERFMON */

/* Publish a new state (@new_epoch: recording (re)starts). The epoch is
 * stored before the enabled bit, so an emitter that sees "enabled" also sees
 * the epoch that makes it announce its events. */
static inline void uev_page_publish(struct uev_enable_page *pg, int enabled, int new_epoch)
{
	if (new_epoch)
		__atomic_store_n(&pg->epoch, pg->epoch + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&pg->enabled, enabled ? 1u : 0u, __ATOMIC_RELEASE);
	__atomic_add_fetch(&pg->changes, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &pg->changes, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

#define UEV_MARKER_ANNOUNCE 0x41564555u /* "UEVA" little-endian */
/* A sync point the seat's reader writes into its own instance (payload:
 * u32 version, u64 seq, u64 realtime, monotonic and boottime ns sampled
 * just before the write; aggregator/decode/clock-sync.h). Only the reader's own
 * records (by their kernel-set pid) are believed. */
#define UEV_MARKER_SYNC 0x53564555u /* "UEVS" little-endian */
/* The aggregator's mark in a boot's persistent instance (a trace_instance=
 * on reserved memory, [boot] persistent_instance): which ring file and run
 * recorded that boot, so that after a warm reboot the pages it kept are
 * decoded with that run's formats (payload: aggregator/recorder/boot-ring.h).
 * Only records written by the run's own aggregator (by pid) are believed. */
#define UEV_MARKER_BOOT 0x42564555u /* "UEVB" little-endian */
/* trace_marker_raw rejects more than this many bytes (id included). */
#define UEV_MARKER_MAX 4064u

/* FNV-1a 32 of the canonical definition, kept clear of the reserved ids. */
static inline uint32_t uev_marker_id(const char *def)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)def; *p; p++)
		h = (h ^ *p) * 16777619u;
	if (h == UEV_MARKER_ANNOUNCE || h == 0)
		h ^= 0x80000000u;
	return h;
}

#define UEV_INSTANCE_PREFIX "uev."
#define UEV_RUN_DIR_DEFAULT "/run/uev"
#define UEV_SEAT_MAX 64

/* A seat name becomes a directory and a file name: [A-Za-z0-9_-]{1,63}. */
static inline int uev_seat_name_ok(const char *s)
{
	size_t n = 0;

	for (; s && s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '_' || s[n] == '-'))
			return 0;
	return n > 0 && n < UEV_SEAT_MAX;
}

#endif
