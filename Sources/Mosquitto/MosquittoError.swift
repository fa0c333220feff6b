import CMosquitto
import Glibc

/// An error reported by libmosquitto, by the broker (a refused CONNACK), or by this wrapper.
///
/// `message` is always the library's own text (`mosquitto_strerror`, `mosquitto_connack_string`,
/// `mosquitto_reason_string`, or `strerror` for `MOSQ_ERR_ERRNO`); `context` says what we were doing.
public struct MosquittoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, coarse enough to branch on.
    public enum Kind: Sendable, Equatable {
        /// Not connected (publish while disconnected, client stopped, `MOSQ_ERR_NO_CONN`).
        case noConnection
        /// The connection was lost (`MOSQ_ERR_CONN_LOST`, keepalive).
        case connectionLost
        /// The broker answered CONNACK with a refusal other than "not authorised".
        case connectionRefused
        /// The broker refused the credentials (CONNACK 4 "bad user name or password" or 5 "not authorised",
        /// or the MQTT v5 equivalents).
        case notAuthorized
        /// TLS setup or handshake failed (`MOSQ_ERR_TLS`, `MOSQ_ERR_TLS_HANDSHAKE`, `MOSQ_ERR_OCSP`).
        case tls
        /// No CONNACK within `MosquittoConfiguration.connectTimeout`.
        case timeout
        /// A bad argument (topic, filter, file path, option); a programmer or configuration error.
        case invalidArgument
        /// A protocol violation or malformed packet.
        case `protocol`
        /// A system call failed; `code` is `MOSQ_ERR_ERRNO` and `errno` the saved errno.
        case errno(Int32)
        /// Host name lookup failed (`MOSQ_ERR_EAI`, `MOSQ_ERR_LOOKUP`).
        case lookup
        /// The payload is too large for MQTT.
        case payloadSize
        /// Out of memory.
        case outOfMemory
        /// The waiting task was cancelled.
        case cancelled
        /// Anything else; see `code`.
        case other
    }

    /// `MOSQ_ERR_*` value, or the CONNACK return/reason code when `kind` is `.notAuthorized` or
    /// `.connectionRefused`.
    public let code: Int32
    public let kind: Kind
    /// The library's text for `code`.
    public let message: String
    /// What the wrapper was doing when it happened (e.g. "mosquitto_tls_set"), may be empty.
    public let context: String

    public init(code: Int32, kind: Kind, message: String, context: String = "") {
        self.code = code
        self.kind = kind
        self.message = message
        self.context = context
    }

    public var description: String {
        let base = "\(message) (\(kind), code \(code))"
        return context.isEmpty ? base : "\(context): \(base)"
    }

    /// Maps a `MOSQ_ERR_*` return code. Pass the `errno` saved right after the call for `MOSQ_ERR_ERRNO`.
    static func library(_ rc: Int32, errno savedErrno: Int32 = 0, context: String = "") -> MosquittoError {
        let kind: Kind
        switch mosq_err_t(rawValue: rc) {
        case MOSQ_ERR_NO_CONN: kind = .noConnection
        case MOSQ_ERR_CONN_LOST, MOSQ_ERR_KEEPALIVE: kind = .connectionLost
        case MOSQ_ERR_CONN_REFUSED: kind = .connectionRefused
        case MOSQ_ERR_AUTH: kind = .notAuthorized
        case MOSQ_ERR_TLS, MOSQ_ERR_TLS_HANDSHAKE, MOSQ_ERR_OCSP: kind = .tls
        case MOSQ_ERR_TIMEOUT: kind = .timeout
        case MOSQ_ERR_INVAL, MOSQ_ERR_MALFORMED_UTF8, MOSQ_ERR_NOT_SUPPORTED, MOSQ_ERR_QOS_NOT_SUPPORTED,
            MOSQ_ERR_RETAIN_NOT_SUPPORTED:
            kind = .invalidArgument
        case MOSQ_ERR_PROTOCOL, MOSQ_ERR_MALFORMED_PACKET, MOSQ_ERR_DUPLICATE_PROPERTY: kind = .protocol
        case MOSQ_ERR_ERRNO: kind = .errno(savedErrno)
        case MOSQ_ERR_EAI, MOSQ_ERR_LOOKUP: kind = .lookup
        case MOSQ_ERR_PAYLOAD_SIZE, MOSQ_ERR_OVERSIZE_PACKET: kind = .payloadSize
        case MOSQ_ERR_NOMEM: kind = .outOfMemory
        default: kind = .other
        }
        let text: String
        if rc == MOSQ_ERR_ERRNO.rawValue, savedErrno != 0 {
            text = String(cString: strerror(savedErrno))
        } else {
            text = String(cString: mosquitto_strerror(rc))
        }
        return MosquittoError(code: rc, kind: kind, message: text, context: context)
    }

    /// Maps a non-zero CONNACK code: MQTT 3.1.1 return codes 1...5, MQTT v5 reason codes >= 128.
    static func connack(_ code: Int32) -> MosquittoError {
        if code >= 128 {
            // MQTT v5: 134 bad user name or password, 135 not authorized.
            let kind: Kind = (code == 134 || code == 135) ? .notAuthorized : .connectionRefused
            return MosquittoError(
                code: code, kind: kind, message: String(cString: mosquitto_reason_string(code)), context: "CONNACK")
        }
        // MQTT 3.1.1: 4 bad user name or password, 5 not authorised.
        let kind: Kind = (code == 4 || code == 5) ? .notAuthorized : .connectionRefused
        return MosquittoError(
            code: code, kind: kind, message: String(cString: mosquitto_connack_string(code)), context: "CONNACK")
    }

    static func timeout(after duration: Duration) -> MosquittoError {
        MosquittoError(
            code: MOSQ_ERR_TIMEOUT.rawValue, kind: .timeout,
            message: String(cString: mosquitto_strerror(MOSQ_ERR_TIMEOUT.rawValue)),
            context: "no CONNACK within \(duration)")
    }

    static func notConnected(_ context: String) -> MosquittoError {
        MosquittoError(
            code: MOSQ_ERR_NO_CONN.rawValue, kind: .noConnection,
            message: String(cString: mosquitto_strerror(MOSQ_ERR_NO_CONN.rawValue)), context: context)
    }

    static func cancelled(_ context: String) -> MosquittoError {
        MosquittoError(code: MOSQ_ERR_UNKNOWN.rawValue, kind: .cancelled, message: "Cancelled.", context: context)
    }
}
