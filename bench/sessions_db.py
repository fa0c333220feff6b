#!/usr/bin/env python3
"""bench/sessions_db.py: fills the daemon's database (created by the daemon itself, so the schema and
its migrations are the real ones) with COUNT completed charging sessions spread over DAYS days up to
now, in one transaction, as the session recorder writes them: one charging period and one parking
period per session, with the dimensions the recorder stores (ENERGY, ENERGY_IMPORT, ENERGY_EXPORT,
POWER, MIN_POWER, MAX_POWER, PARKING_TIME). Deterministic (seeded). Prints one JSON object: the
sessions written, the newest start, a --since value one week before it and how many sessions
changed at or after it.

    sessions_db.py DATABASE EVSE_ID [COUNT] [DAYS]
"""
import datetime
import json
import random
import sqlite3
import sys
import time
import uuid


def main():
    path, evse_id = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    days = float(sys.argv[4]) if len(sys.argv) > 4 else 365
    rng = random.Random(20)
    now_ms = int(time.time() * 1000)
    span_ms = int(days * 86400 * 1000)
    # Starts spread over the span (sorted: one EVSE, one session after the other), the newest an hour ago.
    starts = sorted(now_ms - 3_600_000 - rng.randrange(span_ms) for _ in range(count))
    database = sqlite3.connect(path)
    database.execute("PRAGMA foreign_keys = ON")
    begun = time.monotonic()
    sessions, periods, dimensions = [], [], []
    meter_wh = 1_250_000.0
    period_id = database.execute("SELECT COALESCE(MAX(id), 0) FROM charging_periods").fetchone()[0]
    for start in starts:
        session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        charging_s = rng.randint(20 * 60, 8 * 3600)
        parking_s = rng.randint(0, 3 * 3600)
        power_kw = rng.choice((3.7, 7.4, 11.0, 11.0, 22.0)) * rng.uniform(0.6, 1.0)
        wanted_kwh = rng.uniform(3, 75)  # what the car takes; the charging period ends when it is full
        charging_s = min(charging_s, int(wanted_kwh / power_kw * 3600) + 60)
        kwh = round(power_kw * charging_s / 3600, 3)
        stop = start + (charging_s + parking_s) * 1000
        token_type = rng.choices(("ISO14443", "e_maid", "central"), weights=(80, 15, 5))[0]
        token_uid = f"{rng.getrandbits(32):08X}" if token_type == "ISO14443" else f"DE8AC{rng.getrandbits(36):09X}"
        contract_id = f"DE-8AC-C{rng.getrandbits(32):08X}-{rng.randint(0, 9)}" if token_type == "e_maid" else None
        auth = {"ISO14443": "WHITELIST", "e_maid": "AUTH_REQUEST", "central": "COMMAND"}[token_type]
        sessions.append((session_id, evse_id, 1, str(uuid.UUID(int=rng.getrandbits(128), version=4)), token_uid, token_type,
                         contract_id, auth, "COMPLETED", start, stop, meter_wh, meter_wh + kwh * 1000,
                         meter_wh + kwh * 1000, kwh, stop, 0))
        period_id += 1
        periods.append((period_id, session_id, start))
        dimensions.extend([(period_id, "ENERGY", kwh), (period_id, "ENERGY_IMPORT", kwh), (period_id, "ENERGY_EXPORT", 0.0),
                           (period_id, "POWER", round(power_kw, 3)), (period_id, "MIN_POWER", round(power_kw * 0.9, 3)),
                           (period_id, "MAX_POWER", round(power_kw * 1.02, 3)), (period_id, "PARKING_TIME", 0.0)])
        if parking_s:
            period_id += 1
            periods.append((period_id, session_id, start + charging_s * 1000))
            dimensions.extend([(period_id, "ENERGY", 0.0), (period_id, "ENERGY_IMPORT", 0.0),
                               (period_id, "ENERGY_EXPORT", 0.0), (period_id, "POWER", 0.0),
                               (period_id, "PARKING_TIME", round(parking_s / 3600, 6))])
        meter_wh += kwh * 1000
    with database:
        database.executemany(
            "INSERT INTO sessions (id, evse_id, connector_id, transaction_id, token_uid, token_type, contract_id, auth_method,"
            " status, start_ms, stop_ms, energy_start_wh, energy_last_wh, energy_stop_wh, kwh, last_update_ms,"
            " closed_by_recovery) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", sessions)
        database.executemany("INSERT INTO charging_periods (id, session_id, start_ms) VALUES (?, ?, ?)", periods)
        database.executemany("INSERT INTO period_dimensions (period_id, type, volume) VALUES (?, ?, ?)", dimensions)
    database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    newest = starts[-1]
    since_ms = (newest // 1000 - 7 * 86400) * 1000
    changed = database.execute("SELECT COUNT(*) FROM sessions WHERE last_update_ms >= ?", (since_ms,)).fetchone()[0]
    total = database.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
    database.close()
    since = datetime.datetime.fromtimestamp(since_ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(json.dumps({"sessions": total, "periods": len(periods), "dimensions": len(dimensions),
                      "oldest_start_ms": starts[0], "newest_start_ms": newest, "since": since,
                      "since_matches": changed, "fill_s": round(time.monotonic() - begun, 2)}))


if __name__ == "__main__":
    main()
