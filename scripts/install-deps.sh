#!/usr/bin/env bash
# Installs the Debian packages cs-companion needs to build, test and run its demo; only the
# missing ones, so a second run costs nothing. Swift itself must already be installed.
set -euo pipefail

PACKAGES=(
  pkg-config            # system-library targets find the C libraries through it
  libmosquitto-dev      # the MQTT client library our Mosquitto module wraps
  libssl-dev openssl    # TLS for MQTT (libmosquitto uses OpenSSL); openssl makes the tests' throwaway CA
  libsystemd-dev        # sd_notify, watchdog, journald
  libyaml-dev           # configuration file
  libsqlite3-dev        # the session store (SQLite C API)
  mosquitto             # the real broker the tests and the demo start on loopback
  mosquitto-clients     # mosquitto_pub/_sub/_passwd for tests and debugging
  systemd               # systemd-analyze verify/security for the unit file checks; systemd 252 as
                        # PID 1 of scripts/systemd-test.sh (the installed daemon under the unit)
  util-linux            # unshare/nsenter: scripts/systemd-test.sh's namespaces
  procps                # pgrep: scripts/systemd-test.sh finds systemd inside its namespace
  binutils              # strip, nm: footprint check of the release binary
  python3               # small helpers in scripts (free ports)
  curl                  # the demo and tests call gridbox-sim's HTTP API
  python3-pip           # pip, for pymodbus below (the Modbus interop tests)
  mbpoll                # third-party Modbus TCP client the Modbus interop tests run
  libcurl4-openssl-dev  # firmware downloads and log uploads (http, https, ftp, ftps, sftp)
  zlib1g-dev            # gzip of uploaded logs
  python3-pyftpdlib     # the FTP server of the firmware/log upload tests
  systemd-journal-remote  # turns the tests' journal entries into real journal files
  gzip                  # the log upload tests decompress what the server received
  python3-paho-mqtt     # make bench: the Python peer responder (bench/responder.py)
  python3-jsonschema    # make bench: the peer validates against the project's schemas
  valgrind              # make bench / docs/PERFORMANCE.md: callgrind instruction counts per message
  socat                 # pty pairs for the serial-line tests (board-sim, the phyVERSO link)
  libmodbus-dev         # Modbus RTU to the energy meters (MeterDriver, CModbus)
  debhelper             # make deb: the Debian package from debian/ (dh, dh_shlibdeps, dh_installsystemd)
  lintian               # make deb: the package's policy check (scripts/build-deb.sh)
)

if ! command -v swift >/dev/null 2>&1; then
  echo "install-deps: swift is not on PATH; install the Swift 6 toolchain first (https://www.swift.org/install/linux/)" >&2
  exit 1
fi

# pymodbus (PyPI), the third-party Python client of the Modbus interop tests, for whatever python3
# is first on PATH (system or pyenv); only when it cannot be imported yet.
install_pymodbus() {
  if python3 -c 'import pymodbus' >/dev/null 2>&1; then
    return 0
  fi
  echo "install-deps: installing pymodbus for $(command -v python3)"
  # Debian 12's system python3 is "externally managed" (PEP 668); a pyenv python3 is not.
  python3 -m pip install --quiet 'pymodbus>=3.8' 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages 'pymodbus>=3.8'
}

missing=()
for package in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
if ((${#missing[@]} == 0)); then
  install_pymodbus
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_pymodbus
