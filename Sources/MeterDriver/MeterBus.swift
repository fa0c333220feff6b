import Basics
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// One Modbus line (an RS485 bus, or one TCP meter) with its meters: a thread of its own that
/// opens the line (again every `reopenInterval` while it cannot), and polls each meter when due,
/// one request in flight.
public final class MeterBus: @unchecked Sendable {
    // @unchecked: `open`'s transport lives on the bus thread only; the rest is immutable or `Locked`.
    public let name: String
    public let meters: [MeterChannel]
    let gap: Duration
    let open: () throws -> any RegisterTransport
    let logger: Logger
    let now: @Sendable () -> ContinuousClock.Instant
    private let running = Locked(false)
    private let finished = Locked(true)
    static let reopenInterval: Duration = .seconds(5)

    public init(
        name: String, meters: [MeterChannel], gap: Duration, logger: Logger,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        open: @escaping () throws -> any RegisterTransport
    ) {
        self.name = name
        self.meters = meters
        self.gap = gap
        self.open = open
        self.logger = logger
        self.now = now
    }

    /// Starts the bus thread (once).
    public func start() {
        let starting = running.withLock { running in
            defer { running = true }
            return !running
        }
        guard starting else { return }
        finished.withLock { $0 = false }
        let job = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { raw in
                guard let raw else { return nil }
                Unmanaged<MeterBus>.fromOpaque(raw).takeRetainedValue().run()
                return nil
            }, job.toOpaque())
        if created == 0 {
            pthread_detach(thread)
        } else {
            job.release()
            running.withLock { $0 = false }
            finished.withLock { $0 = true }
            logger.error("meter bus \(name): no thread (\(created)): its meters stay unknown")
        }
    }

    /// Stops polling after the request in flight.
    public func stop() { running.withLock { $0 = false } }

    private var isRunning: Bool { running.current }

    private func run() {
        defer { finished.withLock { $0 = true } }
        var polling: MeterPolling?
        var nextOpen = now()
        var due = meters.map { _ in now() }
        while isRunning {
            if polling == nil, now() >= nextOpen {
                do {
                    let transport = try open()
                    if let notice = (transport as? RTUBus)?.rs485Notice { logger.notice("meter bus \(name): \(notice)") }
                    polling = MeterPolling(transport: transport, gap: gap, logger: logger, now: now)
                    logger.info("meter bus \(name) open: \(meters.count) meter(s)")
                } catch {
                    logger.error("meter bus \(name) cannot be opened: \(error); again in \(Self.reopenInterval)")
                    nextOpen = now().advanced(by: Self.reopenInterval)
                }
            }
            let current = now()
            var polled = false
            for index in meters.indices where due[index] <= current {
                if polling != nil {
                    polling?.poll(meters[index])
                } else {
                    MeterPolling.failCycle(meters[index], logger: logger)
                }
                due[index] = max(due[index].advanced(by: meters[index].pollInterval), now())
                polled = true
                if !isRunning { return }
            }
            if !polled {
                let next = due.min() ?? current.advanced(by: .seconds(1))
                Pause.sleep(min(.milliseconds(50), current.duration(to: next)))
            }
        }
    }
}
