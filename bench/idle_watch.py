#!/usr/bin/env python3
"""bench/idle_watch.py: wake-ups and threads of an idle process over SECONDS seconds.

Wake-ups are context switches, voluntary + nonvoluntary, summed over every thread, read from
/proc/PID/task/*/status. Sampled once a second so that threads that come and go are counted: per
thread id, the count at its last sample minus the count at its first (0 for a thread born during
the window). Also the system call each thread sleeps in at the end (x86-64 numbers; with the
timeout of poll and epoll_wait, whether a futex wait is timed), since threads the daemon does not
name carry their creator's name. Also the most threads seen (Threads: of /proc/PID/status, each second), the process's
CPU ticks (utime + stime) over the window and VmRSS at its end. Prints one JSON object, with the
per-thread breakdown (tid, comm, switches) so that a reader sees who wakes.

    idle_watch.py PID SECONDS
"""
import json
import math
import os
import sys
import time


def status(path):
    fields = {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


# x86-64 system call numbers of the usual ways to sleep; the index of the timeout argument (an int) or None.
SLEEPS = {7: ("poll", 2), 23: ("select", None), 202: ("futex", None), 230: ("clock_nanosleep", None),
          35: ("nanosleep", None), 232: ("epoll_wait", 3), 281: ("epoll_pwait", 3), 441: ("epoll_pwait2", None),
          271: ("ppoll", None), 270: ("pselect6", None), 0: ("read", None), 45: ("recvfrom", None),
          47: ("recvmsg", None), 43: ("accept", None), 288: ("accept4", None), 61: ("wait4", None),
          130: ("rt_sigsuspend", None), 128: ("rt_sigtimedwait", None), 34: ("pause", None)}


def sleeping_in(pid, tid):
    """The system call a blocked thread sleeps in, as text; "running" or "?" otherwise."""
    try:
        with open(f"/proc/{pid}/task/{tid}/syscall", encoding="ascii") as handle:
            fields = handle.read().split()
    except OSError:
        return "?"
    if not fields or not fields[0].lstrip("-").isdigit():
        return fields[0] if fields else "?"
    number = int(fields[0])
    name, timeout_at = SLEEPS.get(number, (f"syscall {number}", None))
    arguments = [int(value, 16) for value in fields[1:7]]
    if timeout_at is not None and len(arguments) > timeout_at:
        timeout = arguments[timeout_at] & 0xFFFFFFFF  # a C int
        timeout = timeout - (1 << 32) if timeout >= 1 << 31 else timeout
        return f"{name}, timeout {timeout} ms" if timeout >= 0 else f"{name}, no timeout"
    if name == "futex" and len(arguments) > 3:
        return "futex, timed" if arguments[3] else "futex, untimed"
    return name


def sample(pid):
    """{tid: (comm, switches)} of the threads alive now."""
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            fields = status(f"/proc/{pid}/task/{tid}/status")
        except OSError:
            continue  # ended between listdir and open
        threads[int(tid)] = (fields.get("Name", "?"),
                             int(fields["voluntary_ctxt_switches"]) + int(fields["nonvoluntary_ctxt_switches"]))
    return threads


def main():
    pid, seconds = int(sys.argv[1]), float(sys.argv[2])
    first, last = {}, {}
    start_ticks = cpu_ticks(pid)
    begun = time.monotonic()
    for tid, (comm, switches) in sample(pid).items():
        first[tid] = switches
        last[tid] = (comm, switches)
    max_threads = int(status(f"/proc/{pid}/status")["Threads"])
    for tick in range(1, math.ceil(seconds) + 1):
        delay = begun + min(tick, seconds) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        for tid, (comm, switches) in sample(pid).items():
            first.setdefault(tid, 0)  # born during the window: counted from 0
            last[tid] = (comm, switches)
        max_threads = max(max_threads, int(status(f"/proc/{pid}/status")["Threads"]))
    elapsed = time.monotonic() - begun
    end_ticks = cpu_ticks(pid)
    threads = [{"tid": tid, "comm": comm, "switches": switches - first[tid],
                "per_s": round((switches - first[tid]) / elapsed, 3), "sleeps_in": sleeping_in(pid, tid)}
               for tid, (comm, switches) in sorted(last.items())]
    total = sum(thread["switches"] for thread in threads)
    rss_kb = int(status(f"/proc/{pid}/status")["VmRSS"].split()[0])
    print(json.dumps({"seconds": round(elapsed, 3), "wakeups": total, "wakeups_per_s": round(total / elapsed, 3),
                      "max_threads": max_threads, "cpu_ticks": end_ticks - start_ticks,
                      "clk_tck": os.sysconf("SC_CLK_TCK"), "rss_kb": rss_kb, "threads": threads}))


if __name__ == "__main__":
    main()
