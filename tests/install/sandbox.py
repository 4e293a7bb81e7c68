#!/usr/bin/env python3
"""The systemd unit's sandbox, checked two ways.

1. Its score: `systemd-analyze security --offline=true --threshold=20` (an
   exposure of at most 2.0) on the configured unit.
2. The recorder under exactly the unit's limits, read from the unit file so
   that the two cannot drift apart: its User= (or an unused uid where that
   user does not exist), CapabilityBoundingSet= as bounding, inheritable and
   ambient set, NoNewPrivileges=, a read-only file system but for its
   ReadWritePaths= and its state and runtime directories (what
   ProtectSystem=strict and ProtectKernelTunables= leave), a private network
   namespace, and its SystemCallFilter= (expanded by systemd-analyze) as a
   seccomp filter that kills, with socket() limited to RestrictAddressFamilies=.
   A seat with printk:console and a user event schema records kernel messages
   and markers, stops on SIGTERM, removes its instance, and uev-replay finds
   everything. Then negative controls: each capability removed, the tracefs
   path left read-only, io_uring left out of the filter; each must fail
   loudly and leave no instance.

usage: sandbox.py UNIT UEV-AGGREGATOR UEV-REPLAY REPLAY-EMIT [SANITIZE]
(also re-executed by itself: --ns RW-PATH... -- CMD, --seccomp TOKEN... -- CMD)
"""
import ctypes
import ctypes.util
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

TRACEFS = "/sys/kernel/tracing"
SELF = os.path.abspath(__file__)
# The stages run as the service user: the system's interpreter, not one
# under a home directory that user may not enter.
PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable


def split_rest(args):
    i = args.index("--")
    return args[:i], args[i + 1:]


# --- re-executed stages ---------------------------------------------------

def mountpoints():
    with open("/proc/self/mountinfo") as f:
        return sorted({line.split()[4].replace("\\040", " ") for line in f})


def stage_ns(args):
    """In a new mount namespace (unshare): everything read-only but /proc
    and /dev (ProtectSystem=strict), /proc/sys and /sys read-only
    (ProtectKernelTunables=), then the writable paths bound read-write
    ("-" first: skipped when missing, as systemd does)."""
    rw, cmd = split_rest(args)
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    for mp in mountpoints():
        if mp in ("/proc", "/dev") or mp.startswith(("/proc/", "/dev/")):
            continue
        subprocess.run(["mount", "-o", "remount,bind,ro", mp], stderr=subprocess.DEVNULL)
    subprocess.run(["mount", "--bind", "/proc/sys", "/proc/sys"], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", "/proc/sys"], check=True)
    for p in rw:
        optional = p.startswith("-")
        p = p.lstrip("-")
        if not os.path.exists(p):
            if optional:
                continue
            sys.exit("sandbox: ReadWritePaths=%s does not exist" % p)
        subprocess.run(["mount", "--bind", p, p], check=True)
        subprocess.run(["mount", "-o", "remount,bind,rw", p], check=True)
    os.execvp(cmd[0], cmd)


def expand(token, seen):
    """The syscalls of a SystemCallFilter= token, groups expanded by
    systemd-analyze (nested groups recursively)."""
    if not token.startswith("@"):
        return {token}
    if token in seen:
        return set()
    seen.add(token)
    out = subprocess.run(["systemd-analyze", "syscall-filter", token], check=True,
                         capture_output=True, text=True).stdout.splitlines()[1:]
    names = set()
    for line in out:
        line = line.strip()
        if line and not line.startswith("#"):
            names |= expand(line, seen)
    return names


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("a", ctypes.c_uint64), ("b", ctypes.c_uint64)]


def stage_seccomp(args):
    """Loads the allow list (default: kill the process, as systemd does
    without SystemCallErrorNumber=) and executes the command. socket() and
    socketpair() are allowed for AF_UNIX only (RestrictAddressFamilies=)."""
    tokens, cmd = split_rest(args)
    names = set()
    for t in tokens:
        if not t.startswith("~"):
            names |= expand(t, set())
    names -= {t[1:] for t in tokens if t.startswith("~")}  # the negative control only
    lib = ctypes.CDLL("libseccomp.so.2")
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(ArgCmp)]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    kill, allow = 0x80000000, 0x7fff0000
    ctx = lib.seccomp_init(kill)
    unix_only = {"socket", "socketpair"}
    for n in sorted(names):
        nr = lib.seccomp_syscall_resolve_name(n.encode())
        if nr < 0:
            continue  # not a call of this architecture
        if n in unix_only:
            eq = ArgCmp(0, 4, socket.AF_UNIX, 0)  # SCMP_CMP_EQ
            ne = ArgCmp(0, 1, socket.AF_UNIX, 0)  # SCMP_CMP_NE
            r = lib.seccomp_rule_add_array(ctx, allow, nr, 1, ctypes.byref(eq)) or \
                lib.seccomp_rule_add_array(ctx, 0x00050000 | 97, nr, 1, ctypes.byref(ne))
        else:
            r = lib.seccomp_rule_add_array(ctx, allow, nr, 0, None)
        if r < 0:
            sys.exit("sandbox: seccomp rule for %s: %d" % (n, r))
    if lib.seccomp_load(ctx) < 0:
        sys.exit("sandbox: seccomp_load failed")
    os.execv(cmd[0], cmd)


# --- the unit --------------------------------------------------------------

def parse_unit(path):
    """[Service] keys; repeated keys accumulate, an empty assignment resets."""
    keys, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line
                continue
            if section != "[Service]" or "=" not in line:
                continue
            k, v = line.split("=", 1)
            keys[k] = keys.get(k, []) + v.split() if v else []
    return keys


def one(keys, k):
    v = keys.get(k, [])
    if len(v) != 1:
        sys.exit("FAIL: %s= in the unit is %r, expected one value" % (k, v))
    return v[0]


def score(unit):
    """Check 1. Returns False when systemd-analyze is absent."""
    if not shutil.which("systemd-analyze"):
        print("SKIP (score): systemd-analyze is not installed")
        return False
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--threshold=20", unit],
                       capture_output=True, text=True)
    overall = [l for l in r.stdout.splitlines() if "Overall exposure level" in l]
    print("score:", overall[0].split(":", 1)[1].strip() if overall else "(none)")
    if r.returncode != 0 or not overall:
        print(r.stdout[-3000:], r.stderr[-2000:])
        sys.exit("FAIL: the unit's exposure is above 2.0 (systemd-analyze security --threshold=20)")
    level = float(overall[0].split(":", 1)[1].split()[0])
    if level > 2.0:
        sys.exit("FAIL: exposure %.1f > 2.0" % level)
    return True


def service_ids(keys):
    user = one(keys, "User")
    try:
        pw = pwd.getpwnam(user)
        return pw.pw_uid, pw.pw_gid, "User=%s (uid %d)" % (user, pw.pw_uid)
    except KeyError:
        pass
    for uid in range(61000, 62000):  # the kernel checks numbers, not names
        try:
            pwd.getpwuid(uid)
            continue
        except KeyError:
            pass
        try:
            grp.getgrgid(uid)
            continue
        except KeyError:
            return uid, uid, "User=%s does not exist here (sysusers.d/uev.conf creates it); " \
                             "unused uid %d instead" % (user, uid)
    sys.exit("FAIL: no unused uid in 61000..61999")


# --- the recorder under the limits ------------------------------------------

class Run:
    def __init__(self, t, agg):
        self.t, self.agg = t, agg
        self.seat = "sbx%d" % os.getpid()
        self.inst = "%s/instances/uev.%s" % (TRACEFS, self.seat)
        self.proc = None

    def start(self, caps, rw, filt, conf, run_dir, wait_ready=True):
        """The recorder in the sandbox; returns None once READY=1, else
        its exit status and stderr."""
        capset = ",".join(["-all"] + ["+" + c.lower()[4:] for c in caps])
        uid, gid = self.t["uid"], self.t["gid"]
        cmd = [self.agg, "--seat", self.seat, "--config", conf, "--run-dir", run_dir]
        if filt is not None:
            cmd = [PY, SELF, "--seccomp"] + filt + ["--"] + cmd
        cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups",
               "--inh-caps=" + capset, "--ambient-caps=" + capset, "--bounding-set=" + capset,
               "--no-new-privs"] + cmd
        cmd = ["unshare", "--mount", "--net", "--ipc", "--", PY, SELF, "--ns"] + \
            rw + [self.t["dir"]] + ["--"] + cmd
        sock_path = self.t["dir"] + "/notify"
        if os.path.exists(sock_path):
            os.unlink(sock_path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(sock_path)
        os.chmod(sock_path, 0o777)  # as systemd's /run/systemd/notify
        sock.settimeout(0.2)
        self.log = open(self.t["dir"] + "/agg.log", "w+")
        self.proc = subprocess.Popen(cmd, stderr=self.log,
                                     env=dict(os.environ, NOTIFY_SOCKET=sock_path))
        deadline = time.time() + 30
        try:
            while time.time() < deadline:
                try:
                    if b"READY=1" in sock.recv(4096):
                        return None
                except socket.timeout:
                    pass
                if self.proc.poll() is not None:
                    return self.proc.returncode, self.stderr()
            self.proc.kill()
            self.proc.wait()
            return -1, "no READY=1 within 30 s\n" + self.stderr()
        finally:
            sock.close()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        return rc, self.stderr()

    def stderr(self):
        self.log.seek(0)
        return self.log.read()


def setup(t, ring_group):
    d = tempfile.mkdtemp(prefix="uevsandbox.")
    os.chmod(d, 0o755)
    t["dir"] = d
    with open(d + "/sb.uev", "w") as f:
        f.write("provider sandbox\nevent tick: a test event\n    u32 seq\n")
    for name, group in (("ok", ring_group), ("nogroup", None)):
        with open("%s/%s.conf" % (d, name), "w") as f:
            f.write("[seat]\nflush_interval_ms = 200\n[ring]\npath = %s/state-%s/sb.ring\n"
                    "size = 4M\nmode = 0640\n%s[kernel]\nevent = printk:console\n"
                    "[user]\nschema = %s/sb.uev\n"
                    % (d, name, "group = %s\n" % group if group else "", d))


def fresh_dirs(t, name):
    """The state and runtime directories systemd would create for the user."""
    out = []
    for sub in ("state-" + name, "run-" + name):
        p = "%s/%s" % (t["dir"], sub)
        shutil.rmtree(p, ignore_errors=True)
        os.mkdir(p, 0o755)
        os.chown(p, t["uid"], t["gid"])
        out.append(p)
    return out


def kmsg(line):
    # One open per message: /dev/kmsg rate-limits each open file.
    fd = os.open("/dev/kmsg", os.O_WRONLY)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def check(cond, what, fails):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        fails.append(what)


def positive(t, r, caps, rw, filt, emit, replay, ring_gid, fails):
    _, run_dir = fresh_dirs(t, "ok")
    res = r.start(caps, rw, filt, t["dir"] + "/ok.conf", run_dir)
    if res:
        check(False, "the sandboxed recorder starts (exit %s):\n%s" % res, fails)
        return
    ring = t["dir"] + "/state-ok/sb.ring"
    st = os.stat(ring)
    check(st.st_uid == t["uid"] and st.st_gid == ring_gid,
          "ring file owned by the service user, [ring] group applied (%d:%d)" % (st.st_uid, st.st_gid),
          fails)
    page = "%s/%s.enable" % (run_dir, r.seat)
    check(os.stat(page).st_uid == 0, "enable page handed to root (emitters trust only that)", fails)
    for i in range(20):
        kmsg("<5>uev-sandbox %s kmsg %d\n" % (r.seat, i))
    e = subprocess.run([emit, r.seat, run_dir, "200", "sbx"], capture_output=True, text=True)
    check(e.returncode == 0, "markers emitted (replay-emit: %s)" % e.stderr.strip(), fails)
    time.sleep(0.5)
    rc, err = r.stop()
    check(rc == 0, "SIGTERM stops it with exit 0 (got %s)" % rc, fails)
    if rc != 0:
        print(err)
    check(not os.path.exists(r.inst), "instance removed", fails)
    out = subprocess.run([replay, "--no-header", ring], capture_output=True, text=True).stdout
    k = sum("uev-sandbox %s kmsg" % r.seat in l for l in out.splitlines())
    m = sum("rp_tick" in l for l in out.splitlines())
    check(k == 20, "uev-replay finds the 20 kernel messages (%d)" % k, fails)
    check(m == 400, "uev-replay finds the 400 markers (%d)" % m, fails)


def negative(t, r, caps, rw, filt, what, conf, expect, fails):
    """A start that must fail: non-zero exit, @expect in stderr, no instance."""
    fresh_dirs(t, conf)
    res = r.start(caps, rw, filt, "%s/%s.conf" % (t["dir"], conf), t["dir"] + "/run-" + conf)
    if res is None:
        r.stop()
        check(False, "%s: the recorder started anyway" % what, fails)
        return
    rc, err = res
    ok = rc != 0 and expect in err and not os.path.exists(r.inst)
    check(ok, "%s: refused (exit %d): %s" % (what, rc, err.strip().splitlines()[-1:] or err), fails)
    if not ok:
        print("  wanted %r in:\n%s" % (expect, err))
        if os.path.isdir(r.inst):
            os.rmdir(r.inst)


def seccomp_control(t, r, caps, rw, filt, fails):
    """The filter is real and io_uring is what it must let through: without
    the io_uring calls the recorder is killed by SIGSYS (as a crash, it
    leaves its instance for the next start; removed here)."""
    fresh_dirs(t, "ok")
    less = filt + ["~io_uring_setup", "~io_uring_enter", "~io_uring_register"]
    res = r.start(caps, rw, less, t["dir"] + "/ok.conf", t["dir"] + "/run-ok")
    if res is None:
        r.stop()
    check(res is not None and res[0] == -signal.SIGSYS,
          "io_uring outside the filter: killed by SIGSYS (%s)" % (res and res[0]), fails)
    if os.path.isdir(r.inst):
        os.rmdir(r.inst)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--ns":
        return stage_ns(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "--seccomp":
        return stage_seccomp(sys.argv[2:])
    unit, agg, replay, emit = sys.argv[1:5]
    sanitize = sys.argv[5] if len(sys.argv) > 5 else "none"
    if os.geteuid() != 0 or not os.path.isdir(TRACEFS + "/instances"):
        print("SKIP: needs root and tracefs")
        return 77
    keys = parse_unit(unit)
    have_analyze = score(unit)
    caps = keys.get("CapabilityBoundingSet", [])
    fails = []
    check(sorted(caps) == sorted(keys.get("AmbientCapabilities", [])) and caps,
          "AmbientCapabilities= equals CapabilityBoundingSet= (%s)" % " ".join(caps), fails)
    check(one(keys, "NoNewPrivileges") == "yes", "NoNewPrivileges=yes", fails)
    check(one(keys, "ProtectSystem") == "strict", "ProtectSystem=strict", fails)
    check(one(keys, "SystemCallArchitectures") == "native", "SystemCallArchitectures=native", fails)
    check(keys.get("RestrictAddressFamilies") == ["AF_UNIX"], "RestrictAddressFamilies=AF_UNIX", fails)
    check(one(keys, "PrivateNetwork") == "yes", "PrivateNetwork=yes", fails)
    filt = keys.get("SystemCallFilter", [])
    if any(x.startswith("~") for x in filt):
        sys.exit("FAIL: sandbox.py expands allow lists only; teach it the unit's deny list")
    rw = keys.get("ReadWritePaths", [])
    if not have_analyze or not ctypes.util.find_library("seccomp"):
        print("SKIP (seccomp): %s missing, the recorder runs without the filter"
              % ("systemd-analyze" if not have_analyze else "libseccomp"))
        have_analyze, filt = False, None
    elif sanitize != "none":
        print("note: %s build: no seccomp filter (the sanitizer runtime needs calls the recorder "
              "does not; the plain build runs with it)" % sanitize)
        filt = None
    t = {}
    t["uid"], t["gid"], who = service_ids(keys)
    print(who)
    group = next((g for g in ("video", "adm", "root") if _gid(g) is not None), "root")
    setup(t, group)
    r = Run(t, agg)
    try:
        positive(t, r, caps, rw, filt, emit, replay, _gid(group), fails)
        for cap in caps:
            less = [c for c in caps if c != cap]
            if cap == "CAP_DAC_OVERRIDE":
                negative(t, r, less, rw, filt, "without " + cap, "ok",
                         "no write access to %s/instances (Permission denied)" % TRACEFS, fails)
            elif cap == "CAP_CHOWN":
                negative(t, r, less, rw, filt, "without %s, [ring] group" % cap, "ok",
                         "setting mode/group: Operation not permitted", fails)
                negative(t, r, less, rw, filt, "without %s, the enable page" % cap, "nogroup",
                         "cannot give it to root (Operation not permitted)", fails)
            elif cap == "CAP_PERFMON":
                if os.path.exists(TRACEFS + "/user_events_data"):
                    negative(t, r, less, rw, filt, "without " + cap, "ok",
                             "the kernel refused it: Operation not permitted", fails)
                else:
                    print("note: without CAP_PERFMON not tried: this kernel has no user_events "
                          "(PERSIST registration needs it: kernel/trace/trace_events_user.c)")
            else:
                check(False, "%s has no negative control in sandbox.py" % cap, fails)
        negative(t, r, caps, [p for p in rw if "instances" not in p], filt,
                 "tracefs left read-only", "ok",
                 "no write access to %s/instances (Read-only file system)" % TRACEFS, fails)
        if filt is not None:
            seccomp_control(t, r, caps, rw, filt, fails)
    finally:
        if os.path.isdir(r.inst):
            os.rmdir(r.inst)
        shutil.rmtree(t["dir"], ignore_errors=True)
    if fails:
        return 1
    return 0 if have_analyze else 77  # a sanitizer build's missing filter is no skip


def _gid(name):
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


if __name__ == "__main__":
    sys.exit(main())
