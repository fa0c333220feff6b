/// An MQTT 3.1.1 client over libmosquitto with its own network thread, reconnect and backoff.
///
/// - `connect()` waits for the first CONNACK 0 (plus the SUBACKs of subscriptions made before it);
///   `start()` connects in the background. Either way the client then reconnects by itself with the
///   configured `ReconnectPolicy` until `disconnect()`.
/// - Subscriptions are remembered and re-issued after every reconnect; `.connected` is reported on
///   `states` once they are acknowledged.
/// - Publishing while disconnected throws `.noConnection`: there is no offline queue, the caller
///   decides (the daemon republishes its state on `.connected`).
/// - SIGPIPE: the first client sets SIGPIPE to ignored if the process left it at the default.
public final class MosquittoClient: Sendable {
    private let core: ClientCore
    /// Incoming messages of every subscription. Single consumer; bounded by
    /// `configuration.incoming` (unbounded by default).
    public let messages: IncomingMessages
    /// Every state change: `.connecting`, `.connected` (after EVERY (re)connect), `.disconnected(reason)`,
    /// finally `.stopped`, then the stream ends. Single consumer; unbounded buffer.
    public let states: AsyncStream<ConnectionState>

    /// Creates the libmosquitto client and applies the configuration. Does not connect.
    ///
    /// Throws for an invalid configuration: bad host/port/keepalive, a client ID libmosquitto refuses,
    /// an unreadable TLS CA/certificate/key file, or a will libmosquitto refuses.
    public init(configuration: MosquittoConfiguration) throws(MosquittoError) {
        let messages = IncomingMessages(limits: configuration.incoming, onShed: configuration.onIncomingShed ?? { _ in })
        let (states, stateContinuation) = AsyncStream.makeStream(of: ConnectionState.self)
        self.messages = messages
        self.states = states
        self.core = try ClientCore(configuration: configuration, messages: messages, states: stateContinuation)
    }

    deinit {
        core.requestStop()
    }

    /// The configuration the client was created with.
    public var configuration: MosquittoConfiguration { core.configuration }

    /// Starts the client if needed and returns once it is connected: CONNACK 0 received and the
    /// remembered subscriptions acknowledged.
    ///
    /// If this call started the client, the first failed attempt stops it again and is thrown:
    /// `.notAuthorized` (with the broker's reason), `.tls`, `.timeout`, `.errno(ECONNREFUSED)`, ….
    /// If the client was already running (`start()`), the error of the next failed attempt is thrown
    /// and the client keeps retrying. Cancelling the task throws `.cancelled`.
    public func connect() async throws(MosquittoError) {
        try await core.connect().get()
    }

    /// Starts connecting in the background and keeps retrying with backoff; returns immediately.
    /// Watch `states` for the outcome. Does nothing after `disconnect()`.
    public func start() {
        core.start()
    }

    /// Subscribes now if connected, and after every reconnect. Re-subscribing a filter updates its QoS.
    /// Throws `.invalidArgument` for an invalid filter.
    public func subscribe(_ filter: String, qos: MQTTQoS) throws(MosquittoError) {
        try core.subscribe(filter, qos: qos)
    }

    /// Forgets a subscription and unsubscribes now if connected.
    public func unsubscribe(_ filter: String) throws(MosquittoError) {
        try core.unsubscribe(filter)
    }

    /// Publishes from any thread or task.
    ///
    /// Throws `.noConnection` while disconnected (no offline queue), `.invalidArgument` for an invalid
    /// topic, `.payloadSize` for a payload over 256 MiB. A QoS 1 message accepted here stays in
    /// libmosquitto's outgoing queue until PUBACK (libmosquitto resends unacknowledged messages after a
    /// reconnect; our tests do not cover that case). Publishes race with a connection loss: a call
    /// made just as the link drops may still be accepted, or throw `.noConnection`.
    public func publish(topic: String, payload: [UInt8], qos: MQTTQoS, retain: Bool = false) throws(MosquittoError) {
        try core.publish(topic: topic, payload: payload, qos: qos, retain: retain)
    }

    /// Sends DISCONNECT (so the will is not published), stops the network thread, reports `.stopped`
    /// and finishes both streams. Idempotent; waits at most about a second for the broker.
    public func disconnect() async {
        await core.disconnect()
    }

    /// True between `.connected` and the next `.disconnected`.
    public var isConnected: Bool { core.isConnected }

    /// True while the client connects, is connected or waits to retry; false before the first
    /// `connect()`/`start()`, after a `connect()` whose first attempt failed (no retries follow),
    /// and after `disconnect()`.
    public var isRunning: Bool { core.isRunning }

    /// The libmosquitto version in use, e.g. "2.0.11".
    public static var libraryVersion: String { MosquittoLibrary.version }
}
