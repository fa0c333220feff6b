#!/usr/bin/env python3
"""Regenerates the seed corpora of fuzz/corpus/ (stdlib only; the output is committed).

contract/: every ```json block of §3 of the Josev contract (default Tests/Fixtures/josev/contract-samples.md,
or $JOSEV_CONTRACT), compact, named after the sample's label, plus hand-made nasty inputs.
modbus/:   the request frames of PROFILE.md §2/§3/§6 (client read windows, setpoint and phase
writes), plus hand-made nasty streams.

Usage: fuzz/tools/make-seeds.py [path/to/contract.md]
Files are only added or overwritten, never removed (the corpus also holds inputs libFuzzer found).
"""
import json
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONTRACT_DIR = os.path.join(ROOT, "fuzz", "corpus", "contract")
MODBUS_DIR = os.path.join(ROOT, "fuzz", "corpus", "modbus")


def write(directory, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def contract_seeds(path):
    text = open(path, encoding="utf-8").read()
    start = text.index("## 3. Sample payloads")
    end = text.find("\n## 4.", start)
    section = text[start:] if end < 0 else text[start:end]
    # A label line (**`name.req`**: ...) followed by a ```json block.
    pattern = re.compile(r"\*\*`([^`]+)`\*\*[^\n]*\n```json\n(.*?)\n```", re.S)
    count = 0
    for label, body in pattern.findall(section):
        value = json.loads(body)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", label)
        write(CONTRACT_DIR, "sample-" + safe + ".json", json.dumps(value, separators=(",", ":"), ensure_ascii=False))
        count += 1
    return count


def contract_nasty():
    uuid = "3f1c2a7e-0000-4000-8000-000000000001"
    env = lambda name, typ, data: json.dumps({"id": uuid, "name": name, "type": typ, "data": data}, separators=(",", ":"))
    seeds = {
        "nasty-empty": "",
        "nasty-ws": " \t\r\n",
        "nasty-deep-64": "[" * 64 + "]" * 64,
        "nasty-deep-65": "[" * 65 + "]" * 65,
        "nasty-deep-objects": '{"a":' * 70 + "1" + "}" * 70,
        "nasty-unclosed": '{"id":"' + uuid + '","name":"cs_parameters","type":"request","data":{',
        "nasty-dup-key": '{"id":"' + uuid + '","id":"x","name":"cs_parameters","type":"request","data":{}}',
        "nasty-bom": "\ufeff" + env("cs_parameters", "request", {}),
        "nasty-lone-surrogate": '{"id":"\\ud800","name":"cs_parameters","type":"request","data":{}}',
        "nasty-surrogate-pair": '{"id":"\\ud83d\\ude00","name":"cs_parameters","type":"request","data":{"\\u0000":"\\u001f"}}',
        "nasty-numbers": '[0,-0,-0.0,1e308,1e-400,9223372036854775807,9223372036854775808,-9223372036854775808,'
        '-9223372036854775809,1E+2,0.1e1,123456789012345678901234567890]',
        "nasty-number-overflow": "[1e309]",
        "nasty-leading-zero": "[01]",
        "nasty-nan": '{"data":NaN}',
        "nasty-trailing": env("cs_parameters", "request", {}) + " x",
        "nasty-controls": '["\t"]',
        "nasty-unknown-name": env("no_such_message", "request", {}),
        "nasty-wrong-direction": env("cp_status", "update", {"evse_id": "DE*PNX*E12345*1", "connector_id": 1, "state": "A"}),
        "nasty-id-not-uuid": json.dumps({"id": "1", "name": "cs_parameters", "type": "request", "data": {}}),
        "nasty-id-number": json.dumps({"id": 1, "name": "cs_parameters", "type": "request", "data": {}}),
        "nasty-extra-key": json.dumps({"id": uuid, "name": "reset", "type": "request", "data": {}, "x": None}),
        "nasty-null-fields": env("cp_pwm", "request", {"evse_id": None, "duty_cycle": None}),
        "nasty-cp-pwm-float": env("cp_pwm", "request", {"evse_id": "DE*PNX*E12345*1", "duty_cycle": 1e-300}),
        "nasty-big-int": env("meter_values", "request", {"evse_id": "DE*PNX*E12345*1", "connector_id": 9223372036854775807}),
        "nasty-datetime": env("clock_sync", "update", {"time": "9999-99-99T99:99:99.999+99:99"}),
        "nasty-datetime-leap": env("clock_sync", "update", {"time": "2024-02-29T23:59:60Z"}),
        "nasty-utf8-overlong": b'{"id":"\xc0\xaf","name":"x","type":"update","data":{}}',
        "nasty-utf8-truncated": b'{"id":"\xe2\x82","name":"x","type":"update","data":{}}',
        "nasty-utf8-4byte": '{"id":"\U0001F600","name":"reset","type":"request","data":{"type":"\U0010FFFF"}}',
    }
    for name, data in seeds.items():
        write(CONTRACT_DIR, name + ".json", data)
    return len(seeds)


def mbap(tid, unit, pdu, protocol=0, length=None):
    if length is None:
        length = len(pdu) + 1
    return struct.pack(">HHHB", tid, protocol, length, unit) + bytes(pdu)


def fc03(address, count):
    return struct.pack(">BHH", 3, address, count)


def fc06(address, value):
    return struct.pack(">BHH", 6, address, value)


def fc16(address, registers):
    return struct.pack(">BHHB", 16, address, len(registers), 2 * len(registers)) + b"".join(struct.pack(">H", r) for r in registers)


def float_regs(value):
    bits = struct.unpack(">I", struct.pack(">f", value))[0]
    return [bits >> 16, bits & 0xFFFF]


def modbus_seeds():
    seeds = {}
    # PROFILE.md §2: read windows of evcc, OpenEMS and the Home Assistant integration.
    windows = {
        "evcc": (1, [(306, 6), (320, 6), (344, 2), (374, 4), (1201, 5), (1210, 2), (1215, 1)]),
        "openems": (1, [(300, 62), (374, 4), (1200, 16)]),
        "ha-station": (200, [(100, 79), (1100, 6), (1400, 32)]),
        "ha-socket": (1, [(300, 125), (1200, 16)]),
        "ha-socket2": (2, [(300, 125), (1200, 16)]),
        "ha-hardcoded": (1, [(300, 6), (306, 22), (328, 34), (362, 64), (1200, 16)]),
    }
    for client, (unit, reads) in windows.items():
        stream = b"".join(mbap(i + 1, unit, fc03(a, c)) for i, (a, c) in enumerate(reads))
        seeds["profile-reads-" + client] = stream
        for a, c in reads:
            seeds["profile-read-%s-%d-%d" % (client, a, c)] = mbap(1, unit, fc03(a, c))
    # §3 and §6: writes (FC16 × 2 float to 1210, FC06 / FC16 × 1 to 1215) and the refused cases.
    seeds["profile-write-1210-16A"] = mbap(7, 1, fc16(1210, float_regs(16.0)))
    seeds["profile-write-1210-10A"] = mbap(8, 1, fc16(1210, float_regs(10.0)))
    seeds["profile-write-1210-0A"] = mbap(9, 1, fc16(1210, float_regs(0.0)))
    seeds["profile-write-1210-nan"] = mbap(10, 1, fc16(1210, [0x7FC0, 0]))
    seeds["profile-write-1210-81A"] = mbap(11, 1, fc16(1210, float_regs(81.0)))
    seeds["profile-write-1210-fc06"] = mbap(12, 1, fc06(1210, 0x4180))
    seeds["profile-write-1209x3"] = mbap(13, 1, fc16(1209, [0, 0x4180, 0]))
    seeds["profile-write-1215-fc06-3"] = mbap(14, 1, fc06(1215, 3))
    seeds["profile-write-1215-fc06-1"] = mbap(15, 1, fc06(1215, 1))
    seeds["profile-write-1215-fc16-1"] = mbap(16, 1, fc16(1215, [1]))
    seeds["profile-write-1215-2"] = mbap(17, 1, fc06(1215, 2))
    seeds["profile-write-scn-1417"] = mbap(18, 200, fc16(1417, float_regs(16.0)))
    seeds["profile-read-unit-255"] = mbap(19, 255, fc03(1200, 16))
    seeds["profile-read-unmapped"] = mbap(20, 1, fc03(1199, 2))
    seeds["profile-fc04"] = mbap(21, 1, [4, 0x04, 0xB0, 0, 16])
    seeds["profile-mbpoll-session"] = mbap(1, 1, fc03(1200, 16)) + mbap(2, 1, fc03(1210, 2)) + mbap(3, 200, fc03(1100, 2)) \
        + mbap(4, 1, fc16(1210, float_regs(16.0))) + mbap(5, 1, fc06(1215, 3))
    # Nasty streams.
    seeds["nasty-empty"] = b""
    seeds["nasty-short-header"] = mbap(1, 1, fc03(1200, 16))[:5]
    seeds["nasty-protocol-1"] = mbap(1, 1, fc03(1200, 16), protocol=1)
    seeds["nasty-length-0"] = mbap(1, 1, b"", length=0)
    seeds["nasty-length-1"] = mbap(1, 1, b"", length=1)
    seeds["nasty-length-255"] = mbap(1, 1, bytes([3]) + bytes(253), length=255)
    seeds["nasty-length-254"] = mbap(1, 1, bytes([16]) + bytes(252))
    seeds["nasty-truncated-pdu"] = mbap(1, 1, fc03(1200, 16))[:-2]
    seeds["nasty-read-0"] = mbap(1, 1, fc03(1200, 0))
    seeds["nasty-read-126"] = mbap(1, 1, fc03(300, 126))
    seeds["nasty-read-wrap"] = mbap(1, 1, fc03(0xFFFF, 125))
    seeds["nasty-fc16-bytecount"] = mbap(1, 1, [16, 0x04, 0xBA, 0, 2, 3, 0x41, 0x80, 0, 0])
    seeds["nasty-fc16-124"] = mbap(1, 1, fc16(1200, [0] * 123)[:5] + bytes([0])) # count 123, byte count 0
    seeds["nasty-fc16-max"] = mbap(1, 1, fc16(1200, [0xFFFF] * 123))
    seeds["nasty-fc03-long"] = mbap(1, 1, fc03(1200, 16) + b"\x00")
    seeds["nasty-exception-pdu"] = mbap(1, 1, [0x83, 0x02])
    seeds["nasty-fc00"] = mbap(1, 0, [0])
    seeds["nasty-good-then-bad"] = mbap(1, 1, fc03(1200, 16)) + mbap(2, 1, fc03(1200, 16), protocol=0xFFFF)
    seeds["nasty-pipeline"] = b"".join(mbap(i, (i % 3) or 200, fc03(1200 if i % 3 else 1100, 6)) for i in range(30))
    for name, data in seeds.items():
        write(MODBUS_DIR, name + ".bin", data)
    return len(seeds)


def main():
    contract = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "JOSEV_CONTRACT", os.path.join(ROOT, "Tests", "Fixtures", "josev", "contract-samples.md"))
    os.makedirs(CONTRACT_DIR, exist_ok=True)
    os.makedirs(MODBUS_DIR, exist_ok=True)
    samples = contract_seeds(contract)
    nasty = contract_nasty()
    frames = modbus_seeds()
    print("contract: %d samples from %s + %d hand-made; modbus: %d" % (samples, contract, nasty, frames))


if __name__ == "__main__":
    main()
