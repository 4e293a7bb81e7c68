#!/usr/bin/env bash
# The codec study (root): record the two loads of issue 14 into ring files
# through a real uev-aggregator, then run codec-study on each: how much
# each codec and unit size would shrink the stored pages, at what CPU.
#
# usage: bench/codec/run.sh [UNIT_KB...]      (default 16 64 256)
# env:   BUILD=build-bench, KEEP=1 keeps the work directory (the rings)
#
# Loads (one ring of 64 MiB each, not wrapped):
#  drain  the drain benchmark's: bench/drain/produce, 40-byte raw markers
#         at 200 000/s for 3 s, one pinned thread per CPU; printk:console
#         enabled (idle), clock mono.
#  mixed  a desktop-like mix: bench/replay/fill's typed user events
#         (3 integers and a 6-14 byte string that changes) 400 000 of
#         them unpaced, a /dev/kmsg line every 2 000, while a shell starts
#         300 short processes; the seat records printk:console,
#         sched_switch, sched_wakeup, sched_process_fork/exec and
#         task_rename.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# shellcheck disable=SC1091 # sourced from the repository
. .ci/deps.sh
uev_deps libzstd-dev liblz4-dev
uev_tracefs
T=/sys/kernel/tracing
build=${BUILD:-build-bench}

[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
# a build directory made before liblz4-dev was installed has no codec-study
[ -f "$build/bench/codec/codec-study" ] || meson setup --reconfigure "$build" >/dev/null
ninja -C "$build" aggregator/uev-aggregator aggregator/uev-replay bench/replay/fill \
	bench/drain/produce bench/codec/codec-study >/dev/null
agg=$root/$build/aggregator/uev-aggregator
replay=$root/$build/aggregator/uev-replay

out=$(mktemp -d /tmp/uev-bench-codec.XXXXXX)
agg_pid=
inst=
cleanup() {
	if [ -n "$agg_pid" ]; then kill -TERM "$agg_pid" 2>/dev/null; wait "$agg_pid" 2>/dev/null; fi
	if [ -n "$inst" ] && [ -d "$inst" ]; then rmdir "$inst" 2>/dev/null || echo "# could not remove $inst" >&2; fi
	if [ -z "${KEEP:-}" ]; then rm -rf "$out"; else echo "# kept $out" >&2; fi
}
trap cleanup EXIT

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
echo "# command: bench/codec/run.sh $*"
echo "# uev: commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); load at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# shellcheck disable=SC1091 # sourced from the repository
. bench/agg-lib.sh

# start LOAD CLOCK EVENTS...: an aggregator on a fresh seat, ready to record
start() {
	local load=$1 clock=$2 e
	shift 2
	{
		printf '[seat]\nclock = %s\nflush_interval_ms = 200\nbuffer_kb = 8192\n' "$clock"
		printf '[ring]\npath = %s\nsize = 64M\n[kernel]\n' "$out/$load.ring"
		for e in "$@"; do printf 'event = %s\n' "$e"; done
	} >"$out/$load.conf"
	bench_agg_start "$load" "uevcz$$$load"
}
stop() { bench_agg_stop "$1"; }

start drain mono printk:console
"$root/$build/bench/drain/produce" "$inst/trace_marker_raw" 200000 3 >"$out/drain.load"
stop drain

start mixed boot printk:console sched:sched_switch sched:sched_wakeup \
	sched:sched_process_fork sched:sched_process_exec task:task_rename
(for _ in $(seq 300); do /bin/true; sleep 0.005; done) &
"$root/$build/bench/replay/fill" "$seat_name" "$out/run" 400000 2000 >"$out/mixed.load"
wait $!
stop mixed

for load in drain mixed; do
	events=$("$replay" --stats "$out/$load.ring" 2>&1 | sed -n 's/^events: \([0-9]*\) shown.*/\1/p')
	echo
	echo "## $load: $(cat "$out/$load.load"); $events events in the ring"
	"$root/$build/bench/codec/codec-study" "$out/$load.ring" "$events" "$@"
done
