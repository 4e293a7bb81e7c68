/* SPDX-License-Identifier: MIT */
/*
 * Sub-buffer decoding. The kernel's page format is kbuffer's business and the
 * event formats tep's; this module only adds what is uev's own: marker
 * records (ftrace:raw_data) carry a u32 id, and an id means whatever the
 * latest announcement for it said. Announcements are content-addressed
 * (id = hash of the definition), so the same id announced again with the
 * same text is a repeat, and with another text a hash conflict that is
 * counted and resolved in favour of the newer definition.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event-parse.h>
#include <kbuffer.h>

#include "decode.h"
#include "page-check.h"
#include "uev-abi.h"
#include "uev-grow.h"

struct announced {
	uint32_t id;
	char name[UEV_NAME_MAX];
	struct uev_def def;
};

/* A user_events event's kernel format as a uev definition (see kdef()). */
struct kdef {
	int id, ok;
	struct uev_def def;
};

struct uev_decoder {
	struct tep_handle *tep;
	const uint64_t *visible; /* uev_decoder_visible(): NULL, every id */
	int big_endian, long_size; /* uev_decoder_layout(); 0: this machine's */
	char kname[128];         /* "system:event" of the last kernel record */
	const struct tep_event *kname_of;
	struct kbuffer *kbuf;
	int loaded, started, first, cpu; /* the page being iterated */
	int raw_id;              /* ftrace:raw_data event id, -1 if unknown */
	int raw_id_off, raw_buf_off;
	struct announced *ann;
	size_t nann, cap;
	unsigned conflicts;
	const char *why; /* of the last page refused */
	struct kdef *kdefs;
	size_t nkdefs, capkdefs;
	/* The pages' layout (uev_decoder_layout), and a copy of the current
	 * record's user payload in this machine's byte order when it differs. */
	struct uev_page_layout lay;
	uint8_t *host;
	size_t hostcap;
};

/* The marker event's layout, once the tep handle knows it (a ring file may
 * bring its format after the decoder was made). */
static void find_raw(struct uev_decoder *d)
{
	struct tep_event *raw = tep_find_event_by_name(d->tep, "ftrace", "raw_data");
	struct tep_format_field *fid = raw ? tep_find_field(raw, "id") : NULL;
	struct tep_format_field *fbuf = raw ? tep_find_field(raw, "buf") : NULL;

	if (fid && fbuf && uev_id_visible(d->visible, raw->id)) {
		d->raw_id = raw->id;
		d->raw_id_off = fid->offset;
		d->raw_buf_off = fbuf->offset;
	}
}

int uev_decoder_new(struct uev_decoder **out, struct tep_handle *tep)
{
	struct uev_decoder *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->tep = tep;
	d->lay = uev_page_layout_host();
	d->kbuf = kbuffer_alloc(KBUFFER_LSIZE_SAME_AS_HOST, KBUFFER_ENDIAN_SAME_AS_HOST);
	if (!d->kbuf) {
		free(d);
		return -ENOMEM;
	}
	d->raw_id = -1;
	find_raw(d);
	*out = d;
	return 0;
}

void uev_decoder_free(struct uev_decoder *d)
{
	if (!d)
		return;
	kbuffer_free(d->kbuf);
	free(d->host);
	free(d->kdefs);
	free(d->ann);
	free(d);
}

/* The tep handle reads kernel records' fields (common_type, pid, what it
 * prints) in the pages' byte order, and longs and pointers at their size
 * (uev_decoder_layout). */
static void tep_layout(struct uev_decoder *d)
{
	tep_set_file_bigendian(d->tep, d->big_endian ? TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN);
	tep_set_long_size(d->tep, d->long_size);
}

int uev_decoder_layout(struct uev_decoder *d, int big_endian, unsigned long_size)
{
	struct uev_page_layout l;
	struct kbuffer *kb;

	if (uev_page_layout_set(&l, big_endian, long_size) < 0)
		return -ENOTSUP;
	kb = kbuffer_alloc(long_size == 4 ? KBUFFER_LSIZE_4 : KBUFFER_LSIZE_8,
			   big_endian ? KBUFFER_ENDIAN_BIG : KBUFFER_ENDIAN_LITTLE);
	if (!kb)
		return -ENOMEM;
	kbuffer_free(d->kbuf);
	d->kbuf = kb;
	d->loaded = 0;
	d->lay = l;
	d->big_endian = big_endian;
	d->long_size = (int)long_size;
	tep_layout(d);
	return 0;
}

void uev_decoder_visible(struct uev_decoder *d, const uint64_t *visible)
{
	d->visible = visible;
	d->kname_of = NULL;
	if (d->raw_id >= 0 && !uev_id_visible(visible, d->raw_id))
		d->raw_id = -1;
	if (d->raw_id < 0)
		find_raw(d);
}

int uev_decoder_set_tep(struct uev_decoder *d, struct tep_handle *tep)
{
	d->tep = tep;
	d->kname_of = NULL;
	d->nkdefs = 0;
	d->raw_id = -1;
	find_raw(d);
	if (d->long_size)
		tep_layout(d);
	return 0;
}

unsigned uev_decoder_conflicts(const struct uev_decoder *d)
{
	return d->conflicts;
}

static struct announced *ann_find(struct uev_decoder *d, uint32_t id)
{
	for (size_t i = 0; i < d->nann; i++)
		if (d->ann[i].id == id)
			return &d->ann[i];
	return NULL;
}

/* @id and "name fields" NUL within @len bytes of @text. Returns the entry
 * or NULL if malformed. */
static struct announced *ann_add(struct uev_decoder *d, uint32_t id, const char *text, size_t len)
{
	struct announced tmp, *a;
	const char *sp;
	size_t tlen;

	if (len < 2)
		return NULL;
	tlen = strnlen(text, len);
	if (tlen == len || tlen >= UEV_DEF_MAX)
		return NULL;
	tmp.id = id;
	sp = memchr(text, ' ', tlen);
	if ((size_t)((sp ? sp : text + tlen) - text) >= sizeof(tmp.name))
		return NULL;
	memset(tmp.name, 0, sizeof(tmp.name));
	memcpy(tmp.name, text, (size_t)((sp ? sp : text + tlen) - text));
	if (uev_def_parse(tmp.name, sp ? sp + 1 : "", &tmp.def, NULL) < 0)
		return NULL;
	a = ann_find(d, tmp.id);
	if (a) {
		if (strcmp(a->def.canonical, tmp.def.canonical))
			d->conflicts++;
		*a = tmp;
		return a;
	}
	if (UEV_GROW(d->ann, d->cap, d->nann + 1) < 0)
		return NULL;
	d->ann[d->nann] = tmp;
	return &d->ann[d->nann++];
}

const struct uev_def *uev_decoder_find(struct uev_decoder *d, uint32_t id, const char **name)
{
	struct announced *a = ann_find(d, id);

	if (!a)
		return NULL;
	*name = a->name;
	return &a->def;
}

int uev_decoder_announce(struct uev_decoder *d, uint32_t id, const char *def)
{
	size_t n = strnlen(def, UEV_DEF_MAX);

	if (n >= UEV_DEF_MAX)
		return -EINVAL;
	return ann_add(d, id, def, n + 1) ? 0 : -EINVAL;
}

/*
 * A user_events record is decoded like a marker one, by a uev definition,
 * so that both backends print and export the same names and the same
 * quoted strings. The definition is rebuilt from the kernel's format
 * (types from the field flags and sizes, since the kernel spells array
 * types in more than one way) and kept only if its packed layout matches
 * every field offset the kernel gave; otherwise the kernel's own print
 * format is used.
 */
static const struct uev_def *kdef(struct uev_decoder *d, struct tep_event *ev)
{
	char text[UEV_DEF_MAX], *p = text;
	struct kdef *k;
	size_t off = 8;

	for (size_t i = 0; i < d->nkdefs; i++)
		if (d->kdefs[i].id == ev->id)
			return d->kdefs[i].ok ? &d->kdefs[i].def : NULL;
	if (UEV_GROW(d->kdefs, d->capkdefs, d->nkdefs + 1) < 0)
		return NULL;
	k = &d->kdefs[d->nkdefs++];
	k->id = ev->id;
	k->ok = 0;
	text[0] = 0;
	for (struct tep_format_field *f = ev->format.fields; f; f = f->next) {
		size_t left = sizeof(text) - (size_t)(p - text);
		int n;

		if ((f->flags & TEP_FIELD_IS_DYNAMIC) && (f->flags & TEP_FIELD_IS_RELATIVE) && f->size == 4)
			n = snprintf(p, left, "%s__rel_loc char[] %s", p == text ? "" : "; ", f->name);
		/* 6.12's user_events leaves the array length of a char[N] field
		 * unset in its format text ("char tag[<garbage>]"); the size is
		 * right, and a char array is all uev has. */
		else if ((f->flags & TEP_FIELD_IS_ARRAY) && !(f->flags & TEP_FIELD_IS_DYNAMIC) && f->size > 0 &&
			 (f->elementsize == 1 || !strncmp(f->type, "char", 4)))
			n = snprintf(p, left, "%schar[%d] %s", p == text ? "" : "; ", f->size, f->name);
		else if (!(f->flags & (TEP_FIELD_IS_ARRAY | TEP_FIELD_IS_DYNAMIC)) &&
			 (f->size == 1 || f->size == 2 || f->size == 4 || f->size == 8))
			n = snprintf(p, left, "%s%c%d %s", p == text ? "" : "; ",
				     f->flags & TEP_FIELD_IS_SIGNED ? 's' : 'u', f->size * 8, f->name);
		else
			return NULL;
		if (n < 0 || (size_t)n >= left || (size_t)f->offset != off)
			return NULL;
		p += n;
		off += (size_t)f->size;
	}
	if (uev_def_parse(ev->name, text, &k->def, NULL) < 0)
		return NULL;
	k->ok = 1;
	return &k->def;
}

/*
 * A user payload is the recording program's memory: its integers, and the
 * __rel_loc words, are in the recording machine's byte order. When that is
 * not this machine's, the record gets a copy with every fixed field
 * swapped (an announcement: its id), so that every reader of r->payload
 * (uev_payload_field, the renderers) reads host order. Without memory for
 * the copy the record stays undecoded (UNKNOWN), never misread.
 */
static void to_host(struct uev_decoder *d, struct uev_rec *r)
{
	size_t off = 0;

	if (!d->lay.swap || (r->kind != UEV_REC_ANNOUNCE && !(r->kind == UEV_REC_USER && r->def)))
		return;
	if (UEV_GROW(d->host, d->hostcap, r->len) < 0) {
		r->kind = UEV_REC_UNKNOWN;
		r->def = NULL;
		return;
	}
	memcpy(d->host, r->payload, r->len);
	if (r->kind == UEV_REC_ANNOUNCE) { /* checked: more than 4 bytes */
		uint32_t id = uev_page_get32(&d->lay, r->payload);

		memcpy(d->host, &id, 4);
	}
	for (unsigned i = 0; r->kind == UEV_REC_USER && i < r->def->nfields; i++) {
		const struct uev_def_field *f = &r->def->field[i];
		uint8_t *p = d->host + off;

		off += f->size;
		if (off > r->len)
			break; /* uev_payload_field refuses a short payload */
		if (f->type == UEV_T_U16 || f->type == UEV_T_S16) {
			uint16_t v = uev_page_get16(&d->lay, p);
			memcpy(p, &v, 2);
		} else if (f->type == UEV_T_U32 || f->type == UEV_T_S32 || f->type == UEV_T_REL_LOC) {
			uint32_t v = uev_page_get32(&d->lay, p);
			memcpy(p, &v, 4);
		} else if (f->type == UEV_T_U64 || f->type == UEV_T_S64) {
			uint64_t v = uev_page_get64(&d->lay, p);
			memcpy(p, &v, 8);
		}
	}
	r->payload = d->host;
}

int uev_decoder_resolve(struct uev_decoder *d, struct uev_rec *r)
{
	struct announced *a;

	if (r->kind != UEV_REC_UNKNOWN || !(a = ann_find(d, r->marker_id)))
		return 0;
	r->kind = UEV_REC_USER;
	r->def = &a->def;
	r->name = a->name;
	to_host(d, r);
	return r->kind == UEV_REC_USER;
}

static void classify(struct uev_decoder *d, struct uev_rec *r)
{
	struct tep_record *rec = r->record;
	uint8_t *data = rec->data;
	struct announced *a;

	r->event = tep_find_event_by_record(d->tep, rec);
	if (r->event && !uev_id_visible(d->visible, r->event->id))
		r->event = NULL;
	r->pid = tep_data_pid(d->tep, rec);
	r->kind = UEV_REC_KERNEL;
	/* Records of one event come in runs: name it once per run. */
	if (r->event && r->event != d->kname_of)
		snprintf(d->kname, sizeof(d->kname), "%s:%s", r->event->system, r->event->name);
	else if (!r->event)
		snprintf(d->kname, sizeof(d->kname), "id:%d", tep_data_type(d->tep, rec));
	d->kname_of = r->event;
	r->name = d->kname;
	if (r->event && r->event->id == d->raw_id && rec->size >= d->raw_buf_off) {
		r->marker_id = uev_page_get32(&d->lay, data + d->raw_id_off);
		r->payload = data + d->raw_buf_off;
		r->len = (size_t)rec->size - (size_t)d->raw_buf_off;
		if (r->marker_id == UEV_MARKER_ANNOUNCE) {
			a = r->len > 4 ? ann_add(d, uev_page_get32(&d->lay, r->payload),
						 (const char *)r->payload + 4, r->len - 4) : NULL;
			r->kind = a ? UEV_REC_ANNOUNCE : UEV_REC_UNKNOWN;
		} else {
			a = ann_find(d, r->marker_id);
			r->kind = a ? UEV_REC_USER : UEV_REC_UNKNOWN;
		}
		if (a) {
			r->def = &a->def;
			r->name = a->name;
		}
	} else if (r->event && r->event->system && !strcmp(r->event->system, "user_events")) {
		r->kind = UEV_REC_USER; /* by its definition, or by its kernel format */
		r->payload = data + 8;
		r->len = rec->size > 8 ? (size_t)rec->size - 8 : 0;
		if ((r->def = kdef(d, r->event)))
			r->name = r->event->name;
	}
	to_host(d, r);
}

const char *uev_decoder_why(const struct uev_decoder *d)
{
	return d->why ? d->why : "";
}

int uev_decoder_load(struct uev_decoder *d, void *page, size_t size, int cpu)
{
	if (d->raw_id < 0)
		find_raw(d);
	d->cpu = cpu;
	d->first = 1;
	d->started = 0;
	d->loaded = 0;
	if (!uev_page_check_visible(d->tep, d->visible, page, size, &d->lay, &d->why))
		return -EBADMSG;
	d->why = "kbuffer refused it";
	if (kbuffer_load_subbuffer(d->kbuf, page) < 0) {
		d->loaded = 0;
		return -EBADMSG;
	}
	d->loaded = 1;
	return 0;
}

int uev_decoder_next(struct uev_decoder *d, struct uev_rec *r, struct tep_record *rec)
{
	unsigned long long ts;
	void *data;

	if (!d->loaded)
		return 0;
	data = d->started ? kbuffer_next_event(d->kbuf, &ts) : kbuffer_read_event(d->kbuf, &ts);
	d->started = 1;
	if (!data) {
		d->loaded = 0;
		return 0;
	}
	*rec = (struct tep_record){
		.ts = ts,
		.cpu = d->cpu,
		.data = data,
		.size = kbuffer_event_size(d->kbuf),
	};
	*r = (struct uev_rec){ .cpu = d->cpu, .ts = ts, .record = rec };
	if (d->first) {
		int m = kbuffer_missed_events(d->kbuf);

		r->missed = m < 0 ? -1 : m;
		d->first = 0;
	}
	classify(d, r);
	return 1;
}

int uev_decoder_page(struct uev_decoder *d, void *page, size_t size, int cpu, uev_rec_fn fn, void *ctx)
{
	struct tep_record rec;
	struct uev_rec r;
	int ret;

	if (uev_decoder_load(d, page, size, cpu) < 0)
		return -EBADMSG;
	while (uev_decoder_next(d, &r, &rec)) {
		ret = fn ? fn(ctx, &r) : 0;
		if (ret)
			return ret;
	}
	return 0;
}

int uev_event_comm(struct tep_event *ev, struct tep_record *rec, int32_t *pid, char comm[16])
{
	const char *pidf, *commf, *v, *slash;
	unsigned long long val;
	size_t n;
	int len;

	if (!ev || !ev->name)
		return 0;
	if (!strcmp(ev->name, "sched_process_fork"))
		pidf = "child_pid", commf = "child_comm";
	else if (!strcmp(ev->name, "task_rename"))
		pidf = "pid", commf = "newcomm";
	else if (!strcmp(ev->name, "sched_process_exec"))
		pidf = "pid", commf = "filename";
	else
		return 0;
	/* tep_get_field_raw knows char[16] and the __data_loc of 6.x kernels */
	if (tep_get_field_val(NULL, ev, pidf, rec, &val, 0) < 0 || val > INT32_MAX ||
	    !(v = tep_get_field_raw(NULL, ev, commf, rec, &len, 0)) || len <= 0)
		return 0;
	n = strnlen(v, (size_t)len);
	if (*commf == 'f' && (slash = memrchr(v, '/', n))) {
		n -= (size_t)(slash + 1 - v);
		v = slash + 1;
	}
	snprintf(comm, 16, "%.*s", (int)(n < 15 ? n : 15), v);
	*pid = (int32_t)val;
	return 1;
}
