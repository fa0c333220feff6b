import Foundation
import SerialLine
import Testing
import TestSupport

@Suite("SerialLine on a pty pair", .serialized)
struct SerialLineTests {
    /// Collects what a line receives and how it ended.
    final class Sink: Sendable {
        let bytes = Locked<[UInt8]>([])
        let ended = Locked<SerialLineError??>(nil)

        func open(_ path: String, _ settings: SerialLine.Settings = SerialLine.Settings()) throws -> SerialLine {
            try SerialLine(
                path: path, settings: settings, onBytes: { chunk in self.bytes.withLock { $0 += chunk } },
                onEnd: { error in self.ended.withLock { $0 = .some(error) } })
        }
    }

    @Test("bytes written at one end arrive at the other, in order, both ways")
    func bothWays() async throws {
        let directory = try TemporaryDirectory(prefix: "serial-line-test")
        let ptys = try await PtyPair.start(in: directory)
        let (a, b) = (Sink(), Sink())
        let lineA = try a.open(ptys.first)
        let lineB = try b.open(ptys.second)
        let payload = (0..<60_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try lineA.write(payload)
        try lineB.write([0x00, 0x11, 0x0A, 0x0D, 0x03, 0x13])  // NUL, LF, CR, ^C, XOFF: raw mode passes them
        #expect(await waitUntil(timeout: .seconds(10)) { b.bytes.current.count >= payload.count })
        #expect(b.bytes.current == payload)
        #expect(await waitUntil(timeout: .seconds(5)) { a.bytes.current.count >= 6 })
        #expect(a.bytes.current == [0x00, 0x11, 0x0A, 0x0D, 0x03, 0x13])
        lineA.close()
        #expect(a.ended.current == .some(nil))
        #expect(throws: SerialLineError.closed) { try lineA.write([1]) }
        lineB.close()
        await ptys.stop()
    }

    @Test("termios: raw, the baud rate, 8 data bits, parity, CLOCAL, no flow control (read back with stty)")
    func termiosSettings() async throws {
        let directory = try TemporaryDirectory(prefix: "serial-line-test")
        let ptys = try await PtyPair.start(in: directory)
        let sink = Sink()
        let line = try sink.open(ptys.second, SerialLine.Settings(baud: 57_600, parity: .even, stopBits: 2))
        let (status, output) = try await Command.capture("stty", ["-a", "-F", ptys.second])
        #expect(status == 0)
        let flags = Set(output.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).map(String.init))
        #expect(output.contains("speed 57600 baud"))
        // Linux's pty driver clears PARENB (pty_set_termios: a pty has no parity bit), so even
        // parity is visible here only through input parity checking (INPCK), set with it.
        for flag in ["cs8", "-parodd", "cstopb", "clocal", "cread", "-crtscts", "-icanon", "-echo", "-isig", "-ixon", "-ixoff", "-icrnl", "-opost", "inpck"] {
            #expect(flags.contains(flag), "stty shows no \(flag)")
        }
        line.close()
        await ptys.stop()
    }

    @Test("refusals: unknown baud rate, missing device")
    func refusals() throws {
        let sink = Sink()
        #expect(throws: SerialLineError.unsupportedBaud(12_345)) { try sink.open("/dev/null", SerialLine.Settings(baud: 12_345)) }
        #expect(throws: SerialLineError.unsupportedStopBits(3)) { try sink.open("/dev/null", SerialLine.Settings(stopBits: 3)) }
        #expect(throws: SerialLineError.system("open /nonexistent/tty", ENOENT)) { try sink.open("/nonexistent/tty") }
    }

    @Test("the other side going away ends the line with an error")
    func peerGone() async throws {
        let directory = try TemporaryDirectory(prefix: "serial-line-test")
        let ptys = try await PtyPair.start(in: directory)
        let sink = Sink()
        let line = try sink.open(ptys.second)
        await ptys.stop()
        #expect(await waitUntil(timeout: .seconds(5)) { sink.ended.current != nil })
        if case .some(.some(let error)) = sink.ended.current {
            #expect(error != .closed)
        } else {
            Issue.record("the line ended without an error: \(String(describing: sink.ended.current))")
        }
        line.close()
    }
}
