#!/usr/bin/env python3
"""The structure rules of the tree as data, and their check.

usage: rules.py includes SRCROOT
       rules.py links NAME=PATH...

includes: every C file and header in a folder of FOLDERS may include, in
quotes, the headers of its own folder and the public header of a folder it
may use, nothing else of the tree; in angle brackets, the headers of the
libraries it may use (LIBS; libc and kernel headers are not policed). The
folder graph must have no cycle.

links: the built binary NAME (a key of LINKS) must not load a library it
is denied, by its own NEEDED entries or through another library (ldd).

Prints every crossing; exit 1 if there is one.
"""
import os, re, subprocess, sys

# The libraries whose headers are policed, by the headers they install.
LIBS = {
    "libtraceevent": {"event-parse.h", "kbuffer.h", "trace-seq.h"},
    "libtracefs": {"tracefs.h"},
    "liburing": {"liburing.h"},
    "libtracecmd": {"trace-cmd.h"},
    "libzstd": {"zstd.h", "zdict.h", "zstd_errors.h"},
}

# folder: (its public headers, the folders it may use, the libraries it may use)
FOLDERS = {
    "libuev/include":      (["uev/uev.h"], [], []),
    "libuev/shared":       (["uev-abi.h", "uev-control.h", "uev-def.h", "uev-grow.h", "uev-hash.h"], ["libuev/include"], []),
    "libuev":              ([], ["libuev/include", "libuev/shared"], []),
    "schemas":             (["schema-parse.h"], ["libuev/include", "libuev/shared"], []),
    "aggregator/ring":     (["ringfile.h"], ["libuev/shared"], ["libzstd"]),  # uev-grow.h: libc too
    "aggregator/decode":   (["uev-decode.h"], ["aggregator/ring", "libuev/shared"], ["libtraceevent"]),
    "aggregator/config":   (["config.h"], ["aggregator/decode", "aggregator/ring", "libuev/shared"], []),
    "aggregator/seat":     (["uev-seat.h"], ["aggregator/decode", "libuev/shared"],
                            ["libtracefs", "libtraceevent"]),
    "aggregator/tracedat": (["tracedat.h"], ["aggregator/decode", "aggregator/ring", "libuev/shared"],
                            ["libtracecmd", "libtracefs", "libtraceevent"]),
    "aggregator/replay":   (["replay.h"], ["aggregator/tracedat", "aggregator/decode", "aggregator/ring",
                                           "libuev/shared"], ["libtraceevent"]),
    "aggregator/upload":   (["upload.h"], ["aggregator/replay", "libuev/shared"], []),
    "aggregator/incident": (["incident.h"], ["aggregator/decode", "aggregator/ring", "libuev/shared"],
                            ["libtraceevent"]),
    "aggregator/recorder": ([], ["aggregator/config", "aggregator/seat", "aggregator/incident",
                                 "aggregator/decode", "aggregator/ring", "libuev/shared", "schemas"],
                            ["liburing", "libtracefs", "libtraceevent"]),
    "aggregator/tools":    ([], ["aggregator/seat", "aggregator/decode", "aggregator/ring",
                                 "libuev/shared", "libuev/include"], ["libtracefs", "libtraceevent"]),
    "weston":              ([], ["libuev/include"], []),
    "kms-shim":            ([], ["libuev/include"], []),
}

# binary: (the libraries it must never load, {a library: another that
# alone may bring it}). libtracecmd requires libtracefs, so uev-replay's
# trace.dat export brings libtracefs; nothing else in uev-replay may.
LINKS = {
    "uev-replay":     (["liburing", "libtracefs"], {"libtracefs": "libtracecmd"}),
    "uev-ringdump":   (["liburing", "libtracefs", "libtracecmd"], {}),
    "uev-seat":       (["liburing", "libtracecmd"], {}),
    "uev-aggregator": (["libtracecmd"], {}),
    # the control socket's command line: libuev's client calls, nothing else
    "uev-ctl":        (["libtraceevent", "libtracefs", "liburing", "libtracecmd", "libzstd"], {}),
    "libuev.so":      (["libtraceevent", "libtracefs", "liburing", "libtracecmd", "libzstd"], {}),
    "test_crc":       (["libtraceevent", "libtracefs", "liburing", "libtracecmd"], {}),  # ring/ alone
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def owner(path):
    """The FOLDERS key a repository path belongs to (the longest), or None."""
    best = None
    for f in FOLDERS:
        if (path + "/").startswith(f + "/") and (best is None or len(f) > len(best)):
            best = f
    return best


def cycles():
    errs, state = [], {}

    def visit(f, stack):
        state[f] = 1
        for g in FOLDERS[f][1]:
            if g not in FOLDERS:
                errs.append(f"rules: {f} uses {g}, which is not a folder of the table")
            elif state.get(g) == 1:
                errs.append("rules: dependency cycle: " + " -> ".join(stack + [f, g]))
            elif not state.get(g):
                visit(g, stack + [f])
        state[f] = 2
    for f in FOLDERS:
        if not state.get(f):
            visit(f, [])
    return errs


def check_includes(root):
    errs = cycles()
    files = []
    for d, dirs, names in os.walk(root):
        # not .git, not a build directory (meson's, wherever it was put)
        dirs[:] = [x for x in dirs if not x.startswith(".")
                   and not os.path.exists(os.path.join(d, x, "build.ninja"))]
        files += [os.path.relpath(os.path.join(d, n), root) for n in names if n.endswith((".c", ".h"))]
    # Where each header of the tree lives, by the name it is included as.
    where = {}
    for f in files:
        if f.endswith(".h"):
            where.setdefault(os.path.basename(f), []).append(f)
            if "/include/" in f:
                where.setdefault(f.split("/include/", 1)[1], []).append(f)
    for f in files:
        me = owner(f)
        if me is None:
            continue
        public, uses, libs = FOLDERS[me]
        allowed_lib = set().union(*(LIBS[lib] for lib in libs)) if libs else set()
        text = open(os.path.join(root, f), errors="replace").read()
        for quote, name in INCLUDE.findall(text):
            if quote == "<":
                for lib, hdrs in LIBS.items():
                    if name in hdrs and name not in allowed_lib:
                        errs.append(f"{f}: includes <{name}> ({lib}), which {me}/ may not use")
                if name not in where or not any(owner(h) == "libuev/include" for h in where[name]):
                    continue
            cands = where.get(name, [])
            if not cands:
                continue  # generated (schemas' headers) or the system's
            homes = {owner(h) or os.path.dirname(h) for h in cands}
            if me in homes and any(os.path.dirname(h) == os.path.dirname(f) or owner(h) == me
                                   for h in cands):
                continue
            ok = [h for h in homes if h in uses and name in FOLDERS[h][0]]
            if ok:
                continue
            used = [h for h in homes if h in uses]
            if used:
                errs.append(f"{f}: includes \"{name}\", a private header of {used[0]}/ "
                            f"(its public header: {', '.join(FOLDERS[used[0]][0]) or 'none'})")
            else:
                errs.append(f"{f}: includes \"{name}\" of {'/'.join(sorted(homes))}/, "
                            f"which {me}/ may not use")
    return errs


def loads(path):
    """The libraries PATH loads: its NEEDED entries and ldd's closure."""
    needed = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True).stdout
    libs = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", needed))
    ldd = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    libs |= set(re.findall(r"^\s*(\S+\.so[.\d]*)\s", ldd, re.M))
    return {re.sub(r"\.so.*$", "", os.path.basename(lib)) for lib in libs}


def check_links(args):
    errs = []
    for arg in args:
        name, path = arg.split("=", 1)
        got = loads(path)
        never, only_with = LINKS[name]
        for lib in never:
            if lib in got and not (lib in only_with and only_with[lib] in got):
                errs.append(f"{name} ({path}) loads {lib}, which it may not")
        print(f"{name}: loads {', '.join(sorted(got))}")
    return errs


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("includes", "links"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    errs = check_includes(sys.argv[2]) if sys.argv[1] == "includes" else check_links(sys.argv[2:])
    for e in errs:
        print("FAIL: " + e)
    if not errs:
        print("PASS")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
