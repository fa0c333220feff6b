import Foundation
import JSONSchema
import JosevContract
import Modbus
import ModbusNIOClient
import Mosquitto
import Testing
import TestSupport

/// Issue 18, findings 1–3: floods against the real daemon, bounded by its own peak RSS (`VmHWM`)
/// and by the latency of a time-critical answer. The figures go to the `make hostile` report.
@Suite("hostile floods", .serialized, .timeLimit(.minutes(3)))
struct HostileFloodTests {
    /// Peak RSS may rise at most this much above its idle value under any flood.
    static let memoryBoundKiB = 16 * 1024

    /// Starts the daemon (with Modbus), waits for READY and one warm-up answer of each kind, and
    /// starts a new peak at the idle resident size.
    static func startDaemon(
        _ broker: TestBroker, directory: TemporaryDirectory, modbusPort: Int
    ) async throws -> (DaemonProcess, JosevTestClient, idleKiB: Int) {
        let daemon = try DaemonProcess(
            config: ModbusEndToEndTests.config(brokerPort: broker.port, modbusPort: modbusPort, validTime: 60), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        #expect(try await josev.ask("cs_status_and_limits") != nil, "warm-up answer")
        let client = try await ModbusClient.connect(host: "127.0.0.1", port: modbusPort)
        #expect(try await client.readHoldingRegisters(unit: 1, address: 300, count: 125).count == 125)
        await client.close()
        #expect(ProcessMemory.resetPeak(pid: daemon.pid), "cannot reset VmHWM of \(daemon.pid)")
        let idle = try #require(ProcessMemory(pid: daemon.pid))
        return (daemon, josev, idle.residentKiB)
    }

    static func offset(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        return (0...(haystack.count - needle.count)).first { haystack[$0..<$0 + needle.count].elementsEqual(needle) }
    }

    static func megabytes(_ kib: Int) -> String { String(format: "%.1f MB", Double(kib) / 1024) }

    static func milliseconds(_ duration: Duration) -> String {
        String(format: "%.0f ms", Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15)
    }

    @Test("Modbus: a master that pipelines 125-register reads and never reads the answers is paused and closed; memory bounded; others served")
    func modbusMasterThatNeverReads() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let modbusPort = try freeLoopbackPort()
        let (daemon, josev, idleKiB) = try await Self.startDaemon(broker, directory: directory, modbusPort: modbusPort)

        // FC03, unit 1, 300, 125 registers: 12 bytes asking for 259.
        let read: [UInt8] = [0, 1, 0, 0, 0, 6, 1, 3, 0x01, 0x2C, 0, 125]
        let chunk = Array([[UInt8]](repeating: read, count: 512).joined())
        let flooder = try RawTCPFlooder(port: modbusPort, receiveBuffer: 4096)
        let started = ContinuousClock.now
        let sent = await Task.detached { flooder.flood(chunk, stall: .seconds(1), limit: .seconds(8)) }.value
        let flooded = ContinuousClock.now - started
        // Stalled: the daemon stopped reading (without back-pressure it reads, and answers into
        // its own memory, for as long as the client writes).
        #expect(flooded < .seconds(8), "the daemon took requests for \(flooded) (\(sent) bytes)")

        // Meanwhile another master is served.
        let other = try await ModbusClient.connect(host: "127.0.0.1", port: modbusPort)
        #expect(try await other.readHoldingRegisters(unit: 1, address: 300, count: 125).count == 125)
        await other.close()
        let peak = try #require(ProcessMemory(pid: daemon.pid)).peakKiB
        #expect(peak - idleKiB <= Self.memoryBoundKiB, "VmHWM \(peak) KiB, idle \(idleKiB) KiB")

        // Unwritable past the timeout: closed by the daemon.
        let closed = await Task.detached { flooder.waitUntilClosedByPeer(timeout: .seconds(30)) }.value
        #expect(closed, "the connection that never reads stayed open")
        let closedAfter = ContinuousClock.now - started

        HostileReport.record("Modbus no-read flood", "requests the sockets took before the flood stalled (kernel buffers)", "\(sent / read.count)")
        HostileReport.record("Modbus no-read flood", "peak RSS above idle", Self.megabytes(peak - idleKiB))
        HostileReport.record("Modbus no-read flood", "closed after", Self.milliseconds(closedAfter))
        await josev.close()
        #expect(await daemon.stop() == 0)
    }

    @Test("MQTT: a burst of large valid envelopes is shed visibly; cs_status_and_limits is answered within 3 s; memory bounded")
    func mqttBurst() async throws {
        let count = Int(ProcessInfo.processInfo.environment["HOSTILE_BURST_COUNT"] ?? "") ?? 800
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let (daemon, josev, idleKiB) = try await Self.startDaemon(broker, directory: directory, modbusPort: try freeLoopbackPort())

        // websocket_status updates of 234 KiB each, each with its own id, serialized before the
        // burst so that it leaves as fast as the broker takes it.
        let padding = String(repeating: "x", count: 234 * 1024)
        let template = Envelope.update(name: "websocket_status", data: ["status": "connected", "padding": .string(padding)])
        let templateBytes = template.json.serializedBytes()
        let idBytes = Array(template.id.utf8)
        let idOffset = try #require(Self.offset(of: idBytes, in: templateBytes))
        let burst = (0..<count).map { index in
            var bytes = templateBytes
            let unique = Array(String(format: "%012x", index).utf8)
            bytes.replaceSubrange(idOffset + idBytes.count - unique.count..<idOffset + idBytes.count, with: unique)
            return bytes
        }
        let publisher = try MosquittoClient(
            configuration: MosquittoConfiguration(port: broker.port, clientID: "hostile-burst-\(getpid())"))
        try await publisher.connect()
        let burstStarted = ContinuousClock.now
        for payload in burst {
            try publisher.publish(topic: Topic.josevToCS, payload: payload, qos: .atMostOnce)
        }
        // The probe goes out behind the burst, through the same client: the broker delivers it after.
        let probe = Envelope.request(name: "cs_status_and_limits", data: [:])
        let asked = ContinuousClock.now
        try publisher.publish(topic: Topic.josevToCS, payload: probe.json.serializedBytes(), qos: .atMostOnce)
        var answeredAfter: Duration?
        await waitUntil(timeout: .seconds(20)) {
            guard josev.messages.contains(where: { $0["id"]?.stringValue == probe.id && $0["type"]?.stringValue == "response" })
            else { return false }
            answeredAfter = ContinuousClock.now - asked
            return true
        }
        let latency = try #require(answeredAfter, "the probe was never answered")
        print("burst: published in \(asked - burstStarted), probe answered \(latency) later; consumed \(daemon.messageCount("consumed") ?? -1), ignored \(daemon.messageCount("ignored") ?? -1), rejected \(daemon.messageCount("rejected") ?? -1), shed \(daemon.messageCount("shed") ?? -1)")
        #expect(latency < .seconds(3), "cs_status_and_limits answered after \(latency) under the burst (the contract gives 3 s)")

        let peak = try #require(ProcessMemory(pid: daemon.pid)).peakKiB
        #expect(peak - idleKiB <= Self.memoryBoundKiB, "VmHWM \(peak) KiB, idle \(idleKiB) KiB")
        // Shedding is visible in status (and logged with its message id).
        var shed = 0
        await waitUntil(timeout: .seconds(10)) {
            shed = daemon.messageCount("shed") ?? 0
            return shed > 0
        }
        #expect(shed > 0 && shed < count, "shed \(shed) of \(count)")
        #expect(await waitUntil(timeout: .seconds(10)) { !daemon.logEntries(messageID: "192e97d206204e139d73500155301c29").isEmpty })

        HostileReport.record("MQTT burst (\(count) × 234 KiB)", "cs_status_and_limits answered after", Self.milliseconds(latency))
        HostileReport.record("MQTT burst (\(count) × 234 KiB)", "peak RSS above idle", Self.megabytes(peak - idleKiB))
        HostileReport.record("MQTT burst (\(count) × 234 KiB)", "messages shed", "\(shed)")
        await publisher.disconnect()
        await josev.close()
        #expect(await daemon.stop() == 0)
    }

    @Test("MQTT: one oversized publish never reaches the daemon (MQTT 5 Maximum Packet Size); memory bounded; the next request answered")
    func oversizedPublish() async throws {
        let megabytes = Int(ProcessInfo.processInfo.environment["HOSTILE_OVERSIZE_MB"] ?? "") ?? 64
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let (daemon, josev, idleKiB) = try await Self.startDaemon(broker, directory: directory, modbusPort: try freeLoopbackPort())

        let prefix = Array(#"{"id":"3f1c2a7e-0000-4000-8000-00000000ffff","name":"websocket_status","type":"update","data":{"status":"connected","padding":""#.utf8)
        let payload = prefix + [UInt8](repeating: UInt8(ascii: "x"), count: megabytes << 20) + Array(#""}}"#.utf8)
        try josev.send(raw: payload)
        let reply = try await josev.ask("cs_status_and_limits", timeout: .seconds(30))
        #expect(reply != nil, "the request behind the oversized publish was not answered")
        let peak = try #require(ProcessMemory(pid: daemon.pid)).peakKiB
        #expect(peak - idleKiB <= Self.memoryBoundKiB, "VmHWM \(peak) KiB, idle \(idleKiB) KiB after a \(megabytes) MB publish")

        HostileReport.record("MQTT oversized publish (\(megabytes) MB)", "peak RSS above idle", Self.megabytes(peak - idleKiB))
        await josev.close()
        #expect(await daemon.stop() == 0)
    }

    @Test("client-id takeovers and a broker restart storm: the daemon reconnects every time and keeps answering")
    func takeoverAndRestartStorm() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: stationConfigYAML(port: broker.port), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        // Another client takes the daemon's client id (the broker drops the older connection), five times.
        for round in 1...5 {
            let connections = daemon.brokerConnections
            let intruder = try MosquittoClient(configuration: MosquittoConfiguration(port: broker.port, clientID: "cs-under-test"))
            try await intruder.connect()
            await intruder.disconnect()
            #expect(await waitUntil(timeout: .seconds(15)) { daemon.brokerConnections > connections }, "round \(round): \(daemon.log)")
        }
        // The broker killed and restarted three times in a row.
        for _ in 1...3 { try await broker.restart() }
        let josev = try await JosevTestClient(broker: broker)
        // A request published before the daemon's subscription is back is lost (clean session), so ask
        // again until one is answered.
        let answered = try await waitUntil(timeout: .seconds(30), interval: .zero) {
            try await josev.ask("cs_status_and_limits", timeout: .seconds(2)) != nil
        }
        #expect(answered, "\(daemon.log)\nbroker:\n\(broker.log())")
        #expect(daemon.exitStatus == nil)
        HostileReport.record("client-id takeovers (5) and broker restarts (3)", "broker connections", "\(daemon.brokerConnections)")
        await josev.close()
        #expect(await daemon.stop() == 0)
    }
}
