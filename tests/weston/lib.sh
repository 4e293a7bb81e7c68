# shellcheck shell=bash
# Sourced by the Weston tests: the end of one Weston run.

# finish_weston NAME CLIENT-PID WESTON-PID: after 3 s of the client, stop
# it (simple-shm ignores SIGINT while it waits: SIGTERM), then Weston
# (within 10 s of SIGTERM, else it is killed and the run fails); Weston's
# exit status goes to $T/NAME.rc. Sets fail=1 on a client that died early.
finish_weston() {
	local name=$1 c=$2 w=$3 rc
	sleep 3
	kill -0 "$c" 2>/dev/null || { echo "FAIL: $name: weston-simple-shm died early"; cat "$T/$name.client"; fail=1; }
	kill -TERM "$c" 2>/dev/null
	wait "$c" 2>/dev/null
	kill -TERM "$w"
	for _ in $(seq 100); do kill -0 "$w" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$w" 2>/dev/null; then
		echo "FAIL: $name: weston did not stop within 10 s of SIGTERM"; kill -KILL "$w"
	fi
	wait "$w"; rc=$?
	echo "$rc" >"$T/$name.rc"
}
