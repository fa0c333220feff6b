import CCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// The firmware's signing certificate and signature (OCPP 2.0.1 UpdateFirmware: `signingCertificate`
/// is a PEM X.509 certificate, `signature` the Base64 signature of the image). The signature is
/// checked over the image's bytes with SHA-256 and the certificate's public key: RSA (PKCS#1 v1.5,
/// or PSS as OCPP's security profiles use) or ECDSA.
public struct SigningCertificate: @unchecked Sendable {
    // X509 is immutable once parsed; the pointer is owned by this value's box.
    private final class Box {
        let pointer: OpaquePointer
        init(_ pointer: OpaquePointer) { self.pointer = pointer }
        deinit { X509_free(pointer) }
    }

    private let box: Box

    /// Why a certificate is not usable (`update_firmware` answers `invalid_certificate`).
    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case unreadable
        case expired
        case notYetValid
        case untrusted(String)
        /// Its extended key usage does not include codeSigning.
        case notForCodeSigning

        public var description: String {
            switch self {
            case .unreadable: "not a PEM X.509 certificate"
            case .expired: "expired"
            case .notYetValid: "not valid yet"
            case .untrusted(let reason): "not trusted: \(reason)"
            case .notForCodeSigning: "its extended key usage does not include codeSigning"
            }
        }
    }

    /// Parses the PEM text and checks its validity period and, when it has an extended key usage
    /// extension, that codeSigning is in it; with `trustedCAFile` (the manufacturer's root, PEM),
    /// also that the certificate chains to it.
    public init(pem: String, trustedCAFile: String? = nil) throws(Problem) {
        var text = pem
        let parsed = text.withUTF8 { bytes -> OpaquePointer? in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                guard let base = chars.baseAddress, chars.count < Int(Int32.max) else { return nil }
                return cs_x509_from_pem(base, Int32(chars.count))
            }
        }
        ERR_clear_error()
        guard let parsed else { throw .unreadable }
        box = Box(parsed)
        if X509_cmp_current_time(X509_get0_notAfter(parsed)) < 0 { throw .expired }
        if X509_cmp_current_time(X509_get0_notBefore(parsed)) > 0 { throw .notYetValid }
        // The flags are computed (and cached) by X509_get_extension_flags.
        if X509_get_extension_flags(parsed) & UInt32(EXFLAG_XKUSAGE) != 0,
            X509_get_extended_key_usage(parsed) & UInt32(XKU_CODE_SIGN) == 0
        {
            throw .notForCodeSigning
        }
        if let trustedCAFile { try Self.verifyChain(parsed, caFile: trustedCAFile) }
    }

    private static func verifyChain(_ certificate: OpaquePointer, caFile: String) throws(Problem) {
        guard let store = X509_STORE_new() else { throw .untrusted("no memory") }
        defer { X509_STORE_free(store) }
        guard X509_STORE_load_file(store, caFile) == 1 else {
            ERR_clear_error()
            throw .untrusted("cannot read the trusted CA file \(caFile)")
        }
        guard let context = X509_STORE_CTX_new() else { throw .untrusted("no memory") }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, store, certificate, nil) == 1 else { throw .untrusted("cannot set up verification") }
        if X509_verify_cert(context) != 1 {
            let reason = String(cString: X509_verify_cert_error_string(Int(X509_STORE_CTX_get_error(context))))
            ERR_clear_error()
            throw .untrusted(reason)
        }
    }

    /// Whether `signature` (Base64) signs the bytes of the file at `path` with this certificate's
    /// key and SHA-256. Reads the file in chunks; nil when the file cannot be read.
    /// A set `cancellation` stops the digest between chunks (nil is returned).
    public func verifies(file path: String, signatureBase64: String, cancellation: TransferCancellation? = nil) -> Bool? {
        guard let signature = Base64.decode(signatureBase64), !signature.isEmpty else { return false }
        guard let key = X509_get0_pubkey(box.pointer) else { return false }
        let rsa = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA
        guard let plain = digestVerify(path: path, key: key, signature: signature, pss: false, cancellation: cancellation) else { return nil }
        if plain || !rsa { return plain }
        return digestVerify(path: path, key: key, signature: signature, pss: true, cancellation: cancellation)
    }

    private func digestVerify(path: String, key: OpaquePointer, signature: [UInt8], pss: Bool, cancellation: TransferCancellation?) -> Bool? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer {
            EVP_MD_CTX_free(context)
            ERR_clear_error()
        }
        var keyContext: OpaquePointer?
        guard EVP_DigestVerifyInit(context, &keyContext, EVP_sha256(), nil, key) == 1 else { return false }
        if pss, let keyContext, cs_pkey_ctx_set_rsa_pss(keyContext) != 1 { return false }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            if cancellation?.isCancelled == true { return nil }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            let updated = buffer.withUnsafeBytes { EVP_DigestVerifyUpdate(context, $0.baseAddress, n) }
            guard updated == 1 else { return false }
        }
        return signature.withUnsafeBufferPointer { EVP_DigestVerifyFinal(context, $0.baseAddress, $0.count) } == 1
    }
}

/// RFC 4648 Base64 (standard alphabet; whitespace ignored, padding optional).
public enum Base64 {
    public static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        for byte in text.utf8 {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="):
                padding += 1
                continue
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): continue
            default: return nil
            }
            guard padding == 0 else { return nil }
            accumulator = (accumulator << 6) | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8((accumulator >> UInt32(bits)) & 0xFF))
            }
        }
        guard padding <= 2 else { return nil }
        return output
    }
}
