#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every link in the project's Markdown and man pages resolves inside the
repository (or names a man page that is installed with it, or a system one).

usage: links.py SOURCE-ROOT

- Markdown ([text](target) in README.md, BENCHMARKS.md, docs/, kernel/,
  aggregator/, tests/, bench/): no external URLs; a relative target must
  exist; a #fragment must be a heading of the target file (GitHub's
  anchors: lower case, punctuation dropped, spaces as dashes).
- Man pages (docs/*.[1-8]): every ".BR uev...(N)" reference names a page
  this repository ships (docs/NAME.N); other names are system pages.
- Nothing points outside the repository (../shared, DESIGN.md of the team's
  notes).
Exits 1 with one line per broken link, naming file and line.
"""
import os
import re
import sys

LINK = re.compile(r'(?<!!)\[([^\]]*)\]\(([^)\s]+)\)')
HEADING = re.compile(r'^(#{1,6})\s+(.*?)\s*#*\s*$')
MANREF = re.compile(r'^\.B[RI]?\s+"?([A-Za-z0-9_.@-]+)"?\s+\((\d)\)')


def slug(title):
    t = title.strip().lower()
    t = re.sub(r'[^\w\- ]', '', t)   # GitHub drops punctuation but keeps - and _
    return t.replace(' ', '-')


def anchors(path, cache={}):
    if path not in cache:
        seen, out = {}, set()
        in_code = False
        for line in open(path, encoding='utf-8'):
            if line.startswith('```'):
                in_code = not in_code
            if in_code:
                continue
            m = HEADING.match(line)
            if m:
                s = slug(m.group(2))
                n = seen.get(s, 0)
                seen[s] = n + 1
                out.add(s if n == 0 else '%s-%d' % (s, n))
        cache[path] = out
    return cache[path]


def markdown_files(root):
    for top in ('README.md', 'BENCHMARKS.md'):
        if os.path.exists(os.path.join(root, top)):
            yield os.path.join(root, top)
    for d in ('docs', 'kernel', 'aggregator', 'tests', 'bench', 'weston', 'kms-shim', 'libuev', 'schemas'):
        for dirpath, dirnames, files in os.walk(os.path.join(root, d)):
            dirnames[:] = [x for x in dirnames if not x.startswith(('build', '.'))]
            for f in files:
                if f.endswith('.md'):
                    yield os.path.join(dirpath, f)


def check_markdown(root, path, bad):
    in_code = False
    for no, line in enumerate(open(path, encoding='utf-8'), 1):
        if line.startswith('```'):
            in_code = not in_code
        if in_code or line.startswith('    '):
            continue
        for m in LINK.finditer(line):
            target = m.group(2)
            where = '%s:%d' % (os.path.relpath(path, root), no)
            if re.match(r'^[a-z]+:', target):
                bad.append('%s: external link %s (the docs must stand alone)' % (where, target))
                continue
            file_part, _, frag = target.partition('#')
            dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
            if not dest.startswith(os.path.abspath(root) + os.sep) and dest != os.path.abspath(root):
                bad.append('%s: %s points outside the repository' % (where, target))
                continue
            if not os.path.exists(dest):
                bad.append('%s: %s does not exist' % (where, target))
                continue
            if frag and dest.endswith('.md') and frag not in anchors(dest):
                bad.append('%s: %s: no heading with anchor #%s in %s' %
                           (where, target, frag, os.path.relpath(dest, root)))


def check_man(root, path, shipped, bad):
    for no, line in enumerate(open(path, encoding='utf-8'), 1):
        m = MANREF.match(line)
        if not m:
            continue
        name, sec = m.group(1), m.group(2)
        if name.startswith('uev') and '%s.%s' % (name, sec) not in shipped:
            bad.append('%s:%d: %s(%s) is not a page in docs/' % (os.path.relpath(path, root), no, name, sec))
        if 'shared/' in line or 'DESIGN.md' in line:
            bad.append('%s:%d: points at the team notes' % (os.path.relpath(path, root), no))


def main():
    root = os.path.abspath(sys.argv[1])
    bad = []
    n = 0
    for path in markdown_files(root):
        n += 1
        check_markdown(root, os.path.abspath(path), bad)
        text = open(path, encoding='utf-8').read()
        if '../shared' in text or 'shared/DESIGN.md' in text:
            bad.append('%s: refers to the team notes (../shared)' % os.path.relpath(path, root))
    docs = os.path.join(root, 'docs')
    shipped = {f for f in os.listdir(docs) if re.match(r'.*\.[1-8]$', f)}
    for f in sorted(shipped):
        check_man(root, os.path.join(docs, f), shipped, bad)
    for b in bad:
        print('FAIL: ' + b)
    if bad:
        return 1
    print('ok: every link of %d Markdown files and %d man pages resolves' % (n, len(shipped)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
