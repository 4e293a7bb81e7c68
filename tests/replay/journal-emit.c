/* SPDX-License-Identifier: MIT */
/*
 * replay-journal-emit SEAT RUN-DIR N: N rounds of three typed events whose
 * values are functions of the round number alone (journal.py computes them
 * again): strings with spaces, newlines, tabs, quotes, backslashes, control
 * bytes, UTF-8 and bytes that are not UTF-8; numbers at the ends of every
 * signed and unsigned width; fields named like uev's own journal fields
 * (pid, cpu, comm) and one longer than journald allows. Every N/10 rounds a
 * line to /dev/kmsg (printk:console). Exit 0 when all were emitted.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uev/uev.h>

static struct uev_event jr_str = UEV_EVENT_INIT("jr_str",
	"u32 seq; __rel_loc char[] msg; char[24] tag; __rel_loc char[] empty");
static struct uev_event jr_num = UEV_EVENT_INIT("jr_num",
	"u32 seq; u64 big; s64 neg; s32 s32v; s16 s16v; s8 s8v; u8 u8v; u16 u16v");
static struct uev_event jr_names = UEV_EVENT_INIT("jr_names",
	"u32 seq; s32 pid; u32 cpu; char[16] comm; "
	"u32 a_field_name_that_is_longer_than_journald_takes_for_field_names");

int main(int argc, char **argv)
{
	struct uev_provider_options o = { 0 };
	struct uev_provider *p;
	unsigned n;

	if (argc != 4) {
		fprintf(stderr, "usage: replay-journal-emit SEAT RUN-DIR N\n");
		return 2;
	}
	o.seat = argv[1];
	o.run_dir = argv[2];
	n = (unsigned)atoi(argv[3]);
	if (uev_provider_open(&p, &o) < 0 || uev_event_register(p, &jr_str) < 0 ||
	    uev_event_register(p, &jr_num) < 0 || uev_event_register(p, &jr_names) < 0) {
		fprintf(stderr, "replay-journal-emit: no provider\n");
		return 1;
	}
	for (int i = 0; i < 5000 && !(uev_enabled(&jr_str) && uev_enabled(&jr_num) && uev_enabled(&jr_names)); i++)
		usleep(1000);
	if (!uev_enabled(&jr_str) || !uev_enabled(&jr_num) || !uev_enabled(&jr_names)) {
		fprintf(stderr, "replay-journal-emit: the seat never enabled the events\n");
		return 1;
	}
	for (unsigned s = 0; s < n; s++) {
		char msg[128], tag[24];
		uint64_t big = UINT64_MAX - s;
		int64_t neg = INT64_MIN + s;

		/* the same text journal.py builds */
		snprintf(msg, sizeof(msg), "round %u: a b\nline two\ttab \"q\" \\ \x01 caf\xc3\xa9 \xff end", s);
		snprintf(tag, sizeof(tag), "t%u \xe2\x82\xac", s);
		uev_emit(&jr_str, s, msg, tag, "");
		uev_emit(&jr_num, s, big, neg, (int)(INT32_MIN + (int)s), (int)(-32768 + (int)s), (int)(-128 + (int)(s % 256)),
			 (unsigned)(255 - s % 256), (unsigned)(65535 - s));
		uev_emit(&jr_names, s, -(int)s - 1, s * 7, "cm", s * 3);
		if (s % (n / 10 ? n / 10 : 1) == 0) {
			char line[96];
			int len = snprintf(line, sizeof(line), "<4>uevjournal kmsg %u\n", s);
			int kfd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

			if (kfd < 0 || write(kfd, line, (size_t)len) != len)
				perror("/dev/kmsg");
			if (kfd >= 0)
				close(kfd);
		}
		if (s % 32 == 0)
			usleep(500);
	}
	uev_provider_close(p);
	return 0;
}
