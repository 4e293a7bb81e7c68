/* SPDX-License-Identifier: MIT */
/*
 * The user_events backend (kernel 6.4+ ABI). The kernel keeps bit 0 of each
 * event's _enabled word in step with "is this event enabled anywhere" (any
 * instance, perf), so uev_enabled() reads kernel-maintained state directly.
 * Emitters register without flags: PERSIST needs CAP_PERFMON and belongs to
 * the aggregator, which pre-registers the schema events for its seat.
 *
 * The ABI structs live in uev-abi.h, shared with the aggregator, which
 * pre-registers the schema events of its seat.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "uev-internal.h"

int uev_ue_open(struct uev_provider *p)
{
	char path[sizeof(p->tracefs) + 32];

	snprintf(path, sizeof(path), "%s/user_events_data", p->tracefs);
	p->data_fd = open(path, O_RDWR | O_CLOEXEC);
	if (p->data_fd < 0) {
		int e = errno;

		snprintf(p->status, sizeof(p->status), "off: cannot open %s: %s",
			 path, strerror(e));
		return -e;
	}
	return 0;
}

int uev_ue_register(struct uev_provider *p, struct uev_event *ev)
{
	struct uev_user_reg reg = {
		.size = sizeof(reg),
		.enable_bit = 0,
		.enable_size = sizeof(ev->_enabled),
		.flags = 0,
		.enable_addr = (uint64_t)(uintptr_t)&ev->_enabled,
		.name_args = (uint64_t)(uintptr_t)ev->_p.canonical,
	};

	/* The kernel sets the bit during the ioctl if the event is enabled
	 * somewhere already, before write_index is known here: until then an
	 * emit on another thread uses an index no event has, which the kernel
	 * refuses (ENOENT) instead of filing the record under another event. */
	__atomic_store_n(&ev->_p.prefix, UINT32_MAX, __ATOMIC_RELAXED);
	__atomic_store_n(&ev->_enabled, 0, __ATOMIC_RELAXED);
	if (ioctl(p->data_fd, UEV_DIAG_IOCSREG, &reg) < 0)
		return -errno;
	__atomic_store_n(&ev->_p.prefix, reg.write_index, __ATOMIC_RELAXED);
	return 0;
}

void uev_ue_unregister(struct uev_provider *p, struct uev_event *ev)
{
	struct uev_user_unreg unreg = {
		.size = sizeof(unreg),
		.disable_bit = 0,
		.disable_addr = (uint64_t)(uintptr_t)&ev->_enabled,
	};

	if (ioctl(p->data_fd, UEV_DIAG_IOCSUNREG, &unreg) < 0)
		uev_debug(p, "unregister %s: %s", ev->name, strerror(errno));
	__atomic_store_n(&ev->_enabled, 0, __ATOMIC_RELAXED); /* the kernel no longer writes it */
}
