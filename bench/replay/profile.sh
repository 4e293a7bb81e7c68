#!/usr/bin/env bash
# Where uev-replay spends its CPU on a ring file (root not needed): a flat
# perf profile (self time per symbol: the build has no frame pointers, so
# perf's call graphs would be unreliable) of `uev-replay [ARGS] RING >/dev/null`
# and, with CALLGRIND=1, callgrind's inclusive instruction counts (exact
# and repeatable, about 50x slower: use a small ring, e.g. one recorded by
# KEEP=1 bench/replay/run.sh 1 16M).
#
# usage: bench/replay/profile.sh RING [UEV-REPLAY-ARGS...]
#   e.g. bench/replay/profile.sh /tmp/uev-bench-replay.XXXX/64M.ring --json
# env: BUILD=build-bench, TOP=25 (symbols listed), CALLGRIND=1, TC=1 (also
#      profile trace-cmd report on the ring's trace.dat, for comparison),
#      KEEP=1 keeps the work directory (perf.data, callgrind.out).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
# shellcheck disable=SC1091 # sourced from the repository
. .ci/deps.sh
pkgs=(linux-perf)
[ -n "${CALLGRIND:-}" ] && pkgs+=(valgrind)
uev_deps "${pkgs[@]}"
ring=${1:?usage: bench/replay/profile.sh RING [UEV-REPLAY-ARGS...]}
shift
build=${BUILD:-build-bench}
top=${TOP:-25}
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" aggregator/uev-replay >/dev/null
replay=$root/$build/aggregator/uev-replay
out=$(mktemp -d /tmp/uev-replay-profile.XXXXXX)
cleanup() { if [ -z "${KEEP:-}" ]; then rm -rf "$out"; else echo "# kept $out" >&2; fi; }
trap cleanup EXIT

echo "# uev: commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- aggregator libuev || echo ', with uncommitted changes in aggregator/ or libuev/')"
echo "# ring: $ring, $(head -1 < <("$replay" --stats "$ring" 2>/dev/null) | sed 's/^# [^:]*: //')"
"$replay" "$@" "$ring" >/dev/null 2>&1 # warm the page cache
events=$("$replay" --stats "$ring" 2>/dev/null | awk '/^events:/ {print $2}')

# flat: the share of CPU samples per symbol (self), kernel included
flat() { # NAME COMMAND...
	local name=$1; shift
	perf record -q -F 2000 -o "$out/$name.perf" -- "$@" >/dev/null 2>"$out/$name.err"
	echo
	echo "## $name: top $top symbols by self samples ($*)"
	perf report -i "$out/$name.perf" --no-children --sort dso,sym --percent-limit 0.3 --stdio 2>/dev/null |
		awk -v n="$top" '!/^#/ && NF && ++k <= n' # reads it all: no SIGPIPE under pipefail
}
flat uev-replay "$replay" "$@" "$ring"
if [ -n "${TC:-}" ]; then
	"$replay" --trace-dat "$out/x.dat" "$ring" >/dev/null
	trace-cmd report -i "$out/x.dat" >/dev/null 2>&1
	flat trace-cmd trace-cmd report -i "$out/x.dat"
fi

if [ -n "${CALLGRIND:-}" ]; then
	valgrind -q --tool=callgrind --callgrind-out-file="$out/callgrind.out" "$replay" "$@" "$ring" >/dev/null 2>"$out/cg.err"
	echo
	echo "## uev-replay: callgrind, instructions (Ir) inclusive, top $top"
	callgrind_annotate --inclusive=yes "$out/callgrind.out" 2>/dev/null | awk -v n="$top" '/^ *[0-9,]+ \(/ && ++k <= n'
	echo
	echo "## uev-replay: callgrind, instructions (Ir) self, top $top"
	callgrind_annotate --inclusive=no "$out/callgrind.out" 2>/dev/null | awk -v n="$top" '/^ *[0-9,]+ \(/ && ++k <= n'
	ir=$(awk '/^summary:/ {print $2}' "$out/callgrind.out")
	echo
	echo "## instructions: uev-replay $* $ir for $events events, $((ir / events)) per event"
	if [ -n "${TC:-}" ]; then
		valgrind -q --tool=callgrind --callgrind-out-file="$out/callgrind-tc.out" trace-cmd report -i "$out/x.dat" >/dev/null 2>"$out/cg-tc.err"
		ir=$(awk '/^summary:/ {print $2}' "$out/callgrind-tc.out")
		# trace-cmd prints the same events (run.sh checks the counts)
		echo "## instructions: trace-cmd report $ir for $events events, $((ir / events)) per event"
	fi
fi
