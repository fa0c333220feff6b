#!/usr/bin/env bash
# make bench: cs-companiond next to the physical limit (bench/responder.c) and the peer a user would
# pick (bench/responder.py, paho-mqtt + jsonschema), one after another behind the same private
# mosquitto (TCP_NODELAY), driven by the same load generator (bench/loadgen.c); the validator alone
# (bench-validator); the Modbus server next to a pymodbus server (bench/modbus_peer.py) under 4
# clients (bench/modbusload.c). Prints the table and writes it to bench/results/<date>.md.
#
# Exits non-zero only when a responder answers wrongly or not at all (never because of a figure).
#
# Knobs (environment): BENCH_REPEAT (rounds; medians reported; default 5),
# BENCH_LATENCY_REQUESTS (default 5000), BENCH_THROUGHPUT_REQUESTS (default 20000),
# BENCH_MODBUS_SECONDS (default 3), BENCH_RESULTS (output file), BENCH_DAEMON (another
# cs-companiond binary to measure instead of the one just built, e.g. an older commit's).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

REPEAT=${BENCH_REPEAT:-5}
LATENCY_REQUESTS=${BENCH_LATENCY_REQUESTS:-5000}
THROUGHPUT_REQUESTS=${BENCH_THROUGHPUT_REQUESTS:-20000}
MODBUS_SECONDS=${BENCH_MODBUS_SECONDS:-3}
TIMEOUT_S=10
RESULTS=${BENCH_RESULTS:-bench/results/$(date -u +%Y-%m-%d).md}
((LATENCY_REQUESTS >= 2000)) || { echo "bench: BENCH_LATENCY_REQUESTS must be at least 2000" >&2; exit 2; }
((THROUGHPUT_REQUESTS >= 20000)) || { echo "bench: BENCH_THROUGHPUT_REQUESTS must be at least 20000" >&2; exit 2; }

start_workdir bench
failed=0
fail() { echo "bench: FAILED: $*" >&2; failed=1; }

# --- Build: release like `make release` (static Swift stdlib), the C tools with -O2.
echo "== building (release, static Swift stdlib)"
swift build -c release --static-swift-stdlib --product cs-companiond
swift build -c release --static-swift-stdlib --product bench-validator
BIN=$(swift build -c release --static-swift-stdlib --show-bin-path)
DAEMON=${BENCH_DAEMON:-$BIN/cs-companiond}
CFLAGS=(-O2 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread)
cc "${CFLAGS[@]}" -o "$work/responder" bench/responder.c -lmosquitto
cc "${CFLAGS[@]}" -o "$work/loadgen" bench/loadgen.c -lmosquitto
cc "${CFLAGS[@]}" -o "$work/modbusload" bench/modbusload.c

# Python: the first interpreter that has what the peers need (pyenv python or Debian's).
pick_python() {
  for candidate in python3 /usr/bin/python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c "$1" 2>/dev/null; then echo "$candidate"; return 0; fi
  done
  return 1
}
PY_MQTT=$(pick_python 'import paho.mqtt.client, jsonschema') || { echo "bench: no python3 with paho-mqtt and jsonschema (make deps)" >&2; exit 1; }
PY_MODBUS=$(pick_python 'import pymodbus') || { echo "bench: no python3 with pymodbus (make deps)" >&2; exit 1; }

. scripts/lib.sh
wait_for_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }  # utime + stime
status_kb() { awk -v key="$2:" '$1 == key {print $2}' "/proc/$1/status"; }

# --- The private broker.
port=$(free_port)
cat > "$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
set_tcp_nodelay true
max_queued_messages 100000
log_dest none
CONF
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
"$mosquitto_bin" -c "$work/mosquitto.conf" &
pids+=($!)
wait_for_port "$port" || { echo "bench: mosquitto did not start" >&2; exit 1; }
echo "== mosquitto $("$mosquitto_bin" -h 2>/dev/null | head -1 | awk '{print $3}') on 127.0.0.1:$port (set_tcp_nodelay true)"

records="$work/records.jsonl"
: > "$records"

# start_responder NAME COMMAND...: starts it under bench/notify_exec.py, waits for READY=1.
start_responder() {
  local name=$1
  shift
  rm -f "$work/$name.pid" "$work/$name.ready"
  python3 bench/notify_exec.py "$work/$name.pid" "$work/$name.ready" -- "$@" 2> "$work/$name.log" &
  pids+=($!)
  for _ in $(seq 300); do [[ -s "$work/$name.ready" ]] && break; sleep 0.05; done
  responder_pid=$(cat "$work/$name.pid" 2>/dev/null || true)
  ready_ms=$(cat "$work/$name.ready" 2>/dev/null || echo none)
  if [[ -z "$responder_pid" || "$ready_ms" == none || ! -d /proc/$responder_pid ]]; then
    fail "$name did not become ready"; sed 's/^/   /' "$work/$name.log" >&2; return 1
  fi
  echo "== $name: pid $responder_pid, READY=1 after $ready_ms ms, RSS $(status_kb "$responder_pid" VmRSS) kB"
  echo "{\"kind\":\"start\",\"responder\":\"$name\",\"ready_ms\":$ready_ms,\"idle_rss_kb\":$(status_kb "$responder_pid" VmRSS)}" >> "$records"
}

stop_responder() {
  kill -TERM "$responder_pid" 2>/dev/null || true
  for _ in $(seq 100); do [[ -d /proc/$responder_pid ]] || break; sleep 0.05; done
}

# check_answers NAME DIR: the distinct answers the load generator kept must pass the schema.
check_answers() {
  local answers=("$2"/answer-*.json)
  [[ -e "${answers[0]}" ]] || { fail "$1: no answer kept"; return 1; }
  "$BIN/bench-validator" --check schemas "${answers[@]}" > "$2/check.txt" || { fail "$1: answers fail the schema: $(head -c 600 "$2/check.txt")"; return 1; }
}

# measure RUN NAME MODE QOS REQUESTS IN_FLIGHT: one run of the load generator, one record.
measure() {
  local run=$1 name=$2 mode=$3 qos=$4 requests=$5 in_flight=$6
  local out="$work/$name-$mode-$qos-$run"
  mkdir -p "$out"
  [[ $mode == throughput ]] && echo 5 > "/proc/$responder_pid/clear_refs"  # resets VmHWM
  local before after result
  before=$(cpu_ticks "$responder_pid")
  if ! result=$("$work/loadgen" 127.0.0.1 "$port" "$qos" "$requests" "$in_flight" "$TIMEOUT_S" "$out"); then
    fail "$name $mode QoS $qos: $result"
  fi
  after=$(cpu_ticks "$responder_pid")
  check_answers "$name" "$out" || true
  local hwm
  hwm=$(status_kb "$responder_pid" VmHWM)
  echo "{\"kind\":\"run\",\"responder\":\"$name\",\"mode\":\"$mode\",\"qos\":$qos,\"run\":$run,\"cpu_ticks\":$((after - before)),\"clk_tck\":$CLK_TCK,\"hwm_kb\":$hwm,\"load\":$result}" >> "$records"
  python3 - "$name" "$mode" "$qos" "$result" "$((after - before))" "$CLK_TCK" "$hwm" <<'PY'
import json, sys
name, mode, qos, result, ticks, tck, hwm = sys.argv[1:]
r = json.loads(result)
lat = r["latency_us"]
cpu = int(ticks) * 1e6 / int(tck) / max(r["answered"], 1)
print(f"   {name:>13} {mode:>10} QoS {qos}: {r['answered']}/{r['requests']} answered, {r['requests_per_s']:>8.0f} msg/s, "
      f"p50 {lat['p50']:.0f} µs, p99 {lat['p99']:.0f} µs, CPU {cpu:.1f} µs/msg, VmHWM {int(hwm) / 1024:.1f} MB")
PY
}

# run_rows RUN NAME: warm-up, then latency and throughput rows, QoS 1 and QoS 0.
run_rows() {
  local run=$1 name=$2
  mkdir -p "$work/$name-warmup"
  "$work/loadgen" 127.0.0.1 "$port" 1 1000 8 "$TIMEOUT_S" "$work/$name-warmup" > /dev/null || fail "$name: warm-up run"
  measure "$run" "$name" latency 1 "$LATENCY_REQUESTS" 1
  measure "$run" "$name" throughput 1 "$THROUGHPUT_REQUESTS" 64
  measure "$run" "$name" latency 0 "$LATENCY_REQUESTS" 1
  measure "$run" "$name" throughput 0 "$THROUGHPUT_REQUESTS" 64
}

# modbus_run SERVER PORT PID: the 4-client Modbus load against one server, one record.
modbus_run() {
  local server=$1 port=$2 pid=$3 before after result
  before=$(cpu_ticks "$pid")
  result=$("$work/modbusload" 127.0.0.1 "$port" 1 4 "$MODBUS_SECONDS") || fail "$server Modbus: $result"
  after=$(cpu_ticks "$pid")
  echo "   Modbus $server: $result"
  echo "{\"kind\":\"modbus\",\"server\":\"$server\",\"cpu_ticks\":$((after - before)),\"clk_tck\":$CLK_TCK,\"load\":$result}" >> "$records"
}

modbus_port=$(free_port)
cp etc/cs-companiond.yaml "$work/cs-companiond.yaml"
printf '\nmodbus: {bind: 127.0.0.1, port: %s, max_clients: 8}\n' "$modbus_port" >> "$work/cs-companiond.yaml"
start_daemon() {
  rm -rf "$work/state"
  start_responder daemon "$DAEMON" --config "$work/cs-companiond.yaml" --mqtt-host 127.0.0.1 --mqtt-port "$port" \
    --state-dir "$work/state" --schema-dir schemas --control-socket "$work/control.sock"
}

# --- 0. The daemon's own answer and meter block: the other responders serve the same bytes.
start_daemon || exit 1
mkdir -p "$work/capture"
if "$work/loadgen" 127.0.0.1 "$port" 1 1 1 "$TIMEOUT_S" "$work/capture" > /dev/null && check_answers daemon "$work/capture"; then
  python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["data"], separators=(",", ":")))' \
    "$work/capture/answer-0.json" > "$work/answer-data.json"
  echo "   answer: $(wc -c < "$work/capture/answer-0.json") bytes"
fi
"$work/modbusload" --dump 127.0.0.1 "$modbus_port" 1 > "$work/registers.txt" || fail "daemon Modbus: the meter block cannot be read"
stop_responder
[[ -s "$work/answer-data.json" ]] || { echo "bench: no answer captured from cs-companiond; cannot go on" >&2; exit 1; }

# The pymodbus peer serves the block the daemon served.
peer_pid=""
if [[ -s "$work/registers.txt" ]]; then
  peer_port=$(free_port)
  "$PY_MODBUS" bench/modbus_peer.py 127.0.0.1 "$peer_port" 1 "$work/registers.txt" 2> "$work/modbus-peer.log" &
  peer_pid=$!
  pids+=($peer_pid)
  if wait_for_port "$peer_port"; then
    "$work/modbusload" --dump 127.0.0.1 "$peer_port" 1 | cmp -s - "$work/registers.txt" || fail "pymodbus peer serves another block"
    kill -STOP "$peer_pid"  # idle between its runs
  else
    fail "pymodbus peer did not start"
    peer_pid=""
  fi
fi

# --- 1..3. Rounds: each round runs the three responders one after another (and both Modbus
# servers), so that what else the machine does hits all of them alike; medians over the rounds.
for run in $(seq "$REPEAT"); do
  echo "== round $run of $REPEAT"
  # cs-companiond (release, full validation in and out), its Modbus server on too.
  if start_daemon; then
    run_rows "$run" daemon
    modbus_run daemon "$modbus_port" "$responder_pid"
    echo "{\"kind\":\"rss\",\"responder\":\"daemon\",\"smaps_rollup\":$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "/proc/$responder_pid/smaps_rollup"),\"threads\":$(ls "/proc/$responder_pid/task" | wc -l)}" >> "$records"
    stop_responder
  fi
  # The limit: C, no parsing, no validation.
  if start_responder c-limit "$work/responder" 127.0.0.1 "$port" "$work/answer-data.json"; then
    run_rows "$run" c-limit
    stop_responder
  fi
  # The peer: Python, paho-mqtt + jsonschema against the project's schemas.
  if start_responder python-peer "$PY_MQTT" bench/responder.py 127.0.0.1 "$port" schemas "$work/answer-data.json"; then
    run_rows "$run" python-peer
    stop_responder
  fi
  # The Modbus peer: pymodbus, same block.
  if [[ -n "$peer_pid" ]]; then
    kill -CONT "$peer_pid"
    modbus_run pymodbus "$peer_port" "$peer_pid"
    kill -STOP "$peer_pid"
  fi
done
[[ -n "$peer_pid" ]] && kill -CONT "$peer_pid" && kill "$peer_pid" 2>/dev/null || true

# --- 5. The validator alone (one thread).
echo "== validator alone: cs_status_and_limits answer"
if result=$("$BIN/bench-validator" schemas "$work/capture/answer-0.json" 2); then
  echo "   $result"
  echo "{\"kind\":\"validator\",\"result\":$result}" >> "$records"
else
  fail "bench-validator"
fi

# --- 6. Instructions per message (callgrind), the daemon next to the C limit; start-up not counted.
if command -v valgrind >/dev/null && command -v callgrind_control >/dev/null; then
  echo "== callgrind: instructions per cs_status_and_limits round trip (2000 requests, 1 in flight)"
  if result=$(bench/callgrind.sh "$DAEMON" "$work/loadgen" "$work/responder" schemas etc/cs-companiond.yaml 2000); then
    echo "   $result"
    echo "{\"kind\":\"callgrind\",\"result\":$result}" >> "$records"
  else
    fail "callgrind run"
  fi
else
  echo "== callgrind: valgrind not installed (make deps), instructions per message not measured"
fi

# --- Report.
mkdir -p "$(dirname "$RESULTS")"
python3 bench/report.py "$records" \
  --machine "$(nproc) cores, $(uname -m), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg)" \
  --settings "latency: 1 in flight, $LATENCY_REQUESTS requests; throughput: 64 in flight, $THROUGHPUT_REQUESTS requests; $REPEAT rounds; Modbus: 4 clients, ${MODBUS_SECONDS} s per round" \
  > "$work/report.md"
cp "$work/report.md" "$RESULTS"
echo
cat "$work/report.md"
echo
echo "bench: written to $RESULTS"
if ((failed)); then echo "bench: a responder answered wrongly or not at all (see FAILED above)" >&2; exit 1; fi
