/* SPDX-License-Identifier: MIT */
/* The kernel's word on a persistent ring it took over (boot-klog.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot-klog.h"
#include "uev-grow.h"

/* One message: NULL-terminated line at @s. */
static int parse_line(const char *s, struct uev_boot_loss *l)
{
	const char *p;
	unsigned cpu, pages;

	if ((p = strstr(s, "Ring buffer meta [")) && sscanf(p, "Ring buffer meta [%u]", &cpu) == 1) {
		const char *d = strstr(p, "pages discarded)");

		if (strstr(p, "is from previous boot!")) {
			if (!d)
				return 0;
			while (d > p && d[-1] == ' ')
				d--;
			while (d > p && d[-1] >= '0' && d[-1] <= '9')
				d--;
			if (sscanf(d, "%u", &pages) != 1 || !pages)
				return 0;
			*l = (struct uev_boot_loss){ cpu, pages };
			return 1;
		}
		/* "commit page not found", "invalid buffer page": cleared whole */
		if (strstr(p, "not found") || (strstr(p, "invalid buffer page") && !strstr(p, "detected"))) {
			*l = (struct uev_boot_loss){ cpu, 0 };
			return 1;
		}
		return 0;
	}
	/* 6.12's checks of the meta data: the CPU's part cleared whole; a
	 * magic that does not match is a buffer that held nothing before */
	if ((p = strstr(s, "Ring buffer boot meta [")) && sscanf(p, "Ring buffer boot meta [%u]", &cpu) == 1 &&
	    !strstr(p, "mismatch of magic")) {
		*l = (struct uev_boot_loss){ cpu, 0 };
		return 1;
	}
	return 0;
}

size_t uev_boot_klog_parse(const char *text, struct uev_boot_loss *out, size_t max)
{
	size_t n = 0;

	while (text && *text && n < max) {
		const char *e = strchr(text, '\n');
		size_t len = e ? (size_t)(e - text) : strlen(text);
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) - 1 ? len : sizeof(line) - 1), text);
		n += (size_t)parse_line(line, &out[n]);
		text += len + (e ? 1 : 0);
	}
	return n;
}

char *uev_boot_klog_read(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char rec[8192], *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t got;

	if (fd < 0)
		return NULL;
	/* one record per read; "level,seq,time,flags;text" */
	while ((got = read(fd, rec, sizeof(rec) - 1)) > 0 || (got < 0 && errno == EPIPE)) {
		const char *text;
		char *nl;

		if (got < 0)
			continue; /* overwritten while read: the next one */
		rec[got] = 0;
		if (!(text = strchr(rec, ';')))
			continue;
		text++;
		if ((nl = strchr(text, '\n')))
			*nl = 0;
		if (UEV_GROW(buf, cap, len + strlen(text) + 2) < 0) {
			free(buf);
			close(fd);
			errno = ENOMEM;
			return NULL;
		}
		len += (size_t)sprintf(buf + len, "%s\n", text);
	}
	close(fd);
	if (!buf && (buf = malloc(1)))
		buf[0] = 0;
	return buf;
}
