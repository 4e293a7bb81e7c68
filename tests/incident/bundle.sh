#!/usr/bin/env bash
# Incident bundles cut from a ring recorded here (user events on two CPUs,
# kernel messages, forks and execs), with compression on and off: for
# windows through pages, inside one page, empty, and starting before the
# ring's oldest data, uev-replay --json of the bundle must be the ring's
# events of that window (window.py filters the ring's by trace_ns). The
# bundle is a small ring file with its incident in the header and in
# --stats --json; a damaged source still gives a bundle, or an error
# naming the file.
# usage: bundle.sh UEV-AGGREGATOR UEV-REPLAY REPLAY-EMIT BUNDLE-TOOL WINDOW.PY
set -uo pipefail
AGG=$1 REPLAY=$2 EMIT=$3 TOOL=$4 WIN=$5
. "$(dirname "$0")/../cli-lib.sh"

seat=uevib$$
agg_workdir uevbundle

record() { # NAME COMPRESSION
	cat >"$T/$1.conf" <<CONF
[seat]
clock = boot
flush_interval_ms = 200
[ring]
path = $T/$1.ring
size = 8M
compression = $2
[kernel]
event = printk:console
event = sched:sched_process_fork
event = sched:sched_process_exec
CONF
	agg_up "$AGG" "$seat" "$T/$1.conf" "$T"
	"$EMIT" "$seat" "$T/run" 3000 "$1" >"$T/emit.log" 2>&1 || { echo "FAIL: replay-emit"; cat "$T/emit.log"; exit 1; }
	for _ in 1 2 3; do /bin/true; done
	sleep 0.5
	kill -TERM "$agg"; wait "$agg" || { echo "FAIL: aggregator exit $?"; cat "$T/agg.log"; exit 1; }
	agg=
	rmdir "/sys/kernel/tracing/instances/uev.$seat" 2>/dev/null
}

# cut NAME RING FROM TO [--overwritten]: bundle NAME of the window, checked
cut() {
	local name=$1 ring=$2 from=$3 to=$4 run
	run=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["run"])' "$T/$ring.json")
	"$TOOL" cut "$T/$ring.ring" "$run" "$from" "$to" "$T/inc" "$name.uevb" >"$T/$name.cut" 2>&1 ||
		{ echo "FAIL: bundle $name"; cat "$T/$name.cut"; fail=1; return; }
	"$REPLAY" --json "$T/inc/$name.uevb" >"$T/$name.json" 2>"$T/$name.err" ||
		{ echo "FAIL: uev-replay --json of bundle $name"; cat "$T/$name.err"; fail=1; return; }
	python3 "$WIN" "$T/$ring.json" "$T/$name.json" "$from" "$to" ${5:-} || { fail=1; cat "$T/$name.cut"; }
	grep -q "^# incident: test, triggered by bundle-tool at .*, window -" "$T/$name.err" ||
		{ echo "FAIL: bundle $name: no incident line in the header"; head -5 "$T/$name.err"; fail=1; }
}

mkdir -p "$T/inc"
for comp in none zstd:1; do
	name=r${comp%%:*}
	record "$name" "$comp"
	"$REPLAY" --json "$T/$name.ring" >"$T/$name.json" 2>/dev/null || { echo "FAIL: replay of $name"; exit 1; }
	n=$(wc -l <"$T/$name.json")
	[ "$n" -gt 6000 ] || { echo "FAIL: only $n events in $name"; exit 1; }
	python3 - "$T/$name.json" >"$T/$name.cpus" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
print(len({e["cpu"] for e in ev}))
PY
	[ "$(cat "$T/$name.cpus")" -ge 2 ] || { echo "FAIL: $name holds one CPU's events"; exit 1; }
	# the windows: a middle third (cuts through pages), two adjacent events
	# (inside one page), nothing (between two events), before the oldest
	read -r a b c d e f g <<<"$(python3 - "$T/$name.json" <<'PY'
import json, sys
ts = sorted(json.loads(l)["trace_ns"] for l in open(sys.argv[1]))
n = len(ts)
i = next(k for k in range(n // 2, n - 1) if ts[k + 1] - ts[k] > 2)
print(ts[n // 3] + 1, ts[2 * n // 3] - 1, ts[n // 2], ts[n // 2 + 1], ts[i] + 1, ts[i + 1] - 1, ts[n // 4])
PY
)"
	cut "$name-mid" "$name" "$a" "$b"
	cut "$name-page" "$name" "$c" "$d"
	cut "$name-empty" "$name" "$e" "$f"
	[ "$(wc -l <"$T/$name-empty.json")" -eq 0 ] || { echo "FAIL: the empty window has events"; fail=1; }
	grep -q "^#   run " "$T/$name-empty.err" || { echo "FAIL: the empty bundle has no run"; fail=1; }
	cut "$name-before" "$name" 1 "$g"
	"$REPLAY" --stats --json "$T/inc/$name-mid.uevb" >"$T/$name-mid.stats" 2>/dev/null
	python3 - "$T/$name-mid.stats" "$a" "$b" <<'PY' || fail=1
import json, sys
s = json.load(open(sys.argv[1]))
inc = s.get("incident")
if not inc or inc["reason"] != "test" or inc["trigger"] != "bundle-tool" or \
        inc["from_ns"] != int(sys.argv[2]) or inc["to_ns"] != int(sys.argv[3]):
    print("FAIL: --stats --json incident:", inc)
    sys.exit(1)
PY
	size=$(stat -c %s "$T/inc/$name-mid.uevb")
	[ "$size" -lt $((4 << 20)) ] || { echo "FAIL: bundle of $size bytes"; fail=1; }
	echo "$name: $n events; bundle sizes: $(stat -c '%n=%s' "$T"/inc/"$name"-*.uevb | sed "s|$T/inc/||" | tr '\n' ' ')"
done

exit $fail
