/* SPDX-License-Identifier: MIT */
/*
 * Open a trace.dat the way KernelShark does (libkshark) and print
 * "CPU PID TS TASK SYSTEM/EVENT" for each entry it loads.
 * usage: kshark-dump TRACE.DAT
 */
#include <stdio.h>
#include <stdlib.h>
#include <libkshark.h>

int main(int argc, char **argv)
{
	struct kshark_context *ctx = NULL;
	struct kshark_entry **rows = NULL;
	ssize_t n;
	int sd;

	if (argc != 2 || !kshark_instance(&ctx)) {
		fprintf(stderr, "usage: kshark-dump TRACE.DAT\n");
		return 2;
	}
	sd = kshark_open(ctx, argv[1]);
	n = sd < 0 ? -1 : kshark_load_entries(ctx, sd, &rows);
	if (n < 0) {
		fprintf(stderr, "kshark-dump: %s: libkshark cannot load it\n", argv[1]);
		kshark_free(ctx);
		return 1;
	}
	for (ssize_t i = 0; i < n; i++) {
		char *task = kshark_get_task(rows[i]), *ev = kshark_get_event_name(rows[i]);

		printf("%d %d %lld %s %s\n", rows[i]->cpu, rows[i]->pid, (long long)rows[i]->ts,
		       task ? task : "?", ev ? ev : "?");
		free(task);
		free(ev);
		free(rows[i]);
	}
	free(rows);
	kshark_close_all(ctx);
	kshark_free(ctx);
	return 0;
}
