import Foundation
import Mosquitto
import Synchronization
import TestSupport

/// Records everything a client reports, consuming its two single-consumer streams.
final class Observer: Sendable {
    let client: MosquittoClient
    private let recordedStates = Locked<[ConnectionState]>([])
    private let recordedMessages = Locked<[MQTTMessage]>([])

    init(_ client: MosquittoClient) {
        self.client = client
        Task { [self] in
            for await state in client.states { recordedStates.withLock { $0.append(state) } }
        }
        Task { [self] in
            for await message in client.messages { recordedMessages.withLock { $0.append(message) } }
        }
    }

    var states: [ConnectionState] { recordedStates.withLock { $0 } }
    var messages: [MQTTMessage] { recordedMessages.withLock { $0 } }

    func messages(on topic: String) -> [MQTTMessage] { messages.filter { $0.topic == topic } }

    func count(of state: ConnectionState) -> Int { states.filter { $0 == state }.count }

    /// Waits until `predicate` holds for the recorded states.
    @discardableResult
    func waitForStates(timeout: Duration = .seconds(5), _ predicate: @escaping ([ConnectionState]) -> Bool) async -> Bool {
        await waitUntil(timeout: timeout) { predicate(self.states) }
    }

    @discardableResult
    func waitForMessages(on topic: String, count: Int = 1, timeout: Duration = .seconds(5)) async -> [MQTTMessage] {
        await waitUntil(timeout: timeout) { self.messages(on: topic).count >= count }
        return messages(on: topic)
    }
}

private let clientCounter = Atomic<Int>(0)

/// A unique client ID per test client.
func uniqueClientID(_ prefix: String = "test") -> String {
    let n = clientCounter.add(1, ordering: .relaxed).newValue
    return "\(prefix)-\(getpid())-\(n)"
}

/// Short timings so failures show up fast.
let fastReconnect = ReconnectPolicy(initialDelay: .milliseconds(100), multiplier: 2, maximumDelay: .milliseconds(800))

func configuration(
    _ broker: TestBroker, port: Int? = nil, _ edit: (inout MosquittoConfiguration) -> Void = { _ in }
) -> MosquittoConfiguration {
    var configuration = MosquittoConfiguration(
        host: broker.host, port: port ?? broker.port, clientID: uniqueClientID(), keepAlive: 10,
        reconnect: fastReconnect, connectTimeout: .seconds(3))
    edit(&configuration)
    return configuration
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
