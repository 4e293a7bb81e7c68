/* SPDX-License-Identifier: MIT */
/*
 * The value of [dyndbg] drm_debug (docs/uev.conf.5): DRM's debug categories
 * by name or as a number, and back to names for the dump and for messages.
 * The bit of each name is the kernel's (enum drm_debug_category, one bit
 * per category of the drm.debug module parameter), which has been stable
 * since the categories became a bitmask.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const categories[] = {
	"core", "driver", "kms", "prime", "atomic", "vbl", "state", "lease", "dp", "drmres",
};
#define NCAT (sizeof categories / sizeof *categories)
_Static_assert(UEV_DRM_DEBUG_KNOWN == (1u << NCAT) - 1, "one known bit per name");

#define SEPARATORS " \t,"
#define WORD_MAX 64

/* Decimal digits, or 0x and hex digits. 0 or -EINVAL; *@out saturates. */
static int parse_number(const char *w, unsigned long long *out)
{
	unsigned base = 10;
	unsigned long long n = 0;

	if ((w[0] == '0' && (w[1] == 'x' || w[1] == 'X'))) {
		base = 16;
		w += 2;
	}
	if (!*w)
		return -EINVAL;
	for (; *w; w++) {
		unsigned d;

		if (*w >= '0' && *w <= '9')
			d = (unsigned)(*w - '0');
		else if (base == 16 && *w >= 'a' && *w <= 'f')
			d = (unsigned)(*w - 'a' + 10);
		else if (base == 16 && *w >= 'A' && *w <= 'F')
			d = (unsigned)(*w - 'A' + 10);
		else
			return -EINVAL;
		n = n > (~0ull >> 8) ? ~0ull : n * base + d;
	}
	*out = n;
	return 0;
}

/* One word: its bits, or -EINVAL with the message. */
static int word_bits(const char *w, unsigned *bits, char *msg, size_t msgsize)
{
	const char *name = w;
	unsigned long long n;
	char q[128];

	if (*w >= '0' && *w <= '9') {
		if (parse_number(w, &n) < 0) {
			snprintf(msg, msgsize, "%s is not a number (decimal, or 0x and hex digits)",
				 uev_cfg_quote(w, q, sizeof q));
			return -EINVAL;
		}
		if (n & ~(unsigned long long)UEV_DRM_DEBUG_KNOWN) {
			snprintf(msg, msgsize, "%s has bits outside 0x%x (the categories core to drmres)",
				 uev_cfg_quote(w, q, sizeof q), UEV_DRM_DEBUG_KNOWN);
			return -EINVAL;
		}
		*bits = (unsigned)n;
		return 0;
	}
	if (!strcasecmp(w, "none")) {
		*bits = 0;
		return 0;
	}
	if (!strncasecmp(name, "drm_ut_", 7))
		name += 7;
	for (unsigned i = 0; i < NCAT; i++)
		if (!strcasecmp(name, categories[i])) {
			*bits = 1u << i;
			return 0;
		}
	snprintf(msg, msgsize, "unknown DRM debug category %s (core, driver, kms, prime, atomic, vbl, "
		 "state, lease, dp, drmres, none, or a number like 0x14)", uev_cfg_quote(w, q, sizeof q));
	return -EINVAL;
}

int uev_cfg_drm_parse(const char *v, unsigned *mask, char *msg, size_t msgsize)
{
	unsigned m = 0, bits = 0;
	int words = 0;

	for (const char *p = v + strspn(v, SEPARATORS); *p; p += strspn(p, SEPARATORS)) {
		size_t n = strcspn(p, SEPARATORS);
		char w[WORD_MAX + 1];

		snprintf(w, sizeof w, "%.*s", (int)(n < WORD_MAX ? n : WORD_MAX), p);
		if (n > WORD_MAX) { /* no name is that long, and a number that long is junk */
			char q[128];

			snprintf(msg, msgsize, "%s... is too long for a category or a number",
				 uev_cfg_quote(w, q, sizeof q));
			return -EINVAL;
		}
		if (word_bits(w, &bits, msg, msgsize) < 0)
			return -EINVAL;
		m |= bits;
		words++;
		p += n;
	}
	if (!words) {
		snprintf(msg, msgsize, "no category given (write none for no categories)");
		return -EINVAL;
	}
	*mask = m;
	return 0;
}

const char *uev_drm_debug_names(unsigned long long mask, char *buf, size_t size)
{
	size_t o = 0;

	if (!size)
		return buf;
	buf[0] = '\0';
	if (!mask) {
		snprintf(buf, size, "none");
		return buf;
	}
	for (unsigned i = 0; i < NCAT && o < size; i++)
		if (mask & (1ull << i)) {
			int n = snprintf(buf + o, size - o, "%s%s", o ? " " : "", categories[i]);

			o += n > 0 ? (size_t)n : 0;
		}
	if (o < size && (mask & ~(unsigned long long)UEV_DRM_DEBUG_KNOWN))
		snprintf(buf + o, size - o, "%s0x%llx", o ? " " : "",
			 mask & ~(unsigned long long)UEV_DRM_DEBUG_KNOWN);
	return buf;
}
