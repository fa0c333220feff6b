import FlyingSocks
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A minimal Modbus TCP client (MBAP framing, FC03 and FC16) on FlyingSocks' non-blocking sockets
/// (the socket layer FlyingFox is built on). One request at a time per connection; every request
/// has a deadline, and any I/O error, timeout or framing error closes the connection so the next
/// call starts clean (the simulator then reconnects with backoff).
actor ModbusTCPLink: RegisterLink {
    let host: String
    let port: UInt16
    let requestTimeout: Double
    let connectTimeout: Double

    private var socket: AsyncSocket?
    private var transactionID: UInt16 = 0
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(host: String, port: UInt16, requestTimeout: Double = 1.5, connectTimeout: Double = 2) {
        self.host = host
        self.port = port
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
    }

    var isConnected: Bool { socket != nil }

    func connect() async throws {
        guard socket == nil else { return }
        let address = try resolve(host: host, port: port)
        let timeout = connectTimeout
        let connected: AsyncSocket
        switch address {
        case .v4(let address):
            connected = try await withTimeout(timeout) { try await AsyncSocket.connected(to: address, timeout: timeout) }
        case .v6(let address):
            connected = try await withTimeout(timeout) { try await AsyncSocket.connected(to: address, timeout: timeout) }
        }
        socket = connected
    }

    func close() {
        try? socket?.close()
        socket = nil
    }

    func read(unit: UInt8, address: UInt16, count: UInt16) async throws -> [UInt16] {
        guard (1...125).contains(count) else { throw ModbusError.malformed("read count \(count) outside 1…125") }
        let pdu: [UInt8] = [0x03, UInt8(address >> 8), UInt8(address & 0xFF), UInt8(count >> 8), UInt8(count & 0xFF)]
        let response = try await transact(unit: unit, pdu: pdu)
        guard response.count >= 2, Int(response[1]) == Int(count) * 2, response.count == 2 + Int(count) * 2 else {
            throw fail(ModbusError.malformed("FC03 byte count"))
        }
        return (0..<Int(count)).map { UInt16(response[2 + 2 * $0]) << 8 | UInt16(response[3 + 2 * $0]) }
    }

    func write(unit: UInt8, address: UInt16, values: [UInt16]) async throws {
        guard (1...123).contains(values.count) else { throw ModbusError.malformed("write count \(values.count)") }
        let count = UInt16(values.count)
        var pdu: [UInt8] = [
            0x10, UInt8(address >> 8), UInt8(address & 0xFF), UInt8(count >> 8), UInt8(count & 0xFF), UInt8(values.count * 2),
        ]
        for value in values { pdu += [UInt8(value >> 8), UInt8(value & 0xFF)] }
        let response = try await transact(unit: unit, pdu: pdu)
        guard response.count == 5, response[1] == pdu[1], response[2] == pdu[2], response[3] == pdu[3], response[4] == pdu[4]
        else { throw fail(ModbusError.malformed("FC16 echo")) }
    }

    /// Sends one request PDU and returns the response PDU (function code first). Exception
    /// responses throw `ModbusError.exception` and keep the connection.
    private func transact(unit: UInt8, pdu: [UInt8]) async throws -> [UInt8] {
        await acquire()
        defer { release() }
        guard let socket else { throw ModbusError.notConnected }
        transactionID &+= 1
        let id = transactionID
        let length = UInt16(pdu.count + 1)
        let frame: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0, 0, UInt8(length >> 8), UInt8(length & 0xFF), unit] + pdu
        let response: [UInt8]
        do {
            response = try await withTimeout(requestTimeout) {
                try await socket.write(Data(frame))
                // Skip answers to earlier requests that timed out (a different transaction id).
                while true {
                    let header = try await socket.read(bytes: 7)
                    let responseID = UInt16(header[0]) << 8 | UInt16(header[1])
                    let protocolID = UInt16(header[2]) << 8 | UInt16(header[3])
                    let length = Int(UInt16(header[4]) << 8 | UInt16(header[5]))
                    guard protocolID == 0, (2...254).contains(length) else {
                        throw ModbusError.malformed("MBAP header \(header)")
                    }
                    let body = try await socket.read(bytes: length - 1)
                    if responseID != id { continue }
                    guard header[6] == unit else { throw ModbusError.malformed("unit \(header[6]) instead of \(unit)") }
                    return body
                }
            }
        } catch {
            throw fail(error)
        }
        guard let function = response.first else { throw fail(ModbusError.malformed("empty PDU")) }
        if function == pdu[0] | 0x80 {
            throw ModbusError.exception(function: pdu[0], code: response.count > 1 ? response[1] : 0)
        }
        guard function == pdu[0] else { throw fail(ModbusError.malformed("function \(function) instead of \(pdu[0])")) }
        return response
    }

    private func fail(_ error: any Error) -> any Error {
        close()
        return error
    }

    private func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            busy = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}

enum ResolvedAddress {
    case v4(sockaddr_in)
    case v6(sockaddr_in6)
}

/// getaddrinfo for a TCP host and port (numeric addresses and names, IPv4 preferred).
func resolve(host: String, port: UInt16) throws -> ResolvedAddress {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    #else
        hints.ai_socktype = SOCK_STREAM
    #endif
    var result: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(host, String(port), &hints, &result)
    guard status == 0, let first = result else {
        throw ModbusError.resolve("\(host): \(String(cString: gai_strerror(status)))")
    }
    defer { freeaddrinfo(result) }
    var v6: sockaddr_in6?
    var entry: UnsafeMutablePointer<addrinfo>? = first
    while let info = entry {
        if info.pointee.ai_family == AF_INET, let address = info.pointee.ai_addr {
            return .v4(address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee })
        }
        if info.pointee.ai_family == AF_INET6, v6 == nil, let address = info.pointee.ai_addr {
            v6 = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
        }
        entry = info.pointee.ai_next
    }
    if let v6 { return .v6(v6) }
    throw ModbusError.resolve(host)
}
