#!/usr/bin/env bash
# make demo: a private mosquitto on a free loopback port, cs-companiond with the example
# configuration, and josev-sim asking what Josev asks at start-up; then a live limit change
# (SIGHUP reload) that reaches Josev as a cs_status_and_limits update. Stops everything at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build --show-bin-path)
work=$(mktemp -d /tmp/cs-companion-demo.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
cat > "$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
set_tcp_nodelay true
log_dest file $work/mosquitto.log
CONF
"$mosquitto_bin" -c "$work/mosquitto.conf" &
pids+=($!)
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
echo "== mosquitto listening on 127.0.0.1:$port"

cp etc/cs-companiond.yaml "$work/cs-companiond.yaml"
"$BIN/cs-companiond" --config "$work/cs-companiond.yaml" --mqtt-host 127.0.0.1 --mqtt-port "$port" \
  --state-dir "$work/state" --schema-dir schemas --control-socket "$work/control.sock" 2> "$work/daemon.log" &
daemon=$!
pids+=($daemon)
for _ in $(seq 100); do grep -q "ready" "$work/daemon.log" 2>/dev/null && break; sleep 0.1; done
echo "== cs-companiond is up (pid $daemon); its log so far:"
sed 's/^/   /' "$work/daemon.log"

echo "== josev-sim: start-up requests"
"$BIN/josev-sim" startup --host 127.0.0.1 --port "$port" --schema-dir schemas --compact

echo "== josev-sim: a whole AC session (ISO 15118-2, RFID card): Josev over MQTT, the EV over the control socket"
"$BIN/josev-sim" session --scenario ac-eim --host 127.0.0.1 --port "$port" --schema-dir schemas \
  --control-socket "$work/control.sock"

echo "== cs-companion status"
"$BIN/cs-companion" status --socket "$work/control.sock"

echo "== lowering max_current 32 A → 16 A in the configuration and reloading (SIGHUP)"
mosquitto_sub -h 127.0.0.1 -p "$port" -t cs/josev -C 1 -W 10 > "$work/update.json" &
sub=$!
sleep 0.3
sed -i 's/max_current: 32 /max_current: 16 /' "$work/cs-companiond.yaml"
kill -HUP "$daemon"
wait "$sub" || { echo "no update received"; exit 1; }
echo "== update received on cs/josev:"
cat "$work/update.json"
"$BIN/cs-companion" validate --schema-dir schemas "$work/update.json"

kill -TERM "$daemon"
wait "$daemon" || true
echo "== cs-companiond log:"
sed 's/^/   /' "$work/daemon.log"
echo "== demo finished"
