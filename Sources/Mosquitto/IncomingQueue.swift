import Basics

/// Bounds on the messages a client holds between its network thread and their consumer.
///
/// Messages of at least `largeMessageBytes` go to a lane of their own, which the consumer is given
/// only while the ordinary lane is empty: a burst of large messages delays an ordinary one (a
/// time-critical request is small) by at most the one large message being handled. A message that
/// would take its lane over `maxMessages` or its byte bound (`maxBytes`, `maxLargeBytes`) is
/// dropped (shed) at once and counted.
public struct IncomingLimits: Sendable, Equatable {
    public var maxMessages: Int
    public var maxBytes: Int
    public var largeMessageBytes: Int
    public var maxLargeBytes: Int

    public init(maxMessages: Int = 1024, maxBytes: Int = 2 << 20, largeMessageBytes: Int = 64 << 10, maxLargeBytes: Int = 1 << 20) {
        self.maxMessages = maxMessages
        self.maxBytes = maxBytes
        self.largeMessageBytes = largeMessageBytes
        self.maxLargeBytes = maxLargeBytes
    }

    /// No bound: one lane, nothing ever shed.
    public static let unbounded = IncomingLimits(maxMessages: .max, maxBytes: .max, largeMessageBytes: .max, maxLargeBytes: .max)
}

/// What a client has shed since it was created.
public struct ShedCount: Sendable, Equatable {
    public var messages: Int = 0
    public var bytes: Int = 0
    public init(messages: Int = 0, bytes: Int = 0) {
        self.messages = messages
        self.bytes = bytes
    }
}

/// The incoming messages of a client: a single-consumer async sequence over two bounded lanes.
/// Ends when the client stops.
public final class IncomingMessages: AsyncSequence, Sendable {
    public typealias Element = MQTTMessage

    /// A FIFO whose taken slots are emptied at once (a taken message's payload is freed when its
    /// consumer is done with it, not when the slots are compacted).
    private struct Lane {
        var messages: [MQTTMessage?] = []
        var head = 0
        var bytes = 0
        var count: Int { messages.count - head }

        mutating func append(_ message: MQTTMessage) {
            messages.append(message)
            bytes += message.payload.count
        }

        mutating func popFirst() -> MQTTMessage? {
            guard head < messages.count, let message = messages[head] else { return nil }
            messages[head] = nil
            head += 1
            bytes -= message.payload.count
            if head == messages.count {
                messages.removeAll(keepingCapacity: messages.capacity <= 64)
                head = 0
            } else if head >= 64 && head * 2 >= messages.count {
                messages.removeFirst(head)
                head = 0
            }
            return message
        }
    }

    private struct State {
        var ordinary = Lane()
        var large = Lane()
        var finished = false
        var waiter: CheckedContinuation<MQTTMessage?, Never>?
        var shed = ShedCount()
    }

    /// Takes a message on the client's network thread; true when it was handled there in full.
    /// `consumerWaits`: the consumer waits with nothing queued (every earlier message was consumed).
    public typealias ImmediateHandler = @Sendable (_ message: MQTTMessage, _ consumerWaits: Bool) -> Bool

    /// The largest message offered to the immediate handler (the requests it answers are small).
    public static let immediateMaxBytes = 4096

    public let limits: IncomingLimits
    private let state = Locked(State())
    private let onShed: @Sendable (ShedCount) -> Void
    /// In a class box: a closure stored directly in a generic lock is re-wrapped in a reabstraction
    /// thunk on every `withLock` (its inout write-back), a chain that grew with every message.
    private final class HandlerBox: Sendable {
        let handler: ImmediateHandler
        init(_ handler: @escaping ImmediateHandler) { self.handler = handler }
    }
    private let immediate = Locked<HandlerBox?>(nil)

    /// `onShed` is called (on the producing thread, outside the lock) after every shed message with
    /// the running total.
    init(limits: IncomingLimits, onShed: @escaping @Sendable (ShedCount) -> Void = { _ in }) {
        self.limits = limits
        self.onShed = onShed
    }

    /// Everything shed so far.
    public var shed: ShedCount { state.withLock { $0.shed } }

    /// Messages waiting for the consumer, in both lanes.
    public var waiting: (messages: Int, bytes: Int) {
        state.withLock { ($0.ordinary.count + $0.large.count, $0.ordinary.bytes + $0.large.bytes) }
    }

    /// Installs `handler`, called on the client's network thread with each message of at most
    /// `immediateMaxBytes` as it arrives, told whether the consumer waits with nothing queued (then
    /// every earlier message has been consumed in full). A message it handles (returns true) is not
    /// queued; one it declines goes to the consumer as usual. It must not block.
    public func handleAtOnce(_ handler: @escaping ImmediateHandler) {
        immediate.withLock { $0 = HandlerBox(handler) }
    }

    /// Hands the message `make` builds to the immediate handler, the consumer or the queue; false
    /// when it was shed, in which case `make` is not called (a shed payload is never copied).
    @discardableResult
    func offer(size: Int, _ make: () -> MQTTMessage) -> Bool {
        // Only the network thread offers: a consumer found waiting stays so until this returns.
        if size <= Self.immediateMaxBytes, let handler = immediate.withLock({ $0 })?.handler {
            let message = make()
            return handler(message, consumerWaits) ? true : enqueue(size: size) { message }
        }
        return enqueue(size: size, make)
    }

    /// The consumer waits for a message: nothing is queued and it is done with every earlier one.
    var consumerWaits: Bool { state.withLock { $0.waiter != nil && !$0.finished } }

    private func enqueue(size: Int, _ make: () -> MQTTMessage) -> Bool {
        let shed: ShedCount? = state.withLock { s in
            guard !s.finished else { return nil }
            if let waiter = s.waiter {
                s.waiter = nil
                waiter.resume(returning: make())
                return nil
            }
            let large = size >= limits.largeMessageBytes
            let lane = large ? s.large : s.ordinary
            guard lane.count < limits.maxMessages, size <= (large ? limits.maxLargeBytes : limits.maxBytes) - lane.bytes else {
                s.shed.messages += 1
                s.shed.bytes += size
                return s.shed
            }
            if large { s.large.append(make()) } else { s.ordinary.append(make()) }
            return nil
        }
        if let shed {
            onShed(shed)
            return false
        }
        return true
    }

    /// `offer(size:_:)` for a message already built.
    @discardableResult
    func offer(_ message: MQTTMessage) -> Bool { offer(size: message.payload.count) { message } }

    /// No more messages: the consumer gets what is queued, then the end.
    func finish() {
        state.withLock { s in
            s.finished = true
            if let waiter = s.waiter {
                s.waiter = nil
                waiter.resume(returning: nil)
            }
        }
    }

    /// The next message: ordinary lane first; nil at the end or when the waiting task is cancelled.
    func next() async -> MQTTMessage? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<MQTTMessage?, Never>) in
                state.withLock { s in
                    if let message = s.ordinary.popFirst() ?? s.large.popFirst() {
                        continuation.resume(returning: message)
                    } else if s.finished || Task.isCancelled {
                        continuation.resume(returning: nil)
                    } else {
                        s.waiter = continuation
                    }
                }
            }
        } onCancel: {
            state.withLock { s in
                if let waiter = s.waiter {
                    s.waiter = nil
                    waiter.resume(returning: nil)
                }
            }
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let queue: IncomingMessages
        public mutating func next() async -> MQTTMessage? { await queue.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(queue: self) }
}
