#if canImport(Glibc)
    import Glibc
#endif
import Basics

/// A serial port (or a pseudo-terminal) opened through a real tty descriptor: raw mode, the given
/// baud rate and parity, 8 data bits, CLOCAL, no flow control, never the controlling terminal.
///
/// One POSIX thread of its own does all the I/O: it hands each chunk it reads to `onBytes`, and it
/// writes what `write` queued. `write` never blocks the caller (a Swift concurrency thread may
/// call it); it throws when the queue is full because the other end stopped reading.
/// `onBytes` and `onEnd` run on that thread, one at a time.
public final class SerialLine: Sendable {
    public struct Settings: Sendable, Equatable {
        public var baud: Int
        public var parity: Parity
        public var stopBits: Int

        public init(baud: Int = 115_200, parity: Parity = .none, stopBits: Int = 1) {
            self.baud = baud
            self.parity = parity
            self.stopBits = stopBits
        }
    }

    public enum Parity: String, Sendable, CaseIterable {
        case none, even, odd
    }

    /// Bytes queued but not yet written above which `write` refuses more.
    public static let maxQueuedBytes = 64 * 1024

    public let path: String
    private let descriptor: Int32
    /// The I/O thread's wake-up pipe: [read end, write end].
    private let wakePipe: (Int32, Int32)
    private let state = Locked(State())
    private let onBytes: @Sendable ([UInt8]) -> Void
    private let onEnd: @Sendable (SerialLineError?) -> Void

    private struct State {
        var outgoing: [UInt8] = []
        var closing = false
        var thread: pthread_t?
    }

    /// Opens `path` and starts the I/O thread. `onEnd` is called once when reading stops: nil after
    /// `close()`, an error when the device failed or went away.
    public init(
        path: String, settings: Settings = Settings(),
        onBytes: @escaping @Sendable ([UInt8]) -> Void,
        onEnd: @escaping @Sendable (SerialLineError?) -> Void = { _ in }
    ) throws(SerialLineError) {
        guard let speed = SerialLine.speed(forBaud: settings.baud) else { throw .unsupportedBaud(settings.baud) }
        guard settings.stopBits == 1 || settings.stopBits == 2 else { throw .unsupportedStopBits(settings.stopBits) }
        let fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open \(path)", errno) }
        do {
            try SerialLine.configure(fd, speed: speed, settings: settings)
        } catch {
            Glibc.close(fd)
            throw error
        }
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw .system("pipe", code)
        }
        guard SerialLine.setNonBlockingCloseOnExec(pipeEnds) else {
            let code = errno
            for descriptor in pipeEnds + [fd] { Glibc.close(descriptor) }
            throw .system("fcntl", code)
        }
        self.path = path
        self.descriptor = fd
        self.wakePipe = (pipeEnds[0], pipeEnds[1])
        self.onBytes = onBytes
        self.onEnd = onEnd
        try startThread()
    }

    deinit {
        Glibc.close(descriptor)
        Glibc.close(wakePipe.0)
        Glibc.close(wakePipe.1)
    }

    /// Queues `bytes` for the I/O thread; all of them or none.
    public func write(_ bytes: [UInt8]) throws(SerialLineError) {
        try state.withLock { (state) throws(SerialLineError) in
            guard !state.closing else { throw .closed }
            guard state.outgoing.count + bytes.count <= SerialLine.maxQueuedBytes else { throw .outputQueueFull }
            state.outgoing += bytes
        }
        wake()
    }

    /// Stops the I/O thread (unwritten bytes are dropped) and waits for it; idempotent.
    public func close() {
        let thread: pthread_t? = state.withLock { state in
            guard !state.closing else { return nil }
            state.closing = true
            defer { state.thread = nil }
            return state.thread
        }
        wake()
        guard let thread else { return }
        // From `onBytes` or `onEnd` (the I/O thread itself) joining would wait for ourselves.
        if pthread_equal(thread, pthread_self()) != 0 {
            pthread_detach(thread)
        } else {
            pthread_join(thread, nil)
        }
    }

    private static func setNonBlockingCloseOnExec(_ descriptors: [Int32]) -> Bool {
        descriptors.allSatisfy { fd in
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) == 0
        }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(wakePipe.1, &byte, 1)
    }

    private final class ThreadContext {
        let line: SerialLine
        init(_ line: SerialLine) { self.line = line }
    }

    private func startThread() throws(SerialLineError) {
        let context = Unmanaged.passRetained(ThreadContext(self))
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { raw in
                guard let raw else { return nil }
                Unmanaged<ThreadContext>.fromOpaque(raw).takeRetainedValue().line.runIOLoop()
                return nil
            }, context.toOpaque())
        guard created == 0 else {
            context.release()
            throw .system("pthread_create", created)
        }
        state.withLock { $0.thread = thread }
    }

    private func runIOLoop() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let (closing, pendingOutput) = state.withLock { ($0.closing, !$0.outgoing.isEmpty) }
            if closing {
                onEnd(nil)
                return
            }
            var fds = [
                pollfd(fd: descriptor, events: Int16(POLLIN) | (pendingOutput ? Int16(POLLOUT) : 0), revents: 0),
                pollfd(fd: wakePipe.0, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return finish(.system("poll", errno))
            }
            if fds[1].revents != 0 { drainWakePipe() }
            if fds[0].revents & Int16(POLLOUT) != 0, let failure = flushOutput() {
                return finish(failure)
            }
            if fds[0].revents & Int16(POLLIN | POLLERR | POLLHUP) != 0 {
                let count = read(descriptor, &buffer, buffer.count)
                if count > 0 {
                    onBytes(Array(buffer[0..<count]))
                } else if count == 0 {
                    return finish(.endOfFile)
                } else if errno != EAGAIN && errno != EINTR {
                    // A pty whose other side closed reports EIO.
                    return finish(.system("read \(path)", errno))
                }
            }
        }
    }

    private func finish(_ failure: SerialLineError) {
        let wasClosing = state.withLock { state in
            defer { state.closing = true }
            return state.closing
        }
        onEnd(wasClosing ? nil : failure)
    }

    /// Writes as much of the queue as the device takes now; an error only for a failed device.
    private func flushOutput() -> SerialLineError? {
        state.withLock { state in
            guard !state.outgoing.isEmpty else { return nil }
            let written = state.outgoing.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written > 0 {
                state.outgoing.removeFirst(written)
                return nil
            }
            if written < 0 && errno != EAGAIN && errno != EINTR { return .system("write \(path)", errno) }
            return nil
        }
    }

    private func drainWakePipe() {
        var scratch = [UInt8](repeating: 0, count: 64)
        while read(wakePipe.0, &scratch, scratch.count) > 0 {}
    }
}
