/* SPDX-License-Identifier: MIT */
/*
 * uevq: the qemu guest's probe, linked statically against libuev.a so the
 * guest needs no loader for it. One small verb per thing the guest script
 * must show; every verb prints one "key=value ..." line the script checks.
 *
 *   uevq backend                      which backend libuev picked (UEV_BACKEND unset)
 *   uevq emit EVENT COUNT [WAIT_MS]   register EVENT, wait up to WAIT_MS (default
 *                                     0) for it to be enabled, emit COUNT numbered
 *                                     records ("EVENT #i by uid U"); exit 0 even
 *                                     when nothing could be written (libuev's
 *                                     promise, checked for the unprivileged case)
 *   uevq timeline UEVENT_FILE         emit qemu0_mark "A", write "change" to
 *                                     UEVENT_FILE (a kobject uevent: a pr_debug
 *                                     in lib/kobject_uevent.c), emit "B"; 20 ms
 *                                     apart, as coarse TCG clocks need
 *   uevq as UID GID[,GID...] PROG ARG...
 *                                     run PROG with those ids (first GID is the
 *                                     primary group, the rest supplementary);
 *                                     busybox has no setpriv --reuid
 *   uevq flood EVENT FIRST COUNT      register EVENT, wait up to 2 s for it to be
 *                                     enabled, then emit FIRST, FIRST+1, ... (COUNT
 *                                     of them, 0: until killed) about 1 ms apart,
 *                                     printing "UEVQ-EMIT i" after each write the
 *                                     kernel took: the log a crash test compares
 *   uevq persist NAME FIELDS [hold]   register "NAME FIELDS" with the raw ABI and
 *                                     USER_EVENT_REG_PERSIST (as an older schema's
 *                                     aggregator did), print "persisted NAME", and
 *                                     exit, or with "hold" keep the registration
 *                                     open (the event stays in use) until killed
 *
 * The event definitions here must match the schemas in tests/qemu/guest/ field for
 * field: the aggregator pre-registers those, and the kernel refuses an event
 * of the same name with other fields (EADDRINUSE).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <uev/uev.h>

static struct uev_event events[] = {
	/* seat0's schema (qemu0.uev) */
	UEV_EVENT_INIT("qemu0_mark", "u32 n; __rel_loc char[] text"),
	UEV_EVENT_INIT("qemu0_only", "u32 n; __rel_loc char[] text"),
	/* seat1's schema (qemu1.uev) */
	UEV_EVENT_INIT("qemu1_only", "u32 n; __rel_loc char[] text"),
	/* in no schema: seat0 follows it by its glob qemu_late_* */
	UEV_EVENT_INIT("qemu_late_follow", "u32 n; __rel_loc char[] text"),
	/* seat2's schema (qemu2.uev): the new fields of events that
	 * "uevq persist" registered before with old ones */
	UEV_EVENT_INIT("qemu2_stale", "u32 n; __rel_loc char[] text"),
	UEV_EVENT_INIT("qemu2_busy", "u32 n; __rel_loc char[] text"),
	UEV_EVENT_INIT("qemu2_ok", "u32 n; __rel_loc char[] text"),
};

/* The kernel's user_events ABI (6.4+; PERSIST 6.7+), spelled out here on
 * purpose rather than taken from libuev: this is how another program, or
 * an older aggregator, registers an event. */
struct user_reg {
	uint32_t size;
	uint8_t enable_bit;
	uint8_t enable_size;
	uint16_t flags;
	uint64_t enable_addr;
	uint64_t name_args;
	uint32_t write_index;
} __attribute__((packed));
#define DIAG_IOCSREG _IOWR('*', 0, struct user_reg *)
#define USER_EVENT_REG_PERSIST (1u << 0)

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct uev_event *find(const char *name)
{
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (!strcmp(events[i].name, name))
			return &events[i];
	fprintf(stderr, "uevq: unknown event %s\n", name);
	exit(2);
}

static struct uev_provider *open_provider(void)
{
	struct uev_provider *p;
	int r = uev_provider_open(&p, NULL);

	if (r < 0) {
		/* Only bad arguments make this fail; never a missing right. */
		fprintf(stderr, "uevq: uev_provider_open: %s\n", strerror(-r));
		exit(1);
	}
	return p;
}

static int do_backend(void)
{
	struct uev_provider *p = open_provider();

	printf("backend=%s status=\"%s\"\n", uev_backend_name(uev_provider_backend(p)),
	       uev_provider_status(p));
	uev_provider_close(p);
	return 0;
}

static int do_emit(const char *name, unsigned count, unsigned wait_ms)
{
	struct uev_provider *p = open_provider();
	struct uev_event *ev = find(name);
	uint64_t t0 = now_ms(), enabled_ms;
	unsigned written = 0, failed = 0;
	char text[96], err[256];
	int r, reg;

	r = reg = uev_event_register(p, ev);
	if (r < 0) {
		uev_event_error(ev, err, sizeof(err));
		/* Reported, not fatal: the program runs on with the event off. */
		fprintf(stderr, "uevq: register %s: %s (%s)\n", name, strerror(-r), err);
	}
	while (!uev_enabled(ev) && now_ms() - t0 < wait_ms)
		usleep(5000);
	enabled_ms = now_ms() - t0;
	for (unsigned i = 0; i < count; i++) {
		snprintf(text, sizeof(text), "%s #%u by uid %u", name, i, (unsigned)getuid());
		r = uev_emit(ev, i, text);
		if (r > 0)
			written++;
		else if (r < 0)
			failed++;
	}
	printf("event=%s backend=%s registered=%d enabled=%d enabled_after_ms=%llu written=%u failed=%u of=%u\n",
	       name, uev_backend_name(uev_provider_backend(p)), reg == 0,
	       uev_enabled(ev), uev_enabled(ev) ? (unsigned long long)enabled_ms : 0ull, written, failed,
	       count);
	uev_provider_close(p);
	return 0;
}

static int do_flood(const char *name, unsigned first, unsigned count)
{
	struct uev_provider *p = open_provider();
	struct uev_event *ev = find(name);
	uint64_t t0 = now_ms();
	char text[96];

	if (uev_event_register(p, ev) < 0)
		return 1;
	while (!uev_enabled(ev) && now_ms() - t0 < 2000)
		usleep(5000);
	for (unsigned i = first; count == 0 || i - first < count; i++) {
		snprintf(text, sizeof(text), "%s #%u by uid %u", name, i, (unsigned)getuid());
		if (uev_emit(ev, i, text) > 0)
			printf("UEVQ-EMIT %u\n", i);
		usleep(1000);
	}
	uev_provider_close(p);
	return 0;
}

static int do_timeline(const char *uevent)
{
	struct uev_provider *p = open_provider();
	struct uev_event *ev = find("qemu0_mark");
	int a, b, fd, w;

	uev_event_register(p, ev);
	a = uev_emit(ev, 1u, "A");
	usleep(20000);
	fd = open(uevent, O_WRONLY | O_CLOEXEC);
	w = fd >= 0 && write(fd, "change", 6) == 6;
	if (fd >= 0)
		close(fd);
	usleep(20000);
	b = uev_emit(ev, 2u, "B");
	printf("timeline A=%d uevent=%d B=%d\n", a, w, b);
	uev_provider_close(p);
	return a > 0 && w && b > 0 ? 0 : 1;
}

static int do_persist(const char *name, const char *fields, int hold)
{
	static uint32_t word;
	char def[512];
	struct user_reg r = {
		.size = sizeof(r),
		.enable_size = sizeof(word),
		.flags = USER_EVENT_REG_PERSIST,
		.enable_addr = (uint64_t)(uintptr_t)&word,
		.name_args = (uint64_t)(uintptr_t)def,
	};
	int fd = open("/sys/kernel/tracing/user_events_data", O_RDWR | O_CLOEXEC);

	snprintf(def, sizeof(def), "%s %s", name, fields);
	if (fd < 0 || ioctl(fd, DIAG_IOCSREG, &r) < 0) {
		fprintf(stderr, "uevq persist: %s: %s\n", def, strerror(errno));
		return 1;
	}
	printf("persisted %s write_index=%u%s\n", name, r.write_index, hold ? " held" : "");
	if (hold)
		for (;;)
			pause(); /* SIGTERM ends it, and the kernel drops our reference */
	close(fd);
	return 0;
}

static int do_as(char **argv)
{
	gid_t groups[32];
	unsigned long uid = strtoul(argv[0], NULL, 10);
	char *s = argv[1], *end;
	size_t n = 0;

	while (*s && n < 32) {
		groups[n++] = (gid_t)strtoul(s, &end, 10);
		s = *end == ',' ? end + 1 : end;
		if (end == s && *s)
			break;
	}
	if (!n || setgroups(n - 1, groups + 1) < 0 || setgid(groups[0]) < 0 || setuid((uid_t)uid) < 0) {
		fprintf(stderr, "uevq as: cannot become %s:%s: %s\n", argv[0], argv[1], strerror(errno));
		return 1;
	}
	execv(argv[2], argv + 2);
	fprintf(stderr, "uevq as: %s: %s\n", argv[2], strerror(errno));
	return 127;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "backend"))
		return do_backend();
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "emit"))
		return do_emit(argv[2], (unsigned)strtoul(argv[3], NULL, 10),
			       argc == 5 ? (unsigned)strtoul(argv[4], NULL, 10) : 0);
	if (argc == 5 && !strcmp(argv[1], "flood"))
		return do_flood(argv[2], (unsigned)strtoul(argv[3], NULL, 10), (unsigned)strtoul(argv[4], NULL, 10));
	if (argc == 3 && !strcmp(argv[1], "timeline"))
		return do_timeline(argv[2]);
	if (argc >= 5 && !strcmp(argv[1], "as"))
		return do_as(argv + 2);
	if ((argc == 4 || (argc == 5 && !strcmp(argv[4], "hold"))) && !strcmp(argv[1], "persist"))
		return do_persist(argv[2], argv[3], argc == 5);
	fprintf(stderr, "usage: uevq backend | emit EVENT COUNT [WAIT_MS] | flood EVENT FIRST COUNT |"
			" timeline UEVENT_FILE |"
			" as UID GID[,GID...] PROG ARG... | persist NAME FIELDS [hold]\n");
	return 2;
}
