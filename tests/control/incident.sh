#!/usr/bin/env bash
# Incidents and the control socket on this machine's kernel (no kernel
# error report can be provoked here: a printk pattern is the trigger).
#  1. A numbered stream of kernel messages, one of which matches the
#     trigger: the bundle appears under [incident] dir, and uev-replay of it
#     equals uev-replay of the ring file cut to [trigger - before_s,
#     trigger + after_s] by the events' own trace times (check-window.py).
#  2. More triggers than max_count: only max_count bundles stay, the
#     oldest dropped, counted in status.
#  3. The socket as an unprivileged user (nobody), through a client written
#     apart from libuev (control-client.py): snapshot gives a read-only
#     descriptor of the bundle; an allowed event enable turns the event on
#     in the seat's instance and the disconnect turns it off; drm.debug and
#     dyndbg (test files through UEV_DRM_DEBUG_PATH / UEV_DYNDBG_PATH) get
#     their change and its revert; what the policy does not grant changes
#     nothing; a user without any grant is refused; malformed and oversized
#     requests are refused and the connection and the seat go on.
#  4. Load during bundling: user events flooded while a snapshot is made;
#     the ring file shows no loss; one of them (by its string field) is a
#     trigger too.
#  6. SIGHUP with the snapshot grant removed: nobody is refused from then on.
#  5. uev-ctl (libuev's client calls) as nobody: snapshot to a file, and an
#     enable held while a command runs.
# usage: incident.sh UEV-AGGREGATOR UEV-REPLAY EMITTER UEV-CTL
set -uo pipefail
AGG=$1 REPLAY=$2 EMIT=$3 CTL=$(realpath "$4")
. "$(dirname "$0")/../cli-lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
seat=uevinc$$
TR=/sys/kernel/tracing
agg_workdir uevincident
fail=0
tag=uevinc$$
chmod 755 "$T"
mkdir -p "$T/run" "$T/inc" && chmod 755 "$T/run"
# what a writer killed before its rename leaves, and one still being written
true & dead=$!; wait $dead
echo x >"$T/inc/.old.uevb.tmp-$dead"; echo x >"$T/inc/.new.uevb.tmp-$$"
echo 0 >"$T/drm-debug"
: >"$T/dyndbg"
cat >"$T/s.conf" <<CONF
[seat]
clock = boot
flush_interval_ms = 200
[ring]
path = $T/r.ring
size = 16M
[kernel]
event = printk:console
[incident]
trigger = printk:console ~ $tag-fire
trigger = user:rp_tick ~ ^$tag-load-t0-s777-
before_s = 2
after_s = 1
dir = $T/inc
max_count = 3
min_interval_s = 0
[control]
snapshot = user:nobody
allow = user:nobody event sched:sched_process_exit
allow = user:nobody drm kms
allow = user:nobody dyndbg module uevtest$$ +p
CONF
export UEV_DRM_DEBUG_PATH=$T/drm-debug UEV_DYNDBG_PATH=$T/dyndbg
agg_up "$AGG" "$seat" "$T/s.conf" "$T"
sock=$T/run/$seat.sock
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { echo "FAIL: no control socket $sock"; cat "$T/agg.log"; exit 1; }
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
client() { python3 "$HERE/control-client.py" "$sock" "$@"; }
bundles() { find "$T/inc" -maxdepth 1 -name '*.uevb' | sort; }
wait_bundles() { # N: until N bundles exist and no job runs (10 s)
	for _ in $(seq 100); do
		[ "$(bundles | wc -l)" -ge "$1" ] && client status | grep -q '|incidents_running 0|' && return 0
		sleep 0.1
	done
	echo "FAIL: $1 bundles wanted, found: $(bundles | tr '\n' ' ')"; fail=1
}

# --- 1. a printk trigger and its window ---------------------------------------
for i in $(seq 1 80); do
	echo "$tag n=$i" >/dev/kmsg
	[ "$i" = 40 ] && echo "$tag-fire here" >/dev/kmsg
	sleep 0.05
done
wait_bundles 1
b1=$(bundles | head -1)
[ ! -e "$T/inc/.old.uevb.tmp-$dead" ] || { echo "FAIL: a dead writer's temporary stays"; fail=1; }
[ -e "$T/inc/.new.uevb.tmp-$$" ] || { echo "FAIL: a live writer's temporary was removed"; fail=1; }
kill -USR1 "$agg"; sleep 0.5
"$REPLAY" --json "$T/r.ring" >"$T/ring.json" 2>"$T/ring.err"
"$REPLAY" --json "$b1" >"$T/b1.json" 2>"$T/b1.err" || { echo "FAIL: replay of $b1"; cat "$T/b1.err"; fail=1; }
"$REPLAY" "$b1" 2>/dev/null | grep "^# incident: trigger printk:console" >/dev/null || { echo "FAIL: the bundle's header does not say incident"; fail=1; }
python3 "$HERE/check-window.py" "$T/ring.json" "$T/b1.json" "$tag-fire" 2 1 "$tag n=" || fail=1

# --- 2. bounds: more triggers than max_count ---------------------------------
for i in 1 2 3 4; do echo "$tag-fire again $i" >/dev/kmsg; sleep 1.3; done
wait_bundles 3
sleep 1.5
n=$(bundles | wc -l)
[ "$n" = 3 ] || { echo "FAIL: $n bundles kept, max_count is 3"; fail=1; }
bundles | grep -qx "$b1" && { echo "FAIL: the oldest bundle was not dropped"; fail=1; }
st=$(client status)
[[ "$st" == *"|incidents 5|"* && "$st" == *"|incidents_dropped 2|"* ]] ||
	{ echo "FAIL: status after 5 incidents, 2 dropped: $st"; fail=1; }
[ "$(grep -c "older incident bundle removed" "$T/agg.log")" = 2 ] ||
	{ echo "FAIL: the log does not say each removal"; grep incident "$T/agg.log"; fail=1; }

# --- 3. the socket, unprivileged ------------------------------------------------
out=$(nobody /usr/bin/python3 "$HERE/control-client.py" "$sock" "snapshot from the test" status 2>&1)
[[ "$out" == "ok "*".uevb "*" fd=ro "*"head=5545565249"* ]] ||
	{ echo "FAIL: snapshot as nobody: $out"; fail=1; }
[[ "$out" == *"ok protocol 1|"* ]] || { echo "FAIL: status as nobody: $out"; fail=1; }
out=$(setpriv --reuid=65533 --regid=65533 --clear-groups /usr/bin/python3 "$HERE/control-client.py" "$sock" snapshot status 2>&1)
[[ "$out" == "error EPERM: "*$'\n'"error EPERM: "* ]] || { echo "FAIL: a user without grants: $out"; fail=1; }

ev=$TR/instances/uev.$seat/events/sched/sched_process_exit/enable
sw=$TR/instances/uev.$seat/events/sched/sched_switch/enable
[ "$(cat "$ev")" = 0 ] || { echo "FAIL: sched_process_exit on before the test"; fail=1; }
exec 7> >(nobody /usr/bin/python3 "$HERE/control-client.py" "$sock" "enable event sched:sched_process_exit" \
	"enable drm kms" "enable dyndbg module uevtest$$ +p" "enable event sched:sched_switch" \
	"enable drm atomic" "enable dyndbg module other +p" hold >"$T/hold.out" 2>&1)
for _ in $(seq 50); do [ "$(wc -l <"$T/hold.out")" -ge 6 ] && break; sleep 0.1; done
held=$(cat "$T/hold.out")
[ "$(sed -n 1,3p "$T/hold.out" | tr '\n' ' ')" = "ok ok ok " ] || { echo "FAIL: allowed enables: $held"; fail=1; }
[ "$(sed -n 4,6p "$T/hold.out" | cut -c1-12 | tr '\n' ' ')" = "error EPERM: error EPERM: error EPERM: " ] ||
	{ echo "FAIL: enables the policy does not grant: $held"; fail=1; }
[ "$(cat "$ev")" = 1 ] || { echo "FAIL: the granted event is not on"; fail=1; }
[ "$(cat "$sw")" = 0 ] || { echo "FAIL: a refused event was turned on"; fail=1; }
[ "$(cat "$T/drm-debug")" = 0x4 ] || [ "$(cat "$T/drm-debug")" = 4 ] ||
	{ echo "FAIL: drm.debug after enable drm kms: $(cat "$T/drm-debug")"; fail=1; }
[ "$(cat "$T/dyndbg")" = "module uevtest$$ +p" ] || { echo "FAIL: dyndbg query: '$(cat "$T/dyndbg")'"; fail=1; }
exec 7>&-
# the revert is done once the aggregator says so
for _ in $(seq 50); do grep -q "went away: its selections are reverted" "$T/agg.log" && break; sleep 0.1; done
[ "$(cat "$ev")" = 0 ] || { echo "FAIL: the disconnect did not turn the event off"; fail=1; }
[ "$(cat "$T/drm-debug")" = 0 ] || [ "$(cat "$T/drm-debug")" = 0x0 ] ||
	{ echo "FAIL: drm.debug after the disconnect: $(cat "$T/drm-debug")"; fail=1; }
[ "$(cat "$T/dyndbg")" = "module uevtest$$ -p" ] || { echo "FAIL: dyndbg revert: '$(cat "$T/dyndbg")'"; fail=1; }

out=$(nobody /usr/bin/python3 "$HERE/control-client.py" "$sock" bogus "enable event" raw:1025 "snapshot bad$(printf '\001')" status 2>&1)
[[ "$out" == "error EINVAL: "*$'\n'"error EINVAL: "*$'\n'"error EMSGSIZE: "*$'\n'"error EINVAL: "*$'\n'"ok protocol 1|"* ]] ||
	{ echo "FAIL: malformed requests: $out"; fail=1; }
kill -0 "$agg" || { echo "FAIL: the aggregator died"; fail=1; }

# --- 5. uev-ctl as nobody ---------------------------------------------------------
mkdir "$T/nob" && chmod 777 "$T/nob"
out=$(cd "$T/nob" && nobody "$CTL" --run-dir "$T/run" --seat "$seat" snapshot -o b.uevb "via uev-ctl" 2>&1)
[ "$out" = b.uevb ] && "$REPLAY" "$T/nob/b.uevb" 2>/dev/null | grep "^# incident: via uev-ctl, triggered by snapshot by uid 65534" >/dev/null ||
	{ echo "FAIL: uev-ctl snapshot as nobody: $out"; fail=1; }
nobody "$CTL" --run-dir "$T/run" --seat "$seat" enable event sched:sched_process_exit -- sleep 2 &
for _ in $(seq 15); do [ "$(cat "$ev")" = 1 ] && break; sleep 0.1; done
[ "$(cat "$ev")" = 1 ] || { echo "FAIL: uev-ctl enable ... -- sleep: the event is not on"; fail=1; }
wait $! || { echo "FAIL: uev-ctl enable ... -- sleep 2: exit $?"; fail=1; }
for _ in $(seq 50); do [ "$(cat "$ev")" = 0 ] && break; sleep 0.1; done
[ "$(cat "$ev")" = 0 ] || { echo "FAIL: uev-ctl's enable outlived it"; fail=1; }
out=$(nobody "$CTL" --run-dir "$T/run" --seat "$seat" enable event sched:sched_switch 2>&1)
[[ $? = 1 && "$out" == *"Operation not permitted"*"may not enable event"* ]] ||
	{ echo "FAIL: uev-ctl refused enable: $out"; fail=1; }

# --- 4. load while a bundle is made ---------------------------------------------
"$EMIT" "$seat" "$T/run" 200000 "$tag-load" 3000 >"$T/emit.log" 2>&1 &
emit=$!
sleep 0.5
client "snapshot under load" >"$T/load.out" || fail=1
wait "$emit" || { echo "FAIL: the emitter"; cat "$T/emit.log"; fail=1; }
[[ "$(cat "$T/load.out")" == "ok "* ]] || { echo "FAIL: snapshot under load: $(cat "$T/load.out")"; fail=1; }
# a user event's string field as a trigger: the emitter's event 777 of thread 0
for _ in $(seq 200); do grep -q "incident bundle .*user:rp_tick: $tag-load-t0-s777-" "$T/agg.log" && break; sleep 0.1; done
grep -q "incident bundle .*user:rp_tick: $tag-load-t0-s777-" "$T/agg.log" ||
	{ echo "FAIL: the user event trigger did not fire"; grep incident "$T/agg.log"; fail=1; }

# --- 6. a reload takes the policy away ------------------------------------------
sed -i '/^snapshot = user:nobody$/d' "$T/s.conf"
kill -HUP "$agg"
for _ in $(seq 50); do grep -q "configuration reloaded" "$T/agg.log" && break; sleep 0.1; done
sleep 0.2
out=$(nobody /usr/bin/python3 "$HERE/control-client.py" "$sock" "snapshot after reload" 2>&1)
[[ "$out" == "error EPERM: "* ]] || { echo "FAIL: snapshot after the grant was reloaded away: $out"; fail=1; }

kill -TERM "$agg"; wait "$agg"; rc=$?; agg=
[ "$rc" = 0 ] || { echo "FAIL: aggregator exit $rc"; cat "$T/agg.log"; fail=1; }
[ ! -e "$sock" ] || { echo "FAIL: the socket stays after the stop"; fail=1; }
lost=$("$REPLAY" --stats --json "$T/r.ring" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["lost_kernel"]+d["lost_unknown"])')
[ "$lost" = 0 ] || { echo "FAIL: $lost events lost during the load run"; fail=1; }
[ $fail = 0 ] && echo "PASS"
exit $fail
