/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event-parse.h>
#include <tracefs.h>

#include "ktest.h"
#include "uev-seat.h"
#include "uev-abi.h"

static int counter;
static char prefix[32];

static const char *run_prefix(void);

void ktest_require_root_tracefs(void)
{
	run_prefix(); /* fixed in the parent, before Check forks the tests */
	if (geteuid() != 0 || !tracefs_tracing_dir()) {
		printf("SKIP: needs root and tracefs (euid %d)\n", (int)geteuid());
		exit(77);
	}
}

uint64_t ktest_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *run_prefix(void)
{
	if (!prefix[0])
		snprintf(prefix, sizeof(prefix), "t%d_", (int)getpid());
	return prefix;
}

void ktest_seat_new(struct uev_seat *s, char *run_dir, size_t size, int start)
{
	char name[64], err[1200];

	/* Names carry the pid of the test program (Check forks each test:
	 * the parent's pid is what ktest_cleanup() looks for). */
	snprintf(name, sizeof(name), "%s%d_%d", run_prefix(), (int)getpid(), counter++);
	snprintf(run_dir, size, "/tmp/uevtest.%s", name);
	if (start < 0) /* the caller only wants the names */
		return;
	if (uev_seat_open(s, name, run_dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "seat %s: %s\n", name, err);
		abort();
	}
	tracefs_instance_file_write(s->instance, "trace_clock", "mono");
	tracefs_instance_set_buffer_size(s->instance, 8192, -1);
	if (start && uev_seat_markers_start(s) < 0)
		abort();
}

void ktest_cleanup(void)
{
	char path[512];
	struct dirent *de;
	DIR *d = opendir("/sys/kernel/tracing/instances");
	size_t plen = strlen(UEV_INSTANCE_PREFIX) + strlen(run_prefix());

	for (; d && (de = readdir(d));) {
		char want[64];

		snprintf(want, sizeof(want), UEV_INSTANCE_PREFIX "%s", run_prefix());
		if (strncmp(de->d_name, want, plen))
			continue;
		struct tracefs_instance *i = tracefs_instance_alloc(NULL, de->d_name);

		if (i) {
			tracefs_instance_destroy(i);
			tracefs_instance_free(i);
		}
		snprintf(path, sizeof(path), "rm -rf /tmp/uevtest.%s", de->d_name + strlen(UEV_INSTANCE_PREFIX));
		if (system(path) != 0)
			fprintf(stderr, "cleanup: %s failed\n", path);
	}
	if (d)
		closedir(d);
	snprintf(path, sizeof(path), "rm -rf /tmp/uevtest.%s*", run_prefix());
	if (system(path) != 0)
		fprintf(stderr, "cleanup: %s failed\n", path);
}

static int keep(void *ctx, const struct uev_rec *r)
{
	struct krecs *out = ctx;
	struct krec *k;

	if (out->n == out->cap) {
		out->cap = out->cap ? out->cap * 2 : 4096;
		out->v = realloc(out->v, out->cap * sizeof(*out->v));
		if (!out->v)
			abort();
	}
	k = &out->v[out->n++];
	memset(k, 0, sizeof(*k));
	k->kind = r->kind;
	k->cpu = r->cpu;
	k->pid = r->pid;
	k->ts = r->ts;
	k->missed = r->missed;
	snprintf(k->name, sizeof(k->name), "%s", r->name);
	if (r->kind != UEV_REC_USER || !r->def)
		return 0;
	k->nfields = r->def->nfields;
	for (unsigned i = 0; i < r->def->nfields; i++) {
		const char *s = NULL;
		size_t n = 0;
		int t = uev_payload_field(r->def, r->payload, r->len, i, &k->num[i], &s, &n);

		if (t < 0)
			k->bad = 1;
		else if (s)
			k->str[i] = strndup(s, n);
	}
	return 0;
}

void ktest_read(struct uev_seat *s, struct krecs *out)
{
	static const char *systems[] = { "ftrace", NULL };
	struct tep_handle *tep = uev_formats_load(systems);
	struct uev_decoder *dec;

	memset(out, 0, sizeof(*out));
	if (!tep || uev_decoder_new(&dec, tep) < 0)
		abort();
	struct uev_snapshot snap;

	if (uev_snapshot_take(s, &snap) < 0 || uev_snapshot_decode(&snap, dec, keep, out) < 0)
		abort();
	uev_snapshot_free(&snap);
	uev_decoder_free(dec);
	tep_free(tep);
}

void ktest_free(struct krecs *r)
{
	for (size_t i = 0; i < r->n; i++)
		for (unsigned f = 0; f < r->v[i].nfields; f++)
			free(r->v[i].str[f]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

size_t ktest_count(const struct krecs *r, enum uev_rec_kind kind, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->v[i].kind == kind && (!name || !strcmp(r->v[i].name, name));
	return n;
}

int ktest_run(Suite *su)
{
	SRunner *sr = srunner_create(su);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	ktest_cleanup();
	return failed ? 1 : 0;
}
