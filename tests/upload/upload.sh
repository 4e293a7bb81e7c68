#!/usr/bin/env bash
# uev-upload against the real systemd-journal-remote (--listen-http on a
# free local port): a ring recorded here is uploaded whole; then uploads
# interrupted by kill -9 of the uploader and by kill -9 of the server are
# resumed from the state file, and every event must arrive with at most a
# batch of duplicates per interruption (check.py, against uev-replay
# --json). --incidents DIR uploads bundles once; --follow sends what a
# running aggregator appends. A refused connection, an unknown host, a
# server that answers an error and a corrupt state file: exit 1 with a
# message naming the URL or file and line, the state file untouched.
# usage: upload.sh UEV-AGGREGATOR UEV-REPLAY UEV-UPLOAD JOURNAL-EMIT CHECK.PY
set -uo pipefail
AGG=$1 REPLAY=$2 UP=$3 EMIT=$4 CHECK=$5
. "$(dirname "$0")/../cli-lib.sh"
JR=/lib/systemd/systemd-journal-remote
for p in "$JR" journalctl python3; do
	command -v "$p" >/dev/null || { echo "SKIP: $p is not installed (.ci/deps.sh installs it)"; exit 77; }
done
seat=uevup$$
agg_workdir uevupload
srv=
stop_srv() { [ -z "$srv" ] || { kill -"${1:-TERM}" "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; srv=; }; }
trap 'stop_srv KILL; agg_workdir_cleanup' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# start_srv DIR: a journal-remote storing into DIR on a new free port ($port)
start_srv() {
	mkdir -p "$1"
	port=$(free_port)
	"$JR" --listen-http="127.0.0.1:$port" --output="$1/" 2>>"$T/jr.log" &
	srv=$!
	for _ in $(seq 50); do
		python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "FAIL: systemd-journal-remote did not listen"; cat "$T/jr.log"; exit 1
}
# check NAME DIR MAX-DUP: what DIR's journal files hold against the ring
check() {
	journalctl --directory "$2" -o json --all --no-pager >"$T/$1.back.json" 2>"$T/$1.jctl.err" ||
		{ echo "FAIL: $1: journalctl"; cat "$T/$1.jctl.err"; fail=1; return; }
	python3 "$CHECK" "$T/ring.json" "$T/$1.back.json" "$3" || { echo "FAIL: $1"; fail=1; }
}

cat >"$T/s.conf" <<CONF
[seat]
flush_interval_ms = 200
[ring]
path = $T/s.ring
size = 8M
[kernel]
event = sched:sched_process_exec
CONF
agg_up "$AGG" "$seat" "$T/s.conf" "$T"
"$EMIT" "$seat" "$T/run" 1500 || { echo "FAIL: the emitter"; exit 1; }
sleep 0.5
kill -TERM "$agg"; wait "$agg" || { echo "FAIL: aggregator exit $?"; exit 1; }
agg=
"$REPLAY" --json "$T/s.ring" >"$T/ring.json" 2>/dev/null || { echo "FAIL: uev-replay --json"; exit 1; }
total=$(wc -l <"$T/ring.json")
B=20

# 1. Whole, then again: nothing new, nothing sent.
start_srv "$T/o1"
"$UP" --url "http://127.0.0.1:$port" --state "$T/st1" --batch $B "$T/s.ring" 2>"$T/up1.err" ||
	{ echo "FAIL: upload exit $?"; cat "$T/up1.err"; fail=1; }
grep -q "$total entries sent" "$T/up1.err" || { echo "FAIL: not '$total entries sent':"; cat "$T/up1.err"; fail=1; }
"$UP" --url "http://127.0.0.1:$port" --state "$T/st1" --batch $B -v "$T/s.ring" 2>"$T/up1b.err" ||
	{ echo "FAIL: second upload exit $?"; fail=1; }
grep -q ": 0 entries sent" "$T/up1b.err" || { echo "FAIL: the second upload sent again:"; cat "$T/up1b.err"; fail=1; }
stop_srv
check whole "$T/o1" 0

# 2. kill -9 of the uploader after some batches were acknowledged, twice;
#    then to the end. At most a batch again per kill.
start_srv "$T/o2"
kills=0
for round in 1 2; do
	"$UP" --url "http://127.0.0.1:$port" --state "$T/st2" --batch $B "$T/s.ring" 2>>"$T/up2.err" &
	up=$!
	before=$(cat "$T/st2" 2>/dev/null)
	for _ in $(seq 500); do
		now=$(cat "$T/st2" 2>/dev/null)
		[ -n "$now" ] && [ "$now" != "$before" ] && break
		sleep 0.01
	done
	kill -KILL "$up" 2>/dev/null && kills=$((kills + 1))
	wait "$up" 2>/dev/null
done
[ -e "$T/st2.tmp" ] && echo "note: a kill left the temporary state file (it is replaced next time)"
"$UP" --url "http://127.0.0.1:$port" --state "$T/st2" --batch $B "$T/s.ring" 2>"$T/up2c.err" ||
	{ echo "FAIL: resumed upload exit $?"; cat "$T/up2c.err"; fail=1; }
sent=$(grep -o '[0-9]* entries sent' "$T/up2c.err" | cut -d' ' -f1)
[ "${sent:-0}" -gt 0 ] && [ "${sent:-0}" -lt "$total" ] ||
	{ echo "FAIL: the resumed upload sent ${sent:-0} of $total (it must resume, not restart)"; fail=1; }
stop_srv
check uploader-killed "$T/o2" $((kills * B))

# 3. kill -9 of the server part way: the uploader fails naming the URL, the
#    state keeps the last acknowledged batch; a new server gets the rest.
start_srv "$T/o3"
"$UP" --url "http://127.0.0.1:$port" --state "$T/st3" --batch 50 "$T/s.ring" 2>"$T/up3.err" &
up=$!
for _ in $(seq 500); do [ -s "$T/st3" ] && break; sleep 0.01; done
stop_srv KILL
wait "$up"; rc=$?
[ "$rc" -eq 1 ] || { echo "FAIL: uploader exit $rc with its server killed, wanted 1"; cat "$T/up3.err"; fail=1; }
grep -q "http://127.0.0.1:$port" "$T/up3.err" || { echo "FAIL: the message does not name the URL:"; cat "$T/up3.err"; fail=1; }
cp "$T/st3" "$T/st3.after-kill"
start_srv "$T/o3"
"$UP" --url "http://127.0.0.1:$port" --state "$T/st3" --batch 50 "$T/s.ring" 2>"$T/up3b.err" ||
	{ echo "FAIL: upload to the new server exit $?"; cat "$T/up3b.err"; fail=1; }
stop_srv
check server-killed "$T/o3" 50

# 4. Failures that must not touch the state: refused, unknown host, an
#    error answer (a path journal-remote does not serve), corrupt state.
cp "$T/st3.after-kill" "$T/st4"
dead=$(free_port)
expect 1 "http://127.0.0.1:$dead: connecting to 127.0.0.1 port $dead: Connection refused" \
	"$UP" --url "http://127.0.0.1:$dead" --state "$T/st4" "$T/s.ring"
expect 1 "http://no-such-host.invalid:1: no-such-host.invalid:" \
	"$UP" --url "http://no-such-host.invalid:1" --state "$T/st4" "$T/s.ring"
start_srv "$T/o4"
expect 1 "http://127.0.0.1:$port/elsewhere: the server answered \"HTTP/1.1 404" \
	"$UP" --url "http://127.0.0.1:$port/elsewhere" --state "$T/st4" "$T/s.ring"
stop_srv
cmp -s "$T/st4" "$T/st3.after-kill" || { echo "FAIL: a failed upload changed the state"; fail=1; }
{ head -2 "$T/st4"; echo "0123 not a cursor"; } >"$T/bad.state"
cp "$T/bad.state" "$T/bad.copy"
expect 1 "$T/bad.state:3: not 'UUID CURSOR [done]'" "$UP" --url "http://127.0.0.1:$dead" --state "$T/bad.state" "$T/s.ring"
sed 's/ uev1;f=/ uev1;f=X/' "$T/st4" >"$T/bad2.state"
expect 1 "$T/bad2.state:3: '" "$UP" --url "http://127.0.0.1:$dead" --state "$T/bad2.state" "$T/s.ring"
echo "something else" >"$T/bad3.state"
expect 1 "$T/bad3.state:1: not an uev-upload state file" "$UP" --url "http://127.0.0.1:$dead" --state "$T/bad3.state" "$T/s.ring"
cmp -s "$T/bad.state" "$T/bad.copy" || { echo "FAIL: a corrupt state file was rewritten"; fail=1; }
expect 2 "--url is required" "$UP" "$T/s.ring"
expect 2 "https is not supported" "$UP" --url "https://127.0.0.1" "$T/s.ring"
expect 2 "--follow follows exactly one ring file" "$UP" --url "http://127.0.0.1:1" --follow "$T/s.ring" "$T/s.ring"
expect 1 "$T/nothing.ring" "$UP" --url "http://127.0.0.1:$dead" --state "$T/st4" "$T/nothing.ring"

# 5. --incidents DIR: every bundle once; an old one is marked done and not
#    read again; a second pass sends nothing.
mkdir "$T/inc"
cp "$T/s.ring" "$T/inc/20261203-0001.ring"
touch -d '1 minute ago' "$T/inc/20261203-0001.ring"
: >"$T/inc/.partial" && : >"$T/inc/x.tmp"
start_srv "$T/o5"
"$UP" --url "http://127.0.0.1:$port" --state "$T/st5" --incidents "$T/inc" --once --interval 1 2>"$T/up5.err" ||
	{ echo "FAIL: --incidents exit $?"; cat "$T/up5.err"; fail=1; }
grep -q " done$" "$T/st5" || { echo "FAIL: the bundle is not marked done"; cat "$T/st5"; fail=1; }
"$UP" --url "http://127.0.0.1:$port" --state "$T/st5" --incidents "$T/inc" --once -v 2>"$T/up5b.err" ||
	{ echo "FAIL: second --incidents exit $?"; fail=1; }
[ -s "$T/up5b.err" ] && { echo "FAIL: a done bundle was read again:"; cat "$T/up5b.err"; fail=1; }
stop_srv
check incidents "$T/o5" 0

# 6. --follow: what a running aggregator appends arrives while it runs.
rm -f "$T/s.ring"
agg_up "$AGG" "$seat" "$T/s.conf" "$T"
start_srv "$T/o6"
"$UP" --url "http://127.0.0.1:$port" --state "$T/st6" --follow "$T/s.ring" 2>"$T/up6.err" &
up=$!
"$EMIT" "$seat" "$T/run" 200 || { echo "FAIL: the emitter"; fail=1; }
n=0
for _ in $(seq 100); do
	n=$(journalctl --directory "$T/o6" -o json UEV_EVENT=user:jr_names --no-pager 2>/dev/null | wc -l)
	[ "$n" -ge 200 ] && break
	sleep 0.1
done
[ "$n" -eq 200 ] || { echo "FAIL: --follow: $n of 200 jr_names events arrived within 10 s"; fail=1; }
kill -TERM "$up"; wait "$up"; rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: --follow exit $rc on SIGTERM"; cat "$T/up6.err"; fail=1; }
kill -TERM "$agg"; wait "$agg"; agg=
stop_srv
[ "$fail" -eq 0 ] && echo "PASS: $total events uploaded whole, after $kills uploader kills and a server kill"
exit "$fail"
