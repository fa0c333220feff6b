#!/usr/bin/env python3
"""bench/report.py: turns the records of scripts/bench.sh (JSON lines) into the Markdown report:
the round-trip table, the ratios against the targets of issue 6, READY times, Modbus, the validator
alone and the daemon's memory.

    report.py RECORDS.jsonl --machine TEXT --settings TEXT
"""
import argparse
import datetime
import json
import statistics

RESPONDERS = [("daemon", "cs-companiond"), ("c-limit", "C limit"), ("python-peer", "Python peer")]
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
    figures["answered"] = sum(run["load"]["answered"] for run in runs)
    figures["requests"] = sum(run["load"]["requests"] for run in runs)
    return figures


def ratio(a, b):
    return a / b if a is not None and b else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("records")
    parser.add_argument("--machine", default="")
    parser.add_argument("--settings", default="")
    arguments = parser.parse_args()
    records = [json.loads(line) for line in open(arguments.records, encoding="utf-8") if line.strip()]

    starts = {}
    for name, _ in RESPONDERS:
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
    out.append("- each round runs the three responders one after another; figures are medians over the rounds")
    out.append("")
    out.append("## Josev round trip: cs_status_and_limits request → response")
    out.append("")
    out.append("| responder | mode | QoS | p50 µs | p90 µs | p99 µs | msgs/s | CPU µs/msg | peak RSS MB |")
    out.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, label in RESPONDERS:
        for mode, qos in ROWS:
            f = table[(name, mode, qos)]
            if f is None:
                out.append(f"| {label} | {mode} | {qos} | no run | | | | | |")
                continue
            hwm = fmt(f["hwm_mb"], 1) if mode == "throughput" else "—"
            out.append(
                f"| {label} | {mode} | {qos} | {fmt(f['p50'])} | {fmt(f['p90'])} | {fmt(f['p99'])} | {fmt(f['rate'])} "
                f"| {fmt(f['cpu'], 1)} | {hwm} |")
    out.append("")

    def figure(name, mode, qos, key):
        f = table.get((name, mode, qos))
        return f[key] if f else None

    targets = []
    for qos in (1, 0):
        suffix = "" if qos == 1 else " (QoS 0, no target)"
        check = qos == 1
        targets.append((f"p50 round trip daemon / limit{suffix}",
                        ratio(figure("daemon", "latency", qos, "p50"), figure("c-limit", "latency", qos, "p50")),
                        "≤ 1.25" if check else "", (lambda v: v <= 1.25) if check else None, 2))
        targets.append((f"throughput daemon / limit{suffix}",
                        ratio(figure("daemon", "throughput", qos, "rate"), figure("c-limit", "throughput", qos, "rate")),
                        "≥ 0.8" if check else "", (lambda v: v >= 0.8) if check else None, 2))
        targets.append((f"throughput daemon / Python peer{suffix}",
                        ratio(figure("daemon", "throughput", qos, "rate"), figure("python-peer", "throughput", qos, "rate")),
                        "≥ 5" if check else "", (lambda v: v >= 5) if check else None, 1))
    targets.append(("CPU per message daemon / limit (throughput, QoS 1)",
                    ratio(figure("daemon", "throughput", 1, "cpu"), figure("c-limit", "throughput", 1, "cpu")), "", None, 1))
    hwm = max([figure("daemon", "throughput", q, "hwm_mb") or 0 for q in (1, 0)]) or None
    targets.append(("daemon peak RSS during the throughput runs, MB", hwm, "≤ 16", lambda v: v <= 16, 1))
    ready = starts.get("daemon", {}).get("ready_ms")
    targets.append(("daemon READY=1 after exec, ms (median of its starts)", ready, "≤ 100", lambda v: v <= 100, 1))
    if validator:
        targets.append(("validator alone, cs_status_and_limits answers/s (one thread)", validator["is_valid_per_s"],
                        "≥ 200 000", lambda v: v >= 200000, 0))
    if "daemon" in modbus and "pymodbus" in modbus:
        targets.append(("Modbus requests/s daemon / pymodbus",
                        ratio(modbus["daemon"]["requests_per_s"], modbus["pymodbus"]["requests_per_s"]),
                        "≥ 5", lambda v: v >= 5, 1))
    out.append("## Ratios and targets (issue 6)")
    out.append("")
    out.append("| figure | measured | target | met |")
    out.append("| --- | ---: | --- | --- |")
    for label, value, target, test, digits in targets:
        met = "" if test is None or value is None else ("yes" if test(value) else "**no**")
        out.append(f"| {label} | {fmt(value, digits)} | {target} | {met} |")
    out.append("")

    out.append("## Start-up (READY=1 on $NOTIFY_SOCKET, from just before the exec) and idle RSS")
    out.append("")
    out.append("| responder | starts | READY ms (median) | READY ms (max) | RSS after READY MB |")
    out.append("| --- | ---: | ---: | ---: | ---: |")
    for name, label in RESPONDERS:
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
