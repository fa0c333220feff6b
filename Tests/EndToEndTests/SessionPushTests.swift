import Foundation
import JSONSchema
import Testing
import TestSupport

/// Sessions pushed to an eMSP (issue 19): the real daemon, Josev played by the test over a real
/// broker, `scripts/test-emsp.py` as the eMSP, each fault row of the issue.
@Suite("sessions pushed to an eMSP (OCPI 2.2.1)", .timeLimit(.minutes(3)))
struct SessionPushTests {
    static let evse = "DE*TST*E0001*1"

    /// A broker, the test eMSP requiring token "t", the daemon pushing to it (READY) and Josev
    /// played by the test: the set-up most tests here share.
    struct PushRig {
        let broker: TestBroker
        let directory: TemporaryDirectory
        let emsp: TestEMSP
        let daemon: DaemonProcess
        let josev: JosevTestClient

        static func start() async throws -> PushRig {
            let broker = try await TestBroker()
            let directory = try TemporaryDirectory()
            let emsp = try await TestEMSP(directory: directory, token: "t")
            let daemon = try DaemonProcess(
                config: SessionPushTests.config(broker: broker, emsp: emsp, auth: try SessionPushTests.tokenAuth(directory, "t")),
                directory: directory)
            #expect(await daemon.waitUntilReady(), "\(daemon.log)")
            let josev = try await JosevTestClient(broker: broker)
            return PushRig(broker: broker, directory: directory, emsp: emsp, daemon: daemon, josev: josev)
        }

        /// Josev leaves, the daemon stops cleanly (exit 0), the eMSP stops.
        func stop() async {
            await josev.close()
            #expect(await daemon.stop() == 0)
            await emsp.stop()
        }
    }

    /// The daemon's configuration with the `ocpi:` block pointing at `emsp`.
    static func config(broker: TestBroker, emsp: TestEMSP, auth: String) -> String {
        stationConfigYAML(port: broker.port, logLevel: "info") + """

            ocpi:
              push: true
              base_url: "\(emsp.baseURL)"
              country_code: "DE"
              party_id: "CSC"
              location_id: "LOC1"
              currency: "EUR"
            \(auth)

            """
    }

    /// A token file as LoadCredential= would pass it (readable by the daemon only).
    static func tokenAuth(_ directory: TemporaryDirectory, _ token: String) throws -> String {
        "  token_file: " + (try directory.write("ocpi-token", token + "\n", permissions: 0o600))
    }

    static func started(_ josev: JosevTestClient, _ id: String) throws {
        try josev.send(.update(name: "transaction_status", data: [
            "transaction_id": .string(id), "status": "started", "evse_id": .string(evse), "id_token": "04AABBCC", "token_type": "ISO14443",
        ]))
    }

    static func ended(_ josev: JosevTestClient, _ id: String) throws {
        try josev.send(.update(name: "transaction_status", data: ["transaction_id": .string(id), "status": "ended", "evse_id": .string(evse)]))
    }

    /// Josev asks for a 16 A PWM (basic charging).
    static func offer16A(_ josev: JosevTestClient) async throws {
        let pwm = try #require(try await josev.ask("cp_pwm", data: [
            "evse_id": .string(evse), "hlc": false, "current": 16, "error_state": false, "fault_state": false,
        ]))
        #expect(pwm["data"]?["status"] == "valid", "\(pwm)")
    }

    /// The pushes of one session: (method, body), in arrival order.
    static func pushes(_ emsp: TestEMSP) -> [(method: String, body: JSONValue)] {
        emsp.requests.compactMap { request in
            guard let method = request["method"]?.stringValue, let body = request["body"] else { return nil }
            return (method, body)
        }
    }

    static func completed(_ emsp: TestEMSP) -> Bool {
        pushes(emsp).contains { $0.method == "PUT" && $0.body["status"] == "COMPLETED" }
    }

    /// What every push sequence must show: a PUT first, PUTs and PATCHes in order of
    /// `last_updated` (never backwards), periods only ever added (never duplicated), Σ ENERGY = kwh.
    /// (A push carries the session as stored when it is sent: after an outage the first PUT may
    /// already be the COMPLETED session.)
    static func checkSequence(_ pushes: [(method: String, body: JSONValue)]) {
        #expect(pushes.first?.method == "PUT", "\(pushes.map(\.method))")
        var lastUpdated = ""
        var periods: [String] = []
        for push in pushes {
            let updated = push.body["last_updated"]?.stringValue ?? ""
            #expect(updated >= lastUpdated, "last_updated went back: \(lastUpdated) → \(updated)")
            lastUpdated = updated
            let starts = push.body["charging_periods"]?.arrayValue?.compactMap { $0["start_date_time"]?.stringValue } ?? periods
            #expect(Array(starts.prefix(periods.count)) == periods, "periods rewritten: \(periods) → \(starts)")
            periods = starts
            if let list = push.body["charging_periods"]?.arrayValue, let kwh = push.body["kwh"]?.numberValue {
                let energy = list.reduce(0.0) { sum, period in
                    sum + (period["dimensions"]?.arrayValue?.first { $0["type"] == "ENERGY" }?["volume"]?.numberValue ?? 0)
                }
                #expect(abs(energy - kwh) < 1e-6, "Σ ENERGY \(energy) ≠ kwh \(kwh)")
            }
        }
    }

    @Test("a session arrives live: PUT at the start, PATCH per new period, PUT at the end; token auth; latency ≤ 10 s")
    func pushedLive() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let emsp = try await TestEMSP(directory: directory, token: "s3cret-token")
        let daemon = try DaemonProcess(
            config: Self.config(broker: broker, emsp: emsp, auth: try Self.tokenAuth(directory, "s3cret-token")), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        try Self.started(josev, "tx-live")
        #expect(await waitUntil { Self.pushes(emsp).count == 1 }, "\(daemon.log)\n\(emsp.log)")
        // Plugged: EVConnected; a PWM offers 16 A, the EV does not ask: SuspendedEV; it asks but
        // nothing authorized it: SuspendedEVSE. A PATCH each.
        #expect(try await daemon.companion(["plug", "--evse", Self.evse]).status == 0)
        #expect(await waitUntil { Self.pushes(emsp).filter { $0.method == "PATCH" }.count >= 1 }, "\(daemon.log)")
        try await Self.offer16A(josev)
        #expect(await waitUntil { Self.pushes(emsp).filter { $0.method == "PATCH" }.count >= 2 }, "\(daemon.log)")
        #expect(try await daemon.companion(["ev", "--evse", Self.evse, "16"]).status == 0)
        #expect(await waitUntil { Self.pushes(emsp).filter { $0.method == "PATCH" }.count >= 3 }, "\(daemon.log)")
        try Self.ended(josev, "tx-live")
        #expect(await waitUntil { Self.completed(emsp) }, "\(daemon.log)")
        let pushes = Self.pushes(emsp)
        Self.checkSequence(pushes)
        #expect(pushes.last?.body["end_date_time"] != nil)
        #expect(Set(emsp.requests.compactMap { $0["request_id"]?.stringValue }).count == emsp.requests.count, "X-Request-ID unique")
        let push = try #require(daemon.status()?["push"])
        #expect(push["backlog"] == 0)
        let p99 = try #require(push["latency_p99_ms"]?.integerValue)
        #expect(p99 <= 10_000, "\(push)")
        await josev.close()
        #expect(await daemon.stop() == 0)
        await emsp.stop()
    }

    @Test("the eMSP down during a session: the backlog shows in status; afterwards everything arrives in order, no period twice")
    func downThenBack() async throws {
        let rig = try await PushRig.start()
        let (daemon, emsp, josev) = (rig.daemon, rig.emsp, rig.josev)
        try Self.started(josev, "tx-down")
        #expect(await waitUntil { Self.pushes(emsp).count == 1 })
        await emsp.stop()
        #expect(try await daemon.companion(["plug", "--evse", Self.evse]).status == 0)
        try await Self.offer16A(josev)
        #expect(try await daemon.companion(["ev", "--evse", Self.evse, "16"]).status == 0)
        try Self.ended(josev, "tx-down")
        #expect(await waitUntil { (daemon.status()?["push"]?["backlog"]?.integerValue ?? 0) >= 3 }, "\(String(describing: daemon.status()?["push"]))")
        #expect(daemon.status()?["push"]?["oldest_unsent"]?.stringValue != nil)
        #expect(await waitUntil { daemon.notify.statuses.contains { $0.contains("push backlog") && !$0.contains("push backlog 0") } }, "\(daemon.notify.statuses)")
        try await emsp.start()
        #expect(await waitUntil(timeout: .seconds(60)) { Self.completed(emsp) }, "\(daemon.log)")
        #expect(await waitUntil { daemon.status()?["push"]?["backlog"] == 0 }, "\(String(describing: daemon.status()?["push"]))\n\(Self.pushes(emsp).map(\.method))")
        let pushes = Self.pushes(emsp)
        Self.checkSequence(pushes)
        let final = try #require(pushes.last?.body["charging_periods"]?.arrayValue?.compactMap { $0["start_date_time"]?.stringValue })
        #expect(Set(final).count == final.count, "a period twice: \(final)")
        await rig.stop()
    }

    @Test("SIGKILL after the database write, before the push: pushed after the restart, once")
    func killedBeforePush() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let emsp = try await TestEMSP(directory: directory, token: "t")
        let config = Self.config(broker: broker, emsp: emsp, auth: try Self.tokenAuth(directory, "t"))
        var daemon = try DaemonProcess(config: config, directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        await emsp.stop()
        try Self.started(josev, "tx-kill")
        #expect(await waitUntil { (daemon.status()?["push"]?["backlog"]?.integerValue ?? 0) >= 1 })
        daemon.signal(SIGKILL)
        _ = await daemon.waitForExit()
        try await emsp.start()
        daemon = try DaemonProcess(config: config, directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        #expect(await waitUntil { Self.completed(emsp) }, "\(daemon.log)")
        #expect(await waitUntil { daemon.status()?["push"]?["backlog"] == 0 })
        // The start's PUT (sent after the restart, with the session as it is then: closed, its EV
        // gone) and the end's: each stored item reached the eMSP; the acknowledged ones only once.
        let pushes = Self.pushes(emsp)
        Self.checkSequence(pushes)
        #expect(pushes.count == 2, "\(pushes.map(\.method))")
        #expect(await daemon.stop() == 0)
        await josev.close()
        await emsp.stop()
    }

    @Test("a 2xxx answer is kept and shown, not retried; later pushes go on")
    func refused() async throws {
        let rig = try await PushRig.start()
        let (daemon, emsp, josev) = (rig.daemon, rig.emsp, rig.josev)
        try emsp.setMode("2001")
        try Self.started(josev, "tx-2001")
        #expect(await waitUntil { daemon.status()?["push"]?["held"] == 1 }, "\(String(describing: daemon.status()?["push"]))")
        try emsp.setMode("ok")
        #expect(try await daemon.companion(["plug", "--evse", Self.evse]).status == 0)
        // The PATCH goes to an eMSP that never got the PUT (it answers 2003, unknown session: kept too).
        try Self.ended(josev, "tx-2001")
        #expect(await waitUntil { Self.completed(emsp) }, "\(daemon.log)")
        let push = try #require(daemon.status()?["push"])
        #expect((push["held"]?.integerValue ?? 0) >= 1)
        #expect(push["refused"]?.integerValue == push["held"]?.integerValue, "a refused push was tried again: \(push)")
        await rig.stop()
    }

    @Test("OAuth2 client credentials with an ApiKey; a failing token endpoint is retried, no session lost")
    func tokenEndpointFails() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let emsp = try await TestEMSP(directory: directory, oauth2: ("station-1", "client-secret"), apiKey: "key-42")
        let secret = try directory.write("ocpi-secret", "client-secret\n", permissions: 0o600)
        let apiKey = try directory.write("ocpi-apikey", "key-42\n", permissions: 0o600)
        let auth = """
              oauth2: { token_url: "\(emsp.tokenURL)", client_id: "station-1", client_secret_file: \(secret), scope: "sessions" }
              api_key_file: \(apiKey)
            """
        let daemon = try DaemonProcess(config: Self.config(broker: broker, emsp: emsp, auth: auth), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: broker)
        try emsp.setMode("ok", token: "down")
        try Self.started(josev, "tx-oauth")
        try Self.ended(josev, "tx-oauth")
        #expect(await waitUntil { (daemon.status()?["push"]?["failures"]?.integerValue ?? 0) >= 1 }, "\(daemon.log)")
        #expect(Self.pushes(emsp).isEmpty)
        try emsp.setMode("ok", token: "ok")
        #expect(await waitUntil(timeout: .seconds(30)) { Self.completed(emsp) }, "\(daemon.log)")
        Self.checkSequence(Self.pushes(emsp))
        await josev.close()
        #expect(await daemon.stop() == 0)
        await emsp.stop()
    }

    @Test("latency from a stored change to the eMSP's acknowledgement: 40 changes, p50 and p99 ≤ 10 s")
    func latency() async throws {
        let rig = try await PushRig.start()
        let (daemon, emsp, josev) = (rig.daemon, rig.emsp, rig.josev)
        try Self.started(josev, "tx-latency")
        #expect(await waitUntil { Self.pushes(emsp).count == 1 })
        // Each plug-in and each unplugging is a new period (EVConnected, Idle): a PATCH each.
        for cycle in 0..<20 {
            #expect(try await daemon.companion(["plug", "--evse", Self.evse]).status == 0)
            #expect(await waitUntil { Self.pushes(emsp).count == 2 + 2 * cycle })
            #expect(try await daemon.companion(["unplug", "--evse", Self.evse]).status == 0)
            #expect(await waitUntil { Self.pushes(emsp).count == 3 + 2 * cycle })
        }
        let push = try #require(daemon.status()?["push"])
        let p50 = try #require(push["latency_p50_ms"]?.integerValue)
        let p99 = try #require(push["latency_p99_ms"]?.integerValue)
        print("push latency over \(push["acknowledged"]?.integerValue ?? 0) pushes: p50 \(p50) ms, p99 \(p99) ms")
        #expect(p99 <= 10_000)
        #expect(p50 <= p99)
        try Self.ended(josev, "tx-latency")
        #expect(await waitUntil { Self.completed(emsp) })
        Self.checkSequence(Self.pushes(emsp))
        await rig.stop()
    }

    @Test("5xx answers are retried; a slow eMSP still gets everything in order")
    func serverErrorsAndSlow() async throws {
        let rig = try await PushRig.start()
        let (daemon, emsp, josev) = (rig.daemon, rig.emsp, rig.josev)
        try emsp.setMode("5xx")
        try Self.started(josev, "tx-5xx")
        #expect(await waitUntil { (daemon.status()?["push"]?["failures"]?.integerValue ?? 0) >= 1 }, "\(daemon.log)")
        #expect(Self.pushes(emsp).isEmpty)
        try emsp.setMode("slow", slowSeconds: 1)
        #expect(try await daemon.companion(["plug", "--evse", Self.evse]).status == 0)
        try await Self.offer16A(josev)
        try Self.ended(josev, "tx-5xx")
        #expect(await waitUntil(timeout: .seconds(60)) { Self.completed(emsp) }, "\(daemon.log)")
        Self.checkSequence(Self.pushes(emsp))
        #expect(daemon.status()?["push"]?["held"] == 0)
        await rig.stop()
    }
}
