// sd_notify(3) from Swift: readiness, status, watchdog pings, reload and stop notifications.
//
// Only `sd_notify(0, …)` is used: the variadic `sd_notifyf` cannot be imported into Swift, so the
// assignments are formatted here and sent as one plain string (one datagram).
import CSystemd
import Glibc

/// One `KEY=value` assignment of the sd_notify protocol (sd_notify(3)).
public enum NotifyState: Sendable, Hashable {
    /// `READY=1`: start-up (or a reload) is finished and requests can be served.
    case ready
    /// `STATUS=…`: a one-line, human-readable state shown by `systemctl status`.
    case status(String)
    /// `WATCHDOG=1`: the keep-alive ping. Send it from the loop that serves requests.
    case watchdog
    /// `RELOADING=1`: the service reloads its configuration; follow with `READY=1`.
    case reloading
    /// `STOPPING=1`: the service begins its shutdown.
    case stopping
    /// `MAINPID=…`: the main process of the service, when it is not the one that was started.
    case mainPID(pid_t)
    /// `ERRNO=…`: the service failed with this errno-style code.
    case errno(Int32)
    /// `WATCHDOG=trigger`: ask the manager to act as if the watchdog timed out.
    case watchdogTrigger
    /// `MONOTONIC_USEC=…`: the CLOCK_MONOTONIC time of a `RELOADING=1` (required by systemd ≥ 253's
    /// `Type=notify-reload`, ignored by older managers).
    case monotonicUsec(UInt64)

    /// The assignment as it goes on the wire, without a trailing newline.
    ///
    /// A status text is kept to one line: newlines (which separate assignments) and NUL bytes
    /// (which would end the C string early) become spaces.
    public var assignment: String {
        switch self {
        case .ready: "READY=1"
        case .status(let text): "STATUS=" + Self.oneLine(text)
        case .watchdog: "WATCHDOG=1"
        case .reloading: "RELOADING=1"
        case .stopping: "STOPPING=1"
        case .mainPID(let pid): "MAINPID=\(pid)"
        case .errno(let code): "ERRNO=\(code)"
        case .watchdogTrigger: "WATCHDOG=trigger"
        case .monotonicUsec(let usec): "MONOTONIC_USEC=\(usec)"
        }
    }

    private static func oneLine(_ text: String) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n", "\r", "\0": result.unicodeScalars.append(" ")
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

/// What became of one `notify` call.
public enum NotifyOutcome: Sendable, Hashable {
    /// The datagram was sent to `$NOTIFY_SOCKET`.
    case sent
    /// `$NOTIFY_SOCKET` is not set (not started by systemd, or not `Type=notify`): nothing was sent.
    case notConfigured
    /// sd_notify failed with this errno (e.g. `ECONNREFUSED` when nobody listens on the socket).
    case failed(errno: Int32)
}

/// Talks to the service manager over `$NOTIFY_SOCKET` (sd_notify(3)).
///
/// Every call is a no-op that returns `.notConfigured` when `NOTIFY_SOCKET` is unset, so the daemon
/// can call it unconditionally, also when run from a shell or a test. The environment is left in
/// place (`unset_environment` is 0), so every part of the process may notify.
///
/// ```swift
/// let notifier = SystemdNotifier()
/// notifier.status("connecting to broker")
/// // … MQTT subscribed, Modbus listening …
/// notifier.ready()
/// ```
///
/// Reload protocol on systemd 252 (no `Type=notify-reload`): on SIGHUP call `reloading()`, apply
/// or reject the new configuration, then `ready()`.
public struct SystemdNotifier: Sendable {
    public init() {}

    /// Whether `$NOTIFY_SOCKET` is set, i.e. whether notifications go anywhere.
    public var isConfigured: Bool {
        guard let value = getenv("NOTIFY_SOCKET") else { return false }
        return value.pointee != 0
    }

    /// Sends all `states` in one datagram, one assignment per line.
    @discardableResult
    public func notify(_ states: [NotifyState]) -> NotifyOutcome {
        guard !states.isEmpty else { return .notConfigured }
        let message = states.map(\.assignment).joined(separator: "\n")
        let rc = sd_notify(0, message)
        if rc > 0 { return .sent }
        if rc == 0 { return .notConfigured }
        return .failed(errno: -rc)
    }

    /// Sends one state.
    @discardableResult
    public func notify(_ state: NotifyState) -> NotifyOutcome { notify([state]) }

    /// `READY=1`, optionally together with a `STATUS=` line.
    @discardableResult
    public func ready(status: String? = nil) -> NotifyOutcome {
        notify(status.map { [.ready, .status($0)] } ?? [.ready])
    }

    /// `STATUS=…`.
    @discardableResult
    public func status(_ text: String) -> NotifyOutcome { notify(.status(text)) }

    /// `WATCHDOG=1`.
    @discardableResult
    public func watchdog() -> NotifyOutcome { notify(.watchdog) }

    /// `RELOADING=1` with `MONOTONIC_USEC=` (now), optionally with a `STATUS=` line. Send
    /// `ready()` when the reload is done, whether the new configuration was taken or rejected.
    @discardableResult
    public func reloading(status: String? = nil) -> NotifyOutcome {
        var states: [NotifyState] = [.reloading, .monotonicUsec(Self.monotonicMicroseconds())]
        if let status { states.append(.status(status)) }
        return notify(states)
    }

    /// `STOPPING=1`, optionally together with a `STATUS=` line.
    @discardableResult
    public func stopping(status: String? = nil) -> NotifyOutcome {
        notify(status.map { [.stopping, .status($0)] } ?? [.stopping])
    }

    /// The watchdog period the manager expects (`WatchdogSec=`), from `$WATCHDOG_USEC` and
    /// `$WATCHDOG_PID` via `sd_watchdog_enabled(0, …)`; nil when the watchdog is off, the variables
    /// are malformed, or they are meant for another process.
    public static func watchdogInterval() -> Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(clamping: usec))
    }

    /// How often to send `WATCHDOG=1`: half the watchdog period (sd_watchdog_enabled(3)); nil when
    /// the watchdog is off.
    public static func recommendedPingInterval() -> Duration? {
        watchdogInterval().map { $0 / 2 }
    }

    /// CLOCK_MONOTONIC in microseconds, the clock `MONOTONIC_USEC=` is measured on.
    public static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000 &+ UInt64(now.tv_nsec) / 1_000
    }
}
