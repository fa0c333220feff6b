import Logging

/// A long-running part of the daemon, run by a `ServiceGroup`: `run()` returns when the service is
/// done (at graceful shutdown: `cancelOnGracefulShutdown()`, `gracefulShutdown()`,
/// `cancelWhenGracefulShutdown`; GracefulShutdown.swift) or when its task is cancelled.
protocol Service: Sendable {
    func run() async throws
}

/// Runs services concurrently, each in a child task, until the first graceful-shutdown request
/// (SIGTERM/SIGINT), and then shuts them down in REVERSE order of the list, one at a time: each is
/// told (its `GracefulShutdown` starts) and its `run()` awaited before the next one is told.
///
/// The semantics of swift-service-lifecycle 2's group, which this replaces (with no timeouts and
/// no cancellation signals, as the daemon configured it):
/// - a service whose `run()` returns while the group runs cancels the others and makes `run()`
///   throw `ServiceGroupError.serviceFinishedUnexpectedly`, unless its `successTerminationBehavior`
///   is `.ignore` (then it is simply done; the group ends when every service is done);
/// - a service that throws cancels the others and `run()` rethrows its error, during shutdown too;
/// - during shutdown, a service other than the one told that returns (not `.ignore`) cancels the
///   rest, as above; requests after the first are ignored;
/// - when the caller's task is cancelled, so are the services; `run()` then returns once they did.
final class ServiceGroup: Sendable {
    struct Member: Sendable {
        enum TerminationBehavior: Sendable {
            /// The service's end ends the group (as a failure).
            case cancelGroup
            /// The service may end; the others keep running.
            case ignore
        }

        let service: any Service
        let successTerminationBehavior: TerminationBehavior

        init(service: any Service, successTerminationBehavior: TerminationBehavior = .cancelGroup) {
            self.service = service
            self.successTerminationBehavior = successTerminationBehavior
        }

        var name: String { (service as? any CustomStringConvertible)?.description ?? "\(type(of: service))" }
    }

    let members: [Member]
    let shutdownRequests: AsyncStream<Int32>
    let logger: Logger

    /// `shutdownRequests`: each element asks for graceful shutdown (a signal number, from
    /// `ProcessSignals`); the group listens from `run()` on.
    init(services: [Member], shutdownRequests: AsyncStream<Int32>, logger: Logger) {
        members = services
        self.shutdownRequests = shutdownRequests
        self.logger = logger
    }

    private enum Event: Sendable {
        case returned(Int)
        case threw(Int, any Error)
        case shutdownRequested(Int32)
        case requestsEnded
    }

    func run() async throws {
        let notices = members.map { _ in GracefulShutdown() }
        try await withThrowingTaskGroup(of: Event.self) { group in
            let requests = shutdownRequests
            group.addTask {
                for await signal in requests { return .shutdownRequested(signal) }
                return .requestsEnded
            }
            for (index, member) in members.enumerated() {
                group.addTask {
                    await GracefulShutdown.$current.withValue(notices[index]) {
                        do {
                            try await member.service.run()
                            return .returned(index)
                        } catch {
                            return .threw(index, error)
                        }
                    }
                }
            }
            var running = members.map { _ in true }
            while let event = try await group.next() {
                switch event {
                case .returned(let index):
                    running[index] = false
                    if group.isCancelled { continue }  // the caller cancelled: every service ends
                    try endUnlessIgnored(index, group: &group)
                    if !running.contains(true) {
                        group.cancelAll()  // the request listener
                        return
                    }
                case .threw(let index, let error):
                    running[index] = false
                    group.cancelAll()
                    throw error
                case .shutdownRequested(let signal):
                    logger.debug("graceful shutdown (signal \(signal))")
                    try await shutDown(running: &running, notices: notices, group: &group)
                    return
                case .requestsEnded:
                    continue
                }
            }
        }
    }

    /// A service returned while it should run: the group ends (cancelling the others) unless its
    /// behaviour is `.ignore`.
    private func endUnlessIgnored(_ index: Int, group: inout ThrowingTaskGroup<Event, any Error>) throws {
        let member = members[index]
        guard member.successTerminationBehavior == .cancelGroup else {
            logger.debug("\(member.name) finished")
            return
        }
        group.cancelAll()
        throw ServiceGroupError.serviceFinishedUnexpectedly(service: member.name)
    }

    /// Tells the running services of graceful shutdown in reverse order, one at a time, each one's
    /// `run()` awaited before the next is told.
    private func shutDown(
        running: inout [Bool], notices: [GracefulShutdown], group: inout ThrowingTaskGroup<Event, any Error>
    ) async throws {
        next: for told in members.indices.reversed() where running[told] {
            notices[told].start()
            while let event = try await group.next() {
                switch event {
                case .returned(let index):
                    running[index] = false
                    if index == told || group.isCancelled { continue next }
                    try endUnlessIgnored(index, group: &group)
                case .threw(let index, let error):
                    running[index] = false
                    group.cancelAll()
                    throw error
                case .shutdownRequested, .requestsEnded:
                    continue  // a second SIGTERM changes nothing
                }
            }
        }
        group.cancelAll()  // the request listener
    }
}

/// Why the group ended without a service throwing.
enum ServiceGroupError: Error, CustomStringConvertible, Equatable {
    /// A service returned while the group ran (its behaviour was not `.ignore`).
    case serviceFinishedUnexpectedly(service: String)

    var description: String {
        switch self {
        case .serviceFinishedUnexpectedly(let service): "\(service) ended unexpectedly"
        }
    }
}
