#!/usr/bin/env bash
# [boot] persistent_instance on this machine's kernel, a warm reboot
# played without rebooting: an ordinary instance stands in for the one
# trace_instance= puts on reserved memory (the kernel keeps it the same
# way across a reboot; tests/qemu proves that part), and the "reboot" is
# what a reboot does to everything else: the aggregator is killed -9 with
# events it never wrote, its seat instance and run directory (tmpfs) are
# gone, and the next start sees another boot id (UEV_BOOT_ID plays the
# previous boot). Numbered kernel messages go in before the kill, in
# between and after: uev-replay of the ring file must show every one
# exactly once, in order, the part only the kernel kept marked as
# recovered. Then the refusals: pages without a mark, and a mark of
# another ring file, are not imported and the seat records on.
# usage: boot-import.sh UEV-AGGREGATOR UEV-REPLAY
set -uo pipefail
AGG=$1 REPLAY=$2
. "$(dirname "$0")/../cli-lib.sh"
seat=uevbi$$
P=uevboot$$
TR=/sys/kernel/tracing
agg_workdir uevbootimport
# cleanup in this shell only: never from a subshell that inherited the trap
trap '[ "$BASHPID" != "$$" ] || { agg_workdir_cleanup; rmdir "$TR/instances/$P" 2>/dev/null; }' EXIT
fail=0
mkdir "$TR/instances/$P" || { echo "FAIL: cannot create instance $P"; exit 1; }

conf() { # conf RING
	cat <<CONF
[seat]
clock = boot
flush_interval_ms = 300
[ring]
path = $1
size = 4M
[kernel]
event = printk:console
event = sched:sched_process_exec
[boot]
persistent_instance = $P
CONF
}
conf "$T/r.ring" >"$T/r.conf"
kmsg() { # kmsg FROM TO TAG
	for i in $(seq "$1" "$2"); do echo "$3 n=$i" >/dev/kmsg; done
}
# what a reboot leaves of everything but the persistent instance
reboot() {
	kill -KILL "$agg"; wait "$agg" 2>/dev/null
	# the killed process's io_uring lets go of the instance a moment later
	for _ in $(seq 50); do rmdir "$TR/instances/uev.$seat" 2>/dev/null && break; sleep 0.1; done
	[ ! -e "$TR/instances/uev.$seat" ] || { echo "FAIL: seat instance stays"; fail=1; }
	rm -rf "$T/run"
}
tag=uevbi-$$

# the aggregator has armed the persistent instance: its mark is there
armed() {
	for _ in $(seq 50); do grep -q "# 42564555 buf" "$TR/instances/$P/trace" && return; sleep 0.1; done
	echo "FAIL: the persistent instance was not marked"; fail=1
}

# Boot 1: recorded (by the seat and the persistent instance), flushed,
# then events the aggregator never writes.
UEV_BOOT_ID=0b0b0b0b-1111-4222-8333-444455556666 agg_up "$AGG" "$seat" "$T/r.conf" "$T"
armed
kmsg 1 150 "$tag"
sleep 1.2 # flushed: these are in the file
kmsg 151 300 "$tag"
reboot
kmsg 301 320 "$tag" # after the aggregator died, before the "reboot"

# Boot 2: imports, then records on (into the instance too, once its
# aggregator has marked it).
agg_up "$AGG" "$seat" "$T/r.conf" "$T"
armed
kmsg 321 340 "$tag"
sleep 0.8
kill -TERM "$agg"; wait "$agg" || { echo "FAIL: second aggregator exit $?"; fail=1; }
agg=
# what the first run had written was found among the persistent copies
# and left out
grep -q "recovered from kernel memory, [1-9][0-9]* the file held already left out" "$T/agg.log" ||
	{ echo "FAIL: no import said, or nothing the file held found among the copies"; cat "$T/agg.log"; fail=1; }

"$REPLAY" --json "$T/r.ring" >"$T/r.json" 2>"$T/r.err" || { echo "FAIL: replay"; cat "$T/r.err"; fail=1; }
"$REPLAY" "$T/r.ring" >"$T/r.txt" 2>/dev/null
python3 - "$T/r.json" "$tag" <<'PY' || fail=1
import json, re, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
mine = [(e['trace_ns'], int(re.search(r' n=(\d+)', e['fields']['msg']).group(1)), e.get('recovered', False), e['run'])
        for e in evs if e['event'] == 'printk:console' and sys.argv[2] + ' ' in e['fields'].get('msg', '')]
ns = [n for _, n, _, _ in mine]
bad = []
if sorted(ns) != list(range(1, 341)):
    missing = sorted(set(range(1, 341)) - set(ns))
    dups = sorted({n for n in ns if ns.count(n) > 1})
    bad.append('messages: %d, missing %s, twice %s' % (len(ns), missing[:10], dups[:10]))
if ns != sorted(ns):
    bad.append('not in order: %s' % [n for i, n in enumerate(ns) if i and n < ns[i - 1]][:5])
marks = [e for e in evs if e['fields'].get('marker_id') == 0x42564555]
if marks:
    bad.append('%d of the aggregator\'s own marks imported as events' % len(marks))
rec = [n for _, n, r, _ in mine if r]
# what the first run wrote is not recovered again; what it never wrote is
if not rec or min(rec) <= 150 or max(rec) != 320:
    bad.append('recovered part: %s..%s (%d)' % (min(rec) if rec else None, max(rec) if rec else None, len(rec)))
for b in bad:
    print('FAIL: ' + b)
sys.exit(1 if bad else 0)
PY
grep -q "^#   run 2: .*recovered from kernel memory after a reboot: the last of run 1" "$T/r.txt" ||
	{ echo "FAIL: header"; grep '^#' "$T/r.txt"; fail=1; }
"$REPLAY" --stats "$T/r.ring" 2>/dev/null | grep -q "^recovered from kernel memory: [1-9]" ||
	{ echo "FAIL: --stats"; fail=1; }

# A restart within the same boot takes nothing and clears nothing: what
# the instance recorded before (the second run's messages) is still there.
held() { grep -c -- "$tag n=3[2-4][0-9]\$" "$TR/instances/$P/trace"; }
before=$(held)
rm -f "$T/run/$seat.enable" # agg_up waits for the new run's page (the rest of the run dir stays)
agg_up "$AGG" "$seat" "$T/r.conf" "$T"
kill -TERM "$agg"; wait "$agg" || { echo "FAIL: restarted aggregator exit $?"; fail=1; }; agg=
if grep -q "recovered from kernel memory\|not imported" "$T/agg.log"; then
	echo "FAIL: a restart in the same boot imported"; cat "$T/agg.log"; fail=1
fi
[ "$before" -eq 20 ] && [ "$(held)" -eq 20 ] ||
	{ echo "FAIL: the persistent instance held $before of the second run's 20 messages, $(held) after a restart"; fail=1; }

# A stop asked for right after the start is a clean stop (exit 0). (The
# daemon's signals are blocked from main() on, so one that comes during
# an import is taken once the drain runs; this test cannot time its
# signal into that window reliably: it checks the early stop as a whole.)
"$AGG" --seat "$seat" --config "$T/r.conf" --run-dir "$T/run" 2>"$T/early.log" &
early=$!
sleep 0.2
kill -TERM "$early"
wait "$early" || { echo "FAIL: SIGTERM during start-up: exit $?"; cat "$T/early.log"; fail=1; }

# Refused: pages without a mark (someone else's events in the instance).
rm -rf "$T/run"
echo > "$TR/instances/$P/trace"
echo 1 > "$TR/instances/$P/events/printk/console/enable"
kmsg 1 5 "$tag-nomark"
agg_up "$AGG" "$seat" "$T/r.conf" "$T"
kill -TERM "$agg"; wait "$agg" || { echo "FAIL: aggregator after a refusal: exit $?"; fail=1; }; agg=
grep -q "not imported, nothing of it decoded: it holds [0-9]* pages but no uev mark" "$T/agg.log" ||
	{ echo "FAIL: no-mark refusal"; cat "$T/agg.log"; fail=1; }

# Refused: a mark of another ring file.
conf "$T/other.ring" >"$T/other.conf"
rm -rf "$T/run"
UEV_BOOT_ID=0b0b0b0b-1111-4222-8333-777777777777 agg_up "$AGG" "$seat" "$T/other.conf" "$T"
kmsg 1 5 "$tag-other"
sleep 0.5
reboot
agg_up "$AGG" "$seat" "$T/r.conf" "$T"
kill -TERM "$agg"; wait "$agg" || { echo "FAIL: aggregator after a refusal: exit $?"; fail=1; }; agg=
grep -q "not imported, nothing of it decoded: the run that recorded them wrote another ring file" "$T/agg.log" ||
	{ echo "FAIL: other-file refusal"; cat "$T/agg.log"; fail=1; }
n=$("$REPLAY" --json "$T/r.ring" 2>/dev/null | grep -c -- "$tag-other")
[ "$n" -eq 0 ] || { echo "FAIL: $n events of another ring file's run imported"; fail=1; }

# Refused: marks that name what this file cannot decode them with (forged
# here; the kernel keeps a persistent ring only for the same kernel, so a
# real one of another kernel comes from a build that kept the layout).
uuid=$(python3 -c "import sys; print(open(sys.argv[1],'rb').read()[32:48].hex())" "$T/r.ring")
forged() { # forged RELEASE RUN BOOT WANT: a mark, kernel messages, then a start
	rm -rf "$T/run"
	echo > "$TR/instances/$P/trace"
	python3 - "$TR/instances/$P/trace_marker_raw" "$uuid" "$1" "$2" "$3" <<'PY'
import struct, sys
path, uuid, release, run, boot = sys.argv[1:]
m = struct.pack('<II16sQ37s65s16s16sQQQ', 0x42564555, 2, bytes.fromhex(uuid), int(run), boot.encode(),
                release.encode(), b'local', b'boot', 1, 1, 1)
open(path, 'wb').write(m)
PY
	kmsg 1 3 "$tag-forged"
	agg_up "$AGG" "$seat" "$T/r.conf" "$T"
	kill -TERM "$agg"; wait "$agg" || { echo "FAIL: aggregator after a refusal: exit $?"; fail=1; }; agg=
	grep -q "$4" "$T/agg.log" || { echo "FAIL: refusal '$4'"; cat "$T/agg.log"; fail=1; }
}
rel=$(uname -r)
forged 0.0.0-other 1 0b0b0b0b-1111-4222-8333-444455556666 \
	"not imported, nothing of it decoded: they were recorded by kernel 0.0.0-other, this is $rel"
forged "$rel" 999 0b0b0b0b-1111-4222-8333-444455556666 "not imported: .* holds no run 999 any more"
forged "$rel" 1 0b0b0b0b-1111-4222-8333-999999999999 \
	"not imported, nothing of it decoded: run 1 of .* is of boot 0b0b0b0b-1111-4222-8333-444455556666"
n=$("$REPLAY" --json "$T/r.ring" 2>/dev/null | grep -c -- "$tag-forged")
# written before any seat recorded: only the refused instance had them
[ "$n" -eq 0 ] || { echo "FAIL: $n messages of refused pages in the file"; fail=1; }

[ "$fail" -eq 0 ] && echo PASS
exit "$fail"
