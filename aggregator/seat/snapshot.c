/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <tracefs.h>

#include "snapshot.h"
#include "uev-grow.h"

static int add_page(struct uev_snapshot *snap, int cpu, void *data, size_t size)
{
	int r = UEV_GROW(snap->page, snap->pages_cap, snap->npages + 1);

	if (r < 0)
		return r;
	snap->page[snap->npages].cpu = cpu;
	snap->page[snap->npages].size = size;
	snap->page[snap->npages++].data = data;
	return 0;
}

int uev_snapshot_take(struct uev_seat *s, struct uev_snapshot *snap)
{
	unsigned *cpus, ncpu;
	char err[256];
	int r;

	memset(snap, 0, sizeof(*snap));
	/* Every CPU the instance has, by number: they may be sparse. */
	if ((r = uev_seat_cpus(s->instance, INT_MAX, &cpus, &ncpu, err, sizeof(err))) < 0)
		return r;
	for (unsigned k = 0; k < ncpu && r == 0; k++) {
		int cpu = (int)cpus[k], size;
		struct tracefs_cpu *tc = tracefs_cpu_open(s->instance, cpu, true);

		if (!tc)
			continue; /* offline CPU */
		size = tracefs_cpu_read_size(tc);
		/* One sub-buffer per read; a partly filled one is handed out
		 * too once nothing else is left, then reads come back empty. */
		while (r == 0) {
			void *page = malloc((size_t)size);

			if (!page) {
				r = -ENOMEM;
			} else if (tracefs_cpu_read(tc, page, true) <= 0) {
				free(page);
				break;
			} else if ((r = add_page(snap, cpu, page, (size_t)size)) < 0) {
				free(page);
			}
		}
		tracefs_cpu_close(tc);
	}
	free(cpus);
	return r;
}

int uev_snapshot_decode(const struct uev_snapshot *snap, struct uev_decoder *d,
			uev_rec_fn fn, void *ctx)
{
	int r = 0;

	for (size_t i = 0; i < snap->npages; i++)
		uev_decoder_page(d, snap->page[i].data, snap->page[i].size, snap->page[i].cpu, NULL, NULL);
	for (size_t i = 0; i < snap->npages && r == 0; i++)
		r = uev_decoder_page(d, snap->page[i].data, snap->page[i].size, snap->page[i].cpu, fn, ctx);
	return r;
}

void uev_snapshot_free(struct uev_snapshot *snap)
{
	for (size_t i = 0; i < snap->npages; i++)
		free(snap->page[i].data);
	free(snap->page);
	memset(snap, 0, sizeof(*snap));
}
