import Daemon
import Foundation
import Modbus
import ModbusNIOClient
import Testing
import TestSupport

/// The daemon's Modbus server and control socket share one poll thread of ours, "servers", and no
/// SwiftNIO event loop runs; idle, that thread sleeps without a timeout.
@Suite("the daemon's servers thread", .timeLimit(.minutes(1)))
struct ServersThreadTests {
    /// The names (`comm`) of the daemon's threads, by thread id.
    static func threads(of pid: Int32) -> [String: String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        var names: [String: String] = [:]
        for tid in tasks {
            let name = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/comm", encoding: .utf8)) ?? ""
            names[tid] = name.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return names
    }

    @Test("one \"servers\" thread serves Modbus and the control socket; no NIO thread; idle it polls with no timeout")
    func oneServersThread() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let modbusPort = try freeLoopbackPort()
        let daemon = try DaemonProcess(
            config: ModbusEndToEndTests.config(brokerPort: broker.port, modbusPort: modbusPort), directory: directory)
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")

        let client = try await ModbusClient.connect(host: "127.0.0.1", port: modbusPort)
        #expect(try await client.readHoldingRegisters(unit: 200, address: 1105, count: 1) == [2])
        #expect(try ControlClient.request(["command": "status"], path: daemon.controlSocket)["ok"] == true)

        let names = Self.threads(of: daemon.pid)
        let servers = names.filter { $0.value == "servers" }
        #expect(servers.count == 1, "\(names)")
        #expect(!names.values.contains { $0.hasPrefix("NIO") }, "\(names)")

        #if arch(x86_64)
            // With the Modbus client gone nothing is due: poll(2) (syscall 7) with timeout -1.
            await client.close()
            if let tid = servers.keys.first {
                let path = "/proc/\(daemon.pid)/task/\(tid)/syscall"
                let sleepsForever = await waitUntil(timeout: .seconds(5)) {
                    let fields = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: " ")
                    return fields.count > 3 && fields[0] == "7" && fields[3] == "0xffffffff"
                }
                #expect(sleepsForever, "\((try? String(contentsOfFile: path, encoding: .utf8)) ?? "?")")
            }
        #else
            await client.close()
        #endif
        #expect(await daemon.stop() == 0)
    }
}
