import Modbus
import Testing

@Suite("MBAP framing and PDUs")
struct FramingTests {
    let read = adu(transaction: 0x1234, unit: 1, pdu: [0x03, 0x04, 0xB0, 0x00, 0x10])

    @Test("one complete frame")
    func oneFrame() throws {
        let (frames, consumed) = try ModbusFraming.decodeFrames(read)
        #expect(frames == [ModbusFrame(transactionID: 0x1234, unitID: 1, pdu: [0x03, 0x04, 0xB0, 0x00, 0x10])])
        #expect(consumed == read.count)
    }

    @Test("a frame split at every position across reads")
    func splitFrames() throws {
        for cut in 0...read.count {
            var buffer = Array(read[..<cut])
            var index = 0
            #expect(try ModbusFraming.decodeFrame(from: buffer, at: &index) == nil || cut == read.count)
            if cut < read.count {
                #expect(buffer.count - index == cut, "an incomplete frame must stay in the buffer")
                buffer.append(contentsOf: read[cut...])
                let frame = try ModbusFraming.decodeFrame(from: buffer, at: &index)
                #expect(frame?.transactionID == 0x1234)
                #expect(buffer.count - index == 0)
            }
        }
    }

    @Test("several frames in one read, and the start of the next")
    func severalFrames() throws {
        let second = adu(transaction: 2, unit: 200, pdu: [0x06, 0x04, 0xBF, 0x00, 0x03])
        let bytes = read + second + read.prefix(5)
        let (frames, consumed) = try ModbusFraming.decodeFrames(bytes)
        #expect(frames.map(\.transactionID) == [0x1234, 2])
        #expect(frames.map(\.unitID) == [1, 200])
        #expect(consumed == read.count + second.count)
    }

    @Test("protocol id other than 0 is rejected as soon as it is seen")
    func protocolID() {
        #expect(throws: ModbusFramingError.invalidProtocolID(1)) {
            _ = try ModbusFraming.decodeFrames(adu(protocolID: 1, unit: 1, pdu: [0x03, 0, 0, 0, 1]))
        }
        #expect(throws: ModbusFramingError.invalidProtocolID(0xFFFF)) {
            _ = try ModbusFraming.decodeFrames([0, 1, 0xFF, 0xFF])
        }
    }

    @Test("length below 2 or above 254 (ADU > 260 bytes) is rejected before the data arrives")
    func lengths() throws {
        #expect(throws: ModbusFramingError.invalidLength(0)) {
            _ = try ModbusFraming.decodeFrames([0, 1, 0, 0, 0, 0])
        }
        #expect(throws: ModbusFramingError.invalidLength(1)) {
            _ = try ModbusFraming.decodeFrames([0, 1, 0, 0, 0, 1, 1])
        }
        #expect(throws: ModbusFramingError.invalidLength(255)) {
            _ = try ModbusFraming.decodeFrames([0, 1, 0, 0, 0, 255])
        }
        // 254 is the largest legal length: a 260-byte ADU.
        let largest = adu(unit: 1, pdu: [0x10] + Array(repeating: 0, count: 252))
        #expect(largest.count == 260)
        #expect(try ModbusFraming.decodeFrames(largest).frames.count == 1)
        // A length that promises more than was sent: wait (the server's frame timeout closes).
        #expect(try ModbusFraming.decodeFrames(adu(length: 200, unit: 1, pdu: [0x03, 0, 0, 0, 1])).frames.isEmpty)
    }

    @Test("random bytes never trap")
    func fuzz() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let count = Int.random(in: 0...300, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if Bool.random(using: &generator), bytes.count >= 4 { bytes[2] = 0; bytes[3] = 0 }
            if let (frames, _) = try? ModbusFraming.decodeFrames(bytes) {
                for frame in frames {
                    #expect(frame.pdu.count >= 1 && frame.pdu.count <= 253)
                    _ = ModbusPDU.decodeRequest(frame.pdu)
                }
            }
            _ = ModbusPDU.decodeRequest(bytes)
            _ = try? ModbusPDU.decodeResponse(bytes, for: .readHoldingRegisters(address: 0, count: 3))
            _ = try? ModbusPDU.decodeResponse(bytes, for: .writeMultipleRegisters(address: 0, values: [1, 2]))
        }
    }

    @Test("request PDUs: valid ones decode")
    func validRequests() {
        #expect(ModbusPDU.decodeRequest([0x03, 0x01, 0x2C, 0x00, 0x7D]) == .success(.readHoldingRegisters(address: 300, count: 125)))
        #expect(ModbusPDU.decodeRequest([0x06, 0x04, 0xBF, 0x00, 0x03]) == .success(.writeSingleRegister(address: 1215, value: 3)))
        #expect(ModbusPDU.decodeRequest([0x10, 0x04, 0xBA, 0x00, 0x02, 0x04, 0x41, 0x20, 0x00, 0x00])
            == .success(.writeMultipleRegisters(address: 1210, values: [0x4120, 0x0000])))
    }

    @Test("request PDUs: unknown function → 01; bad counts and sizes → 03")
    func invalidRequests() {
        func fault(_ function: UInt8, _ code: ModbusExceptionCode) -> Result<ModbusRequest, ModbusPDUFault> {
            .failure(ModbusPDUFault(function: function, code: code))
        }
        #expect(ModbusPDU.decodeRequest([0x04, 0, 0, 0, 1]) == fault(0x04, .illegalFunction))
        #expect(ModbusPDU.decodeRequest([0x01, 0, 0, 0, 1]) == fault(0x01, .illegalFunction))
        #expect(ModbusPDU.decodeRequest([0x2B, 0x0E, 0x01, 0x00]) == fault(0x2B, .illegalFunction))
        #expect(ModbusPDU.decodeRequest([0x83, 0, 0, 0, 1]) == fault(0x83, .illegalFunction))
        // FC03 count 0, 126, wrong size
        #expect(ModbusPDU.decodeRequest([0x03, 0, 0, 0, 0]) == fault(0x03, .illegalDataValue))
        #expect(ModbusPDU.decodeRequest([0x03, 0, 0, 0, 126]) == fault(0x03, .illegalDataValue))
        #expect(ModbusPDU.decodeRequest([0x03, 0, 0, 0]) == fault(0x03, .illegalDataValue))
        #expect(ModbusPDU.decodeRequest([0x03, 0, 0, 0, 1, 9]) == fault(0x03, .illegalDataValue))
        // FC06 wrong size
        #expect(ModbusPDU.decodeRequest([0x06, 0, 0, 0]) == fault(0x06, .illegalDataValue))
        // FC16 count 0, 124, byte count mismatch, missing data, extra data
        #expect(ModbusPDU.decodeRequest([0x10, 0, 0, 0, 0, 0]) == fault(0x10, .illegalDataValue))
        #expect(ModbusPDU.decodeRequest([0x10, 0, 0, 0, 124, 248] + Array(repeating: 0, count: 248)) == fault(0x10, .illegalDataValue))
        #expect(ModbusPDU.decodeRequest([0x10, 0, 0, 0, 2, 2, 0, 0]) == fault(0x10, .illegalDataValue))
        #expect(ModbusPDU.decodeRequest([0x10, 0, 0, 0, 2, 4, 0, 0]) == fault(0x10, .illegalDataValue))
        #expect(ModbusPDU.decodeRequest([0x10, 0, 0, 0, 1, 2, 0, 0, 0]) == fault(0x10, .illegalDataValue))
        #expect(ModbusPDU.decodeRequest([0x10, 0, 0, 0, 1]) == fault(0x10, .illegalDataValue))
        // FC16 with 123 registers is the maximum
        #expect(ModbusPDU.decodeRequest([0x10, 0, 0, 0, 123, 246] + Array(repeating: 0, count: 246))
            == .success(.writeMultipleRegisters(address: 0, values: Array(repeating: 0, count: 123))))
    }

    @Test("responses and exception responses encode as function | 0x80, code")
    func responses() throws {
        #expect(ModbusPDU.encodeResponse(.readHoldingRegisters([0x0102, 0xFFFF]), function: 0x03) == [0x03, 4, 1, 2, 0xFF, 0xFF])
        #expect(ModbusPDU.encodeResponse(.writeSingleRegister(address: 1215, value: 1), function: 0x06) == [0x06, 0x04, 0xBF, 0, 1])
        #expect(ModbusPDU.encodeResponse(.writeMultipleRegisters(address: 1210, count: 2), function: 0x10) == [0x10, 0x04, 0xBA, 0, 2])
        #expect(ModbusPDU.encodeResponse(.exception(.illegalDataAddress), function: 0x03) == [0x83, 0x02])
        #expect(ModbusPDU.encodeResponse(.exception(.gatewayTargetDeviceFailedToRespond), function: 0x10) == [0x90, 0x0B])
        let frame = ModbusFrame(transactionID: 7, unitID: 200, pdu: [0x83, 0x02])
        #expect(ModbusFraming.encode(frame) == [0, 7, 0, 0, 0, 3, 200, 0x83, 0x02])

        // client side
        let read = ModbusRequest.readHoldingRegisters(address: 1210, count: 2)
        #expect(try ModbusPDU.decodeResponse([0x03, 4, 0x41, 0x20, 0, 0], for: read) == .readHoldingRegisters([0x4120, 0]))
        #expect(try ModbusPDU.decodeResponse([0x83, 0x02], for: read) == .exception(.illegalDataAddress))
        #expect(throws: ModbusError.self) { try ModbusPDU.decodeResponse([0x03, 2, 0, 0], for: read) }
        #expect(throws: ModbusError.self) { try ModbusPDU.decodeResponse([0x06, 0x04, 0xBA, 0, 2], for: read) }
        #expect(throws: ModbusError.invalidRequest("read count 126 not in 1...125")) {
            try ModbusPDU.encodeRequest(.readHoldingRegisters(address: 0, count: 126))
        }
        #expect(throws: ModbusError.self) { try ModbusPDU.encodeRequest(.writeMultipleRegisters(address: 0, values: [])) }
        #expect(try ModbusPDU.encodeRequest(.writeMultipleRegisters(address: 1210, values: [0x4120, 0]))
            == [0x10, 0x04, 0xBA, 0, 2, 4, 0x41, 0x20, 0, 0])
    }

    @Test("exception codes have their specification names")
    func exceptionNames() {
        #expect(ModbusExceptionCode.illegalFunction.name == "Illegal Function")
        #expect(ModbusExceptionCode.gatewayTargetDeviceFailedToRespond.description == "0B Gateway Target Device Failed to Respond")
        #expect(ModbusExceptionCode(rawValue: 0x42).name == "Unknown Exception")
    }
}

@Suite("register values")
struct RegisterValueTests {
    @Test("float32/64, uint32/64: big-endian, high word first; NaN is all ones")
    func numbers() {
        #expect(ModbusRegisters.registers(float32: 10) == [0x4120, 0x0000])
        #expect(ModbusRegisters.registers(float32: .nan) == [0xFFFF, 0xFFFF])
        #expect(ModbusRegisters.float32([0x4120, 0]) == 10)
        #expect(ModbusRegisters.float32([0xFFFF, 0xFFFF])?.isNaN == true)
        #expect(ModbusRegisters.float32([0x4120]) == nil)
        #expect(ModbusRegisters.registers(float64: 1.5) == [0x3FF8, 0, 0, 0])
        #expect(ModbusRegisters.float64([0x3FF8, 0, 0, 0]) == 1.5)
        #expect(ModbusRegisters.registers(float64: .nan) == [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF])
        #expect(ModbusRegisters.registers(uint32: 0x0001_0002) == [1, 2])
        #expect(ModbusRegisters.uint32([1, 2]) == 0x0001_0002)
        #expect(ModbusRegisters.registers(uint64: 0x0001_0002_0003_0004) == [1, 2, 3, 4])
        #expect(ModbusRegisters.uint64([1, 2, 3, 4]) == 0x0001_0002_0003_0004)
        #expect(ModbusRegisters.int16(0xFFC4) == -60)
    }

    @Test("strings: two ASCII chars per register, high byte first, NUL-terminated and padded")
    func strings() {
        #expect(ModbusRegisters.registers(string: "B2", count: 5) == [0x4232, 0, 0, 0, 0])
        #expect(ModbusRegisters.registers(string: "ABC", count: 2) == [0x4142, 0x4300])
        // Too long: cut so a terminator fits.
        #expect(ModbusRegisters.registers(string: "ABCDE", count: 2) == [0x4142, 0x4300])
        #expect(ModbusRegisters.registers(string: "Ä1", count: 2) == [0x3F31, 0])
        #expect(ModbusRegisters.string([0x4142, 0x4300, 0x4444]) == "ABC")
        #expect(ModbusRegisters.string([0x4142]) == "AB")
        #expect(ModbusRegisters.string([] as [UInt16]) == "")
    }

    @Test("allow-list ranges")
    func addressRanges() throws {
        let single = try ModbusAddressRange("192.168.1.10")
        let net = try ModbusAddressRange("10.0.0.0/8")
        let v6 = try ModbusAddressRange("fd00::/8")
        #expect(single.contains(ipAddress: "192.168.1.10"))
        #expect(!single.contains(ipAddress: "192.168.1.11"))
        #expect(net.contains(ipAddress: "10.200.3.4"))
        #expect(!net.contains(ipAddress: "11.0.0.1"))
        #expect(net.contains(ipAddress: "::ffff:10.1.2.3"))
        #expect(v6.contains(ipAddress: "fd12::1"))
        #expect(!v6.contains(ipAddress: "10.1.2.3"))
        #expect(try ModbusAddressRange("10.1.2.3/8").description == "10.0.0.0/8")
        #expect(throws: ModbusAddressRange.ParseError.self) { try ModbusAddressRange("10.0.0.0/33") }
        #expect(throws: ModbusAddressRange.ParseError.self) { try ModbusAddressRange("gridbox.local") }
        #expect(throws: ModbusAddressRange.ParseError.self) { try ModbusAddressRange("") }
    }
}
