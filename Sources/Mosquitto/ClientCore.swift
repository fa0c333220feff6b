import Basics
import CMosquitto
import Glibc

/// The shared part of a `MosquittoClient`: the libmosquitto handle, the state machine and the
/// network thread.
///
/// Threading:
/// * One network thread per running client (a detached pthread) polls the broker's socket
///   (`loopStep`: `mosquitto_loop_read/write/misc`), connects, times attempts out and waits out the
///   backoff. All libmosquitto callbacks run on it. It sleeps until the socket, a `wakeup` or the
///   keepalive needs it: idle, it wakes a few times a minute.
/// * Any thread may call `publish`, `subscribe` and `unsubscribe`. libmosquitto is put in threaded
///   mode (`mosquitto_threaded_set(true)`), so those only queue the packet under libmosquitto's own
///   mutexes and signal `wakeup`; the network thread writes it.
/// * Every piece of Swift state lives in `state`, a `Locked` (pthread mutex). Continuations (stream and waiter) are
///   resumed while holding it so that reported states keep their order.
///
/// `@unchecked Sendable`: the only stored property that is not `Sendable` is `mosq`, an immutable
/// pointer. The libmosquitto object it points to is guarded by libmosquitto's internal mutexes for the
/// calls made from several threads (publish/subscribe/unsubscribe/socket in threaded mode); the calls
/// that are not thread-safe (option setters, connect, loop, disconnect) are made in `init` before any
/// thread exists, or only by the network thread, of which at most one runs at a time
/// (`state.lifecycle`); `mosquitto_destroy` runs in `deinit`, when no thread can reach `self`.
final class ClientCore: @unchecked Sendable {
    enum Lifecycle: Equatable {
        case idle, running, stopped
    }

    enum StopRequest: Equatable {
        /// Close the connection and go back to `.idle` (a `connect()` that started the client was cancelled).
        case toIdle
        /// `disconnect()`: close the connection, then `.stopped` for good.
        case final
    }

    struct State {
        var lifecycle: Lifecycle = .idle
        var stopRequest: StopRequest?
        /// The client was started by `connect()`, not `start()`, and has not been connected yet: the
        /// first failed attempt stops it again instead of retrying.
        var stopOnFirstFailure = false
        /// CONNACK 0 received on the current connection: publishing is allowed.
        var sessionUp = false
        /// `sessionUp` and every remembered subscription acknowledged: `.connected` was reported.
        var ready = false
        var pendingSubacks: Set<Int32> = []
        /// Remembered subscriptions, in the order they were first made.
        var subscriptions: [(filter: String, qos: MQTTQoS)] = []
        /// The first error seen during the current connection (CONNACK refusal, timeout, loop error);
        /// reported when the connection ends.
        var linkError: MosquittoError?
        var backoff: Backoff
        /// The broker refused MQTT 5: later attempts use MQTT 3.1.1.
        var fellBackToV311 = false
        var nextWaiterID: UInt64 = 0
        var connectWaiters: [UInt64: CheckedContinuation<Result<Void, MosquittoError>, Never>] = [:]
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
    }

    let mosq: OpaquePointer
    let configuration: MosquittoConfiguration
    let state: Locked<State>
    let messages: IncomingMessages
    let stateContinuation: AsyncStream<ConnectionState>.Continuation

    /// Signalled by every other thread that gives the network thread work (a packet queued, a stop).
    let wakeup = LoopWakeup()

    /// How long one poll may block while a connection attempt is under way: the granularity of the
    /// connect timeout. Once the session is up, the keepalive alone bounds it (`idlePollMilliseconds`).
    static let connectingPollMilliseconds: Int32 = 100

    init(
        configuration: MosquittoConfiguration,
        messages: IncomingMessages,
        states: AsyncStream<ConnectionState>.Continuation
    ) throws(MosquittoError) {
        try MosquittoLibrary.ensureInitialised()
        try ClientCore.validate(configuration)
        self.configuration = configuration
        self.messages = messages
        self.stateContinuation = states
        self.state = Locked(State(backoff: Backoff(policy: configuration.reconnect)))

        errno = 0
        // userdata is set below, once `self` is fully initialised.
        guard let handle = mosquitto_new(configuration.clientID, configuration.cleanSession, nil) else {
            let saved = errno
            if saved == ENOMEM {
                throw MosquittoError.library(MOSQ_ERR_NOMEM.rawValue, context: "mosquitto_new")
            }
            throw MosquittoError.library(MOSQ_ERR_INVAL.rawValue, context: "mosquitto_new(clientID: \"\(configuration.clientID)\")")
        }
        self.mosq = handle
        // From here on a throw runs deinit, which destroys the handle.
        mosquitto_user_data_set(handle, Unmanaged.passUnretained(self).toOpaque())
        try configure()
    }

    deinit {
        mosquitto_destroy(mosq)
    }

    private static func validate(_ configuration: MosquittoConfiguration) throws(MosquittoError) {
        func invalid(_ what: String) -> MosquittoError {
            MosquittoError(
                code: MOSQ_ERR_INVAL.rawValue, kind: .invalidArgument,
                message: String(cString: mosquitto_strerror(MOSQ_ERR_INVAL.rawValue)), context: what)
        }
        if configuration.host.isEmpty { throw invalid("host is empty") }
        if !(1...65535).contains(configuration.port) { throw invalid("port \(configuration.port) out of range") }
        if configuration.keepAlive != 0 && !(5...65535).contains(configuration.keepAlive) {
            throw invalid("keepAlive \(configuration.keepAlive) must be 0 or 5...65535 seconds")
        }
        if configuration.connectTimeout <= .zero { throw invalid("connectTimeout must be positive") }
        if configuration.password != nil && configuration.username == nil {
            throw invalid("password without username")
        }
    }

    private func check(_ rc: Int32, _ context: String) throws(MosquittoError) {
        let saved = errno
        if rc != MOSQ_ERR_SUCCESS.rawValue { throw MosquittoError.library(rc, errno: saved, context: context) }
    }

    /// Options and callbacks; only called from `init`.
    private func configure() throws(MosquittoError) {
        let c = configuration
        mosquitto_threaded_set(mosq, true)
        let version = c.maximumIncomingPacketSize == nil ? MQTT_PROTOCOL_V311 : MQTT_PROTOCOL_V5
        try check(mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, version), "MOSQ_OPT_PROTOCOL_VERSION")
        if c.tcpNoDelay {
            try check(mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1), "MOSQ_OPT_TCP_NODELAY")
        }
        if let username = c.username {
            try check(mosquitto_username_pw_set(mosq, username, c.password), "mosquitto_username_pw_set")
        }
        if let will = c.will {
            guard will.payload.count <= 268_435_455 else {
                throw MosquittoError.library(MOSQ_ERR_PAYLOAD_SIZE.rawValue, context: "will payload of \(will.payload.count) bytes")
            }
            let rc = will.payload.withUnsafeBytes { bytes in
                mosquitto_will_set(mosq, will.topic, Int32(bytes.count), bytes.baseAddress, will.qos.rawValue, will.retain)
            }
            try check(rc, "mosquitto_will_set(topic: \"\(will.topic)\")")
        }
        if let tls = c.tls {
            try ClientCore.checkReadable(tls.caFile, "TLS CA file")
            try ClientCore.checkReadable(tls.certFile, "TLS certificate file")
            try ClientCore.checkReadable(tls.keyFile, "TLS key file")
            if tls.caFile == nil && tls.caPath == nil {
                throw MosquittoError(
                    code: MOSQ_ERR_INVAL.rawValue, kind: .invalidArgument,
                    message: String(cString: mosquitto_strerror(MOSQ_ERR_INVAL.rawValue)),
                    context: "TLS needs caFile or caPath")
            }
            try check(
                mosquitto_tls_set(mosq, tls.caFile, tls.caPath, tls.certFile, tls.keyFile, nil),
                "mosquitto_tls_set(caFile: \(tls.caFile ?? "nil"), caPath: \(tls.caPath ?? "nil"), certFile: \(tls.certFile ?? "nil"), keyFile: \(tls.keyFile ?? "nil"))")
            try check(
                mosquitto_tls_opts_set(mosq, tls.verifyPeer ? 1 : 0, tls.minimumVersion, nil),
                "mosquitto_tls_opts_set(\(tls.minimumVersion))")
            try check(mosquitto_tls_insecure_set(mosq, !tls.verifyPeer), "mosquitto_tls_insecure_set")
        }

        mosquitto_connect_callback_set(mosq) { _, userdata, rc in
            ClientCore.from(userdata)?.handleConnack(rc)
        }
        mosquitto_disconnect_callback_set(mosq) { _, userdata, rc in
            ClientCore.from(userdata)?.handleDisconnect(rc)
        }
        mosquitto_subscribe_callback_set(mosq) { _, userdata, mid, count, granted in
            let refused = granted.map { UnsafeBufferPointer(start: $0, count: Int(max(count, 0))).contains { $0 >= 128 } } ?? false
            ClientCore.from(userdata)?.handleSuback(mid, refused: refused)
        }
        mosquitto_message_callback_set(mosq) { _, userdata, message in
            guard let message else { return }
            ClientCore.from(userdata)?.handleMessage(message.pointee)
        }
        libraryLog(true)
    }

    /// Installs or removes libmosquitto's log callback (it formats a line per packet while one is
    /// installed); never installed without a `logHandler`, never removed with `packetLogging`.
    private func libraryLog(_ on: Bool) {
        guard configuration.logHandler != nil else { return }
        if on {
            mosquitto_log_callback_set(mosq) { _, userdata, level, text in
                guard let text else { return }
                ClientCore.from(userdata)?.handleLog(level, String(cString: text))
            }
        } else if !configuration.packetLogging {
            mosquitto_log_callback_set(mosq, nil)
        }
    }

    /// A missing or unreadable file is a typed error now, not a failed handshake later.
    private static func checkReadable(_ path: String?, _ what: String) throws(MosquittoError) {
        guard let path else { return }
        if access(path, R_OK) != 0 {
            let saved = errno
            throw MosquittoError.library(MOSQ_ERR_ERRNO.rawValue, errno: saved, context: "\(what) \(path)")
        }
    }

    private static func from(_ userdata: UnsafeMutableRawPointer?) -> ClientCore? {
        guard let userdata else { return nil }
        // Unretained: the handle (and so any callback) never outlives `self`, which destroys it in deinit.
        return Unmanaged<ClientCore>.fromOpaque(userdata).takeUnretainedValue()
    }

    // MARK: - Reporting (call with the lock held)

    private func report(_ newState: ConnectionState) {
        stateContinuation.yield(newState)
    }

    private func finishStreams(_ s: inout State) {
        s.lifecycle = .stopped
        report(.stopped)
        stateContinuation.finish()
        messages.finish()
        for (_, waiter) in s.connectWaiters {
            waiter.resume(returning: .failure(.notConnected("client stopped")))
        }
        s.connectWaiters.removeAll()
        for waiter in s.stopWaiters { waiter.resume() }
        s.stopWaiters.removeAll()
    }

    private func becomeReady(_ s: inout State) {
        libraryLog(false)  // session up: no formatted line per packet from here on
        s.ready = true
        s.stopOnFirstFailure = false
        s.backoff.reset()
        report(.connected)
        for (_, waiter) in s.connectWaiters { waiter.resume(returning: .success(())) }
        s.connectWaiters.removeAll()
    }

    // MARK: - libmosquitto callbacks (network thread, inside mosquitto_loop)

    private func handleConnack(_ rc: Int32) {
        guard rc == 0 else {
            // 1 (MQTT 3.1.1 "unacceptable protocol version") or 132 (MQTT 5 "unsupported protocol version").
            let refusedV5 = configuration.maximumIncomingPacketSize != nil && (rc == 1 || rc == 132)
            let first = state.withLock { s in
                if s.linkError == nil { s.linkError = .connack(rc) }
                defer { if refusedV5 { s.fellBackToV311 = true } }
                return refusedV5 && !s.fellBackToV311
            }
            if first {
                configuration.logHandler?(
                    .warning,
                    "the broker refused MQTT 5 (CONNACK \(rc)); using MQTT 3.1.1, so the broker may send messages larger than \(configuration.maximumIncomingPacketSize ?? 0) bytes: set its max_packet_size")
            }
            return
        }
        let subscriptions = state.withLock { s in
            s.sessionUp = true
            s.pendingSubacks.removeAll()
            return s.subscriptions
        }
        var mids: [Int32] = []
        for subscription in subscriptions {
            var mid: Int32 = 0
            let result = mosquitto_subscribe(mosq, &mid, subscription.filter, subscription.qos.rawValue)
            if result == MOSQ_ERR_SUCCESS.rawValue { mids.append(mid) }
            // Otherwise the connection is already going down; the next CONNACK re-issues it.
        }
        state.withLock { s in
            guard s.sessionUp else { return }
            s.pendingSubacks.formUnion(mids)
            if s.pendingSubacks.isEmpty && !s.ready { becomeReady(&s) }
        }
    }

    private func handleSuback(_ mid: Int32, refused: Bool) {
        if refused {
            // The broker's ACL said no (SUBACK 0x80). Nothing to retry; make it visible.
            configuration.logHandler?(.warning, "subscription refused by the broker (SUBACK 0x80, mid \(mid))")
        }
        state.withLock { s in
            guard s.pendingSubacks.remove(mid) != nil else { return }
            if s.pendingSubacks.isEmpty && s.sessionUp && !s.ready { becomeReady(&s) }
        }
    }

    private func handleDisconnect(_ rc: Int32) {
        // For MOSQ_ERR_ERRNO the cause is in errno right now; it does not survive until mosquitto_loop returns.
        let saved = errno
        state.withLock { s in
            s.sessionUp = false
            if rc != 0 && s.linkError == nil && s.stopRequest == nil {
                s.linkError = .library(rc, errno: saved, context: "connection closed")
            }
        }
    }

    private func handleMessage(_ message: mosquitto_message) {
        guard let topicPointer = message.topic else { return }
        let size = message.payload != nil ? Int(max(message.payloadlen, 0)) : 0
        // The payload is copied only if the bounded intake takes it.
        messages.offer(size: size) {
            let payload: [UInt8]
            if let bytes = message.payload, size > 0 {
                payload = Array(UnsafeRawBufferPointer(start: bytes, count: size))
            } else {
                payload = []
            }
            let qos = MQTTQoS(rawValue: message.qos) ?? .atLeastOnce
            return MQTTMessage(topic: String(cString: topicPointer), payload: payload, qos: qos, retain: message.retain)
        }
    }

    private func handleLog(_ level: Int32, _ text: String) {
        guard let handler = configuration.logHandler else { return }
        let mapped: MosquittoLogLevel
        switch level {
        case MOSQ_LOG_ERR: mapped = .error
        case MOSQ_LOG_WARNING: mapped = .warning
        case MOSQ_LOG_NOTICE: mapped = .notice
        case MOSQ_LOG_INFO: mapped = .info
        default: mapped = .debug
        }
        handler(mapped, text)
    }

    // MARK: - Control (any thread)

    var isConnected: Bool {
        state.withLock { $0.ready }
    }

    var isRunning: Bool {
        state.withLock { $0.lifecycle == .running }
    }

    /// Starts the network thread if idle (lock held). Returns an error if the thread could not be created.
    private func launch(_ s: inout State) -> MosquittoError? {
        guard s.lifecycle == .idle else { return nil }
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, nil,
            { argument in
                guard let argument else { return nil }
                // Balances passRetained: the thread keeps the core alive until it has finished with libmosquitto.
                let core = Unmanaged<ClientCore>.fromOpaque(argument).takeRetainedValue()
                core.runNetworkThread()
                return nil
            }, context)
        guard rc == 0 else {
            Unmanaged<ClientCore>.fromOpaque(context).release()
            return MosquittoError.library(MOSQ_ERR_ERRNO.rawValue, errno: rc, context: "pthread_create")
        }
        pthread_detach(thread)
        s.lifecycle = .running
        s.stopRequest = nil
        s.backoff.reset()
        return nil
    }

    func start() {
        state.withLock { s in
            switch s.lifecycle {
            case .idle:
                s.stopOnFirstFailure = false
                if let error = launch(&s) { report(.disconnected(error)) }
            case .running:
                s.stopOnFirstFailure = false
                if s.stopRequest == .toIdle { s.stopRequest = nil }
            case .stopped:
                break
            }
        }
    }

    func makeWaiterID() -> UInt64 {
        state.withLock { s in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
    }

    func connect() async -> Result<Void, MosquittoError> {
        let id = makeWaiterID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: CheckedContinuation<Result<Void, MosquittoError>, Never>) in
                state.withLock { s in
                    if Task.isCancelled {
                        waiter.resume(returning: .failure(.cancelled("connect")))
                        return
                    }
                    switch s.lifecycle {
                    case .stopped:
                        waiter.resume(returning: .failure(.notConnected("client stopped")))
                    case .running where s.ready:
                        waiter.resume(returning: .success(()))
                    case .running:
                        if s.stopRequest == .toIdle { s.stopRequest = nil }
                        s.connectWaiters[id] = waiter
                    case .idle:
                        if let error = launch(&s) {
                            report(.disconnected(error))
                            waiter.resume(returning: .failure(error))
                            return
                        }
                        s.stopOnFirstFailure = true
                        s.connectWaiters[id] = waiter
                    }
                }
            }
        } onCancel: {
            state.withLock { s in
                guard let waiter = s.connectWaiters.removeValue(forKey: id) else { return }
                waiter.resume(returning: .failure(.cancelled("connect")))
                // Nobody else waits for the client that this connect() started: give up on it.
                if s.stopOnFirstFailure && s.connectWaiters.isEmpty && s.lifecycle == .running && s.stopRequest == nil {
                    s.stopRequest = .toIdle
                    wakeup.signal()
                }
            }
        }
    }

    func disconnect() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            state.withLock { s in
                switch s.lifecycle {
                case .stopped:
                    waiter.resume()
                case .idle:
                    finishStreams(&s)
                    waiter.resume()
                case .running:
                    s.stopRequest = .final
                    s.stopWaiters.append(waiter)
                    wakeup.signal()
                }
            }
        }
    }

    /// From `MosquittoClient.deinit`: stop without waiting. The network thread keeps the core alive.
    func requestStop() {
        state.withLock { s in
            switch s.lifecycle {
            case .stopped: break
            case .idle: finishStreams(&s)
            case .running:
                s.stopRequest = .final
                wakeup.signal()
            }
        }
    }

    func subscribe(_ filter: String, qos: MQTTQoS) throws(MosquittoError) {
        let rc = mosquitto_sub_topic_check(filter)
        if rc != MOSQ_ERR_SUCCESS.rawValue { throw MosquittoError.library(rc, context: "subscription filter \"\(filter)\"") }
        let sendNow = state.withLock { s in
            if let index = s.subscriptions.firstIndex(where: { $0.filter == filter }) {
                s.subscriptions[index].qos = qos
            } else {
                s.subscriptions.append((filter, qos))
            }
            return s.sessionUp
        }
        guard sendNow else { return }
        let result = mosquitto_subscribe(mosq, nil, filter, qos.rawValue)
        wakeup.signal()
        try checkLive(result, "mosquitto_subscribe(\"\(filter)\")")
    }

    func unsubscribe(_ filter: String) throws(MosquittoError) {
        let sendNow = state.withLock { s in
            s.subscriptions.removeAll { $0.filter == filter }
            return s.sessionUp
        }
        guard sendNow else { return }
        let result = mosquitto_unsubscribe(mosq, nil, filter)
        wakeup.signal()
        try checkLive(result, "mosquitto_unsubscribe(\"\(filter)\")")
    }

    /// For subscribe/unsubscribe: losing the connection meanwhile is fine (re-issued on reconnect).
    private func checkLive(_ rc: Int32, _ context: String) throws(MosquittoError) {
        let saved = errno
        switch rc {
        case MOSQ_ERR_SUCCESS.rawValue, MOSQ_ERR_NO_CONN.rawValue, MOSQ_ERR_CONN_LOST.rawValue: return
        default: throw MosquittoError.library(rc, errno: saved, context: context)
        }
    }

    func publish(topic: String, payload: [UInt8], qos: MQTTQoS, retain: Bool) throws(MosquittoError) {
        guard payload.count <= 268_435_455 else {
            throw MosquittoError.library(MOSQ_ERR_PAYLOAD_SIZE.rawValue, context: "publish \(payload.count) bytes")
        }
        let up = state.withLock { $0.sessionUp && $0.lifecycle == .running && $0.stopRequest == nil }
        guard up else { throw MosquittoError.notConnected("publish to \"\(topic)\" while disconnected") }
        errno = 0
        let rc = payload.withUnsafeBytes { bytes in
            mosquitto_publish(mosq, nil, topic, Int32(bytes.count), bytes.baseAddress, qos.rawValue, retain)
        }
        let saved = errno
        if rc != MOSQ_ERR_SUCCESS.rawValue {
            throw MosquittoError.library(rc, errno: saved, context: "mosquitto_publish(\"\(topic)\")")
        }
        wakeup.signal()
    }

    // MARK: - Network thread

    private enum AfterLink {
        case retry(after: Duration)
        case exit
    }

    /// The connection (or attempt) is over and libmosquitto has closed the socket.
    private func linkEnded(fallback: MosquittoError) -> AfterLink {
        state.withLock { s in
            let error = s.linkError ?? fallback
            let wasReady = s.ready
            if wasReady { libraryLog(true) }  // the next attempt's lines may explain a failure
            s.sessionUp = false
            s.ready = false
            s.pendingSubacks.removeAll()
            s.linkError = nil
            report(.disconnected(error))
            if !wasReady {
                for (_, waiter) in s.connectWaiters { waiter.resume(returning: .failure(error)) }
                s.connectWaiters.removeAll()
                if s.stopOnFirstFailure && s.stopRequest == nil {
                    s.stopOnFirstFailure = false
                    s.lifecycle = .idle
                    return .exit
                }
            }
            return .retry(after: s.backoff.nextDelay())
        }
    }

    private func runNetworkThread() {
        nameCurrentThread("mqtt")
        let clock = ContinuousClock()
        let c = configuration
        var nextAttempt = clock.now
        var linkActive = false
        var deadline = clock.now
        var abortedForTimeout = false

        while true {
            let (stop, ready) = state.withLock { ($0.stopRequest, $0.ready) }
            if let stop {
                if shutDown(stop, linkActive: linkActive) { return }
                // start()/connect() took a .toIdle request back while we were closing: go on.
                linkActive = false
                nextAttempt = clock.now
                continue
            }

            if !linkActive {
                let now = clock.now
                if now < nextAttempt {
                    waitForWakeup(atMost: nextAttempt - now)
                    continue
                }
                state.withLock { s in
                    s.linkError = nil
                    report(.connecting)
                }
                errno = 0
                let rc = startAttempt()
                let saved = errno
                if rc != MOSQ_ERR_SUCCESS.rawValue {
                    let error = MosquittoError.library(rc, errno: saved, context: "connect to \(c.host):\(c.port)")
                    if mosquitto_socket(mosq) != -1 {
                        // Not expected, but never leave a half-open socket behind an error.
                        state.withLock { s in if s.linkError == nil { s.linkError = error } }
                        shutdown(mosquitto_socket(mosq), Int32(SHUT_RDWR))
                        linkActive = true
                        abortedForTimeout = true
                        continue
                    }
                    switch linkEnded(fallback: error) {
                    case .exit: return
                    case .retry(let delay): nextAttempt = clock.now + delay
                    }
                    continue
                }
                linkActive = true
                abortedForTimeout = false
                deadline = clock.now + c.connectTimeout
                continue
            }

            errno = 0
            let rc = loopStep(timeoutMilliseconds: ready ? idlePollMilliseconds : ClientCore.connectingPollMilliseconds)
            let saved = errno
            let socket = mosquitto_socket(mosq)
            if socket == -1 {
                linkActive = false
                let fallback =
                    rc != MOSQ_ERR_SUCCESS.rawValue
                    ? MosquittoError.library(rc, errno: saved, context: "connection to \(c.host):\(c.port)")
                    : MosquittoError.notConnected("connection to \(c.host):\(c.port) closed")
                switch linkEnded(fallback: fallback) {
                case .exit: return
                case .retry(let delay): nextAttempt = clock.now + delay
                }
                continue
            }
            if rc != MOSQ_ERR_SUCCESS.rawValue {
                if rc == MOSQ_ERR_ERRNO.rawValue && saved == EINTR { continue }
                // An error that left the socket open: remember it and close the socket under
                // libmosquitto, whose next read then sees EOF and cleans up.
                let error = MosquittoError.library(rc, errno: saved, context: "connection to \(c.host):\(c.port)")
                state.withLock { s in if s.linkError == nil { s.linkError = error } }
                shutdown(socket, Int32(SHUT_RDWR))
                continue
            }
            if !ready && !abortedForTimeout && clock.now >= deadline {
                abortedForTimeout = true
                let stillWaiting = state.withLock { s in
                    guard !s.ready else { return false }
                    if s.linkError == nil { s.linkError = .timeout(after: c.connectTimeout) }
                    return true
                }
                if stillWaiting { shutdown(socket, Int32(SHUT_RDWR)) }
            }
        }
    }

    /// The longest poll once the session is up: a quarter of the keepalive, so that
    /// `mosquitto_loop_misc` sends PINGREQ at most keepalive/4 late (the broker allows 1.5×).
    private var idlePollMilliseconds: Int32 {
        wakeup.descriptor < 0 ? ClientCore.connectingPollMilliseconds : Int32(max(1, configuration.keepAlive) * 1000 / 4)
    }

    /// One round of what `mosquitto_loop` does, polling `wakeup` beside the broker's socket: read
    /// what arrived, write what is queued (a wake-up may mean a packet was queued, as libmosquitto's
    /// own wake-up pipe does), then the keepalive. Returns what `mosquitto_loop` would.
    private func loopStep(timeoutMilliseconds: Int32) -> Int32 {
        let socket = mosquitto_socket(mosq)
        guard socket != -1 else { return MOSQ_ERR_NO_CONN.rawValue }
        var descriptors = [
            pollfd(fd: socket, events: Int16(POLLIN) | (mosquitto_want_write(mosq) ? Int16(POLLOUT) : 0), revents: 0),
            pollfd(fd: wakeup.descriptor, events: Int16(POLLIN), revents: 0),
        ]
        let count = poll(&descriptors, nfds_t(descriptors.count), timeoutMilliseconds)
        if count == -1 { return errno == EINTR ? MOSQ_ERR_SUCCESS.rawValue : MOSQ_ERR_ERRNO.rawValue }
        var writable = descriptors[0].revents & Int16(POLLOUT) != 0
        if descriptors[1].revents & Int16(POLLIN) != 0 {
            wakeup.clear()
            writable = true
        }
        if descriptors[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
            let rc = mosquitto_loop_read(mosq, 1)
            if rc != MOSQ_ERR_SUCCESS.rawValue || mosquitto_socket(mosq) == -1 { return rc }
        }
        if writable && mosquitto_socket(mosq) != -1 {
            let rc = mosquitto_loop_write(mosq, 1)
            if rc != MOSQ_ERR_SUCCESS.rawValue || mosquitto_socket(mosq) == -1 { return rc }
        }
        return mosquitto_loop_misc(mosq)
    }

    /// Between connection attempts: sleeps until `duration` has passed or another thread signals.
    private func waitForWakeup(atMost duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
        var descriptor = pollfd(fd: wakeup.descriptor, events: Int16(POLLIN), revents: 0)
        let limit = wakeup.descriptor < 0 ? min(milliseconds, 50) : milliseconds
        if poll(&descriptor, 1, limit) > 0 { wakeup.clear() }
    }

    /// Starts one connection attempt: asynchronous in MQTT 3.1.1; in MQTT 5 with the Maximum Packet
    /// Size property, through libmosquitto's blocking connect after a bounded reachability probe
    /// (skipped for loopback, which answers at once).
    private func startAttempt() -> Int32 {
        let c = configuration
        guard let maximumPacketSize = c.maximumIncomingPacketSize, !state.withLock({ $0.fellBackToV311 }) else {
            if c.maximumIncomingPacketSize != nil {
                _ = mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311)
            }
            return mosquitto_connect_async(mosq, c.host, Int32(c.port), Int32(c.keepAlive))
        }
        let loopback = c.host == "localhost" || c.host == "::1" || c.host.hasPrefix("127.")
        if !loopback, let failure = ReachabilityProbe.connect(host: c.host, port: c.port, timeout: c.connectTimeout) {
            errno = failure
            return MOSQ_ERR_ERRNO.rawValue
        }
        var properties: OpaquePointer?
        defer { mosquitto_property_free_all(&properties) }
        var rc = mosquitto_property_add_int32(&properties, Int32(MQTT_PROP_MAXIMUM_PACKET_SIZE.rawValue), maximumPacketSize)
        if rc == MOSQ_ERR_SUCCESS.rawValue && !c.cleanSession {
            // MQTT 3.1.1's persistent session: it never expires.
            rc = mosquitto_property_add_int32(&properties, Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue), UInt32.max)
        }
        guard rc == MOSQ_ERR_SUCCESS.rawValue else { return rc }
        errno = 0
        return mosquitto_connect_bind_v5(mosq, c.host, Int32(c.port), Int32(c.keepAlive), nil, properties)
    }

    /// Sends DISCONNECT (bounded wait), then reports and finishes. Returns false if the thread
    /// must keep running after all (a `.toIdle` request was taken back meanwhile).
    private func shutDown(_ request: StopRequest, linkActive: Bool) -> Bool {
        if linkActive && mosquitto_socket(mosq) != -1 {
            let clock = ContinuousClock()
            let until = clock.now + .seconds(1)
            if mosquitto_disconnect(mosq) == MOSQ_ERR_SUCCESS.rawValue {
                while mosquitto_socket(mosq) != -1 && clock.now < until {
                    _ = loopStep(timeoutMilliseconds: 50)
                }
            }
            let socket = mosquitto_socket(mosq)
            if socket != -1 {
                // No DISCONNECT possible (attempt still in progress, or the broker does not read):
                // close under libmosquitto and let one more loop clean up.
                shutdown(socket, Int32(SHUT_RDWR))
                _ = loopStep(timeoutMilliseconds: 10)
            }
        }
        return state.withLock { s in
            let wasUp = s.sessionUp || s.ready
            s.sessionUp = false
            s.ready = false
            s.pendingSubacks.removeAll()
            s.linkError = nil
            // disconnect() may have upgraded a .toIdle request meanwhile.
            let finalStop = request == .final || s.stopRequest == .final
            let revoked = !finalStop && s.stopRequest == nil
            s.stopRequest = nil
            if wasUp { report(.disconnected(nil)) }
            if finalStop {
                finishStreams(&s)
                return true
            }
            if !wasUp && linkActive { report(.disconnected(.cancelled("connect"))) }
            if revoked { return false }
            s.lifecycle = .idle
            s.stopOnFirstFailure = false
            return true
        }
    }
}
