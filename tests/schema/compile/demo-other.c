/* SPDX-License-Identifier: MIT */
/*
 * Second translation unit of the demo-header run: uses the demo events
 * through their extern declarations and defines the weston objects. The
 * weston header is included before and after the IMPLEMENTATION define,
 * which must work, and after <errno.h>, whose errno macro must not break the
 * kms events' 'errno' fields (the kms objects are defined here too).
 */
#include <errno.h>

#include "weston-uev.h"
#define UEV_WESTON_IMPLEMENTATION
#include "weston-uev.h"
#include "demo-uev.h"
#define UEV_KMS_IMPLEMENTATION
#include "kms-uev.h"

int other_unit_emit(void);

int other_unit_emit(void)
{
	int r = 0;

	errno = EBUSY;
	r |= uev_emit_demo_hello("other", -1);
	r |= uev_emit_weston_repaint_begin(16666666, 1, "HDMI-A-1");
	r |= uev_emit_weston_repaint_finished(16666666, 1, 16700000, "HDMI-A-1");
	r |= uev_emit_kms_atomic_commit(0x300, 0, 1, 1, -1, errno, 31, 40, 4, 2, 8, 1000);
	r |= uev_emit_kms_set_crtc(31, 77, 0, 0, 40, 1, 1920, 1080, 60, -1, errno, 1000, "1920x1080");
	r |= uev_emit_weston_mode_set(1, 1920, 1080, 60000, 0x3, "HDMI-A-1");
	r |= uev_emit_weston_output_hotplug("DP-2", 1, 1);
	r |= uev_emit_weston_input_device_add("keyboard", "/dev/input/event4", 2);
	r |= uev_emit_weston_input_device_remove("keyboard", "/dev/input/event4", 2);
	r |= uev_emit_weston_log("drm-backend", 6, "repaint loop started");
	return r;
}
