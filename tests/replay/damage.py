#!/usr/bin/env python3
"""Damages a copy of a uev ring file in one chosen kind of record, walking
the records as docs/ring-format.md lays them out (independently of the C
reader), so the test knows what the damage should cost.

usage: damage.py IN OUT units SEED     one bit flipped in each of the 4
                                       largest UNIT/PAGE records
       damage.py IN OUT format SYS:NAME one bit flipped in the payload of
                                       the first FORMAT record of SYS:NAME
       damage.py IN OUT runstart -      one bit flipped in the payload of
                                       the first RUN_START
Prints the offsets it changed."""
import random, struct, sys

SUPER, SEGHDR, RECHDR = 4096, 64, 24
UNIT, PAGE, FORMAT, RUN_START = 9, 6, 3, 1


def records(b):
    """(offset, type, length) of every record in every written segment."""
    seg_size, seg_count = struct.unpack_from('<II', b, 24)
    for i in range(seg_count):
        base = SUPER + i * seg_size
        if b[base:base + 4] != b'USEG':
            continue
        off = base + SEGHDR
        while off + RECHDR <= base + seg_size:
            rtype, _cpu, length = struct.unpack_from('<HHI', b, off)
            if rtype == 0 or off + RECHDR + length > base + seg_size:
                break
            yield off, rtype, length
            off += RECHDR + (length + 7) // 8 * 8


def main():
    src, dst, mode, arg = sys.argv[1:5]
    b = bytearray(open(src, 'rb').read())
    recs = list(records(b))
    if mode == 'units':
        rnd = random.Random(int(arg))
        data = sorted((r for r in recs if r[1] in (UNIT, PAGE)), key=lambda r: -r[2])[:4]
        if len(data) < 2:
            sys.exit('damage.py: %s holds only %d data records' % (src, len(data)))
        targets = [off + rnd.randrange(RECHDR + length) for off, _t, length in data]
    elif mode == 'format':
        # kind u8, reserved[3], id u32, then "system\0name\0"
        want = arg.replace(':', '\0').encode() + b'\0'
        targets = [off + RECHDR + 8 + len(want) + 8 for off, t, length in recs
                   if t == FORMAT and b[off + RECHDR] == 2 and b[off + RECHDR + 8:].startswith(want)]
        if not targets:
            sys.exit('damage.py: no FORMAT of %s in %s' % (arg, src))
        targets = targets[:1]
    elif mode == 'runstart':
        targets = [off + RECHDR + 20 for off, t, _l in recs if t == RUN_START][:1]
    else:
        sys.exit('damage.py: unknown mode %r' % mode)
    for t in targets:
        b[t] ^= 0x10
    open(dst, 'wb').write(b)
    print(' '.join(str(t) for t in targets))


main()
