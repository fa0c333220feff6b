#!/usr/bin/env bash
# Footprint gate for the board: the stripped, statically linked release cs-companiond is at most
# 13 MB (11.7 MB measured after issue 20; its target is 8) and links no Foundation module at all (issue
# 20: not even FoundationEssentials), nor ICU, nor the Regex engine, nor SwiftNIO, nor
# swift-service-lifecycle.
set -euo pipefail
binary=${1:?usage: check-footprint.sh PATH/TO/cs-companiond}
limit_mb=${FOOTPRINT_LIMIT_MB:-13}
cd "$(dirname "$0")/.."

fail=0
# 1. No daemon source imports full Foundation (tests, TestSupport and the simulators may).
daemon_dirs=(Sources/Basics Sources/BackOffice Sources/JSONSchema Sources/YAML Sources/Mosquitto Sources/Systemd Sources/JosevContract Sources/Station Sources/Modbus Sources/Store
             Sources/Daemon Sources/cs-companiond Sources/cs-companion)
if hits=$(grep -rnE '^\s*(@_exported\s+|public\s+|internal\s+|@preconcurrency\s+)?import\s+(Foundation|FoundationNetworking|FoundationXML|FoundationInternationalization)\s*$' "${daemon_dirs[@]}"); then
  echo "footprint: full Foundation imported in daemon code:"; echo "$hits"; fail=1
fi

# ... nor SwiftNIO (the Modbus server and the control socket run on the "servers" poll thread of
# Basics/SocketPoller.swift; the NIO client lives in ModbusNIOClient, for the simulators and tests).
if hits=$(grep -rnE '^\s*(@_exported\s+|public\s+|internal\s+|@preconcurrency\s+)?import\s+(NIO[A-Za-z]*|_NIO[A-Za-z]*|ModbusNIOClient)\s*$' "${daemon_dirs[@]}"); then
  echo "footprint: SwiftNIO imported in daemon code:"; echo "$hits"; fail=1
fi

# 2. The binary links no Foundation/ICU/Swift runtime libraries dynamically.
if ldd "$binary" | grep -Ei 'libFoundation|libicu|_FoundationICU|libswiftCore'; then
  echo "footprint: $binary links Foundation, ICU or the Swift runtime dynamically"; fail=1
fi

# 3. Nor statically: no symbol of the Foundation or FoundationInternationalization modules.
# (The symbols are read once: `nm | grep -q` under pipefail fails with nm's SIGPIPE when grep
# finds a match early, and the check would pass.)
symbols=$(nm "$binary" 2>/dev/null || true)
if grep -qE '\$s10Foundation|\$s31FoundationInternationalization|_FoundationICU' <<<"$symbols"; then
  echo "footprint: $binary contains full Foundation or ICU symbols"; fail=1
fi
# ... nor FoundationEssentials (3.1 MB; swift-argument-parser brought it in: docs/FOOTPRINT.md).
if grep -qE '\$s20FoundationEssentials' <<<"$symbols"; then
  echo "footprint: $binary contains FoundationEssentials symbols"; fail=1
fi
# ... nor the Regex engine (0.95 MB; JSON Schema's `pattern` and String's `firstRange(of:)`,
# `replacing(_:with:)`, `contains(String)` brought it in: docs/FOOTPRINT.md, step 2).
if grep -qE '17_StringProcessing|12_RegexParser' <<<"$symbols"; then
  echo "footprint: $binary contains Regex engine (_StringProcessing, _RegexParser) symbols"; fail=1
fi

# ... nor SwiftNIO (1.64 MB and its event-loop thread: docs/FOOTPRINT.md, step 4): no symbol of
# NIOCore, NIOPosix, _NIO*, NIOConcurrencyHelpers, nor of its C shims (CNIOLinux, c_nio_*).
if grep -qE '\$s[0-9]+_?NIO|CNIOLinux|c_nio_' <<<"$symbols"; then
  echo "footprint: $binary contains SwiftNIO symbols"; fail=1
fi

# ... nor swift-service-lifecycle and what it brought (1.33 MB; the ServiceGroup, graceful shutdown
# and signals are Sources/Daemon/Lifecycle now: docs/FOOTPRINT.md, step 3).
if grep -qE '\$s(16ServiceLifecycle|11UnixSignals|15AsyncAlgorithms|18OrderedCollections)' <<<"$symbols"; then
  echo "footprint: $binary contains swift-service-lifecycle, AsyncAlgorithms or OrderedCollections symbols"; fail=1
fi

# 4. Size of the stripped binary.
stripped=$(mktemp)
trap 'rm -f "$stripped"' EXIT
strip -o "$stripped" "$binary"
bytes=$(stat -c %s "$stripped")
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "footprint: stripped static cs-companiond is ${mb} MB (limit ${limit_mb} MB); dynamic libraries:"
ldd "$binary" | awk '{ print "  " $1 }'
if ((bytes > limit_mb * 1048576)); then
  echo "footprint: too large"; fail=1
fi
exit $fail
