import CCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// An HTTP(S) request with a body and headers, and the whole answer (status and body) whatever its
/// status: for JSON APIs (the OCPI push, an OAuth2 token endpoint), through the same libcurl as
/// the firmware and log transfers (`Transfer.perform`: TLS verified, timeouts, loaded on first use).
public struct HTTPExchange: Sendable {
    public struct Response: Sendable, Equatable {
        public var status: Int
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Answers larger than this are cut (an OCPI envelope is a few hundred bytes).
    static let maxResponseBytes = 1 << 20

    /// Sends `method` (`PUT`, `PATCH`, `POST`) to `url` (http or https only). Throws for a
    /// transport failure (refused, timed out, TLS); any HTTP status is an answer.
    public static func send(
        _ method: String, url: String, headers: [String], body: [UInt8], options: TransferOptions,
        cancellation: TransferCancellation = TransferCancellation()
    ) async throws(TransferError) -> Response {
        guard let scheme = TransferScheme.allowedScheme(of: url), scheme.hasPrefix("http") else { throw .disallowedScheme }
        guard headers.allSatisfy({ line in line.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F } }) else { throw .disallowedScheme }
        let result = await DedicatedThread.run {
            Transfer.performExchange(method, url: url, headers: headers, body: body, options: options, cancellation: cancellation)
        }
        return try result.get()
    }

    /// Base64 (RFC 4648, with padding): OCPI's `Authorization: Token` and HTTP Basic credentials.
    public static func base64(_ bytes: [UInt8]) -> String {
        guard !bytes.isEmpty else { return "" }
        var out = [UInt8](repeating: 0, count: (bytes.count + 2) / 3 * 4 + 1)
        let written = bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                EVP_EncodeBlock(output.baseAddress, input.baseAddress, Int32(input.count))
            }
        }
        return String(decoding: out.prefix(Int(max(0, written))), as: UTF8.self)
    }
}
