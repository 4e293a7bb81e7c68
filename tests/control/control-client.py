#!/usr/bin/env python3
"""A control client written apart from libuev (uev-control(7)), for the
tests: one SOCK_SEQPACKET connection, each argument one request, each reply
printed as one line "REPLY" (newlines as '|'); a reply with a descriptor
adds " fd=rw|ro size=N head=HEX" (what the descriptor allows and holds).
"hold" keeps the connection open until stdin closes; "raw:N" sends N bytes
of 'x'. Exit 0 when every request got a reply."""
import array
import os
import socket
import sys


def main():
    path, reqs = sys.argv[1], sys.argv[2:]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    for r in reqs:
        if r == "hold":
            sys.stdout.flush()
            sys.stdin.read()
            continue
        msg = b"x" * int(r[4:]) if r.startswith("raw:") else r.encode()
        s.send(msg)
        while True:
            data, fds, _, _ = socket.recv_fds(s, 8192, 4)
            if not data:
                print("CLOSED")
                return 1
            text = data.decode(errors="replace")
            if text.startswith("incident "):
                print("NOTE " + text.replace("\n", "|"))
                continue
            break
        extra = ""
        for fd in fds:
            try:
                os.write(fd, b"x")
                mode = "rw"
            except OSError:
                mode = "ro"
            st = os.fstat(fd)
            head = os.pread(fd, 8, 0).hex()
            extra += " fd=%s size=%d head=%s" % (mode, st.st_size, head)
            os.close(fd)
        print(text.replace("\n", "|") + extra)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
