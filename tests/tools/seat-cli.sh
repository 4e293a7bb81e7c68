#!/usr/bin/env bash
# uev-seat from the outside: exit codes and messages for bad input, and a
# full up / status / dump / down / remove cycle on a throw-away seat.
# usage: seat-cli.sh UEV_SEAT UEV_DEMO
set -uo pipefail
seat_bin=$1 demo=$2
# shellcheck source=../cli-lib.sh
. "$(dirname "$0")/../cli-lib.sh"
seat="cli$$"
run=$(mktemp -d)
trap '"$seat_bin" --seat "$seat" --run-dir "$run" remove >/dev/null 2>&1; rm -rf "$run"' EXIT
s() { "$seat_bin" --seat "$seat" --run-dir "$run" "$@"; }

expect 2 "usage" "$seat_bin"
expect 2 "unknown command 'frobnicate'" "$seat_bin" --seat "$seat" frobnicate
expect 2 "bad seat name 'a/b'" "$seat_bin" --seat a/b up
expect 2 "--buffer-kb: 'lots' is not a positive number" s up --buffer-kb lots
expect 1 "seat $seat is not up" s dump
expect 1 "seat $seat is not up" s status
expect 2 "--event nosuch:event: no such event" s up --event nosuch:event
expect 2 "--group no_such_group_x: no such group" s up --group no_such_group_x
expect 2 "--clock sundial: the kernel refused it" s up --clock sundial
expect 0 "" s up --clock mono
s status | grep -q "enabled, epoch" || { echo "FAIL: status after up"; fail=1; }
UEV_RUN_DIR=$run "$demo" -s "$seat" -n 3 -i 0 >/dev/null
out=$(s dump)
n=$(grep -c "demo_tick" <<<"$out")
[ "$n" -eq 6 ] || { echo "FAIL: dump shows $n demo_tick records, wanted 6"; echo "$out"; fail=1; }
# 3 events announced; two threads may both announce the same event (harmless)
grep -qE "^# 9 records, [34] announcements" <<<"$out" || { echo "FAIL: dump summary: $(tail -1 <<<"$out")"; fail=1; }
if s dump | grep -qv '^#'; then echo "FAIL: a second dump still had records"; fail=1; fi
expect 0 "" s down
s status | grep -q "disabled" || { echo "FAIL: status after down"; fail=1; }
expect 0 "" s remove
[ ! -e "/sys/kernel/tracing/instances/uev.$seat" ] || { echo "FAIL: instance left after remove"; fail=1; }
[ -f "$run/$seat.enable" ] || { echo "FAIL: remove must keep the enable page"; fail=1; }
exit $fail
