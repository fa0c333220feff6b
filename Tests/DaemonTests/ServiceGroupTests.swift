import Logging
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@testable import Daemon

/// `ServiceGroup` and the graceful-shutdown functions (Sources/Daemon/Lifecycle): what
/// swift-service-lifecycle's group did for the daemon.
@Suite("service group and graceful shutdown")
struct ServiceGroupTests {
    /// A service made of a closure.
    struct Probe: Service, CustomStringConvertible {
        let description: String
        let body: @Sendable () async throws -> Void
        func run() async throws { try await body() }
    }

    /// What the services did, in order.
    final class Journal: Sendable {
        private let lines = Mutex<[String]>([])
        func note(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    static func group(_ services: [ServiceGroup.Member]) -> (ServiceGroup, AsyncStream<Int32>.Continuation) {
        let (requests, continuation) = AsyncStream.makeStream(of: Int32.self)
        return (ServiceGroup(services: services, shutdownRequests: requests, logger: Logger(label: "test")), continuation)
    }

    /// Runs `group`, sends `signals` as its shutdown requests once `ready` yielded `count` elements,
    /// and waits until `run()` returned (at most 10 s).
    static func run<Ready: Sendable>(
        _ group: ServiceGroup, requests: AsyncStream<Int32>.Continuation, after ready: AsyncStream<Ready>, count: Int = 1,
        signals: [Int32] = [SIGTERM]
    ) async throws {
        try await withTimeout(.seconds(10)) {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var seen = 0
                for await _ in ready {
                    seen += 1
                    if seen == count { break }
                }
                for signal in signals { requests.yield(signal) }
                try await tasks.waitForAll()
            }
        }
    }

    /// Waits until graceful shutdown, then does a few suspending steps before it returns.
    static func stopsWhenTold(_ name: String, _ journal: Journal, started: AsyncStream<String>.Continuation? = nil) -> Probe {
        Probe(description: name) {
            #expect(!Task.isShuttingDownGracefully)
            started?.yield(name)
            try await gracefulShutdown()
            #expect(Task.isShuttingDownGracefully)
            journal.note("told \(name)")
            for _ in 0..<20 { await Task.yield() }
            journal.note("done \(name)")
        }
    }

    @Test("a shutdown request tells the services in reverse order, each one's run() awaited before the next is told")
    func reverseOrder() async throws {
        let journal = Journal()
        let (started, starts) = AsyncStream.makeStream(of: String.self)
        let (group, requests) = Self.group(["A", "B", "C", "D"].map { .init(service: Self.stopsWhenTold($0, journal, started: starts)) })
        // A second request changes nothing.
        try await Self.run(group, requests: requests, after: started, count: 4, signals: [SIGTERM, SIGTERM])
        #expect(journal.all == ["told D", "done D", "told C", "done C", "told B", "done B", "told A", "done A"])
    }

    @Test("a service that returns while the group runs ends it: the others are cancelled, run() throws")
    func returningServiceEndsGroup() async throws {
        let journal = Journal()
        let (group, _) = Self.group([
            .init(service: Probe(description: "waiter") {
                do {
                    try await gracefulShutdown()
                    journal.note("told")
                } catch is CancellationError {
                    journal.note("cancelled")
                }
            }),
            .init(service: Probe(description: "quitter") {}),
        ])
        let error = await #expect(throws: ServiceGroupError.self) {
            try await withTimeout(.seconds(10)) { try await group.run() }
        }
        #expect(error == .serviceFinishedUnexpectedly(service: "quitter"))
        #expect(journal.all == ["cancelled"])
    }

    @Test("a service marked .ignore may return; the others run on until the shutdown")
    func ignoredReturn() async throws {
        let journal = Journal()
        let (done, finished) = AsyncStream.makeStream(of: Void.self)
        let (group, requests) = Self.group([
            .init(service: Self.stopsWhenTold("A", journal)),
            .init(service: Probe(description: "one shot") {
                journal.note("one shot")
                finished.yield()
            }, successTerminationBehavior: .ignore),
        ])
        try await Self.run(group, requests: requests, after: done, signals: [SIGINT])
        #expect(journal.all == ["one shot", "told A", "done A"])
    }

    @Test("a group whose services are all .ignore ends when the last returns")
    func allIgnoredEnd() async throws {
        let (group, _) = Self.group([
            .init(service: Probe(description: "one") {}, successTerminationBehavior: .ignore),
            .init(service: Probe(description: "two") {}, successTerminationBehavior: .ignore),
        ])
        try await withTimeout(.seconds(10)) { try await group.run() }
    }

    struct Boom: Error, Equatable {}

    @Test("a service that throws ends the group with its error; the others are cancelled")
    func throwingService() async throws {
        let journal = Journal()
        let (group, _) = Self.group([
            .init(service: Probe(description: "waiter") {
                if (try? await gracefulShutdown()) == nil { journal.note("cancelled") }
            }),
            .init(service: Probe(description: "thrower") { throw Boom() }),
        ])
        await #expect(throws: Boom()) {
            try await withTimeout(.seconds(10)) { try await group.run() }
        }
        #expect(journal.all == ["cancelled"])
    }

    @Test("during the shutdown, a service not yet told that returns ends the group as a failure")
    func returnDuringShutdown() async throws {
        let (release, releaser) = AsyncStream.makeStream(of: Void.self)
        let (group, requests) = Self.group([
            .init(service: Probe(description: "early leaver") {
                for await _ in release { break }
            }),
            .init(service: Probe(description: "last") {
                try await gracefulShutdown()
                releaser.yield()
                // Runs on (until the group cancels it) while the early leaver returns.
                try? await Task.sleep(for: .seconds(3600))
            }),
        ])
        requests.yield(SIGTERM)
        let error = await #expect(throws: ServiceGroupError.self) {
            try await withTimeout(.seconds(10)) { try await group.run() }
        }
        #expect(error == .serviceFinishedUnexpectedly(service: "early leaver"))
    }

    @Test("cancelOnGracefulShutdown() ends an iteration at the shutdown, in order, without cancelling the service's task")
    func sequenceEndsAtShutdown() async throws {
        let journal = Journal()
        let (elements, feed) = AsyncStream.makeStream(of: Int.self)
        let (seen, sees) = AsyncStream.makeStream(of: Int.self)
        let (group, requests) = Self.group([
            .init(service: Probe(description: "consumer") {
                for await element in elements.cancelOnGracefulShutdown() {
                    journal.note("got \(element)")
                    sees.yield(element)
                }
                journal.note(Task.isCancelled ? "ended cancelled" : "ended")
            })
        ])
        for element in 1...3 { feed.yield(element) }
        try await Self.run(group, requests: requests, after: seen, count: 3)
        #expect(journal.all == ["got 1", "got 2", "got 3", "ended"])
    }

    @Test("cancelOnGracefulShutdown() outside a group is the sequence itself")
    func sequenceOutsideGroup() async {
        let (elements, feed) = AsyncStream.makeStream(of: Int.self)
        for element in 1...3 { feed.yield(element) }
        feed.finish()
        var got: [Int] = []
        for await element in elements.cancelOnGracefulShutdown() { got.append(element) }
        #expect(got == [1, 2, 3])
    }

    @Test("cancelWhenGracefulShutdown cancels its operation at the shutdown; the service carries on")
    func operationCancelledAtShutdown() async throws {
        let journal = Journal()
        let (sleeping, sleeps) = AsyncStream.makeStream(of: Void.self)
        let (group, requests) = Self.group([
            .init(service: Probe(description: "sleeper") {
                let value = await cancelWhenGracefulShutdown { 7 }
                journal.note("value \(value)")
                do {
                    try await cancelWhenGracefulShutdown {
                        sleeps.yield()
                        try await Task.sleep(for: .seconds(3600))
                    }
                    journal.note("slept")
                } catch is CancellationError {
                    journal.note(Task.isCancelled ? "cancelled, task too" : "cancelled")
                }
                // Once the shutdown started, an operation is cancelled at once.
                let late = await cancelWhenGracefulShutdown { () async -> Bool in
                    (try? await Task.sleep(for: .seconds(3600))) == nil
                }
                journal.note("late cancelled \(late)")
            })
        ])
        try await Self.run(group, requests: requests, after: sleeping)
        #expect(journal.all == ["value 7", "cancelled", "late cancelled true"])
    }
}
