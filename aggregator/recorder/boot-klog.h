/* SPDX-License-Identifier: MIT */
/*
 * What the kernel said, at this boot, about the persistent ring it took
 * over (boot-klog.c): the sub-buffers it could not validate and dropped
 * (7.2+: "Ring buffer meta [N] is from previous boot! (K pages
 * discarded)"), or a CPU's whole part it cleared (6.12: "Ring buffer boot
 * meta [N] buffer invalid commit", and the like). Readers of the instance
 * see neither: the pages are gone. The kernel log does not name the
 * instance: with one persistent instance per machine, as uev configures
 * it, they are that instance's.
 */
#ifndef UEV_BOOT_KLOG_H
#define UEV_BOOT_KLOG_H

#include <stddef.h>

struct uev_boot_loss {
	unsigned cpu;
	unsigned pages;  /* sub-buffers dropped; 0: the CPU's whole part */
};

/* Parse kernel log lines (@text, NUL-terminated; /dev/kmsg records or
 * dmesg lines) into @out (at most @max). Returns how many. */
size_t uev_boot_klog_parse(const char *text, struct uev_boot_loss *out, size_t max);

/* This boot's kernel log so far, from /dev/kmsg (malloc'd text, one
 * message per line), or NULL with errno set. */
char *uev_boot_klog_read(void);

#endif
