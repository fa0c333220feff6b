import Logging
import Modbus

/// The `modbus` target: the bytes are what a client sent on one TCP connection.
enum ModbusFuzz {
    /// A result of cutting a stream into frames: the frames, then the error that stopped the
    /// decoder (nil when the stream simply ended).
    struct Cut: Equatable {
        var frames: [ModbusFrame] = []
        var error: ModbusFramingError?
    }

    static func run(_ bytes: [UInt8]) {
        // 1. Framing: the whole buffer at once, byte by byte, and in chunks whose sizes the input's
        //    own bytes give (dropping the decoded bytes between chunks, as the server's connection does). A
        //    decoder that depends on how TCP cut the stream is a bug.
        let whole = cut(bytes, chunkSizes: [bytes.count], discard: false)
        let byteByByte = cut(bytes, chunkSizes: Array(repeating: 1, count: bytes.count), discard: false)
        let suggested = cut(bytes, chunkSizes: bytes.map { Int($0 % 11) + 1 }, discard: true)
        guard whole == byteByByte, whole == suggested else {
            invariantFailure("frames depend on the chunking: whole \(whole), bytewise \(byteByByte), chunks \(suggested)")
        }
        if let error = whole.error { _ = error.description }
        let convenience: (frames: [ModbusFrame], consumed: Int)?
        do {
            convenience = try ModbusFraming.decodeFrames(bytes)
        } catch {
            guard error == whole.error else { invariantFailure("decodeFrames throws \(error), decodeFrame \(String(describing: whole.error))") }
            convenience = nil
        }
        if let convenience, convenience.frames != whole.frames {
            invariantFailure("decodeFrames and decodeFrame disagree")
        }

        // 2. Every frame through the server's answer path (synchronously: libFuzzer calls are).
        let frames = whole.frames
        guard !frames.isEmpty else { return }
        blockingWait { await serve(frames) }
    }

    /// Feeds `bytes` to `decodeFrame` in chunks of the given sizes (cycled), decoding after each.
    static func cut(_ bytes: [UInt8], chunkSizes: [Int], discard: Bool) -> Cut {
        var result = Cut()
        var buffer: [UInt8] = []
        var index = 0
        var offset = 0
        var next = 0
        while offset < bytes.count {
            let size = max(1, chunkSizes.isEmpty ? bytes.count : chunkSizes[next % chunkSizes.count])
            next += 1
            let end = min(bytes.count, offset + size)
            buffer.append(contentsOf: bytes[offset..<end])
            offset = end
            do {
                while let frame = try ModbusFraming.decodeFrame(from: buffer, at: &index) { result.frames.append(frame) }
            } catch {
                result.error = error
                return result
            }
            if discard {
                buffer.removeFirst(index)
                index = 0
            }
        }
        return result
    }

    // MARK: Server path

    static let logger = Logger(label: "fuzz.modbus", factory: { _ in SwiftLogNoOpLogHandler() })

    static func serve(_ frames: [ModbusFrame]) async {
        let source = FuzzStationSource()
        let clock: @Sendable () -> ModbusDateTime = {
            ModbusDateTime(year: 2026, month: 2, day: 29, hour: 23, minute: 59, second: 59, utcOffsetMinutes: -570)
        }
        let map = AlfenRegisterMap(source: source, logger: logger, clock: clock)
        let locked = AlfenRegisterMap(
            source: source, configuration: .init(stationUnit: 1, maxSetpoint: .infinity, writesEnabled: false),
            logger: logger, clock: clock)
        var previous: ModbusRequest?
        for frame in frames {
            let request = await respond(to: frame, handler: map)
            if let request, request.isWrite { _ = await respond(to: frame, handler: locked) }

            // The frame's PDU as a server's answer to the previous request (client side).
            if let previous { decodeAsResponse(frame.pdu, for: previous) }
            previous = request
        }
    }

    /// What `ModbusServer.respond` does for one frame (that function is internal), with checks: a
    /// decoded request encodes back to the same PDU, the answer is a frame the client decoder
    /// accepts as the answer to that request.
    static func respond(to frame: ModbusFrame, handler: AlfenRegisterMap) async -> ModbusRequest? {
        let context = ModbusRequestContext(
            unitID: frame.unitID, transactionID: frame.transactionID, remoteAddress: "fuzz", connectionID: 1)
        let pdu: [UInt8]
        var request: ModbusRequest?
        switch ModbusPDU.decodeRequest(frame.pdu) {
        case .failure(let fault):
            pdu = ModbusPDU.encodeResponse(.exception(fault.code), function: fault.function)
            guard pdu == [fault.function | 0x80, fault.code.rawValue] else { invariantFailure("exception PDU \(pdu)") }
            _ = fault.code.description
        case .success(let decoded):
            request = decoded
            let encoded: [UInt8]
            do {
                encoded = try ModbusPDU.encodeRequest(decoded)
            } catch {
                invariantFailure("decoded request \(decoded) does not encode: \(error)")
            }
            guard encoded == frame.pdu else { invariantFailure("request round trip: \(frame.pdu) → \(decoded) → \(encoded)") }

            let response = await handler.handle(decoded, context: context)
            if case .readHoldingRegisters(_, let count) = decoded, case .readHoldingRegisters(let registers) = response,
               registers.count != Int(count)
            {
                invariantFailure("register map answered \(registers.count) registers to \(decoded)")
            }
            pdu = ModbusPDU.encodeResponse(response, function: decoded.functionCode.rawValue)
            // The answer is what a client (ours) accepts for this request.
            do {
                let decodedResponse = try ModbusPDU.decodeResponse(pdu, for: decoded)
                guard decodedResponse == response else {
                    invariantFailure("response round trip: \(response) → \(pdu) → \(decodedResponse)")
                }
            } catch {
                invariantFailure("client refuses the server's answer \(response) to \(decoded): \(error)")
            }
        }
        let answer = ModbusFrame(transactionID: frame.transactionID, unitID: frame.unitID, pdu: pdu)
        let wire = ModbusFraming.encode(answer)
        do {
            let back = try ModbusFraming.decodeFrames(wire)
            guard back.frames == [answer], back.consumed == wire.count else {
                invariantFailure("answer frame round trip: \(answer) → \(wire) → \(back)")
            }
        } catch {
            invariantFailure("answer frame \(answer) does not decode: \(error)")
        }
        return request
    }

    /// The client decoder on arbitrary PDUs; any outcome but a trap is fine.
    static func decodeAsResponse(_ pdu: [UInt8], for request: ModbusRequest) {
        do {
            let response = try ModbusPDU.decodeResponse(pdu, for: request)
            if case .exception(let code) = response { _ = code.description }
        } catch {
            _ = error.description
        }
    }
}

/// A station with two sockets: socket 1 with odd but possible values, socket 2 counted but
/// missing (its reads answer 0B).
struct FuzzStationSource: RegisterMapBackend {
    func station() async -> ModbusStationInfo {
        ModbusStationInfo(
            name: "cs-companion fuzz station ⚡ with a name longer than its seventeen registers",
            manufacturer: "Ünïcødé", firmwareVersion: "6.1.0-fuzz\u{0}\u{7F}", platformType: "", serialNumber: "ACE0123456789012345678",
            uptimeMilliseconds: .max, maxCurrent: 32, temperature: nil, ocppConnected: true, socketCount: 2)
    }

    func socket(_ index: Int) async -> ModbusSocketInfo? {
        guard index == 1 else { return nil }
        var meter = ModbusMeterReading()
        meter.state = [.initialised, .updated, .warning]
        meter.ageMilliseconds = 1234
        meter.type = .tcpIP
        meter.voltageLN = ModbusPhases(230.1, -0.0, .infinity)
        meter.current = ModbusPhases(16, .greatestFiniteMagnitude, -.infinity)
        meter.frequency = 49.99
        meter.realEnergyDelivered = ModbusPhases(1e300, .leastNonzeroMagnitude, -1)
        meter.realEnergyDeliveredSum = .infinity
        return ModbusSocketInfo(
            meter: meter, available: true, mode3State: "C2", appliedMaxCurrent: 16, setpointRemainingSeconds: .max,
            setpoint: 16.5, safeCurrent: 6, setpointActive: true, phases: 3)
    }

    func setSetpoint(socket: Int, amps: Float) async -> ModbusWriteResult {
        amps > 63 ? .rejected(.serverDeviceFailure) : .accepted
    }

    func setPhases(socket: Int, phases: UInt16) async -> ModbusWriteResult {
        phases == 1 ? .rejected(.illegalFunction) : .accepted
    }
}
