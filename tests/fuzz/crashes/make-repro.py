#!/usr/bin/env python3
# Writes the hand-made reproducers of tests/fuzz/crashes/ (README there says
# what each shows). Each one is the smallest input for one bug that the
# fuzzers found in many variants; fuzz_ring/page-commit-past-record is the
# fuzzer's own, minimized with -minimize_crash, and is not written here.
# usage: make-repro.py   (writes next to itself)
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))
SEP = b"--uev-fuzz-segment--"  # fuzz_ring.c: FUZZ_SEP


def write(name, blob):
    with open(os.path.join(here, name), "wb") as f:
        f.write(blob)


def page(commit, body, ts=1000, flags=0):
    """A sub-buffer: u64 timestamp, u64 commit (+ flags), the data."""
    return struct.pack("<QQ", ts, commit | flags) + body


def event(words):
    """A ring-buffer data event of len(words)*4 bytes (type_len 1..28)."""
    return struct.pack("<I", len(words) // 4) + words


# ---- fuzz_page ------------------------------------------------------------

# The page header commits 4 bytes; they hold an event header that claims
# 44 bytes of data (type_len 11). kbuffer hands the event out anyway and
# classify() reads its common fields past the page.
write("fuzz_page/event-past-commit", page(4, struct.pack("<I", 11)))

# A data event (type_len 0) whose length word is -4: kbuffer's next event
# starts where this one did, and uev_decoder_page() calls back forever.
write("fuzz_page/event-no-progress",
      page(16, struct.pack("<II", 0, 0xfffffffc) + struct.pack("<HBBi", 999, 0, 0, 1)))

# The same with a padding event (type_len 29): kbuffer loops inside
# kbuffer_load_subbuffer() and never returns.
write("fuzz_page/padding-no-progress", page(8, struct.pack("<II", 29, 0xfffffffc)))

# printk:console (id 411 here) whose __data_loc msg is 4 bytes at offset 12
# with no NUL: libtraceevent prints it with %s, past the record and the page.
con = struct.pack("<HBBiI", 411, 0, 0, 1, (4 << 16) | 12) + b"AAAA"
write("fuzz_page/data-loc-unterminated", page(4 + len(con), event(con)))

# A marker record (ftrace:raw_data, id 19 here) of the demo_tick event whose
# event length (type_len 0, 4096 bytes) runs past the page: uev's payload
# length is taken from it, and uev_payload_field() reads mono_ns past the end.
tick = struct.pack("<HBBiI", 19, 0, 0, 1, 0x5efff69f) + struct.pack("<III", 1, 2, 3)
write("fuzz_page/marker-len-past-page",
      page(8 + len(tick), struct.pack("<II", 0, 4096 + 4) + tick))

# ---- fuzz_ring --------------------------------------------------------------
# Inputs in fuzz_ring's encoding with ctl 0x1f: the harness makes the
# geometry and every CRC and seq right, so only the payloads matter.


def rec(typ, payload, cpu=0xffff):
    """A record; seq, segment_lo and crc are filled in by the harness."""
    b = struct.pack("<HHIQII", typ, cpu, len(payload), 0, 0, 0) + payload
    return b + b"\0" * (-len(b) % 8)


def ring(*records):
    seghdr = b"USEG" + struct.pack("<IQQQI", 0, 1, 1, 1, 0) + b"\0" * 28
    return bytes([0x1F]) + b"\0" * 128 + SEP + seghdr + b"".join(records)


run_start = rec(1, struct.pack("<Q", 1) + b"\0" * 259)


def fmt(system, name, text, id_):
    return rec(3, struct.pack("<BxxxI", 2, id_) + system + b"\0" + name + b"\0" + text + b"\0")


# A FORMAT record whose text ends inside a field line ("char x["):
# tep_parse_event() dereferences NULL (libtraceevent 1.7.1).
write("fuzz_ring/format-unterminated-array",
      ring(run_start, fmt(b"s", b"e", b"name: e\nID: 900\nformat:\n\tfield:char x[", 900)))

# A FORMAT record (the fuzzer's, minimized) on which tep_parse_event()
# divides by zero: SIGFPE (libtraceevent 1.7.1).
fpe = (b'name:c\nID:6\nformat:\nfield:t d;offset:4;size:4;signed:1;\n\nfield:c m;offset:8;'
       b'size:4;signed:0;\nfield:p d;offset:2;size:4;signed:1;\nfield:c m;offset:6;size:4;'
       b'signed:0;\nfield:t c;offset:0;size:4;signed:1;\n\nprint fmt:"",__get_str(m),REC->r/n/a')
write("fuzz_ring/format-fpe", ring(run_start, fmt(b"sched", b"c", fpe, 6)))

# The printk:console case of fuzz_page/data-loc-unterminated, stored in a
# ring file with its format and placed so that the PAGE record ends exactly
# at the segment end (a COMM record fills the space before it): the string
# runs off the reader's segment buffer through uev_ring_decode(), the path
# of uev-ringdump and replay.
console_fmt = (b"name: console\nID: 411\nformat:\n"
               b"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
               b"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
               b"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
               b"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
               b"\tfield:__data_loc char[] msg;\toffset:8;\tsize:4;\tsigned:0;\n\n"
               b'print fmt: "%s", __get_str(msg)\n')
con8 = struct.pack("<HBBiI", 411, 0, 0, 1, (8 << 16) | 12) + b"AAAAAAAA"
pg = rec(6, page(4 + len(con8), event(con8)), cpu=0)
head = [run_start, fmt(b"printk", b"console", console_fmt, 411)]
used = 64 + sum(map(len, head)) + len(pg)
filler = rec(5, b"\x01" * (65536 - used - 24))
assert 64 + sum(map(len, head)) + len(filler) + len(pg) == 65536 and len(pg) == 64
write("fuzz_ring/page-data-loc-unterminated", ring(*head, filler, pg))

# fuzz_page/padding-no-progress as a PAGE record: uev_ring_decode() (and
# uev-ringdump) never returns.
write("fuzz_ring/page-padding-no-progress",
      ring(run_start, rec(6, page(8, struct.pack("<II", 29, 0xfffffffc)), cpu=0)))

# ---- found after e3e2f63 (page-check.c, format-vet.c) ----------------------

# An event format whose print fmt tells libtraceevent to hex-dump 2^31
# bytes of a 4-byte field: page-check.c bounds the fields, but the print
# format is evaluated by tep_print_event() (decode.c, uev_rec_print_fields)
# and reads past the record, the segment buffer and the heap, leaking what
# it reads into the output until it faults.
hexfmt = (b"name: ev\nID: 500\nformat:\n" + console_fmt[console_fmt.index(b"\tfield:unsigned short"):
                                                    console_fmt.index(b"\tfield:__data_loc")]
          + b"\tfield:char x[4];\toffset:8;\tsize:4;\tsigned:0;\n\n"
          + b'print fmt: "%s", __print_hex(REC->x, 0x7fffffff)\n')
ev = struct.pack("<HBBi", 500, 0, 0, 1) + b"abcd"
write("fuzz_ring/format-print-hex-past-record",
      ring(run_start, fmt(b"probe", b"ev", hexfmt, 500), rec(6, page(4 + len(ev), event(ev)), cpu=0)))

# A padding event of 9 bytes (the kernel pads in multiples of 4: the
# header word, a length word of 5, one byte more) followed by
# a marker announcement: kbuffer steps by the padding's length as given,
# every later event is misaligned, and uev_rec_print_fields() loads the
# announced id through a uint32_t pointer (UBSan: misaligned load; a
# SIGBUS where the CPU requires alignment).
ann_def = b"demo_label char[16] tag; u16 code\0"
ann = struct.pack("<HBBiI", 19, 0, 0, 1, 0x41564555) + struct.pack("<I", 0xfa9704b2) + ann_def
ann += b"\0" * (-len(ann) % 4)
body = struct.pack("<II", 29, 5) + b"\0" + event(ann)
write("fuzz_page/padding-misaligns-events", page(len(body), body))
