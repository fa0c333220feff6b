import CLinux
import CMosquitto
import Glibc

/// Wakes the network thread out of its `poll` at once: an eventfd that any thread may signal (a
/// publish queued, a stop requested) and the network thread polls beside the broker's socket. With
/// it the thread sleeps for as long as nothing is due (the keepalive is then the only timer)
/// instead of waking every 100 ms to look for work.
///
/// libmosquitto has a wake-up pipe of its own, but only `mosquitto_loop` polls it and it is not
/// reachable from outside; the client polls with `mosquitto_loop_read/write/misc` instead.
final class LoopWakeup: Sendable {
    /// -1 when the kernel refused an eventfd: the network thread then polls with a short timeout.
    let descriptor: Int32

    init() {
        descriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// From any thread: the next (or current) `poll` of the network thread returns.
    func signal() {
        guard descriptor >= 0 else { return }
        var one: UInt64 = 1
        _ = write(descriptor, &one, 8)
    }

    /// On the network thread, after `poll` reported the descriptor readable.
    func clear() {
        guard descriptor >= 0 else { return }
        var count: UInt64 = 0
        _ = read(descriptor, &count, 8)
    }
}
