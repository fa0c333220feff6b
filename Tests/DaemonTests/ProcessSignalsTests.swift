import Testing

@testable import Daemon

#if canImport(Glibc)
    import Glibc
#endif

/// `ProcessSignals`: real signals read from a signalfd on its thread. Each is sent to that thread
/// alone (`raiseAtReader`), which blocks them: the test runner's other threads, which do not, never
/// see one (a process-wide SIGHUP would end the runner).
@Suite("process signals")
struct ProcessSignalsTests {
    static func next(_ iterator: inout AsyncStream<Int32>.Iterator) async -> Int32? { await iterator.next() }

    @Test("each consumer gets the signals it asked for, one element per signal, repeated ones included")
    func signalsToConsumers() async throws {
        let signals = try ProcessSignals.start(forwarding: false).get()
        var reloads = signals.stream([SIGHUP]).makeAsyncIterator()
        var stops = signals.stream([SIGTERM, SIGINT]).makeAsyncIterator()
        for _ in 0..<3 {
            signals.raiseAtReader(SIGHUP)
            #expect(await reloads.next() == SIGHUP)
        }
        signals.raiseAtReader(SIGTERM)
        #expect(await stops.next() == SIGTERM)
        signals.raiseAtReader(SIGINT)
        #expect(await stops.next() == SIGINT)
        // The reload consumer heard none of those: its next element is the next SIGHUP.
        signals.raiseAtReader(SIGHUP)
        #expect(await reloads.next() == SIGHUP)
    }

    @Test("a signal no consumer ever asked for is reported as such; one whose consumers are gone is dropped")
    func unwatchedSignals() throws {
        let signals = try ProcessSignals.start(forwarding: false).get()
        #expect(!signals.deliver(SIGINT))
        do {
            _ = signals.stream([SIGINT])
        }
        #expect(signals.deliver(SIGINT))
    }

    @Test("the reading thread is named signals and blocks the handled signals")
    func readerThread() throws {
        _ = try ProcessSignals.start(forwarding: false).get()
        var found = false
        for tid in try taskIDs() {
            guard let comm = read("/proc/self/task/\(tid)/comm"), comm == "signals\n" else { continue }
            found = true
            let status = read("/proc/self/task/\(tid)/status") ?? ""
            let blocked = status.split(separator: "\n").first { $0.hasPrefix("SigBlk:") }.flatMap {
                UInt64($0.dropFirst("SigBlk:".count).trimmingPrefix(while: { $0 == " " || $0 == "\t" }), radix: 16)
            }
            for signal in ProcessSignals.handled { #expect((blocked ?? 0) & (1 << UInt64(signal - 1)) != 0) }
        }
        #expect(found)
    }

    private func taskIDs() throws -> [String] {
        guard let directory = opendir("/proc/self/task") else { throw CancellationError() }
        defer { closedir(directory) }
        var ids: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.first?.isNumber == true { ids.append(name) }
        }
        return ids
    }

    private func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
