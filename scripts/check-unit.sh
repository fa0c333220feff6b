#!/bin/sh
# check-unit.sh [UNIT]: the gate for systemd/cs-companiond.service (or UNIT).
#
#  1. `systemd-analyze verify` on a copy of the unit whose Exec*= binaries, where missing on this
#     machine, point at /bin/true (verify fails on a missing binary). Fails on a non-zero exit
#     status AND on any output: verify exits 0 on unknown keys and unparsable values, it only
#     prints a warning.
#  2. `systemd-analyze security --offline=yes --threshold=N`, N = ten times the highest accepted
#     exposure score (default 15, i.e. score <= 1.5; override with CHECK_UNIT_THRESHOLD).
#     Prints the score.
#
# Exit status 0 when both pass, 1 on a failed check, 2 on a usage or environment error.
set -eu

here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
unit=${1:-"$here/../systemd/cs-companiond.service"}
threshold=${CHECK_UNIT_THRESHOLD:-15}

if [ ! -f "$unit" ]; then
    echo "check-unit: no such unit file: $unit" >&2
    exit 2
fi
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "check-unit: systemd-analyze not found" >&2
    exit 2
fi

name=$(basename -- "$unit")
work=$(mktemp -d "${TMPDIR:-/tmp}/check-unit.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
copy="$work/$name"

# Rewrite Exec*= lines whose program does not exist here. The program is the first word after
# the optional prefixes @ - : + ! (systemd.service(5), "Command lines").
: >"$copy"
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
    Exec*=*)
        key=${line%%=*}
        rest=${line#*=}
        prefix=$(printf '%s\n' "$rest" | sed -n 's/^\([-@:+!]*\).*/\1/p')
        command=${rest#"$prefix"}
        program=${command%% *}
        arguments=${command#"$program"}
        if [ -n "$program" ] && [ ! -x "$program" ]; then
            echo "check-unit: $key: $program is not installed here, checking with /bin/true"
            line="$key=$prefix/bin/true$arguments"
        fi
        ;;
    esac
    printf '%s\n' "$line" >>"$copy"
done <"$unit"

status=0

echo "check-unit: systemd-analyze verify $name"
if output=$(systemd-analyze verify --man=no "$copy" 2>&1); then rc=0; else rc=$?; fi
if [ "$rc" -ne 0 ] || [ -n "$output" ]; then
    printf '%s\n' "$output" | sed "s|$work/||g" >&2
    echo "check-unit: FAIL: verify (exit status $rc, $(printf '%s\n' "$output" | grep -c .) line(s) of output)" >&2
    status=1
else
    echo "check-unit: verify clean"
fi

echo "check-unit: systemd-analyze security --offline=yes --threshold=$threshold $name"
if output=$(systemd-analyze security --offline=yes --threshold="$threshold" "$copy" 2>&1); then rc=0; else rc=$?; fi
score=$(printf '%s\n' "$output" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
if [ "$rc" -ne 0 ] || [ -z "$score" ]; then
    printf '%s\n' "$output" | grep -v '^✓' | sed "s|$work/||g" >&2
    echo "check-unit: FAIL: security score ${score:-unknown} above $(awk "BEGIN{print $threshold/10}") (exit status $rc)" >&2
    status=1
else
    echo "check-unit: security score $score (limit $(awk "BEGIN{print $threshold/10}"))"
fi

if [ "$status" -eq 0 ]; then echo "check-unit: OK"; fi
exit "$status"
