/// Why one read failed. Everything except `timeout` means a frame arrived but gave no value.
public enum RegisterReadError: Error, Sendable, Equatable {
    /// No (complete) answer within the response timeout.
    case timeout
    /// The CRC did not match (line noise, a damaged frame).
    case badCRC
    /// A valid frame from another unit id.
    case wrongUnit
    /// A frame that does not answer this request (wrong length or function: e.g. a late reply to
    /// the previous request).
    case badData
    /// The meter answered with a Modbus exception code.
    case exception(UInt8)
    /// The port failed (errno).
    case io(Int32)

    /// Counted as a CRC/framing error in the bus statistics.
    public var isFraming: Bool {
        switch self {
        case .badCRC, .wrongUnit, .badData: true
        default: false
        }
    }
}

/// One Modbus line (an RS485 bus or a TCP connection): one request at a time, called from the
/// bus's own thread only.
public protocol RegisterTransport: AnyObject {
    func read(unit: UInt8, function: RegisterSpec.FunctionCode, address: UInt16, count: UInt16) -> Result<[UInt16], RegisterReadError>
    /// After a failed read: wait until a late answer can no longer arrive, then drop whatever the
    /// line received, so it is never taken as the answer to the next request.
    /// Returns how many bytes it dropped (more than 0 after a timeout: the meter answered late).
    func recover(after error: RegisterReadError) -> Int
}
