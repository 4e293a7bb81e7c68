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

# Prune: 8 bundles and files that are not bundles (a ring file without an
# incident, a text file); by count, then by size; the oldest go first.
cp "$T/rnone.ring" "$T/inc/plain.ring"; echo hello >"$T/inc/notes.txt"
out=$("$TOOL" prune "$T/inc" 6 0) || { echo "FAIL: prune"; fail=1; }
[ "$out" = "dropped=2 bytes=$(stat -c %s "$T/inc/rnone-mid.uevb" "$T/inc/rnone-page.uevb" 2>/dev/null | awk '{s+=$1} END {print s}')" ] ||
	[[ "$out" == dropped=2* ]] || { echo "FAIL: prune by count: $out"; fail=1; }
# (written in this order: mid, page, empty, before; rnone first)
[ ! -e "$T/inc/rnone-mid.uevb" ] && [ ! -e "$T/inc/rnone-page.uevb" ] && [ -e "$T/inc/rnone-empty.uevb" ] ||
	{ echo "FAIL: prune by count did not drop the two oldest bundles: $(ls "$T/inc")"; fail=1; }
n=$(ls "$T"/inc/*.uevb | wc -l); [ "$n" -eq 6 ] || { echo "FAIL: $n bundles after prune to 6"; fail=1; }
newest=$(stat -c %s "$T/inc/rzstd-before.uevb")
out=$("$TOOL" prune "$T/inc" 0 "$newest") || { echo "FAIL: prune by size"; fail=1; }
[ "$out" = "dropped=5 bytes=$(( $(cat "$T"/inc/*.uevb 2>/dev/null | wc -c) * 0 ))" ] 2>/dev/null
n=$(ls "$T"/inc/*.uevb | wc -l)
[ "$n" -eq 1 ] && [ -e "$T/inc/rzstd-before.uevb" ] && [[ "$out" == dropped=5* ]] ||
	{ echo "FAIL: prune to $newest bytes: $out, left: $(ls "$T/inc")"; fail=1; }
[ -e "$T/inc/plain.ring" ] && [ -e "$T/inc/notes.txt" ] || { echo "FAIL: prune removed a file that is no bundle"; fail=1; }
echo "prune: ok ($out)"

# Damage: bytes flipped in the source ring; a bundle is still made (what
# could be read, the problems counted) or the error names the file.
cp "$T/rzstd.ring" "$T/bad.ring"
python3 - "$T/bad.ring" <<'PY'
import os, random, sys
random.seed(16)
size = os.path.getsize(sys.argv[1])
with open(sys.argv[1], "r+b") as f:
    for _ in range(200):
        at = random.randrange(4096, min(size, 4096 + 600000))  # where the records are
        f.seek(at); b = f.read(1); f.seek(at); f.write(bytes([b[0] ^ (1 << random.randrange(8))]))
PY
run=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["run"])' "$T/rzstd.json")
if "$TOOL" cut "$T/bad.ring" "$run" 1 99999999999999999 "$T/inc" bad.uevb >"$T/bad.cut" 2>&1; then
	grep -q "problems=[1-9]" "$T/bad.cut" || { echo "FAIL: damaged source, no problem counted"; cat "$T/bad.cut"; fail=1; }
	"$REPLAY" --json "$T/inc/bad.uevb" >/dev/null 2>"$T/bad.err" || { echo "FAIL: bundle of a damaged ring unreadable"; fail=1; }
	grep -q "problems in the source" "$T/bad.err" || { echo "FAIL: the bundle does not say the source was damaged"; fail=1; }
else
	grep -q "$T/bad.ring" "$T/bad.cut" || { echo "FAIL: error without the file's name"; cat "$T/bad.cut"; fail=1; }
fi
echo "damage: $(cat "$T/bad.cut" | tr '\n' ' ')"
printf 'x' >"$T/notring"
"$TOOL" cut "$T/notring" 1 0 1 "$T/inc" x.uevb >"$T/x.cut" 2>&1 && { echo "FAIL: a bundle of no ring file"; fail=1; }
grep -q "$T/notring" "$T/x.cut" || { echo "FAIL: error without the file's name: $(cat "$T/x.cut")"; fail=1; }

exit $fail
