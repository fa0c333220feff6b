#if canImport(Glibc)
    import Glibc
#endif

/// Why a serial line could not be opened or stopped working.
public enum SerialLineError: Error, Equatable, Sendable, CustomStringConvertible {
    case unsupportedBaud(Int)
    case unsupportedStopBits(Int)
    /// A system call failed: what was attempted and errno.
    case system(String, Int32)
    /// The device reported end of file.
    case endOfFile
    /// `write` after `close()`.
    case closed
    /// More than `SerialLine.maxQueuedBytes` waiting: the other end is not reading.
    case outputQueueFull

    public var description: String {
        switch self {
        case .unsupportedBaud(let baud): "unsupported baud rate \(baud)"
        case .unsupportedStopBits(let bits): "unsupported number of stop bits \(bits)"
        case .system(let what, let code): "\(what): \(String(cString: strerror(code)))"
        case .endOfFile: "end of file"
        case .closed: "the line is closed"
        case .outputQueueFull: "output queue full (the other end does not read)"
        }
    }
}

extension SerialLine {
    /// True when `baud` is one of the standard rates a line can be opened with.
    public static func supports(baud: Int) -> Bool { speed(forBaud: baud) != nil }

    /// The termios speed constant of a baud rate.
    static func speed(forBaud baud: Int) -> speed_t? {
        let speeds: [Int: Int32] = [
            1200: B1200, 2400: B2400, 4800: B4800, 9600: B9600, 19_200: B19200, 38_400: B38400,
            57_600: B57600, 115_200: B115200, 230_400: B230400, 460_800: B460800, 921_600: B921600,
        ]
        return speeds[baud].map { speed_t($0) }
    }

    /// Raw mode (no echo, no line editing, no character translation, no signals), the speed,
    /// 8 data bits, the parity and stop bits, CLOCAL | CREAD, no RTS/CTS or XON/XOFF.
    static func configure(_ fd: Int32, speed: speed_t, settings: Settings) throws(SerialLineError) {
        var tty = termios()
        guard tcgetattr(fd, &tty) == 0 else { throw .system("tcgetattr", errno) }
        cfmakeraw(&tty)
        guard cfsetispeed(&tty, speed) == 0, cfsetospeed(&tty, speed) == 0 else { throw .system("cfsetspeed", errno) }
        tty.c_cflag &= ~(tcflag_t(CSIZE | PARENB | PARODD | CSTOPB) | tcflag_t(CRTSCTS))
        tty.c_cflag |= tcflag_t(CS8 | CLOCAL | CREAD)
        switch settings.parity {
        case .none: tty.c_iflag &= ~tcflag_t(INPCK)
        case .even:
            tty.c_cflag |= tcflag_t(PARENB)
            tty.c_iflag |= tcflag_t(INPCK)
        case .odd:
            tty.c_cflag |= tcflag_t(PARENB | PARODD)
            tty.c_iflag |= tcflag_t(INPCK)
        }
        if settings.stopBits == 2 { tty.c_cflag |= tcflag_t(CSTOPB) }
        tty.c_iflag &= ~tcflag_t(IXON | IXOFF | IXANY)
        withUnsafeMutableBytes(of: &tty.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(fd, TCSANOW, &tty) == 0 else { throw .system("tcsetattr", errno) }
        tcflush(fd, TCIOFLUSH)
    }
}
