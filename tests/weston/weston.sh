#!/usr/bin/env bash
# Unmodified headless Weston 10 with the uev-weston module and a real client
# (weston-simple-shm), recorded by uev-aggregator on a test seat whose trace
# clock is CLOCK_MONOTONIC; check.py then checks what uev-replay decodes from
# the ring file alone, and check_perfetto.py the --perfetto export of it.
# Then Weston with bad [uev] values, and with no way to record, must still
# start, serve the client and exit 0 on SIGTERM, saying why in its log.
# usage: weston.sh UEV-AGGREGATOR UEV-REPLAY UEV-WESTON.SO CHECK.PY [SANITIZE]
set -uo pipefail
if [ "${5:-none}" != none ]; then
	# an instrumented module cannot be loaded into an uninstrumented weston
	echo "SKIP: sanitizer build; the plain build runs Weston with the module"
	exit 77
fi
AGG=$(realpath "$1") REPLAY=$(realpath "$2") MODULE=$(realpath "$3") CHECK=$4
. "$(dirname "$0")/../cli-lib.sh"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
for p in weston weston-simple-shm; do
	command -v "$p" >/dev/null || { echo "SKIP: $p is not installed"; exit 77; }
done
[ -d /sys/kernel/tracing/instances ] || { echo "SKIP: no tracefs instances"; exit 77; }

T=$(mktemp -d /tmp/uevweston.XXXXXX)
seat=uevws$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	# the aggregator removes its instance; after a kill -9 we do
	rmdir "/sys/kernel/tracing/instances/uev.$seat" 2>/dev/null
	if [ -n "${UEV_KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

cat >"$T/agg.conf" <<CONF
[seat]
clock = mono
flush_interval_ms = 200
buffer_kb = 4096
[ring]
path = $T/seat.ring
size = 16M
[kernel]
event = sched:sched_process_fork
event = sched:sched_process_exec
CONF
agg_up "$AGG" "$seat" "$T/agg.conf" "$T"
pids+=("$agg")

# wait_for PID FILE SECONDS: until FILE exists, or fail when PID died
wait_for() {
	for _ in $(seq $(($3 * 10))); do
		[ -e "$2" ] && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# run_weston NAME INI [VAR=VALUE...]: headless Weston + simple-shm for
# ~3 s, then SIGTERM; Weston's exit status in $T/NAME.rc, its log in
# $T/NAME.log
run_weston() {
	local name=$1 xdg=$T/$1.xdg sock=uevws-$$-$1 w c
	mkdir -m 0700 "$xdg"
	printf '%s\n' "$2" >"$T/$name.ini"
	shift 2
	env XDG_RUNTIME_DIR="$xdg" UEV_RUN_DIR="$T/run" XDG_SEAT="$seat" "$@" \
		weston --backend=headless-backend.so --use-pixman --socket="$sock" \
		--idle-time=0 --config="$T/$name.ini" --modules="$MODULE" \
		--log="$T/$name.log" >"$T/$name.out" 2>&1 &
	w=$!
	pids+=("$w")
	if ! wait_for "$w" "$xdg/$sock" 20; then
		echo "FAIL: $name: weston did not create its socket"; cat "$T/$name.log" "$T/$name.out"
		return 1
	fi
	XDG_RUNTIME_DIR=$xdg WAYLAND_DISPLAY=$sock weston-simple-shm >"$T/$name.client" 2>&1 &
	c=$!
	pids+=("$c")
	finish_weston "$name" "$c" "$w"
}

# The module named twice (weston.ini and command line): loaded once, else
# every point would be recorded twice and check.py would see it. The seat
# comes from [uev] seat=, which beats $XDG_SEAT.
run_weston good "[core]
modules=$MODULE
[uev]
seat=$seat
scopes=log,timeline" XDG_SEAT=uevws-none$$
kill -TERM "$agg"; wait "$agg" || { echo "FAIL: aggregator exit $?"; cat "$T/agg.log"; fail=1; }
[ "$(cat "$T/good.rc" 2>/dev/null)" = 0 ] || { echo "FAIL: weston exit $(cat "$T/good.rc" 2>/dev/null)"; cat "$T/good.log"; fail=1; }

"$REPLAY" --json "$T/seat.ring" >"$T/replay.json" 2>"$T/replay.err" ||
	{ echo "FAIL: uev-replay"; cat "$T/replay.err"; fail=1; }
python3 "$CHECK" "$T/replay.json" "$T/good.log" || { fail=1; cat "$T/good.log"; }
# The same ring for ui.perfetto.dev: output tracks with a slice per frame,
# checked against the JSON timeline (check_perfetto.py, next to check.py).
"$REPLAY" --perfetto "$T/replay.perfetto" "$T/seat.ring" 2>"$T/perfetto.err" ||
	{ echo "FAIL: uev-replay --perfetto"; cat "$T/perfetto.err"; fail=1; }
python3 "$(dirname "$CHECK")/check_perfetto.py" "$T/replay.json" "$T/replay.perfetto" || fail=1
grep -q "uev-weston: already loaded" "$T/good.log" || { echo "FAIL: the second load of the module was not refused"; fail=1; }
grep -qF "uev-weston: snapshot key: the debug key (the shell's mod+shift+space), then u, for seat $seat" "$T/good.log" ||
	{ echo "FAIL: the snapshot key was not bound by default"; fail=1; }

# Bad values, and no aggregator any more: Weston runs as if uev were absent.
run_weston bad '[uev]
seat=no/such seat
scopes=log,,timeline
backfill=maybe
snapshot-key=ctrl+meta+u'
[ "$(cat "$T/bad.rc" 2>/dev/null)" = 0 ] || { echo "FAIL: weston with bad [uev] values: exit $(cat "$T/bad.rc" 2>/dev/null)"; cat "$T/bad.log"; fail=1; }
for want in "[uev] seat=no/such seat: not a valid seat name" "[uev] scopes=log,,timeline: scope 2" \
	    "[uev] backfill: not 'true' or 'false'" "; seat $seat is not recording now" \
	    "[uev] snapshot-key=ctrl+meta+u: 'ctrl+meta+u': 'meta' is no modifier" \
	    "snapshot key: the debug key (the shell's mod+shift+space), then u, for seat $seat"; do
	grep -qF -- "$want" "$T/bad.log" || { echo "FAIL: weston's log lacks 'uev-weston: $want'"; fail=1; }
done
# No way to record at all (as without tracefs or rights): one line says why.
run_weston off '[uev]
snapshot=false' UEV_BACKEND=off
[ "$(cat "$T/off.rc" 2>/dev/null)" = 0 ] || { echo "FAIL: weston with the backend off: exit $(cat "$T/off.rc" 2>/dev/null)"; cat "$T/off.log"; fail=1; }
[ "$(grep -c "uev-weston: nothing is recorded: off" "$T/off.log")" = 1 ] ||
	{ echo "FAIL: weston's log does not say once why nothing is recorded"; cat "$T/off.log"; fail=1; }
! grep -q "uev-weston: snapshot key" "$T/off.log" || { echo "FAIL: snapshot=false still bound the key"; fail=1; }
[ "$fail" = 0 ] && echo "ok: weston recorded and checked; bad [uev] values ran normally"
exit "$fail"
