#!/usr/bin/env bash
# make demo, act "board": the safety controller over a serial line. socat makes a pty pair,
# board-sim plays a two-port phyVERSO MCU on one end, cs-companiond (hardware.driver: board)
# drives it from the other: a whole AC session through the MCU protocol, then a welded contactor
# on port 1 and an RCD trip on port 2, with what Josev (cs/josev) and the journal see, and
# `cs-companion hardware check`. Needs socat, mosquitto, mosquitto_sub; stops everything at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
BIN=$(swift build --show-bin-path)
work=$(mktemp -d /tmp/cs-companion-board.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  exec 7>&- 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(free_port)
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" > "$work/mosquitto.conf"
"$mosquitto_bin" -c "$work/mosquitto.conf" 2> /dev/null &
pids+=($!)
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

socat pty,raw,echo=0,link="$work/mcu" pty,raw,echo=0,link="$work/host" 2> /dev/null &
pids+=($!)
for _ in $(seq 50); do [ -e "$work/mcu" ] && [ -e "$work/host" ] && break; sleep 0.1; done
mkfifo "$work/sim.stdin"
exec 7<> "$work/sim.stdin"
"$BIN/board-sim" --port "$work/mcu" --connectors 2 < "$work/sim.stdin" 2> "$work/board-sim.log" &
pids+=($!)
sim() { echo "$*" >&7; }
echo "== act board: board-sim plays a 2-port phyVERSO MCU on $work/mcu; the daemon opens $work/host"

cat > "$work/board.yaml" <<YAML
station: { serial_number: "CSC-BOARD-0001", vendor: "Example", model: "Wallbox AC22 x2", firmware_version: "1.4.2", hardware_version: "B" }
mqtt: { host: 127.0.0.1, port: $port }
evses:
  - evse_id: "DE*PNX*E12345*1"
    network_interface: eth1
    ac: { nominal_voltage: 230, max_current: 32, phases: 3 }
    connectors: [{ id: 1, connector_type: AC_three_phase_core, control_mode: dynamic }]
  - evse_id: "DE*PNX*E12345*2"
    network_interface: eth1
    ac: { nominal_voltage: 230, max_current: 32, phases: 3 }
    connectors: [{ id: 1, connector_type: AC_three_phase_core, control_mode: dynamic }]
hardware:
  driver: board
  board:
    port: $work/host
    baud: 115200
    protocol: phyverso
    keepalive_interval: 1
    link_timeout: 5
    connectors:
      - { evse_id: "DE*PNX*E12345*1", mcu_connector: 1, contactor_feedback: nc, lock: motor }
      - { evse_id: "DE*PNX*E12345*2", mcu_connector: 2, contactor_feedback: nc, lock: none }
authorization: { local_tokens: ["CAFE"] }
YAML
mosquitto_sub -h 127.0.0.1 -p "$port" -t cs/josev > "$work/josev.txt" &
pids+=($!)
"$BIN/cs-companiond" --config "$work/board.yaml" --state-dir "$work/state" --schema-dir schemas \
  --control-socket "$work/control.sock" 2> "$work/daemon.log" &
pids+=($!)
for _ in $(seq 100); do [ -S "$work/control.sock" ] && break; sleep 0.1; done
ctl() { "$BIN/cs-companion" "$@" --socket "$work/control.sock"; }
ask() { "$BIN/josev-sim" ask "$1" --host 127.0.0.1 --port "$port" --schema-dir schemas --compact --data "$2"; }

start_session() { # evse, mcu port
  sim plug 32 "$2"; sleep 0.3
  ask cp_pwm "{\"evse_id\":\"$1\",\"hlc\":false,\"current\":16,\"error_state\":false,\"fault_state\":false}" > /dev/null
  ctl rfid --evse "$1" CAFE > /dev/null
  sim ev-ready "$2"; sleep 1
}

echo "== a whole AC session on port 1: plug, PWM 16 A, card, EV ready → lock, coil confirmed"
start_session "DE*PNX*E12345*1" 1
ctl status
ctl hardware check || true
echo "== Josev stops charging: the coil opens (confirmed), the socket unlocks"
ask stop_charging '{"evse_id":"DE*PNX*E12345*1"}'
sleep 0.5
echo "== welded contactor on port 1: the EV asks again, the coil closes, stop → its feedback stays closed"
sim fault welded on
ask cp_pwm '{"evse_id":"DE*PNX*E12345*1","hlc":false,"current":16,"error_state":false,"fault_state":false}' > /dev/null
ctl rfid --evse "DE*PNX*E12345*1" CAFE > /dev/null
sleep 1
ask stop_charging '{"evse_id":"DE*PNX*E12345*1"}' > /dev/null
sleep 3
sim fault welded off
echo "== RCD trip on port 2 while charging: the MCU opens the contactor by itself"
start_session "DE*PNX*E12345*2" 2
sim rcd-trip 2; sleep 1
ctl status
ctl hardware check || echo "(hardware check exits $? : something is wrong, as it should say)"
echo "== what Josev saw (cs_contactor_status, hardware_fault):"
grep -E '"(cs_contactor_status|hardware_fault)","type":"update"' "$work/josev.txt" \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m=json.loads(line); d=m["data"]; print("  ", m["name"], d["evse_id"], d.get("status") or d.get("fault_name"))'
echo "== the journal (cs-companiond), board and fault lines:"
grep -E "board|fault|contactor|lock" "$work/daemon.log" | sed 's/^/   /'
echo "== board-sim:"
sed 's/^/   /' "$work/board-sim.log" | tail -25
echo "== act board finished"
