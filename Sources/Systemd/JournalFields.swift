// Journal field names and the message ids of this daemon.
import Logging

/// Rules for journal field names (sd_journal_print(3), systemd's `journal_field_valid`).
public enum JournalField {
    /// Longest field name journald accepts.
    public static let maximumNameLength = 64

    /// The fields the handler writes itself; metadata keys that would collide get a `META_` prefix.
    public static let reservedNames: Set<String> = [
        "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC", "LOGGER", "ERROR",
    ]

    /// Turns a swift-log metadata key into a field name journald keeps.
    ///
    /// journald silently drops fields whose names are not `[A-Z0-9_]+`, start with `_` (reserved for
    /// trusted fields) or a digit, or are longer than 64 bytes. So: letters are uppercased, every
    /// other character that is not an ASCII letter or digit becomes `_`, a name starting with `_`
    /// gets the prefix `META`, one starting with a digit (or an empty one) `META_`, a name equal
    /// to one of ``reservedNames`` gets `META_`, and the result is cut to 64 bytes.
    ///
    /// `evse_id` → `EVSE_ID`, `topic` → `TOPIC`, `message_id` → `MESSAGE_ID`,
    /// `mqtt.client-id` → `MQTT_CLIENT_ID`, `_secret` → `META_SECRET`, `2fa` → `META_2FA`,
    /// `message` → `META_MESSAGE`.
    public static func name(forMetadataKey key: String) -> String {
        var name = ""
        name.unicodeScalars.reserveCapacity(key.unicodeScalars.count)
        for scalar in key.unicodeScalars {
            switch scalar {
            case "A"..."Z", "0"..."9": name.unicodeScalars.append(scalar)
            case "a"..."z": name.unicodeScalars.append(Unicode.Scalar(UInt8(scalar.value) - 0x20))
            default: name.unicodeScalars.append("_")
            }
        }
        if let first = name.utf8.first {
            if first == UInt8(ascii: "_") {
                name = "META" + name
            } else if first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") {
                name = "META_" + name
            }
        } else {
            name = "META_"
        }
        if reservedNames.contains(name) { name = "META_" + name }
        if name.utf8.count > maximumNameLength {
            // All characters are ASCII here, so cutting at a byte count is cutting at a character.
            name = String(name.prefix(maximumNameLength))
        }
        return name
    }

    /// Whether journald keeps a field with this name.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= maximumNameLength else { return false }
        if first == UInt8(ascii: "_") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) { return false }
        return name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
        }
    }
}

/// A journal `MESSAGE_ID`: a 128-bit id in 32 lowercase hex digits that names a kind of event, so
/// `journalctl MESSAGE_ID=…` finds every occurrence whatever the message text says.
///
/// Attach it with the metadata key ``metadataKey`` (`message_id`, which becomes the field
/// `MESSAGE_ID`):
///
/// ```swift
/// logger.notice("ready", metadata: MessageID.ready.metadata)
/// ```
///
/// The ids of cs-companiond (generated once at random; never change an id once released):
///
/// | event | id |
/// |---|---|
/// | started (process up, config loaded) | `86f8621f78034be6ba3641126e1c9b10` |
/// | ready (READY=1 sent) | `88dc4c637a8f4b16a5fe4107a2d3713f` |
/// | reloaded (SIGHUP, new config applied) | `72cfc9f672b142049e9fe850cd7e903e` |
/// | reload rejected (SIGHUP, new config invalid, old kept) | `ee7ac475373043c79fb16d0c967b5577` |
/// | stopping (STOPPING=1 sent) | `dc34d6826c664f97a74920e10680b106` |
/// | config invalid (at start: exit 78) | `8fe5f5921851467495f3d4ecfef53410` |
/// | broker connected | `4f48bf20a90649c98dbcd0d552d0e556` |
/// | broker lost | `77aebe201ed9484c830f9fbc685bd1ea` |
/// | payload invalid (schema check of an MQTT payload failed) | `b1b69470c93e4efe95742e1d741d0fa5` |
/// | watchdog late (the loop missed its ping deadline) | `1ed8b9c1c523437e94b96ba70126fae0` |
public struct MessageID: Sendable, Hashable, CustomStringConvertible {
    /// 32 lowercase hex digits.
    public let hex: String

    /// The metadata key that carries a message id.
    public static let metadataKey = "message_id"

    /// Nil unless `hex` is 32 hex digits (either case; stored lowercase).
    public init?(_ hex: String) {
        let lower = hex.lowercased()
        guard lower.utf8.count == 32,
            lower.utf8.allSatisfy({ ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f")) })
        else { return nil }
        self.hex = lower
    }

    private init(known hex: StaticString) { self.hex = hex.description }

    public var description: String { hex }

    /// `["message_id": "<hex>"]`, to pass as (or merge into) a log call's metadata.
    public var metadata: Logger.Metadata { [Self.metadataKey: .string(hex)] }

    public static let started = MessageID(known: "86f8621f78034be6ba3641126e1c9b10")
    public static let ready = MessageID(known: "88dc4c637a8f4b16a5fe4107a2d3713f")
    public static let reloaded = MessageID(known: "72cfc9f672b142049e9fe850cd7e903e")
    public static let reloadRejected = MessageID(known: "ee7ac475373043c79fb16d0c967b5577")
    public static let stopping = MessageID(known: "dc34d6826c664f97a74920e10680b106")
    public static let configInvalid = MessageID(known: "8fe5f5921851467495f3d4ecfef53410")
    public static let brokerConnected = MessageID(known: "4f48bf20a90649c98dbcd0d552d0e556")
    public static let brokerLost = MessageID(known: "77aebe201ed9484c830f9fbc685bd1ea")
    public static let payloadInvalid = MessageID(known: "b1b69470c93e4efe95742e1d741d0fa5")
    public static let watchdogLate = MessageID(known: "1ed8b9c1c523437e94b96ba70126fae0")
    public static let intakeShed = MessageID(known: "192e97d206204e139d73500155301c29")

    /// Every id above, for documentation and the uniqueness test.
    public static let all: [(name: String, id: MessageID)] = [
        ("started", started), ("ready", ready), ("reloaded", reloaded), ("reload-rejected", reloadRejected),
        ("stopping", stopping), ("config-invalid", configInvalid), ("broker-connected", brokerConnected),
        ("broker-lost", brokerLost), ("payload-invalid", payloadInvalid), ("watchdog-late", watchdogLate),
        ("intake-shed", intakeShed),
    ]
}
