#!/usr/bin/env python3
"""Checks uev-replay's outputs written by replay.sh against what the
emitters (replay-emit) wrote: every event once, fields intact, order,
wall clock, and each filter selecting exactly what it should."""
import fnmatch, json, re, sys

fails = []


def check(cond, what):
    if not cond:
        fails.append(what)


def load(path):
    out = []
    for n, line in enumerate(open(path, encoding='utf-8'), 1):
        try:
            out.append(json.loads(line))
        except ValueError as e:
            fails.append('%s:%d: not JSON (%s): %r' % (path, n, e, line[:80]))
    return out


def ticks(evs):
    return [e for e in evs if e['event'] == 'rp_tick']


def tag_of(e):
    return e['fields']['msg'].split('-')[0]


def expect_ticks(evs, tags, name):
    """Every (tag, thread, seq) of @tags ({tag: n}) exactly once, intact."""
    seen = {}
    for e in ticks(evs):
        f = e['fields']
        key = (tag_of(e), f['thread'], f['seq'])
        seen[key] = seen.get(key, 0) + 1
        check(f['msg'] == '%s-t%d-s%d-\u00e9' % key, '%s: msg %r for %s' % (name, f['msg'], key))
    for tag, n in tags.items():
        for th in (0, 1):
            for s in range(n):
                c = seen.pop((tag, th, s), 0)
                check(c == 1, '%s: %s thread %d seq %d seen %d times' % (name, tag, th, s, c))
    check(not seen, '%s: unexpected events %s' % (name, list(seen)[:5]))


def kmsgs(evs, tag):
    pat = re.compile(r'uevreplay %s kmsg (\d+)$' % re.escape(tag))
    out = []
    for e in evs:
        if e['event'] == 'printk:console':
            m = pat.search(e['fields'].get('msg', '').rstrip('\n'))
            if m:
                out.append(int(m.group(1)))
    return out


TEXT = re.compile(r'^(\S+ \S+) (\S+) \[(\d+)\] +(.*)-(\d+) +(\S+): ')


def main_checks(T, N, since, until):
    a = single_file_checks(T, N)
    al = merged_checks(T, N)
    perfetto_checks(T, a)
    filter_checks(T, a, al, since, until)
    follow_checks(T, N)
    tracedat_checks(T, N, a)


def single_file_checks(T, N):
    """Seat A's file alone: JSON, text, unknown markers, time columns."""
    a = load(T + '/a.json')
    AN = {'A': N, 'A2': 300}
    expect_ticks(a, AN, 'a.json')
    for tag, n in AN.items():
        got = sorted(kmsgs(a, tag))
        check(got == list(range(0, n, max(n // 50, 1))), 'a.json: kmsg of %s: %s' % (tag, got[:10]))
    ts = [e['trace_ns'] for e in a]
    check(ts == sorted(ts), 'a.json: not in timestamp order')
    for e in ticks(a):
        d = abs(e['wall_ns'] - e['fields']['wall_ns'])
        if d > 10_000_000:
            check(False, 'a.json: wall clock off by %.3f ms: %s' % (d / 1e6, e))
            break
        check(e['cpu'] == e['fields']['thread'] % 2, 'a.json: thread on the wrong CPU: %s' % e)
    check(all(e['wall_ns'] is not None for e in a), 'a.json: events without a wall clock')
    check({e['cpu'] for e in a} >= {0, 1}, 'a.json: not both CPUs')

    # the text output says the same, line for line
    txt = [l for l in open(T + '/a.txt', encoding='utf-8') if not l.startswith('#')]
    check(len(txt) == len(a), 'a.txt: %d lines, a.json %d events' % (len(txt), len(a)))
    for l, e in zip(txt, a):
        m = TEXT.match(l)
        if not m or m.group(6) != e['event'] or int(m.group(5)) != e['pid'] or int(m.group(3)) != e['cpu']:
            check(False, 'a.txt and a.json differ: %r vs %s' % (l, e))
            break

    # a marker record that was never announced: hex, and the rest goes on
    unk = [e for e in a if e['fields'].get('marker_id') == 0x5eed1234]
    check(len(unk) == 1 and unk[0]['fields']['data'].startswith(b'nobody-announced-me'.hex()), 'unknown marker: %s' % unk)
    check(any('unknown marker id=0x5eed1234' in l for l in txt), 'unknown marker: not in the text output')
    # time columns: relative starts at +0, boot is the trace clock
    rel = [l.split(' ', 1)[0] for l in open(T + '/a-rel.txt') if not l.startswith('#')]
    check(rel[0] == '+0.000000' and len(rel) == len(a), 'relative time: %s' % rel[:2])
    check(abs(float(rel[-1][1:]) - (a[-1]['wall_ns'] - a[0]['wall_ns']) / 1e9) < 0.01, 'relative time: span')
    boot = [l.split(' ', 1)[0] for l in open(T + '/a-boot.txt') if not l.startswith('#')]
    check(boot[0] == '%d.%09d' % divmod(a[0]['trace_ns'], 10**9), 'boot time: %s vs %d' % (boot[0], a[0]['trace_ns']))
    return a


def merged_checks(T, N):
    """Three files merged, with --stats."""
    # three files merged
    al = load(T + '/all.json')
    seats = sorted({e['seat'][-1] for e in al})
    check(seats == ['A', 'B', 'C'], 'all.json: seats %s' % seats)
    expect_ticks(al, {'A': N, 'A2': 300, 'B': N, 'C': N}, 'all.json')
    ts = [e['trace_ns'] for e in al]
    check(ts == sorted(ts), 'all.json: not in timestamp order')
    lastc = max(e['trace_ns'] for e in al if e['seat'].endswith('C'))
    firsta = min(e['trace_ns'] for e in al if e['seat'].endswith('A'))
    check(lastc < firsta, 'all.json: the older file is not first')
    # A and B ran at the same time: their events interleave
    order = ''.join(e['seat'][-1] for e in al if e['seat'][-1] in 'AB')
    check(order.count('AB') + order.count('BA') > 10, 'all.json: A and B do not interleave')
    txt = [l for l in open(T + '/all.txt', encoding='utf-8') if not l.startswith('#')]
    check(len(txt) == len(al), 'all.txt: %d lines, all.json %d' % (len(txt), len(al)))
    st = open(T + '/stats.txt').read()
    m = re.search(r'events: (\d+) shown of (\d+) read', st)
    check(m and int(m.group(1)) == len(al), 'stats: %s' % st[:200])
    m = re.search(r'rp_tick +(\d+)', st)
    check(m and int(m.group(1)) == len(ticks(al)), 'stats: rp_tick count')
    return al


def perfetto_checks(T, a):
    # perfetto
    try:
        p = json.load(open(T + '/a.perfetto'))
        ev = p['traceEvents']
        inst = [e for e in ev if e.get('ph') == 'i' and e['name'] == 'rp_tick']
        check(len(inst) == len(ticks(a)), 'perfetto: %d rp_tick, want %d' % (len(inst), len(ticks(a))))
        check(all('msg' in e['args'] for e in inst), 'perfetto: args')
        names = [e for e in ev if e.get('ph') == 'M' and e['name'] == 'thread_name']
        check(any(n['args']['name'].startswith('replay-emit') for n in names), 'perfetto: thread names')
        tss = [e['ts'] for e in ev if e.get('ph') == 'i']
        check(tss == sorted(tss), 'perfetto: ts order')
    except (ValueError, KeyError) as e:
        check(False, 'perfetto: %s' % e)


def filter_checks(T, a, al, since, until):
    # filters, each against the same selection made here from the JSON
    ab = [e for e in al if e['seat'][-1] in 'AB']
    f = load(T + '/f-event.json')
    check(len(f) == len(ticks(ab)) and all(e['event'] == 'rp_tick' for e in f), '--event rp_*: %d' % len(f))
    f = load(T + '/f-noevent.json')
    want = [e for e in ab if not fnmatch.fnmatch(e['event'], 'rp_*') and not e['event'].startswith('sched:')]
    check(len(f) == len(want) and len(want) > 0, '--event !: %d want %d' % (len(f), len(want)))
    f = load(T + '/f-pid.json')
    pid = f[0]['pid'] if f else -1
    check(len(f) == len([e for e in a if e['pid'] == pid]) and len({e['pid'] for e in f}) == 1, '--pid')
    f = load(T + '/f-comm.json')
    want = [e for e in a if fnmatch.fnmatch(e['comm'], 'replay-em*')]
    check(len(f) == len(want) and len(want) >= len(ticks(a)), '--comm: %d want %d' % (len(f), len(want)))
    lo, hi = (int(float(x[1:]) * 1e9) for x in (since, until))
    f = load(T + '/f-time.json')
    want = [e for e in a if lo <= e['wall_ns'] <= hi]
    check(abs(len(f) - len(want)) <= 2 and len(f) > 0, '--since/--until: %d want %d' % (len(f), len(want)))
    check(all(lo - 1_000_000 <= e['wall_ns'] <= hi + 1_000_000 for e in f), '--since/--until: outside')
    # --since -HALF counts back from the newest event; the wall clock of
    # the filter and of the output may differ by the sync points' drift
    f = load(T + '/f-rel.json')
    end, start = max(e['wall_ns'] for e in a), min(e['wall_ns'] for e in a)
    half = (end - start) // 2
    want = [e for e in a if e['wall_ns'] >= end - half]
    check(abs(len(f) - len(want)) <= 3 and min(e['wall_ns'] for e in f) >= end - half - 1_000_000,
          '--since -half: %d events, want %d (of %d), half %.3f s' % (len(f), len(want), len(a), half / 1e9))
    g = [l for l in open(T + '/f-grep.txt', encoding='utf-8') if not l.startswith('#')]
    check(len(g) == 100 and all('msg="A-t1-s1' in l for l in g), '--grep: %d lines' % len(g))


def follow_checks(T, N):
    # follow: the live file, everything once
    fo = load(T + '/follow.json')
    try:
        expect_ticks(fo, {'A': N, 'A2': 300}, 'follow.json')
    except KeyError:
        check(False, 'follow.json: bad events')


def tracedat_checks(T, N, a):
    # trace.dat read back by trace-cmd: kernel events one for one, marker
    # records (user events and announcements) at least one each
    try:
        rep = open(T + '/a.dat.txt', encoding='utf-8', errors='replace').read().splitlines()
    except FileNotFoundError:
        return
    evl = [l for l in rep if re.match(r'^\s*\S.*\[\d{3}\]\s*\d+(\.\d+)?: ', l)]
    raw = [l for l in evl if ' raw_data: ' in l]
    kern = len(evl) - len(raw)
    want = len([e for e in a if e['system'] != 'user'])
    check(kern == want, 'trace-cmd report: %d kernel events, uev-replay %d' % (kern, want))
    check(len(raw) >= len(ticks(a)), 'trace-cmd report: %d raw_data, %d user events' % (len(raw), len(ticks(a))))
    for k in range(0, N, max(N // 50, 1)):
        check(any('uevreplay A kmsg %d' % k in l for l in evl), 'trace-cmd report: kmsg %d missing' % k)

def damage_checks(T):
    orig = load(T + '/a.json')
    a = {(tag_of(e), e['fields']['thread'], e['fields']['seq']) for e in ticks(orig)}
    flips = open(T + '/flipped.at').read().split()
    for name in ('zeroed.json', 'flipped.json'):
        d = load(T + '/' + name)
        keys = [(tag_of(e), e['fields']['thread'], e['fields']['seq']) for e in ticks(d)]
        where = name + (' (bits flipped at %s)' % ' '.join(flips) if name == 'flipped.json' else '')
        check(len(keys) == len(set(keys)), '%s: duplicates' % where)
        check(set(keys) <= a, '%s: events that were never emitted' % where)
        check(0 < len(keys) < len(a), '%s: %d of %d events' % (where, len(keys), len(a)))
        for e in ticks(d):
            k = (tag_of(e), e['fields']['thread'], e['fields']['seq'])
            check(e['fields']['msg'] == '%s-t%d-s%d-\u00e9' % k, '%s: damaged field %s' % (where, e))
    # Without the format of ftrace:raw_data, the markers that carry rp_tick
    # (and the one raw marker) show as their bare event id, each once, at
    # the same time and place; so do the emitters' announcements (one per
    # process), which are hidden when they can be decoded. Every other
    # event is exactly as before.
    d = load(T + '/noformat.json')
    carried = ('rp_tick', 'ftrace:raw_data')
    check(not any(e['event'] in carried for e in d),
          'noformat.json: markers decoded without the format of ftrace:raw_data')
    key = lambda e: (e['trace_ns'], e['cpu'], e['pid'])
    bare = [e for e in d if re.fullmatch(r'id:[0-9]+', e['event'])]
    want = sorted(key(e) for e in orig if e['event'] in carried)
    got = sorted(key(e) for e in bare)
    extra = [e for e in bare if key(e) not in set(want)]
    check(len(got) == len(set(got)) and set(want) <= set(got),
          'noformat.json: %d events shown by id, %d markers expected among them' % (len(got), len(want)))
    check(all(e['comm'] == 'replay-emit' for e in extra) and
          len({e['pid'] for e in extra}) == len(extra),
          'noformat.json: events by id beyond one announcement per emitter: %s' % extra[:3])
    rest = lambda evs: sorted(json.dumps(e, sort_keys=True) for e in evs
                              if e['event'] not in carried and not e['event'].startswith('id:'))
    check(rest(d) == rest(orig), 'noformat.json: events other than the markers differ')


if sys.argv[1] == '--damage':
    damage_checks(sys.argv[2])
else:
    main_checks(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4])
for f in fails[:30]:
    print('FAIL:', f)
sys.exit(1 if fails else 0)
