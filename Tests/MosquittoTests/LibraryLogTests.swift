import Mosquitto
import Testing
import TestSupport

/// libmosquitto formats one line per packet while a log callback is installed: by default the
/// handler hears it while a connection is being set up, not per packet of a running session.
@Suite(.serialized) struct LibraryLogTests {
    private func lines(packetLogging: Bool) async throws -> (beforeReady: [String], afterReady: [String]) {
        let broker = try await TestBroker()
        let lines = Locked<[String]>([])
        let client = try MosquittoClient(
            configuration: configuration(broker) {
                $0.packetLogging = packetLogging
                $0.logHandler = { _, line in lines.withLock { $0.append(line) } }
            })
        let observer = Observer(client)
        try client.subscribe("log/#", qos: .atLeastOnce)
        try await client.connect()
        let beforeReady = lines.withLock { $0 }
        for index in 0..<5 { try client.publish(topic: "log/\(index)", payload: bytes("x"), qos: .atLeastOnce) }
        #expect(await observer.waitForMessages(on: "log/4").count == 1)
        let afterReady = lines.withLock { Array($0.dropFirst(beforeReady.count)) }
        await client.disconnect()
        return (beforeReady, afterReady)
    }

    @Test func connectionSetUpIsLoggedButNotEveryPacket() async throws {
        let (beforeReady, afterReady) = try await lines(packetLogging: false)
        #expect(beforeReady.contains { $0.contains("CONNECT") })
        #expect(!afterReady.contains { $0.contains("PUBLISH") }, "\(afterReady)")
    }

    @Test func packetLoggingKeepsTheLinePerPacket() async throws {
        let (_, afterReady) = try await lines(packetLogging: true)
        #expect(afterReady.contains { $0.contains("PUBLISH") }, "\(afterReady)")
    }
}
