#!/usr/bin/env python3
"""Every event of a ring file in the journal files systemd-journal-remote
wrote, each at least once, and no more duplicates than allowed.

usage: check.py REPLAY.json JOURNAL.json MAX-DUPLICATES

REPLAY.json: uev-replay --json of the ring file (the oracle); JOURNAL.json:
journalctl -o json of what the server stored. An event is known by its run,
CPU and trace time (and its place among events with the same three);
duplicates must be the same entry again.
"""
import collections
import json
import sys


def main():
    replay_p, journal_p, max_dup = sys.argv[1], sys.argv[2], int(sys.argv[3])
    want = collections.Counter()
    for l in open(replay_p, "rb"):
        e = json.loads(l.decode("utf-8", "surrogateescape"))
        want[(str(e["run"]), str(e["cpu"]), str(e["trace_ns"]))] += 1
    got = collections.Counter()
    entries = collections.defaultdict(set)
    for l in open(journal_p):
        j = json.loads(l)
        k = (j.get("UEV_RUN"), j.get("UEV_CPU"), j.get("UEV_TRACE_NS"))
        got[k] += 1
        entries[k].add(json.dumps({f: v for f, v in j.items() if f.startswith(("UEV_", "MESSAGE"))},
                                  sort_keys=True))
    missing = sum((want - got).values())
    extra = got - want
    strangers = [k for k in extra if k not in want]
    dups = sum(extra.values())
    bad = 0
    if missing:
        print("FAIL: %d of %d events are not in the journal" % (missing, sum(want.values())))
        bad = 1
    if strangers:
        print("FAIL: %d entries of no event of the file, e.g. %r" % (len(strangers), strangers[0]))
        bad = 1
    if dups > max_dup:
        print("FAIL: %d duplicates, at most %d allowed" % (dups, max_dup))
        bad = 1
    differ = [k for k, v in entries.items() if len(v) > 1 and want[k] == 1]
    if differ:
        print("FAIL: %d events stored twice with different fields" % len(differ))
        bad = 1
    print("check.py: %d events, %d entries, %d duplicates (at most %d allowed)" %
          (sum(want.values()), sum(got.values()), dups, max_dup))
    sys.exit(bad)


if __name__ == "__main__":
    main()
