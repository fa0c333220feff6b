#!/usr/bin/env bash
# Part of `make test`: every target of Package.swift has its row in the module table of
# docs/ARCHITECTURE.md (a row whose first cell names it in backquotes, alone or with others:
# | `A`, `B` | …), and the table names no target that Package.swift does not have.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=$(tr '\n' ' ' < Package.swift | grep -oE '\.(target|executableTarget|testTarget|systemLibrary)\( *name: "[^"]+"' \
    | sed -E 's/.*name: "([^"]+)"/\1/' | sort -u)
documented=$(awk '/^## Modules/{on=1; next} on && /^## /{on=0} on && /^\| `/{print}' docs/ARCHITECTURE.md \
    | cut -d'|' -f2 | grep -oE '`[^`]+`' | tr -d '`' | sort -u)
[ -n "$targets" ] || { echo "check-architecture: no targets found in Package.swift" >&2; exit 1; }
missing=$(comm -23 <(echo "$targets") <(echo "$documented"))
extra=$(comm -13 <(echo "$targets") <(echo "$documented"))
status=0
if [ -n "$missing" ]; then
    echo "check-architecture: targets of Package.swift without a row in docs/ARCHITECTURE.md's module table:" >&2
    echo "$missing" | sed 's/^/  /' >&2
    status=1
fi
if [ -n "$extra" ]; then
    echo "check-architecture: the module table names targets Package.swift does not have:" >&2
    echo "$extra" | sed 's/^/  /' >&2
    status=1
fi
[ $status -ne 0 ] || echo "check-architecture: the module table names all $(echo "$targets" | wc -l) targets"
exit $status
