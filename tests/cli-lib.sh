# shellcheck shell=bash
# Shared by the command-line tests: skip without root and tracefs, and
# expect() a command's exit status and a piece of its stderr.
if [ "$(id -u)" -ne 0 ] || [ ! -e /sys/kernel/tracing/trace ]; then
	echo "SKIP: needs root and tracefs"
	exit 77
fi
fail=0
expect() { # exit-code stderr-substring command...
	local code=$1 text=$2 out rc
	shift 2
	out=$("$@" 2>&1 >/dev/null); rc=$?
	if [ "$rc" -ne "$code" ] || [[ "$out" != *"$text"* ]]; then
		echo "FAIL: $* -> exit $rc, stderr '$out' (wanted $code, '$text')"; fail=1
	fi
}
# agg_workdir NAME: a new work directory /tmp/NAME.XXXXXX in $T for the
# test of seat $seat; at exit the aggregator agg_up started ($agg), the
# seat's instance and the directory are removed (UEV_KEEP=1 keeps the
# directory and says where).
agg_workdir() {
	T=$(mktemp -d "/tmp/$1.XXXXXX")
	agg=
	trap agg_workdir_cleanup EXIT
}
agg_workdir_cleanup() {
	[ -z "$agg" ] || kill "$agg" 2>/dev/null
	wait 2>/dev/null
	rmdir "/sys/kernel/tracing/instances/uev.$seat" 2>/dev/null
	if [ -n "${UEV_KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
# agg_up AGGREGATOR SEAT CONF DIR: uev-aggregator on SEAT with CONF, its run
# directory DIR/run and its stderr in DIR/agg.log, in the background; $agg
# is its pid once the seat's enable page exists (it records from then on).
# Not there within 10 s: the aggregator is killed and the test fails with
# its log (the caller's cleanup removes the instance).
agg_up() {
	"$1" --seat "$2" --config "$3" --run-dir "$4/run" 2>"$4/agg.log" &
	agg=$!
	for _ in $(seq 100); do
		[ -e "$4/run/$2.enable" ] && return 0
		sleep 0.1
	done
	kill -KILL "$agg" 2>/dev/null
	wait "$agg" 2>/dev/null
	echo "FAIL: the aggregator did not start"
	cat "$4/agg.log"
	exit 1
}
