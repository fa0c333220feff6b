import Foundation
import JSONSchema
import Testing
import TestSupport

/// Issue 14's fault table over a real serial line: board-sim on one end of a socat pty pair, the
/// daemon with `hardware.driver: board` on the other. Every wait is on a message with a deadline.
@Suite("board driver: faults over the pty link", .serialized, .timeLimit(.minutes(3)))
struct BoardFaultTests {
    let evse = BoardRig.evse

    @Test("a board-driven AC session: plug, authorization, PWM, coil confirmed, charging, stop, coil open")
    func session() async throws {
        let rig = try await BoardRig(simArguments: ["--actuation-delay", "150"])
        let daemon = try rig.daemon(rig.config())
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: rig.broker)
        try await rig.requestCharging(josev, daemon: daemon)
        let asked = ContinuousClock.now
        #expect(await waitUntil { josev.contactorUpdates() == ["closed"] }, "\(daemon.log)\n\(rig.simLog)")
        let closedAfter = asked.duration(to: .now)
        #expect(await waitUntil { josev.messages(name: "cp_status", type: "update").last?["data"]?["state"] == "C2" })
        let contactor = try #require(try await josev.ask("cs_contactor_status", data: ["evse_id": .string(evse)]))
        #expect(contactor["data"]?["status"] == "closed")

        let stop = try #require(try await josev.ask("stop_charging", data: ["evse_id": .string(evse)]))
        #expect(stop["data"]?["status"] == "accepted", "\(stop)")
        #expect(await waitUntil { josev.contactorUpdates() == ["closed", "opened"] }, "\(daemon.log)\n\(rig.simLog)")
        #expect(josev.faultNames().isEmpty, "\(daemon.log)")
        let status = try await daemon.companion(["status"])
        // stop_charging opened while the EV was still in C: under load.
        #expect(status.output.contains("1 contactor cycle(s), 1 opening(s) under load, 0 RCD trip(s)"), "\(status.output)")
        let check = try await daemon.companion(["hardware", "check"])
        #expect(check.status == 0, "\(check.output)")
        print("BOARD: EV ready → contactor confirmed closed at Josev (actuation 150 ms): \(closedAfter)")
        print("BOARD: hardware check after the session:\n\(check.output)")
        await josev.close()
        #expect(await daemon.stop() == 0)
        await rig.stop()
    }

    @Test("josev-sim's ac-eim scenario end to end over the pty link (the EV is board-sim's, the energy an SDM630's on a second pty)")
    func acEIMScenario() async throws {
        let rig = try await BoardRig()
        let meter = try await MeterBench.start()
        let daemon = try rig.daemon(rig.config(meterPort: meter.daemonEnd))
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let control = try BoardEVControl(path: rig.directory.file("ev.sock"), daemonSocket: daemon.controlSocket, rig: rig)
        let (status, output) = try await Repository.run("josev-sim", [
            "session", "--scenario", "ac-eim", "--evse-id", evse, "--host", rig.broker.host, "--port", String(rig.broker.port),
            "--schema-dir", Repository.schemas, "--control-socket", control.path, "--timeout", "10",
        ])
        #expect(status == 0, "josev-sim ac-eim:\n\(output)\n--- daemon log:\n\(daemon.log)\n--- board-sim:\n\(rig.simLog)")
        #expect(output.contains("PASS ac-eim"), "\(output)")
        #expect(output.contains(" 0 failed, 0 skipped"), "every EV step ran: \(output)")
        #expect(output.contains("cs_contactor_status update closed"), "\(output)")
        control.close()
        #expect(await daemon.stop() == 0)
        await rig.stop()
        await meter.stop()
    }

    @Test("MCU silent: board_link within link_timeout, EVSE inoperative, hardware_fault; back when it talks again")
    func silentMCU() async throws {
        let rig = try await BoardRig()
        let daemon = try rig.daemon(rig.config())
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: rig.broker)
        rig.sim("fault silence on")
        let silent = ContinuousClock.now
        #expect(await waitUntil(timeout: .seconds(10)) { josev.faultNames() == ["other"] }, "\(daemon.log)")
        let detected = silent.duration(to: .now)
        #expect(detected >= .seconds(4), "not before link_timeout (5 s) after the last keep-alive: \(detected)")
        #expect(await waitUntil { josev.lastStatusCode() == "evse_malfunction" })
        rig.sim("fault silence off")
        #expect(await waitUntil(timeout: .seconds(5)) { josev.lastStatusCode() == "evse_ready" }, "\(daemon.log)")
        print("BOARD: MCU falls silent → hardware_fault at Josev: \(detected)")
        await josev.close()
        #expect(await daemon.stop() == 0)
        await rig.stop()
    }

    @Test("only bad frames (corrupt-all) count as a lost link")
    func onlyBadFrames() async throws {
        let rig = try await BoardRig()
        let daemon = try rig.daemon(rig.config())
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: rig.broker)
        rig.sim("fault corrupt-all on")
        #expect(await waitUntil(timeout: .seconds(10)) { josev.faultNames() == ["other"] }, "\(daemon.log)")
        #expect(await waitUntil { josev.lastStatusCode() == "evse_malfunction" })
        let check = try await daemon.companion(["hardware", "check"])
        #expect(check.status != 0, "\(check.output)")
        #expect(check.output.contains("link: down"), "\(check.output)")
        await josev.close()
        #expect(await daemon.stop() == 0)
        await rig.stop()
    }

    @Test("bad CRC, truncated and oversized frames are dropped and counted; the link stays up and a session runs")
    func badFramesDropped() async throws {
        let rig = try await BoardRig(simArguments: ["--fault", "bad-crc", "--fault", "truncated", "--fault", "oversized"])
        let daemon = try rig.daemon(rig.config())
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: rig.broker)
        try await rig.requestCharging(josev, daemon: daemon)
        #expect(await waitUntil { josev.contactorUpdates() == ["closed"] }, "\(daemon.log)\n\(rig.simLog)")
        let check = try await daemon.companion(["hardware", "check"])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("link: up"), "\(check.output)")
        let counts = try #require(check.output.split(separator: "\n").first { $0.contains("crc errors") }, "\(check.output)")
        #expect(!counts.contains("crc errors 0,"), "\(counts)")
        // A truncated frame is dropped as a COBS error (its code byte overruns) or as truncated.
        #expect(!(counts.contains("truncated 0,") && counts.contains("cobs errors 0,")), "\(counts)")
        #expect(!counts.contains("oversized 0"), "\(counts)")
        #expect(josev.faultNames().isEmpty)
        await josev.close()
        #expect(await daemon.stop() == 0)
        await rig.stop()
    }

    @Test("welded contactor: latched contactor_welded, inoperative, lock kept, survives a daemon restart")
    func welded() async throws {
        let rig = try await BoardRig(simArguments: ["--fault", "welded"])
        let state = try TemporaryDirectory(prefix: "board-state")
        let daemon = try rig.daemon(rig.config(lock: "motor"), stateDirectory: state.path)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: rig.broker)
        try await rig.requestCharging(josev, daemon: daemon)
        #expect(await waitUntil { josev.contactorUpdates() == ["closed"] }, "\(daemon.log)\n\(rig.simLog)")
        _ = try await josev.ask("stop_charging", data: ["evse_id": .string(evse)])
        #expect(await waitUntil(timeout: .seconds(6)) { josev.faultNames() == ["other"] }, "\(daemon.log)")
        #expect(await waitUntil { josev.lastStatusCode() == "evse_malfunction" })
        let unlock = try #require(try await josev.ask("cs_connector", data: ["evse_id": .string(evse), "connector_id": 1, "action": "unlock"]))
        #expect(unlock["data"]?["status"] == "locked", "\(unlock)")
        let check = try await daemon.companion(["hardware", "check"])
        #expect(check.status != 0, "\(check.output)")
        #expect(check.output.contains("lock locked"), "\(check.output)")
        let clear = try await daemon.companion(["hardware", "clear-latched", "--evse", evse])
        #expect(clear.status != 0, "the contact still reads closed: \(clear.output)")
        await josev.close()
        #expect(await daemon.stop() == 0)

        // The next run of the daemon starts faulted.
        let again = try rig.daemon(rig.config(lock: "motor"), stateDirectory: state.path)
        #expect(await again.waitUntilReady(), "\(again.log)")
        let status = try await again.companion(["status"])
        #expect(status.output.contains("evse_malfunction"), "\(status.output)\n\(again.log)")
        #expect(await again.stop() == 0)
        await rig.stop()
    }

    @Test("a contactor that does not close: not charging, fault reported, no energy")
    func stuckOpen() async throws {
        let rig = try await BoardRig(simArguments: ["--fault", "stuck-open"])
        let daemon = try rig.daemon(rig.config())
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: rig.broker)
        try await rig.requestCharging(josev, daemon: daemon)
        #expect(await waitUntil(timeout: .seconds(6)) { josev.faultNames() == ["other"] }, "\(daemon.log)\n\(rig.simLog)")
        #expect(josev.contactorUpdates().isEmpty, "never announced closed: \(josev.contactorUpdates())")
        let contactor = try #require(try await josev.ask("cs_contactor_status", data: ["evse_id": .string(evse)]))
        #expect(contactor["data"]?["status"] == "opened")
        // No meter on this rig: no energy is assumed (no power, nothing integrated, never a made-up 0 V / 0 A).
        let entry = daemon.status()?["evses"]?.arrayValue?.first { $0["evse_id"]?.stringValue == evse }
        #expect(entry?["power_w"] == nil, "\(String(describing: entry))")
        #expect((entry?["energy_wh"]?.numberValue ?? 0) == 0, "\(String(describing: entry))")
        await josev.close()
        #expect(await daemon.stop() == 0)
        await rig.stop()
    }

    @Test("RCD trip: the MCU opens the contactor, ground_fault to Josev, still faulted after unplugging")
    func rcdTrip() async throws {
        let rig = try await BoardRig()
        let daemon = try rig.daemon(rig.config())
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: rig.broker)
        try await rig.requestCharging(josev, daemon: daemon)
        #expect(await waitUntil { josev.contactorUpdates() == ["closed"] }, "\(daemon.log)\n\(rig.simLog)")
        rig.sim("rcd-trip")
        #expect(await waitUntil { josev.faultNames().contains("ground_fault") }, "\(daemon.log)")
        #expect(await waitUntil { josev.contactorUpdates() == ["closed", "opened"] }, "\(daemon.log)")
        rig.sim("unplug")
        #expect(await waitUntil { josev.messages(name: "cable_info", type: "update").last?["data"]?["connection_status"] == "disconnected" })
        #expect(josev.lastStatusCode() == "evse_malfunction", "only an RCD reset clears it")
        let check = try await daemon.companion(["hardware", "check"])
        #expect(check.output.contains("RCD tripped"), "\(check.output)")
        let status = try await daemon.companion(["status"])
        #expect(status.output.contains("1 contactor cycle(s), 1 opening(s) under load, 1 RCD trip(s)"), "\(status.output)")
        // The reset rule: unplugged and open → the controller resets the RCD, the fault clears.
        let reset = try await daemon.companion(["hardware", "rcd-reset", "--evse", evse])
        #expect(reset.status == 0, "\(reset.output)")
        #expect(await waitUntil { josev.lastStatusCode() == "evse_ready" }, "\(daemon.log)\n\(rig.simLog)")
        await josev.close()
        #expect(await daemon.stop() == 0)
        await rig.stop()
    }

    @Test("a lock that fails to engage: no start, lock_failure reported")
    func lockFailure() async throws {
        let rig = try await BoardRig(simArguments: ["--fault", "lock-failure"])
        let daemon = try rig.daemon(rig.config(lock: "motor"))
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: rig.broker)
        try await rig.requestCharging(josev, daemon: daemon)
        #expect(await waitUntil { josev.faultNames() == ["other"] }, "\(daemon.log)\n\(rig.simLog)")
        #expect(josev.contactorUpdates().isEmpty, "the coil waits for the lock: \(josev.contactorUpdates())")
        #expect(await waitUntil { josev.lastStatusCode() == "evse_malfunction" })
        #expect(daemon.log.contains("lock_failure"), "the journal names the fault kind")
        await josev.close()
        #expect(await daemon.stop() == 0)
        await rig.stop()
    }

    @Test("power-on RCD self-test: a passing RCD is not reported; a failing one keeps the EVSE unavailable", arguments: [false, true])
    func rcdSelfTest(failing: Bool) async throws {
        let rig = try await BoardRig(simArguments: failing ? ["--fault", "rcd-selftest-fail"] : [])
        let josev = try await JosevTestClient(broker: rig.broker)
        let daemon = try rig.daemon(rig.config(rcdSelfTest: true))
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let check = try await daemon.companion(["hardware", "check"])
        let status = try await daemon.companion(["status"])
        if failing {
            #expect(check.status != 0, "\(check.output)")
            #expect(check.output.contains("power-on self-test: failed"), "\(check.output)")
            #expect(status.output.contains("evse_malfunction"), "\(status.output)")
        } else {
            #expect(check.status == 0, "\(check.output)\n\(rig.simLog)")
            #expect(check.output.contains("power-on self-test: passed"), "\(check.output)")
            #expect(status.output.contains("evse_ready"), "\(status.output)")
            #expect(status.output.contains("RCD trip(s)") == false, "the test's own trip is not counted: \(status.output)")
        }
        await josev.close()
        #expect(await daemon.stop() == 0)
        await rig.stop()
    }

    @Test("boot configuration different from the YAML, or an unknown protocol version: refused at start, exit 78", arguments: [false, true])
    func refusedAtStart(unknownVersion: Bool) async throws {
        let rig = try await BoardRig(simArguments: unknownVersion ? ["--fault", "unknown-version"] : [])
        let daemon = try rig.daemon(rig.config(mcuConnector: unknownVersion ? 1 : 2))
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 78, "\(daemon.log)")
        #expect(daemon.notify.count("READY=1") == 0)
        await rig.stop()
    }
}
