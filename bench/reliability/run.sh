#!/usr/bin/env bash
# The long forms of the recorder's reliability tests (issue 10), whose
# bounded forms run in ./test.sh:
#  1. kill -9 loop: ROUNDS kills and restarts of uev-aggregator on one seat
#     while an independent writer puts ~2000 numbered kernel messages per
#     second into it; every message must be in the ring exactly once.
#  2. the drain-stop load: 300 000 kernel messages (one open+write+close of
#     /dev/kmsg each, a 20 ms pause after every 2000) plus a trace_marker
#     writer, into a seat with --size 4M --flush-interval 100, with SIGUSR1
#     flushes during the burst; every CPU drained within the flush interval
#     after it, and SIGTERM stopping within 5 s. CYCLES times.
# usage: bench/reliability/run.sh [BUILD-DIR] [ROUNDS] [CYCLES]   (root)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
rounds=${2:-300}
cycles=${3:-4}
agg=$build/aggregator/uev-aggregator
replay=$build/aggregator/uev-replay
tests=$here/../../tests/recorder
echo "== kill -9 loop, $rounds rounds"
python3 "$tests/kill_loop.py" "$agg" "$replay" "$rounds" 2000
echo "== bursts of 300000 kernel messages, $cycles cycles"
python3 "$tests/stress.py" "$agg" "$replay" "$cycles" 300000
