#!/usr/bin/env python3
"""An Eastron SDM630 on a serial line (a pty end): a Modbus RTU slave, standard library only.

Answers FC4 (input registers 0x00-0x4B: float32, high word first) and FC3 (holding 0xFC00: the
serial number as uint32) for its unit id, and stays silent for every other unit (as a real RS485
slave). The import register grows with the power (3 x V x I) in real time.

Faults come from a JSON control file the simulator re-reads before every answer (write it
atomically: a temporary file, then rename), e.g. {"fault": "silent"}:
  silent       no answer at all (a dead or unplugged meter)
  crc          the last CRC byte flipped
  wrong_unit   a valid frame from unit + 1
  noise        three bytes of line noise before the frame
  late         the answer after "delay" seconds (default 0.8: later than a 0.5 s timeout)
  nan          voltage L1 reads NaN
  backwards    the import register jumps back by 1 kWh
  serial       another serial number ("serial_other", default 99999999)
  nan, backwards and serial change the values; the others the frames.
"count": n limits the fault to the next n answers; {"amps": 10} changes the current,
{"import_kwh": 1000, "static_energy": true} sets the import register and keeps it still. Never point it at /dev/ttyS0 (the machine's console).
"""

import argparse
import json
import os
import select
import struct
import sys
import time
import tty


def crc16(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def frame(body: bytes) -> bytes:
    return body + struct.pack("<H", crc16(body))


class Meter:
    def __init__(self, args):
        self.unit = args.unit
        self.serial = args.serial
        self.import_kwh = args.import_kwh
        self.amps = args.amps
        self.volts = 230.0
        self.control_path = args.control
        self.control = {}
        self.control_mtime = None
        self.last = time.monotonic()
        self.answered = 0
        self.faulted = {}

    def read_control(self):
        if not self.control_path:
            return
        try:
            mtime = os.stat(self.control_path).st_mtime_ns
        except FileNotFoundError:
            self.control = {}
            return
        if mtime == self.control_mtime:
            return
        self.control_mtime = mtime
        try:
            with open(self.control_path) as handle:
                self.control = json.load(handle)
        except (OSError, ValueError):
            return
        if "amps" in self.control:
            self.amps = float(self.control["amps"])
        if "import_kwh" in self.control:
            self.import_kwh = float(self.control["import_kwh"])

    def advance(self):
        now = time.monotonic()
        if self.control.get("static_energy"):
            self.last = now
            return
        self.import_kwh += 3 * self.volts * self.amps * (now - self.last) / 3_600_000
        self.last = now

    def input_registers(self, fault):
        values = {
            0x00: float("nan") if fault == "nan" else self.volts, 0x02: self.volts, 0x04: self.volts,
            0x06: self.amps, 0x08: self.amps, 0x0A: self.amps,
            0x34: 3 * self.volts * self.amps, 0x3E: 1.0, 0x46: 50.0,
            0x48: self.import_kwh - (1.0 if fault == "backwards" else 0.0), 0x4A: 0.0,
        }
        registers = [0] * 0x4C
        for address, value in values.items():
            high, low = struct.unpack(">HH", struct.pack(">f", value))
            registers[address], registers[address + 1] = high, low
        return registers

    def answer(self, request: bytes, fault, mirror=False):
        """The reply frame to an 8-byte request, or None (silence). `mirror`: FC3 reads the input
        registers too (for Modbus TCP clients that read holding registers only)."""
        unit, function, address, count = struct.unpack(">BBHH", request[:6])
        if unit != self.unit:
            return None
        self.advance()
        if (function == 4 or (mirror and function == 3)) and address + count <= 0x4C:
            words = self.input_registers(fault)[address:address + count]
        elif function == 3 and address == 0xFC00 and count == 2:
            serial = int(self.control.get("serial_other", 99999999)) if fault == "serial" else self.serial
            words = [serial >> 16, serial & 0xFFFF]
        else:
            return frame(bytes([unit, function | 0x80, 2]))
        return frame(bytes([unit, function, 2 * count]) + b"".join(struct.pack(">H", w) for w in words))


def serve_tcp(meter, port):
    """Modbus TCP: the same meter behind an MBAP header (transaction id echoed; no CRC)."""
    import socket
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(4)
    print(f"meter-sim: SDM630 unit {meter.unit} on Modbus TCP 127.0.0.1:{port}", flush=True)
    while True:
        connection, _ = server.accept()
        with connection:
            buffer = b""
            while True:
                chunk = connection.recv(256)
                if not chunk:
                    break
                buffer += chunk
                while len(buffer) >= 12:
                    header, pdu, buffer = buffer[:7], buffer[7:12], buffer[12:]
                    transaction, _, _, unit = struct.unpack(">HHHB", header)
                    meter.read_control()
                    fault = meter.control.get("fault")
                    if fault == "silent":
                        continue
                    reply = meter.answer(bytes([unit]) + pdu, fault, mirror=True)
                    if reply is None:
                        continue
                    body = reply[1:-2]
                    connection.sendall(struct.pack(">HHHB", transaction, 0, len(body) + 1, unit) + body)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", help="the meter's end of a pty pair")
    parser.add_argument("--tcp", type=int, help="serve Modbus TCP on 127.0.0.1:TCP instead (FC3 mirrors the input registers)")
    parser.add_argument("--unit", type=int, default=11)
    parser.add_argument("--serial", type=int, default=22_123_456)
    parser.add_argument("--import-kwh", type=float, default=1234.5)
    parser.add_argument("--amps", type=float, default=0.0)
    parser.add_argument("--control", help="JSON control file (faults, current)")
    args = parser.parse_args()
    if args.tcp:
        serve_tcp(Meter(args), args.tcp)
        return
    if not args.port:
        sys.exit("meter-sim: --port or --tcp")
    if os.path.realpath(args.port) == "/dev/ttyS0":
        sys.exit("meter-sim: /dev/ttyS0 is the machine's console")
    fd = os.open(args.port, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    meter = Meter(args)
    buffer = b""
    print(f"meter-sim: SDM630 unit {args.unit} serial {args.serial} on {args.port}", flush=True)
    while True:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            buffer = b""  # a silent line ends any partial frame
            continue
        buffer += os.read(fd, 256)
        while len(buffer) >= 8:
            request, buffer = buffer[:8], buffer[8:]
            if crc16(request[:6]) != struct.unpack("<H", request[6:8])[0]:
                buffer = b""  # out of step: drop what is left, the master retries
                break
            meter.read_control()
            fault = meter.control.get("fault")
            if fault and "count" in meter.control:
                # A fault for the next `count` answers only (per control file version).
                key = (meter.control_mtime, "faulted")
                done = meter.faulted.get(key, 0)
                if done >= int(meter.control["count"]):
                    fault = None
                else:
                    meter.faulted[key] = done + 1
            reply = meter.answer(request, fault)
            if reply is None or fault == "silent":
                continue
            if fault == "crc":
                reply = reply[:-1] + bytes([reply[-1] ^ 0xFF])
            elif fault == "wrong_unit":
                reply = frame(bytes([(reply[0] % 247) + 1]) + reply[1:-2])
            elif fault == "noise":
                reply = b"\x55\xaa\x13" + reply
            elif fault == "late":
                time.sleep(float(meter.control.get("delay", 0.8)))
            os.write(fd, reply)
            meter.answered += 1


if __name__ == "__main__":
    main()
