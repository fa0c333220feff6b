# Shell helpers shared by scripts/demo.sh, scripts/soak.sh and scripts/bench.sh (sourced, not run).

# start_workdir NAME: a scratch folder in $work and a list $pids of background processes (add
# each with pids+=($!)); on exit every process is killed and the folder removed.
start_workdir() {
  work=$(mktemp -d "/tmp/cs-companion-$1.XXXXXX")
  chmod 1777 "$work"  # like /tmp: the broker drops root for its own user and writes its log here
  pids=()
  trap stop_workdir EXIT
}
stop_workdir() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}

# free_port: a TCP port free on loopback right now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# twin_station_config SERIAL MQTT_PORT MODBUS_PORT: the configuration of a twin station (two
# three-phase AC EVSEs of 32 A, DE*PNX*E00001*1 and DE*PNX*E00002*1, free vend, Modbus on
# loopback with a 6 A safe current), printed on standard output.
twin_station_config() {
  cat <<CONF
station: {serial_number: "$1", vendor: "Example Charging GmbH", model: "Twin AC22", firmware_version: "1.4.2", hardware_version: "B"}
mqtt: {host: 127.0.0.1, port: $2}
evses:
  - evse_id: "DE*PNX*E00001*1"
    network_interface: eth1
    ac: {nominal_voltage: 230, max_current: 32, phases: 3}
    connectors: [{id: 1, connector_type: AC_three_phase_core}]
  - evse_id: "DE*PNX*E00002*1"
    network_interface: eth2
    ac: {nominal_voltage: 230, max_current: 32, phases: 3}
    connectors: [{id: 1, connector_type: AC_three_phase_core}]
authorization: {free_vend: true}
modbus: {bind: 127.0.0.1, port: $3, safe_current: 6}
log_level: info
CONF
}
