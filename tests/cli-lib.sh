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
