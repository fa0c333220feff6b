#!/usr/bin/env python3
"""make demo: turns cs-companiond's stderr log into journald export entries.

A build machine has no journald, so the demo feeds the daemon's log lines (`info cs-companiond:
message key=value …`) to systemd-journal-remote, which writes a real .journal file that the demo
daemon reads with logs.journal_directory (docs/FIRMWARE.md, "Sources"). The entries are stamped
one millisecond apart, ending now. Usage: demo-journal.py DAEMON_LOG > entries.export
"""
import re
import sys
import time

PRIORITIES = {"trace": 7, "debug": 7, "info": 6, "notice": 5, "warning": 4, "error": 3, "critical": 2}
LINE = re.compile(r"^(?:<\d>)?(trace|debug|info|notice|warning|error|critical) ([^:]+): (.*)$")

lines = [LINE.match(line.rstrip("\n")) for line in open(sys.argv[1], encoding="utf-8", errors="replace")]
entries = [m for m in lines if m]
now = int(time.time() * 1_000_000)
out = sys.stdout
for index, match in enumerate(entries):
    level, label, message = match.groups()
    out.write("__REALTIME_TIMESTAMP=%d\n" % (now - (len(entries) - index) * 1000))
    out.write("__MONOTONIC_TIMESTAMP=%d\n" % (1000 + index))
    out.write("_BOOT_ID=0123456789abcdef0123456789abcdef\n")
    out.write("PRIORITY=%d\n" % PRIORITIES[level])
    out.write("SYSLOG_IDENTIFIER=%s\n" % label)
    security = re.search(r"\bsecurity_event=(\S+)", message)
    if security:
        out.write("SECURITY_EVENT=%s\n" % security.group(1).strip('"'))
    out.write("MESSAGE=%s\n\n" % message)
