#!/usr/bin/env bash
# The emit benchmark, one run side by side (root):
#   uev disabled check, uev emit via the marker backend, a bare write() of the
#   same bytes to the same trace_marker_raw, syslog(3), and LTTng-UST
#   (tracepoint with the same fields, session recording it, sessiond as root).
# usage: bench/emit/run.sh [ITERATIONS] [ROUNDS]     (defaults 1000000 7)
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/deps.sh
uev_deps liblttng-ust-dev lttng-tools valgrind
uev_tracefs
iters=${1:-1000000}
rounds=${2:-7}
[ -f build/build.ninja ] || meson setup build >/dev/null
[ -f build/bench/emit/bench_lttng ] || meson setup --reconfigure build >/dev/null
ninja -C build bench/emit/bench_emit bench/emit/bench_lttng >/dev/null

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
echo "# command: bench/emit/run.sh $iters $rounds"
out=$(mktemp -d /tmp/uev-bench-emit.XXXXXX)
trap 'bench/emit/lttng-session.sh stop >/dev/null 2>&1 || true; rm -rf "$out"' EXIT

build/bench/emit/bench_emit "$iters" "$rounds" | tee "$out/uev.txt"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for _ in $(seq "$rounds"); do
	build/bench/emit/bench_lttng --disabled "$iters" | awk '{print $2}'
done | median >"$out/lttng_off"
bench/emit/lttng-session.sh start "$out/trace" 2>/dev/null
for _ in $(seq "$rounds"); do
	build/bench/emit/bench_lttng "$iters" | awk '{print $2}'
	rm -rf "${out:?}/trace"/* # keep the disk out of it: the consumer writes ~32 B/event
done | median >"$out/lttng_on"
bench/emit/lttng-session.sh stop 2>/dev/null

printf '%-12s %8.1f ns/call  (median of %d, session recording to disk)\n' lttng_ust "$(cat "$out/lttng_on")" "$rounds"
printf '%-12s %8.1f ns/call  (median of %d, no session)\n' lttng_off "$(cat "$out/lttng_off")" "$rounds"
get() { awk -v k="$1" '$1==k {print $2}' "$out/uev.txt"; }
awk -v m="$(get uev_marker)" -v t="$(get uev_typed)" -v s="$(get syslog)" -v d="$(get disabled)" \
    -v l="$(cat "$out/lttng_on")" -v lo="$(cat "$out/lttng_off")" 'BEGIN {
	printf "ratio uev_marker/lttng_ust %.2f\n", m / l
	printf "ratio uev_typed/lttng_ust %.2f\n", t / l
	printf "ratio uev_typed/syslog %.2f\n", t / s
	printf "ratio uev_disabled/lttng_disabled %.2f\n", d / lo }'
echo "# instructions per call (callgrind, bench/emit/instructions.sh):"
bench/emit/instructions.sh
