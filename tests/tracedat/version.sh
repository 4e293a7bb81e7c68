#!/usr/bin/env bash
# The trace.dat writer only runs with the libtracecmd it was checked
# against (aggregator/tracedat/tracedat-write.c declares libtracecmd's private API).
#  - a uev-replay built as against another libtracecmd version (the version
#    macros forced) refuses --trace-dat: exit 1, both versions named, no
#    output file, and it links without libtracecmd at all
#  - the real uev-replay, run with a libtracecmd file of another version
#    behind the soname link, refuses likewise before reading anything; with
#    a file of the build's own version it goes on (and fails on the missing
#    ring file instead)
# No root, no tracefs.
# usage: version.sh UEV-REPLAY UEV-REPLAY-UNVERIFIED BUILD-VERSION FORCED-VERSION verified|unverified
set -uo pipefail
replay=$1 unverified=$2 built=$3 forced=$4 verdict=$5
fail=0
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
bad() { echo "FAIL: $*"; fail=1; }

expect() { # exit-code stderr-substring command...
	local code=$1 text=$2 out rc
	shift 2
	out=$("$@" 2>&1 >"$dir/stdout"); rc=$?
	if [ "$rc" -ne "$code" ] || [[ "$out" != *"$text"* ]]; then
		bad "$* -> exit $rc, stderr '$out' (wanted $code, '$text')"
	fi
	[ -s "$dir/stdout" ] && bad "$*: wrote to stdout: $(head -3 "$dir/stdout")"
	echo "ok: exit $rc: $out"
}

: >"$dir/empty.ring"
expect 1 "built against libtracecmd $forced, and its trace.dat writer uses libtracecmd's private functions, known only for libtracecmd " \
	"$unverified" --trace-dat "$dir/out.dat" "$dir/empty.ring"
[ -e "$dir/out.dat" ] && bad "the refused export left $dir/out.dat"
ls -A "$dir" | grep -q '^\.uev-tracedat' && bad "the refused export left a work directory"
if readelf -d "$unverified" | grep -q 'libtracecmd'; then
	bad "$unverified needs libtracecmd although its writer is left out"
fi
if nm -u "$unverified" | grep -q ' tracecmd_'; then
	bad "$unverified calls libtracecmd"
fi

if [ "$verdict" != verified ]; then
	# This build's own libtracecmd is not one the writer knows either.
	expect 1 "built against libtracecmd $built, and its trace.dat writer" \
		"$replay" --trace-dat "$dir/out.dat" "$dir/missing.ring"
	echo "SKIP: the run-time check needs a build against a checked libtracecmd"
	[ "$fail" -eq 0 ] && exit 77
	exit 1
fi

# The runtime guard: the library file behind the soname link names its version.
lib=$(ldd "$replay" | awk '/libtracecmd\.so/ { print $3; exit }')
[ -n "$lib" ] || { echo "SKIP: $replay does not load libtracecmd dynamically"; exit 77; }
lib=$(readlink -f "$lib")
for v in 1.9.9 "$built"; do
	mkdir "$dir/lib-$v"
	cp "$lib" "$dir/lib-$v/libtracecmd.so.$v"
	ln -s "libtracecmd.so.$v" "$dir/lib-$v/libtracecmd.so.1"
done
LD_LIBRARY_PATH=$dir/lib-1.9.9 expect 1 \
	"built against libtracecmd $built but runs with libtracecmd 1.9.9 ($dir/lib-1.9.9/libtracecmd.so.1.9.9)" \
	"$replay" --trace-dat "$dir/out.dat" "$dir/missing.ring"
LD_LIBRARY_PATH=$dir/lib-$built expect 1 "$dir/missing.ring: No such file or directory" \
	"$replay" --trace-dat "$dir/out.dat" "$dir/missing.ring"
exit $fail
