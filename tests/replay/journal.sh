#!/usr/bin/env bash
# uev-replay --export=journal through the real systemd-journal-remote and
# back with journalctl: a ring recorded here (marker backend, three typed
# events of every integer width and strings of every kind, printk and sched
# events) is exported, stored by systemd-journal-remote as a journal file,
# read back with journalctl -o json, and every field of every event is
# checked by journal.py against uev-replay --json and the text output of
# the same file, and the typed values against what the emitter computed.
# Then the filters, and bad usage.
# usage: journal.sh UEV-AGGREGATOR UEV-REPLAY JOURNAL-EMIT JOURNAL.PY
set -uo pipefail
AGG=$1 REPLAY=$2 EMIT=$3 CHECK=$4
. "$(dirname "$0")/../cli-lib.sh"
JR=/lib/systemd/systemd-journal-remote
for p in "$JR" journalctl python3; do
	command -v "$p" >/dev/null || { echo "SKIP: $p is not installed (.ci/deps.sh installs it)"; exit 77; }
done
[ -w /dev/kmsg ] || { echo "SKIP: /dev/kmsg is not writable"; exit 77; }
N=${N:-120}
seat=uevjr$$
agg_workdir uevjournal

# The "mono" trace clock: the one clock journald's monotonic time is.
cat >"$T/s.conf" <<CONF
[seat]
clock = mono
flush_interval_ms = 200
[ring]
path = $T/s.ring
size = 4M
[kernel]
event = printk:console
event = sched:sched_process_fork
event = sched:sched_process_exec
CONF
agg_up "$AGG" "$seat" "$T/s.conf" "$T"
"$EMIT" "$seat" "$T/run" "$N" || { echo "FAIL: the emitter"; exit 1; }
for _ in 1 2 3; do /bin/true; done
sleep 0.5
kill -TERM "$agg"; wait "$agg" || { echo "FAIL: aggregator exit $?"; cat "$T/agg.log"; exit 1; }
agg=

"$REPLAY" --export=journal "$T/s.ring" >"$T/x.export" 2>"$T/export.err" || { echo "FAIL: export"; cat "$T/export.err"; exit 1; }
"$REPLAY" --json "$T/s.ring" >"$T/x.json" 2>/dev/null || { echo "FAIL: --json"; exit 1; }
"$REPLAY" --utc "$T/s.ring" >"$T/x.txt" 2>/dev/null || { echo "FAIL: text"; exit 1; }
mkdir "$T/j"
"$JR" -o "$T/j/x.journal" - <"$T/x.export" 2>"$T/jr.err" || { echo "FAIL: systemd-journal-remote"; cat "$T/jr.err"; exit 1; }
journalctl --file "$T/j/x.journal" -o json --all --no-pager >"$T/back.json" 2>"$T/jctl.err" ||
	{ echo "FAIL: journalctl"; cat "$T/jctl.err"; exit 1; }
python3 "$CHECK" roundtrip "$T/back.json" "$T/x.json" "$T/x.txt" "$N" "$(cat /proc/sys/kernel/random/boot_id)" \
	"$(uname -n)" || fail=1

# journalctl filters it like any log: by a typed field, by event.
n=$(journalctl --file "$T/j/x.journal" -o json UEV_EVENT=user:jr_num --no-pager | wc -l)
[ "$n" -eq "$N" ] || { echo "FAIL: journalctl UEV_EVENT=user:jr_num: $n entries, wanted $N"; fail=1; }
n=$(journalctl --file "$T/j/x.journal" -o json UEV_FIELD_PID=-5 --no-pager | wc -l)
[ "$n" -eq 1 ] || { echo "FAIL: journalctl UEV_FIELD_PID=-5: $n entries, wanted 1"; fail=1; }

# The filters of the other outputs: the same events as --json selects.
for f in "--event jr_str" "--event !user:*" "--grep kmsg" "--comm replay-journal*"; do
	# shellcheck disable=SC2086
	a=$("$REPLAY" --export=journal $f "$T/s.ring" 2>/dev/null | grep -c '^__CURSOR=')
	# shellcheck disable=SC2086
	b=$("$REPLAY" --json $f "$T/s.ring" 2>/dev/null | wc -l)
	# A task's name is known only when the aggregator met it alive or saw
	# its exec: an emitter that exits before the next drain can stay
	# unnamed on a loaded machine, so only the name filter may select none.
	[ "$a" -eq "$b" ] && { [ "$a" -gt 0 ] || [[ "$f" == --comm* ]]; } ||
		{ echo "FAIL: --export=journal $f: $a entries, --json $b"; fail=1; }
done
expect 2 "--export: 'xml' is not journal" "$REPLAY" --export=xml "$T/s.ring"
expect 2 "not with --stats, --json or --perfetto" "$REPLAY" --export=journal --json "$T/s.ring"
# Header and summary go to stderr: standard output is the stream alone.
head -c 9 "$T/x.export" | grep -q '^__CURSOR' || { echo "FAIL: the export does not start with an entry"; fail=1; }
grep -q "events shown" "$T/export.err" || { echo "FAIL: no summary on stderr"; fail=1; }
[ "$fail" -eq 0 ] && echo "PASS: $(grep -c '^__CURSOR=' "$T/x.export") events through systemd-journal-remote and back"
exit "$fail"
