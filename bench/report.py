#!/usr/bin/env python3
"""bench/report.py: turns the records of scripts/bench.sh (JSON lines) into the Markdown report:
the targets of issue 20 (bench/targets.py: figure, measured, target, met), the round-trip table,
the mixed load, memory over each daemon lifetime, the idle daemon (wake-ups per thread), the Modbus
pollers, the recorded sessions, READY times, Modbus, the validator alone and the daemon's memory.

    report.py RECORDS.jsonl --machine TEXT --settings TEXT
"""
import argparse
import datetime
import json
import os
import statistics

import targets

RESPONDERS = [("daemon", "cs-companiond"), ("daemon-8evse", "cs-companiond, 8 EVSEs"), ("c-limit", "C limit"),
              ("python-peer", "Python peer")]
# Every start timed, by name: the rounds' daemons and responders, then the daemons of the other steps.
STARTS = RESPONDERS + [("daemon-idle", "cs-companiond, idle step"),
                       ("daemon-fill", "cs-companiond, first start of the sessions' state directory"),
                       ("daemon-create", "cs-companiond, first start of the empty one"),
                       ("daemon-empty", "cs-companiond, database without sessions"),
                       ("daemon-sessions", "cs-companiond, database with the sessions")]
ROWS = [("latency", 1), ("throughput", 1), ("latency", 0), ("throughput", 0)]


def median(values):
    return statistics.median(values) if values else None


def fmt(value, digits=0):
    if value is None:
        return "—"
    return f"{value:,.{digits}f}".replace(",", " ")


def row_figures(runs):
    """Medians over the runs of one (responder, mode, qos)."""
    if not runs:
        return None
    figures = {}
    for key in ("p50", "p90", "p99"):
        figures[key] = median([run["load"]["latency_us"][key] for run in runs])
    figures["rate"] = median([run["load"]["requests_per_s"] for run in runs])
    figures["cpu"] = median(
        [run["cpu_ticks"] * 1e6 / run["clk_tck"] / max(run["load"]["answered"], 1) for run in runs])
    figures["hwm_mb"] = max(run["hwm_kb"] for run in runs) / 1024
    figures["dirty_mb"] = max(run.get("private_dirty_kb", 0) for run in runs) / 1024
    figures["answered"] = sum(run["load"]["answered"] for run in runs)
    figures["requests"] = sum(run["load"]["requests"] for run in runs)
    return figures


def ratio(a, b):
    return a / b if a is not None and b else None


DEFINITIONS = [
    "How the figures are taken (definitions the issue leaves open):",
    "",
    "- round trip p50/p99: the latency rows (1 request in flight, 5000 requests by default); CPU per message",
    "  (utime + stime of the responder over the run ÷ answers) and throughput: the throughput rows (64 in",
    "  flight); medians over the rounds; the limit is the C responder, the same rows in the same round",
    "- peak RSS: VmHWM, reset (`clear_refs` 5) before the run, the largest over the rounds; Private_Dirty:",
    "  `/proc/<pid>/smaps_rollup` right after the throughput run, the largest over the rounds",
    "- MB and MiB both mean 1 048 576 bytes; the stripped size is `strip -o` of the release binary",
    "- idle: a fresh daemon (bench configuration, no load, no Modbus client), 2 s after READY=1; wake-ups are",
    "  voluntary + nonvoluntary context switches summed over `/proc/<pid>/task/*/status`, sampled each second",
    "  (per thread id; a thread born in the window counts from 0)",
    "- flat from 1 to 8 EVSEs: CPU per message with 8 EVSEs ≤ 1.10 × with 1 (throughput, QoS 1, medians)",
    "- Modbus pollers: the daemon's CPU ticks over the span with 10 clients each reading the meter block once a",
    "  second, minus its ticks over the same span idle just before (connections included)",
    "- memory over a daemon lifetime: VmRSS at the end of a round's daemon (after its rows, Modbus load and",
    "  mixed load) minus VmRSS after its warm-up, the largest over the rounds; `make soak` (scripts/soak.sh)",
    "  is the long form (hours, broker restarts, sessions), not run by `make bench`",
    "- READY=1: the starts of the rounds' daemon, each on an empty state directory (it creates the database)",
    "- start-up unchanged by the database's size: the median READY=1 of 3 starts on the state directory with",
    "  the recorded sessions within 20 % or 5 ms (whichever is larger) of the median of 3 on one whose",
    "  database has no session (made by a first start, not counted), the starts alternating",
    "- mixed load: bench/flood.c publishes the bad requests at full speed (QoS 1) while the load generator",
    "  sends correct ones, 1 in flight, until the flood is acknowledged; compared with the same round's",
    "  latency row at QoS 1; VmHWM reset before the flood",
    "",
]


def details(records):
    """The sections of the measurements of issue 20 beyond the round trips."""
    out = []
    mixed = [r for r in records if r["kind"] == "mixed"]
    if mixed:
        out.append("## Mixed load: correct requests (QoS 1, 1 in flight) while bad ones flood in")
        out.append("")
        out.append("Correct requests are sent only while the flood is being published, so each one waits behind the bad")
        out.append("ones queued before it.")
        out.append("")
        out.append("| responder | round | correct sent | answered | p50 µs | p99 µs | max µs | bad requests | of them 300 KiB | "
                   "flood s | responder CPU s | VmHWM MB |")
        out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        labels = dict(RESPONDERS)
        for r in sorted(mixed, key=lambda r: (r.get("responder", "daemon") != "daemon", r["run"])):
            load, flood = r["load"], r.get("flood") or {}
            lat = load["latency_us"]
            out.append(f"| {labels.get(r.get('responder', 'daemon'), '?')} | {r['run']} | {fmt(load['requests'])} | {fmt(load['answered'])} | {fmt(lat['p50'])} | "
                       f"{fmt(lat['p99'])} | {fmt(lat['max'])} | {fmt(flood.get('published'))} | {fmt(flood.get('oversized'))} | "
                       f"{fmt(flood.get('elapsed_s'), 1)} | {fmt(r['cpu_ticks'] / r['clk_tck'], 2)} | {fmt(r['hwm_kb'] / 1024, 1)} |")
        out.append("")
        for name, label in (("daemon", "cs-companiond"), ("c-limit", "the C limit")):
            mine = [r for r in mixed if r.get("responder", "daemon") == name and r["load"]["answered"]]
            calm = [r for r in records if r["kind"] == "run" and r["responder"] == name and r["mode"] == "latency" and r["qos"] == 1]
            if mine and calm:
                ratios = [ratio(median([r["load"]["latency_us"][key] for r in mine]),
                                median([r["load"]["latency_us"][key] for r in calm])) for key in ("p50", "p99")]
                out.append(f"- {label}: p50 {fmt(ratios[0], 1)}×, p99 {fmt(ratios[1], 1)}× its latency row at QoS 1 (medians)")
        flood = mixed[-1].get("flood") or {}
        if flood:
            out.append(f"- the flood's mix: {fmt(flood['invalid_json'])} invalid JSON, {fmt(flood['wrong_shape'])} of the wrong "
                       f"shape, {fmt(flood['unknown_name'])} unknown names, {fmt(flood['bad_envelope'])} bad envelopes, "
                       f"{fmt(flood['oversized'])} of {fmt(flood['oversized_bytes'] / 1024)} KiB (the daemon refuses > 256 KiB)")
        out.append("")

    lifetimes = [r for r in records if r["kind"] == "lifetime"]
    if lifetimes:
        out.append("## Memory over each round's daemon lifetime (VmRSS)")
        out.append("")
        out.append("| round | after warm-up MB | at the end MB | growth MB |")
        out.append("| ---: | ---: | ---: | ---: |")
        for r in lifetimes:
            a, b = r["rss_after_warm_up_kb"] / 1024, r["rss_at_end_kb"] / 1024
            out.append(f"| {r['run']} | {fmt(a, 2)} | {fmt(b, 2)} | {fmt(b - a, 2)} |")
        out.append("")

    idle = next((r["result"] for r in records if r["kind"] == "idle"), None)
    if idle:
        out.append(f"## Idle: {fmt(idle['seconds'], 0)} s with nothing due")
        out.append("")
        out.append(f"- {fmt(idle['wakeups'])} wake-ups ({fmt(idle['wakeups_per_s'], 2)}/s), at most {idle['max_threads']} "
                   f"threads, CPU {fmt(idle['cpu_ticks'] / idle['clk_tck'], 2)} s, VmRSS at the end "
                   f"{fmt(idle['rss_kb'] / 1024, 1)} MB")
        out.append("")
        out.append("A thread the daemon does not name carries its creator's name (`oot.default-qos` is the end of")
        out.append("`com.apple.root.default-qos`, a Swift concurrency thread); \"sleeps in\" is its system call at the end of")
        out.append("the window.")
        out.append("")
        out.append("| tid | thread (comm) | switches | per second | sleeps in |")
        out.append("| ---: | --- | ---: | ---: | --- |")
        for t in sorted(idle["threads"], key=lambda t: -t["switches"]):
            out.append(f"| {t['tid']} | `{t['comm']}` | {fmt(t['switches'])} | {fmt(t['per_s'], 2)} | {t.get('sleeps_in', '?')} |")
        out.append("")

    poll = next((r for r in records if r["kind"] == "modbus_poll"), None)
    if poll:
        load = poll.get("load") or {}
        added = (poll["poll_ticks"] - poll["idle_ticks"]) / poll["clk_tck"] / poll["seconds"] * 100
        out.append("## 10 Modbus clients polling every second (FC03 of the meter block, one request a second each)")
        out.append("")
        out.append(f"- idle {poll['seconds']} s: {poll['idle_ticks']} ticks; polled {poll['seconds']} s: {poll['poll_ticks']} ticks "
                   f"(1 tick = 1/{poll['clk_tck']} s); added {fmt(added, 2)} % of one core")
        if load:
            lat = load["latency_us"]
            out.append(f"- {fmt(load['requests'])} requests answered, {load['wrong']} wrong, {load['failures']} failed; "
                       f"p50 {fmt(lat['p50'])} µs, p99 {fmt(lat['p99'])} µs")
        out.append("")

    sessions = next((r for r in records if r["kind"] == "sessions"), None)
    if sessions:
        fill = sessions["fill"]
        out.append(f"## Recorded sessions: `cs-companion sessions --since {fill['since']}`")
        out.append("")
        out.append(f"- database: {fmt(fill['sessions'])} completed sessions over a year (bench/sessions_db.py), "
                   f"{fmt(fill['periods'])} charging periods, {fmt(fill['dimensions'])} dimensions; filled in "
                   f"{fmt(fill['fill_s'], 1)} s")
        out.append(f"- {fmt(sessions['listed'])} sessions listed (a week); wall time of the 5 runs: "
                   + ", ".join(fmt(t / 1000, 1) for t in sessions["cli_us"]) + " ms")
        out.append("")

    size = next((r for r in records if r["kind"] == "size"), None)
    if size:
        out.append(f"## Size: cs-companiond {fmt(size['unstripped_bytes'] / targets.MIB, 1)} MiB as built, "
                   f"{fmt(size['stripped_bytes'] / targets.MIB, 1)} MiB stripped ({fmt(size['stripped_bytes'])} bytes)")
        out.append("")
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("records")
    parser.add_argument("--machine", default="")
    parser.add_argument("--settings", default="")
    arguments = parser.parse_args()
    records = [json.loads(line) for line in open(arguments.records, encoding="utf-8") if line.strip()]

    starts = {}
    for name, _ in STARTS:
        mine = [r for r in records if r["kind"] == "start" and r["responder"] == name]
        if mine:  # medians over the rounds (the daemon also starts once to capture its answer)
            starts[name] = {"ready_ms": median([r["ready_ms"] for r in mine]),
                            "ready_max_ms": max(r["ready_ms"] for r in mine),
                            "idle_rss_kb": median([r["idle_rss_kb"] for r in mine]), "count": len(mine)}
    runs = [r for r in records if r["kind"] == "run"]
    table = {}
    for name, _ in RESPONDERS:
        for mode, qos in ROWS:
            table[(name, mode, qos)] = row_figures(
                [r for r in runs if r["responder"] == name and r["mode"] == mode and r["qos"] == qos])
    modbus = {}
    for server in ("daemon", "pymodbus"):
        mine = [r for r in records if r["kind"] == "modbus" and r["server"] == server]
        if mine:
            modbus[server] = {
                "requests_per_s": median([r["load"]["requests_per_s"] for r in mine]),
                "latency_us": {k: median([r["load"]["latency_us"][k] for r in mine]) for k in ("p50", "p90", "p99")},
                "cpu": median([r["cpu_ticks"] * 1e6 / r["clk_tck"] / max(r["load"]["requests"], 1) for r in mine]),
                "runs": len(mine),
            }
    validator = next((r["result"] for r in records if r["kind"] == "validator"), None)
    rss = next((r for r in reversed(records) if r["kind"] == "rss"), None)

    out = []
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out.append(f"# make bench, {now}")
    out.append("")
    out.append(f"- machine: {arguments.machine}")
    out.append(f"- settings: {arguments.settings}")
    out.append("- same private mosquitto (TCP_NODELAY), same load generator (bench/loadgen.c); the responders")
    out.append("  subscribe and answer with QoS 1; the QoS column is the load generator's (requests and subscription)")
    out.append("- the limit: bench/responder.c, one thread in `mosquitto_loop_forever`; the Python peer: paho-mqtt + jsonschema")
    out.append("- each round runs cs-companiond (its rows, Modbus, the mixed load), cs-companiond with 8 EVSEs, the limit and")
    out.append("  the Python peer one after another; figures are medians over the rounds")
    out.append("")
    round_trip_at = len(out)  # the targets go before the raw tables
    out.append("## Josev round trip: cs_status_and_limits request → response")
    out.append("")
    out.append("| responder | mode | QoS | p50 µs | p90 µs | p99 µs | msgs/s | CPU µs/msg | peak RSS MB | Private_Dirty MB |")
    out.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, label in RESPONDERS:
        for mode, qos in ROWS:
            f = table[(name, mode, qos)]
            if f is None:
                if name != "daemon-8evse":  # only its throughput row at QoS 1 is run
                    out.append(f"| {label} | {mode} | {qos} | no run | | | | | | |")
                continue
            hwm = fmt(f["hwm_mb"], 1) if mode == "throughput" else "—"
            dirty = fmt(f["dirty_mb"], 1) if mode == "throughput" else "—"
            out.append(
                f"| {label} | {mode} | {qos} | {fmt(f['p50'])} | {fmt(f['p90'])} | {fmt(f['p99'])} | {fmt(f['rate'])} "
                f"| {fmt(f['cpu'], 1)} | {hwm} | {dirty} |")
    out.append("")

    def figure(name, mode, qos, key):
        f = table.get((name, mode, qos))
        return f[key] if f else None

    target_rows = targets.rows(records, figure, starts)
    section = ["## Targets (issue 20): figure, measured, target, met", "",
               "| figure | measured | target | met |", "| --- | ---: | --- | --- |"]
    section += ["| " + " | ".join(row.cells(fmt)) + " |" for row in target_rows]
    missed = sum(1 for row in target_rows if row.value is not None and not row.test(row.value))
    unmeasured = sum(1 for row in target_rows if row.value is None)
    section += ["", f"{len(target_rows) - missed - unmeasured} of {len(target_rows)} targets met, {missed} not met"
                + (f", {unmeasured} not measured" if unmeasured else "") + ".", ""]
    section += DEFINITIONS
    out[round_trip_at:round_trip_at] = section
    out.extend(details(records))

    out.append("## Start-up (READY=1 on $NOTIFY_SOCKET, from just before the exec) and idle RSS")
    out.append("")
    out.append("| responder | starts | READY ms (median) | READY ms (max) | RSS after READY MB |")
    out.append("| --- | ---: | ---: | ---: | ---: |")
    for name, label in STARTS:
        start = starts.get(name)
        if start:
            out.append(f"| {label} | {start['count']} | {fmt(start['ready_ms'], 1)} | {fmt(start['ready_max_ms'], 1)} "
                       f"| {fmt(start['idle_rss_kb'] / 1024, 1)} |")
    out.append("")

    if modbus:
        out.append("## Modbus TCP: 4 clients, FC03 of the 125-register meter block (300..424), unit 1 (medians)")
        out.append("")
        out.append("| server | requests/s | p50 µs | p90 µs | p99 µs | CPU µs/request |")
        out.append("| --- | ---: | ---: | ---: | ---: | ---: |")
        for server, label in (("daemon", "cs-companiond"), ("pymodbus", "pymodbus (peer)")):
            r = modbus.get(server)
            if not r:
                continue
            lat = r["latency_us"]
            out.append(f"| {label} | {fmt(r['requests_per_s'])} | {fmt(lat['p50'])} | {fmt(lat['p90'])} "
                       f"| {fmt(lat['p99'])} | {fmt(r['cpu'], 1)} |")
        out.append("")

    if validator:
        out.append("## Validator alone (bench-validator, one thread)")
        out.append("")
        out.append(f"- answer of {validator['payload_bytes']} bytes, compiled `cs_status_and_limits.response` schema, format asserted")
        out.append(f"- `isValid`: {fmt(validator['is_valid_per_s'])}/s; `validate` (collects errors): "
                   f"{fmt(validator['validate_per_s'])}/s; envelope + schema + serialize (the daemon's outgoing step): "
                   f"{fmt(validator['envelope_validate_serialize_per_s'])}/s")
        out.append("")

    callgrind = next((r["result"] for r in records if r["kind"] == "callgrind"), None)
    if callgrind:
        out.append("## Instructions per message (valgrind --tool=callgrind, 1 in flight, start-up not counted)")
        out.append("")
        out.append(f"- cs-companiond: {fmt(callgrind['daemon_ir_per_message'])} instructions per round trip; "
                   f"the C limit: {fmt(callgrind['limit_ir_per_message'])}")
        out.append("")
        out.append("| step of the daemon (inclusive) | instructions per message |")
        out.append("| --- | ---: |")
        for step, value in sorted(callgrind["daemon_steps"].items(), key=lambda item: -item[1]):
            out.append(f"| {step} | {fmt(value)} |")
        out.append("")

    if rss:
        out.append("## cs-companiond memory at the end of its runs (/proc/<pid>/smaps_rollup)")
        out.append("")
        out.append(f"threads: {rss['threads']}")
        out.append("")
        out.append("```")
        out.extend(line for line in rss["smaps_rollup"].splitlines()
                   if line.split(":")[0] in ("Rss", "Pss", "Pss_Anon", "Pss_File", "Shared_Clean", "Private_Clean",
                                             "Private_Dirty", "Anonymous"))
        out.append("```")
        out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
