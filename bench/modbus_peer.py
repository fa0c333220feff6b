#!/usr/bin/env python3
"""bench/modbus_peer.py: the Modbus peer of `make bench`, a pymodbus TCP server serving the same
125-register meter block (holding registers 300..424, FC03) on the same unit as cs-companiond.

    modbus_peer.py HOST PORT UNIT REGISTERS_FILE     (REGISTERS_FILE: 125 integers, from modbusload --dump)
"""
import asyncio
import logging
import sys

from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.server import StartAsyncTcpServer

START, COUNT = 300, 125


def main():
    if len(sys.argv) != 5:
        print("usage: modbus_peer.py HOST PORT UNIT REGISTERS_FILE", file=sys.stderr)
        return 2
    host, port, unit, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    with open(path, encoding="ascii") as handle:
        values = [int(word) for word in handle.read().split()]
    if len(values) != COUNT:
        print(f"modbus_peer.py: {path} holds {len(values)} values, not {COUNT}", file=sys.stderr)
        return 2
    logging.getLogger("pymodbus").setLevel(logging.ERROR)
    # The device context maps protocol address A to block address A + 1 (pymodbus convention).
    block = ModbusSequentialDataBlock(START + 1, values)
    context = ModbusServerContext(devices={unit: ModbusDeviceContext(hr=block)}, single=False)
    asyncio.run(StartAsyncTcpServer(context=context, address=(host, port)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
