/* SPDX-License-Identifier: MIT */
/*
 * bundle-tool: the incident library (aggregator/incident/incident.h) from
 * the command line, for the tests.
 *   bundle-tool cut RING RUN FROM TO DIR NAME [--two]
 *     one collect (with --two: a second one after a line on stdin), then
 *     finish; prints the bundle's stats as "key=value" words.
 *   bundle-tool prune DIR MAX_COUNT MAX_BYTES
 *     prints "dropped=N bytes=B".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "incident.h"

int main(int argc, char **argv)
{
	char err[512], line[16];
	struct uev_bundle *b;
	const struct uev_bundle_stats *st;
	uint64_t bytes;
	unsigned dropped;
	int r;

	if (argc == 5 && !strcmp(argv[1], "prune")) {
		r = uev_incident_prune(argv[2], (unsigned)strtoul(argv[3], NULL, 0), strtoull(argv[4], NULL, 0),
				       &dropped, &bytes, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "bundle-tool: %s\n", err);
			return 1;
		}
		printf("dropped=%u bytes=%llu\n", dropped, (unsigned long long)bytes);
		return 0;
	}
	if ((argc != 8 && argc != 9) || strcmp(argv[1], "cut")) {
		fprintf(stderr, "usage: bundle-tool cut RING RUN FROM TO DIR NAME [--two] | prune DIR COUNT BYTES\n");
		return 2;
	}
	uint64_t from = strtoull(argv[4], NULL, 0), to = strtoull(argv[5], NULL, 0);
	struct uev_incident_info info = { "test", "bundle-tool", from / 2 + to / 2, 0 };

	if ((r = uev_bundle_begin(&b, argv[2], strtoull(argv[3], NULL, 0), from, to, argv[6], err, sizeof(err))) < 0 ||
	    (r = uev_bundle_collect(b, err, sizeof(err))) < 0) {
		fprintf(stderr, "bundle-tool: %s\n", err);
		uev_bundle_free(b);
		return 1;
	}
	if (argc == 9) {
		printf("collected pages=%llu\n", (unsigned long long)uev_bundle_stats(b)->pages);
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin) || (r = uev_bundle_collect(b, err, sizeof(err))) < 0) {
			fprintf(stderr, "bundle-tool: second collect: %s\n", r < 0 ? err : "no go on stdin");
			uev_bundle_free(b);
			return 1;
		}
	}
	if ((r = uev_bundle_finish(b, argv[6], argv[7], &info, &bytes, err, sizeof(err))) < 0) {
		fprintf(stderr, "bundle-tool: %s\n", err);
		uev_bundle_free(b);
		return 1;
	}
	st = uev_bundle_stats(b);
	printf("pages=%llu cut=%llu events=%llu bytes=%llu overwritten_to=%llu lost_records=%llu problems=%llu\n",
	       (unsigned long long)st->pages, (unsigned long long)st->pages_cut, (unsigned long long)st->events,
	       (unsigned long long)bytes, (unsigned long long)st->overwritten_to_ns,
	       (unsigned long long)st->lost_records, (unsigned long long)st->problems);
	if (st->problems)
		fprintf(stderr, "bundle-tool: first problem: %s\n", st->first_problem);
	uev_bundle_free(b);
	return 0;
}
