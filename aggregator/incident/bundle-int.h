/* SPDX-License-Identifier: MIT */
/*
 * Incident bundles, the parts' shared view (incident.h is the API).
 *
 * The scratch file holds what collect copied, in the order the bundle is
 * to hold it: records of the ring's types (RUN_START, SYNC, FORMAT,
 * ANNOUNCE, COMM, PAGE, LOST, RUN_END), each a header {u16 type, u16 cpu,
 * u32 len, u64 run_id} and its payload padded to 8 bytes, in this
 * machine's byte order (it never leaves the process). finish() replays it
 * into a ring writer.
 */
#ifndef UEV_BUNDLE_INT_H
#define UEV_BUNDLE_INT_H

#include <stdio.h>
#include <stdint.h>

#include "incident.h"
#include "uev-decode.h"

struct scr_hdr {
	uint16_t type, cpu;
	uint32_t len;
	uint64_t run_id;
};

/* A run's metadata as the source has given it so far (bundle-meta.c):
 * what a checkpoint of it in the bundle must hold. */
struct meta_blob {
	uint16_t type;
	uint32_t key; /* FORMAT: kind << 24 ^ id; ANNOUNCE: id */
	uint32_t len;
	uint8_t *p;
};
struct meta_comm {
	int32_t pid;
	char comm[16];
};
struct run_meta {
	uint64_t run_id; /* 0: none known */
	uint8_t *run_start;
	uint32_t run_start_len;
	struct uev_ring_run_start_rec rs;
	struct meta_blob *blob;
	size_t nblob, capblob;
	struct meta_comm *comm; /* sorted by pid */
	size_t ncomm, capcomm;
	uint8_t sync[32];
	int have_sync;
};

/* Runs whose checkpoint the scratch holds, and a qualifying run's key. */
struct bundle_run {
	uint64_t run_id;
	char boot_id[37], clock[16];
};

struct uev_bundle {
	char *path;
	char seat[64]; /* the source's, from its superblock */
	uint64_t run_id, from_ns, to_ns;
	FILE *scr;
	/* (seq, sub) of the last record a collect read: the next one copies
	 * only what comes after */
	uint64_t last_seq;
	uint32_t last_sub;
	int have_last;
	struct bundle_run *runs; /* checkpoints written, in order */
	size_t nruns, capruns;
	/* Earlier runs copied but not yet known to share @run_id's boot and
	 * clock: they start at scratch offset pend_off, at runs[pend_run]. */
	int pending;
	long long pend_off;
	size_t pend_run;
	int finished;
	unsigned collects;
	struct uev_bundle_stats st;
};

/* bundle-meta.c */
void meta_reset(struct run_meta *m, uint64_t run_id);
void meta_free(struct run_meta *m);
/* Learn a metadata record of the run (RUN_START, SYNC, FORMAT, ANNOUNCE,
 * COMM; others are ignored). 0, -ENOMEM. */
int meta_learn(struct run_meta *m, const struct uev_ring_rec *rec);
/* The name @m knows for @pid, NULL for none. */
const char *meta_name(const struct run_meta *m, int32_t pid);
/* Write the run's checkpoint (RUN_START, latest SYNC, FORMATs, ANNOUNCEs,
 * every name known) into the scratch. 0, -errno. */
int meta_put_checkpoint(const struct run_meta *m, FILE *scr);

/* bundle-scratch.c */
int scr_put(FILE *scr, uint16_t type, uint16_t cpu, uint64_t run_id, const void *p, uint32_t len);
/* The next record: 1 with *h and the payload in *buf (grown), 0 at the
 * end, -EIO for a scratch that does not read back. */
int scr_next(FILE *scr, struct scr_hdr *h, uint8_t **buf, size_t *cap);

/* bundle-collect.c: the pids a page's events name (common_pid, at body
 * offset 4 in every kernel's common fields), each handed to @fn. */
int bundle_page_pids(struct kbuffer *kb, void *page, int (*fn)(void *ctx, int32_t pid), void *ctx);

#endif
