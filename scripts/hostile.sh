#!/usr/bin/env bash
# make hostile: the hostile-input cases of issue 18 against the real daemon, mosquitto and real
# sockets, at full size (a 255 MB publish, bursts of 800 and 2000 messages of 234 KiB), with their
# figures in hostile/results/<date>.md. The same tests run in `make test` at a smaller size, with
# the same bounds; this target only records what was measured.
#
# Knobs (environment): HOSTILE_RESULTS (output file), HOSTILE_OVERSIZE_MB (default 255).
set -euo pipefail
cd "$(dirname "$0")/.."
RESULTS=${HOSTILE_RESULTS:-hostile/results/$(date -u +%Y-%m-%d).md}
mkdir -p "$(dirname "$RESULTS")"
rows=$(mktemp /tmp/cs-companion-hostile.XXXXXX)
trap 'rm -f "$rows"' EXIT

echo "== building (debug, tests)"
swift build --build-tests

failed=0
run() {  # run FILTER [VAR=VALUE ...]: one swift-testing filter with the report file set
  local filter=$1
  shift
  echo "== $filter $*"
  env HOSTILE_REPORT="$rows" "$@" swift test --skip-build --no-parallel --filter "$filter" || failed=1
}
run 'HostileFloodTests/modbusMasterThatNeverReads'
run 'HostileFloodTests/mqttBurst' HOSTILE_BURST_COUNT=800
run 'HostileFloodTests/mqttBurst' HOSTILE_BURST_COUNT=2000
run 'HostileFloodTests/oversizedPublish' HOSTILE_OVERSIZE_MB="${HOSTILE_OVERSIZE_MB:-255}"
run 'ModbusUpdateStormTests|PilotAdjustmentTests'
run 'ControlSocketConcurrencyTests'
run 'StaleAndDuplicateMessageTests|DaemonEndToEndRetainedTests'
run 'DaemonEndToEndTests/badInputIsSurvived|DaemonEndToEndTests/survivesBrokerRestart|HostileFloodTests/takeoverAndRestartStorm'

{
  echo "# Hostile input — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo
  echo "Debug build of cs-companiond (as \`make test\` runs it), mosquitto $(mosquitto -h 2>/dev/null | head -1 | awk '{print $3}'), loopback."
  echo "Bounds asserted by the tests: peak RSS (VmHWM) ≤ idle + 16 MB; cs_status_and_limits answered < 3 s."
  echo
  echo "| case | figure | value |"
  echo "| --- | --- | --- |"
  cat "$rows"
  echo
  if ((failed)); then echo "**Some cases FAILED** (see the test output)."; else echo "All cases passed."; fi
} > "$RESULTS"
cat "$RESULTS"
exit $failed
