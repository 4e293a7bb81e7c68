/* SPDX-License-Identifier: MIT */
/*
 * Incident jobs (incidents.h). Only the hit queue is shared with the
 * drain's thread (a mutex held for a copy); everything else belongs to the
 * control thread. A job never blocks the drain: it asks for flushes through
 * the drain's flush_req/flush_done pair and SIGUSR1, which the drain's
 * signalfd takes like an operator's.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "incident.h"
#include "incidents.h"
#include "uev-decode.h"

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int uev_incidents_init(struct uev_incidents *m, const struct uev_config *c, const char *ring_path,
		       uint64_t run_id, const char *clock_name, uev_incident_done_fn done, void *ctx)
{
	const struct uev_clock_info *ci = uev_clock_find(clock_name);

	memset(m, 0, sizeof *m);
	m->cfg = c;
	m->ring_path = ring_path;
	m->run_id = run_id;
	m->clock = ci && ci->method == UEV_SYNC_GETTIME ? ci->id : (clockid_t)-1;
	m->done = done;
	m->done_ctx = ctx;
	m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->wake_fd < 0)
		return -errno;
	pthread_mutex_init(&m->lock, NULL);
	return 0;
}

void uev_incidents_fini(struct uev_incidents *m)
{
	for (int i = 0; i < UEV_INCIDENT_JOBS; i++)
		if (m->job[i].used) {
			uev_bundle_free(m->job[i].b);
			if (m->job[i].client && m->done)
				m->done(m->done_ctx, m->job[i].client, -ESHUTDOWN, NULL, -1, 0,
					"the aggregator stopped before the bundle was complete");
		}
	if (m->wake_fd >= 0)
		close(m->wake_fd);
	pthread_mutex_destroy(&m->lock);
	memset(m, 0, sizeof *m);
	m->wake_fd = -1;
}

void uev_incidents_hit(void *ctx, const struct uev_trigger_hit *hit)
{
	struct uev_incidents *m = ctx;
	uint64_t one = 1;

	pthread_mutex_lock(&m->lock);
	if (m->nhits < UEV_INCIDENT_JOBS)
		m->hits[m->nhits++] = *hit;
	else
		m->lost_hits++;
	pthread_mutex_unlock(&m->lock);
	if (write(m->wake_fd, &one, sizeof one) < 0)
		(void)0; /* the counter is full: a wake is pending anyway */
}

/* Ask the drain for a flush; the job waits for flush_done to reach it. */
static unsigned long long ask_flush(struct uev_incidents *m)
{
	unsigned long long gen = atomic_fetch_add(&m->flush_req, 1) + 1;

	kill(getpid(), SIGUSR1);
	return gen;
}

static struct uev_incident_job *job_new(struct uev_incidents *m)
{
	for (int i = 0; i < UEV_INCIDENT_JOBS; i++)
		if (!m->job[i].used) {
			memset(&m->job[i], 0, sizeof m->job[i]);
			m->job[i].used = 1;
			return &m->job[i];
		}
	return NULL;
}

static void job_start(struct uev_incidents *m, struct uev_incident_job *j, uint64_t trigger_ns)
{
	j->trigger_ns = trigger_ns;
	j->trigger_real_ns = clock_ns(CLOCK_REALTIME);
	/* A trigger is found a flush after its event: its wall time is the
	 * event's, through the trace clock's userspace twin when it has one. */
	if (m->clock != (clockid_t)-1) {
		uint64_t t = clock_ns(m->clock);

		if (t >= trigger_ns && t - trigger_ns < j->trigger_real_ns)
			j->trigger_real_ns -= t - trigger_ns;
	}
	j->phase = 1;
	j->gen = ask_flush(m);
}

int uev_incidents_request(struct uev_incidents *m, uint64_t client, const char *reason, const char *who)
{
	struct uev_incident_job *j = job_new(m);
	uint64_t now;

	if (!j) {
		m->refused++;
		return -EBUSY;
	}
	j->client = client;
	snprintf(j->reason, sizeof j->reason, "%s", reason && *reason ? reason : "snapshot");
	snprintf(j->what, sizeof j->what, "snapshot by %s", who);
	/* Without a userspace twin of the trace clock, "now" is the newest
	 * page the capture took: at most a flush interval early. */
	now = m->clock != (clockid_t)-1 ? clock_ns(m->clock) : atomic_load(&m->newest_ns);
	job_start(m, j, now);
	return 0;
}

void uev_incidents_forget(struct uev_incidents *m, uint64_t client)
{
	for (int i = 0; i < UEV_INCIDENT_JOBS; i++)
		if (m->job[i].used && m->job[i].client == client)
			m->job[i].client = 0;
}

unsigned uev_incidents_running(const struct uev_incidents *m)
{
	unsigned n = 0;

	for (int i = 0; i < UEV_INCIDENT_JOBS; i++)
		n += m->job[i].used;
	return n;
}

static void job_fail(struct uev_incidents *m, struct uev_incident_job *j, int err, const char *msg)
{
	m->failed++;
	snprintf(m->last_err, sizeof m->last_err, "%s", msg);
	fprintf(stderr, "uev-aggregator: seat %s: incident bundle failed: %s\n", m->cfg->seat, msg);
	if (j->client && m->done)
		m->done(m->done_ctx, j->client, err, NULL, -1, 0, msg);
	uev_bundle_free(j->b);
	j->used = 0;
}

/* SEAT-YYYYmmddTHHMMSS.mmmZ-N.uevb: sorts by time, unique within a second. */
static void job_name(const struct uev_incidents *m, const struct uev_incident_job *j, char *name, size_t size)
{
	time_t t = (time_t)(j->trigger_real_ns / 1000000000ull);
	struct tm tm;
	char stamp[32];

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
	snprintf(name, size, "%s-%s.%03uZ-%u.uevb", m->cfg->seat, stamp,
		 (unsigned)(j->trigger_real_ns / 1000000ull % 1000), (unsigned)(j - m->job));
}

static void job_finish(struct uev_incidents *m, struct uev_incident_job *j)
{
	struct uev_incident_info info = { 0 };
	char name[160], path[4400], err[512] = "";
	uint64_t bytes = 0, dropped_bytes = 0;
	unsigned dropped = 0;
	int r, fd = -1;

	job_name(m, j, name, sizeof name);
	info.reason = j->reason;
	info.trigger = j->what;
	info.trigger_ns = j->trigger_ns;
	info.trigger_realtime_ns = j->trigger_real_ns;
	if ((r = uev_bundle_collect(j->b, err, sizeof err)) < 0 ||
	    (r = uev_bundle_finish(j->b, m->cfg->incident_dir, name, &info, &bytes, err, sizeof err)) < 0) {
		job_fail(m, j, r, err);
		return;
	}
	snprintf(path, sizeof path, "%s/%s", m->cfg->incident_dir, name);
	if (j->client)
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	/* Bounded after the new one is in: it counts against the limits,
	 * and is never the one dropped while an older one is there. */
	if (uev_incident_prune(m->cfg->incident_dir, m->cfg->incident_max_count, m->cfg->incident_max_size,
			       &dropped, &dropped_bytes, err, sizeof err) < 0)
		fprintf(stderr, "uev-aggregator: seat %s: %s\n", m->cfg->seat, err);
	m->dropped += dropped;
	m->dropped_bytes += dropped_bytes;
	if (dropped)
		fprintf(stderr, "uev-aggregator: seat %s: %u older incident bundle%s removed (%llu bytes): "
			"[incident] max_count %u, max_size %llu\n", m->cfg->seat, dropped, dropped == 1 ? "" : "s",
			(unsigned long long)dropped_bytes, m->cfg->incident_max_count,
			(unsigned long long)m->cfg->incident_max_size);
	m->written++;
	snprintf(m->last, sizeof m->last, "%s", name);
	fprintf(stderr, "uev-aggregator: seat %s: incident bundle %s (%llu bytes): %s%s%s\n", m->cfg->seat, path,
		(unsigned long long)bytes, j->what, j->reason[0] ? ": " : "", j->reason);
	if (m->done)
		m->done(m->done_ctx, j->client, fd < 0 && j->client ? -errno : 0, name, fd, bytes, j->reason);
	uev_bundle_free(j->b);
	j->used = 0;
}

/* The job's bundle, of the window [trigger - before_s, trigger + after_s]. */
static int job_begin(struct uev_incidents *m, struct uev_incident_job *j, char *err, size_t errsize)
{
	uint64_t before = (uint64_t)m->cfg->incident_before_s * 1000000000ull;
	uint64_t after = (uint64_t)m->cfg->incident_after_s * 1000000000ull;

	return uev_bundle_begin(&j->b, m->ring_path, m->run_id, j->trigger_ns > before ? j->trigger_ns - before : 0,
				j->trigger_ns + after, m->cfg->incident_dir, err, errsize);
}

static void job_step(struct uev_incidents *m, struct uev_incident_job *j, int64_t now, int *timeout_ms)
{
	unsigned long long done = atomic_load(&m->flush_done);
	uint64_t after = (uint64_t)m->cfg->incident_after_s * 1000000000ull;
	char err[512] = "";
	int r;

	if ((j->phase == 1 || j->phase == 3) && done < j->gen) {
		*timeout_ms = *timeout_ms < 0 || *timeout_ms > 20 ? 20 : *timeout_ms;
		return;
	}
	if (j->phase == 1) {
		r = mkdir(m->cfg->incident_dir, 0750);
		if (r < 0 && errno != EEXIST) {
			snprintf(err, sizeof err, "%.400s: cannot create it: %s", m->cfg->incident_dir, strerror(errno));
			job_fail(m, j, -errno, err);
			return;
		}
		if ((r = job_begin(m, j, err, sizeof err)) < 0 || (r = uev_bundle_collect(j->b, err, sizeof err)) < 0) {
			job_fail(m, j, r, err);
			return;
		}
		j->phase = 2;
		/* The window ends at trigger + after on the trace clock: a
		 * trigger found a flush late waits that much less. */
		j->due_mono_ns = now + (int64_t)after;
		if (m->clock != (clockid_t)-1) {
			uint64_t t = clock_ns(m->clock), end = j->trigger_ns + after;

			j->due_mono_ns = now + (end > t ? (int64_t)(end - t) : 0);
		}
	}
	if (j->phase == 2) {
		int64_t left = j->due_mono_ns - now;

		if (left > 0) {
			int ms = (int)(left / 1000000) + 1;

			*timeout_ms = *timeout_ms < 0 || *timeout_ms > ms ? ms : *timeout_ms;
			return;
		}
		j->phase = 3;
		j->gen = ask_flush(m);
		*timeout_ms = *timeout_ms < 0 || *timeout_ms > 20 ? 20 : *timeout_ms;
		return;
	}
	job_finish(m, j);
}

void uev_incidents_complete(struct uev_incidents *m)
{
	char err[512] = "";
	int r;

	for (int i = 0; i < UEV_INCIDENT_JOBS; i++) {
		struct uev_incident_job *j = &m->job[i];

		if (!j->used)
			continue;
		if (!j->b && (r = job_begin(m, j, err, sizeof err)) < 0) {
			job_fail(m, j, r, err);
			continue;
		}
		job_finish(m, j);
	}
}

void uev_incidents_step(struct uev_incidents *m, int *timeout_ms)
{
	struct uev_trigger_hit hits[UEV_INCIDENT_JOBS];
	unsigned n;
	uint64_t v;
	int64_t now = mono_ns();

	if (read(m->wake_fd, &v, sizeof v) < 0)
		(void)0; /* EAGAIN: woken by something else */
	pthread_mutex_lock(&m->lock);
	n = m->nhits;
	memcpy(hits, m->hits, n * sizeof *hits);
	m->nhits = 0;
	pthread_mutex_unlock(&m->lock);
	for (unsigned i = 0; i < n; i++) {
		struct uev_incident_job *j = job_new(m);

		if (!j) {
			m->refused++;
			continue;
		}
		snprintf(j->what, sizeof j->what, "%s", hits[i].what);
		snprintf(j->reason, sizeof j->reason, "trigger %.190s", hits[i].spec);
		job_start(m, j, hits[i].trace_ns);
	}
	*timeout_ms = -1;
	for (int i = 0; i < UEV_INCIDENT_JOBS; i++)
		if (m->job[i].used)
			job_step(m, &m->job[i], now, timeout_ms);
}
