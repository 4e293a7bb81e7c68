#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compile a file against the generated headers with the build's compiler.

usage: compile-check.py [-I DIR]... MODE FILE -- COMPILER [ARGS...]

MODE
  c     FILE must compile with -std=gnu11 -Wall -Wextra and print nothing.
  fail  FILE must NOT compile, with the same command and no -Werror: the
        rejection has to be a hard error. Each fail file also compiles with
        -DUEV_TEST_CONTROL, which swaps the bad line for a correct one; that
        control must pass first, so a broken include path or a typo cannot
        make the test pass vacuously.
  cxx   FILE must compile as C++17 with -Wall -Wextra and print nothing;
        skipped (exit 77) when no C++ compiler was found.
"""
import argparse
import subprocess
import sys

SKIP = 77


def run(cmd):
    print('$ ' + ' '.join(cmd))
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.stdout or r.stderr:
        print(r.stdout + r.stderr, end='')
    return r


def main():
    argv = sys.argv[1:]
    if '--' not in argv:
        sys.exit('missing "-- COMPILER"')
    split = argv.index('--')
    ap = argparse.ArgumentParser()
    ap.add_argument('-I', dest='inc', action='append', default=[])
    ap.add_argument('mode', choices=['c', 'fail', 'cxx'])
    ap.add_argument('file')
    opts = ap.parse_args(argv[:split])
    compiler = argv[split + 1:]
    incs = [a for d in opts.inc for a in ('-I', d)]

    if opts.mode == 'cxx':
        if not compiler:
            print('no C++ compiler found')
            sys.exit(SKIP)
        base = compiler + ['-x', 'c++', '-std=c++17', '-Wall', '-Wextra', '-fsyntax-only'] + incs
    else:
        base = compiler + ['-std=gnu11', '-Wall', '-Wextra', '-fsyntax-only'] + incs

    if opts.mode in ('c', 'cxx'):
        r = run(base + [opts.file])
        if r.returncode != 0 or r.stderr:
            sys.exit('FAIL: must compile without a diagnostic')
        print('compiles cleanly')
        return

    r = run(base + ['-DUEV_TEST_CONTROL', opts.file])
    if r.returncode != 0 or r.stderr:
        sys.exit('FAIL: the control variant must compile cleanly')
    r = run(base + [opts.file])
    if r.returncode == 0:
        sys.exit('FAIL: compiled, but the wrong argument must be a hard error')
    if 'error' not in r.stderr:
        sys.exit('FAIL: failed without an error message')
    print('rejected with a hard error, control compiles')


if __name__ == '__main__':
    main()
