/* SPDX-License-Identifier: MIT */
/*
 * What the synthesized ring files of tests/replay take from a kernel: the
 * ring buffer's header_page (64-bit little-endian layout) and header_event
 * texts, the common fields every event format starts with, one event
 * format (uevtest:alpha, id 600, an int value), and the trace time and wall
 * clock of their sync points. One copy for every generator here.
 */
#ifndef UEV_TESTS_FAKE_KERNEL_H
#define UEV_TESTS_FAKE_KERNEL_H

#define T0 5000000000ull
#define WALL 1700000000000000000ull

static const char header_page[] =
	"\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
	"\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n"
	"\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
	"\tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;\n";
static const char header_event[] =
	"# compressed entry header\n\ttype_len    :    5 bits\n\ttime_delta  :   27 bits\n"
	"\tarray       :   32 bits\n\n\tpadding     : type == 29\n\ttime_extend : type == 30\n"
	"\ttime_stamp : type == 31\n\tdata max type_len  == 28\n";
#define FAKE_COMMON_FIELDS \
	"format:\n" \
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" \
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n" \
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n" \
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
static const char common[] = FAKE_COMMON_FIELDS;
static const char alpha[] =
	"name: alpha\nID: 600\n" FAKE_COMMON_FIELDS
	"\tfield:int value;\toffset:8;\tsize:4;\tsigned:1;\n\n"
	"print fmt: \"value=%d\", REC->value\n";

#endif
