#!/usr/bin/env bash
# Headless Weston with uev-weston run by an unprivileged user (nobody), on a
# seat prepared the way README.md says: `uev-seat up --group G`, then
# uev-aggregator (root) reusing that instance. The same user without G runs
# first: Weston serves the client, exits 0 on SIGTERM, says once in its log
# why nothing is recorded, and nothing of it is in the ring. Then with G its
# timeline and log are in the ring, emitted by its own process. B before A:
# A's events then show that the seat recorded all along.
# usage: weston-user.sh UEV-SEAT UEV-AGGREGATOR UEV-REPLAY UEV-WESTON.SO [SANITIZE]
set -uo pipefail
if [ "${5:-none}" != none ]; then
	echo "SKIP: sanitizer build; the plain build runs Weston with the module"
	exit 77
fi
SEATCTL=$(realpath "$1") AGG=$(realpath "$2") REPLAY=$(realpath "$3") MODULE=$(realpath "$4")
. "$(dirname "$0")/../cli-lib.sh"
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
for p in weston weston-simple-shm setpriv taskset groupadd groupdel; do
	command -v "$p" >/dev/null || { echo "SKIP: $p is not installed"; exit 77; }
done
[ -d /sys/kernel/tracing/instances ] || { echo "SKIP: no tracefs instances"; exit 77; }
user=nobody
uid=$(id -u "$user" 2>/dev/null) && ugid=$(id -g "$user") || { echo "SKIP: no user $user"; exit 77; }

TR=/sys/kernel/tracing
seat=uevwu$$
group=uevwu$$
top_mode=$(stat -c %a "$TR") inst_mode=$(stat -c %a "$TR/instances")
T=$(mktemp -d /tmp/uevwuser.XXXXXX)
pids=()
made_group=
agg=
cleanup() {
	for p in "${pids[@]}"; do [ "$p" = "$agg" ] || kill -KILL "$p" 2>/dev/null; done
	# SIGTERM: the aggregator removes the instance itself
	[ -n "$agg" ] && kill -TERM "$agg" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$agg" 2>/dev/null || break; sleep 0.1; done
	[ -n "$agg" ] && kill -KILL "$agg" 2>/dev/null
	wait 2>/dev/null
	# after a kill -9 its io_uring lets go of the instance's files a
	# little later: until then rmdir says EBUSY
	for _ in $(seq 50); do
		[ -d "$TR/instances/uev.$seat" ] || break
		rmdir "$TR/instances/uev.$seat" 2>/dev/null || sleep 0.1
	done
	# uev-seat --group gave the tracefs root and instances/ o+x
	chmod "$top_mode" "$TR"
	chmod "$inst_mode" "$TR/instances"
	[ -n "$made_group" ] && groupdel "$group"
	if [ -n "${UEV_KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

groupadd "$group" || { echo "FAIL: groupadd $group"; exit 1; }
made_group=1
gid=$(getent group "$group" | cut -d: -f3)
# What the user touches: the module (a copy: the build tree need not be
# readable by it), its weston.ini, its log, its own 0700 runtime dirs; the
# run dir holding the enable page is searchable by all.
chmod 0755 "$T"
install -m 0644 "$MODULE" "$T/uev-weston.so"
install -d -m 0755 -o "$uid" -g "$ugid" "$T/u"

"$SEATCTL" --seat "$seat" --run-dir "$T/run" up --clock mono --group "$group" >"$T/seat.out" 2>&1 ||
	{ echo "FAIL: uev-seat up"; cat "$T/seat.out"; exit 1; }
# The same seat name, run dir and clock: the aggregator reuses the
# instance as it is (the group's rights included) and changes nothing.
cat >"$T/agg.conf" <<CONF
[seat]
clock = mono
flush_interval_ms = 200
[ring]
path = $T/seat.ring
size = 8M
[kernel]
event = sched:sched_process_exec
CONF
"$AGG" --seat "$seat" --config "$T/agg.conf" --run-dir "$T/run" 2>"$T/agg.log" &
agg=$!
pids+=("$agg")
# the page names the aggregator as its owner once it records
for _ in $(seq 100); do
	"$SEATCTL" --seat "$seat" --run-dir "$T/run" status 2>/dev/null | grep -q "owner pid $agg\$" && break
	kill -0 "$agg" 2>/dev/null || break
	sleep 0.1
done
"$SEATCTL" --seat "$seat" --run-dir "$T/run" status 2>/dev/null | grep -q "owner pid $agg\$" ||
	{ echo "FAIL: the aggregator did not start"; cat "$T/agg.log"; exit 1; }

# run_weston NAME GROUPS: as $user with supplementary GROUPS ("" for none),
# headless Weston + simple-shm for ~3 s, then SIGTERM. Weston's pid in
# $T/NAME.pid, exit status in $T/NAME.rc, log in $T/NAME.log.
run_weston() {
	local name=$1 xdg=$T/u/$1.xdg sock=uevwu-$$-$1 w c rc grp
	if [ -n "$2" ]; then grp=(--groups "$2"); else grp=(--clear-groups); fi
	install -d -m 0700 -o "$uid" -g "$ugid" "$xdg"
	printf '[uev]\nseat=%s\n' "$seat" >"$T/$name.ini"
	# One CPU for the exec chain (setpriv, env, weston): the aggregator
	# writes the names it learns from exec events in per-CPU drain order,
	# so a chain spread over two CPUs can leave "env" as the pid's last
	# name in the file and uev-replay would show Weston's events as env's.
	(taskset -pc 0 "$BASHPID" >/dev/null
	 exec setpriv --reuid="$uid" --regid="$ugid" "${grp[@]}" \
		env -i PATH="$PATH" HOME="$T/u" XDG_RUNTIME_DIR="$xdg" UEV_RUN_DIR="$T/run" \
		weston --backend=headless-backend.so --use-pixman --socket="$sock" \
		--idle-time=0 --config="$T/$name.ini" --modules="$T/uev-weston.so" \
		--log="$T/u/$name.log") >"$T/$name.out" 2>&1 &
	w=$!
	pids+=("$w")
	echo "$w" >"$T/$name.pid"
	for _ in $(seq 200); do
		[ -e "$xdg/$sock" ] && break
		kill -0 "$w" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -e "$xdg/$sock" ]; then
		echo "FAIL: $name: weston did not create its socket"; cat "$T/u/$name.log" "$T/$name.out"
		fail=1; return 1
	fi
	setpriv --reuid="$uid" --regid="$ugid" "${grp[@]}" \
		env -i PATH="$PATH" XDG_RUNTIME_DIR="$xdg" WAYLAND_DISPLAY="$sock" \
		weston-simple-shm >"$T/$name.client" 2>&1 &
	c=$!
	pids+=("$c")
	finish_weston "$name" "$c" "$w"
	rc=$(cat "$T/$name.rc")
	[ "$rc" = 0 ] || { echo "FAIL: $name: weston exit $rc"; cat "$T/u/$name.log"; fail=1; }
}

run_weston nogroup ""
n=$(grep -c "uev-weston: nothing is recorded: off: cannot open .*trace_marker_raw: Permission denied" "$T/u/nogroup.log")
[ "$n" = 1 ] || { echo "FAIL: without the group, weston's log says $n times why nothing is recorded"; cat "$T/u/nogroup.log"; fail=1; }
run_weston group "$gid"
grep -q "uev-weston: marker: seat $seat via $TR; seat $seat is recording" "$T/u/group.log" ||
	{ echo "FAIL: with the group, weston's log does not say it records"; cat "$T/u/group.log"; fail=1; }

kill -TERM "$agg"; wait "$agg" || { echo "FAIL: aggregator exit $?"; cat "$T/agg.log"; fail=1; }
"$REPLAY" --json "$T/seat.ring" >"$T/replay.json" 2>"$T/replay.err" ||
	{ echo "FAIL: uev-replay"; cat "$T/replay.err"; fail=1; }
python3 - "$T/replay.json" "$(cat "$T/nogroup.pid")" "$(cat "$T/group.pid")" <<'PY' || fail=1
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
nogroup, group = int(sys.argv[2]), int(sys.argv[3])
wev = [e for e in events if e["event"].startswith("weston_")]
bad = []
by = lambda pid, name: [e for e in wev if e["pid"] == pid and name in (None, e["event"])]
if any(e["pid"] == nogroup for e in wev):
    bad.append("the weston without the group recorded %d events" % sum(e["pid"] == nogroup for e in wev))
others = {(e["pid"], e["comm"]) for e in wev if e["pid"] != group}
if others:
    bad.append("weston events of other processes: %s" % sorted(others))
if any(e["comm"] != "weston" for e in wev):
    bad.append("weston events with comm %s" % sorted({e["comm"] for e in wev}))
for name, least in (("weston_repaint_begin", 30), ("weston_repaint_finished", 30),
                    ("weston_commit_damage", 30), ("weston_log", 5)):
    n = len(by(group, name))
    if n < least:
        bad.append("%d %s of the weston with the group (at least %d expected)" % (n, name, least))
execs = [e for e in events if e["event"] == "sched:sched_process_exec"
         and e["pid"] in (nogroup, group) and e["fields"]["filename"].endswith("/weston")]
if len(execs) != 2:
    bad.append("%d execs of the two westons in the ring (the seat did not record all along?)" % len(execs))
for b in bad:
    print("FAIL:", b)
print("weston events: %d of pid %d (group), %d of pid %d (no group)"
      % (len(by(group, None)), group, len(by(nogroup, None)), nogroup))
sys.exit(1 if bad else 0)
PY
[ "$fail" = 0 ] && echo "ok: nobody with the seat's group records, without it Weston runs and records nothing"
exit "$fail"
