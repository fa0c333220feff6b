// Client of the station's local control socket: a Unix stream socket that speaks line-delimited
// JSON, one request object per line and one answer line for each (`{"ok":true,…}` or
// `{"ok":false,"error":"…"}`). It plays the EV and the driver: plug, unplug, RFID card, the EV
// asking for power or stopping, faults.
import Foundation
import JSONSchema

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

final class ControlSocket: @unchecked Sendable {
    // @unchecked: the descriptor and buffer are only used from `send`, which the session calls
    // from one task at a time, and every call runs under `lock`.
    let path: String
    private var descriptor: Int32 = -1
    private var buffer: [UInt8] = []
    private let lock = NSLock()

    init(path: String) {
        self.path = path
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Sends one command and returns its answer line as JSON. Connects (or reconnects after the
    /// station closed the connection) on demand. Blocking; run it off the cooperative pool.
    func send(_ command: JSONObject, timeout: Double = 5) throws -> JSONObject {
        lock.lock()
        defer { lock.unlock() }
        let line = JSONValue.object(command).serializedBytes() + [UInt8(ascii: "\n")]
        var attempt = 0
        while true {
            attempt += 1
            do {
                if descriptor < 0 { try connect() }
                try write(line)
                let answer = try readLine(timeout: timeout)
                guard case .object(let object) = try JSONValue.parse(answer) else {
                    throw SimError("answer is not a JSON object: \(String(decoding: answer, as: UTF8.self))")
                }
                return object
            } catch let error as Disconnected where attempt == 1 {
                // The station closed an idle connection: one fresh attempt.
                _ = error
                reset()
            } catch {
                reset()
                throw error
            }
        }
    }

    /// Async wrapper: the blocking I/O runs on a GCD thread.
    func request(_ command: JSONObject, timeout: Double = 5) async throws -> JSONObject {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try self.send(command, timeout: timeout) })
            }
        }
    }

    private struct Disconnected: Error {}

    private func reset() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        buffer.removeAll()
    }

    private func connect() throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SimError("socket(): \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            close(fd)
            throw SimError("control socket path longer than \(capacity - 1) bytes: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw SimError("cannot connect to control socket \(path): \(reason)")
        }
        descriptor = fd
    }

    private func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE || errno == ECONNRESET { throw Disconnected() }
                throw SimError("write to control socket: \(String(cString: strerror(errno)))")
            }
            sent += count
        }
    }

    private func readLine(timeout: Double) throws -> [UInt8] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw SimError("no answer from the control socket within \(timeout) s") }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(remaining * 1000) + 1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw SimError("poll on control socket: \(String(cString: strerror(errno)))")
            }
            if ready == 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET { throw Disconnected() }
                throw SimError("read from control socket: \(String(cString: strerror(errno)))")
            }
            if count == 0 {
                if buffer.isEmpty { throw Disconnected() }
                throw SimError("control socket closed in the middle of an answer")
            }
            buffer.append(contentsOf: chunk[..<count])
        }
    }
}
