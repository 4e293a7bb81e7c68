/* SPDX-License-Identifier: MIT */
/*
 * The kept tep handles of ringdecode.c (tep-kept.h): the cache, the steps
 * that make a handle, and the conditions under which one holding more
 * formats than a run has brought so far decodes that run exactly as a
 * fresh parse of its steps would.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <event-parse.h>

#include "format-vet.h"
#include "tep-kept.h"
#include "uev-grow.h"
#include "uev-hash.h"

static pthread_mutex_t tkept_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tkept *tkept[TKEPT_MAX]; /* not in use; [0] the newest */

uint64_t uev_tstep_hash(uint64_t h, int id, const char *system, const char *text)
{
	return uev_hash_str(uev_hash_str(uev_hash_u32(h ^ UEV_HASH_INIT, (uint32_t)id), system), text);
}

struct tkept *tkept_new(unsigned layout)
{
	struct tkept *k = calloc(1, sizeof(*k));

	if (!k || !(k->tep = tep_alloc())) {
		free(k);
		return NULL;
	}
	k->layout = layout;
	k->clean = 1;
	return k;
}

void tkept_free(struct tkept *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++) {
		free(k->steps[i].system);
		free(k->steps[i].text);
	}
	free(k->steps);
	tep_free(k->tep);
	free(k);
}

void tkept_put(struct tkept *k)
{
	struct tkept *out;

	if (!k)
		return;
	k->handed = 0;
	if (k->bytes > TKEPT_BYTES || k->spoilt) {
		tkept_free(k);
		return;
	}
	pthread_mutex_lock(&tkept_lock);
	out = tkept[TKEPT_MAX - 1];
	memmove(tkept + 1, tkept, (TKEPT_MAX - 1) * sizeof(tkept[0]));
	tkept[0] = k;
	pthread_mutex_unlock(&tkept_lock);
	tkept_free(out);
}

size_t tkept_take(unsigned layout, struct tkept **c)
{
	size_t n = 0, w = 0;

	pthread_mutex_lock(&tkept_lock);
	for (unsigned i = 0; i < TKEPT_MAX; i++) {
		if (tkept[i] && tkept[i]->layout == layout)
			c[n++] = tkept[i];
		else
			tkept[w++] = tkept[i];
	}
	while (w < TKEPT_MAX)
		tkept[w++] = NULL;
	pthread_mutex_unlock(&tkept_lock);
	return n;
}

/* Do two events have the same common fields (names, offsets, sizes)? */
static int same_common(const struct tep_event *a, const struct tep_event *b)
{
	const struct tep_format_field *x = a->format.common_fields, *y = b->format.common_fields;

	for (; x && y; x = x->next, y = y->next)
		if (x->offset != y->offset || x->size != y->size || x->flags != y->flags || strcmp(x->name, y->name))
			return 0;
	return !x && !y;
}

/* The event step just parsed into @k kept it clean (struct tkept)? */
static int step_clean(struct tkept *k, int id)
{
	const struct tep_event *ev = tep_find_event(k->tep, id);

	if (!ev || tep_get_events_count(k->tep) != (int)++k->nev)
		return 0;
	if (!k->ref)
		k->ref = ev;
	return same_common(ev, k->ref);
}

int tkept_step(struct tkept *k, int id, const char *system, const char *text, int long_size, int *failed)
{
	struct tstep *t;

	*failed = 0;
	if (id < 0)
		tep_parse_header_page(k->tep, (char *)text, strlen(text), long_size);
	else if (uev_format_parse(k->tep, system, text) < 0)
		*failed = 1;
	if (id >= 0)
		k->clean = k->clean && !*failed && step_clean(k, id);
	if (UEV_GROW(k->steps, k->cap, k->n + 1) < 0)
		return -ENOMEM;
	t = &k->steps[k->n];
	t->system = strdup(system);
	t->text = strdup(text);
	if (!t->system || !t->text) {
		free(t->system);
		free(t->text);
		return -ENOMEM;
	}
	t->id = id;
	t->failed = (uint8_t)*failed;
	k->n++;
	k->bytes += strlen(system) + strlen(text) + 2;
	k->hash = uev_tstep_hash(k->hash, id, system, text);
	return 0;
}

int tkept_step_is(const struct tkept *k, size_t i, int id, const char *system, const char *text)
{
	return i < k->n && k->steps[i].id == id && !strcmp(k->steps[i].system, system) &&
	       !strcmp(k->steps[i].text, text);
}

/*
 * With exactly the run's steps so far, always. With more, only when
 * - they are the run's own later steps, all of them (the prescan's count
 *   and hash of the run say so; each is compared again as it comes):
 *   nothing the run will not bring is ever in the handle;
 * - the handle is clean: each later id is hidden from the decoder until
 *   its step comes (uev_decoder_visible), and libtraceevent, which reads
 *   the common fields (type, pid) at the offsets of the lowest id it
 *   holds, hidden or not, and keeps them from their first use, reads them
 *   where every event of the handle has them;
 * - an event is among the first @at steps: a fresh parse with none finds
 *   no common fields at all;
 * - no later step is a header page, which changes how pages are read.
 */
int tkept_usable(const struct tkept *k, size_t at, size_t run_n, uint64_t run_hash)
{
	int seen = 0;

	if (k->n == at)
		return 1;
	if (!k->clean || k->n != run_n || k->hash != run_hash)
		return 0;
	for (size_t i = 0; i < k->n; i++) {
		if (i < at)
			seen |= k->steps[i].id >= 0;
		else if (k->steps[i].id < 0)
			return 0;
	}
	return seen;
}
