import Mosquitto
import Testing
import TestSupport

/// Issue 18, finding 3: with `maximumIncomingPacketSize` the client speaks MQTT 5 and the broker
/// never sends it a larger packet.
@Suite("MQTT 5 maximum packet size")
struct MaximumPacketSizeTests {
    @Test("an oversized message is dropped by the broker; the next one arrives (host 0.0.0.0: the reachability probe runs first)")
    func oversizedIsNeverDelivered() async throws {
        let broker = try await TestBroker()
        let receiver = try MosquittoClient(
            configuration: configuration(broker) {
                $0.host = "0.0.0.0"
                $0.maximumIncomingPacketSize = 1024
            })
        let observer = Observer(receiver)
        try receiver.subscribe("limit/#", qos: .atLeastOnce)
        try await receiver.connect()
        let sender = try MosquittoClient(configuration: configuration(broker))
        try await sender.connect()
        try sender.publish(topic: "limit/big", payload: [UInt8](repeating: 0x61, count: 4096), qos: .atLeastOnce)
        try sender.publish(topic: "limit/small", payload: bytes("after"), qos: .atLeastOnce)
        let small = await observer.waitForMessages(on: "limit/small")
        #expect(small.map(\.payload) == [bytes("after")])
        // Delivery is in order on one subscription: the big one would have come first.
        #expect(observer.messages(on: "limit/big").isEmpty, "broker log:\n\(broker.log())")
        await sender.disconnect()
        await receiver.disconnect()
    }

    @Test("the MQTT 5 connect against an address that never answers times out within connectTimeout, not the kernel's minutes")
    func probeIsBounded() async throws {
        let silent = try TCPProxy(upstreamPort: 0, mode: .blackhole)
        defer { silent.close() }
        var settings = MosquittoConfiguration(host: "0.0.0.0", port: silent.port, clientID: uniqueClientID(), connectTimeout: .seconds(1))
        settings.maximumIncomingPacketSize = 1024
        let client = try MosquittoClient(configuration: settings)
        let clock = ContinuousClock()
        let started = clock.now
        await #expect(throws: MosquittoError.self) { try await client.connect() }
        #expect(clock.now - started < .seconds(3))
    }
}
