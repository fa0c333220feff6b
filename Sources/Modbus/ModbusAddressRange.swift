import NIOCore

/// An IPv4 or IPv6 address or CIDR range for the server's allow-list: "192.168.1.10",
/// "192.168.1.0/24", "fd00::/8", "::1". IPv4-mapped IPv6 peers (::ffff:a.b.c.d, seen when the
/// server listens on "::") are matched as the IPv4 address.
public struct ModbusAddressRange: Sendable, Hashable, CustomStringConvertible {
    /// Network-order address bytes: 4 (IPv4) or 16 (IPv6).
    public let network: [UInt8]
    public let prefixLength: Int

    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public let text: String
        public var description: String { "not an IP address or CIDR range: \"\(text)\"" }
    }

    public init(_ text: String) throws(ParseError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let host = parts.first, let socketAddress = try? SocketAddress(ipAddress: String(host), port: 0),
              let bytes = Self.bytes(of: socketAddress)
        else { throw ParseError(text: text) }
        let maxPrefix = bytes.count * 8
        var prefix = maxPrefix
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), parsed >= 0, parsed <= maxPrefix else { throw ParseError(text: text) }
            prefix = parsed
        }
        self.network = Self.masked(bytes, prefix: prefix)
        self.prefixLength = prefix
    }

    public func contains(_ address: SocketAddress) -> Bool {
        guard var bytes = Self.bytes(of: address) else { return false }
        if bytes.count == 16, network.count == 4, bytes.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] {
            bytes = Array(bytes.suffix(4))
        }
        guard bytes.count == network.count else { return false }
        return Self.masked(bytes, prefix: prefixLength) == network
    }

    public var description: String {
        let host = (try? SocketAddress(packedIPAddress: ByteBuffer(bytes: network), port: 0))?.ipAddress ?? "?"
        return prefixLength == network.count * 8 ? host : "\(host)/\(prefixLength)"
    }

    static func bytes(of address: SocketAddress) -> [UInt8]? {
        switch address {
        case .v4(let v4): withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
        case .v6(let v6): withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        case .unixDomainSocket: nil
        }
    }

    private static func masked(_ bytes: [UInt8], prefix: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bits = min(max(prefix - index * 8, 0), 8)
            return bits == 8 ? byte : byte & ~(UInt8(0xFF) >> UInt8(bits))
        }
    }
}
