#!/usr/bin/env bash
# The retention benchmark (root): how many events a full ring holds, uev
# with compressed units against uev with raw pages and against trace-cmd's
# file for the same events, on two loads, in one run.
#
# usage: bench/retention/run.sh [RING_SIZE]      (default 64M)
# env:   BUILD=build-bench, KEEP=1 keeps the work directory (the rings)
#
# Loads (as in bench/codec/run.sh):
#  drain  bench/drain/produce: 40-byte raw markers, unpaced, one pinned
#         thread per CPU, in rounds of 2 s; the seat records printk:console
#         (idle); clock mono.
#  mixed  bench/replay/fill's typed user events (3 integers and a string
#         that changes), unpaced, a /dev/kmsg line every 2 000, in rounds
#         of 500 000 while a shell starts 100 short processes; the seat
#         also records sched_switch, sched_wakeup, fork, exec and
#         task_rename; clock boot.
#
# For each load, uev-aggregator records into a fresh ring of RING_SIZE,
# once with [ring] compression = zstd (the default, level 1) and once with
# none, round after round until the ring has wrapped (a segment header
# shows a segment_seq above the segment count): the ring is full, as one
# in service is. Events held: uev-replay --stats (every event of every
# kind it shows; the span it covers).
#
# trace-cmd, for the same events as the full raw ring (and, zstd only,
# as the full compressed ring): uev-replay
# --trace-dat writes them as a trace.dat (uncompressed, the kernel's pages
# copied), and `trace-cmd convert` rewrites that file as trace-cmd record
# writes its own: --compression zstd (record's default here) and
# --compression none (file version 7). Its events held = RING_SIZE / (its
# bytes per event). For the drain load, trace-cmd record itself also runs
# (default compression, then --compression none) on the same load at
# 400 000/s for 5 s, as a check of the converted files.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# shellcheck disable=SC1091 # sourced from the repository
. .ci/deps.sh
uev_deps trace-cmd libzstd-dev
uev_tracefs
T=/sys/kernel/tracing
ring_size=${1:-64M}
build=${BUILD:-build-bench}

[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" aggregator/uev-aggregator aggregator/uev-replay bench/replay/fill \
	bench/drain/produce >/dev/null
agg=$root/$build/aggregator/uev-aggregator
replay=$root/$build/aggregator/uev-replay

out=$(mktemp -d /tmp/uev-bench-retention.XXXXXX)
agg_pid=
inst=
cleanup() {
	if [ -n "$agg_pid" ]; then kill -TERM "$agg_pid" 2>/dev/null; wait "$agg_pid" 2>/dev/null; fi
	if [ -n "$inst" ] && [ -d "$inst" ]; then rmdir "$inst" 2>/dev/null || echo "# could not remove $inst" >&2; fi
	[ -d $T/instances/retpeer ] && rmdir $T/instances/retpeer 2>/dev/null
	if [ -z "${KEEP:-}" ]; then rm -rf "$out"; else echo "# kept $out" >&2; fi
}
trap cleanup EXIT

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), $(trace-cmd --version 2>&1 | grep -m1 version | sed 's/ (.*//')"
echo "# command: bench/retention/run.sh $*"
echo "# uev: commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); load at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# wrapped RING: has the writer come round (a segment_seq above the count)?
wrapped() {
	python3 - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
S, N = struct.unpack_from('<II', b, 24)
top = 0
for i in range(N):
    o = 4096 + i * S
    if b[o:o + 4] == b'USEG':
        top = max(top, struct.unpack_from('<Q', b, o + 8)[0])
sys.exit(0 if top > N else 1)
PY
}

# shellcheck disable=SC1091 # sourced from the repository
. bench/agg-lib.sh

# start NAME COMPRESSION CLOCK EVENTS...: an aggregator on a fresh seat
start() {
	local name=$1 comp=$2 clock=$3 e
	shift 3
	{
		printf '[seat]\nclock = %s\nflush_interval_ms = 200\nbuffer_kb = 8192\n' "$clock"
		printf '[ring]\npath = %s\nsize = %s\ncompression = %s\n[kernel]\n' "$out/$name.ring" "$ring_size" "$comp"
		for e in "$@"; do printf 'event = %s\n' "$e"; done
	} >"$out/$name.conf"
	bench_agg_start "$name" "uevrt$$$name"
}
stop() { bench_agg_stop "$1"; }

round_drain() { "$root/$build/bench/drain/produce" "$inst/trace_marker_raw" 0 2 >>"$out/$1.load"; }
round_mixed() {
	(for _ in $(seq 100); do /bin/true; sleep 0.005; done) &
	"$root/$build/bench/replay/fill" "$seat_name" "$out/run" 500000 2000 >>"$out/$1.load"
	wait $!
}

# record LOAD COMPRESSION: a full ring, then its numbers into $out/LOAD-COMP.res
record() {
	local load=$1 comp=$2 name=$1-$2 rounds=0
	if [ "$load" = drain ]; then start "$name" "$comp" mono printk:console
	else start "$name" "$comp" boot printk:console sched:sched_switch sched:sched_wakeup \
		sched:sched_process_fork sched:sched_process_exec task:task_rename; fi
	until wrapped "$out/$name.ring"; do
		"round_$load" "$name"
		rounds=$((rounds + 1))
		sleep 0.3 # the flush interval: what was read is in the file
		[ "$rounds" -le 200 ] || { echo "$name: not full after $rounds rounds" >&2; exit 1; }
	done
	stop "$name"
	"$replay" --stats "$out/$name.ring" >"$out/$name.stats" 2>&1
	local ev span
	ev=$(sed -n 's/^events: \([0-9]*\) shown.*/\1/p' "$out/$name.stats")
	span=$(sed -n 's/^span: .*(\([0-9.]*\) s)$/\1/p' "$out/$name.stats")
	echo "$ev $span $rounds" >"$out/$name.res"
	echo "# $name: $rounds rounds; $(grep '^# ' "$out/$name.stats" | head -2 | tr '\n' ' ')" >&2
}

# tc_same LOAD: trace-cmd's files for the events of the full raw ring
tc_same() {
	local load=$1 raw=$out/$1-none.ring ev
	"$replay" --trace-dat "$out/$load.dat" "$raw" >/dev/null 2>"$out/$load.dat.err"
	trace-cmd convert -i "$out/$load.dat" -o "$out/$load-tczstd.dat" --compression zstd >/dev/null 2>&1
	trace-cmd convert -i "$out/$load.dat" -o "$out/$load-tcnone.dat" --compression none >/dev/null 2>&1
	ev=$(awk '{print $1}' "$out/$load-none.res")
	echo "$ev $(stat -c %s "$out/$load-tczstd.dat") $(stat -c %s "$out/$load-tcnone.dat")" >"$out/$load-tc.res"
}

# tc_zsame LOAD: trace-cmd's zstd file for the events of the full
# compressed ring: "events bytes"
tc_zsame() {
	local load=$1
	"$replay" --trace-dat "$out/$load-z.dat" "$out/$load-zstd.ring" >/dev/null 2>"$out/$load-z.dat.err"
	trace-cmd convert -i "$out/$load-z.dat" -o "$out/$load-z-tczstd.dat" --compression zstd >/dev/null 2>&1
	rm -f "$out/$load-z.dat"
	echo "$(awk '{print $1}' "$out/$load-zstd.res") $(stat -c %s "$out/$load-z-tczstd.dat")" >"$out/$load-tcz.res"
}

# tc_live COMP: trace-cmd record of the drain load at 400 000/s for 5 s:
# "events bytes"
tc_live() {
	local comp=() w=$out/live-$1
	mkdir -p "$w"
	[ "$1" = none ] && comp=(--compression none)
	[ -d $T/instances/retpeer ] && rmdir $T/instances/retpeer
	(cd "$w" && exec trace-cmd record -q -d --no-filter "${comp[@]}" -B retpeer -b 8192 -C mono \
		-e printk:console -o "$w/trace.dat" >"$w/stdout" 2>"$w/stderr") &
	local tpid=$!
	for _ in $(seq 300); do [ "$(cat $T/instances/retpeer/tracing_on 2>/dev/null)" = 1 ] && break; sleep 0.1; done
	sleep 0.2
	"$root/$build/bench/drain/produce" "$T/instances/retpeer/trace_marker_raw" 400000 5 >"$w/load"
	kill -INT "$tpid"; wait "$tpid" || true # exits 1 at its very end here (bench/drain/run.sh)
	[ -d $T/instances/retpeer ] && rmdir $T/instances/retpeer
	echo "$(awk '{print $2}' "$w/load") $(stat -c %s "$w/trace.dat")"
}

ring_bytes=$(python3 -c "
import sys; s=sys.argv[1]; m={'K':1<<10,'M':1<<20,'G':1<<30}
print(int(s[:-1])*m[s[-1].upper()] if s[-1].upper() in m else int(s))" "$ring_size")

for load in drain mixed; do
	record "$load" zstd
	record "$load" none
	tc_same "$load"
	tc_zsame "$load"
done
live_z=$(tc_live zstd)
live_n=$(tc_live none)

echo
echo "Events held by a full $ring_size ring (uev: counted in the ring; trace-cmd: $ring_size / its bytes per event;"
echo "\"the zstd ring's events\": trace-cmd's file for exactly the events the compressed ring holds):"
echo
echo "| load | recorder | events held | x uev none | B/event | span held |"
echo "|---|---|---|---|---|---|"
for load in drain mixed; do
	read -r ez sz rz <"$out/$load-zstd.res"
	read -r en sn rn <"$out/$load-none.res"
	read -r et bz bn <"$out/$load-tc.res"
	read -r ezt bzt <"$out/$load-tcz.res"
	awk -v l="$load" -v rb="$ring_bytes" -v ez="$ez" -v sz="$sz" -v en="$en" -v sn="$sn" -v et="$et" \
		-v bz="$bz" -v bn="$bn" -v ezt="$ezt" -v bzt="$bzt" 'BEGIN {
		printf "| %s | uev, compression zstd:1 | %d | %.2f | %.2f | %.1f s |\n", l, ez, ez / en, rb / ez, sz
		printf "| %s | uev, compression none | %d | 1 | %.2f | %.1f s |\n", l, en, rb / en, sn
		tz = rb / (bz / et); tn = rb / (bn / et)
		printf "| %s | trace-cmd file, zstd (convert) | %d | %.2f | %.2f | |\n", l, tz, tz / en, bz / et
		printf "| %s | trace-cmd file, none (convert) | %d | %.2f | %.2f | |\n", l, tn, tn / en, bn / et
		tzz = rb / (bzt / ezt)
		printf "| %s | trace-cmd file, zstd (convert), the zstd ring'"'"'s events | %d | %.2f | %.2f | |\n", l, tzz, tzz / en, bzt / ezt
	}'
	if [ "$load" = drain ]; then
		awk -v rb="$ring_bytes" -v en="$en" -v z="$live_z" -v n="$live_n" 'BEGIN {
			split(z, a, " "); split(n, b, " ")
			printf "| drain | trace-cmd record, zstd (live, 400 000/s) | %d | %.2f | %.2f | |\n", rb / (a[2] / a[1]), rb / (a[2] / a[1]) / en, a[2] / a[1]
			printf "| drain | trace-cmd record, none (live, 400 000/s) | %d | %.2f | %.2f | |\n", rb / (b[2] / b[1]), rb / (b[2] / b[1]) / en, b[2] / b[1]
		}'
	fi
done
