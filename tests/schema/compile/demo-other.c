/* SPDX-License-Identifier: MIT */
/*
 * Second translation unit of the demo-header run: uses the demo events
 * through their extern declarations and defines the weston objects. The
 * weston header is included before and after the IMPLEMENTATION define,
 * which must work, and after <errno.h>, whose errno macro must not break the
 * atomic_commit event's 'errno' field.
 */
#include <errno.h>

#include "weston-uev.h"
#define UEV_WESTON_IMPLEMENTATION
#include "weston-uev.h"
#include "demo-uev.h"

int other_unit_emit(void);

int other_unit_emit(void)
{
	int r = 0;

	errno = EBUSY;
	r |= uev_emit_demo_hello("other", -1);
	r |= uev_emit_weston_repaint_begin(16666666, 1, "HDMI-A-1");
	r |= uev_emit_weston_repaint_finished(16666666, 1, 16700000, "HDMI-A-1");
	r |= uev_emit_weston_atomic_commit(1, 0x300, 1, -1, errno);
	r |= uev_emit_weston_mode_set(1, 1920, 1080, 60000, 0x3, "HDMI-A-1");
	r |= uev_emit_weston_output_hotplug("DP-2", 1, 1);
	r |= uev_emit_weston_input_device_add("keyboard", "/dev/input/event4", 2);
	r |= uev_emit_weston_input_device_remove("keyboard", "/dev/input/event4", 2);
	r |= uev_emit_weston_log("drm-backend", 6, "repaint loop started");
	return r;
}
