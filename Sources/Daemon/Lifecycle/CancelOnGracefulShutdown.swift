/// An async sequence whose iteration ends (`next()` returns nil) when graceful shutdown starts for
/// the iterating service (`GracefulShutdown`), or when the base sequence ends.
///
/// Demand-driven as the base is: the base's `next()` is called only when the consumer asks for the
/// next element (`IncomingMessages` relies on that to know its consumer waits). Within a group, each
/// `next()` runs in a task of its own, cancelled when the shutdown starts: the base must end a
/// `next()` whose task is cancelled (AsyncStream and `IncomingMessages` do). What is in flight then
/// may be lost, as it would be in the base's own cancellation.
struct CancelOnGracefulShutdownSequence<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable
where Base.Element: Sendable, Base.Failure == Never {
    typealias Element = Base.Element

    let base: Base

    func makeAsyncIterator() -> Iterator { Iterator(base: base.makeAsyncIterator()) }

    struct Iterator: AsyncIteratorProtocol {
        /// The base iterator, in a box that the task calling its `next()` can take along. Only one
        /// `next()` at a time: the iterator's owner awaits that task before it asks again.
        private final class Box: @unchecked Sendable {
            var iterator: Base.AsyncIterator
            init(_ iterator: Base.AsyncIterator) { self.iterator = iterator }
            func next() async -> Base.Element? { await iterator.next(isolation: nil) }
        }

        private let box: Box
        private var finished = false

        init(base: Base.AsyncIterator) { box = Box(base) }

        mutating func next() async -> Element? {
            guard !finished else { return nil }
            guard let notice = GracefulShutdown.current else { return await box.next() }
            let element: Element?
            if notice.hasStarted {
                element = nil
            } else {
                let box = self.box
                element = await awaitCancellingOnGracefulShutdown(Task { await box.next() })
            }
            if element == nil { finished = true }
            return element
        }
    }
}

extension AsyncSequence where Self: Sendable, Element: Sendable, Failure == Never {
    /// This sequence until graceful shutdown starts for the iterating service.
    func cancelOnGracefulShutdown() -> CancelOnGracefulShutdownSequence<Self> {
        CancelOnGracefulShutdownSequence(base: self)
    }
}
