#!/usr/bin/env bash
# Where uev-aggregator spends its CPU under the drain benchmark's load (root):
# perf record -g of the aggregator (all its threads, io_uring workers
# included) while produce writes RATE events/s for SECONDS, then the share
# of samples per cost category (perf-categories.awk) and the top symbols.
# usage: bench/drain/profile.sh RATE [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# shellcheck disable=SC1091 # sourced from the repository
. .ci/deps.sh
uev_deps linux-perf
uev_tracefs
rate=${1:?usage: profile.sh RATE [SECONDS]}
secs=${2:-5}
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build aggregator/uev-aggregator >/dev/null
out=$(mktemp -d /tmp/uev-drain-profile.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$out"' EXIT
cc -O2 -Wall -pthread -o "$out/produce" bench/drain/produce.c
cc -O2 -Wall -o "$out/drainrun" bench/drain/drainrun.c
cat >"$out/uev.conf" <<CONF
[seat]
clock = mono
flush_interval_ms = 1000
buffer_kb = ${BUFFER_KB:-8192}
[ring]
path = $out/uev.ring
size = $(( rate * secs * 100 / 1048576 + 64 ))M
[kernel]
event = printk:console
CONF
"$out/drainrun" -n "$out/ready" -o "$out/measure" -- "$root/build/aggregator/uev-aggregator" \
	--seat drainprof --config "$out/uev.conf" --run-dir "$out/run" 2>"$out/stderr" &
runner=$!
for _ in $(seq 300); do [ -e "$out/ready" ] && break; sleep 0.1; done
agg=$(pgrep -P "$runner" | head -1)
perf record -q -F 4000 -g -p "$agg" -o "$out/perf.data" 2>/dev/null &
perf_pid=$!
sleep 0.3
"$out/produce" /sys/kernel/tracing/instances/uev.drainprof/trace_marker_raw "$rate" "$secs"
kill -TERM "$runner"; wait "$runner" || true
sleep 0.3; kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" || true
echo "# command: bench/drain/profile.sh $rate $secs"
grep '^exit' "$out/measure" | awk '{print "# aggregator CPU: user " $4 " s, sys " $6 " s (perf running)"}'
grep 'events lost' "$out/stderr" || true
echo "# share of samples per category:"
perf script -i "$out/perf.data" -F comm,ip,sym 2>/dev/null | awk -f bench/drain/perf-categories.awk
echo "# top symbols (self):"
perf report -i "$out/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep '%' | head -25
