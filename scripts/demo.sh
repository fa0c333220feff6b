#!/usr/bin/env bash
# make demo: a private mosquitto on a free loopback port, cs-companiond with the example
# configuration, and josev-sim asking what Josev asks at start-up, a charging session (pushed live
# to the test eMSP, scripts/test-emsp.py, over OCPI 2.2.1), a
# configuration-key change and a reservation from the back office; then a live limit change
# (SIGHUP reload) that reaches Josev as a cs_status_and_limits update; then the back office
# (josev-sim --scenario back-office: configuration change, reservation, a signed firmware update
# from a local HTTP server, a log upload to a local upload server); then load management with
# gridbox-sim; then the board act (scripts/demo-board.sh: the safety controller over a pty).
# Stops everything at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
BIN=$(swift build --show-bin-path)
start_workdir demo

port=$(free_port)
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

# The test eMSP (scripts/test-emsp.py): the sessions are pushed to it live over OCPI 2.2.1.
emsp_port=$(free_port)
python3 -u scripts/test-emsp.py --port "$emsp_port" --record "$work/emsp.jsonl" --token demo-token > "$work/emsp.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$emsp_port) 2>/dev/null && break; sleep 0.1; done
echo "== test eMSP (OCPI 2.2.1 Sessions receiver) on 127.0.0.1:$emsp_port"
(umask 077; echo demo-token > "$work/ocpi-token")

cp etc/cs-companiond.yaml "$work/cs-companiond.yaml"
cat >> "$work/cs-companiond.yaml" <<YAML

ocpi:
  push: true
  base_url: "http://127.0.0.1:$emsp_port/ocpi/2.2.1"
  country_code: "DE"
  party_id: "CSC"
  location_id: "LOC1"
  currency: "EUR"
  token_file: $work/ocpi-token
YAML
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

echo "== the session as the eMSP received it, live (PUT at the start, PATCH per new period, PUT at the end)"
for _ in $(seq 100); do grep -q '"COMPLETED"' "$work/emsp.jsonl" 2>/dev/null && break; sleep 0.1; done
python3 - "$work/emsp.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    b = r["body"]
    periods = b.get("charging_periods", [])
    last = {d["type"]: d["volume"] for d in periods[-1]["dimensions"]} if periods else {}
    print("   %-5s %s  status %-9s kwh %-6s periods %d  last period %s" % (
        r["method"], r["path"].rsplit("/", 1)[-1][:8], b.get("status", "-"), b.get("kwh", "-"), len(periods), last))
PY

echo "== Back office: a configuration key changed through OCPP (set_variable_validate → applied, device_model_update)"
"$BIN/josev-sim" ask set_variable_validate --host 127.0.0.1 --port "$port" --schema-dir schemas --compact \
  --data '{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"},"attribute_value":"120"}'
echo "== ... a second change before Josev confirmed the first is refused (pacing), and so is a read-only key"
"$BIN/cs-companion" config set OCPPCommCtrlr.HeartbeatInterval 60 --socket "$work/control.sock" || true
"$BIN/cs-companion" config set ChargingStation.Model X --socket "$work/control.sock" || true
"$BIN/cs-companion" config pending --socket "$work/control.sock"
echo "== cs-companion config history"
"$BIN/cs-companion" config history --socket "$work/control.sock"

echo "== Back office: a reservation (connector_and_charging reserved → the plug-in waits for Josev's authorization)"
"$BIN/josev-sim" session --scenario reservation --host 127.0.0.1 --port "$port" --schema-dir schemas \
  --control-socket "$work/control.sock"

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

echo
echo "== Back office: a configuration change, a reservation, a firmware update and a log upload (josev-sim --scenario back-office)"
wait_port() { for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "nothing listens on $1"; return 1; }
bo="$work/backoffice"
mkdir -p "$bo/www" "$bo/uploads"
# A throwaway signing key and certificate, a dummy 1 MiB image and its SHA-256 signature.
openssl req -x509 -nodes -newkey rsa:2048 -keyout "$bo/signer.key" -out "$bo/signer.crt" -days 2 \
  -subj "/CN=cs-companion demo firmware signer" 2> /dev/null
head -c 1048576 /dev/urandom > "$bo/www/cs-companion-2.0.0.img"
openssl dgst -sha256 -sign "$bo/signer.key" -out "$bo/cs-companion-2.0.0.img.sig" "$bo/www/cs-companion-2.0.0.img"
echo "   image: $(wc -c < "$bo/www/cs-companion-2.0.0.img") bytes, signed with a throwaway RSA-2048 key ($(openssl x509 -in "$bo/signer.crt" -noout -subject))"
# The back office's file server (the image) and its upload server (the logs).
www_port=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$bo/www" "$www_port" > "$bo/www.log" 2>&1 &
pids+=($!)
upload_port=$(free_port)
python3 scripts/demo-upload-server.py --port "$upload_port" --directory "$bo/uploads" > "$bo/uploads.log" 2>&1 &
pids+=($!)
wait_port "$www_port"
wait_port "$upload_port"
echo "   file server http://127.0.0.1:$www_port/, upload server http://127.0.0.1:$upload_port/logs/"
# No journald here: the first daemon's log becomes a real journal file (systemd-journal-remote),
# read through logs.journal_directory by the same sd-journal code as on a board.
journal_remote=$(command -v systemd-journal-remote || ls /lib/systemd/systemd-journal-remote /usr/lib/systemd/systemd-journal-remote 2> /dev/null | head -1)
mkdir -p "$bo/journal"
python3 scripts/demo-journal.py "$work/daemon.log" > "$bo/daemon.export"
"$journal_remote" -o "$bo/journal/remote.journal" "$bo/daemon.export" 2> "$bo/journal-remote.log"
echo "   journal: $(grep -c '^MESSAGE=' "$bo/daemon.export") entries of the first daemon in $bo/journal/remote.journal"
cp etc/cs-companiond.yaml "$bo/cs-companiond.yaml"
cat >> "$bo/cs-companiond.yaml" <<CONF

firmware:
  install_command: ["$PWD/scripts/demo-firmware-install.sh", "{image}"]
  install_timeout: 60
  connect_timeout: 5
logs:
  journal_directory: $bo/journal
CONF
"$BIN/cs-companiond" --config "$bo/cs-companiond.yaml" --mqtt-host 127.0.0.1 --mqtt-port "$port" \
  --state-dir "$bo/state" --schema-dir schemas --control-socket "$bo/control.sock" 2> "$bo/daemon.log" &
bo_daemon=$!
pids+=($bo_daemon)
for _ in $(seq 100); do grep -q "ready" "$bo/daemon.log" 2>/dev/null && break; sleep 0.1; done
echo "== cs-companiond with firmware: and logs: blocks is up (pid $bo_daemon)"
"$BIN/josev-sim" session --scenario back-office --host 127.0.0.1 --port "$port" --schema-dir schemas \
  --control-socket "$bo/control.sock" --firmware-url "http://127.0.0.1:$www_port/cs-companion-2.0.0.img" \
  --firmware-signature-file "$bo/cs-companion-2.0.0.img.sig" --signing-certificate-file "$bo/signer.crt" \
  --log-upload-url "http://127.0.0.1:$upload_port/logs/" | tee "$bo/transcript.txt"
echo "== the back office's view:"
echo "   verdict:         $(grep -E '^(PASS|FAIL) back-office' "$bo/transcript.txt")"
statuses() { grep "← $1 update" "$bo/transcript.txt" | sed -E 's/.* status=([a-z_]+).*/\1/' | paste -sd' ' | sed 's/ / → /g'; }
echo "   firmware_status: $(statuses firmware_status)"
echo "   logs_status:     $(statuses logs_status)"
echo "   upload server:   $(cat "$bo/uploads.log")"
for file in "$bo/uploads"/*; do
  echo "   uploaded log:    $(basename "$file"), $(wc -c < "$file") bytes gzip, $(gzip -dc "$file" | wc -l) lines; its last lines:"
  gzip -dc "$file" | tail -3 | sed 's/^/      /'
done
echo "   the install command's output ($(basename "$(ls "$bo/state/firmware/"*.install.log)")):"
sed 's/^/      /' "$bo/state/firmware/"*.install.log
echo "== cs-companiond (back office) log, its back-office lines:"
grep -E "firmware|upload|reserv|applied|rejected|confirmed|announced" "$bo/daemon.log" | sed 's/^/   /'
kill -TERM "$bo_daemon"
wait "$bo_daemon" || true

echo
echo "== Load management: a twin station (two AC EVSEs, 32 A each) behind a 40 A site limit"
modbus_port=$(free_port)
http_port=$(free_port)
twin_station_config "CSC-TWIN-0001" "$port" "$modbus_port" > "$work/twin.yaml"
"$BIN/cs-companiond" --config "$work/twin.yaml" --schema-dir schemas --state-dir "$work/state2" \
  --control-socket "$work/twin.sock" 2> "$work/twin.log" &
twin=$!
pids+=($twin)
for _ in $(seq 100); do grep -q "ready" "$work/twin.log" 2>/dev/null && break; sleep 0.1; done
mosquitto_sub -h 127.0.0.1 -p "$port" -t cs/josev > "$work/twin-updates.txt" &
pids+=($!)
for evse in "DE*PNX*E00001*1" "DE*PNX*E00002*1"; do
  "$BIN/cs-companion" plug --socket "$work/twin.sock" --evse "$evse"
  "$BIN/josev-sim" ask cp_pwm --host 127.0.0.1 --port "$port" --schema-dir schemas --compact \
    --data "{\"evse_id\":\"$evse\",\"hlc\":false,\"current\":32,\"error_state\":false,\"fault_state\":false}" > /dev/null
  "$BIN/cs-companion" ev --socket "$work/twin.sock" --evse "$evse" 32
done
echo "== the EVs start at the safe current (6 A) until the gridBox writes a setpoint"
"$BIN/cs-companion" status --socket "$work/twin.sock"
"$BIN/gridbox-sim" --station "127.0.0.1:$modbus_port" --site-limit 40 --interval 1 --http-port "$http_port" --cycles 8 \
  > "$work/gridbox.txt" 2> "$work/gridbox.log" &
gridbox=$!
pids+=($gridbox)
sleep 3
echo "== gridbox-sim shares 40 A equally:"
awk 'BEGIN{RS=""} {last=$0} END{print last}' "$work/gridbox.txt"
echo "== priority 5 for connector 1 through the HTTP API (PUT /evcs-user-priorities):"
curl -s -X PUT -H 'Content-Type: application/json' --data '{"serial_number":"CSC-TWIN-0001","connector":1,"priority":5}' \
  "http://127.0.0.1:$http_port/evcs-user-priorities"; echo
sleep 3
echo "== gridbox-sim gives connector 1 its maximum, connector 2 the rest:"
awk 'BEGIN{RS=""} {last=$0} END{print last}' "$work/gridbox.txt"
wait "$gridbox" || true
echo "== the cs_status_and_limits updates Josev received (offered A per phase for each EVSE):"
grep '"cs_status_and_limits","type":"update"' "$work/twin-updates.txt" \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m=json.loads(line); print("  ", ", ".join("%s %.1f A" % (e["evse_id"], e["ac"]["max_current"]["l1"]) for e in m["data"]["evses"]))'
echo "== cs-companiond (twin) log, Modbus lines:"
grep -E "Modbus" "$work/twin.log" | sed 's/^/   /'
echo
scripts/demo-meters.sh "$BIN" "$port" "$work"
echo
scripts/demo-board.sh
echo "== demo finished"
