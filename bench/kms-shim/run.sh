#!/usr/bin/env bash
# What uev-kms-shim.so adds to drmModeAtomicCommit() (root): kms_commit on
# /dev/null in three configurations, one process each, in an order that
# rotates from round to round:
#   none  no shim
#   off   the shim preloaded, its seat not recording (events disabled)
#   rec   the shim preloaded, recording (marker backend here) into the seat
#         of a running uev-aggregator
# for both modes of kms_commit (commit: the same request committed again
# and again; frame: alloc + 8 adds + commit + free, as per frame in a
# compositor), each single-threaded and with an idle thread ("threaded":
# see kms_commit.c: glibc's malloc is dearer in a process with threads, and
# libuev's marker backend adds one). Ratios off/none and rec/none are taken
# per round; the median and the range are printed. Then, with valgrind, instructions per
# call (user space only: the kernel's side of the ioctl and of the
# trace_marker_raw write is not counted), from the difference of two runs
# so that start-up cancels out.
#
# usage: bench/kms-shim/run.sh [ITERATIONS [ROUNDS]]   (defaults 200000 7)
# env: BUILD=build (the meson build directory)
set -euo pipefail
cd "$(dirname "$0")/../.."
iters=${1:-200000}
rounds=${2:-7}
build=${BUILD:-build}
[ -d /sys/kernel/tracing/instances ] || { echo "no tracefs instances" >&2; exit 1; }
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" kms-shim/uev-kms-shim.so bench/kms-shim/kms_commit \
	aggregator/uev-aggregator aggregator/uev-replay >/dev/null
shim=$PWD/$build/kms-shim/uev-kms-shim.so
bench=$PWD/$build/bench/kms-shim/kms_commit
agg=$PWD/$build/aggregator/uev-aggregator
replay=$PWD/$build/aggregator/uev-replay

T=$(mktemp -d /tmp/uev-bench-kms.XXXXXX)
seat=uevkb$$
apid=
cleanup() {
	[ -n "$apid" ] && kill -TERM "$apid" 2>/dev/null && wait "$apid" 2>/dev/null
	rmdir "/sys/kernel/tracing/instances/uev.$seat" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
cat >"$T/agg.conf" <<CONF
[seat]
clock = mono
[ring]
path = $T/seat.ring
size = 32M
CONF
"$agg" --seat "$seat" --config "$T/agg.conf" --run-dir "$T/run" 2>"$T/agg.log" &
apid=$!
for _ in $(seq 100); do [ -e "$T/run/$seat.enable" ] && break; sleep 0.1; done
[ -e "$T/run/$seat.enable" ] || { echo "the aggregator did not start" >&2; cat "$T/agg.log" >&2; exit 1; }

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# command: bench/kms-shim/run.sh $iters $rounds"

# run CONFIG CMD...: CMD with the environment of CONFIG
run() {
	local c=$1
	shift
	case $c in
	none) env -u LD_PRELOAD "$@" ;;
	off) env LD_PRELOAD="$shim" UEV_RUN_DIR="$T/run" XDG_SEAT="uevkb-none$$" "$@" ;;
	rec) env LD_PRELOAD="$shim" UEV_RUN_DIR="$T/run" XDG_SEAT="$seat" "$@" ;;
	esac
}
configs=(none off rec)
for mode in commit frame commit+threaded frame+threaded; do
	: >"$T/$mode.rounds"
	for r in $(seq 0 $((rounds - 1))); do
		declare -A ns=()
		for k in 0 1 2; do
			c=${configs[$(((r + k) % 3))]}
			# shellcheck disable=SC2046 # "commit+threaded" -> commit threaded
			ns[$c]=$(run "$c" "$bench" $(echo "$mode" | tr + ' ' | awk '{print $1, '"$iters"', $2}') | awk '{print $2}')
		done
		echo "${ns[none]} ${ns[off]} ${ns[rec]}" >>"$T/$mode.rounds"
	done
	awk -v mode="$mode" '
	function med(a, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function range(a, n,   i, lo, hi) {
		lo = hi = a[1]
		for (i = 2; i <= n; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
		return sprintf("%.3f-%.3f", lo, hi)
	}
	{ n++; none[n] = $1; off[n] = $2; rec[n] = $3; ro[n] = $2 / $1; rr[n] = $3 / $1 }
	END {
		printf "%-15s ns/call median: none %.1f  off %.1f  rec %.1f\n", mode, med(none, n), med(off, n), med(rec, n)
		printf "%-15s off/none %.3f (%s)  rec/none %.3f (%s)  [%d rounds]\n", mode,
			med(ro, n), range(ro, n), med(rr, n), range(rr, n), n
	}' "$T/$mode.rounds"
done

kill -TERM "$apid"; wait "$apid" || true
apid=
echo "# recorded: $("$replay" --event kms_atomic_commit --json "$T/seat.ring" 2>/dev/null | wc -l) kms_atomic_commit events still in the 32 MiB ring"

if command -v valgrind >/dev/null; then
	# the seat for "rec" again (a fresh aggregator), under callgrind
	"$agg" --seat "$seat" --config "$T/agg.conf" --run-dir "$T/run" 2>"$T/agg.log" &
	apid=$!
	for _ in $(seq 100); do [ -e "$T/run/$seat.enable" ] && break; sleep 0.1; done
	ir() { # CONFIG MODE N [threaded]: total instructions of one run
		run "$1" valgrind --tool=callgrind --callgrind-out-file="$T/cg.out" "$bench" "$2" "$3" ${4:+"$4"} >/dev/null 2>&1
		awk '/^summary:/ {print $2}' "$T/cg.out"
	}
	for mode in commit frame commit+threaded frame+threaded; do
		line="$mode instructions/call:"
		m=${mode%+threaded} th=
		[ "$m" != "$mode" ] && th=threaded
		for c in none off rec; do
			a=$(ir "$c" "$m" 2000 $th) b=$(ir "$c" "$m" 12000 $th)
			line="$line $c $(((b - a) / 10000))"
		done
		echo "$line"
	done
fi
