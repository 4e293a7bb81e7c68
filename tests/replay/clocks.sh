#!/usr/bin/env bash
# Every trace clock this kernel offers: an accepted one records a real seat
# whose replayed wall times are within 1 ms of the CLOCK_REALTIME each
# event carries (replay-emit samples it just before the write); a refused
# one is refused with its reason, naming the file, line and key, at start,
# by --print-config and by a SIGHUP reload (exit status 2 for the first two,
# the running configuration kept for the reload).
# usage: clocks.sh UEV-AGGREGATOR UEV-REPLAY REPLAY-EMIT UEV-SEAT
set -uo pipefail
AGG=$1 REPLAY=$2 EMIT=$3 SEAT=$4
. "$(dirname "$0")/../cli-lib.sh"

T=$(mktemp -d /tmp/uevclocks.XXXXXX)
apid=
cleanup() {
	[ -n "$apid" ] && kill "$apid" 2>/dev/null && wait "$apid" 2>/dev/null
	if [ -n "${UEV_KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
N=${N:-300}
ACCEPTED="boot, mono, mono_raw, tai, local, global or perf"

conf() { # FILE CLOCK RING
	cat >"$1" <<CONF
[seat]
flush_interval_ms = 200
buffer_kb = 1024

clock = $2
[ring]
path = $3
size = 4M
[kernel]
# none: what other programs make the kernel log must not wrap the ring
event =
CONF
}

# The wall time printed for each event against the CLOCK_REALTIME it
# carries. That sample is taken just before the write whose timestamp the
# kernel takes, so the true wall time of an event lies between its own
# sample and the next sample of the same thread: the distance to that
# interval is the error (a preempted emitter widens the interval, it does
# not fail the test).
check() { # JSON CLOCK
	python3 - "$1" "$2" "$N" <<'PY'
import json, sys
path, clock, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
evs = [json.loads(l) for l in open(path)]
ticks = [e for e in evs if e['event'] == 'rp_tick']
fails = []
if len(ticks) != 2 * n:
    fails.append('%d rp_tick events, want %d' % (len(ticks), 2 * n))
nowall = [e for e in evs if e['wall_ns'] is None]
if nowall:
    fails.append('%d events without a wall time, first %s' % (len(nowall), nowall[0]))
if any(e['event'] == 'unknown' or 'marker_id' in e['fields'] for e in evs):
    fails.append('sync markers shown as events')
worst, diffs = 0, []
for th in (0, 1):
    mine = sorted((e for e in ticks if e['fields']['thread'] == th), key=lambda e: e['fields']['seq'])
    for i, e in enumerate(mine):
        if e['wall_ns'] is None:
            continue
        lo = e['fields']['wall_ns']
        hi = mine[i + 1]['fields']['wall_ns'] if i + 1 < len(mine) else lo
        err = lo - e['wall_ns'] if e['wall_ns'] < lo else max(0, e['wall_ns'] - hi)
        diffs.append(e['wall_ns'] - lo)
        if err > worst:
            worst = err
            if err > 1_000_000:
                fails.append('thread %d seq %d: wall time %.3f ms off' % (th, e['fields']['seq'], err / 1e6))
diffs.sort()
if diffs:
    print('clock %s: printed - carried: median %.1f us, max %.1f us; worst error %.1f us'
          % (clock, diffs[len(diffs) // 2] / 1e3, diffs[-1] / 1e3, worst / 1e3))
for f in fails[:5]:
    print('FAIL: clock %s: %s' % (clock, f))
sys.exit(1 if fails else 0)
PY
}

# The distinct SYNC records of a ring file (checkpoints repeat the latest),
# read straight from the format (docs/ring-format.md): enough of a reader
# for files this test just wrote.
syncs() { # RING
	python3 - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
S, N = struct.unpack_from('<II', b, 24)
seen = set()
for i in range(N):
    seg = 4096 + i * S
    if b[seg:seg + 4] != b'USEG':
        continue
    off = 64
    while off + 24 <= S:
        typ, cpu, ln = struct.unpack_from('<HHI', b, seg + off)
        if typ == 0 or off + 24 + ln > S:
            break
        if typ == 2:
            seen.add(b[seg + off + 24:seg + off + 24 + 32])
        off += 24 + (ln + 7) // 8 * 8
print(len(seen))
PY
}

start() { # CLOCK: an aggregator on its own seat
	seat=uevclk$$${1//[^a-z0-9]/}
	conf "$T/$1.conf" "$1" "$T/$1.ring"
	"$AGG" --seat "$seat" --config "$T/$1.conf" --run-dir "$T/run" 2>"$T/$1.log" &
	apid=$!
	for _ in $(seq 100); do [ -e "$T/run/$seat.enable" ] && return 0; sleep 0.05; done
	echo "FAIL: clock $1: the aggregator did not start"; cat "$T/$1.log"; fail=1; return 1
}

stop() {
	kill -TERM "$apid"; wait "$apid" || { echo "FAIL: clock $1: aggregator exit $?"; cat "$T/$1.log"; fail=1; }
	apid=
}

# A reload may not switch to a refused clock (refused like at start), nor
# move the instance's clock under its own sync points.
reloads() { # CLOCK: on the running aggregator
	conf "$T/$1.conf" counter "$T/$1.ring"
	kill -HUP "$apid"; sleep 0.3
	if ! grep -q "reload refused" "$T/$1.log" ||
	   ! grep -q "$1.conf:5: \[seat\] clock: clock 'counter' cannot be put on the wall clock" "$T/$1.log"; then
		echo "FAIL: a reload to clock counter was not refused:"; cat "$T/$1.log"; fail=1
	fi
	local other=local
	[ "$1" = local ] && other=boot
	conf "$T/$1.conf" $other "$T/$1.ring"
	kill -HUP "$apid"; sleep 0.3
	if ! grep -q "reload: clock $other applies at the next start; the instance keeps $1" "$T/$1.log"; then
		echo "FAIL: a reload to clock $other was not kept for the next start:"; cat "$T/$1.log"; fail=1
	fi
}

refused() { # CLOCK
	local c=$T/$1.conf
	conf "$c" "$1" "$T/$1.ring"
	expect 2 "$c:5: [seat] clock: clock '$1' cannot be put on the wall clock: " "$AGG" --seat uevclk$$ --config "$c" --print-config
	expect 2 "; use $ACCEPTED" "$AGG" --seat uevclk$$ --config "$c" --print-config
	expect 2 "$c:5: [seat] clock: clock '$1' cannot be put on the wall clock: " "$AGG" --seat uevclk$$ --config "$c" --run-dir "$T/run"
	[ -e "/sys/kernel/tracing/instances/uev.uevclk$$" ] && { echo "FAIL: clock $1: instance created"; fail=1; }
	[ -e "$T/$1.ring" ] && { echo "FAIL: clock $1: ring file created"; fail=1; }
}

offered=$(tr -d '[]' </sys/kernel/tracing/trace_clock)
echo "this kernel offers: $offered"
first=1
for clock in $offered; do
	case $clock in
	boot | mono | mono_raw | tai | local | global | perf)
		start "$clock" || continue
		if [ "$first" = 1 ]; then reloads "$clock"; first=0; fi
		"$EMIT" "$seat" "$T/run" "$N" "$clock" || { echo "FAIL: clock $clock: emitter"; fail=1; }
		sleep 0.3
		stop "$clock"
		"$REPLAY" --json "$T/$clock.ring" >"$T/$clock.json" 2>"$T/$clock.err" ||
			{ echo "FAIL: clock $clock: uev-replay exit $?"; cat "$T/$clock.err"; fail=1; }
		check "$T/$clock.json" "$clock" || fail=1
		# a marker-synced clock: the first marker, and the last one
		# written on SIGTERM before the final drain
		n=$(syncs "$T/$clock.ring")
		[ "$n" -ge 2 ] || { echo "FAIL: clock $clock: $n sync points, want 2"; fail=1; }
		;;
	counter | uptime | x86-tsc)
		refused "$clock"
		;;
	*)
		# Clocks of other architectures: refused as unknown.
		conf "$T/other.conf" "$clock" "$T/other.ring"
		expect 2 "unknown clock '$clock' ($ACCEPTED)" "$AGG" --seat uevclk$$ --config "$T/other.conf" --print-config
		;;
	esac
done
# A kernel clock is synced when the capture meets the aggregator's marker,
# so pages drained before that one (here: what a kept instance held from
# before the start, on the CPU drained first) come before the run's first
# SYNC record in the file; replay must still place them.
if [[ " $offered " == *" local "* ]] && [ "$(nproc)" -ge 2 ]; then
	seat=uevclk$$kept
	"$SEAT" --seat "$seat" --run-dir "$T/run" up --clock local >/dev/null || { echo "FAIL: uev-seat up"; fail=1; }
	echo 0 >"/sys/kernel/tracing/instances/uev.$seat/events/enable"
	"$EMIT" "$seat" "$T/run" "$N" kept || { echo "FAIL: kept: emitter"; fail=1; }
	conf "$T/kept.conf" local "$T/kept.ring"
	taskset -c 1 "$AGG" --seat "$seat" --config "$T/kept.conf" --run-dir "$T/run" 2>"$T/kept.log" &
	apid=$!
	# Past the 5 s between sync points of a clock that drifts.
	sleep 5.6
	stop kept
	n=$(syncs "$T/kept.ring")
	# the first, one 5 s later, the last one on SIGTERM
	[ "$n" -ge 3 ] || { echo "FAIL: kept: $n sync points in 5.6 s, want 3"; fail=1; }
	"$REPLAY" --json "$T/kept.ring" >"$T/kept.json" 2>"$T/kept.err" ||
		{ echo "FAIL: kept: uev-replay exit $?"; cat "$T/kept.err"; fail=1; }
	check "$T/kept.json" "local (kept instance)" || fail=1
fi
[ "$fail" -eq 0 ] && echo "PASS"
exit "$fail"
