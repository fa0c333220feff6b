#!/usr/bin/env bash
# bench/callgrind.sh: instructions per message (valgrind --tool=callgrind) of cs-companiond and of
# the C limit, each answering N cs_status_and_limits requests one at a time (QoS 1) behind a private
# mosquitto. The counters are zeroed after a warm-up and dumped after the run, so start-up is not
# counted. Prints one JSON object; with KEEP=DIR, leaves the profiles there (callgrind_annotate).
#
#   bench/callgrind.sh DAEMON_BINARY LOADGEN RESPONDER SCHEMA_DIR CONFIG [REQUESTS]
set -euo pipefail
daemon=$1 loadgen=$2 responder=$3 schemas=$4 config=$5 requests=${6:-2000}
work=$(mktemp -d /tmp/cs-companion-callgrind.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n "${KEEP:-}" ]]; then mkdir -p "$KEEP" && cp "$work"/*.callgrind "$KEEP"/ 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\nlog_dest none\n' "$port" > "$work/mosquitto.conf"
"$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$work/mosquitto.conf" &
pids+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done

# valgrind 3.19 cannot read the DWARF 5 of the static Swift libraries: profile a copy without debug
# information (the symbol table stays, so functions keep their names).
strip --strip-debug -o "$work/cs-companiond" "$daemon"

# profile NAME COMMAND...: the command under callgrind; Ir per answered request.
profile() {
  local name=$1
  shift
  mkdir -p "$work/$name-out"
  valgrind --tool=callgrind --callgrind-out-file="$work/$name.callgrind" "$@" 2> "$work/$name.log" &
  local pid=$!
  pids+=($pid)
  # Ready when a request is answered (valgrind starts slowly); then warm up.
  for _ in $(seq 120); do
    "$loadgen" 127.0.0.1 "$port" 1 1 1 1 "$work/$name-out" > /dev/null 2>&1 && break
    sleep 0.5
  done
  "$loadgen" 127.0.0.1 "$port" 1 200 1 30 "$work/$name-out" > /dev/null
  callgrind_control -z "$pid" > /dev/null 2>&1
  "$loadgen" 127.0.0.1 "$port" 1 "$requests" 1 30 "$work/$name-out" > "$work/$name.load" || { echo "callgrind: $name did not answer" >&2; return 1; }
  callgrind_control -d "$pid" > /dev/null 2>&1
  sleep 0.5
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local dump
  dump=$(ls "$work/$name.callgrind".* 2>/dev/null | head -1)
  [[ -n "$dump" ]] || { echo "callgrind: no dump for $name" >&2; return 1; }
  mv "$dump" "$work/$name.callgrind"
  awk '/^summary:/ {print $2}' "$work/$name.callgrind"
}

daemon_ir=$(profile daemon "$work/cs-companiond" --config "$config" --mqtt-host 127.0.0.1 --mqtt-port "$port" \
  --state-dir "$work/state" --schema-dir "$schemas" --control-socket "$work/control.sock")
python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["data"], separators=(",", ":")))' \
  "$(ls "$work"/daemon-out/answer-*.json | head -1)" > "$work/data.json"
limit_ir=$(profile limit "$responder" 127.0.0.1 "$port" "$work/data.json")

# The daemon's inclusive cost of the steps of the hot path, per message.
steps=$(callgrind_annotate --inclusive=yes --threshold=100 "$work/daemon.callgrind" 2>/dev/null | python3 -c '
import json, re, sys
requests = int(sys.argv[1])
steps = {
    "parse (JSONValue.parse)": r"JSONValueO5parse_8maxDepth",
    "validate (3 schema checks)": r"0A9ValidatorV8validateySay",
    "encode the answer (JSONValueEncoder)": r"JSONValueEncoderV6encode",
    "serialize (serializedBytes)": r"JSONValueO15serializedBytes",
    "publish (ClientCore.publish)": r"ClientCoreC7publish5topic",
    "libmosquitto debug lines (vfprintf)": r"vfprintf-internal.c:__vfprintf_internal",
    "network thread (ClientCore.runNetworkThread)": r"ClientCoreC16runNetworkThread\w*LLyyF ",
}
found = {}
for line in sys.stdin:
    if "\x272 " in line: continue
    m = re.match(r"\s*([\d,]+) \(", line)
    if not m: continue
    for label, pattern in steps.items():
        if label not in found and re.search(pattern, line):
            found[label] = round(int(m.group(1).replace(",", "")) / requests)
print(json.dumps(found))
' "$requests")
echo "{\"requests\":$requests,\"daemon_ir_per_message\":$((daemon_ir / requests)),\"limit_ir_per_message\":$((limit_ir / requests)),\"daemon_steps\":$steps}"
