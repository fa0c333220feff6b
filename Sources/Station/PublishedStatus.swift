import JosevContract
import Synchronization

/// The station's `cs_status_and_limits` as its last operation left it, readable from any thread
/// without waiting for the actor: the MQTT network thread answers Josev's requests from it.
public final class PublishedStatus: Sendable {
    private let value: Mutex<CsStatusAndLimits>

    init(_ initial: CsStatusAndLimits) {
        value = Mutex(initial)
    }

    public var statusAndLimits: CsStatusAndLimits { value.withLock { $0 } }

    func publish(_ status: CsStatusAndLimits) {
        value.withLock { $0 = status }
    }
}
