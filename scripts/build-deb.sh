#!/usr/bin/env bash
# build-deb.sh: the Debian package from debian/ (debhelper), on the release binaries already built
# (`make deb` builds them first through `release`; so does `make test`, once). Writes
# .build/deb/cs-companion_<version>_<arch>.deb and .build/deb/lintian.txt; fails on a lintian error
# or on a warning not explained in debian/lintian-explained.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
command -v dh >/dev/null || { echo "build-deb: debhelper is missing (apt-get install debhelper)" >&2; exit 2; }
rm -rf .build/deb debian/cs-companion debian/.debhelper debian/files debian/*.substvars debian/debhelper-build-stamp
mkdir -p .build/deb
started=$(date +%s)
# debian/rules binary: build (the Makefile's release-binaries: nothing to do after `make release`),
# install-files into debian/cs-companion, dh_shlibdeps, maintainer scripts, dh_builddeb.
debian/rules binary >.build/deb/build.log 2>&1 || { tail -30 .build/deb/build.log; echo "build-deb: FAIL (log: .build/deb/build.log)" >&2; exit 1; }
deb=$(ls .build/deb/cs-companion_*.deb)
echo "build-deb: $deb ($(du -k "$deb" | cut -f1) KiB, $(($(date +%s) - started)) s)"
dpkg-deb --field "$deb" Version Depends Recommends | sed 's/^/build-deb:   /'
if command -v lintian >/dev/null; then
  lintian --info --display-info --pedantic "$deb" >.build/deb/lintian.txt 2>&1 || true
  explained=debian/lintian-explained.txt
  unexplained=$(grep -E '^[EW]: ' .build/deb/lintian.txt | awk '{print $3}' | sort -u | while read -r tag; do
    grep -q "^$tag:" "$explained" 2>/dev/null || echo "$tag"; done)
  echo "build-deb: lintian: $(grep -cE '^E: ' .build/deb/lintian.txt) error(s), $(grep -cE '^W: ' .build/deb/lintian.txt) warning(s), $(grep -cE '^[IP]: ' .build/deb/lintian.txt) info/pedantic (.build/deb/lintian.txt)"
  if [[ -n $unexplained ]]; then
    grep -E '^[EW]: ' .build/deb/lintian.txt
    echo "build-deb: FAIL: lintian tags not explained in $explained: $unexplained" >&2
    exit 1
  fi
else
  echo "build-deb: lintian not installed; not checked"
fi
