#!/usr/bin/env bash
# make install into a scratch DESTDIR with a non-default PREFIX, then check that every file is
# where the README says and that the installed daemon finds its installed schemas by itself.
# Installs the release binaries already built (`make check-install` builds them first; so does
# `make test`, once): install-files, not install, so the release build does not run again.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(mktemp -d /tmp/cs-companion-install.XXXXXX)
trap 'rm -rf "$root"' EXIT
make --no-print-directory install-files DESTDIR="$root" PREFIX=/opt/csc UNITDIR=/lib/systemd/system > "$root.log" 2>&1 || { cat "$root.log"; exit 1; }
rm -f "$root.log"
for file in opt/csc/bin/cs-companiond opt/csc/bin/cs-companion opt/csc/share/cs-companion/schemas/envelope.json \
            opt/csc/share/cs-companion/schemas/config.schema.json lib/systemd/system/cs-companiond.service lib/systemd/system/cs-companiond-modbus.socket \
            etc/cs-companiond/cs-companiond.yaml; do
  [[ -e "$root/$file" ]] || { echo "check-install: $file missing"; exit 1; }
done
grep -q '^ExecStart=/opt/csc/bin/cs-companiond ' "$root/lib/systemd/system/cs-companiond.service" \
  || { echo "check-install: ExecStart does not follow PREFIX"; exit 1; }
if nm "$root/opt/csc/bin/cs-companiond" 2>/dev/null | grep -q .; then echo "check-install: binary not stripped"; exit 1; fi
"$root/opt/csc/bin/cs-companiond" --check-config --config "$root/etc/cs-companiond/cs-companiond.yaml"
# A second install keeps the edited configuration.
echo "# edited" >> "$root/etc/cs-companiond/cs-companiond.yaml"
make --no-print-directory install-files DESTDIR="$root" PREFIX=/opt/csc > /dev/null 2>&1
tail -1 "$root/etc/cs-companiond/cs-companiond.yaml" | grep -q '# edited' || { echo "check-install: configuration overwritten"; exit 1; }
echo "check-install: OK ($(du -sh "$root" | cut -f1) installed)"
