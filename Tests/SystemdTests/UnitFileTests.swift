import Foundation
import Systemd
import Testing
import TestSupport

/// Runs scripts/check-unit.sh, the gate for systemd/cs-companiond.service.
@Suite("unit file gate", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze")))
struct UnitFileTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let script = root.appendingPathComponent("scripts/check-unit.sh").path
    static let unit = root.appendingPathComponent("systemd/cs-companiond.service").path

    func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await Command.capture(Self.script, arguments, timeout: .seconds(60))
    }

    func variant(_ transform: (String) -> String) throws -> (directory: URL, unit: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let text = try String(contentsOfFile: Self.unit, encoding: .utf8)
        let path = directory.appendingPathComponent("cs-companiond.service").path
        try transform(text).write(toFile: path, atomically: true, encoding: .utf8)
        return (directory, path)
    }

    @Test func shippedUnitPasses() async throws {
        let (status, output) = try await run([Self.unit])
        #expect(status == 0, "\(output)")
        #expect(output.contains("verify clean"))
        let scoreLine = output.split(separator: "\n").first { $0.contains("security score") }
        let score = scoreLine.flatMap { $0.split(separator: " ").dropFirst(3).first }.flatMap { Double($0) }
        #expect(score != nil && score! <= 2.0, "\(output)")
    }

    @Test func typoInAKeyFails() async throws {
        let (directory, unit) = try variant { $0.replacingOccurrences(of: "ProtectSystem=strict", with: "ProtectSysten=strict") }
        defer { try? FileManager.default.removeItem(at: directory) }
        let (status, output) = try await run([unit])
        #expect(status != 0)
        #expect(output.contains("Unknown key 'ProtectSysten'"), "\(output)")
        #expect(output.contains("FAIL: verify"))
    }

    @Test func notifyReloadTypeFailsOn252() async throws {
        let (directory, unit) = try variant { $0.replacingOccurrences(of: "Type=notify\n", with: "Type=notify-reload\n") }
        defer { try? FileManager.default.removeItem(at: directory) }
        let (status, output) = try await run([unit])
        #expect(status != 0, "\(output)")
    }

    @Test func weakSandboxFails() async throws {
        let (directory, unit) = try variant { text in
            text.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.hasPrefix("SystemCall") && !$0.hasPrefix("Protect") && !$0.hasPrefix("Private") }
                .joined(separator: "\n")
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        let (status, output) = try await run([unit])
        #expect(status != 0)
        #expect(output.contains("FAIL: security score"), "\(output)")
    }

    @Test func unitHasTheContractedSettings() throws {
        let text = try String(contentsOfFile: Self.unit, encoding: .utf8)
        for line in [
            "Type=notify", "NotifyAccess=main", "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure",
            "RestartPreventExitStatus=78", "StateDirectory=cs-companiond", "ConfigurationDirectory=cs-companiond",
            "RuntimeDirectory=cs-companiond",
            "ExecStart=/usr/bin/cs-companiond --config /etc/cs-companiond/cs-companiond.yaml",
        ] {
            #expect(text.split(separator: "\n").contains { $0 == line }, "missing \(line)")
        }
    }

    /// Issue 13: the site's LAN is the installer's drop-in (docs/SECURITY.md); as shipped the
    /// unit reaches loopback only.
    @Test func networkIsLoopbackOnlyAsShipped() throws {
        let lines = try String(contentsOfFile: Self.unit, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("IPAddressDeny=") } == ["IPAddressDeny=any"])
        #expect(lines.filter { $0.hasPrefix("IPAddressAllow=") } == ["IPAddressAllow=localhost"])
    }

    /// Issue 13: libdispatch's user-interactive workers ask for nice -4; without the rlimit every
    /// start logs "Failed to set thread priority" (scripts/systemd-test.sh checks the journal).
    @Test func workersMayTakeTheirNiceValue() throws {
        let lines = try String(contentsOfFile: Self.unit, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("LimitNICE=") } == ["LimitNICE=-4"])
    }
}

@Suite("message catalog")
struct CatalogTests {
    @Test func catalogCoversExactlyTheMessageIDs() throws {
        let path = UnitFileTests.root.appendingPathComponent("systemd/cs-companiond.catalog").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let ids = text.split(separator: "\n").filter { $0.hasPrefix("-- ") }.map { String($0.dropFirst(3)) }
        #expect(ids.sorted() == MessageID.all.map(\.id.hex).sorted())
    }
}
