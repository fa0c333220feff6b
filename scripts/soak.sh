#!/usr/bin/env bash
# make soak DURATION=<time>: the whole site running together for a long time, memory watched.
#
#   a private mosquitto (restarted every BROKER_RESTART_EVERY seconds, 0 = never)
#   cs-companiond (release build) with two AC EVSEs, the Modbus server and the store
#   josev-sim load, round after round (a mix of requests, 8 in flight, answers schema-checked)
#   josev-sim session (ac-basic) on the second EVSE, one after another, through the control socket
#   gridbox-sim polling the station over Modbus and writing setpoints every 2 s
#
# Every SAMPLE seconds the daemon's RSS, peak RSS, threads and open descriptors are sampled.
# At the end: a table of RSS over time, reconnects, warnings/errors in the daemon's log, messages
# handled, sessions recorded, and a verdict: memory is "flat" when the median RSS of the last
# quarter exceeds the median of the second quarter (after warm-up) by less than SOAK_RSS_SLACK_KB
# (default 1024 kB). Exit status 1 when memory grew, a load round failed, or the daemon died.
# The report is also written to out/soak-<UTC time>.md.
#
# DURATION accepts seconds or a suffix: 90s, 10m, 2h (default 10m).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

parse_duration() {
  local text=$1
  case "$text" in
    *h) echo $(( ${text%h} * 3600 )) ;;
    *m) echo $(( ${text%m} * 60 )) ;;
    *s) echo "${text%s}" ;;
    *) echo "$text" ;;
  esac
}
DURATION=${DURATION:-10m}
duration_s=$(parse_duration "$DURATION")
[[ "$duration_s" =~ ^[0-9]+$ && "$duration_s" -ge 30 ]] || { echo "soak: DURATION must be at least 30 s (got '$DURATION')" >&2; exit 2; }
SAMPLE=${SAMPLE:-10}
BROKER_RESTART_EVERY=${BROKER_RESTART_EVERY:-300}
SLACK_KB=${SOAK_RSS_SLACK_KB:-1024}

# The same flags for every product: switching --static-swift-stdlib on and off rebuilds the packages.
for product in cs-companiond cs-companion josev-sim gridbox-sim; do
  swift build -c release --static-swift-stdlib --product "$product" >/dev/null
done
BIN=$(swift build -c release --show-bin-path)

work=$(mktemp -d /tmp/cs-companion-soak.XXXXXX)
pids=()
broker=""
cleanup() {
  for pid in "${pids[@]}" $broker; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n "${KEEP_SOAK_DIR:-}" ]]; then echo "soak: files kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

port=$(free_port)
modbus_port=$(free_port)
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
cat > "$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
set_tcp_nodelay true
max_queued_messages 0
log_dest stderr
CONF
start_broker() {
  # stderr, not log_dest file: mosquitto started as root drops to its own user, which cannot
  # write into this private directory.
  "$mosquitto_bin" -c "$work/mosquitto.conf" 2>> "$work/mosquitto.log" &
  broker=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return 0; sleep 0.1; done
  echo "soak: mosquitto did not start" >&2
  return 1
}
start_broker

evse1="DE*PNX*E00001*1"
evse2="DE*PNX*E00002*1"
twin_station_config "CSC-SOAK-0001" "$port" "$modbus_port" > "$work/station.yaml"
"$BIN/cs-companiond" --config "$work/station.yaml" --schema-dir schemas --state-dir "$work/state" \
  --control-socket "$work/control.sock" 2> "$work/daemon.log" &
daemon=$!
pids+=($daemon)
for _ in $(seq 100); do grep -q "ready" "$work/daemon.log" 2>/dev/null && break; sleep 0.1; done
grep -q "ready" "$work/daemon.log" || { echo "soak: the daemon did not become ready" >&2; cat "$work/daemon.log" >&2; exit 1; }

# EV 1 charges for the whole run under gridbox-sim's setpoints; EV 2 runs sessions back to back.
"$BIN/cs-companion" plug --socket "$work/control.sock" --evse "$evse1" >/dev/null
"$BIN/cs-companion" ev --socket "$work/control.sock" --evse "$evse1" 32 >/dev/null
"$BIN/gridbox-sim" --station "127.0.0.1:$modbus_port" --site-limit 40 --interval 2 --no-http --json \
  > "$work/gridbox.jsonl" 2> "$work/gridbox.log" &
pids+=($!)

deadline=$(( $(date +%s) + duration_s ))

load_loop() {
  local names=(cs_status_and_limits cs_parameters device_model)
  local round=0
  while (( $(date +%s) < deadline )); do
    local name=${names[$(( round % ${#names[@]} ))]}
    local began
    began=$(date +%s)
    # A round normally takes about a second; the bound catches a load generator stuck on a
    # connection the broker restart cut.
    if timeout 60 "$BIN/josev-sim" load --host 127.0.0.1 --port "$port" --schema-dir schemas --name "$name" \
        --requests 10000 --in-flight 8 --qos 1 --timeout 5 --json >> "$work/load.jsonl" 2>> "$work/load.err"; then
      echo "$began $(date +%s) ok" >> "$work/load-rounds"
    else
      echo "$began $(date +%s) failed" >> "$work/load-rounds"
    fi
    round=$(( round + 1 ))
    sleep 1
  done
}
session_loop() {
  while (( $(date +%s) < deadline )); do
    local began
    began=$(date +%s)
    # A session cut by a broker restart may leave the EV plugged in: start from an empty socket.
    "$BIN/cs-companion" unplug --socket "$work/control.sock" --evse "$evse2" >/dev/null 2>&1 || true
    if timeout 120 "$BIN/josev-sim" session --scenario ac-basic --evse-id "$evse2" --host 127.0.0.1 --port "$port" \
        --schema-dir schemas --control-socket "$work/control.sock" >> "$work/sessions.txt" 2>&1; then
      echo "$began $(date +%s) ok" >> "$work/session-runs"
    else
      echo "$began $(date +%s) failed" >> "$work/session-runs"
    fi
    sleep 2
  done
}
load_loop &
load_pid=$!
session_loop &
session_pid=$!

status_field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$daemon/status" 2>/dev/null || echo 0; }
echo "soak: $duration_s s, sampling every $SAMPLE s, broker restart every ${BROKER_RESTART_EVERY} s (0 = never)"
printf '%8s %10s %10s %8s %6s\n' "t (s)" "RSS (kB)" "HWM (kB)" "threads" "fds" | tee "$work/samples.txt"
start=$(date +%s)
next_restart=$(( start + BROKER_RESTART_EVERY ))
broker_restarts=0
died=0
while (( $(date +%s) < deadline )); do
  sleep "$SAMPLE"
  if ! kill -0 "$daemon" 2>/dev/null; then died=1; echo "soak: the daemon died" >&2; break; fi
  now=$(date +%s)
  printf '%8d %10s %10s %8s %6s\n' $(( now - start )) "$(status_field VmRSS)" "$(status_field VmHWM)" \
    "$(status_field Threads)" "$(ls "/proc/$daemon/fd" 2>/dev/null | wc -l)" | tee -a "$work/samples.txt"
  if (( BROKER_RESTART_EVERY > 0 && now >= next_restart && now + 20 < deadline )); then
    echo "$now" >> "$work/restarts"
    kill "$broker" 2>/dev/null || true
    wait "$broker" 2>/dev/null || true
    sleep 2
    start_broker
    broker_restarts=$(( broker_restarts + 1 ))
    next_restart=$(( now + BROKER_RESTART_EVERY ))
  fi
done
wait "$load_pid" "$session_pid" 2>/dev/null || true  # each round is bounded by `timeout`
sleep 1
rss_end=$(status_field VmRSS)

# Figures.
answered=$(python3 -c 'import json,sys
t=0
for line in open(sys.argv[1]):
    try: t+=json.loads(line)["answered"]
    except Exception: pass
print(t)' "$work/load.jsonl" 2>/dev/null || echo 0)
# A run that failed while the broker was down (or reconnecting) is counted as interrupted, not failed.
classify() {
  python3 - "$1" "$work/restarts" <<'PY'
import sys
runs = [l.split() for l in open(sys.argv[1]).read().splitlines() if l.strip()] if __import__("os").path.exists(sys.argv[1]) else []
try: restarts = [int(l) for l in open(sys.argv[2]).read().split()]
except OSError: restarts = []
ok = sum(1 for r in runs if r[2] == "ok")
bad = [r for r in runs if r[2] != "ok"]
# The broker is down from t to t + 2 s and the daemon back a moment later: a run overlapping
# [t, t + 6 s] was cut by the restart.
interrupted = sum(1 for r in bad if any(int(r[0]) <= t + 6 and int(r[1]) >= t for t in restarts))
print(ok, len(bad) - interrupted, interrupted)
PY
}
read -r load_ok load_failed load_interrupted < <(classify "$work/load-rounds")
read -r sessions_ok sessions_failed sessions_interrupted < <(classify "$work/session-runs")
connects=$(grep -c "connected to" "$work/daemon.log" || true)
warnings=$(grep -cE "warning|error|critical" "$work/daemon.log" || true)
recorded=$("$BIN/cs-companion" sessions --db "$work/state/cs-companion.db" --format json 2>/dev/null \
  | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo "?")
gridbox_cycles=$(wc -l < "$work/gridbox.jsonl" 2>/dev/null || echo 0)

verdict=$(python3 - "$work/samples.txt" "$SLACK_KB" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]).read().splitlines()[1:] if l.strip()]
rss = [int(r[1]) for r in rows if r[1].isdigit()]
slack = int(sys.argv[2])
if len(rss) < 8:
    print("unknown: too few samples (%d) to judge; run longer" % len(rss)); sys.exit()
q = len(rss) // 4
second, last = statistics.median(rss[q:2*q]), statistics.median(rss[-q:])
growth = last - second
word = "flat" if growth < slack else "GROWING"
print("%s: median RSS %d kB in the second quarter, %d kB in the last (%+d kB; slack %d kB)" % (word, second, last, growth, slack))
PY
)

report="$work/report.md"
{
  echo "# Soak run $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "Duration $duration_s s; broker restarted $broker_restarts times; sample every $SAMPLE s."
  echo
  echo "| figure | value |"
  echo "|---|---|"
  echo "| load rounds ok / failed / cut by a broker restart (10000 requests, 8 in flight, QoS 1) | $load_ok / $load_failed / $load_interrupted |"
  echo "| requests answered | $answered |"
  echo "| sessions (ac-basic) ok / failed / cut by a broker restart | $sessions_ok / $sessions_failed / $sessions_interrupted |"
  echo "| sessions recorded in the store | $recorded |"
  echo "| gridbox-sim cycles | $gridbox_cycles |"
  echo "| daemon MQTT connections (1 + reconnects) | $connects |"
  echo "| daemon log lines at warning or above | $warnings |"
  echo "| daemon alive at the end | $([[ $died == 0 ]] && echo yes || echo no) |"
  echo "| RSS at the end | ${rss_end} kB |"
  echo "| memory | $verdict |"
  echo
  echo '```'
  cat "$work/samples.txt"
  echo '```'
} > "$report"
mkdir -p out
cp "$report" "out/soak-$(date -u +%Y%m%dT%H%M%SZ).md"
cat "$report"
if [[ -s "$work/load.err" ]]; then echo "load errors (first 5 lines):"; head -5 "$work/load.err"; fi
if (( sessions_failed > 0 )); then echo "a failed session transcript (last 20 lines):"; tail -20 "$work/sessions.txt"; fi
grep -E "warning|error|critical" "$work/daemon.log" | sort | uniq -c | sort -rn | head -10 || true

fail=0
[[ $died == 0 ]] || fail=1
[[ "$verdict" == GROWING* ]] && fail=1
(( load_failed == 0 )) || fail=1
(( sessions_failed == 0 )) || fail=1
exit $fail
