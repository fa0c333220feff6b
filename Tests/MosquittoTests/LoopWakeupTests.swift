import Mosquitto
import Testing
import TestSupport

/// The network thread sleeps until the socket, a wake-up or the keepalive needs it (a quarter of
/// the keepalive at most): with a keepalive of 20 minutes a poll could last 5 minutes, so a
/// publish, a subscription or a stop that waited for the poll's end would not finish here.
@Suite(.serialized) struct LoopWakeupTests {
    @Test("publish, subscribe and disconnect wake the sleeping network thread at once")
    func wakeups() async throws {
        let broker = try await TestBroker()
        let client = try MosquittoClient(configuration: configuration(broker) { $0.keepAlive = 1200 })
        let observer = Observer(client)
        try await client.connect()
        // Idle now: the thread sleeps in its poll.
        try client.subscribe("wake/#", qos: .atLeastOnce)
        let probe = try await MQTTProbe(broker: broker, filter: "wake/#", qos: 1)
        try client.publish(topic: "wake/a", payload: bytes("now"), qos: .atLeastOnce)
        #expect(await probe.waitForMessages(count: 1).map(\.payload) == ["now"])
        try MQTTProbe.publish(broker: broker, topic: "wake/b", payload: "in", qos: 1)
        #expect(await observer.waitForMessages(on: "wake/b").map(\.payload) == [bytes("in")])
        let stopping = Task { await client.disconnect() }
        #expect(await observer.waitForStates { $0.last == .stopped }, "the stop waited for the poll to end")
        #expect(observer.states.suffix(3) == [.connected, .disconnected(nil), .stopped])
        await stopping.value
    }
}
