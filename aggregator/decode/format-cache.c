/* SPDX-License-Identifier: MIT */
/*
 * The verdict cache of format vetting (format-vet.h): (system, text) ->
 * verdict, set-associative on a hash of the whole key, compared on the
 * whole key (a made-up text that collides with a vetted one must still be
 * vetted: the hash only picks the set), bounded in entries and in bytes,
 * the least recently used verdict giving way. Not locked: its one user,
 * uev_format_vet(), holds its own lock.
 */
#include <stdlib.h>
#include <string.h>

#include "format-vet.h"
#include "uev-hash.h"

static uint64_t key_hash(const char *system, const char *text)
{
	return uev_hash_str(uev_hash_str(UEV_HASH_INIT, system), text);
}

/* The entry of @c holding (@system, @text), or NULL. */
static struct uev_format_cache_entry *find(struct uev_format_cache *c, uint64_t h, const char *system,
					   const char *text)
{
	struct uev_format_cache_entry *set = c->e[h % UEV_FORMAT_CACHE_SETS];
	size_t sl = strlen(system), tl = strlen(text);

	for (unsigned w = 0; w < UEV_FORMAT_CACHE_WAYS; w++) {
		struct uev_format_cache_entry *e = &set[w];

		if (e->key && e->hash == h && e->len == sl + 1 + tl && !memcmp(e->key, system, sl + 1) &&
		    !memcmp(e->key + sl + 1, text, tl))
			return e;
	}
	return NULL;
}

static void drop(struct uev_format_cache *c, struct uev_format_cache_entry *e)
{
	c->bytes -= e->len;
	c->entries--;
	free(e->key);
	memset(e, 0, sizeof(*e));
}

/* The least recently used entry of the whole cache (or NULL when empty). */
static struct uev_format_cache_entry *oldest(struct uev_format_cache *c)
{
	struct uev_format_cache_entry *o = NULL;

	for (unsigned s = 0; s < UEV_FORMAT_CACHE_SETS; s++)
		for (unsigned w = 0; w < UEV_FORMAT_CACHE_WAYS; w++)
			if (c->e[s][w].key && (!o || c->e[s][w].used < o->used))
				o = &c->e[s][w];
	return o;
}

int uev_format_cache_get(struct uev_format_cache *c, const char *system, const char *text)
{
	struct uev_format_cache_entry *e = find(c, key_hash(system, text), system, text);

	if (!e)
		return -1;
	e->used = ++c->clock;
	return e->ok;
}

void uev_format_cache_put(struct uev_format_cache *c, const char *system, const char *text, int ok)
{
	uint64_t h = key_hash(system, text);
	size_t sl = strlen(system), tl = strlen(text), len = sl + 1 + tl;
	struct uev_format_cache_entry *set = c->e[h % UEV_FORMAT_CACHE_SETS], *slot = NULL, *e;

	if ((e = find(c, h, system, text))) {
		e->ok = !!ok;
		e->used = ++c->clock;
		return;
	}
	if (len > UEV_FORMAT_CACHE_BYTES)
		return; /* vetted every time: slow, never big */
	/* A free way of the set, else its least recently used one. */
	for (unsigned w = 0; w < UEV_FORMAT_CACHE_WAYS; w++) {
		if (!set[w].key) {
			slot = &set[w];
			break;
		}
		if (!slot || set[w].used < slot->used)
			slot = &set[w];
	}
	if (slot->key)
		drop(c, slot);
	/* Then the oldest anywhere until the text fits the byte budget. */
	while (c->bytes + len > UEV_FORMAT_CACHE_BYTES && (e = oldest(c)))
		drop(c, e);
	if (!(slot->key = malloc(len)))
		return; /* not remembered: asked again next time */
	memcpy(slot->key, system, sl + 1);
	memcpy(slot->key + sl + 1, text, tl);
	slot->len = len;
	slot->hash = h;
	slot->ok = !!ok;
	slot->used = ++c->clock;
	c->bytes += len;
	c->entries++;
}

void uev_format_cache_clear(struct uev_format_cache *c)
{
	for (unsigned s = 0; s < UEV_FORMAT_CACHE_SETS; s++)
		for (unsigned w = 0; w < UEV_FORMAT_CACHE_WAYS; w++)
			if (c->e[s][w].key)
				drop(c, &c->e[s][w]);
}
