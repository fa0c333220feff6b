#!/usr/bin/env bash
# Builds the libFuzzer binaries of the fuzz targets and runs each for a bounded time or number of
# inputs on the committed corpus (see fuzz/README.md).
#
#   scripts/fuzz.sh [target...]        targets: contract modbus (default: both)
#
# Environment:
#   FUZZ_TIME=<s>     seconds per target (libFuzzer -max_total_time); default 60 when FUZZ_RUNS is unset
#   FUZZ_RUNS=<n>     inputs per target (libFuzzer -runs)
#   FUZZ_STRICT=0|1   cross-layer consistency checks (CS_FUZZ_STRICT; default 1)
#   FUZZ_MERGE=1      afterwards, merge inputs that add coverage into fuzz/corpus/<target>/
#   FUZZ_ARGS="..."   extra libFuzzer flags (e.g. "-jobs=2 -workers=2")
#   SWIFT=swift       the toolchain driver (swiftc is taken from the same directory)
#
# New crash inputs are written to fuzz/crashes/<target>/ (crash-<sha1>, leak-…, timeout-…, oom-…);
# the script exits 1 when any target found one. Logs: .build-fuzz/logs/<target>.log.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SWIFT=${SWIFT:-swift}
SWIFTC=${SWIFTC:-$(dirname "$(command -v "$SWIFT")")/swiftc}
SCRATCH=$ROOT/.build-fuzz
SANITIZE=(-sanitize=fuzzer,address)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(contract modbus)
if [ -z "${FUZZ_RUNS:-}" ] && [ -z "${FUZZ_TIME:-}" ]; then FUZZ_TIME=60; fi

max_len() {
  case "$1" in
    contract) echo 4096 ;;   # the contract's largest samples are ~2 kB
    modbus) echo 300 ;;      # a few ADUs (at most 260 bytes each)
    *) echo "unknown fuzz target: $1" >&2; exit 2 ;;
  esac
}
for target in "${TARGETS[@]}"; do max_len "$target" >/dev/null; done

# 1. FuzzTargets and everything it depends on, instrumented for libFuzzer (coverage + comparison
#    tracing) and AddressSanitizer, in a scratch folder of its own. `--target` compiles but links
#    nothing, so no executable of the package gets libFuzzer's main().
echo "== building FuzzTargets with ${SANITIZE[*]} (release) into .build-fuzz"
"$SWIFT" build -c release --scratch-path "$SCRATCH" --target FuzzTargets -Xswiftc "${SANITIZE[@]}"
BIN=$("$SWIFT" build -c release --scratch-path "$SCRATCH" --show-bin-path)

# 2. One executable per target: the shim (LLVMFuzzerTestOneInput) plus the objects just built.
#    The scratch folder only ever builds FuzzTargets, so its object files are exactly
#    FuzzTargets' dependency closure (Swift and C targets of this package and of the dependencies).
mapfile -t OBJECTS < <(find "$BIN" -path '*.build/*.o' | sort)
[ ${#OBJECTS[@]} -gt 0 ] || { echo "no object files under $BIN" >&2; exit 1; }
# Importing FuzzTargets needs the clang modules (module maps) of its C dependencies: take the -Xcc
# flags SwiftPM compiled FuzzTargets with from its build manifest.
mapfile -t CLANG_FLAGS < <(grep -m1 '"-module-name","FuzzTargets"' "$SCRATCH/release.yaml" \
  | grep -o '"-Xcc","[^"]*"' | sed -e 's/^"-Xcc","//' -e 's/"$//' | sed 's/^/-Xcc\n/')
mkdir -p "$SCRATCH/bin" "$SCRATCH/logs"
for target in "${TARGETS[@]}"; do
  echo "== linking .build-fuzz/bin/fuzz-$target (${#OBJECTS[@]} objects)"
  "$SWIFTC" -O "${SANITIZE[@]}" -parse-as-library -warnings-as-errors -module-name "FuzzShim_$target" \
    -I "$BIN/Modules" "${CLANG_FLAGS[@]}" "fuzz/shims/$target.swift" "${OBJECTS[@]}" -o "$SCRATCH/bin/fuzz-$target"
done

# 3. Run. New inputs go to .build-fuzz/corpus/<target> (first folder); the committed corpus is read.
status=0
summary=()
# SWIFT_BACKTRACE=enable=no: the Swift runtime's crash handler reads the crashed thread's stack,
# which ASan reports as a stack-buffer-underflow that hides the real trap; libFuzzer's own
# deadly-signal handler prints the stack and saves the input instead.
LSAN="suppressions=$ROOT/fuzz/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
for target in "${TARGETS[@]}"; do
  work="$SCRATCH/corpus/$target"
  mkdir -p "$work" "fuzz/crashes/$target"
  args=(
    -dict="fuzz/dict/$target.dict" -max_len="$(max_len "$target")" -timeout=25 -rss_limit_mb=2048
    -artifact_prefix="fuzz/crashes/$target/" -print_final_stats=1
  )
  [ -n "${FUZZ_RUNS:-}" ] && args+=(-runs="$FUZZ_RUNS")
  [ -n "${FUZZ_TIME:-}" ] && args+=(-max_total_time="$FUZZ_TIME")
  # shellcheck disable=SC2206
  [ -n "${FUZZ_ARGS:-}" ] && args+=($FUZZ_ARGS)
  echo "== fuzzing $target: ${args[*]}"
  start=$(date +%s)
  set +e
  CS_FUZZ_STRICT=${FUZZ_STRICT:-1} CS_COMPANION_SCHEMAS="$ROOT/schemas" LSAN_OPTIONS="$LSAN" SWIFT_BACKTRACE=enable=no \
    "$SCRATCH/bin/fuzz-$target" "${args[@]}" "$work" "fuzz/corpus/$target" 2>&1 | tee "$SCRATCH/logs/$target.log"
  rc=${PIPESTATUS[0]}
  set -e
  seconds=$(( $(date +%s) - start ))
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$SCRATCH/logs/$target.log" | grep -o '[0-9]*$' | tail -1)
  last=$(grep -E '^#[0-9]+' "$SCRATCH/logs/$target.log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+' || true)
  summary+=("$target: ${runs:-?} inputs in ${seconds}s, ${last:-no stats}, exit $rc")
  if [ "$rc" -ne 0 ]; then
    status=1
    echo "!! $target: libFuzzer exited $rc; reproducer(s) in fuzz/crashes/$target/:" >&2
    ls -t "fuzz/crashes/$target/" | grep -v '^\.' | head -5 >&2 || true
  elif [ "${FUZZ_MERGE:-0}" = 1 ]; then
    echo "== merging new coverage of $target into fuzz/corpus/$target"
    CS_FUZZ_STRICT=${FUZZ_STRICT:-1} CS_COMPANION_SCHEMAS="$ROOT/schemas" LSAN_OPTIONS="$LSAN" SWIFT_BACKTRACE=enable=no \
      "$SCRATCH/bin/fuzz-$target" -merge=1 -max_len="$(max_len "$target")" "fuzz/corpus/$target" "$work" \
      >"$SCRATCH/logs/$target.merge.log" 2>&1
    tail -1 "$SCRATCH/logs/$target.merge.log"
  fi
done

echo "== fuzz summary"
printf '   %s\n' "${summary[@]}"
exit $status
