#!/usr/bin/env bash
# Instructions per call of the emit paths, counted by callgrind: unlike
# wall time on a shared VM, repeatable to the instruction. (root)
# usage: bench/emit/instructions.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
command -v valgrind >/dev/null || { echo "needs valgrind" >&2; exit 1; }
n=20000
out=$(mktemp)
trap 'rm -f "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" "$build/bench/emit/bench_emit" $n 1 >/dev/null 2>&1
callgrind_annotate --inclusive=yes "$out" 2>/dev/null | awk -v n=$n '
	function per(x) { gsub(",", "", x); return x / n }
	/uev-event.c:uev_emit \[/        { printf "uev_emit (generic, varargs)   %6.0f instructions/call\n", per($1) }
	/uev-event.c:uev_emit_packed \[/ { printf "uev_emit_packed (typed)       %6.0f instructions/call\n", per($1) }
	/sysv\/linux\/write.c:write \[/   { printf "libc write() (bare_write)     %6.0f instructions/call\n", per($1) }'
