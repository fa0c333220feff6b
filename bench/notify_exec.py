#!/usr/bin/env python3
"""bench/notify_exec.py: starts a command with $NOTIFY_SOCKET pointing at a datagram socket of its
own (as systemd does for Type=notify) and measures the time from just before the exec to READY=1.
Writes the child's pid to PID_FILE at once and the READY time in ms (or "none") to READY_FILE;
keeps draining notifications until the child exits, and exits with the child's status.

    notify_exec.py PID_FILE READY_FILE -- COMMAND [ARG...]
"""
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        print("usage: notify_exec.py PID_FILE READY_FILE -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    pid_file, ready_file, command = sys.argv[1], sys.argv[2], sys.argv[4:]
    directory = tempfile.mkdtemp(prefix="bench-notify.")
    path = os.path.join(directory, "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    environment = dict(os.environ, NOTIFY_SOCKET=path)
    started = time.monotonic()
    child = subprocess.Popen(command, env=environment)
    with open(pid_file, "w", encoding="ascii") as handle:
        handle.write(f"{child.pid}\n")
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    ready = None
    try:
        while child.poll() is None:
            readable, _, _ = select.select([listener], [], [], 0.2)
            if not readable:
                if ready is None and time.monotonic() - started > 30:
                    break
                continue
            datagram = listener.recv(4096)
            if ready is None and b"READY=1" in datagram.split(b"\n"):
                ready = (time.monotonic() - started) * 1000
                with open(ready_file, "w", encoding="ascii") as handle:
                    handle.write(f"{ready:.1f}\n")
        if ready is None:
            with open(ready_file, "w", encoding="ascii") as handle:
                handle.write("none\n")
        return child.wait()
    finally:
        listener.close()
        os.unlink(path)
        os.rmdir(directory)


if __name__ == "__main__":
    sys.exit(main())
