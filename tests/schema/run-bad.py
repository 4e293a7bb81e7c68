#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run uev-schema on one bad schema and compare its errors with the schema's
own '# expect: LINE: substring' comments.

Every expected error must appear as a 'FILE:LINE: ...substring...' line on
stderr, and every error line on stderr must be expected: an extra (cascade)
error fails the test as much as a missing one. The exit status must be 1,
nothing may go to stdout, and '-o' must leave no file behind (not even the
temporary one).

usage: run-bad.py UEV_SCHEMA BAD.uev
"""
import os
import re
import subprocess
import sys
import tempfile

EXPECT = re.compile(r'^#\s*expect:\s*(\d+):\s*(.+?)\s*$')


def main():
    exe, schema = sys.argv[1], sys.argv[2]
    expects = []
    with open(schema, encoding='utf-8') as f:
        for line in f:
            m = EXPECT.match(line)
            if m:
                expects.append((int(m.group(1)), m.group(2)))
    if not expects:
        sys.exit(f'{schema}: no "# expect: LINE: substring" comments')

    r = subprocess.run([exe, '--check', schema], capture_output=True, text=True)
    ok = True
    if r.returncode != 1:
        print(f'exit status {r.returncode}, expected 1')
        ok = False
    if r.stdout:
        print(f'unexpected stdout: {r.stdout!r}')
        ok = False
    errors = r.stderr.splitlines()
    unmatched = list(errors)
    for line, text in expects:
        prefix = f'{schema}:{line}: '
        hit = next((e for e in unmatched if e.startswith(prefix) and text in e), None)
        if hit is None:
            print(f'missing: {prefix}...{text}...')
            ok = False
        else:
            unmatched.remove(hit)
    for e in unmatched:
        print(f'unexpected: {e}')
        ok = False

    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, 'out.h')
        g = subprocess.run([exe, '-o', out, schema], capture_output=True, text=True)
        if g.returncode != 1 or g.stderr != r.stderr:
            print(f'-o run: status {g.returncode}, stderr differs: {g.stderr!r}')
            ok = False
        if os.listdir(d):
            print(f'-o on a bad schema left files: {os.listdir(d)}')
            ok = False

    if not ok:
        print('--- stderr was:\n' + r.stderr)
        sys.exit(1)
    print(f'{len(expects)} expected error(s) reported, nothing else')


if __name__ == '__main__':
    main()
