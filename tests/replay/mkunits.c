/* SPDX-License-Identifier: MIT */
/*
 * replay-mkunits IN OUT [PER]: the ring file IN written again as OUT (a new
 * file of IN's size) through the ring writer, with its PAGE records packed
 * into UNIT records: each stretch of consecutive PAGEs of one CPU, at most
 * PER pages (default 8), becomes one unit (zstd level 1). Everything else
 * (RUN_START, SYNC, FORMAT, ANNOUNCE, COMM, LOST, RUN_END) is written as it
 * was, in the same order, so the pages keep their place among the
 * metadata and losses. A reader must then show OUT exactly as IN
 * (tests/replay/units.sh): the oracle is the file without units.
 *
 * IN must hold one run that ended cleanly (the writer closes a run with
 * RUN_END), and read without a report: anything else is refused (exit 2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringfile.h"

#define PER_MAX 64

static struct uev_ring_writer *w;
static struct uev_ring_page_in batch[PER_MAX];
static unsigned nbatch, batch_cpu, per = 8;
static uint64_t units;

static void die(const char *what, int e)
{
	fprintf(stderr, "replay-mkunits: %s: %s\n", what, strerror(-e));
	exit(2);
}

static void report(void *ctx, enum uev_ring_report_kind kind, uint64_t off, const char *msg)
{
	(void)ctx, (void)kind;
	fprintf(stderr, "replay-mkunits: IN at %llu: %s\n", (unsigned long long)off, msg);
	exit(2);
}

static void flush_batch(void)
{
	int e;

	if (!nbatch)
		return;
	while ((e = uev_ring_writer_unit(w, batch_cpu, batch, nbatch, 1)) == -ENOBUFS)
		if ((e = uev_ring_writer_flush(w)) < 0)
			die("flush", e);
	if (e < 0)
		die("unit", e);
	for (unsigned i = 0; i < nbatch; i++)
		free((void *)batch[i].data);
	nbatch = 0;
	units++;
}

static void add_page(const struct uev_ring_rec *rec)
{
	void *copy = malloc(rec->len);

	if (!copy)
		die("page", -ENOMEM);
	if (nbatch && (batch_cpu != rec->cpu || nbatch == per))
		flush_batch();
	memcpy(copy, rec->payload, rec->len);
	batch_cpu = rec->cpu;
	batch[nbatch++] = (struct uev_ring_page_in){ copy, rec->len };
}

/* Retry an append after writing out what is pending (-ENOBUFS). */
#define APPEND(call)                                                                 \
	do {                                                                         \
		int e_ = (call);                                                     \
		if (e_ == -ENOBUFS && (e_ = uev_ring_writer_flush(w)) == 0)          \
			e_ = (call);                                                 \
		if (e_ < 0)                                                          \
			die(#call, e_);                                              \
	} while (0)

static void metadata(const struct uev_ring_rec *rec, uint64_t *run_id, int *ended)
{
	struct uev_ring_run_start_rec rs;
	struct uev_ring_format_rec f;
	struct uev_ring_announce_rec a;
	struct uev_ring_comm_rec c;
	struct uev_ring_lost_rec l;
	struct uev_ring_run_end_rec re;
	struct uev_ring_sync s;

	if (uev_ring_rec_run_start(rec, &rs) == 0) {
		if (*run_id && rs.run_id != *run_id)
			die("IN holds more than one run", -EINVAL);
		if (!*run_id)
			APPEND(uev_ring_writer_begin_run(w, &rs.info));
		*run_id = rs.run_id;
	} else if (uev_ring_rec_sync(rec, &s) == 0) {
		APPEND(uev_ring_writer_sync(w, &s));
	} else if (uev_ring_rec_format(rec, &f) == 0) {
		APPEND(uev_ring_writer_format(w, f.kind, f.id, f.system, f.name, f.text));
	} else if (uev_ring_rec_announce(rec, &a) == 0) {
		APPEND(uev_ring_writer_announce(w, a.id, a.def));
	} else if (uev_ring_rec_comm(rec, &c) == 0) {
		for (uint32_t i = 0; i < c.count; i++) {
			int32_t pid;
			char comm[16];

			uev_ring_comm_entry(&c, i, &pid, comm);
			APPEND(uev_ring_writer_comm(w, pid, comm));
		}
	} else if (uev_ring_rec_lost(rec, &l) == 0) {
		APPEND(uev_ring_writer_lost(w, l.cpu, l.count));
	} else if (uev_ring_rec_run_end(rec, &re) == 0) {
		*ended = 1;
		int e = uev_ring_writer_close(w, &re.counters);

		if (e < 0)
			die("close", e);
		w = NULL;
	} else {
		die("IN holds a record of an unknown type or a malformed one", -EINVAL);
	}
}

int main(int argc, char **argv)
{
	struct uev_ring_reader *r;
	struct uev_ring_rec rec;
	uint64_t run_id = 0, pages = 0;
	int ended = 0, e;
	char err[512];

	if (argc < 3 || argc > 4 || (argc == 4 && (atoi(argv[3]) < 1 || atoi(argv[3]) > PER_MAX))) {
		fprintf(stderr, "usage: replay-mkunits IN OUT [PER (1..%d)]\n", PER_MAX);
		return 2;
	}
	if (argc == 4)
		per = (unsigned)atoi(argv[3]);
	if (uev_ring_reader_open(&r, argv[1], report, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "replay-mkunits: %s\n", err);
		return 2;
	}
	unlink(argv[2]);
	struct uev_ring_create c = { .path = argv[2], .size = uev_ring_reader_super(r)->file_size,
				     .seat = uev_ring_reader_super(r)->seat, .mode = 0644, .gid = (gid_t)-1 };
	if (uev_ring_writer_open(&w, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "replay-mkunits: %s\n", err);
		return 2;
	}
	while ((e = uev_ring_reader_next(r, &rec)) > 0) {
		if (ended)
			die("IN has records after its RUN_END", -EINVAL);
		if (rec.type == UEV_RING_PAGE) {
			add_page(&rec);
			pages++;
			continue;
		}
		flush_batch();
		metadata(&rec, &run_id, &ended);
	}
	if (e < 0)
		die(uev_ring_reader_error(r), e);
	if (!ended)
		die("IN's run did not end cleanly", -EINVAL);
	uev_ring_reader_close(r);
	printf("%llu pages in %llu units\n", (unsigned long long)pages, (unsigned long long)units);
	return 0;
}
