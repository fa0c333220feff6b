/// One direction of the link, receiving end: bytes in, decoded messages out.
/// `MessageReceiver<McuToEverest>` on the host, `MessageReceiver<EverestToMcu>` on the MCU side.
public struct MessageReceiver<Message: ProtoMessage>: Sendable {
    /// A decoded message and the numbers of the fields in it this protocol revision does not know.
    public struct Received: Sendable, Equatable {
        public var message: Message
        public var unknownFields: [UInt32]
    }

    private var frames = FrameDecoder()
    private var decodeErrors = 0

    public init() {}

    /// Frame counters plus the messages that failed to decode.
    public var statistics: LinkStatistics {
        var statistics = frames.statistics
        statistics.decodeErrors = decodeErrors
        return statistics
    }

    public mutating func feed(_ chunk: some Sequence<UInt8>) -> [Received] {
        frames.feed(chunk).compactMap { payload in
            do {
                let (message, unknown) = try Message.decodeListingUnknownFields(payload)
                return Received(message: message, unknownFields: unknown)
            } catch {
                decodeErrors += 1
                return nil
            }
        }
    }
}
