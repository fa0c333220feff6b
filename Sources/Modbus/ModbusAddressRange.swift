#if canImport(Glibc)
    import Glibc
#endif

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
        guard let host = parts.first, let bytes = Self.bytes(ofIPAddress: String(host))
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

    /// Whether the peer with this numeric address ("10.1.2.3", "::1") is in the range.
    public func contains(ipAddress: String) -> Bool {
        guard let bytes = Self.bytes(ofIPAddress: ipAddress) else { return false }
        return contains(addressBytes: bytes)
    }

    /// Whether the peer with these network-order address bytes (4 or 16) is in the range.
    public func contains(addressBytes: [UInt8]) -> Bool {
        var bytes = addressBytes
        if bytes.count == 16, network.count == 4, bytes.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] {
            bytes = Array(bytes.suffix(4))
        }
        guard bytes.count == network.count else { return false }
        return Self.masked(bytes, prefix: prefixLength) == network
    }

    public var description: String {
        let host = Self.text(ofAddressBytes: network) ?? "?"
        return prefixLength == network.count * 8 ? host : "\(host)/\(prefixLength)"
    }

    /// The network-order bytes of a numeric IPv4 (4) or IPv6 (16) address; nil for anything else.
    static func bytes(ofIPAddress text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }

    /// The numeric text of 4 or 16 network-order address bytes.
    public static func text(ofAddressBytes bytes: [UInt8]) -> String? {
        let family = bytes.count == 4 ? AF_INET : bytes.count == 16 ? AF_INET6 : -1
        guard family >= 0 else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let converted = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &text, socklen_t(text.count)) }
        guard converted != nil else { return nil }
        return String(decoding: text.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func masked(_ bytes: [UInt8], prefix: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bits = min(max(prefix - index * 8, 0), 8)
            return bits == 8 ? byte : byte & ~(UInt8(0xFF) >> UInt8(bits))
        }
    }
}
