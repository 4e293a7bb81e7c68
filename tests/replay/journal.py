#!/usr/bin/env python3
"""Check a journal read back with journalctl -o json against uev-replay's
--json and text output of the same ring file, field by field, and the typed
values of the jr_* events against what replay-journal-emit computed.

usage: journal.py roundtrip BACK.json REPLAY.json REPLAY.txt N BOOT-ID HOST
"""
import json
import re
import sys

RESERVED = {"SEAT", "RUN", "EVENT", "CPU", "PID", "COMM", "TRACE_NS", "CLOCK",
            "RECOVERED", "LOST_BEFORE", "WALL_UNKNOWN"}
# what journalctl adds of its own to every entry
JOURNAL_OWN = {"__CURSOR", "__SEQNUM", "__SEQNUM_ID"}


def fnv1a(data):
    h = 2166136261
    for c in data:
        h = ((h ^ c) * 16777619) & 0xffffffff
    return h


def field_name(name):
    """uev-replay(1): UEV_ + the name upper-cased, [^A-Z0-9_] as _,
    UEV_FIELD_ for uev's own names, cut at 64 with a hash."""
    pre = "UEV_FIELD_" if name.upper() in RESERVED else "UEV_"
    up = re.sub(r"[^A-Z0-9_]", "_", name.upper())
    if len(pre) + len(up) <= 64:
        return pre + up
    return pre + up[:64 - len(pre) - 9] + "_%08X" % fnv1a(name.encode())


def value(v):
    """The bytes a journal field holds for a JSON field value (None: none)."""
    if v is None:
        return None
    if isinstance(v, bool):
        raise ValueError("no booleans in fields")
    if isinstance(v, int):
        return str(v).encode()
    if isinstance(v, list):
        return json.dumps(v, separators=(",", ":")).encode()
    return v.encode("utf-8", "surrogateescape")


def jvalue(v):
    """A journalctl -o json value as bytes: a string, or an array of byte
    values for what is not printable text."""
    if isinstance(v, list):
        if all(isinstance(x, int) for x in v):
            return bytes(v)
        raise ValueError("field with several values: %r" % (v,))
    return v.encode()


def emitted(name, seq):
    """What replay-journal-emit wrote for round seq (its typed fields)."""
    if name == "jr_str":
        return {"seq": seq,
                "msg": ("round %d: a b\nline two\ttab \"q\" \\ \x01 caf\u00e9 " % seq).encode() + b"\xff end",
                "tag": ("t%d \u20ac" % seq).encode(), "empty": b""}
    if name == "jr_num":
        return {"seq": seq, "big": 2**64 - 1 - seq, "neg": -2**63 + seq, "s32v": -2**31 + seq,
                "s16v": -32768 + seq, "s8v": -128 + seq % 256, "u8v": 255 - seq % 256, "u16v": 65535 - seq}
    return {"seq": seq, "pid": -seq - 1, "cpu": seq * 7, "comm": b"cm",
            "a_field_name_that_is_longer_than_journald_takes_for_field_names": seq * 3}


TEXT = re.compile(rb"^\S+ \S+ (\S+) \[(\d+)\] +(.*?)-(-?\d+) +(.*)$")


def main():
    _, back_p, json_p, txt_p, n, boot, host = sys.argv[1:8]
    n = int(n)
    boot = boot.replace("-", "")
    events = [json.loads(l.decode("utf-8", "surrogateescape")) for l in open(json_p, "rb")]
    texts = []
    for l in open(txt_p, "rb"):
        l = l.rstrip(b"\n")
        if l.startswith(b"#") or re.search(rb"\] CPU -?\d+: .*events lost", l):
            continue
        m = TEXT.match(l)
        if not m:
            sys.exit("unparsed text line: %r" % l)
        texts.append(m.group(5))
    back = [json.loads(l) for l in open(back_p)]
    bad = []
    if not (len(events) == len(texts) == len(back)):
        sys.exit("FAIL: %d events in --json, %d text lines, %d journal entries" % (len(events), len(texts), len(back)))
    # journal entries by where the event is (run, cpu, trace time, nth)
    by_pos = {}
    for j in back:
        k = (j.get("UEV_RUN"), j.get("UEV_CPU"), j.get("UEV_TRACE_NS"))
        by_pos.setdefault(k, []).append(j)
    seen = {"jr_str": set(), "jr_num": set(), "jr_names": set()}
    kmsg = 0
    for e, text in zip(events, texts):
        k = (str(e["run"]), str(e["cpu"]), str(e["trace_ns"]))
        if not by_pos.get(k):
            bad.append("no journal entry for %r" % (k,))
            continue
        j = by_pos[k].pop(0)
        want = {
            "MESSAGE": text,
            "__REALTIME_TIMESTAMP": str(e["wall_ns"] // 1000).encode(),
            "__MONOTONIC_TIMESTAMP": str(e["trace_ns"] // 1000).encode(),
            "_BOOT_ID": boot.encode(),
            "_HOSTNAME": host.encode(),
            "SYSLOG_IDENTIFIER": e["comm"].encode() if not e["comm"].startswith("<") else b"uev",
            "UEV_SEAT": e["seat"].encode(),
            "UEV_RUN": str(e["run"]).encode(),
            # kernel events are named "system:name" in --json already
            "UEV_EVENT": (e["event"] if e["event"].startswith(e["system"] + ":") else
                          "%s:%s" % (e["system"], e["event"])).encode(),
            "UEV_CPU": str(e["cpu"]).encode(),
            "UEV_PID": str(e["pid"]).encode(),
            "UEV_COMM": e["comm"].encode(),
            "UEV_TRACE_NS": str(e["trace_ns"]).encode(),
            "UEV_CLOCK": b"mono",
        }
        if e["pid"] > 0:
            want["SYSLOG_PID"] = str(e["pid"]).encode()
        if "lost_before" in e:
            want["UEV_LOST_BEFORE"] = str(e["lost_before"]).encode()
        for name, v in e["fields"].items():
            if value(v) is not None:
                want[field_name(name)] = value(v)
        if e["system"] == "user" and e["event"] in seen:
            exp = emitted(e["event"], e["fields"]["seq"])
            got = {name: value(v) for name, v in e["fields"].items()}
            for name, v in exp.items():
                v = v if isinstance(v, bytes) else str(v).encode()
                if got.get(name) != v:
                    bad.append("%s seq %d: %s is %r in --json, the emitter wrote %r" %
                               (e["event"], e["fields"]["seq"], name, got.get(name), v))
            seen[e["event"]].add(e["fields"]["seq"])
        if e["event"] == "printk:console" and b"uevjournal kmsg" in text:
            kmsg += 1
        have = {key: jvalue(v) for key, v in j.items() if key not in JOURNAL_OWN}
        for key in sorted(set(want) | set(have)):
            if want.get(key) != have.get(key):
                bad.append("%s:%s at %s: %s is %r in the journal, wanted %r" %
                           (e["system"], e["event"], e["trace_ns"], key, have.get(key), want.get(key)))
    for name, s in seen.items():
        if s != set(range(n)):
            bad.append("%s: %d of %d rounds in the file" % (name, len(s), n))
    if kmsg < 10:
        bad.append("only %d printk:console lines of the emitter" % kmsg)
    for b in bad[:20]:
        print("FAIL:", b)
    if bad:
        print("FAIL: %d differences" % len(bad))
        sys.exit(1)
    print("journal.py: %d entries, every field as uev-replay --json and the text output have it" % len(back))


if __name__ == "__main__":
    main()
