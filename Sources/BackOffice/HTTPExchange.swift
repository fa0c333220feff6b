import CCrypto
import CCurl

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
        let result = await DedicatedThread.run { perform(method, url: url, headers: headers, body: body, options: options, cancellation: cancellation) }
        return try result.get()
    }

    /// The answer's body, collected by libcurl's write callback.
    private final class Collected {
        var bytes: [UInt8] = []
    }

    private static func perform(
        _ method: String, url: String, headers: [String], body: [UInt8], options: TransferOptions, cancellation: TransferCancellation
    ) -> Result<Response, TransferError> {
        let context = Transfer.Context(fd: -1, cancellation: cancellation, availableSpace: nil)
        let collected = Collected()
        var list: UnsafeMutablePointer<curl_slist>?
        var status = 0
        let payload = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, body.count))
        defer { payload.deallocate() }
        body.withUnsafeBufferPointer { bytes in
            if let base = bytes.baseAddress { UnsafeMutableRawPointer(payload).copyMemory(from: base, byteCount: bytes.count) }
        }
        let error = Transfer.perform(url: url, options: options, context: context) { handle in
            _ = cs_curl_setopt_long(handle, CURLOPT_FAILONERROR, 0)
            _ = cs_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
            _ = cs_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, payload)
            _ = cs_curl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            for header in headers { list = cs_curl_slist_append(list, header) }
            // No "Expect: 100-continue" round trip before a small body.
            list = cs_curl_slist_append(list, "Expect:")
            _ = cs_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
            _ = cs_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { buffer, size, count, raw in
                guard let buffer, let raw else { return 0 }
                let collected = Unmanaged<Collected>.fromOpaque(raw).takeUnretainedValue()
                let total = size * count
                guard collected.bytes.count + total <= HTTPExchange.maxResponseBytes else { return 0 }
                buffer.withMemoryRebound(to: UInt8.self, capacity: total) { collected.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: total)) }
                return total
            }
            _ = cs_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(collected).toOpaque())
            context.afterPerform = { handle in
                var code: Int = 0
                _ = cs_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
                status = code
            }
        }
        if let list { cs_curl_slist_free_all(list) }
        if let error { return .failure(error) }
        return .success(Response(status: status, body: collected.bytes))
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
