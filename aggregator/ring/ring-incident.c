/* SPDX-License-Identifier: MIT */
/*
 * The INCIDENT record (docs/ring-format.md): what an incident bundle holds
 * and why, its encoder and its decoder. Nine little-endian u64 in the order
 * of struct uev_ring_incident, then reason and trigger, NUL-terminated.
 */
#include <errno.h>
#include <string.h>

#include "ring-common.h"

#define NUMS 9u

size_t uev_ring_incident_encode(uint8_t *p, const struct uev_ring_incident *inc)
{
	const uint64_t v[NUMS] = { inc->run_id, inc->trigger_ns, inc->from_ns, inc->to_ns,
				   inc->trigger_realtime_ns, inc->created_realtime_ns,
				   inc->overwritten_to_ns, inc->lost_records, inc->problems };
	size_t lr = strlen(inc->reason), lt = strlen(inc->trigger);

	if (p) {
		for (unsigned i = 0; i < NUMS; i++)
			uev_put64(p + 8 * i, v[i]);
		memcpy(p + 8 * NUMS, inc->reason, lr + 1);
		memcpy(p + 8 * NUMS + lr + 1, inc->trigger, lt + 1);
	}
	return 8 * NUMS + lr + 1 + lt + 1;
}

int uev_ring_rec_incident(const struct uev_ring_rec *rec, struct uev_ring_incident *out)
{
	const uint8_t *p = rec->payload;
	uint64_t v[NUMS];
	size_t lr;

	memset(out, 0, sizeof(*out));
	if (rec->type != UEV_RING_INCIDENT || rec->len < UEV_RING_INCIDENT_MIN)
		return -EINVAL;
	lr = strnlen((const char *)p + 8 * NUMS, rec->len - 8 * NUMS);
	/* the reason's NUL inside, and the trigger's the last byte */
	if (8 * NUMS + lr + 1 >= rec->len ||
	    strnlen((const char *)p + 8 * NUMS + lr + 1, rec->len - 8 * NUMS - lr - 1) !=
		    rec->len - 8 * NUMS - lr - 2)
		return -EINVAL;
	for (unsigned i = 0; i < NUMS; i++)
		v[i] = uev_get64(p + 8 * i);
	*out = (struct uev_ring_incident){ v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8],
					   (const char *)p + 8 * NUMS, (const char *)p + 8 * NUMS + lr + 1 };
	return 0;
}
