#!/usr/bin/env bash
# make bench: cs-companiond next to the physical limit (bench/responder.c) and the peer a user would
# pick (bench/responder.py, paho-mqtt + jsonschema), one after another behind the same private
# mosquitto (TCP_NODELAY), driven by the same load generator (bench/loadgen.c); the validator alone
# (bench-validator); the Modbus server next to a pymodbus server (bench/modbus_peer.py) under 4
# clients (bench/modbusload.c). Then the targets of issue 20 that are not round trips: the daemon
# with 8 EVSEs, a mixed load (correct requests while bench/flood.c publishes malformed and oversized
# ones), memory over each daemon lifetime, an idle daemon's wake-ups and threads
# (bench/idle_watch.py), 10 Modbus clients polling every second, `cs-companion sessions --since` over
# a database of 100 000 sessions (bench/sessions_db.py) and the start-up on it, the stripped size.
# Prints the report (every target: figure, measured, target, met) and writes it to
# bench/results/<date>.md.
#
# Exits non-zero only when a responder answers wrongly or not at all (never because of a figure).
#
# Knobs (environment): BENCH_REPEAT (rounds; medians reported; default 5),
# BENCH_LATENCY_REQUESTS (default 5000), BENCH_THROUGHPUT_REQUESTS (default 20000),
# BENCH_MODBUS_SECONDS (default 3), BENCH_IDLE_SECONDS (idle window; default 60),
# BENCH_MODBUS_POLL_SECONDS (10 pollers, and the idle span before them; default 30),
# BENCH_FLOOD_REQUESTS (bad requests of the mixed load; default 50000), BENCH_SESSIONS (recorded
# sessions; default 100000), BENCH_RESULTS (output file), BENCH_DAEMON (another cs-companiond
# binary to measure instead of the one just built, e.g. an older commit's), BENCH_RECORDS (also keep
# the raw records there, JSON lines: `bench/report.py FILE` renders them again), BENCH_CALLGRIND=0
# (skip the callgrind step).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

REPEAT=${BENCH_REPEAT:-5}
LATENCY_REQUESTS=${BENCH_LATENCY_REQUESTS:-5000}
THROUGHPUT_REQUESTS=${BENCH_THROUGHPUT_REQUESTS:-20000}
MODBUS_SECONDS=${BENCH_MODBUS_SECONDS:-3}
IDLE_SECONDS=${BENCH_IDLE_SECONDS:-60}
MODBUS_POLL_SECONDS=${BENCH_MODBUS_POLL_SECONDS:-30}
FLOOD_REQUESTS=${BENCH_FLOOD_REQUESTS:-50000}
SESSIONS=${BENCH_SESSIONS:-100000}
TIMEOUT_S=10
RESULTS=${BENCH_RESULTS:-bench/results/$(date -u +%Y-%m-%d).md}
((LATENCY_REQUESTS >= 2000)) || { echo "bench: BENCH_LATENCY_REQUESTS must be at least 2000" >&2; exit 2; }
((THROUGHPUT_REQUESTS >= 20000)) || { echo "bench: BENCH_THROUGHPUT_REQUESTS must be at least 20000" >&2; exit 2; }

. scripts/lib.sh
start_workdir bench
failed=0
fail() { echo "bench: FAILED: $*" >&2; failed=1; }

# --- Build: release like `make release` (static Swift stdlib), the C tools with -O2.
echo "== building (release, static Swift stdlib)"
swift build -c release --static-swift-stdlib --product cs-companiond
swift build -c release --static-swift-stdlib --product cs-companion
swift build -c release --static-swift-stdlib --product bench-validator
# A binary just linked is still dirty in the page cache: mapped, its text would count as Private_Dirty.
sync
BIN=$(swift build -c release --static-swift-stdlib --show-bin-path)
DAEMON=${BENCH_DAEMON:-$BIN/cs-companiond}
CFLAGS=(-O2 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread)
cc "${CFLAGS[@]}" -o "$work/responder" bench/responder.c -lmosquitto
cc "${CFLAGS[@]}" -o "$work/loadgen" bench/loadgen.c -lmosquitto
cc "${CFLAGS[@]}" -o "$work/modbusload" bench/modbusload.c
cc "${CFLAGS[@]}" -o "$work/flood" bench/flood.c -lmosquitto

# Python: the first interpreter that has what the peers need (pyenv python or Debian's).
pick_python() {
  for candidate in python3 /usr/bin/python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c "$1" 2>/dev/null; then echo "$candidate"; return 0; fi
  done
  return 1
}
PY_MQTT=$(pick_python 'import paho.mqtt.client, jsonschema') || { echo "bench: no python3 with paho-mqtt and jsonschema (make deps)" >&2; exit 1; }
PY_MODBUS=$(pick_python 'import pymodbus') || { echo "bench: no python3 with pymodbus (make deps)" >&2; exit 1; }

wait_for_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }  # utime + stime
status_kb() { awk -v key="$2:" '$1 == key {print $2}' "/proc/$1/status"; }
private_dirty_kb() { awk '$1 == "Private_Dirty:" {print $2}' "/proc/$1/smaps_rollup"; }

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
  local hwm dirty
  hwm=$(status_kb "$responder_pid" VmHWM)
  dirty=$(private_dirty_kb "$responder_pid")  # right after the run
  echo "{\"kind\":\"run\",\"responder\":\"$name\",\"mode\":\"$mode\",\"qos\":$qos,\"run\":$run,\"cpu_ticks\":$((after - before)),\"clk_tck\":$CLK_TCK,\"hwm_kb\":$hwm,\"private_dirty_kb\":$dirty,\"load\":$result}" >> "$records"
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

# warm_up NAME: 1000 requests, 8 in flight, not measured; keeps VmRSS after it (memory over the lifetime).
warm_up() {
  mkdir -p "$work/$1-warmup"
  "$work/loadgen" 127.0.0.1 "$port" 1 1000 8 "$TIMEOUT_S" "$work/$1-warmup" > /dev/null || fail "$1: warm-up run"
  rss_after_warm_up=$(status_kb "$responder_pid" VmRSS)
}

# run_rows RUN NAME: warm-up, then latency and throughput rows, QoS 1 and QoS 0.
run_rows() {
  local run=$1 name=$2
  warm_up "$name"
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
printf '\nmodbus: {bind: 127.0.0.1, port: %s, max_clients: 16}\n' "$modbus_port" >> "$work/cs-companiond.yaml"
# The same configuration with 8 AC EVSEs (distinct evse_id and network_interface) in place of the one.
modbus_port8=$(free_port)
awk -v port="$modbus_port8" '
  /^evses:/ {
    print "evses:"
    for (i = 1; i <= 8; i++) {
      printf "  - evse_id: \"DE*PNX*E1234%d*1\"\n    network_interface: eth%d\n    supports_eim: true\n", i, i
      print "    ac: {nominal_voltage: 230, max_current: 32, phases: 3}"
      print "    connectors: [{id: 1, connector_type: AC_three_phase_core}]"
    }
    skipping = 1; next
  }
  skipping && /^[a-z#]/ { skipping = 0 }
  skipping { next }
  /^modbus:/ { sub(/port: [0-9]+/, "port: " port) }
  { print }' "$work/cs-companiond.yaml" > "$work/cs-companiond-8evse.yaml"
# start_daemon [NAME [CONFIG [STATE_DIR [keep]]]]: the daemon under notify_exec.py; the state
# directory is emptied first unless "keep".
start_daemon() {
  local name=${1:-daemon} config=${2:-$work/cs-companiond.yaml} state=${3:-$work/state}
  [[ ${4:-} == keep ]] || rm -rf "$state"
  start_responder "$name" "$DAEMON" --config "$config" --mqtt-host 127.0.0.1 --mqtt-port "$port" \
    --state-dir "$state" --schema-dir schemas --control-socket "$work/$name.sock"
}

# mixed_run RUN NAME: the latency row (1 in flight, QoS 1) while bench/flood.c publishes the bad
# requests at full speed (one in 200 of 300 KiB); the load generator sends correct requests only
# until the flood is acknowledged (at most 4 × BENCH_LATENCY_REQUESTS), so that every one measured
# was sent in between. VmHWM reset before; one record with both results. (Not run against the C
# limit: it answers any payload with a 36-character id, the bad ones too, so it is no reference.)
mixed_run() {
  local run=$1 name=$2 out="$work/mixed-$2-$1" before after result flood_result
  mkdir -p "$out"
  rm -f "$out/flood.done"
  echo 5 > "/proc/$responder_pid/clear_refs"
  before=$(cpu_ticks "$responder_pid")
  { "$work/flood" 127.0.0.1 "$port" "$FLOOD_REQUESTS" 200 $((300 * 1024)) > "$out/flood.json" || echo "bench: the flood was not acknowledged in full" >&2; touch "$out/flood.done"; } &
  local flood_pid=$!
  if ! result=$("$work/loadgen" 127.0.0.1 "$port" 1 $((4 * LATENCY_REQUESTS)) 1 "$TIMEOUT_S" "$out" "$out/flood.done"); then
    fail "$name mixed load: $result"
  fi
  wait "$flood_pid" || true
  after=$(cpu_ticks "$responder_pid")
  check_answers "$name" "$out" || true
  flood_result=$(cat "$out/flood.json")
  [[ -n "$flood_result" ]] || flood_result=null
  local hwm
  hwm=$(status_kb "$responder_pid" VmHWM)
  echo "{\"kind\":\"mixed\",\"responder\":\"$name\",\"run\":$run,\"cpu_ticks\":$((after - before)),\"clk_tck\":$CLK_TCK,\"hwm_kb\":$hwm,\"load\":$result,\"flood\":$flood_result}" >> "$records"
  python3 - "$name" "$result" "$flood_result" "$hwm" <<'PY'
import json, sys
name, r, f, hwm = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4])
lat = r["latency_us"]
flood = f"{f['published']} bad requests in {f['elapsed_s']:.1f} s" if f else "flood failed"
print(f"   {name:>13} {'mixed':>10} QoS 1: {r['answered']}/{r['requests']} answered in {r['elapsed_s']:.1f} s, "
      f"p50 {lat['p50']:.0f} µs, p99 {lat['p99']:.0f} µs, VmHWM {hwm / 1024:.1f} MB; {flood}")
PY
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
    mixed_run "$run" daemon
    echo "{\"kind\":\"lifetime\",\"responder\":\"daemon\",\"run\":$run,\"rss_after_warm_up_kb\":$rss_after_warm_up,\"rss_at_end_kb\":$(status_kb "$responder_pid" VmRSS)}" >> "$records"
    echo "{\"kind\":\"rss\",\"responder\":\"daemon\",\"smaps_rollup\":$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "/proc/$responder_pid/smaps_rollup"),\"threads\":$(ls "/proc/$responder_pid/task" | wc -l)}" >> "$records"
    stop_responder
  fi
  # cs-companiond with 8 EVSEs: the throughput row at QoS 1 (CPU per message against 1 EVSE).
  if start_daemon daemon-8evse "$work/cs-companiond-8evse.yaml"; then
    warm_up daemon-8evse
    measure "$run" daemon-8evse throughput 1 "$THROUGHPUT_REQUESTS" 64
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

# --- 4. Idle: a fresh daemon (bench configuration, no load, no Modbus client), after READY and 2 s
# to settle: wake-ups of all its threads and the most threads over BENCH_IDLE_SECONDS. Then, on the
# same daemon, BENCH_MODBUS_POLL_SECONDS idle and as long again with 10 Modbus clients each reading
# the meter block once a second: the CPU the pollers add.
echo "== idle: ${IDLE_SECONDS} s with nothing due, then 10 Modbus clients polling every second (${MODBUS_POLL_SECONDS} s, after as long idle)"
if start_daemon daemon-idle; then
  sleep 2
  if result=$(python3 bench/idle_watch.py "$responder_pid" "$IDLE_SECONDS"); then
    echo "{\"kind\":\"idle\",\"result\":$result}" >> "$records"
    python3 - "$result" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print(f"   {r['wakeups']} wake-ups in {r['seconds']:.0f} s ({r['wakeups_per_s']:.2f}/s), at most {r['max_threads']} threads, "
      f"VmRSS {r['rss_kb'] / 1024:.1f} MB")
PY
  else
    echo "bench: the idle daemon could not be watched" >&2
  fi
  before=$(cpu_ticks "$responder_pid")
  sleep "$MODBUS_POLL_SECONDS"
  idle_ticks=$(($(cpu_ticks "$responder_pid") - before))
  before=$(cpu_ticks "$responder_pid")
  result=$("$work/modbusload" --every 1000 127.0.0.1 "$modbus_port" 1 10 "$MODBUS_POLL_SECONDS") || fail "daemon Modbus pollers: $result"
  poll_ticks=$(($(cpu_ticks "$responder_pid") - before))
  echo "{\"kind\":\"modbus_poll\",\"seconds\":$MODBUS_POLL_SECONDS,\"idle_ticks\":$idle_ticks,\"poll_ticks\":$poll_ticks,\"clk_tck\":$CLK_TCK,\"load\":${result:-null}}" >> "$records"
  echo "   idle $idle_ticks ticks, polled $poll_ticks ticks in ${MODBUS_POLL_SECONDS} s each (1 tick = 1/$CLK_TCK s); pollers: $result"
  stop_responder
fi

# --- 5. Recorded sessions: `cs-companion sessions --since` (a week before the newest) over a
# database of BENCH_SESSIONS sessions, and the daemon's start-up on it next to a database without any.
echo "== $SESSIONS recorded sessions: cs-companion sessions --since, start-up with and without them"
if start_daemon daemon-fill "$work/cs-companiond.yaml" "$work/state-sessions"; then
  stop_responder
  evse_id=$(awk -F'"' '/^  - evse_id:/ {print $2; exit}' "$work/cs-companiond.yaml")
  if fill=$(python3 bench/sessions_db.py "$work/state-sessions/cs-companion.db" "$evse_id" "$SESSIONS" 365); then
    since=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["since"])' "$fill")
    timings=()
    for i in 1 2 3 4 5; do
      t0=$(date +%s%N)
      "$BIN/cs-companion" sessions --db "$work/state-sessions/cs-companion.db" --since "$since" > "$work/sessions.txt" || echo "bench: cs-companion sessions failed" >&2
      t1=$(date +%s%N)
      timings+=("$(( (t1 - t0) / 1000 ))")
    done
    listed=$(($(wc -l < "$work/sessions.txt") - 1))  # minus the header
    echo "{\"kind\":\"sessions\",\"fill\":$fill,\"listed\":$listed,\"cli_us\":[$(IFS=,; echo "${timings[*]}")]}" >> "$records"
    echo "   $listed sessions listed since $since; $(IFS=' '; echo "${timings[*]}") µs"
    # Next to a database without sessions (made by a first start: so that creating the database is
    # not counted), alternately, so that the machine's other load hits both alike.
    start_daemon daemon-create "$work/cs-companiond.yaml" "$work/state-empty" && stop_responder
    for i in 1 2 3; do
      start_daemon daemon-empty "$work/cs-companiond.yaml" "$work/state-empty" keep && stop_responder
      start_daemon daemon-sessions "$work/cs-companiond.yaml" "$work/state-sessions" keep && stop_responder
    done
  else
    echo "bench: the session database could not be filled" >&2
  fi
fi

# --- 6. The stripped daemon's size.
strip -o "$work/cs-companiond.stripped" "$DAEMON"
echo "{\"kind\":\"size\",\"unstripped_bytes\":$(stat -c %s "$DAEMON"),\"stripped_bytes\":$(stat -c %s "$work/cs-companiond.stripped")}" >> "$records"
echo "== stripped cs-companiond: $(stat -c %s "$work/cs-companiond.stripped") bytes"

# --- 7. The validator alone (one thread).
echo "== validator alone: cs_status_and_limits answer"
if result=$("$BIN/bench-validator" schemas "$work/capture/answer-0.json" 2); then
  echo "   $result"
  echo "{\"kind\":\"validator\",\"result\":$result}" >> "$records"
else
  fail "bench-validator"
fi

# --- 8. Instructions per message (callgrind), the daemon next to the C limit; start-up not counted.
if [[ ${BENCH_CALLGRIND:-1} == 0 ]]; then
  echo "== callgrind: skipped (BENCH_CALLGRIND=0)"
elif command -v valgrind >/dev/null && command -v callgrind_control >/dev/null; then
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
  --settings "latency: 1 in flight, $LATENCY_REQUESTS requests; throughput: 64 in flight, $THROUGHPUT_REQUESTS requests; $REPEAT rounds; Modbus: 4 clients, ${MODBUS_SECONDS} s per round; mixed load: $FLOOD_REQUESTS bad requests during a latency row; idle ${IDLE_SECONDS} s; Modbus pollers ${MODBUS_POLL_SECONDS} s; $SESSIONS sessions" \
  > "$work/report.md"
cp "$work/report.md" "$RESULTS"
[[ -z "${BENCH_RECORDS:-}" ]] || cp "$records" "$BENCH_RECORDS"
echo
cat "$work/report.md"
echo
echo "bench: written to $RESULTS"
if ((failed)); then echo "bench: a responder answered wrongly or not at all (see FAILED above)" >&2; exit 1; fi
