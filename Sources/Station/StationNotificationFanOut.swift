/// The subscribers of a station's notifications: each subscriber has its own stream and its own
/// buffer; `publish` feeds them all, synchronously and in order. A subscriber whose stream ended
/// (its consumer stopped iterating or was cancelled) is dropped at the next notification.
struct NotificationFanOut: Sendable {
    private var streams: [Int: AsyncStream<StationNotification>.Continuation] = [:]
    private var nextID = 0

    /// A new, independent stream of every notification published from now on; it keeps the newest
    /// `limit` (at least 1) its consumer has not read yet.
    mutating func subscribe(bufferingNewest limit: Int) -> AsyncStream<StationNotification> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: StationNotification.self, bufferingPolicy: .bufferingNewest(max(1, limit)))
        streams[nextID] = continuation
        nextID += 1
        return stream
    }

    var count: Int { streams.count }

    mutating func publish(_ notification: StationNotification) {
        var ended: [Int] = []
        for (id, continuation) in streams {
            if case .terminated = continuation.yield(notification) { ended.append(id) }
        }
        for id in ended { streams[id] = nil }
    }

    /// Ends every stream (the station is gone).
    func finish() {
        for continuation in streams.values { continuation.finish() }
    }
}
