/* SPDX-License-Identifier: MIT */
/*
 * Record payloads (docs/ring-format.md, "Record types"): the encoders the
 * writer uses and the one decoder per record type every reader uses.
 *
 * A decoder trusts nothing but rec->type and rec->len bytes at
 * rec->payload: every length is compared against rec->len before a byte is
 * read, every string must end in a NUL inside its field (or, for the
 * variable strings of FORMAT and ANNOUNCE, exactly at the payload's end),
 * and every number with a defined range is checked. So a reader that
 * decodes through these never reads past a record, and two readers never
 * disagree on which payloads are malformed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ring-common.h"

/* ---- byte order and word size ------------------------------------------ */

uint8_t uev_ring_host_byte_order(void)
{
	const uint16_t one = 1;

	return *(const uint8_t *)&one ? UEV_RING_LITTLE_ENDIAN : UEV_RING_BIG_ENDIAN;
}

/* The size of the kernel's long is what the pages need; a writer built
 * for the kernel's word size (as uev-aggregator must be: it parses the
 * kernel's pages with sizeof(long) too) has the same. */
uint8_t uev_ring_host_long_size(void)
{
	return (uint8_t)sizeof(long);
}

const char *uev_ring_layout_name(char *buf, size_t size, uint8_t byte_order, uint8_t long_size)
{
	char order[32];

	if (byte_order == UEV_RING_LITTLE_ENDIAN || byte_order == UEV_RING_BIG_ENDIAN)
		snprintf(order, sizeof(order), "%s-endian",
			 byte_order == UEV_RING_LITTLE_ENDIAN ? "little" : "big");
	else
		snprintf(order, sizeof(order), "byte order %u (unknown)", byte_order);
	snprintf(buf, size, "%s, %u-byte long", order, long_size);
	return buf;
}

int uev_ring_layout_check(const struct uev_ring_run_info *ri, const char *path, uint64_t run_id,
			  char *err, size_t errsize)
{
	char file[64], host[64];

	if ((ri->byte_order == UEV_RING_LITTLE_ENDIAN || ri->byte_order == UEV_RING_BIG_ENDIAN) &&
	    (ri->long_size == 4 || ri->long_size == 8))
		return 0;
	snprintf(err, errsize, "%s: run %llu was recorded as %s, which this build cannot decode (this machine: %s)",
		 path, (unsigned long long)run_id,
		 uev_ring_layout_name(file, sizeof(file), ri->byte_order, ri->long_size),
		 uev_ring_layout_name(host, sizeof(host), uev_ring_host_byte_order(),
				      uev_ring_host_long_size()));
	return -ENOTSUP;
}

int uev_ring_layout_is_host(const struct uev_ring_run_info *ri)
{
	return ri->byte_order == uev_ring_host_byte_order() && ri->long_size == uev_ring_host_long_size();
}

/* ---- RUN_START --------------------------------------------------------- */

/* A NUL-padded text field of @size bytes, at most size - 1 of text. */
static void put_str(uint8_t *p, const char *s, size_t size)
{
	size_t l = s ? strnlen(s, size - 1) : 0;

	memcpy(p, s ? s : "", l);
	memset(p + l, 0, size - l);
}

/* Copies a text field of @size bytes into @d: 0, or -EINVAL when the field
 * holds no NUL (every writer ends each field in one). */
static int get_str(char *d, const uint8_t *p, size_t size)
{
	if (!memchr(p, 0, size))
		return -EINVAL;
	memcpy(d, p, size);
	return 0;
}

/* RUN_START field offsets, in payload order. */
enum { RS_BOOT = 8, RS_KREL = 45, RS_SEAT = 110, RS_CLOCK = 174, RS_HOST = 190, RS_PID = 255,
       RS_TIME = 259, RS_FLUSH = 267, RS_ORDER = 271, RS_LONG = 272, RS_COMP = 273, RS_RECOVERED = 274 };

uint32_t uev_ring_run_start_encode(uint8_t *p, uint64_t run_id, const struct uev_ring_run_info *ri)
{
	uev_put64(p, run_id);
	put_str(p + RS_BOOT, ri->boot_id, sizeof(ri->boot_id));
	put_str(p + RS_KREL, ri->kernel_release, sizeof(ri->kernel_release));
	put_str(p + RS_SEAT, ri->seat, sizeof(ri->seat));
	put_str(p + RS_CLOCK, ri->trace_clock, sizeof(ri->trace_clock));
	put_str(p + RS_HOST, ri->host, sizeof(ri->host));
	uev_put32(p + RS_PID, ri->aggregator_pid);
	uev_put64(p + RS_TIME, ri->start_realtime_ns);
	uev_put32(p + RS_FLUSH, ri->flush_interval_ms);
	p[RS_ORDER] = ri->byte_order ? ri->byte_order : uev_ring_host_byte_order();
	p[RS_LONG] = ri->long_size ? ri->long_size : uev_ring_host_long_size();
	p[RS_COMP] = ri->compression;
	if (!ri->recovered_from)
		return UEV_RING_RUN_START_LEN;
	uev_put64(p + RS_RECOVERED, ri->recovered_from);
	return UEV_RING_RUN_START_RECOVERED_LEN;
}

/* The layout bytes are returned as found: a value the format does not
 * define is for uev_ring_layout_check() to refuse with its message, which
 * names the layout; a decoder that failed here could not. */
int uev_ring_rec_run_start(const struct uev_ring_rec *rec, struct uev_ring_run_start_rec *out)
{
	const uint8_t *p = rec->payload;
	struct uev_ring_run_info *ri = &out->info;
	size_t len = rec->len;

	memset(out, 0, sizeof(*out));
	if (rec->type != UEV_RING_RUN_START || len < UEV_RING_RUN_START_V1_LEN)
		return -EINVAL;
	if (get_str(ri->boot_id, p + RS_BOOT, sizeof(ri->boot_id)) < 0 ||
	    get_str(ri->kernel_release, p + RS_KREL, sizeof(ri->kernel_release)) < 0 ||
	    get_str(ri->seat, p + RS_SEAT, sizeof(ri->seat)) < 0 ||
	    get_str(ri->trace_clock, p + RS_CLOCK, sizeof(ri->trace_clock)) < 0 ||
	    get_str(ri->host, p + RS_HOST, sizeof(ri->host)) < 0) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	out->run_id = uev_get64(p);
	ri->aggregator_pid = uev_get32(p + RS_PID);
	ri->start_realtime_ns = uev_get64(p + RS_TIME);
	ri->flush_interval_ms = len >= UEV_RING_RUN_START_V2_LEN ? uev_get32(p + RS_FLUSH) : 0;
	ri->byte_order = len >= UEV_RING_RUN_START_V3_LEN ? p[RS_ORDER] : UEV_RING_LITTLE_ENDIAN;
	ri->long_size = len >= UEV_RING_RUN_START_V3_LEN ? p[RS_LONG] : 8;
	ri->compression = len >= UEV_RING_RUN_START_LEN ? p[RS_COMP] : 0;
	ri->recovered_from = len >= UEV_RING_RUN_START_RECOVERED_LEN ? uev_get64(p + RS_RECOVERED) : 0;
	return 0;
}

/* ---- SYNC, RUN_END, LOST: fixed layouts -------------------------------- */

void uev_ring_sync_encode(uint8_t *p, const struct uev_ring_sync *s)
{
	uev_put64(p, s->trace_ns);
	uev_put64(p + 8, s->realtime_ns);
	uev_put64(p + 16, s->monotonic_ns);
	uev_put64(p + 24, s->boottime_ns);
}

int uev_ring_rec_sync(const struct uev_ring_rec *rec, struct uev_ring_sync *out)
{
	const uint8_t *p = rec->payload;

	memset(out, 0, sizeof(*out));
	if (rec->type != UEV_RING_SYNC || rec->len != UEV_RING_SYNC_LEN)
		return -EINVAL;
	out->trace_ns = uev_get64(p);
	out->realtime_ns = uev_get64(p + 8);
	out->monotonic_ns = uev_get64(p + 16);
	out->boottime_ns = uev_get64(p + 24);
	return 0;
}

void uev_ring_run_end_encode(uint8_t *p, uint64_t realtime_ns, const struct uev_ring_counters *c)
{
	uev_put64(p, realtime_ns);
	uev_put64(p + 8, c ? c->pages : 0);
	uev_put64(p + 16, c ? c->bytes : 0);
	uev_put64(p + 24, c ? c->lost : 0);
}

int uev_ring_rec_run_end(const struct uev_ring_rec *rec, struct uev_ring_run_end_rec *out)
{
	const uint8_t *p = rec->payload;

	memset(out, 0, sizeof(*out));
	if (rec->type != UEV_RING_RUN_END || rec->len != UEV_RING_RUN_END_LEN)
		return -EINVAL;
	out->end_realtime_ns = uev_get64(p);
	out->counters.pages = uev_get64(p + 8);
	out->counters.bytes = uev_get64(p + 16);
	out->counters.lost = uev_get64(p + 24);
	return 0;
}

int uev_ring_rec_lost(const struct uev_ring_rec *rec, struct uev_ring_lost_rec *out)
{
	memset(out, 0, sizeof(*out));
	if (rec->type != UEV_RING_LOST || rec->len != UEV_RING_LOST_LEN || rec->cpu > UEV_RING_CPU_MAX)
		return -EINVAL;
	out->cpu = rec->cpu;
	out->count = uev_get64(rec->payload);
	return 0;
}

/* ---- PAGE -------------------------------------------------------------- */

int uev_ring_rec_page(const struct uev_ring_rec *rec, struct uev_ring_page_rec *out)
{
	memset(out, 0, sizeof(*out));
	if (rec->type != UEV_RING_PAGE || rec->len < UEV_RING_PAGE_MIN || rec->cpu > UEV_RING_CPU_MAX)
		return -EINVAL;
	out->cpu = rec->cpu;
	out->len = rec->len;
	out->data = rec->payload;
	return 0;
}

/* ---- FORMAT, ANNOUNCE: ids and strings --------------------------------- */

/* The NUL that ends the string at @s, before @end, or NULL. */
static const char *str_end(const char *s, const char *end)
{
	return s < end ? memchr(s, 0, (size_t)(end - s)) : NULL;
}

int uev_ring_rec_format(const struct uev_ring_rec *rec, struct uev_ring_format_rec *out)
{
	const char *p = rec->payload, *end = p + rec->len, *name_end, *text_end;

	memset(out, 0, sizeof(*out));
	if (rec->type != UEV_RING_FORMAT || rec->len < 8 || (uint8_t)p[0] > UEV_RING_FMT_EVENT)
		return -EINVAL;
	name_end = str_end(p + 8, end);
	text_end = name_end ? str_end(name_end + 1, end) : NULL;
	text_end = text_end ? str_end(text_end + 1, end) : NULL;
	/* The format text's NUL is the payload's last byte: anything after
	 * it is not a FORMAT any writer wrote. */
	if (!text_end || text_end != end - 1)
		return -EINVAL;
	out->kind = (enum uev_ring_format_kind)(uint8_t)p[0];
	out->id = uev_get32((const uint8_t *)p + 4);
	out->system = p + 8;
	out->name = out->system + strlen(out->system) + 1;
	out->text = out->name + strlen(out->name) + 1;
	return 0;
}

int uev_ring_rec_announce(const struct uev_ring_rec *rec, struct uev_ring_announce_rec *out)
{
	const char *def = (const char *)rec->payload + 4;

	memset(out, 0, sizeof(*out));
	/* a definition of one character at least, its NUL the last byte */
	if (rec->type != UEV_RING_ANNOUNCE || rec->len < 6 || strnlen(def, rec->len - 4) != rec->len - 5)
		return -EINVAL;
	out->id = uev_get32(rec->payload);
	out->def = def;
	return 0;
}

/* ---- COMM -------------------------------------------------------------- */

int uev_ring_rec_comm(const struct uev_ring_rec *rec, struct uev_ring_comm_rec *out)
{
	const uint8_t *p = rec->payload;

	memset(out, 0, sizeof(*out));
	if (rec->type != UEV_RING_COMM || rec->len % UEV_RING_COMM_ENT)
		return -EINVAL;
	/* every name ends in a NUL inside its 16 bytes */
	for (uint32_t i = 0; i < rec->len / UEV_RING_COMM_ENT; i++)
		if (p[(size_t)i * UEV_RING_COMM_ENT + 4 + 15])
			return -EINVAL;
	out->count = rec->len / UEV_RING_COMM_ENT;
	out->entries = p;
	return 0;
}

void uev_ring_comm_entry(const struct uev_ring_comm_rec *c, uint32_t i, int32_t *pid, char comm[16])
{
	const uint8_t *p = c->entries + (size_t)i * UEV_RING_COMM_ENT;

	*pid = (int32_t)uev_get32(p);
	memcpy(comm, p + 4, 16);
}
