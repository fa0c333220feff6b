#!/usr/bin/env bash
# fleet-test.sh (make fleet-test): the station uplink (issue 17, point 5) carried by the shipped
# mosquitto bridge template to a clustered fleet broker, with failures in the middle.
#
#   cs-companiond (uplink: on) ──▶ station mosquitto (conf.d snippet + bridge template, persistence)
#        ──bridge, out only, QoS 1, cleansession false──▶ RabbitMQ node A ═cluster═ node B ◀── fleet consumer
#
# Debian's rabbitmq-server with its MQTT plugin, two nodes clustered on loopback (started as root from
# /usr/lib/rabbitmq/bin with their own directories and Erlang cookie under .build/fleet-test). josev-sim runs
# charging sessions one after the other; meanwhile node A (the bridge's first address) is stopped
# and later the station's broker is restarted. The consumer (paho, QoS 1, persistent session on
# node B) writes every message it receives; the figures (sent, received, duplicates, lost) go to
# .build/fleet-test/results.md, docs/FLEET.md holds one run. Exit 1 when a session is lost.
#
# Not in `make test` (it installs rabbitmq-server and takes minutes). The bridge speaks TLS with a
# client certificate to the nodes' TLS listeners (a throwaway CA made here); the consumer uses plain
# TCP. Not covered: a cluster of more than two nodes, a WAN with loss or latency.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export PATH=/opt/swift/usr/bin:$PATH
SESSIONS=${FLEET_SESSIONS:-12}
say() { echo "fleet-test: $*"; }

if ! command -v rabbitmq-server >/dev/null; then
  say "installing rabbitmq-server (Debian)"
  apt-get install -y rabbitmq-server >/dev/null
fi
PY=/usr/bin/python3
$PY -c 'import paho.mqtt.client' 2>/dev/null || apt-get install -y python3-paho-mqtt >/dev/null

swift build --product cs-companiond >/dev/null
swift build --product josev-sim >/dev/null
swift build --product cs-companion >/dev/null
BIN=$(swift build --show-bin-path)

work=$repo/.build/fleet-test
rm -rf "$work"
mkdir -p "$work"
chmod 0755 "$work"
pids=()
nodes=()
epmd_before=$(pgrep -x epmd || true)
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# --- the fleet: two RabbitMQ nodes, one cluster --------------------------------------------------------
export HOME=$work/home  # the Erlang cookie both nodes and rabbitmqctl share
mkdir -p "$HOME"
head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$HOME/.erlang.cookie"
chmod 0400 "$HOME/.erlang.cookie"
# A throwaway fleet CA: the nodes' server certificate (for 127.0.0.1) and the station's client
# certificate (CN = the serial), made with the openssl CLI.
serial=FLEET-$(date +%s)
certs=$work/certs
mkdir -p "$certs"
(
  cd "$certs"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out fleet-ca.pem -days 2 -subj "/CN=fleet test CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
  openssl x509 -req -in server.csr -CA fleet-ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$serial.key" -out client.csr -subj "/CN=$serial" 2>/dev/null
  openssl x509 -req -in client.csr -CA fleet-ca.pem -CAkey ca.key -CAcreateserial -out "$serial.crt" -days 2 2>/dev/null
  chmod 0644 ./*  # mosquitto drops root for its own user and must read them (a test CA only)
)
node_env() { # node_env NAME: the environment of one node
  local name=$1 dir=$work/$1
  echo RABBITMQ_NODENAME="$name@localhost" RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log" \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
    RABBITMQ_PID_FILE="$dir/pid" RABBITMQ_NODE_PORT="$(cat "$dir/amqp.port")" RABBITMQ_DIST_PORT="$(cat "$dir/dist.port")" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config" HOME="$HOME"
}
ctl() { local name=$1; shift; env HOME="$HOME" /usr/lib/rabbitmq/bin/rabbitmqctl -n "$name@localhost" "$@"; }
start_node() {
  local name=$1
  # shellcheck disable=SC2046
  env $(node_env "$name") /usr/lib/rabbitmq/bin/rabbitmq-server >"$work/$name/server.out" 2>&1 &
  echo $! >"$work/$name/server.pid"
  # await_startup needs the node registered with epmd first.
  for _ in $(seq 120); do ctl "$name" ping >/dev/null 2>&1 && break; sleep 0.5; done
  ctl "$name" await_startup --timeout 120 >/dev/null
}
for name in fleeta fleetb; do
  dir=$work/$name
  mkdir -p "$dir/mnesia" "$dir/log"
  free_port >"$dir/amqp.port"; free_port >"$dir/dist.port"; free_port >"$dir/mqtt.port"; free_port >"$dir/mqtts.port"
  echo '[rabbitmq_mqtt].' >"$dir/enabled_plugins"
  echo '[].' >"$dir/advanced.config"
  cat >"$dir/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$(cat "$dir/amqp.port")
mqtt.listeners.tcp.1 = 127.0.0.1:$(cat "$dir/mqtt.port")
mqtt.listeners.ssl.1 = 127.0.0.1:$(cat "$dir/mqtts.port")
ssl_options.cacertfile = $certs/fleet-ca.pem
ssl_options.certfile = $certs/server.pem
ssl_options.keyfile = $certs/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
mqtt.allow_anonymous = true
mqtt.default_user = guest
mqtt.default_pass = guest
loopback_users = none
log.file.level = warning
CONF
  nodes+=("$name")
done
cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for name in "${nodes[@]}"; do ctl "$name" stop >/dev/null 2>&1; done
  [[ -z $epmd_before ]] && pgrep -x epmd >/dev/null && epmd -kill >/dev/null 2>&1
  wait 2>/dev/null
}
trap cleanup EXIT
say "starting RabbitMQ $(dpkg-query -W -f '${Version}' rabbitmq-server) nodes fleeta and fleetb (MQTT on $(cat "$work/fleeta/mqtt.port") and $(cat "$work/fleetb/mqtt.port"))"
start_node fleeta
start_node fleetb
ctl fleetb stop_app >/dev/null
ctl fleetb join_cluster fleeta@localhost >/dev/null
ctl fleetb start_app >/dev/null
members=$(ctl fleeta cluster_status --formatter json | $PY -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["running_nodes"])))')
say "cluster running: $members"

# --- the fleet's consumer on node B ---------------------------------------------------------------------
cat >"$work/consumer.py" <<'PY'
import json, sys, time
import paho.mqtt.client as mqtt
port, out = int(sys.argv[1]), sys.argv[2]
log = open(out, "a", buffering=1)
def on_connect(client, userdata, flags, rc):
    client.subscribe([("cs-companion/+/sessions", 1), ("cs-companion/+/evse/+", 1), ("cs-companion/+/status", 1), ("cs-companion/+/jobs/+", 1)])
def on_message(client, userdata, message):
    log.write(json.dumps({"t": time.time(), "topic": message.topic, "dup": message.dup, "payload": message.payload.decode("utf-8", "replace")}) + "\n")
client = mqtt.Client(client_id="fleet-consumer", clean_session=False)
client.on_connect = on_connect
client.on_message = on_message
while True:  # node B's MQTT listener may come up a moment after start_app returns
    try:
        client.connect("127.0.0.1", port, 30)
        break
    except OSError:
        time.sleep(0.2)
client.loop_forever(retry_first_connection=True)
PY
$PY "$work/consumer.py" "$(cat "$work/fleetb/mqtt.port")" "$work/received.jsonl" 2>"$work/consumer.err" &
pids+=($!)

# --- the station: broker with the shipped snippet and bridge template, the daemon with the uplink ----------
station_port=$(free_port)
mkdir -p "$work/station" "$work/state"
chmod 0777 "$work/station"
{
  sed -e "s/^listener 1883 127.0.0.1/listener $station_port 127.0.0.1/" etc/mosquitto/cs-companion.conf
  echo "persistence true"
  echo "persistence_location $work/station/"
  echo "autosave_interval 1"
  # The template, its placeholders filled: TLS to the nodes' TLS listeners with the station's
  # client certificate (the nodes refuse a client without one).
  sed -e "s/<SERIAL>/$serial/g" \
      -e "s/^address .*/address 127.0.0.1:$(cat "$work/fleeta/mqtts.port") 127.0.0.1:$(cat "$work/fleetb/mqtts.port")/" \
      -e "s|/etc/mosquitto/certs/|$certs/|" \
      -e 's/^restart_timeout .*/restart_timeout 1 5/' \
      etc/mosquitto/cs-companion-bridge.conf.example
  echo "remote_username guest"
  echo "remote_password guest"
} >"$work/station/mosquitto.conf"
start_broker() {
  mosquitto -c "$work/station/mosquitto.conf" >>"$work/station/mosquitto.log" 2>&1 &
  broker=$!
  pids+=("$broker")
  for _ in $(seq 50); do $PY -c "import socket; socket.create_connection(('127.0.0.1', $station_port), 1)" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
start_broker
{
  sed -e "s/serial_number: .*/serial_number: \"$serial\"/" etc/cs-companiond.yaml | sed -e '/^mqtt:/,/^$/d' -e '/^state_directory:/d'
  cat <<CONF

mqtt: {host: 127.0.0.1, port: $station_port, client_id: cs-fleet}
state_directory: $work/state
control_socket: $work/control.sock
uplink:
  heartbeat_interval: 10
  session_scan_interval: 0.5
  ocpi: {country_code: DE, party_id: PNX, location_id: LOC1, currency: EUR}
CONF
} >"$work/cs-companiond.yaml"
"$BIN/cs-companiond" --config "$work/cs-companiond.yaml" --schema-dir schemas >"$work/daemon.log" 2>&1 &
daemon=$!
pids+=("$daemon")
for _ in $(seq 100); do [[ -S $work/control.sock ]] && break; sleep 0.1; done
evse=$(grep -m1 -oE 'evse_id: "[^"]+"' "$work/cs-companiond.yaml" | cut -d'"' -f2)
say "station $serial on port $station_port, EVSE $evse; $SESSIONS sessions; node fleeta stopped after $((SESSIONS / 3)), the station broker restarted after $((2 * SESSIONS / 3))"

# --- the stream of sessions, with the failures in the middle ---------------------------------------------------
ok=0
for i in $(seq 1 "$SESSIONS"); do
  if ((i == SESSIONS / 3 + 1)); then
    say "stopping cluster node fleeta (the bridge's first address)"
    ctl fleeta stop_app >/dev/null
  fi
  if ((i == 2 * SESSIONS / 3 + 1)); then
    say "restarting the station's broker"
    kill -TERM "$broker"; wait "$broker" 2>/dev/null || true
    start_broker
  fi
  "$BIN/cs-companion" unplug --socket "$work/control.sock" --evse "$evse" >/dev/null 2>&1 || true
  if timeout 120 "$BIN/josev-sim" session --scenario ac-eim --evse-id "$evse" --host 127.0.0.1 --port "$station_port" \
      --schema-dir schemas --control-socket "$work/control.sock" >>"$work/sessions.txt" 2>&1; then
    ok=$((ok + 1))
  fi
done
say "$ok of $SESSIONS josev-sim sessions completed"

# --- counting ------------------------------------------------------------------------------------------------
expected() { "$BIN/cs-companion" sessions --db "$work/state/cs-companion.db" --format json; }
count_lost() {
  expected | $PY -c '
import json, sys
stored = {r["id"]: r for r in json.load(sys.stdin) if r.get("stop") is not None}
got = set()
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m["topic"].endswith("/sessions"):
        s = json.loads(m["payload"])
        if s.get("status") == "COMPLETED": got.add(s["id"])
print(len(set(stored) - got))' "$work/received.jsonl" 2>/dev/null || echo unknown
}
deadline=$(($(date +%s) + 90))
until [[ $(count_lost) == 0 ]] || (($(date +%s) > deadline)); do sleep 1; done
kill -TERM "$daemon"; wait "$daemon" 2>/dev/null || true
sent=$(grep -oE 'uplink stopped \([0-9]+ messages' "$work/daemon.log" | grep -oE '[0-9]+' || echo "?")
expected >"$work/stored.json"
$PY - "$work/stored.json" "$work/received.jsonl" "$serial" "$sent" "$SESSIONS" "$ok" >"$work/results.md" <<'PY'
import json, sys, collections
stored = [r for r in json.load(open(sys.argv[1]))]
completed = {r["id"] for r in stored if r.get("stop") is not None}
received = [json.loads(l) for l in open(sys.argv[2])]
serial, sent, runs, ok = sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
by = collections.defaultdict(list)
for m in received: by[m["topic"].split("/", 2)[2].split("/")[0]].append(m)
sessions = [json.loads(m["payload"]) for m in by["sessions"]]
keys = collections.Counter((s["id"], s["last_updated"], s["status"], s.get("kwh")) for s in sessions)
duplicates = sum(n - 1 for n in keys.values() if n > 1)
got_completed = {s["id"] for s in sessions if s["status"] == "COMPLETED"}
lost = completed - got_completed
evse = by["evse"]
status = [m["payload"] for m in by["status"]]
print(f"| row | figure |")
print(f"|---|---|")
print(f"| station | {serial}, {runs} josev-sim sessions run, {ok} completed by josev-sim |")
print(f"| messages the uplink handed to the station broker | {sent} |")
print(f"| messages the fleet consumer received | {len(received)} (sessions {len(sessions)}, evse {len(evse)}, status {len(status)}, jobs {len(by['jobs'])}) |")
print(f"| sessions in the station's store (completed) | {len(stored)} ({len(completed)}) |")
print(f"| distinct sessions received / received COMPLETED | {len({s['id'] for s in sessions})} / {len(got_completed)} |")
print(f"| duplicate session messages (same id, last_updated, status, kWh) | {duplicates} |")
print(f"| **sessions lost** | **{len(lost)}** {sorted(lost) if lost else ''} |")
print(f"| status messages in order | {' → '.join(status)} |")
PY
cat "$work/results.md"
lost=$(grep -oE '\*\*sessions lost\*\* \| \*\*[0-9]+' "$work/results.md" | grep -oE '[0-9]+$')
if [[ $lost != 0 ]]; then say "FAIL: $lost session(s) lost"; exit 1; fi
say "no session lost"
