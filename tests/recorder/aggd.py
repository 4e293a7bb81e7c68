"""A uev-aggregator under test, for the Python tests of this folder: its
seat, configuration and scratch directory, started and waited for through
$NOTIFY_SOCKET (READY=1), and everything undone at the end (the instance,
/proc/sys/kernel/printk_devkmsg, the directory)."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile

TRACEFS = "/sys/kernel/tracing"


def require_root_tracefs():
    """Exits 77 (meson's skip) without root or tracefs."""
    if os.geteuid() != 0 or not os.path.exists(TRACEFS + "/instances"):
        print("SKIP: needs root and tracefs")
        sys.exit(77)


class Daemon:
    def __init__(self, agg, prefix, conf):
        """@conf: the uev.conf text; "%(ring)s" in it is the ring's path."""
        self.agg = agg
        self.seat = "%s%d" % (prefix, os.getpid())
        self.inst = "%s/instances/uev.%s" % (TRACEFS, self.seat)
        self.tmp = tempfile.mkdtemp(prefix="uev%s." % prefix)
        self.ring, self.conf = self.tmp + "/r.ring", self.tmp + "/r.conf"
        with open(self.conf, "w") as f:
            f.write(conf % {"ring": self.ring})
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.tmp + "/notify")
        self.sock.settimeout(20)
        self.log = open(self.tmp + "/agg.log", "w+")
        self.proc = None
        with open("/proc/sys/kernel/printk_devkmsg") as f:
            self.devkmsg = f.read().strip()
        # One open per message would do too; "on" lets any writer through.
        with open("/proc/sys/kernel/printk_devkmsg", "w") as f:
            f.write("on\n")

    def start(self, *args):
        """Starts the aggregator and returns once it is draining."""
        env = dict(os.environ, NOTIFY_SOCKET=self.tmp + "/notify")
        self.proc = subprocess.Popen([self.agg, "--seat", self.seat, "--config", self.conf,
                                      "--run-dir", self.tmp + "/run"] + list(args),
                                     env=env, stderr=self.log)
        while b"READY=1" not in self.sock.recv(4096):
            pass
        return self.proc

    def close(self, failed):
        """Undoes everything; prints the daemons' log when @failed."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        with open("/proc/sys/kernel/printk_devkmsg", "w") as f:
            f.write(self.devkmsg + "\n")
        if os.path.isdir(self.inst):
            os.rmdir(self.inst)
        self.log.seek(0)
        if failed:
            print(self.log.read()[-3000:])
        if os.environ.get("UEV_KEEP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
