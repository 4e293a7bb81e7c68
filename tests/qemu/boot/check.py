#!/usr/bin/env python3
"""The persistent-ring guest's console log against uev-replay --json of the
ring file it sent back (tests/qemu/boot/run.sh).

usage: check.py CONSOLE REPLAY.json REPLAY.txt

For the two boots that ended in a panic with this ring file, every user event (UEVQ-EMIT n)
and kernel message (UEVQ-KMSG n) the guest logged as written must be in
the file exactly once (those written after the panic was asked for,
before it struck, may follow the last without a gap), in the order written, with its typed
fields; the flushed part in the run that recorded it, the last ones in a
run recovered from kernel memory. The events of the live runs after each
reboot are all there. Each boot registered qemu0_mark under another id."""
import json
import re
import sys

fails = []


def check(cond, what):
    if not cond:
        fails.append(what)


console = open(sys.argv[1], errors='replace').read().splitlines()
boots = {}
cur = None
for line in console:
    m = re.search(r'UEVQ-BOOT (\d+)$', line)  # after the firmware's escapes
    if m:
        cur = int(m.group(1))
        boots[cur] = []
    elif cur is not None:
        boots[cur].append(line)
check(sorted(boots) == [0, 1, 2, 3], 'boots seen: %s, want 0 1 2 3' % sorted(boots))
for line in console:
    if line.startswith('UEVQ-FAIL'):
        fails.append('guest: ' + line)


def logged(boot, kind):
    """What the guest logged as written before it asked for the panic
    (UEVQ-PANIC): what a writer finished after that is a race with the
    crash. A kernel line may run into a log line: the number is what
    follows the tag."""
    out = set()
    for line in boots.get(boot, []):
        if line.startswith('UEVQ-PANIC'):
            break
        m = re.match(r'UEVQ-%s (\d+)' % kind, line)
        if m:
            out.add(int(m.group(1)))
    return out


ids = {}
for b, lines in boots.items():
    for line in lines:
        m = re.match(r'UEVQ-ID qemu0_mark (\d+)$', line)
        if m:
            ids[b] = int(m.group(1))
check(len({ids.get(b) for b in (0, 1, 2)} - {None}) == 3, 'qemu0_mark ids per boot %s: each boot must register it under another id' % ids)
agg = [line for line in console if line.startswith('UEVQ-AGG ')]
imports = [line for line in agg if 'recovered from kernel memory' in line]
check(len(imports) == 2, 'aggregator imports said: %d, want 2 (%s)' % (len(imports), agg[-3:]))
check(any(line.startswith('UEVQ-KILLED') for line in boots.get(1, [])), 'the kill variant did not run')
check(any('wrote another ring file' in line for line in agg),
      'the last boot did not refuse the persistent instance of another ring file\'s run')

evs = [json.loads(line) for line in open(sys.argv[2])]
user = [e for e in evs if e['event'] == 'qemu0_mark']
kmsg = []
for e in evs:
    if e['event'] == 'printk:console':
        m = re.search(r'uevboot-kmsg n=(\d+)', e['fields'].get('msg', ''))
        if m:
            kmsg.append((int(m.group(1)), e))
bare = [e for e in evs if re.fullmatch(r'id:\d+', e['event']) or e['fields'].get('marker_id') == 0x42564555]
check(not bare, '%d events without a format, or the aggregator\'s own marks, in the file: %s' % (len(bare), bare[:2]))
for e in user:
    f = e['fields']
    check(f.get('text') == 'qemu0_mark #%d by uid 0' % f.get('n', -1), 'typed fields of %s' % f)
un = [(e['fields']['n'], e) for e in user]


def sequence(name, got, lo, hi, want, may_follow):
    """Events numbered [lo, hi) of @got: exactly @want, plus at most the one
    after max(want) when @may_follow; each once, in the order written."""
    part = [(n, e) for n, e in got if lo <= n < hi]
    ns = [n for n, _ in part]
    extra = set(ns) - set(want)
    if may_follow and want and extra:
        # written after the panic was asked for, before it struck: they
        # follow the last one logged, without a gap
        top = max(want)
        if extra == set(range(top + 1, top + 1 + len(extra))):
            extra = set()
    missing = sorted(set(want) - set(ns))
    check(not missing, '%s: %d missing, first %s' % (name, len(missing), missing[:5]))
    check(not extra, '%s: never logged as written: %s' % (name, sorted(extra)[:5]))
    check(len(ns) == len(set(ns)), '%s: twice: %s' % (name, sorted({n for n in ns if ns.count(n) > 1})[:5]))
    check(ns == sorted(ns), '%s: out of order' % name)
    return part


for boot, base in ((0, 0), (1, 200000)):
    for name, got, kind in (('user events', un, 'EMIT'), ('kernel messages', kmsg, 'KMSG')):
        want = sorted(n for n in logged(boot, kind) if base < n < base + 100000)
        label = 'boot %d %s' % (boot, name)
        check(len(want) > 40, '%s: only %d logged as written' % (label, len(want)))
        part = sequence(label, got, base + 1, base + 100000, want, True)
        flushed = [e for n, e in part if n <= base + 30]
        last = [e for n, e in part if want and n == max(want)]
        check(flushed and not any(e.get('recovered') for e in flushed),
              '%s: the flushed part (up to %d) must be in the recording run' % (label, base + 30))
        check(last and all(e.get('recovered') for e in last),
              '%s: the last one written (%s) must be recovered from kernel memory' % (label, max(want) if want else None))
        rec = [n for n, e in part if e.get('recovered')]
        if rec:
            print('check: %s: %d of %d recovered from kernel memory (%d..%d)' % (label, len(rec), len(part), min(rec), max(rec)))
sequence('boot 1 live user events', un, 100001, 100011, list(range(100001, 100011)), False)
sequence('boot 1 live kernel messages', kmsg, 100001, 100011, list(range(100001, 100011)), False)
sequence('boot 2 live user events', un, 300001, 300011, list(range(300001, 300011)), False)
sequence('boot 3 live user events', un, 500001, 500011, list(range(500001, 500011)), False)
other = [n for n, e in un + kmsg if 400000 < n < 500000]
check(not other, '%d events of the other ring file\'s run imported into this one' % len(other))
check(all(not e.get('recovered') for n, e in un if 100000 < n < 100011 or n > 300000),
      'events of live runs marked recovered')
hdr = open(sys.argv[3]).read()
check(len(re.findall(r'recovered from kernel memory after a reboot: the last of run \d+', hdr)) == 2,
      'the header names two recovered runs')
for f in fails:
    print('check: FAIL: ' + f)
sys.exit(1 if fails else 0)
