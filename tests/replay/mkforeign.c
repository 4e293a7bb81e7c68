/* SPDX-License-Identifier: MIT */
/*
 * replay-mkforeign FILE LAYOUT: a ring file as a machine of another byte
 * order or word size records it, with pages laid out as its kernel lays
 * them out (written here field by field, whatever this machine is):
 *
 *   be64  big-endian, 8-byte long (s390x, ppc64)
 *   le32  little-endian, 4-byte long (armv7, i386): 12-byte page header,
 *         4-byte commit word and stored missed count, 4-byte long fields
 *   be32  big-endian, 4-byte long
 *   le64  little-endian, 8-byte long (x86-64, arm64)
 *   v2    le64 as a version 2 writer made it: superblock version 2, a
 *         271-byte RUN_START without a layout (built record by record)
 *   bad   le64 pages, but a RUN_START saying 2-byte long: no decoder reads it
 *
 * One run, CPU 0, two pages. Page 1: a marker announcement (of event
 * fx_user) and the kernel event uevtest:kev (unsigned long addr, int value,
 * __data_loc char[] msg). Page 2, after 7 events the kernel lost (stored
 * count): an fx_user marker record (u16 a, u32 b, u64 c, s32 d,
 * __rel_loc char[] s) and kev again. The expected decoding (tests/replay/
 * foreign.sh) is the same for every layout but the addr of a 4-byte long.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring-common.h"
#include "fake-kernel.h"
#include "uev-abi.h"

#define USER_DEF "fx_user u16 a; u32 b; u64 c; s32 d; __rel_loc char[] s"

static int big;        /* the recording machine's byte order */
static unsigned lsize; /* its kernel's long */

static void put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[big ? n - 1 - i : i] = (uint8_t)(v >> (8 * i));
}

/* The kernel's event header word: type_len 5 bits, time_delta 27, a C
 * bitfield, so type_len is the low bits on little-endian, the high ones
 * on big-endian. */
static uint32_t ev_word(uint32_t type_len, uint32_t delta)
{
	return big ? type_len << 27 | delta : delta << 5 | type_len;
}

/* Appends an event of @len body bytes (a multiple of 4, at most 112) at
 * *@pos of the page data; returns its body. */
static uint8_t *event(uint8_t *data, uint32_t *pos, uint32_t len, uint32_t delta, uint16_t type)
{
	uint8_t *b = data + *pos + 4;

	put(data + *pos, ev_word(len / 4, delta), 4);
	put(b, type, 2);
	b[2] = 0; /* common_flags, common_preempt_count */
	b[3] = 0;
	put(b + 4, 4242, 4); /* common_pid */
	*pos += 4 + len;
	return b;
}

static uint32_t kev(uint8_t *data, uint32_t pos, uint32_t delta, int32_t value)
{
	uint32_t str = 8 + lsize + 8, len = (str + 7 + 3) & ~3u;
	uint8_t *b = event(data, &pos, len, delta, 600);

	put(b + 8, lsize == 8 ? 0xffff0000deadbeefull : 0xdeadbeefull, lsize);
	put(b + 8 + lsize, (uint32_t)value, 4);
	put(b + 8 + lsize + 4, 7u << 16 | str, 4); /* __data_loc: len, offset */
	memcpy(b + str, "kernel", 7);
	return pos;
}

/* The two sub-buffers; each page's length (header, data, count) in lens. */
static void pages(uint8_t pg[2][512], uint32_t lens[2])
{
	uint32_t hdr = 8 + lsize, pos = 0, n = (uint32_t)strlen(USER_DEF) + 1;
	uint8_t *d = pg[0] + hdr, *b;

	memset(pg, 0, 2 * 512);
	/* page 1: announcement (id UEVA; payload: u32 id, definition) */
	b = event(d, &pos, (12 + 4 + n + 3) & ~3u, 0, 19);
	put(b + 8, UEV_MARKER_ANNOUNCE, 4);
	put(b + 12, uev_marker_id(USER_DEF), 4);
	memcpy(b + 16, USER_DEF, n);
	pos = kev(d, pos, 1000, -7);
	put(pg[0], T0, 8);
	put(pg[0] + 8, pos, lsize);
	lens[0] = hdr + pos;
	/* page 2: missed events, 7 of them stored after the data */
	d = pg[1] + hdr;
	pos = 0;
	b = event(d, &pos, 12 + 32, 0, 19);
	put(b + 8, uev_marker_id(USER_DEF), 4);
	put(b + 12, 0x1234, 2);
	put(b + 14, 0x89abcdef, 4);
	put(b + 18, 0x0123456789abcdefull, 8);
	put(b + 26, (uint32_t)-5, 4);
	put(b + 30, 8u << 16 | 0, 4); /* __rel_loc: len, offset after the field */
	memcpy(b + 34, "swapped", 8);
	pos = kev(d, pos, 2000, 8);
	put(pg[1], T0 + 10000, 8);
	put(pg[1] + 8, pos | 1u << 31 | 1u << 30, lsize);
	put(d + pos, 7, lsize);
	lens[1] = hdr + pos + lsize;
}

static void formats(char *hp, size_t hpsize, char *kevf, size_t kevsize, char *raw, size_t rawsize)
{

	snprintf(hp, hpsize,
		 "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
		 "\tfield: local_t commit;\toffset:8;\tsize:%u;\tsigned:1;\n"
		 "\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
		 "\tfield: char data;\toffset:%u;\tsize:%u;\tsigned:1;\n",
		 lsize, 8 + lsize, 4096 - 8 - lsize);
	snprintf(kevf, kevsize,
		 "name: kev\nID: 600\n%s"
		 "\tfield:unsigned long addr;\toffset:8;\tsize:%u;\tsigned:0;\n"
		 "\tfield:int value;\toffset:%u;\tsize:4;\tsigned:1;\n"
		 "\tfield:__data_loc char[] msg;\toffset:%u;\tsize:4;\tsigned:1;\n\n"
		 "print fmt: \"addr=%%lx value=%%d msg=%%s\", REC->addr, REC->value, __get_str(msg)\n",
		 common, lsize, 8 + lsize, 12 + lsize);
	snprintf(raw, rawsize,
		 "name: raw_data\nID: 19\n%s"
		 "\tfield:unsigned int id;\toffset:8;\tsize:4;\tsigned:0;\n"
		 "\tfield:char buf[];\toffset:12;\tsize:0;\tsigned:0;\n\n"
		 "print fmt: \"id:%%04x %%08x\", REC->id, (int)REC->buf[0]\n",
		 common);
}


static void run_info(struct uev_ring_run_info *ri, int bad)
{
	memset(ri, 0, sizeof(*ri));
	snprintf(ri->boot_id, sizeof(ri->boot_id), "00000001-0000-4000-8000-000000000000");
	snprintf(ri->kernel_release, sizeof(ri->kernel_release), "6.1-foreign");
	snprintf(ri->seat, sizeof(ri->seat), "foreign");
	snprintf(ri->trace_clock, sizeof(ri->trace_clock), "boot");
	snprintf(ri->host, sizeof(ri->host), "elsewhere");
	ri->flush_interval_ms = 1000;
	ri->byte_order = big ? UEV_RING_BIG_ENDIAN : UEV_RING_LITTLE_ENDIAN;
	ri->long_size = bad ? 2 : (uint8_t)lsize;
}

/* Through the writer, as uev-aggregator on that machine would. */
static int with_writer(const char *path, int bad)
{
	struct uev_ring_create c = { .path = path, .size = 1 << 20, .seat = "foreign", .mode = 0644,
				     .gid = (gid_t)-1 };
	struct uev_ring_sync sy = { T0, WALL, T0, T0 };
	struct uev_ring_run_info ri;
	struct uev_ring_writer *w;
	char hp[512], kevf[1024], raw[1024], err[256];
	uint8_t pg[2][512];
	uint32_t lens[2];

	run_info(&ri, bad);
	formats(hp, sizeof(hp), kevf, sizeof(kevf), raw, sizeof(raw));
	pages(pg, lens);
	if (uev_ring_writer_open(&w, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "replay-mkforeign: %s\n", err);
		return 1;
	}
	if (uev_ring_writer_sync(w, &sy) < 0 ||
	    uev_ring_writer_format(w, UEV_RING_FMT_HEADER_PAGE, 0, "", "header_page", hp) < 0 ||
	    uev_ring_writer_format(w, UEV_RING_FMT_HEADER_EVENT, 0, "", "header_event", header_event) < 0 ||
	    uev_ring_writer_format(w, UEV_RING_FMT_EVENT, 19, "ftrace", "raw_data", raw) < 0 ||
	    uev_ring_writer_format(w, UEV_RING_FMT_EVENT, 600, "uevtest", "kev", kevf) < 0 ||
	    uev_ring_writer_begin_run(w, &ri) < 0 || uev_ring_writer_comm(w, 4242, "fx") < 0 ||
	    uev_ring_writer_page(w, 0, pg[0], lens[0]) < 0 ||
	    uev_ring_writer_page_lost(w, 0, pg[1], lens[1], 1, 7) < 0) {
		fprintf(stderr, "replay-mkforeign: writing failed\n");
		uev_ring_writer_close(w, NULL);
		return 1;
	}
	return uev_ring_writer_close(w, NULL) < 0;
}

/* Appends a record to segment @seg at *@pos. */
static void rec(uint8_t *seg, uint32_t *pos, uint64_t *seq, uint16_t type, uint16_t cpu, const void *p,
		uint32_t len)
{
	memcpy(seg + *pos + UEV_RING_REC_HDR, p, len);
	uev_ring_rechdr_seal(seg + *pos, &(struct uev_ring_rechdr){ type, cpu, len, (*seq)++, 1 });
	*pos += (uint32_t)uev_ring_rec_size(len);
}

static void fmt_rec(uint8_t *seg, uint32_t *pos, uint64_t *seq, uint8_t kind, uint32_t id,
		    const char *sys, const char *name, const char *text)
{
	uint8_t p[2048] = { kind };
	size_t ls = strlen(sys), ln = strlen(name), lt = strlen(text);

	uev_put32(p + 4, id);
	memcpy(p + 8, sys, ls + 1);
	memcpy(p + 9 + ls, name, ln + 1);
	memcpy(p + 10 + ls + ln, text, lt + 1);
	rec(seg, pos, seq, UEV_RING_FORMAT, 0xffff, p, (uint32_t)(11 + ls + ln + lt));
}

/* A version 2 file, record by record: what files written before version 3
 * hold (little-endian, 8-byte long pages of x86-64). */
static int version2(const char *path)
{
	struct uev_ring_super sb = { .version = 2, .seat = "foreign" };
	struct uev_ring_sync sy = { T0, WALL, T0, T0 };
	struct uev_ring_run_info ri;
	uint8_t *f, *seg, rs[UEV_RING_RUN_START_LEN], buf[64], comm[20] = { 0 };
	char hp[512], kevf[1024], raw[1024];
	uint8_t pg[2][512];
	uint32_t lens[2], pos = UEV_RING_SEG_HDR;
	uint64_t seq = 1, lost = 7;
	FILE *out;
	int ok;

	if (uev_ring_geometry(1 << 20, &sb.segment_size, &sb.segment_count) < 0)
		return 1;
	sb.file_size = UEV_RING_SUPER_SIZE + (uint64_t)sb.segment_count * sb.segment_size;
	if (!(f = calloc(1, sb.file_size)))
		return 1;
	seg = f + UEV_RING_SUPER_SIZE;
	uev_ring_super_encode(f, &sb);
	uev_ring_seghdr_encode(seg, &(struct uev_ring_seghdr){ 1, 1, 1, 0 });
	run_info(&ri, 0);
	formats(hp, sizeof(hp), kevf, sizeof(kevf), raw, sizeof(raw));
	pages(pg, lens);
	uev_ring_run_start_encode(rs, 1, &ri);
	rec(seg, &pos, &seq, UEV_RING_RUN_START, 0xffff, rs, UEV_RING_RUN_START_V2_LEN);
	uev_ring_sync_encode(buf, &sy);
	rec(seg, &pos, &seq, UEV_RING_SYNC, 0xffff, buf, UEV_RING_SYNC_LEN);
	fmt_rec(seg, &pos, &seq, UEV_RING_FMT_HEADER_PAGE, 0, "", "header_page", hp);
	fmt_rec(seg, &pos, &seq, UEV_RING_FMT_HEADER_EVENT, 0, "", "header_event", header_event);
	fmt_rec(seg, &pos, &seq, UEV_RING_FMT_EVENT, 19, "ftrace", "raw_data", raw);
	fmt_rec(seg, &pos, &seq, UEV_RING_FMT_EVENT, 600, "uevtest", "kev", kevf);
	uev_put32(comm, 4242);
	memcpy(comm + 4, "fx", 3);
	rec(seg, &pos, &seq, UEV_RING_COMM, 0xffff, comm, sizeof(comm));
	rec(seg, &pos, &seq, UEV_RING_PAGE, 0, pg[0], lens[0]);
	uev_put64(buf, lost);
	rec(seg, &pos, &seq, UEV_RING_LOST, 0, buf, 8);
	rec(seg, &pos, &seq, UEV_RING_PAGE, 0, pg[1], lens[1]);
	uev_ring_run_end_encode(buf, WALL + 1, &(struct uev_ring_counters){ 2, lens[0] + lens[1], 7 });
	rec(seg, &pos, &seq, UEV_RING_RUN_END, 0xffff, buf, UEV_RING_RUN_END_LEN);
	ok = (out = fopen(path, "wb")) && fwrite(f, 1, sb.file_size, out) == sb.file_size;
	ok = out && !fclose(out) && ok;
	free(f);
	if (!ok)
		perror(path);
	return !ok;
}

int main(int argc, char **argv)
{
	const char *l = argc == 3 ? argv[2] : "";

	if (argc != 3 || (strcmp(l, "be64") && strcmp(l, "le32") && strcmp(l, "be32") &&
			  strcmp(l, "le64") && strcmp(l, "v2") && strcmp(l, "bad"))) {
		fprintf(stderr, "usage: replay-mkforeign FILE be64|le32|be32|le64|v2|bad\n");
		return 2;
	}
	big = l[0] == 'b' && l[1] == 'e';
	lsize = strstr(l, "32") ? 4 : 8;
	remove(argv[1]);
	return !strcmp(l, "v2") ? version2(argv[1]) : with_writer(argv[1], !strcmp(l, "bad"));
}
