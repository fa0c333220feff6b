import CModbus

#if canImport(Glibc)
    import Glibc
#endif

/// An RS485 bus through libmodbus 3.1.6 (`modbus_new_rtu`): one context, used by one thread.
public final class RTUBus: RegisterTransport {
    public struct Settings: Sendable, Equatable {
        public var port: String
        public var baud: Int
        /// "none", "even" or "odd".
        public var parity: String
        public var stopBits: Int
        public var responseTimeout: Duration
        /// Kernel RS485 mode (TIOCSRS485) and RTS delay, µs; a line that cannot (a pty, a USB
        /// adapter that switches by itself) is logged once and used as it is.
        public var rs485: Bool
        public var rtsDelayMicroseconds: Int?

        public init(
            port: String, baud: Int = 9600, parity: String = "none", stopBits: Int = 1, responseTimeout: Duration = .milliseconds(500),
            rs485: Bool = true, rtsDelayMicroseconds: Int? = nil
        ) {
            self.port = port
            self.baud = baud
            self.parity = parity
            self.stopBits = stopBits
            self.responseTimeout = responseTimeout
            self.rs485 = rs485
            self.rtsDelayMicroseconds = rtsDelayMicroseconds
        }
    }

    /// libmodbus's own errno values: `MODBUS_ENOBASE` + n (modbus.h; Swift cannot import the macros).
    enum LibModbusErrno {
        static let base: Int32 = 112_345_678
        /// EMBXGTAR = base + MODBUS_EXCEPTION_GATEWAY_TARGET (0x0B); the framing errors follow it.
        static let lastException: Int32 = base + 0x0B
        static let badCRC = lastException + 1
        static let badData = lastException + 2
        static let badException = lastException + 3
        static let unknownException = lastException + 4
        static let tooMuchData = lastException + 5
        static let badSlave = lastException + 6

        static func error(_ code: Int32) -> RegisterReadError {
            switch code {
            case ETIMEDOUT: .timeout
            case badCRC: .badCRC
            case badSlave: .wrongUnit
            case badData, tooMuchData, badException, unknownException: .badData
            case (base + 1)...lastException: .exception(UInt8(code - base))
            default: .io(code)
            }
        }
    }

    public enum OpenError: Error, Sendable, Equatable {
        case invalidSettings(String)
        case cannotOpen(port: String, errno: Int32)
    }

    private let context: OpaquePointer
    public let settings: Settings
    /// One line about the line's RS485 handling (nil: kernel RS485 mode set).
    public private(set) var rs485Notice: String?

    public init(_ settings: Settings) throws(OpenError) {
        self.settings = settings
        let parity: CChar
        switch settings.parity {
        case "none": parity = CChar(UInt8(ascii: "N"))
        case "even": parity = CChar(UInt8(ascii: "E"))
        case "odd": parity = CChar(UInt8(ascii: "O"))
        default: throw .invalidSettings("parity '\(settings.parity)'")
        }
        guard let context = modbus_new_rtu(settings.port, Int32(settings.baud), parity, 8, Int32(settings.stopBits)) else {
            throw .invalidSettings("\(settings.port) at \(settings.baud) baud")
        }
        guard modbus_connect(context) == 0 else {
            let code = errno
            modbus_free(context)
            throw .cannotOpen(port: settings.port, errno: code)
        }
        self.context = context
        let timeout = settings.responseTimeout.components
        modbus_set_response_timeout(
            context, UInt32(max(0, timeout.seconds)), UInt32(max(0, timeout.attoseconds / 1_000_000_000_000)))
        if settings.rs485 {
            // After modbus_connect (before it: EBADF, libmodbus #502). A pty answers ENOTTY.
            if modbus_rtu_set_serial_mode(context, MODBUS_RTU_RS485) != 0 {
                let code = errno
                rs485Notice = "\(settings.port): kernel RS485 mode not available (\(String(cString: strerror(code)))): the adapter must switch DE itself"
            } else if let delay = settings.rtsDelayMicroseconds, modbus_rtu_set_rts_delay(context, Int32(delay)) != 0 {
                rs485Notice = "\(settings.port): RTS delay \(delay) µs not accepted"
            }
        }
    }

    deinit {
        modbus_close(context)
        modbus_free(context)
    }

    public func read(unit: UInt8, function: RegisterSpec.FunctionCode, address: UInt16, count: UInt16) -> Result<[UInt16], RegisterReadError> {
        guard modbus_set_slave(context, Int32(unit)) == 0 else { return .failure(.io(errno)) }
        var words = [UInt16](repeating: 0, count: Int(count))
        let read = words.withUnsafeMutableBufferPointer { buffer in
            switch function {
            case .input: modbus_read_input_registers(context, Int32(address), Int32(count), buffer.baseAddress)
            case .holding: modbus_read_registers(context, Int32(address), Int32(count), buffer.baseAddress)
            }
        }
        if read < 0 { return .failure(LibModbusErrno.error(errno)) }
        guard read == Int32(count) else { return .failure(.badData) }
        return .success(words)
    }

    /// Waits out the response window (a late answer still on its way) and flushes the line.
    public func recover(after error: RegisterReadError) -> Int {
        switch error {
        case .exception: return 0  // a complete, valid frame: nothing is left on the line
        default: break
        }
        Pause.sleep(settings.responseTimeout)
        // modbus_flush on RTU is tcflush (returns 0, not a count): ask the tty what is waiting first.
        var waiting: Int32 = 0
        let fd = modbus_get_socket(context)
        _ = withUnsafeMutablePointer(to: &waiting) { ioctl(fd, UInt(FIONREAD), $0) }
        modbus_flush(context)
        return Int(max(0, waiting))
    }
}
