import Foundation
import Testing
import TestSupport

@Suite("sd_notify protocol", .timeLimit(.minutes(1)))
struct NotifyProtocolTests {
    @Test("READY after connecting, STATUS, WATCHDOG at half the interval, RELOADING then READY on SIGHUP, STOPPING on SIGTERM")
    func notifySequence() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(
            config: stationConfigYAML(port: broker.port), directory: directory, environment: ["WATCHDOG_USEC": "400000"])
        let listener = daemon.notify
        #expect(await waitUntil(timeout: .seconds(10)) { listener.assignments.contains("READY=1") }, "\(listener.received) \(daemon.log)")
        #expect(listener.assignments.contains { $0.hasPrefix("STATUS=") && $0.contains("connected to 127.0.0.1") })
        // 400 ms watchdog → a ping every 200 ms.
        #expect(await waitUntil(timeout: .seconds(3)) { listener.assignments.filter { $0 == "WATCHDOG=1" }.count >= 4 })

        let readyBefore = listener.assignments.filter { $0 == "READY=1" }.count
        daemon.signal(SIGHUP)
        #expect(await waitUntil(timeout: .seconds(5)) { listener.assignments.filter { $0 == "READY=1" }.count > readyBefore })
        let all = listener.assignments
        let reloading = try #require(all.firstIndex(of: "RELOADING=1"))
        #expect(all[reloading...].contains("READY=1"))
        #expect(all.contains { $0.hasPrefix("MONOTONIC_USEC=") })

        #expect(await daemon.stop() == 0)
        #expect(await waitUntil(timeout: .seconds(2)) { listener.assignments.contains("STOPPING=1") })
    }

    @Test("no READY while the broker cannot be reached; the status says why")
    func notReadyWithoutBroker() async throws {
        let port = try freeLoopbackPort()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: stationConfigYAML(port: port), directory: directory)
        let listener = daemon.notify
        #expect(await waitUntil(timeout: .seconds(5)) { listener.assignments.contains { $0.contains("unreachable") } }, "\(listener.received)")
        #expect(!listener.assignments.contains("READY=1"))
        #expect(await daemon.stop() == 0)
    }

    @Test("every SIGHUP is a reload; SIGTERM, SIGTERM again and SIGINT during the shutdown: one clean stop")
    func repeatedSignals() async throws {
        let broker = try await TestBroker()
        let directory = try TemporaryDirectory()
        let daemon = try DaemonProcess(config: stationConfigYAML(port: broker.port), directory: directory)
        let listener = daemon.notify
        #expect(await daemon.waitUntilReady(), "\(daemon.log)")
        for reload in 1...3 {
            daemon.signal(SIGHUP)
            #expect(await daemon.waitUntilReady(count: 1 + reload), "\(listener.received)")
        }
        #expect(listener.count("RELOADING=1") == 3)

        daemon.signal(SIGTERM)
        daemon.signal(SIGTERM)
        daemon.signal(SIGINT)
        #expect(await daemon.waitForExit() == 0, "\(daemon.log)")
        #expect(await waitUntil(timeout: .seconds(2)) { listener.count("STOPPING=1") >= 1 })
        #expect(listener.count("STOPPING=1") == 1)
    }
}
