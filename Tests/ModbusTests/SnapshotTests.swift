import Logging
import Modbus
import ModbusNIOClient
import Testing
import TestSupport

extension FakeStation {
    /// Sets socket `index`'s meter sums (current, power, energy) all to `value`, so that a read of
    /// the meter block shows whether it came from one image.
    func setMeterSums(_ index: Int, to value: Int) {
        sockets[index]?.meter.currentSum = Float(value)
        sockets[index]?.meter.realPowerSum = Float(value)
        sockets[index]?.meter.realEnergyDeliveredSum = Double(value)
        sockets[index]?.meter.realEnergyConsumedSum = Double(value)
    }
}

/// A server whose map has the fast read path on (as the daemon runs it).
private struct FastRig {
    let station: FakeStation
    let map: AlfenRegisterMap
    let server: ModbusServer
    let port: Int

    static func start(maxAge: Duration = .seconds(60)) async throws -> FastRig {
        let station = FakeStation()
        let logger = Logger(label: "modbus.test.snapshot")
        let map = AlfenRegisterMap(source: station, configuration: .init(snapshotMaxAge: maxAge), logger: logger)
        let server = ModbusServer(configuration: .init(host: "127.0.0.1", port: 0), handler: map, logger: logger)
        let port = try await server.start()
        return FastRig(station: station, map: map, server: server, port: port)
    }

    func client() async throws -> ModbusClient { try await ModbusClient.connect(host: "127.0.0.1", port: port) }
}

/// The meter block's sums (326 current, 344 power, 392 delivered, 408 consumed); one image shows
/// them all equal.
private func meterSums(_ r: [UInt16]) -> [Double] {
    [
        Double(ModbusRegisters.float32(r[26...]) ?? -1), Double(ModbusRegisters.float32(r[44...]) ?? -1),
        ModbusRegisters.float64(r[74...]) ?? -1, ModbusRegisters.float64(r[90...]) ?? -1,
    ]
}

@Suite("Register snapshot (fast read path)")
struct SnapshotTests {
    @Test("the image answers like the map: registers, 0B unknown unit, 02 outside a block, 04 short block")
    func imageAnswers() {
        var image = ModbusRegisterImage()
        image.setUnit(1, blocks: [(1200...1203, [1, 2, 3, 4]), (300...301, [7])])
        #expect(image.response(unit: 1, address: 1201, count: 2) == .readHoldingRegisters([2, 3]))
        #expect(image.response(unit: 2, address: 1200, count: 1) == .exception(.gatewayTargetDeviceFailedToRespond))
        #expect(image.response(unit: 1, address: 1203, count: 2) == .exception(.illegalDataAddress))
        #expect(image.response(unit: 1, address: 1199, count: 1) == .exception(.illegalDataAddress))
        #expect(image.response(unit: 1, address: 300, count: 1) == .exception(.serverDeviceFailure))

        let snapshot = ModbusRegisterSnapshot(maxAge: .seconds(60))
        var buffer: [UInt8] = []
        #expect(snapshot.answerRead(unit: 1, address: 1200, count: 1, into: &buffer) == .unavailable, "no image yet")
        snapshot.install(image, generation: 1, taken: .now)
        #expect(snapshot.answerRead(unit: 1, address: 1202, count: 2, into: &buffer) == .answered)
        #expect(buffer == [0x03, 4, 0, 3, 0, 4])
        buffer.removeAll()
        #expect(snapshot.answerRead(unit: 9, address: 1200, count: 1, into: &buffer) == .exception(.gatewayTargetDeviceFailedToRespond))
        #expect(buffer.isEmpty, "an exception appends nothing")
        // An image of an older generation does not replace a newer one.
        var older = ModbusRegisterImage()
        older.setUnit(1, blocks: [(1200...1203, [9, 9, 9, 9])])
        #expect(!snapshot.install(older, generation: 0, taken: .now))
        #expect(snapshot.image == image)
        // A stale image is not served.
        let stale = ModbusRegisterSnapshot(maxAge: .milliseconds(10))
        stale.install(image, generation: 1, taken: .now - .seconds(1))
        #expect(stale.answerRead(unit: 1, address: 1200, count: 1, into: &buffer) == .unavailable)
    }

    @Test("reads come from the snapshot; a read after a write sees the write (also pipelined in one segment)")
    func readAfterWrite() async throws {
        let rig = try await FastRig.start()
        await rig.map.refreshSnapshot()
        let client = try await rig.client()
        // Served from the image: a change the map was not told about is not visible yet ...
        await rig.station.setMeterSums(1, to: 77)
        #expect(meterSums(try await client.readHoldingRegisters(unit: 1, address: 300, count: 125)) != [77, 77, 77, 77])
        // ... until the owner refreshes.
        await rig.map.refreshSnapshot()
        #expect(meterSums(try await client.readHoldingRegisters(unit: 1, address: 300, count: 125)) == [77, 77, 77, 77])

        let before = rig.map.snapshot.generation
        try await client.writeFloat32(unit: 1, address: 1210, value: 12)
        let afterWrite = rig.map.snapshot.generation
        #expect(afterWrite > before, "the write refreshed the image before it was answered")
        #expect(try await client.readFloat32(unit: 1, address: 1210) == 12)
        #expect(try await client.readFloat32(unit: 1, address: 1206) == 12)
        #expect(rig.map.snapshot.generation == afterWrite, "the reads were answered from the image")

        // Write and read in one TCP segment: the read is answered after the write, with its value.
        let raw = try await RawConnection.connect(port: rig.port)
        let write = adu(transaction: 1, unit: 1, pdu: [0x06, 0x04, 0xBF, 0x00, 0x01])  // 1215 := 1
        let read = adu(transaction: 2, unit: 1, pdu: [0x03, 0x04, 0xBF, 0x00, 0x01])  // 1215
        try await raw.send(write + read)
        let bytes = try #require(await raw.receive(atLeast: 12 + 11))
        #expect(Array(bytes[0..<12]) == adu(transaction: 1, unit: 1, pdu: [0x06, 0x04, 0xBF, 0x00, 0x01]))
        #expect(Array(bytes[12..<23]) == adu(transaction: 2, unit: 1, pdu: [0x03, 0x02, 0x00, 0x01]))
        await raw.close()
        await client.close()
        await rig.server.stop()
    }

    @Test("a stale snapshot is not served: the read refreshes it")
    func staleSnapshot() async throws {
        let rig = try await FastRig.start(maxAge: .milliseconds(20))
        await rig.map.refreshSnapshot()
        await rig.station.setMeterSums(2, to: 5)
        // Until the installed image is older than maxAge and the snapshot refuses to serve it.
        #expect(await waitUntil(interval: .milliseconds(5)) {
            var buffer: [UInt8] = []
            return rig.map.snapshot.answerRead(unit: 2, address: 300, count: 125, into: &buffer) == .unavailable
        })
        let client = try await rig.client()
        #expect(meterSums(try await client.readHoldingRegisters(unit: 2, address: 300, count: 125)) == [5, 5, 5, 5])
        await client.close()
        await rig.server.stop()
    }

    @Test("reads during refreshes see the old or the new image, never a mix inside one block")
    func readsDuringRefreshes() async throws {
        let rig = try await FastRig.start()
        await rig.station.setMeterSums(1, to: 0)
        await rig.map.refreshSnapshot()
        let refresher = Task {
            for value in 1...400 {
                await rig.station.setMeterSums(1, to: value)
                await rig.map.refreshSnapshot()
            }
        }
        let readers = (0..<3).map { _ in
            Task { () throws -> (reads: Int, mixed: [[Double]]) in
                let client = try await rig.client()
                var mixed: [[Double]] = []
                var reads = 0
                while reads < 1500 {
                    let sums = meterSums(try await client.readHoldingRegisters(unit: 1, address: 300, count: 125))
                    reads += 1
                    if Set(sums).count != 1 { mixed.append(sums) }
                }
                await client.close()
                return (reads, mixed)
            }
        }
        // The snapshot itself, from other threads, without the network in between.
        let direct = Task.detached { () -> Int in
            var mixes = 0
            for _ in 0..<20_000 {
                var buffer: [UInt8] = []
                guard rig.map.snapshot.answerRead(unit: 1, address: 300, count: 125, into: &buffer) == .answered,
                      case let bytes = Array(buffer.dropFirst(2).prefix(250)), bytes.count == 250
                else { continue }
                let registers = (0..<125).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
                if Set(meterSums(registers)).count != 1 { mixes += 1 }
            }
            return mixes
        }
        await refresher.value
        for reader in readers {
            let result = try await reader.value
            #expect(result.reads > 0)
            #expect(result.mixed.isEmpty, "mixed images: \(result.mixed.prefix(3))")
        }
        #expect(await direct.value == 0)
        #expect(meterSums(try #require(rig.map.snapshot.image.map {
            guard case .readHoldingRegisters(let r) = $0.response(unit: 1, address: 300, count: 125) else { return [] }
            return r
        })) == [400, 400, 400, 400])
        await rig.server.stop()
    }

    @Test("a source with revisions: a refresh that finds the image current rebuilds nothing; a write rebuilds once")
    func revisionedRefresh() async throws {
        let station = FakeStation()
        await station.trackRevisions()
        let map = AlfenRegisterMap(source: station, configuration: .init(snapshotMaxAge: .seconds(60)), logger: Logger(label: "modbus.test.snapshot"))
        await map.refreshSnapshot()
        #expect(await station.socketReads == 2, "one build reads both sockets once")
        await map.refreshSnapshotIfChanged()
        #expect(await station.socketReads == 2, "nothing changed: no build")

        let write = ModbusRequest.writeMultipleRegisters(address: 1210, values: ModbusRegisters.registers(float32: 12))
        #expect(await map.handle(write, context: ModbusRequestContext(unitID: 1)) == .success(for: write))
        #expect(await station.socketReads == 4, "the write rebuilt the image once")
        // The notifications the write caused (two here) find the image current.
        await map.refreshSnapshotIfChanged()
        await map.refreshSnapshotIfChanged()
        #expect(await station.socketReads == 4)
        let setpoint = try #require(map.snapshot.image?.response(unit: 1, address: 1210, count: 2))
        #expect(setpoint == .readHoldingRegisters(ModbusRegisters.registers(float32: 12)))

        await station.bumpRevision()  // a tick: time moved
        await map.refreshSnapshotIfChanged()
        #expect(await station.socketReads == 6, "a new revision rebuilds")
    }

    @Test("a source without revisions rebuilds on every refresh")
    func unrevisionedRefresh() async {
        let station = FakeStation()
        let map = AlfenRegisterMap(source: station, configuration: .init(snapshotMaxAge: .seconds(60)), logger: Logger(label: "modbus.test.snapshot"))
        await map.refreshSnapshotIfChanged()
        await map.refreshSnapshotIfChanged()
        #expect(await station.socketReads == 4)
    }
}
