#!/usr/bin/env bash
# Line coverage of the code under fuzz, reached by a corpus: which lines of
# the reader and the decoders the fuzzers' inputs get to (libFuzzer's own
# "cov:" counts edges of the whole binary, config parser and writer
# included, which says little).
#
# usage: tests/fuzz/coverage.sh [BUILD_DIR] [RING_CORPUS_DIR [PAGE_CORPUS_DIR]]
#   BUILD_DIR   default build-fuzz-cov: clang with source-based coverage
#               (-fprofile-instr-generate -fcoverage-mapping), no sanitizers
#               in the tree; configured here if it does not exist yet
#   *_CORPUS    default tests/fuzz/corpus/<target>; e.g. the grown corpus a
#               run.sh work directory kept (FUZZ_KEEP=1)
# Each input runs in its own process, so one that crashes loses only its
# own profile and a corpus with known crashes still gives its coverage.
# Needs llvm-profdata and llvm-cov.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${UEV_SRC:-$(cd "$here/../.." && pwd)}
build=${1:-$src/build-fuzz-cov}
ring=${2:-$here/corpus/fuzz_ring}
page=${3:-$here/corpus/fuzz_page}
cov="-fprofile-instr-generate -fcoverage-mapping"

for tool in llvm-profdata llvm-cov; do
	command -v $tool >/dev/null || { echo "coverage.sh: $tool is not installed" >&2; exit 2; }
done
# Tools built and run during the build (the schema generator) are
# instrumented too: their profiles go to the build directory, not the cwd.
export LLVM_PROFILE_FILE=$build/tools-%p.profraw
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" "$src" -Dfuzz=true -Dbench=false \
		-Dc_args="$cov" -Dc_link_args="$cov" >"$build.setup.log" 2>&1 ||
		{ cat "$build.setup.log" >&2; rm -f "$build.setup.log"; exit 2; }
	rm -f "$build.setup.log"
fi
ninja -C "$build" tests/fuzz/fuzz_ring tests/fuzz/fuzz_page >/dev/null ||
	{ ninja -C "$build" tests/fuzz/fuzz_ring tests/fuzz/fuzz_page; exit 2; }

work=$(mktemp -d /tmp/uev-fuzz-cov.XXXXXX)
trap 'rm -rf "$work"' EXIT
export LSAN_OPTIONS=suppressions=$here/lsan.supp ASAN_OPTIONS=detect_leaks=0
for t in fuzz_ring fuzz_page; do
	if [ "$t" = fuzz_ring ]; then dir=$ring; else dir=$page; fi
	mkdir -p "$work/$t"
	find "$dir" -type f | while read -r f; do
		LLVM_PROFILE_FILE="$work/$t/%p.profraw" timeout 20 "$build/tests/fuzz/$t" \
			-timeout=10 "$f" >/dev/null 2>&1
	done
	llvm-profdata merge -sparse "$work/$t"/*.profraw -o "$work/$t.profdata" 2>/dev/null
	echo "== $t: $(find "$dir" -type f | wc -l) inputs from $dir"
	# Columns of llvm-cov report: name, regions (3), functions (3),
	# lines (3), branches (3).
	llvm-cov report "$build/tests/fuzz/$t" -instr-profile="$work/$t.profdata" \
		"$src/aggregator/ring/ring-read.c" "$src/aggregator/ring/ring-scan.c" \
		"$src/aggregator/ring/ring-tail.c" "$src/aggregator/ring/ring-records.c" \
		"$src/aggregator/ring/ring-common.c" \
		"$src/aggregator/decode/ringdecode.c" "$src/aggregator/decode/decode.c" \
		"$src/libuev/shared/uev-def.c" 2>/dev/null |
		awk '/(aggregator|libuev)\/[a-z\/-]+\.c |^TOTAL/ {
			n = $1; sub(".*/aggregator/", "aggregator/", n); sub(".*/libuev/", "libuev/", n)
			printf "  %-24s lines %5d/%-5d %7s   branches %5d/%-5d %7s\n",
				n, $8 - $9, $8, $10, $11 - $12, $11, $13 }'
done
