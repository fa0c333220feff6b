import Testing

@testable import PhyVerso

@Suite("protobuf wire format")
struct WireFormatTests {
    @Test("unknown fields of every wire type are skipped and listed, also inside submessages")
    func unknownFieldsSkipped() throws {
        let known = McuToEverest(.setCoilStateResponse(CoilState(coilType: .ac, closed: true)), connector: 1)
        var bytes = known.serialized()
        bytes += [0x78, 0x96, 0x01]  // field 15, varint 150
        bytes += [0x65, 1, 2, 3, 4]  // field 12, fixed32
        bytes += [0x69, 1, 2, 3, 4, 5, 6, 7, 8]  // field 13, fixed64
        bytes += [0x72, 0x03, 0x61, 0x62, 0x63]  // field 14, length-delimited "abc"
        // A BootConfigRequest (field 11) carrying field 15 that the published proto does not have.
        let request: [UInt8] = [0x5A, 0x02, 0x78, 0x02]
        let (message, unknown) = try McuToEverest.decodeListingUnknownFields(bytes)
        #expect(message == known)
        #expect(unknown == [15, 12, 13, 14])
        let (config, configUnknown) = try McuToEverest.decodeListingUnknownFields(request)
        #expect(config == McuToEverest(.configRequest(BootConfigRequest())))
        #expect(configUnknown == [15])
    }

    @Test("malformed input is rejected with the reason")
    func malformed() {
        #expect(throws: WireError.truncated) { try EverestToMcu(serialized: [0x20]) }
        #expect(throws: WireError.truncated) { try EverestToMcu(serialized: [0x20, 0x80]) }
        #expect(throws: WireError.truncated) { try EverestToMcu(serialized: [0x0A, 0x05, 0x08]) }
        #expect(throws: WireError.malformedVarint) { try EverestToMcu(serialized: [0x20] + [UInt8](repeating: 0x80, count: 10) + [0x01]) }
        #expect(throws: WireError.wrongWireType(field: 4, .lengthDelimited)) { try EverestToMcu(serialized: [0x22, 0x00]) }
        #expect(throws: WireError.unknownEnumValue(field: 3, 6)) { try McuToEverest(serialized: [0x18, 0x06]) }
        #expect(throws: WireError.invalidKey(0x07)) { try McuToEverest(serialized: [0x07, 0x00]) }
        #expect(throws: WireError.invalidKey(0x00)) { try McuToEverest(serialized: [0x00, 0x00]) }
        #expect(throws: WireError.groupsUnsupported) { try McuToEverest(serialized: [0x7B]) }
        #expect(throws: WireError.invalidUTF8(field: 6)) { try KeepAlive(serialized: [0x32, 0x02, 0xC3, 0x28]) }
    }

    @Test("uint32 keeps the low 32 bits of a longer varint, as protobuf parsers do")
    func truncatingVarint() throws {
        // 2^32 + 7
        let bytes: [UInt8] = [0x20, 0x87, 0x80, 0x80, 0x80, 0x10]
        #expect(try EverestToMcu(serialized: bytes) == EverestToMcu(.pwmDutyCycle(7)))
    }

    @Test("an empty payload is a container without a message")
    func emptyPayload() throws {
        #expect(try EverestToMcu(serialized: []) == EverestToMcu())
        #expect(try McuToEverest(serialized: []).payload == nil)
    }
}
