#!/usr/bin/env python3
"""bench/idle_watch.py: wake-ups and threads of an idle process over SECONDS seconds.

Wake-ups are context switches, voluntary + nonvoluntary, summed over every thread, read from
/proc/PID/task/*/status. Sampled once a second so that threads that come and go are counted: per
thread id, the count at its last sample minus the count at its first (0 for a thread born during
the window). Also the most threads seen (Threads: of /proc/PID/status, each second), the process's
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
                "per_s": round((switches - first[tid]) / elapsed, 3)}
               for tid, (comm, switches) in sorted(last.items())]
    total = sum(thread["switches"] for thread in threads)
    rss_kb = int(status(f"/proc/{pid}/status")["VmRSS"].split()[0])
    print(json.dumps({"seconds": round(elapsed, 3), "wakeups": total, "wakeups_per_s": round(total / elapsed, 3),
                      "max_threads": max_threads, "cpu_ticks": end_ticks - start_ticks,
                      "clk_tck": os.sysconf("SC_CLK_TCK"), "rss_kb": rss_kb, "threads": threads}))


if __name__ == "__main__":
    main()
