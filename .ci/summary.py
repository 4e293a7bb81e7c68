#!/usr/bin/env python3
"""Print 'N passed, N failed, N skipped' over the meson test logs of the
given build directories (a build dir without a log counts as one failure:
it did not build or did not run)."""
import json, os, sys

passed = failed = skipped = 0
for d in sys.argv[1:]:
    log = os.path.join(d, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        failed += 1
        continue
    for line in open(log):
        if not line.strip():
            continue
        try:
            r = json.loads(line).get("result")
        except ValueError:  # a damaged log cannot vouch for anything
            failed += 1
            continue
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
