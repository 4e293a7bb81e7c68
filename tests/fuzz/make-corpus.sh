#!/usr/bin/env bash
# Regenerate the seed corpus (tests/fuzz/corpus/) from real data of this
# host: a 300K ring file that uev-aggregator fills with two runs of the demo
# emitter, a kernel message and a few execs (the second run continues the
# first one's segment, as ring format version 2 allows; the first writes
# PAGE records, the second compressed units), converted to fuzz_ring's
# input encoding (see fuzz_ring.c), and the PAGE records it holds as fuzz_page
# seeds (sub-buffers as trace_pipe_raw gives them, cut to header + commit).
# Then the files replay-mkforeign synthesizes for machines of another byte
# order or word size (and one of a layout no decoder reads) as fuzz_ring
# seeds: the decoders' other layouts; and the little-endian one again with
# its pages packed into UNIT records (replay-mkunits): compressed units.
#
# usage: make-corpus.sh [BUILD_DIR]   (default build-fuzz; needs root and
#        tracefs; BUILD_DIR must have uev-aggregator and uev-demo built)
#
# The seat gets a unique name and its tracefs instance is removed on every
# exit path. The fuzz_page seeds carry event ids of this host's kernel,
# which match the formats fuzz_page.c embeds; rerun both on a kernel whose
# ids differ.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-fuzz}
agg=$build/aggregator/uev-aggregator
demo=$build/libuev/demo/uev-demo
mkforeign=$build/tests/replay/replay-mkforeign
mkunits=$build/tests/replay/replay-mkunits
out=$src/tests/fuzz/corpus

if [ "$(id -u)" -ne 0 ] || [ ! -e /sys/kernel/tracing/trace ]; then
	echo "make-corpus.sh: needs root and tracefs" >&2; exit 1
fi
for b in "$agg" "$demo" "$mkforeign" "$mkunits"; do
	[ -x "$b" ] || { echo "make-corpus.sh: $b is not built (ninja -C $build)" >&2; exit 1; }
done

seat="fzcorpus$$"
dir=$(mktemp -d)
agg_pid=
cleanup() {
	if [ -n "$agg_pid" ]; then kill "$agg_pid" 2>/dev/null; wait "$agg_pid" 2>/dev/null; fi
	rmdir "/sys/kernel/tracing/instances/uev.$seat" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
# The tools may be built with ASan: their exit-time leak report is not
# what this script is about.
export ASAN_OPTIONS=detect_leaks=0

# The default kernel events, filtered down to what this script causes:
# the whole host's forks and execs would make big seeds of other people's
# processes (and slow fuzzing down).
cat >"$dir/seat.conf" <<'EOF'
[kernel]
event = printk:console
event = sched:sched_process_exec if filename ~ "*/uev-demo" || filename ~ "*/true"
event = sched:sched_process_fork if parent_comm == "uev-demo" || parent_comm == "make-corpus.sh"
event = task:task_rename if newcomm == "uev-demo" || newcomm == "true"
EOF

one_run() { # demo events per thread, compression
	"$agg" --seat "$seat" --config "$dir/seat.conf" --ring "$dir/r.ring" --size 300K \
		--run-dir "$dir/run" --flush-interval 100 --compression "$2" 2>"$dir/agg.log" &
	agg_pid=$!
	for _ in $(seq 200); do
		[ -e "$dir/run/$seat.enable" ] && [ -e "/sys/kernel/tracing/instances/uev.$seat" ] && break
		sleep 0.05
	done
	sleep 0.3
	UEV_RUN_DIR=$dir/run UEV_BACKEND=marker "$demo" -s "$seat" -n "$1" -i 1 >/dev/null
	echo "uev fuzz corpus: a kernel message" >/dev/kmsg
	for _ in 1 2 3; do /bin/true; done
	sleep 0.5
	kill -TERM "$agg_pid"
	wait "$agg_pid" || { cat "$dir/agg.log" >&2; echo "make-corpus.sh: aggregator failed" >&2; exit 1; }
	agg_pid=
}
# The first run writes PAGE records (the fuzz_page seeds come from
# them), the second compressed units, as uev-aggregator does by default.
one_run 4 none
one_run 2 zstd
rmdir "/sys/kernel/tracing/instances/uev.$seat" 2>/dev/null || true

rm -rf "$out"
mkdir -p "$out/fuzz_ring" "$out/fuzz_page"
python3 - "$dir/r.ring" "$out" <<'PY'
import struct, sys

SEP = b"--uev-fuzz-segment--"   # fuzz_ring.c: FUZZ_SEP
ring, out = sys.argv[1], sys.argv[2]
data = open(ring, "rb").read()
S, N = struct.unpack_from("<II", data, 24)
sb = data[:128]
assert data[:8] == b"UEVRING\0" and len(data) == 4096 + N * S

def seg(i):
    return data[4096 + i * S:4096 + (i + 1) * S].rstrip(b"\0")

segs = [seg(i) for i in range(N)]
while segs and not segs[-1]:
    segs.pop()
for s in segs:
    assert all(m not in s for m in (SEP, b"--uev-fuzz-at--", b"--uev-fuzz-later--")), \
        "separator inside the data"

def write(name, blob):
    with open(f"{out}/{name}", "wb") as f:
        f.write(blob)

def records(s):
    """Offsets and types of the records of segment image @s."""
    out, pos = [], 64
    while pos + 24 <= len(s):
        typ, cpu, ln = struct.unpack_from("<HHI", s, pos)
        if typ == 0:
            break
        out.append((pos, typ))
        pos += (24 + ln + 7) & ~7
    return out

# The second run starts in the middle of the first segment, with its
# RUN_START (type 1) right after the first run's RUN_END.
assert struct.unpack_from("<I", sb, 8)[0] == 4, "not a version 4 ring"
assert any(typ == 9 for pos, typ in records(segs[0])), "the second run wrote no UNIT record"
starts = [pos for pos, typ in records(segs[0]) if typ == 1]
assert len(starts) > 1, ("the second run took a new segment: the first left less than a "
                         "quarter segment (kernel messages of other users?); run again")
run2 = starts[1]

# ctl 0x1f: every fix (mutations reach the decoder); 0x00: the file as is.
write("fuzz_ring/two-runs-fixed", bytes([0x1f]) + sb + b"".join(SEP + s for s in segs))
write("fuzz_ring/two-runs-raw", bytes([0x00]) + sb + b"".join(SEP + s for s in segs))
# The second run alone at the start of a fresh file's first segment, whose
# header still names the first run (every fix on: seqs follow the header).
write("fuzz_ring/second-run-fixed", bytes([0x1f]) + sb + SEP + segs[0][:64] + segs[0][run2:])
# Just the superblock: an empty ring, every open-time check.
write("fuzz_ring/empty", bytes([0x00]) + sb)

# The first segment again in a ring of 256 KiB segments (ctl 0x3f): its
# records split in two, and between them a COMM record with a zero payload
# (the harness computes its CRC) long enough that the next record
# straddles the reader's 128 KiB window boundary. The second half is a
# piece placed there (AT, see fuzz_ring.c).
AT = b"--uev-fuzz-at--"         # fuzz_ring.c: FUZZ_AT
bounds = [pos for pos, typ in records(segs[0])]
half = bounds[len(bounds) // 2]
at = (128 << 10) - 16
filler = struct.pack("<HHIQII", 5, 0xffff, at - half - 24, 0, 0, 0)
assert AT not in segs[0]
write("fuzz_ring/window-straddle", bytes([0x3f]) + sb + SEP + segs[0][:half] + filler +
      AT + struct.pack("<I", at) + segs[0][half:])

# Following a live file (LATER, see fuzz_ring.c): the reader first sees the
# first segment cut after half its records, as a writer would leave it
# mid-flush; then the rest of that segment arrives, the second run's
# records in it, and the reader is refreshed.
LATER = b"--uev-fuzz-later--"   # fuzz_ring.c: FUZZ_LATER
write("fuzz_ring/follow-live", bytes([0x1f]) + sb + SEP + segs[0][:half] + LATER +
      bytes([0]) + segs[0])
# The same with the cut at the first run's end: a restart while following,
# the new run's checkpoint appearing where the reader waits.
write("fuzz_ring/follow-restart", bytes([0x1f]) + sb + SEP + segs[0][:run2] + LATER +
      bytes([0]) + segs[0])

# PAGE records (type 6) of every valid segment, in file order.
pages = []
for s in segs:
    for pos, typ in records(s):
        ln = struct.unpack_from("<I", s, pos + 4)[0]
        if typ == 6 and pos + 24 + ln <= S:
            pages.append(s[pos + 24:pos + 24 + ln])

def event_ids(p):
    """Event ids (common_type) in a sub-buffer (ring buffer event headers)."""
    ids, pos = set(), 16
    end = 16 + (struct.unpack_from("<Q", p, 8)[0] & ((1 << 27) - 1))
    while pos + 4 <= min(end, len(p)):
        tl = struct.unpack_from("<I", p, pos)[0] & 31
        if tl == 0:
            ln, d = struct.unpack_from("<I", p, pos + 4)[0] - 4, pos + 8
        elif tl <= 28:
            ln, d = tl * 4, pos + 4
        elif tl == 29:
            ln, d = struct.unpack_from("<I", p, pos + 4)[0], pos + 4
        else:
            ln, d = 4, pos + 4
        if tl <= 28 and d + 2 <= len(p):
            ids.add(struct.unpack_from("<H", p, d)[0])
        pos = d + ((ln + 3) & ~3)
    return ids

# For each event id seen, the biggest page holding it that is not chosen
# yet: a few seeds of different sizes that together hold every event.
seen, chosen = set(), []
for i in sorted(set().union(*map(event_ids, pages))):
    cand = [p for p in pages if i in event_ids(p) and p not in chosen]
    if cand:
        chosen.append(max(cand, key=len))
        seen |= event_ids(chosen[-1])
for n, p in enumerate(chosen):
    write(f"fuzz_page/page-{n}-ids-" + "-".join(map(str, sorted(event_ids(p)))), p)
n = len(chosen)
print(f"make-corpus.sh: {len(segs)} segments, {len(pages)} pages, "
      f"{n} page seeds (event ids {sorted(seen)})")
PY
# Other machines' files (tests/replay/mkforeign.c): their one segment,
# every fix on.
for l in be64 le32 be32 bad; do
	"$mkforeign" "$dir/$l.ring" "$l"
done
# Compressed units (tests/replay/mkunits.c): the le64 file with its pages
# in UNIT records.
"$mkforeign" "$dir/le64.ring" le64
"$mkunits" "$dir/le64.ring" "$dir/units.ring" >/dev/null
python3 - "$dir" "$out" <<'PY'
import struct, sys

SEP = b"--uev-fuzz-segment--"
d, out = sys.argv[1], sys.argv[2]
for l in ("be64", "le32", "be32", "bad", "units"):
    data = open(f"{d}/{l}.ring", "rb").read()
    S = struct.unpack_from("<I", data, 24)[0]
    seg = data[4096:4096 + S].rstrip(b"\0")
    assert SEP not in seg
    with open(f"{out}/fuzz_ring/" + ("units-le64" if l == "units" else f"foreign-{l}"), "wb") as f:
        f.write(bytes([0x1f]) + data[:128] + SEP + seg)
PY
ls -l "$out"/*
