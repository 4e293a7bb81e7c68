/* SPDX-License-Identifier: MIT */
/*
 * uev-aggregator and the boot's persistent instance (agg.h,
 * [boot] persistent_instance): at start, before anything of the seat is
 * set up, what that instance kept of the previous boot goes into the ring
 * file (boot-import.h); during the run the seat's selection is recorded
 * into it too, and it carries marks naming this ring file and run.
 *
 * RUN-DIR/SEAT.boot holds the boot id whose persistent pages were taken
 * (imported or refused): a restart within the same boot finds its own
 * boot there and neither imports nor clears what the instance recorded
 * since (RUN-DIR is a tmpfs: a reboot empties it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "agg.h"
#include "boot-import.h"
#include "uev-abi.h"

void agg_boot_id(char out[37])
{
	const char *forced = getenv("UEV_BOOT_ID"); /* tests: a boot that is not this one */
	FILE *f;

	out[0] = 0;
	if (forced && *forced) {
		snprintf(out, 37, "%s", forced);
		return;
	}
	if ((f = fopen("/proc/sys/kernel/random/boot_id", "re"))) {
		if (!fgets(out, 37, f))
			out[0] = 0;
		fclose(f);
	}
	out[strcspn(out, "\n")] = 0;
}

static void state_path(const struct agg *a, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s.boot", a->run_dir ? a->run_dir : UEV_RUN_DIR_DEFAULT, a->opt.seat);
}

/* Was this boot's persistent content taken already? */
static int taken_this_boot(const struct agg *a, const char *boot)
{
	char path[4200], got[64] = "";
	FILE *f;

	state_path(a, path, sizeof(path));
	if (!(f = fopen(path, "re")))
		return 0;
	if (!fgets(got, sizeof(got), f))
		got[0] = 0;
	fclose(f);
	got[strcspn(got, "\n")] = 0;
	return !strcmp(got, boot);
}

static void taken_now(const struct agg *a, const char *boot)
{
	const char *dir = a->run_dir ? a->run_dir : UEV_RUN_DIR_DEFAULT;
	char path[4200], tmp[4300];
	FILE *f;

	/* the first start of a boot comes before anything else made it */
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		fprintf(stderr, "uev-aggregator: %s: cannot create: %s; a restart in this boot will take the "
			"persistent instance again\n", dir, strerror(errno));
	state_path(a, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "we")))
		return;
	fprintf(f, "%s\n", boot);
	if (fclose(f) == 0)
		rename(tmp, path);
}

static void say(const struct agg *a, const char *fmt, const char *a1, const char *a2)
{
	fprintf(stderr, "uev-aggregator: seat %s: persistent instance %s: ", a->opt.seat, a->boot.name);
	fprintf(stderr, fmt, a1, a2);
	fputc('\n', stderr);
}

/* The ring file's uuid, or -errno (no file yet: nothing can match). */
static int ring_uuid(const struct agg *a, uint8_t uuid[16])
{
	struct uev_ring_reader *r;
	char err[512];
	int ret = uev_ring_reader_open(&r, a->cfg.ring_path, NULL, NULL, err, sizeof(err));

	if (ret < 0)
		return ret;
	memcpy(uuid, uev_ring_reader_super(r)->uuid, 16);
	uev_ring_reader_close(r);
	return 0;
}

/* Whether the mark found in the instance names a run of this ring file of
 * a boot before this one, on this kernel: the only pages decoded right
 * with that run's formats. NULL yes, else why not (@buf). */
static const char *refusal(const struct agg *a, const struct uev_boot_found *f, char *buf, size_t size)
{
	struct utsname u;
	uint8_t uuid[16];

	if (uname(&u) == 0 && strcmp(u.release, f->mark.release)) {
		snprintf(buf, size, "they were recorded by kernel %s, this is %s", f->mark.release, u.release);
		return buf;
	}
	if (ring_uuid(a, uuid) < 0 || memcmp(uuid, f->mark.file_uuid, 16)) {
		snprintf(buf, size, "the run that recorded them wrote another ring file than %s", a->cfg.ring_path);
		return buf;
	}
	return NULL;
}

static int import(struct agg *a, struct uev_snapshot *snap, const struct uev_boot_found *f)
{
	/* its own writer session: no stage (the run's comes after), and never
	 * --recreate (that is for the run's open) */
	struct uev_ring_create rc = agg_ring_create(a);
	struct uev_boot_cut_stats st;
	struct uev_boot_clockmap map;
	struct uev_boot_prev p;
	struct uev_ring_writer *w;
	uint64_t first = uev_boot_first_ts(snap), from = 0;
	char err[1024] = "", why[5200], *klog;
	struct uev_boot_loss loss[64];
	size_t nloss = 0;
	unsigned discarded = 0, cleared = 0;
	int r;

	/* What the file holds of that boot from the instance's oldest event
	 * on (in the run's clock): the copies to leave out are among them. */
	uev_boot_clockmap_init(&map, f->mark.run_clock, f->mark.clock, f->sync, f->nsync);
	/* (a second early: the mapping is good to a few ms, and a few more
	 * events collected cost nothing) */
	if (map.kind != UEV_BOOT_MAP_WALL && first != UINT64_MAX)
		from = uev_boot_to_run(&map, first) - 1000000000ull;
	if (from > UINT64_MAX - 1000000000ull)
		from = 0;
	if ((r = uev_boot_prev_load(a->cfg.ring_path, f->mark.run_id, f->mark.boot_id, from, &p, err,
				    sizeof(err))) < 0) {
		say(a, "not imported: %s", err, NULL);
		return 0;
	}
	map.run_sync = p.sync;
	for (size_t i = 0; i < p.nseen; i++)
		p.seen[i].ts = uev_boot_to_inst(&map, p.seen[i].ts);
	p.mark_type = f->type;
	if (strcmp(p.info.boot_id, f->mark.boot_id) || strcmp(p.info.kernel_release, f->mark.release) ||
	    (uint32_t)f->pid != p.info.aggregator_pid) {
		snprintf(why, sizeof(why), "run %llu of %s is of boot %s, kernel %s, aggregator %u; the mark names "
			 "boot %s, kernel %s, written by pid %d", (unsigned long long)p.run_id, a->cfg.ring_path,
			 p.info.boot_id, p.info.kernel_release, p.info.aggregator_pid, f->mark.boot_id,
			 f->mark.release, f->pid);
		say(a, "not imported, nothing of it decoded: %s", why, NULL);
		uev_boot_prev_free(&p);
		return 0;
	}
	/* The recovered run's times are the instance's clock, put on the wall
	 * clock by the newest mark. */
	snprintf(p.info.trace_clock, sizeof(p.info.trace_clock), "%s", f->mark.clock);
	if (f->nsync) {
		const struct uev_boot_sync *k = &f->sync[f->nsync - 1];

		p.sync = (struct uev_ring_sync){ k->ts, k->real_ns, k->mono_ns, k->boot_ns };
		p.have_sync = 1;
	}
	/* What the kernel dropped of it when it took the ring over at boot. */
	if ((klog = uev_boot_klog_read()))
		nloss = uev_boot_klog_parse(klog, loss, 64);
	free(klog);
	for (size_t i = 0; i < nloss; i++) {
		if (loss[i].pages)
			discarded += loss[i].pages;
		else
			cleared++;
	}
	if ((r = uev_boot_cut(snap, &p, &st)) == 0 && (r = uev_ring_writer_open(&w, &rc, err, sizeof(err))) == 0)
		r = uev_boot_write(w, &p, snap, &st, loss, nloss);
	else if (r != -ENOMEM && r < 0 && !err[0])
		snprintf(err, sizeof(err), "%s", strerror(-r));
	if (r < 0) {
		say(a, "import failed: %s", err[0] ? err : strerror(-r), NULL);
	} else {
		fprintf(stderr, "uev-aggregator: seat %s: persistent instance %s: %llu events of boot %s "
			"(run %llu) recovered from kernel memory, %llu the file held already left out "
			"(on %u CPUs, clocks %+.3f ms apart), %llu lost in the kernel%s; at boot the kernel "
			"dropped %u sub-buffers it could not validate and cleared %u CPUs' part\n",
			a->opt.seat, a->boot.name, (unsigned long long)st.events, p.info.boot_id,
			(unsigned long long)p.run_id, (unsigned long long)st.events_dup, st.cpus_dup,
			(double)st.clock_offset_ns / 1e6,
			(unsigned long long)st.missed, st.missed_unknown ? " (and more it could not count)" : "",
			discarded, cleared);
	}
	uev_boot_prev_free(&p);
	return 0;
}

int agg_boot_import(struct agg *a)
{
	struct uev_snapshot snap;
	struct uev_boot_found f;
	char boot[37], err[1024], why[4800];
	const char *no;
	int r;

	if (!a->cfg.boot_instance[0])
		return 0;
	agg_boot_id(boot);
	if ((r = uev_boot_ring_open(&a->boot, a->cfg.boot_instance, err, sizeof(err))) < 0) {
		fprintf(stderr, "uev-aggregator: seat %s: [boot] persistent_instance: %s; the seat records "
			"without it\n", a->opt.seat, err);
		return 0;
	}
	a->boot_clear = !taken_this_boot(a, boot);
	if (!a->boot_clear)
		return 0; /* a restart: what it holds is this boot's, recorded since */
	if ((r = uev_boot_ring_take(&a->boot, &snap)) < 0) {
		say(a, "cannot read it: %s", strerror(-r), NULL);
		uev_snapshot_free(&snap);
		taken_now(a, boot);
		return 0;
	}
	r = uev_boot_ring_find_mark(&snap, &f);
	if (!snap.npages) {
		/* empty: a cold boot, or the kernel refused what was there */
	} else if (r <= 0) {
		char n[32];

		snprintf(n, sizeof(n), "%zu", snap.npages);
		say(a, "not imported, nothing of it decoded: it holds %s pages but no uev mark, so no "
		    "run says which boot and event formats they are from%s", n,
		    r < 0 ? " (the marks could not be looked for)" : "");
	} else if (!strcmp(f.mark.boot_id, boot)) {
		/* this boot's own: recorded by a run of this boot, whose state went */
	} else if ((no = refusal(a, &f, why, sizeof(why)))) {
		say(a, "not imported, nothing of it decoded: %s", no, NULL);
	} else {
		import(a, &snap, &f);
	}
	uev_snapshot_free(&snap);
	uev_boot_found_free(&f);
	taken_now(a, boot);
	return 0;
}

int agg_boot_arm(struct agg *a)
{
	struct uev_boot_mark m = { .version = 2 };
	struct utsname u;
	int r;

	if (!a->boot.inst)
		return 0;
	if ((r = uev_boot_ring_arm(&a->boot, &a->cfg, a->boot_clear, a->err, sizeof(a->err))) < 0 ||
	    (r = uev_userev_mirror(&a->userev, a->boot.inst)) < 0) {
		fprintf(stderr, "uev-aggregator: seat %s: persistent instance %s: %s; the seat records without "
			"it\n", a->opt.seat, a->boot.name, r == -EIO && !a->err[0] ? "cannot enable user events" : a->err);
		a->err[0] = 0;
		uev_boot_ring_close(&a->boot);
		return 0;
	}
	memcpy(m.file_uuid, uev_ring_writer_super(a->w)->uuid, 16);
	m.run_id = uev_ring_writer_run_id(a->w);
	agg_boot_id(m.boot_id);
	snprintf(m.clock, sizeof(m.clock), "%s", UEV_BOOT_CLOCK);
	snprintf(m.run_clock, sizeof(m.run_clock), "%s", a->cfg.clock);
	if (uname(&u) == 0)
		snprintf(m.release, sizeof(m.release), "%s", u.release);
	a->boot_mark = m;
	return agg_boot_mark(a);
}

int agg_boot_mark(struct agg *a)
{
	int r;

	if (!a->boot.inst)
		return 0;
	a->boot_marked = time(NULL);
	if ((r = uev_boot_ring_mark(&a->boot, &a->boot_mark)) < 0 && !a->boot_mark_warned++)
		fprintf(stderr, "uev-aggregator: seat %s: persistent instance %s: cannot write a mark: %s\n",
			a->opt.seat, a->boot.name, strerror(-r));
	return r;
}
