#!/usr/bin/env bash
# make demo, act "energy meter": an Eastron SDM630 simulator (scripts/meter-sim.py) on one end of
# a socat pty pair, cs-companiond reading it over Modbus RTU (libmodbus) on the other, beside the
# simulated EV; a session; then the meter unplugged: what Josev and the journal see; then back.
# Usage: scripts/demo-meters.sh BIN_DIR MQTT_PORT WORK_DIR (called by scripts/demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1 port=$2 work=$3/meters
mkdir -p "$work"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
evse="DE*PNX*E12345*1"

socat pty,raw,echo=0,link="$work/meter" pty,raw,echo=0,link="$work/bus" 2> "$work/socat.log" &
pids+=($!)
for _ in $(seq 50); do [ -e "$work/meter" ] && [ -e "$work/bus" ] && break; sleep 0.1; done
echo '{"amps": 16}' > "$work/control.json"
python3 scripts/meter-sim.py --port "$work/meter" --unit 11 --serial 22123456 --import-kwh 1234.5 --control "$work/control.json" \
  > "$work/sim.log" 2>&1 &
sim=$!
pids+=($sim)
cat > "$work/cs-companiond.yaml" <<YAML
station: { serial_number: "CSC-METER-0001", vendor: "Example Charging GmbH", model: "Wallbox AC22", firmware_version: "1.4.2", hardware_version: "B" }
mqtt: { host: 127.0.0.1, port: $port, client_id: cs-meter-demo, keepalive: 30 }
evses:
  - evse_id: "$evse"
    network_interface: eth1
    ac: { nominal_voltage: 230, max_current: 32, phases: 3 }
    connectors: [ { id: 1, connector_type: AC_three_phase_core } ]
authorization: { free_vend: true }
hardware:
  driver: simulated
  buses:
    - { name: rs485-1, port: $work/bus, baud: 9600, parity: none, stop_bits: 1, response_timeout: 0.5, gap: 0.02 }
  meters:
    - { evse_id: "$evse", bus: rs485-1, unit_id: 11, profile: eastron_sdm630, poll_interval: 1,
        offline_after_failed_cycles: 2, expect_serial: "22123456" }
YAML
echo "== Energy meter: an SDM630 simulator on a pty, read over Modbus RTU (libmodbus) beside the simulated EV"
"$BIN/cs-companiond" --check-config --config "$work/cs-companiond.yaml" --schema-dir schemas
mosquitto_sub -h 127.0.0.1 -p "$port" -t cs/josev > "$work/updates.txt" &
pids+=($!)
"$BIN/cs-companiond" --config "$work/cs-companiond.yaml" --schema-dir schemas --state-dir "$work/state" \
  --control-socket "$work/control.sock" 2> "$work/daemon.log" &
pids+=($!)
for _ in $(seq 100); do grep -q "ready" "$work/daemon.log" 2>/dev/null && break; sleep 0.1; done
sleep 1.5
"$BIN/cs-companion" plug --socket "$work/control.sock" --evse "$evse"
"$BIN/josev-sim" ask cp_pwm --host 127.0.0.1 --port "$port" --schema-dir schemas --compact \
  --data "{\"evse_id\":\"$evse\",\"hlc\":false,\"current\":16,\"error_state\":false,\"fault_state\":false}" > /dev/null
"$BIN/cs-companion" ev --socket "$work/control.sock" --evse "$evse" 10
echo "== the EV draws 10 A in the simulation; meter_values is the meter's (16 A per phase, its own register):"
"$BIN/josev-sim" ask meter_values --host 127.0.0.1 --port "$port" --schema-dir schemas --compact \
  --data "{\"evse_id\":\"$evse\",\"timestamp\":\"2026-12-06T10:00:00.000Z\"}" | sed 's/^/   /'
echo "== cs-companion hardware check"
"$BIN/cs-companion" hardware check --socket "$work/control.sock" | sed 's/^/   /'
echo "== the meter is unplugged (the simulator stops answering)"
kill "$sim"
sleep 3.5
echo "== what Josev received: hardware_fault and the EVSE's status"
grep -E '"(hardware_fault|cs_contactor_status)"' "$work/updates.txt" | sed 's/^/   /'
grep '"cs_status_and_limits","type":"update"' "$work/updates.txt" | tail -1 \
  | python3 -c 'import json,sys; m=json.loads(sys.stdin.read()); print("   cs_status_and_limits:", m["data"]["evses"][0]["status_code"])'
echo "== meter_values now: no answer (unknown is never sent as 0 V / 0 A / 0 W)"
"$BIN/josev-sim" ask meter_values --host 127.0.0.1 --port "$port" --schema-dir schemas --compact --timeout 2 \
  --data "{\"evse_id\":\"$evse\",\"timestamp\":\"2026-12-06T10:00:00.000Z\"}" 2>&1 | sed 's/^/   /' || true
echo "== cs-companion status and hardware check (exit 1):"
"$BIN/cs-companion" status --socket "$work/control.sock" | tail -2 | sed 's/^/   /'
"$BIN/cs-companion" hardware check --socket "$work/control.sock" | tail -1 | sed 's/^/   /' || true
echo "== the meter plugged in again"
python3 scripts/meter-sim.py --port "$work/meter" --unit 11 --serial 22123456 --import-kwh 1234.6 --control "$work/control.json" \
  >> "$work/sim.log" 2>&1 &
pids+=($!)
sleep 2.5
"$BIN/cs-companion" status --socket "$work/control.sock" | tail -2 | sed 's/^/   /'
echo "== cs-companiond log (what the journal shows), meter lines:"
grep -iE "meter" "$work/daemon.log" | sed 's/^/   /'
