#!/usr/bin/env bash
# Compressed units (docs/ring-format.md, "Compressed units") read as the
# pages they hold. A ring recorded here by uev-aggregator (user events on
# both CPUs, kernel messages, forks and execs, so several event formats,
# announcements and process names) is written again by replay-mkunits with
# its PAGE records packed into UNIT records. The file without units is the
# oracle: uev-replay (text, JSON, --stats) and uev-ringdump must show the
# file with units exactly as they show it, with 8 pages a unit and with 1.
# Then the units' bytes are damaged and the damage is reported by name.
# usage: units.sh UEV-AGGREGATOR UEV-REPLAY UEV-RINGDUMP REPLAY-EMIT REPLAY-MKUNITS
set -uo pipefail
AGG=$1 REPLAY=$2 RINGDUMP=$3 EMIT=$4 MK=$5
. "$(dirname "$0")/../cli-lib.sh"

seat=uevun$$
agg_workdir uevunits

cat >"$T/s.conf" <<CONF
[seat]
clock = boot
flush_interval_ms = 200
[ring]
path = $T/in.ring
size = 8M
compression = none
[kernel]
event = printk:console
event = sched:sched_process_fork
event = sched:sched_process_exec
CONF
agg_up "$AGG" "$seat" "$T/s.conf" "$T"
"$EMIT" "$seat" "$T/run" 3000 units >"$T/emit.log" 2>&1 || { echo "FAIL: replay-emit"; cat "$T/emit.log"; exit 1; }
for _ in 1 2 3; do /bin/true; done
sleep 0.5
kill -TERM "$agg"; wait "$agg" || { echo "FAIL: aggregator exit $?"; cat "$T/agg.log"; exit 1; }
agg=

# show FILE NAME: every view of FILE into $T/NAME.*, headers aside (they
# name the file and how much of it is used)
show() {
	"$REPLAY" --json "$1" >"$T/$2.json" 2>"$T/$2.jerr" || { echo "FAIL: uev-replay --json $2"; cat "$T/$2.jerr"; fail=1; }
	"$REPLAY" "$1" 2>&1 | grep -v '^#' >"$T/$2.txt"
	# (the "pages:" line says how they are stored: checked below)
	"$REPLAY" --stats "$1" 2>&1 | grep -v '^#' | grep -v '^pages: ' >"$T/$2.stats"
	"$REPLAY" --stats "$1" 2>&1 | grep '^pages: ' >"$T/$2.pages"
	"$RINGDUMP" "$1" >"$T/$2.dump" 2>&1 || { echo "FAIL: uev-ringdump $2"; cat "$T/$2.dump"; fail=1; }
}
show "$T/in.ring" in
events=$(wc -l <"$T/in.json")
[ "$events" -gt 6000 ] || { echo "FAIL: only $events events recorded"; cat "$T/in.stats"; exit 1; }
grep -q '"event":"rp_tick"' "$T/in.json" || { echo "FAIL: no user event in the recording"; exit 1; }

for per in 8 1; do
	"$MK" "$T/in.ring" "$T/u$per.ring" "$per" >"$T/mk$per.log" 2>&1 ||
		{ echo "FAIL: replay-mkunits $per"; cat "$T/mk$per.log"; fail=1; continue; }
	show "$T/u$per.ring" "u$per"
	for v in json txt stats dump; do
		if ! cmp -s "$T/in.$v" "$T/u$per.$v"; then
			echo "FAIL: $per pages a unit: the $v view differs from the file without units:"
			diff "$T/in.$v" "$T/u$per.$v" | head -10
			fail=1
		fi
	done
	"$REPLAY" "$T/u$per.ring" >"$T/u$per.head" 2>&1
	grep -q "^#   pages: [0-9]* in [0-9]* compressed unit" "$T/u$per.head" ||
		{ echo "FAIL: the header of u$per has no line on its units"; fail=1; }
	# the same pages, all of them from units, and what they take
	np=$(sed -n 's/^pages: \([0-9]*\) .*/\1/p' "$T/in.pages")
	grep -Eq "^pages: $np \([0-9.]+ MiB\), $np in [0-9]+ compressed units?, [0-9.]+ MiB in [0-9.]+ MiB \([0-9.]+:1\)$" "$T/u$per.pages" ||
		{ echo "FAIL: --stats pages line: $(cat "$T/u$per.pages") (file without units: $(cat "$T/in.pages"))"; fail=1; }
	grep -Eq "^pages: $np \([0-9.]+ MiB\), none compressed$" "$T/in.pages" ||
		{ echo "FAIL: --stats pages line without units: $(cat "$T/in.pages")"; fail=1; }
	[ "$fail" = 0 ] && echo "PASS: $(cat "$T/mk$per.log"): $events events shown as without units; $(cat "$T/u$per.pages")"
done

# Damage: flip a byte inside every unit's packed bytes, record CRC fixed
# in the first three units (valid records, units that do not unpack): each
# is reported, no event comes out of them, every other event is shown as
# in the file without units, and none twice.
python3 - "$T/u8.ring" "$T/bad.ring" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
def crc32c(b, c=0):
    c ^= 0xffffffff
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82f63b78 if c & 1 else 0)
    return c ^ 0xffffffff
S, N = struct.unpack_from("<II", data, 24)
hit = 0
for i in range(N):
    base = 4096 + i * S
    if data[base:base + 4] != b"USEG":
        continue
    pos = 64
    while pos + 24 <= S:
        t, cpu, ln = struct.unpack_from("<HHI", data, base + pos)
        if t == 0 or ln > S:
            break
        if t == 9 and hit < 3:
            p = base + pos + 24
            data[p + 16 + (ln - 16) // 2] ^= 0x5a
            c = crc32c(bytes(data[p:p + ln]), crc32c(bytes(data[base + pos:base + pos + 20])))
            struct.pack_into("<I", data, base + pos + 20, c)
            hit += 1
        pos += 24 + ((ln + 7) & ~7)
open(sys.argv[2], "wb").write(data)
print(hit)
PY
"$REPLAY" --json "$T/bad.ring" >"$T/bad.json" 2>"$T/bad.err"
n=$(grep -c "compressed unit of CPU" "$T/bad.err")
[ "$n" = 3 ] || { echo "FAIL: 3 damaged units, $n reported:"; cat "$T/bad.err"; fail=1; }
lost=$(( events - $(wc -l <"$T/bad.json") ))
[ "$lost" -gt 0 ] || { echo "FAIL: damaged units still gave their events"; fail=1; }
# An event is compared by what the file holds of it, not by the name
# replay gives its task (a lost unit may hold the exec that renamed it).
python3 - "$T/in.json" "$T/bad.json" <<'PY' || fail=1
import json, sys
def events(path):
    return [(e["run"], e["cpu"], e["trace_ns"], e["pid"], e["event"], json.dumps(e["fields"], sort_keys=True))
            for e in map(json.loads, open(path))]
whole, bad = events(sys.argv[1]), events(sys.argv[2])
if len(set(bad)) != len(bad):
    print("FAIL: an event shown twice"); sys.exit(1)
extra = set(bad) - set(whole)
if extra:
    print("FAIL: %d events that the file without units does not hold, e.g. %s" % (len(extra), sorted(extra)[0]))
    sys.exit(1)
PY
[ "$fail" = 0 ] && echo "PASS: 3 damaged units reported, their $lost events missing, the rest shown"
exit "$fail"
