import PhyVerso

/// Turns the MCU's messages into bytes for the wire, injecting the link faults that are on.
struct Transmitter {
    func bytes(for messages: [McuToEverest], faults: FaultSet) -> [UInt8] {
        guard !faults.contains(.silence) else { return [] }
        var output: [UInt8] = []
        for message in messages {
            let frame = Framing.frame(payload: payload(of: message, faults: faults))
            if faults.contains(.corruptAll) {
                output += badCRCFrame(for: message, faults: faults)
                continue
            }
            if faults.contains(.badCRC) {
                output += badCRCFrame(for: message, faults: faults)
            }
            if faults.contains(.truncated) {
                output += frame.prefix(frame.count / 2) + [Framing.delimiter]
            }
            if faults.contains(.oversized) {
                output += Self.oversizedFrame
            }
            output += frame
        }
        return output
    }

    /// The protobuf payload; with the unknown-version fault a `BootConfigRequest` carries field 15
    /// (varint 2), which the published proto does not define.
    private func payload(of message: McuToEverest, faults: FaultSet) -> [UInt8] {
        guard faults.contains(.unknownVersion), case .configRequest = message.payload else { return message.serialized() }
        let key = UInt8(SafetyMCU.unknownConfigRequestField << 3)  // wire type 0 (varint)
        let request: [UInt8] = [key, 2]
        // McuToEverest.config_request is field 11, length-delimited: key (11 << 3) | 2.
        var bytes: [UInt8] = [11 << 3 | 2, UInt8(request.count)] + request
        var connector = McuToEverest()
        connector.connector = message.connector
        bytes += connector.serialized()
        return bytes
    }

    /// The frame of `message` with its last checksum byte changed.
    private func badCRCFrame(for message: McuToEverest, faults: FaultSet) -> [UInt8] {
        var checked = CRC32.appending(to: payload(of: message, faults: faults))
        checked[checked.count - 1] ^= 0xA5
        return COBS.encode(checked) + [Framing.delimiter]
    }

    /// 3000 non-zero bytes and a delimiter: longer than any frame may be.
    private static let oversizedFrame: [UInt8] = [UInt8](repeating: 0x55, count: 3000) + [Framing.delimiter]
}
