import Modbus
import ModbusNIOClient
import Testing

/// PROFILE.md §1–§3 against the real server over loopback TCP, with our own client.
@Suite("Alfen register map over TCP")
struct RegisterMapTests {
    // MARK: Reads

    @Test("unit 200: 100..178 in one read: strings, table version, date/time, uptime, offset")
    func stationIdentity() async throws {
        let rig = try await Rig.start()
        let client = try await rig.client()
        let r = try await client.readHoldingRegisters(unit: 200, address: 100, count: 79)
        #expect(r.count == 79)
        #expect(ModbusRegisters.string(r[0..<17]) == "CS-Companion Test")
        #expect(ModbusRegisters.string(r[17..<22]) == "ACME")
        #expect(r[22] == 1)
        #expect(ModbusRegisters.string(r[23..<40]) == "1.2.3-test")
        #expect(ModbusRegisters.string(r[40..<57]) == "CSC-1")
        #expect(ModbusRegisters.string(r[57..<68]) == "SN-0001-XYZ")
        let now = ModbusDateTime.now()
        #expect(Int16(bitPattern: r[68]) == now.year)
        #expect((1...12).contains(r[69]) && (1...31).contains(r[70]) && r[71] < 24 && r[72] < 60 && r[73] < 60)
        #expect(ModbusRegisters.uint64(r[74..<78]) == 123_456_789)
        #expect(Int16(bitPattern: r[78]) == now.utcOffsetMinutes)
        // Strings are NUL-padded, not space-padded.
        #expect(r[11..<17].allSatisfy { $0 == 0 })
        await client.close()
        await rig.stop()
    }

    @Test("unit 200: 1100..1105 and the readable 'no SCN' block 1400..1431")
    func stationStatus() async throws {
        let rig = try await Rig.start()
        let client = try await rig.client()
        let status = try await client.readHoldingRegisters(unit: 200, address: 1100, count: 6)
        #expect(ModbusRegisters.float32(status[0..<2]) == 32)
        #expect(ModbusRegisters.float32(status[2..<4]) == 35.5)
        #expect(status[4] == 1)
        #expect(status[5] == 2)
        await rig.station.setTemperature(nil)
        #expect(try await client.readHoldingRegisters(unit: 200, address: 1102, count: 2) == [0xFFFF, 0xFFFF])

        let scn = try await client.readHoldingRegisters(unit: 200, address: 1400, count: 32)
        #expect(ModbusRegisters.string(scn[0..<4]) == "")
        #expect(scn[4] == 0)
        #expect(ModbusRegisters.float32(scn[5..<7])?.isNaN == true)
        #expect(ModbusRegisters.float32(scn[17..<19])?.isNaN == true)
        #expect(ModbusRegisters.uint32(scn[23..<25]) == 0)
        #expect(scn[31] == 0)
        await client.close()
        await rig.stop()
    }

    @Test("socket: 300..424 in ONE 125-register request, values high word first, 0xFFFF where unknown")
    func meterBlock() async throws {
        let rig = try await Rig.start()
        let client = try await rig.client()
        let r = try await client.readHoldingRegisters(unit: 1, address: 300, count: 125)
        #expect(r.count == 125)
        func f32(_ address: Int) -> Float? { ModbusRegisters.float32(r[(address - 300)...]) }
        func f64(_ address: Int) -> Double? { ModbusRegisters.float64(r[(address - 300)...]) }
        #expect(r[0] == 0x03)
        #expect(ModbusRegisters.uint64(r[1..<5]) == 250)
        #expect(r[5] == 0)
        #expect(f32(306) == 230.5)
        #expect(f32(308) == 229.25)
        #expect(f32(310) == 231)
        #expect(r[12..<18].allSatisfy { $0 == 0xFFFF }, "L-L voltages unknown → 0xFFFF")
        #expect(f32(318)?.isNaN == true)
        #expect(f32(320) == 10)
        #expect(f32(326) == 30)
        #expect(f32(336) == 50)
        #expect(f32(344) == 6900)
        #expect(f64(362) == 1000.25)
        #expect(f64(374) == 6002.5)
        #expect(f64(390) == 0)
        #expect(f64(394)?.isNaN == true)
        // The last register of the block (425, low word of the reactive energy sum) is readable too.
        #expect(try await client.readHoldingRegisters(unit: 2, address: 422, count: 4) == [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF])
        // Socket 2 has its own values.
        let energy2 = try await client.readHoldingRegisters(unit: 2, address: 374, count: 4)
        #expect(ModbusRegisters.float64(energy2) == 6003.5)
        // The windows clients use (PROFILE §2).
        for (address, count) in [(306, 6), (320, 6), (344, 2), (374, 4), (300, 62), (300, 6), (306, 22), (328, 34), (362, 64)] {
            let window = try await client.readHoldingRegisters(unit: 1, address: UInt16(address), count: UInt16(count))
            #expect(window.count == count)
            // 362×64 ends at 425, one past the 125-register read.
            let end = min(address - 300 + count, r.count)
            #expect(Array(window.prefix(end - (address - 300))) == Array(r[(address - 300)..<end]))
        }
        await client.close()
        await rig.stop()
    }

    @Test("socket: 1200..1215 status block")
    func statusBlock() async throws {
        let rig = try await Rig.start()
        let client = try await rig.client()
        let r = try await client.readHoldingRegisters(unit: 1, address: 1200, count: 16)
        #expect(r[0] == 1)
        #expect(ModbusRegisters.string(r[1..<6]) == "C2")
        #expect(r[1..<6] == [0x4332, 0, 0, 0, 0])
        #expect(ModbusRegisters.float32(r[6..<8]) == 16)
        #expect(ModbusRegisters.uint32(r[8..<10]) == 0)
        #expect(r[10..<12] == [0xFFFF, 0xFFFF], "no setpoint → NaN")
        #expect(ModbusRegisters.float32(r[12..<14]) == 6)
        #expect(r[14] == 0)
        #expect(r[15] == 3)
        #expect(try await client.readString(unit: 1, address: 1201, count: 5) == "C2")
        await client.close()
        await rig.stop()
    }

    static let outside: [(UInt8, UInt16, UInt16)] = [
        (1, 0, 1), (1, 299, 2), (1, 425, 2), (1, 426, 1), (1, 1199, 2), (1, 1215, 2),
        (1, 1216, 1), (1, 100, 1), (1, 1100, 1), (1, 300, 125 + 0), (200, 99, 2), (200, 178, 2), (200, 179, 1),
        (200, 1106, 1), (200, 1399, 2), (200, 1431, 2), (200, 300, 1), (200, 1200, 16), (2, 65535, 1), (1, 65500, 100),
    ]

    @Test("reads not completely inside one block → 02", arguments: outside)
    func readOutsideBlocks(unit: UInt8, address: UInt16, count: UInt16) async throws {
        let rig = try await Rig.start()
        let client = try await rig.client()
        if (unit, address, count) == (1, 300, 125) {
            // Control row: the maximal valid read.
            #expect(try await client.readHoldingRegisters(unit: unit, address: address, count: count).count == 125)
        } else {
            await #expect(throws: ModbusError.exception(.illegalDataAddress)) {
                _ = try await client.readHoldingRegisters(unit: unit, address: address, count: count)
            }
        }
        await client.close()
        await rig.stop()
    }

    @Test("unknown unit ids → 0B", arguments: [UInt8(0), 3, 199, 201, 255])
    func unknownUnit(unit: UInt8) async throws {
        let rig = try await Rig.start()
        let client = try await rig.client()
        await #expect(throws: ModbusError.exception(.gatewayTargetDeviceFailedToRespond)) {
            _ = try await client.readHoldingRegisters(unit: unit, address: 1200, count: 16)
        }
        await #expect(throws: ModbusError.exception(.gatewayTargetDeviceFailedToRespond)) {
            try await client.writeFloat32(unit: unit, address: 1210, value: 10)
        }
        await client.close()
        await rig.stop()
    }

    // MARK: Writes

    @Test("1210 FC16 × 2: accepted, read back in 1210, 1206, 1208, 1214; changes are logged once")
    func setpoint() async throws {
        let rig = try await Rig.start()
        let client = try await rig.client()
        try await client.writeFloat32(unit: 1, address: 1210, value: 10)
        #expect(try await client.readFloat32(unit: 1, address: 1210) == 10)
        #expect(try await client.readFloat32(unit: 1, address: 1206) == 10)
        #expect(ModbusRegisters.uint32(try await client.readHoldingRegisters(unit: 1, address: 1208, count: 2)) == 60)
        #expect(try await client.readHoldingRegisters(unit: 1, address: 1214, count: 1) == [1])
        // Above the hardware maximum but sane: accepted, clamped in 1206.
        try await client.writeFloat32(unit: 1, address: 1210, value: 40)
        #expect(try await client.readFloat32(unit: 1, address: 1206) == 32)
        // 0 A (pause) and fractional values are fine.
        try await client.writeFloat32(unit: 2, address: 1210, value: 0)
        try await client.writeFloat32(unit: 2, address: 1210, value: 6.4)
        try await client.writeFloat32(unit: 2, address: 1210, value: 6.4)
        try await client.writeFloat32(unit: 2, address: 1210, value: 80)
        let writes = await rig.station.setpointWrites
        #expect(writes.map(\.socket) == [1, 1, 2, 2, 2, 2])
        #expect(writes.map(\.amps) == [10, 40, 0, 6.4, 6.4, 80])
        let changes = rig.logs.lines.current.filter { $0.contains("Modbus write changed value") && $0.contains("unit=2") }
        #expect(changes.count == 3, "6.4 written twice is logged once: \(changes)")
        #expect(rig.logs.contains("previous=10.0 A"))
        await client.close()
        await rig.stop()
    }

    @Test("1210 NaN, ±Inf, negative, > 80 A → 03", arguments: [Float.nan, .infinity, -.infinity, -1, -0.1, 80.5, 1000])
    func absurdSetpoint(value: Float) async throws {
        let rig = try await Rig.start()
        let client = try await rig.client()
        await #expect(throws: ModbusError.exception(.illegalDataValue)) {
            try await client.writeMultipleRegisters(unit: 1, address: 1210, values: ModbusRegisters.registers(uint32: value.bitPattern))
        }
        #expect(await rig.station.setpointWrites.isEmpty)
        await client.close()
        await rig.stop()
    }

    @Test("FC06 to 1210/1211, FC16 to 1210 with count ≠ 2, overlapping and read-only writes → 02")
    func illegalWriteAddresses() async throws {
        let rig = try await Rig.start()
        let client = try await rig.client()
        let cases: [(UInt8, ModbusRequest)] = [
            (1, .writeSingleRegister(address: 1210, value: 0x4120)),
            (1, .writeSingleRegister(address: 1211, value: 0)),
            (1, .writeMultipleRegisters(address: 1210, values: [0x4120])),
            (1, .writeMultipleRegisters(address: 1210, values: [0x4120, 0, 0])),
            (1, .writeMultipleRegisters(address: 1210, values: [0x4120, 0, 0, 0])),
            (1, .writeMultipleRegisters(address: 1209, values: [0, 0x4120, 0])),
            (1, .writeMultipleRegisters(address: 1211, values: [0, 0x4120])),
            (1, .writeMultipleRegisters(address: 1214, values: [1, 3])),
            (1, .writeMultipleRegisters(address: 1215, values: [3, 0])),
            (1, .writeSingleRegister(address: 1200, value: 0)),
            (1, .writeSingleRegister(address: 1206, value: 0)),
            (1, .writeMultipleRegisters(address: 1206, values: [0x4120, 0])),
            (1, .writeMultipleRegisters(address: 1212, values: [0x4120, 0])),
            (1, .writeSingleRegister(address: 300, value: 0)),
            (1, .writeSingleRegister(address: 5000, value: 0)),
            (200, .writeSingleRegister(address: 100, value: 0x4142)),
            (200, .writeMultipleRegisters(address: 1100, values: [0x4120, 0])),
            (200, .writeSingleRegister(address: 1417, value: 0)),
            (200, .writeMultipleRegisters(address: 1416, values: [0, 0x4120])),
            (200, .writeMultipleRegisters(address: 1418, values: [0x4120, 0])),
            (200, .writeMultipleRegisters(address: 1421, values: [0x4120, 0, 0, 0])),
        ]
        for (unit, request) in cases {
            #expect(try await client.send(request, unit: unit) == .exception(.illegalDataAddress), "\(unit) \(request)")
        }
        #expect(await rig.station.setpointWrites.isEmpty)
        #expect(await rig.station.phaseWrites.isEmpty)
        await client.close()
        await rig.stop()
    }

    @Test("1215 by FC06 and by FC16 × 1: accepted; values other than 1/3 → 03")
    func phases() async throws {
        let rig = try await Rig.start()
        let client = try await rig.client()
        try await client.writeSingleRegister(unit: 1, address: 1215, value: 1)
        #expect(try await client.readHoldingRegisters(unit: 1, address: 1215, count: 1) == [1])
        try await client.writeMultipleRegisters(unit: 1, address: 1215, values: [3])
        #expect(try await client.readHoldingRegisters(unit: 1, address: 1215, count: 1) == [3])
        for value: UInt16 in [0, 2, 4, 0xFFFF] {
            await #expect(throws: ModbusError.exception(.illegalDataValue)) {
                try await client.writeSingleRegister(unit: 1, address: 1215, value: value)
            }
        }
        await #expect(throws: ModbusError.exception(.illegalDataValue)) {
            try await client.writeMultipleRegisters(unit: 2, address: 1215, values: [2])
        }
        #expect(await rig.station.phaseWrites.map(\.phases) == [1, 3])
        await client.close()
        await rig.stop()
    }

    @Test("writes disabled by configuration → 01: phase switching not allowed, SCN mode off, writes off")
    func disabledWrites() async throws {
        let rig = try await Rig.start()
        let client = try await rig.client()
        await rig.station.allowPhaseSwitching(false)
        await #expect(throws: ModbusError.exception(.illegalFunction)) {
            try await client.writeSingleRegister(unit: 1, address: 1215, value: 1)
        }
        // SCN max current per phase (1417/1419/1421): writable on Alfen only in SCN mode.
        for address: UInt16 in [1417, 1419, 1421] {
            await #expect(throws: ModbusError.exception(.illegalFunction)) {
                try await client.writeFloat32(unit: 200, address: address, value: 16)
            }
        }
        await #expect(throws: ModbusError.exception(.illegalFunction)) {
            try await client.writeMultipleRegisters(unit: 200, address: 1417, values: [0x4180, 0, 0x4180, 0, 0x4180, 0])
        }
        await client.close()
        await rig.stop()

        let noWrites = try await Rig.start(map: .init(writesEnabled: false))
        let second = try await noWrites.client()
        await #expect(throws: ModbusError.exception(.illegalFunction)) {
            try await second.writeFloat32(unit: 1, address: 1210, value: 10)
        }
        await #expect(throws: ModbusError.exception(.illegalFunction)) {
            try await second.writeSingleRegister(unit: 1, address: 1215, value: 3)
        }
        #expect(try await second.readFloat32(unit: 1, address: 1206) == 16)
        #expect(await noWrites.station.setpointWrites.isEmpty)
        await second.close()
        await noWrites.stop()
    }

    @Test("FC other than 03/06/16 → 01; bad counts → 03 (raw frames)")
    func illegalFunctionsAndCounts() async throws {
        let rig = try await Rig.start()
        let raw = try await RawConnection.connect(port: rig.port)
        let cases: [([UInt8], [UInt8])] = [
            ([0x04, 0x04, 0xB0, 0x00, 0x10], [0x84, 0x01]),  // read input registers
            ([0x01, 0x00, 0x00, 0x00, 0x01], [0x81, 0x01]),  // read coils
            ([0x05, 0x00, 0x00, 0xFF, 0x00], [0x85, 0x01]),  // write coil
            ([0x17, 0x00], [0x97, 0x01]),  // read/write multiple
            ([0x2B, 0x0E, 0x01, 0x00], [0xAB, 0x01]),  // device identification
            ([0x03, 0x01, 0x2C, 0x00, 0x00], [0x83, 0x03]),  // FC03 count 0
            ([0x03, 0x01, 0x2C, 0x00, 0x7E], [0x83, 0x03]),  // FC03 count 126
            ([0x10, 0x04, 0xBA, 0x00, 0x00, 0x00], [0x90, 0x03]),  // FC16 count 0
            // FC16 count 124 (its 248 data bytes cannot fit a 260-byte ADU, so the count lies)
            ([0x10, 0x04, 0xBA, 0x00, 0x7C, 0x02, 0x41, 0x20], [0x90, 0x03]),
            ([0x10, 0x04, 0xBA, 0x00, 0x02, 0x02, 0x41, 0x20], [0x90, 0x03]),  // byte count mismatch
            ([0x10, 0x04, 0xBA, 0x00, 0x02, 0x04, 0x41, 0x20], [0x90, 0x03]),  // data shorter than byte count
        ]
        var expected = 0
        for (index, (pdu, answer)) in cases.enumerated() {
            let transaction = UInt16(100 + index)
            try await raw.send(adu(transaction: transaction, unit: 1, pdu: pdu))
            expected += 9
            let bytes = try #require(await raw.receive(atLeast: expected), "no answer to \(pdu)")
            #expect(Array(bytes[(expected - 9)...]) == adu(transaction: transaction, unit: 1, pdu: answer), "\(pdu)")
        }
        #expect(raw.isOpen)
        await raw.close()
        await rig.stop()
    }

    @Test("internal failure → 04: a handler that answers the wrong register count")
    func internalFailure() async throws {
        struct Broken: ModbusRequestHandler {
            func handle(_ request: ModbusRequest, context: ModbusRequestContext) async -> ModbusResponse {
                .readHoldingRegisters([1, 2, 3])
            }
        }
        let server = ModbusServer(configuration: .init(host: "127.0.0.1", port: 0), handler: Broken())
        let port = try await server.start()
        let client = try await ModbusClient.connect(host: "127.0.0.1", port: port)
        await #expect(throws: ModbusError.exception(.serverDeviceFailure)) {
            _ = try await client.readHoldingRegisters(unit: 1, address: 0, count: 2)
        }
        #expect(try await client.readHoldingRegisters(unit: 1, address: 0, count: 3) == [1, 2, 3])
        await client.close()
        await server.stop()
    }
}
