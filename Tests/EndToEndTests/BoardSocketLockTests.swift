import Foundation
import JSONSchema
import Testing
import TestSupport

/// The socket lock on the phyVERSO board (board-sim on a pty): locked and confirmed by the MCU
/// before the coil closes, kept through a pause, refused to Josev while the session runs, released
/// by the station after the stop.
@Suite("board: the socket lock through a session", .timeLimit(.minutes(2)))
struct BoardSocketLockTests {
    static let evse = BoardRig.evse

    static func locks(_ josev: JosevTestClient) -> [String] {
        josev.messages(name: "cable_info", type: "update").compactMap { $0["data"]?["lock"]?.stringValue }
    }

    @Test("locked before the coil closes, locked through a pause, unlocked after stop_charging")
    func socketOnBoard() async throws {
        let rig = try await BoardRig()
        let config = rig.config(lock: "motor")
            .replacing("        control_mode: dynamic\n", with: "        control_mode: dynamic\n        socket: true\n")
        let daemon = try rig.daemon(config)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        let josev = try await JosevTestClient(broker: rig.broker)
        try await rig.requestCharging(josev, daemon: daemon)
        #expect(await waitUntil { josev.contactorUpdates() == ["closed"] }, "\(daemon.log)\n\(rig.simLog)")
        let all = josev.messages
        let locked = all.firstIndex { $0["name"] == "cable_info" && $0["data"]?["lock"] == "locked" }
        let closed = all.firstIndex { $0["name"] == "cs_contactor_status" && $0["data"]?["status"] == "closed" }
        #expect(locked != nil && closed != nil && (locked ?? .max) < (closed ?? .min), "the MCU confirmed the lock first: \(all)")

        // A pause: the coil opens, the socket stays locked, an unlock is refused.
        rig.sim("ev-pause")
        #expect(await waitUntil { josev.contactorUpdates() == ["closed", "opened"] }, "\(daemon.log)")
        let refused = try #require(try await josev.ask("cs_connector", data: ["evse_id": .string(Self.evse), "connector_id": 1, "action": "unlock"]))
        #expect(refused["data"]?["status"] == "locked", "\(refused)")
        #expect(refused["data"]?["info"] != nil)
        let check = try await daemon.companion(["hardware", "check"])
        #expect(check.output.contains("lock locked"), "\(check.output)")

        // Josev stops the session: the station unlocks, the MCU confirms.
        _ = try await josev.ask("stop_charging", data: ["evse_id": .string(Self.evse)])
        #expect(await waitUntil { Self.locks(josev).last == "unlocked" }, "\(daemon.log)\n\(rig.simLog)")
        #expect(josev.faultNames().isEmpty, "\(daemon.log)")
        await josev.close()
        #expect(await daemon.stop() == 0)
        await rig.stop()
    }
}
