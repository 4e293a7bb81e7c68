#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check the kms_* events uev-replay --json decoded from the recording of
kms-calls (record.sh): exactly one event per KMS call of the script, in
order, each typed field as the call had it. The result of every call is
also compared with what kms-calls itself printed.

usage: check.py REPLAY.json KMS-CALLS.out
"""
import json
import re
import sys

NULL, TEST_ONLY, NONBLOCK, ALLOW_MODESET = 0, 0x100, 0x200, 0x400
EVENT, TARGET_RELATIVE = 0x1, 0x8
ENOTTY, EBADF, EINVAL, EXDEV = 25, 9, 22, 18


def commit(label, flags, result, err, crtc, connector, objects, planes, props):
    return (label, 'kms_atomic_commit', {
        'flags': flags, 'test_only': int(bool(flags & TEST_ONLY)),
        'nonblock': int(bool(flags & NONBLOCK)),
        'allow_modeset': int(bool(flags & ALLOW_MODESET)),
        'result': result, 'errno': err, 'crtc': crtc, 'connector': connector,
        'objects': objects, 'planes': planes, 'props': props})


# What the shim must have recorded for kms-calls.c, call by call. The
# CRTCs (31 32), connectors (40 41) and planes (50 51 52) are fake-res.so's,
# learnt for the /dev/null fd only: on the closed fd and the regular file
# the same ids are not known.
WANT = [
    commit('commit null test_only|allow_modeset', TEST_ONLY | ALLOW_MODESET,
           -ENOTTY, ENOTTY, 31, 40, 4, 2, 8),
    commit('commit closed nonblock|event', NONBLOCK | EVENT, -EBADF, EBADF, 0, 0, 4, 0, 8),
    commit('commit file 0', 0, -ENOTTY, ENOTTY, 0, 0, 4, 0, 8),
    # drmModeAtomicSetCursor(req, 3): items 31, 31, 40 are left; then 41
    commit('commit null rewound', TEST_ONLY, -ENOTTY, ENOTTY, 31, 40, 2, 0, 3),
    commit('commit null re-added', NONBLOCK, -ENOTTY, ENOTTY, 31, 40, 3, 0, 4),
    # libdrm returns 0 for an empty request, -EINVAL for NULL, neither
    # touches errno: the record has 0, then errno as the call left it
    commit('commit null empty', TEST_ONLY, 0, 0, 0, 0, 0, 0, 0),
    commit('commit null NULL', 0, -EINVAL, EXDEV, 0, 0, 0, 0, 0),
    # 70 objects: more than the shim tracks, so not known (0)
    commit('commit null big', TEST_ONLY, -ENOTTY, ENOTTY, 0, 0, 0, 0, 70),
    ('page_flip null', 'kms_page_flip', {
        'crtc': 31, 'fb': 77, 'flags': EVENT, 'target': 0, 'result': -ENOTTY, 'errno': ENOTTY}),
    ('page_flip_target closed', 'kms_page_flip', {
        'crtc': 32, 'fb': 78, 'flags': EVENT | TARGET_RELATIVE, 'target': 2,
        'result': -EBADF, 'errno': EBADF}),
    ('set_crtc file', 'kms_set_crtc', {
        'crtc': 31, 'fb': 77, 'x': 10, 'y': 20, 'connector': 40, 'connectors': 2,
        'width': 1920, 'height': 1080, 'vrefresh': 60, 'result': -ENOTTY, 'errno': ENOTTY,
        'mode_name': '1920x1080'}),
    ('set_crtc null off', 'kms_set_crtc', {
        'crtc': 32, 'fb': 0, 'x': 0, 'y': 0, 'connector': 0, 'connectors': 0,
        'width': 0, 'height': 0, 'vrefresh': 0, 'result': -ENOTTY, 'errno': ENOTTY,
        'mode_name': ''}),
    # a mode name of 32 bytes without a NUL: all 32, nothing after
    ('set_crtc null full name', 'kms_set_crtc', {
        'crtc': 31, 'fb': 79, 'x': 0, 'y': 0, 'connector': 40, 'connectors': 1,
        'width': 1920, 'height': 1080, 'vrefresh': 60, 'result': -ENOTTY, 'errno': ENOTTY,
        'mode_name': 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345'}),
    # drmHandleEvent(): a flip through page_flip_handler2 (CRTC id), one
    # through the old page_flip_handler (no CRTC id: 0); a vblank event, a
    # context without a flip handler and a closed fd record nothing
    ('handle_event v3 flip', 'kms_flip_done', {
        'crtc': 31, 'sequence': 77, 'vblank_ns': 5 * 10**9 + 250000 * 1000}),
    ('handle_event v2 flip', 'kms_flip_done', {
        'crtc': 0, 'sequence': 78, 'vblank_ns': 6 * 10**9 + 1000}),
]

bad = 0


def check(ok, msg):
    global bad
    if not ok:
        print('FAIL: ' + msg)
        bad += 1


def printed_results(path):
    """label -> r= of kms-calls' own output"""
    got = {}
    for line in open(path):
        m = re.match(r'^(.*?)\s+r=(-?\d+) errno=(\d+)$', line.rstrip('\n'))
        if m:
            got[m.group(1)] = int(m.group(2))
    return got


def main():
    events = [json.loads(l) for l in open(sys.argv[1])]
    kms = [e for e in events if e['event'].startswith('kms_')]
    printed = printed_results(sys.argv[2])
    check(len(kms) == len(WANT), '%d kms_* events, want %d: %s' %
          (len(kms), len(WANT), [e['event'] for e in kms]))
    for e in kms:
        check(e['system'] == 'user', '%s: system %r, want "user"' % (e['event'], e['system']))
        check(e['comm'] == 'kms-calls', '%s: comm %r' % (e['event'], e['comm']))
    check(len({e['pid'] for e in kms}) == 1, 'kms events from several pids')
    for i, (label, name, fields) in enumerate(WANT):
        if i >= len(kms):
            break
        e = kms[i]
        check(e['event'] == name, '#%d (%s): event %s, want %s' % (i, label, e['event'], name))
        got = dict(e['fields'])
        if name != 'kms_flip_done':
            d = got.pop('duration_ns', None)
            check(isinstance(d, int) and 0 <= d < 10**9, '#%d (%s): duration_ns %r' % (i, label, d))
        check(got == fields, '#%d (%s): fields\n  got  %s\n  want %s' %
              (i, label, json.dumps(got, sort_keys=True), json.dumps(fields, sort_keys=True)))
        want_r = fields['result'] if 'result' in fields else 0
        check(printed.get(label) == want_r, '#%d (%s): recorded result %s, kms-calls printed %s' %
              (i, label, want_r, printed.get(label)))
    if not bad:
        print('ok: %d kms events, every field as called' % len(kms))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
