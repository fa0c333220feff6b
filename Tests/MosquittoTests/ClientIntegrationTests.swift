import Foundation
import Mosquitto
import Synchronization
import Testing
import TestSupport

/// Against real `mosquitto` brokers on loopback. Serialized: timing assertions on a shared 2-core machine.
@Suite(.serialized) struct ClientIntegrationTests {
    // MARK: Round trips

    @Test(arguments: MQTTQoS.allCases)
    func connectSubscribePublishRoundTrip(qos: MQTTQoS) async throws {
        let broker = try await TestBroker()
        let client = try MosquittoClient(configuration: configuration(broker))
        let observer = Observer(client)
        try client.subscribe("rt/#", qos: qos)
        try await client.connect()
        #expect(client.isConnected)
        try client.publish(topic: "rt/a", payload: bytes("hello"), qos: qos)
        let received = await observer.waitForMessages(on: "rt/a")
        #expect(received == [MQTTMessage(topic: "rt/a", payload: bytes("hello"), qos: qos, retain: false)])

        // Cross-checked with an independent client.
        let probe = try await MQTTProbe(broker: broker, filter: "rt/#", qos: Int(qos.rawValue))
        try client.publish(topic: "rt/b", payload: bytes("seen by mosquitto_sub"), qos: qos)
        let probed = await probe.waitForMessages(count: 1)
        #expect(probed.map(\.payload) == ["seen by mosquitto_sub"])
        try MQTTProbe.publish(broker: broker, topic: "rt/c", payload: "from mosquitto_pub", qos: Int(qos.rawValue))
        #expect(await observer.waitForMessages(on: "rt/c").map(\.payload) == [bytes("from mosquitto_pub")])

        await client.disconnect()
        #expect(await observer.waitForStates { $0.last == .stopped })
        #expect(observer.states.first == .connecting)
        #expect(observer.states.suffix(3) == [.connected, .disconnected(nil), .stopped])
    }

    @Test func retainedMessageIsSeenByALateSubscriber() async throws {
        let broker = try await TestBroker()
        let publisher = try MosquittoClient(configuration: configuration(broker))
        try await publisher.connect()
        try publisher.publish(topic: "retained/state", payload: bytes("on"), qos: .atLeastOnce, retain: true)
        try publisher.publish(topic: "retained/event", payload: bytes("not kept"), qos: .atLeastOnce, retain: false)
        await publisher.disconnect()

        let late = try MosquittoClient(configuration: configuration(broker))
        let observer = Observer(late)
        try late.subscribe("retained/#", qos: .atLeastOnce)
        try await late.connect()
        let received = await observer.waitForMessages(on: "retained/state")
        #expect(received == [MQTTMessage(topic: "retained/state", payload: bytes("on"), qos: .atLeastOnce, retain: true)])
        // A marker published after the subscription comes after every retained message the broker had.
        try late.publish(topic: "retained/marker", payload: bytes("after"), qos: .atLeastOnce)
        #expect(await observer.waitForMessages(on: "retained/marker").count == 1)
        #expect(observer.messages(on: "retained/event").isEmpty)

        let probe = try await MQTTProbe(broker: broker, filter: "retained/#")
        #expect(await probe.waitForMessages(count: 1).first?.retain == true)
        await late.disconnect()
    }

    @Test func oneMebibytePayloadRoundTrip() async throws {
        let broker = try await TestBroker()
        let client = try MosquittoClient(configuration: configuration(broker))
        let observer = Observer(client)
        try client.subscribe("big", qos: .atLeastOnce)
        try await client.connect()
        var payload = [UInt8](repeating: 0, count: 1 << 20)
        var generator = SystemRandomNumberGenerator()
        for index in payload.indices { payload[index] = UInt8.random(in: 0...255, using: &generator) }
        try client.publish(topic: "big", payload: payload, qos: .atLeastOnce)
        let received = await observer.waitForMessages(on: "big", timeout: .seconds(10))
        #expect(received.count == 1)
        #expect(received.first?.payload == payload)
        await client.disconnect()
    }

    @Test func manyConcurrentPublishersAllDeliveredAtQoS1() async throws {
        let broker = try await TestBroker()
        let publisher = try MosquittoClient(configuration: configuration(broker))
        let receiver = try MosquittoClient(configuration: configuration(broker))
        let observer = Observer(receiver)
        try receiver.subscribe("load/#", qos: .atLeastOnce)
        try await receiver.connect()
        try await publisher.connect()

        let tasks = 8
        let perTask = 250
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    for n in 0..<perTask {
                        try publisher.publish(topic: "load/\(task)", payload: bytes("\(task)-\(n)"), qos: .atLeastOnce)
                        if n % 50 == 0 { await Task.yield() }
                    }
                }
            }
            try await group.waitForAll()
        }
        let total = tasks * perTask
        let arrived = await waitUntil(timeout: .seconds(15)) { observer.messages.count >= total }
        #expect(arrived, "got \(observer.messages.count) of \(total)")
        let distinct = Set(observer.messages.map { String(decoding: $0.payload, as: UTF8.self) })
        #expect(distinct.count == total)
        // Per publisher task, order is kept.
        for task in 0..<tasks {
            let sequence = observer.messages(on: "load/\(task)").map { String(decoding: $0.payload, as: UTF8.self) }
            #expect(sequence == (0..<perTask).map { "\(task)-\($0)" })
        }
        await publisher.disconnect()
        await receiver.disconnect()
    }

    // MARK: Authentication

    @Test func usernameAndPasswordAreAccepted() async throws {
        let broker = try await TestBroker(options: .init(allowAnonymous: false, users: ["station": "s3cret"]))
        let client = try MosquittoClient(
            configuration: configuration(broker) {
                $0.username = "station"
                $0.password = "s3cret"
            })
        let observer = Observer(client)
        try client.subscribe("auth/#", qos: .atLeastOnce)
        try await client.connect()
        try client.publish(topic: "auth/ok", payload: bytes("1"), qos: .atLeastOnce)
        #expect(await observer.waitForMessages(on: "auth/ok").count == 1)
        await client.disconnect()
    }

    @Test(arguments: [("station", "wrong"), ("nobody", "s3cret")])
    func wrongCredentialsAreRefusedWithTheBrokersReason(username: String, password: String) async throws {
        let broker = try await TestBroker(options: .init(allowAnonymous: false, users: ["station": "s3cret"]))
        let client = try MosquittoClient(
            configuration: configuration(broker) {
                $0.username = username
                $0.password = password
            })
        let observer = Observer(client)
        let error = await #expect(throws: MosquittoError.self) { try await client.connect() }
        #expect(error?.kind == .notAuthorized)
        #expect(error?.code == 5)  // MQTT 3.1.1 CONNACK "not authorised"
        #expect(error?.message == "Connection Refused: not authorised.")
        #expect(!client.isConnected)
        // The failed connect() stopped the client again: no retry storm against a refusing broker.
        // Its network thread is gone before connect() throws, so no attempt can follow.
        #expect(!client.isRunning)
        #expect(throws: MosquittoError.self) { try client.publish(topic: "x", payload: [], qos: .atMostOnce) }
        await client.disconnect()
        // The states stream ended with `.stopped`: the whole history, one attempt.
        #expect(await observer.waitForStates { $0.last == .stopped }, "\(observer.states)")
        #expect(observer.count(of: .connecting) == 1, "\(observer.states)")
    }

    @Test func anonymousIsRefusedWhenTheBrokerRequiresCredentials() async throws {
        let broker = try await TestBroker(options: .init(allowAnonymous: false, users: ["station": "s3cret"]))
        let client = try MosquittoClient(configuration: configuration(broker))
        let error = await #expect(throws: MosquittoError.self) { try await client.connect() }
        #expect(error?.kind == .notAuthorized)
    }

    // MARK: TLS

    @Test func tlsWithTheThrowawayCAConnects() async throws {
        let broker = try await TestBroker(options: .init(tls: .init()))
        let certificates = try #require(broker.certificates)
        let client = try MosquittoClient(
            configuration: configuration(broker) { $0.tls = TLSConfiguration(caFile: certificates.caFile) })
        let observer = Observer(client)
        try client.subscribe("tls/#", qos: .atLeastOnce)
        try await client.connect()
        try client.publish(topic: "tls/ok", payload: bytes("secure"), qos: .atLeastOnce)
        #expect(await observer.waitForMessages(on: "tls/ok").first?.payload == bytes("secure"))
        await client.disconnect()
    }

    @Test func tlsWithTheWrongCAFailsWithATypedErrorNotAHang() async throws {
        let broker = try await TestBroker(options: .init(tls: .init()))
        let certificates = try #require(broker.certificates)
        let client = try MosquittoClient(
            configuration: configuration(broker) {
                $0.tls = TLSConfiguration(caFile: certificates.otherCAFile)
                $0.connectTimeout = .seconds(3)
            })
        let clock = ContinuousClock()
        let started = clock.now
        let error = await #expect(throws: MosquittoError.self) { try await client.connect() }
        let elapsed = clock.now - started
        #expect(error?.kind == .tls || error?.kind == .timeout, "\(String(describing: error))")
        #expect(elapsed < .seconds(4))
        print("wrong CA: \(String(describing: error)) after \(elapsed)")
    }

    @Test func tlsToAPlainListenerTimesOutOrFails() async throws {
        // A TLS client against a broker that speaks plain MQTT must not hang either.
        let plain = try await TestBroker()
        let tlsBroker = try await TestBroker(options: .init(tls: .init()))
        let certificates = try #require(tlsBroker.certificates)
        let client = try MosquittoClient(
            configuration: configuration(plain) {
                $0.tls = TLSConfiguration(caFile: certificates.caFile)
                $0.connectTimeout = .seconds(2)
            })
        let error = await #expect(throws: MosquittoError.self) { try await client.connect() }
        print("TLS to plain listener: \(String(describing: error))")
    }

    @Test func tlsClientCertificateWhenTheBrokerRequiresIt() async throws {
        let broker = try await TestBroker(options: .init(tls: .init(requireCertificate: true)))
        let certificates = try #require(broker.certificates)

        let withoutCertificate = try MosquittoClient(
            configuration: configuration(broker) {
                $0.tls = TLSConfiguration(caFile: certificates.caFile)
                $0.connectTimeout = .seconds(3)
            })
        let error = await #expect(throws: MosquittoError.self) { try await withoutCertificate.connect() }
        print("no client certificate: \(String(describing: error))")

        let withCertificate = try MosquittoClient(
            configuration: configuration(broker) {
                $0.tls = TLSConfiguration(
                    caFile: certificates.caFile, certFile: certificates.clientCertFile, keyFile: certificates.clientKeyFile)
            })
        let observer = Observer(withCertificate)
        try withCertificate.subscribe("mtls/#", qos: .atLeastOnce)
        try await withCertificate.connect()
        try withCertificate.publish(topic: "mtls/ok", payload: bytes("mutual"), qos: .atLeastOnce)
        #expect(await observer.waitForMessages(on: "mtls/ok").count == 1)
        await withCertificate.disconnect()
    }

    @Test func unreadableTLSFilesAreTypedErrorsAtInit() throws {
        var base = MosquittoConfiguration(port: 8883, clientID: uniqueClientID())
        base.tls = TLSConfiguration(caFile: "/nonexistent/ca.crt")
        let error = #expect(throws: MosquittoError.self) { try MosquittoClient(configuration: base) }
        #expect(error?.kind == .errno(ENOENT))
        #expect(error?.context.contains("/nonexistent/ca.crt") == true)

        base.tls = TLSConfiguration(caFile: "/etc/hostname", certFile: "/etc/hostname", keyFile: "/nonexistent/key.pem")
        let keyError = #expect(throws: MosquittoError.self) { try MosquittoClient(configuration: base) }
        #expect(keyError?.kind == .errno(ENOENT))

        base.tls = TLSConfiguration()
        #expect(throws: MosquittoError.self) { try MosquittoClient(configuration: base) }
    }

    // MARK: Will

    @Test func lastWillIsPublishedWhenTheConnectionDiesUncleanly() async throws {
        let broker = try await TestBroker()
        let proxy = try TCPProxy(upstreamPort: broker.port)
        defer { proxy.close() }
        let probe = try await MQTTProbe(broker: broker, filter: "station/+/status")

        let client = try MosquittoClient(
            configuration: configuration(broker, port: proxy.port) {
                $0.will = MQTTWill(topic: "station/1/status", payload: bytes("offline"), qos: .atLeastOnce, retain: true)
            })
        let observer = Observer(client)
        try await client.connect()
        try client.publish(topic: "station/1/status", payload: bytes("online"), qos: .atLeastOnce, retain: true)
        #expect(await probe.waitForMessages(count: 1).map(\.payload) == ["online"])

        // The TCP connection dies under the client: no DISCONNECT reaches the broker.
        proxy.sever()
        let messages = await probe.waitForMessages(count: 2)
        #expect(messages.map(\.payload) == ["online", "offline"], "broker log:\n\(broker.log())")

        // The client noticed, reconnected through the proxy, and can publish again.
        #expect(await observer.waitForStates { $0.filter { $0 == .connected }.count >= 2 })
        #expect(observer.states.contains { if case .disconnected(let e?) = $0 { e.kind == .connectionLost || e.kind == .noConnection } else { false } })
        await client.disconnect()
    }

    @Test func cleanDisconnectDoesNotPublishTheWill() async throws {
        let broker = try await TestBroker()
        let probe = try await MQTTProbe(broker: broker, filter: "will/clean")
        let client = try MosquittoClient(
            configuration: configuration(broker) { $0.will = MQTTWill(topic: "will/clean", payload: bytes("gone")) })
        try await client.connect()
        await client.disconnect()
        // A marker from a new connection with the same client ID, on the will's topic. The broker
        // is done with the old connection before it accepts the new one (a session taken over
        // would have its will published at the takeover), so a will, had there been one, reaches
        // the probe before the marker.
        let successor = try MosquittoClient(configuration: configuration(broker) { $0.clientID = client.configuration.clientID })
        try await successor.connect()
        try successor.publish(topic: "will/clean", payload: bytes("marker"), qos: .atLeastOnce)
        let messages = await probe.waitForMessages(count: 1)
        #expect(messages.map(\.payload) == ["marker"], "broker log:\n\(broker.log())")
        await successor.disconnect()
    }

    // MARK: Reconnect

    @Test func brokerKilledAndRestartedOnTheSamePort() async throws {
        let broker = try await TestBroker()
        let client = try MosquittoClient(configuration: configuration(broker))
        let observer = Observer(client)
        try client.subscribe("cmd/#", qos: .atLeastOnce)
        try await client.connect()

        let clock = ContinuousClock()
        await broker.kill()
        let killedAt = clock.now
        #expect(await observer.waitForStates { $0.contains { if case .disconnected(.some) = $0 { true } else { false } } })
        let noticedAfter = clock.now - killedAt
        #expect(!client.isConnected)
        let error = #expect(throws: MosquittoError.self) {
            try client.publish(topic: "cmd/x", payload: bytes("lost"), qos: .atLeastOnce)
        }
        #expect(error?.kind == .noConnection)

        // A few failed attempts with backoff (the first connect was one `connecting` too).
        #expect(await observer.waitForStates { $0.filter { $0 == .connecting }.count >= 3 }, "\(observer.states)")
        try await broker.restart()
        let restartedAt = clock.now
        #expect(await observer.waitForStates(timeout: .seconds(5)) { $0.filter { $0 == .connected }.count == 2 })
        let reconnectedAfter = clock.now - restartedAt
        print("broker SIGKILL noticed after \(noticedAfter); reconnected \(reconnectedAfter) after restart; states: \(observer.states)")

        // Re-subscribed: an outside publisher reaches us again.
        try MQTTProbe.publish(broker: broker, topic: "cmd/after-restart", payload: "again")
        #expect(await observer.waitForMessages(on: "cmd/after-restart").count == 1)
        try client.publish(topic: "cmd/self", payload: bytes("me"), qos: .atLeastOnce)
        #expect(await observer.waitForMessages(on: "cmd/self").count == 1)
        await client.disconnect()
    }

    @Test func startBeforeTheBrokerIsUpConnectsLater() async throws {
        let broker = try await TestBroker()
        await broker.stop()
        let client = try MosquittoClient(configuration: configuration(broker))
        let observer = Observer(client)
        try client.subscribe("late/#", qos: .atLeastOnce)
        client.start()
        #expect(await observer.waitForStates { $0.filter { if case .disconnected(let e?) = $0 { e.kind == .errno(ECONNREFUSED) } else { false } }.count >= 2 })
        #expect(!client.isConnected)
        try await broker.restart()
        #expect(await observer.waitForStates { $0.contains(.connected) })
        try MQTTProbe.publish(broker: broker, topic: "late/x", payload: "hi")
        #expect(await observer.waitForMessages(on: "late/x").count == 1)
        await client.disconnect()
    }

    @Test func publishWhileDisconnectedThrowsNoConnection() async throws {
        let broker = try await TestBroker()
        let client = try MosquittoClient(configuration: configuration(broker))
        let before = #expect(throws: MosquittoError.self) { try client.publish(topic: "t", payload: bytes("x"), qos: .atLeastOnce) }
        #expect(before?.kind == .noConnection)
        try await client.connect()
        try client.publish(topic: "t", payload: bytes("x"), qos: .atLeastOnce)
        await client.disconnect()
        let after = #expect(throws: MosquittoError.self) { try client.publish(topic: "t", payload: bytes("x"), qos: .atMostOnce) }
        #expect(after?.kind == .noConnection)
    }

    @Test func connectToAClosedPortFailsFastAndLeavesTheClientIdle() async throws {
        let port = try freeLoopbackPort()
        let client = try MosquittoClient(configuration: MosquittoConfiguration(port: port, clientID: uniqueClientID()))
        let observer = Observer(client)
        let error = await #expect(throws: MosquittoError.self) { try await client.connect() }
        #expect(error?.kind == .errno(ECONNREFUSED))
        // Idle: the network thread is gone before connect() throws, so no retry can follow.
        #expect(!client.isRunning)
        // connect() can be tried again.
        let again = await #expect(throws: MosquittoError.self) { try await client.connect() }
        #expect(!client.isRunning)
        await client.disconnect()
        // The stream ended with `.stopped`: the whole history, one attempt per connect().
        #expect(await observer.waitForStates { $0.last == .stopped })
        #expect(observer.states == [.connecting, .disconnected(error), .connecting, .disconnected(again), .stopped], "\(observer.states)")
    }

    @Test func connectTimesOutAgainstAServerThatNeverAnswers() async throws {
        let silent = try TCPProxy(upstreamPort: 0, mode: .blackhole)
        defer { silent.close() }
        let client = try MosquittoClient(
            configuration: MosquittoConfiguration(port: silent.port, clientID: uniqueClientID(), connectTimeout: .seconds(1)))
        let clock = ContinuousClock()
        let started = clock.now
        let error = await #expect(throws: MosquittoError.self) { try await client.connect() }
        let elapsed = clock.now - started
        #expect(error?.kind == .timeout)
        #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(2), "\(elapsed)")
    }

    @Test func cancellingConnectThrowsCancelled() async throws {
        let silent = try TCPProxy(upstreamPort: 0, mode: .blackhole)
        defer { silent.close() }
        let client = try MosquittoClient(
            configuration: MosquittoConfiguration(port: silent.port, clientID: uniqueClientID(), connectTimeout: .seconds(10)))
        let observer = Observer(client)
        let task = Task { () -> MosquittoError? in
            do throws(MosquittoError) {
                try await client.connect()
                return nil
            } catch {
                return error
            }
        }
        #expect(await observer.waitForStates { $0.contains(.connecting) })  // connect() is under way
        task.cancel()
        let error = try await withTimeout(.seconds(2)) { await task.value }
        #expect(error?.kind == .cancelled)
        #expect(await observer.waitForStates { $0.last == .disconnected(MosquittoError(code: 13, kind: .cancelled, message: "Cancelled.", context: "connect")) })
    }

    // MARK: Lifecycle

    @Test func disconnectIsIdempotentAndFinishesTheStreams() async throws {
        let broker = try await TestBroker()
        let client = try MosquittoClient(configuration: configuration(broker))
        try await client.connect()
        await client.disconnect()
        await client.disconnect()
        var states: [ConnectionState] = []
        for await state in client.states { states.append(state) }
        #expect(states == [.connecting, .connected, .disconnected(nil), .stopped])
        for await _ in client.messages {}
        client.start()  // no effect after disconnect
        #expect(!client.isConnected)
        await #expect(throws: MosquittoError.self) { try await client.connect() }
    }

    @Test func invalidFiltersAndTopicsAreInvalidArguments() async throws {
        let broker = try await TestBroker()
        let client = try MosquittoClient(configuration: configuration(broker))
        let filterError = #expect(throws: MosquittoError.self) { try client.subscribe("a/#/b", qos: .atMostOnce) }
        #expect(filterError?.kind == .invalidArgument)
        try await client.connect()
        let topicError = #expect(throws: MosquittoError.self) { try client.publish(topic: "a/+", payload: [], qos: .atMostOnce) }
        #expect(topicError?.kind == .invalidArgument)
        await client.disconnect()
    }

    @Test func invalidConfigurationIsRejectedAtInit() {
        #expect(throws: MosquittoError.self) { try MosquittoClient(configuration: MosquittoConfiguration(port: 0, clientID: "x")) }
        #expect(throws: MosquittoError.self) {
            try MosquittoClient(configuration: MosquittoConfiguration(clientID: "x", keepAlive: 2))
        }
        #expect(throws: MosquittoError.self) {
            try MosquittoClient(configuration: MosquittoConfiguration(clientID: "", cleanSession: false))
        }
    }

    @Test func unsubscribeStopsDelivery() async throws {
        let broker = try await TestBroker()
        let client = try MosquittoClient(configuration: configuration(broker))
        let observer = Observer(client)
        try client.subscribe("u/#", qos: .atLeastOnce)
        try await client.connect()
        try client.publish(topic: "u/1", payload: bytes("1"), qos: .atLeastOnce)
        #expect(await observer.waitForMessages(on: "u/1").count == 1)
        try client.unsubscribe("u/#")
        try client.publish(topic: "u/2", payload: bytes("2"), qos: .atLeastOnce)
        try client.subscribe("marker", qos: .atLeastOnce)
        try client.publish(topic: "marker", payload: bytes("m"), qos: .atLeastOnce)
        #expect(await observer.waitForMessages(on: "marker").count == 1)
        #expect(observer.messages(on: "u/2").isEmpty)
        await client.disconnect()
    }
}
