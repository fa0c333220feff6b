import Foundation
import JSONSchema
import TestSupport

/// A control socket for josev-sim in front of the daemon's: the EV's steps (`plug`, `ev`,
/// `unplug`) go to board-sim's stdin, as the EV on the far end of the serial line, everything
/// else (`status`, `rfid`) is relayed to the daemon's own socket. josev-sim's scenarios then run
/// against a board-driven station unchanged.
final class BoardEVControl: Sendable {
    let path: String
    private let listener: Int32

    init(path: String, daemonSocket: String, rig: BoardRig) throws {
        self.path = path
        listener = try Self.listen(path)
        let listener = listener
        Thread.detachNewThread {
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                Self.serve(client, daemonSocket: daemonSocket, rig: rig)
                Glibc.close(client)
            }
        }
    }

    func close() { shutdown(listener, Int32(SHUT_RDWR)); Glibc.close(listener) }

    private static func serve(_ client: Int32, daemonSocket: String, rig: BoardRig) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            buffer += chunk[0..<count]
            while let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[..<end])
                buffer.removeSubrange(...end)
                let answer = handle(line, daemonSocket: daemonSocket, rig: rig) + [UInt8(ascii: "\n")]
                _ = answer.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
        }
    }

    private static func handle(_ line: [UInt8], daemonSocket: String, rig: BoardRig) -> [UInt8] {
        guard case .object(let request)? = try? JSONValue.parse(bytes: line[...]) else { return Array(#"{"ok":false,"error":"bad request"}"#.utf8) }
        let ok = Array(#"{"ok":true,"message":"board-sim"}"#.utf8)
        switch request["command"]?.stringValue {
        case "plug":
            rig.sim("plug 32")
            return ok
        case "ev":
            rig.sim(request["stop"] == true ? "ev-pause" : "ev-ready")
            return ok
        case "unplug":
            rig.sim("unplug")
            return ok
        default:
            return (try? relay(line, to: daemonSocket)) ?? Array(#"{"ok":false,"error":"daemon unreachable"}"#.utf8)
        }
    }

    private static func relay(_ line: [UInt8], to path: String) throws -> [UInt8] {
        let fd = try connectUnix(path)
        defer { Glibc.close(fd) }
        let out = line + [UInt8(ascii: "\n")]
        _ = out.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !answer.contains(UInt8(ascii: "\n")) {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw TestSupportError("no answer from \(path)") }
            answer += chunk[0..<count]
        }
        return Array(answer.prefix { $0 != UInt8(ascii: "\n") })
    }

    private static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() where index < raw.count - 1 { raw[index] = byte }
        }
        return address
    }

    private static func connectUnix(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = address(path)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            Glibc.close(fd)
            throw TestSupportError("cannot connect to \(path)")
        }
        return fd
    }

    private static func listen(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = address(path)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0, Glibc.listen(fd, 4) == 0 else {
            Glibc.close(fd)
            throw TestSupportError("cannot listen on \(path)")
        }
        return fd
    }
}
