/// MQTT quality of service. QoS 2 is deliberately not offered: the Josev contract does not use it.
public enum MQTTQoS: Int32, Sendable, CaseIterable {
    case atMostOnce = 0
    case atLeastOnce = 1
}

/// A message received from the broker.
public struct MQTTMessage: Sendable, Equatable {
    public let topic: String
    public let payload: [UInt8]
    public let qos: MQTTQoS
    /// True when the broker delivered a retained message (typically right after subscribing).
    public let retain: Bool

    public init(topic: String, payload: [UInt8], qos: MQTTQoS, retain: Bool) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}

/// The last will: published by the broker when the client's connection dies without a DISCONNECT.
public struct MQTTWill: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: MQTTQoS
    public var retain: Bool

    public init(topic: String, payload: [UInt8], qos: MQTTQoS = .atLeastOnce, retain: Bool = false) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}

/// TLS for the broker connection. The server certificate and host name are always verified
/// (`SSL_VERIFY_PEER`, `mosquitto_tls_insecure_set(false)`); the minimum version is TLS 1.2.
public struct TLSConfiguration: Sendable, Equatable {
    /// PEM file with the CA certificate(s) that signed the broker's certificate.
    public var caFile: String?
    /// Directory of hashed CA certificates (`c_rehash`), alternative or addition to `caFile`.
    public var caPath: String?
    /// Client certificate (PEM), for brokers with `require_certificate true`. Needs `keyFile`.
    public var certFile: String?
    /// Client private key (PEM, unencrypted).
    public var keyFile: String?
    /// Verify the broker's certificate chain and host name. Only tests should turn this off.
    public var verifyPeer: Bool = true
    /// libmosquitto's minimum protocol string: "tlsv1.2" (default, allows 1.3 too) or "tlsv1.3".
    public var minimumVersion: String = "tlsv1.2"

    public init(
        caFile: String? = nil, caPath: String? = nil, certFile: String? = nil, keyFile: String? = nil,
        verifyPeer: Bool = true, minimumVersion: String = "tlsv1.2"
    ) {
        self.caFile = caFile
        self.caPath = caPath
        self.certFile = certFile
        self.keyFile = keyFile
        self.verifyPeer = verifyPeer
        self.minimumVersion = minimumVersion
    }
}

/// Reconnect timing: capped exponential backoff, reset after every successful connect.
///
/// Attempt `n` (0-based, counted since the last successful connect) waits
/// `min(initialDelay * multiplier^n, maximumDelay)`, reduced by up to `jitter` of itself at random.
public struct ReconnectPolicy: Sendable, Equatable {
    public var initialDelay: Duration
    public var multiplier: Double
    public var maximumDelay: Duration
    /// Fraction in 0...1: each delay is multiplied by a random factor in `1 - jitter ... 1`.
    public var jitter: Double

    public init(
        initialDelay: Duration = .milliseconds(500), multiplier: Double = 2, maximumDelay: Duration = .seconds(30),
        jitter: Double = 0
    ) {
        self.initialDelay = initialDelay
        self.multiplier = multiplier
        self.maximumDelay = maximumDelay
        self.jitter = jitter
    }

    /// 0.5 s, 1 s, 2 s, … capped at 30 s, no jitter.
    public static let `default` = ReconnectPolicy()
}

/// Severity of a libmosquitto log line.
public enum MosquittoLogLevel: Sendable, Equatable {
    case debug, info, notice, warning, error
}

/// Everything needed to create a `MosquittoClient`.
public struct MosquittoConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Must not be empty when `cleanSession` is false.
    public var clientID: String
    /// Seconds; libmosquitto requires 5 or more (0 disables keepalive).
    public var keepAlive: Int = 30
    public var cleanSession: Bool = true
    public var username: String?
    public var password: String?
    public var tls: TLSConfiguration?
    public var will: MQTTWill?
    public var reconnect: ReconnectPolicy = .default
    /// From starting a connection attempt (TCP + TLS + CONNECT) until CONNACK and the SUBACKs of the
    /// remembered subscriptions. An attempt that takes longer is aborted and counted as failed.
    public var connectTimeout: Duration = .seconds(10)
    /// Sets `TCP_NODELAY`: request/response latency matters more than packet count here.
    public var tcpNoDelay: Bool = true
    /// Receives libmosquitto's log lines, on the network thread. Keep it cheap and non-blocking.
    public var logHandler: (@Sendable (MosquittoLogLevel, String) -> Void)?
    /// With a `logHandler`, libmosquitto formats a debug line for every MQTT packet (about 8 % of
    /// the daemon's instructions per answered request). When false, the handler gets libmosquitto's
    /// lines only while no session is up (connecting, the TLS handshake, CONNACK: where its lines
    /// explain a failure); once connected, errors still surface as return codes.
    public var packetLogging: Bool = false
    /// When set, the client speaks MQTT 5 and sends this in CONNECT's Maximum Packet Size property:
    /// the broker then never sends it a larger packet (it drops the message), so an oversized
    /// publish is refused before any of it reaches this process. libmosquitto 2.0 takes CONNECT
    /// properties only in its blocking connect, so each attempt first probes the broker's address
    /// without blocking (bounded by `connectTimeout`). A broker that refuses MQTT 5 is retried with
    /// MQTT 3.1.1 (and a warning to `logHandler`), where this bound no longer applies.
    public var maximumIncomingPacketSize: UInt32?
    /// Bounds on the messages waiting between the network thread and the consumer of `messages`.
    public var incoming: IncomingLimits = .unbounded
    /// Called on the network thread after each message shed by `incoming`, with the running total.
    public var onIncomingShed: (@Sendable (ShedCount) -> Void)?

    public init(
        host: String = "127.0.0.1", port: Int = 1883, clientID: String, keepAlive: Int = 30,
        cleanSession: Bool = true, username: String? = nil, password: String? = nil,
        tls: TLSConfiguration? = nil, will: MQTTWill? = nil, reconnect: ReconnectPolicy = .default,
        connectTimeout: Duration = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.clientID = clientID
        self.keepAlive = keepAlive
        self.cleanSession = cleanSession
        self.username = username
        self.password = password
        self.tls = tls
        self.will = will
        self.reconnect = reconnect
        self.connectTimeout = connectTimeout
    }
}

/// The client's connection state, as reported on `MosquittoClient.states`.
public enum ConnectionState: Sendable, Equatable {
    /// A connection attempt started (TCP/TLS/CONNECT sent, no CONNACK yet).
    case connecting
    /// CONNACK 0 received and every remembered subscription acknowledged. Reported after EVERY
    /// (re)connect.
    case connected
    /// The attempt failed or the connection was lost (with the reason), or it was closed cleanly (nil).
    case disconnected(MosquittoError?)
    /// `disconnect()` finished; the streams end after this.
    case stopped
}
