import JSONSchema
import JosevContract
import Logging
import Testing
import TestSupport

@testable import Daemon

@Suite("cs_status_and_limits answer cache")
struct StatusAndLimitsCacheTests {
    @Test("an equal snapshot reuses the encoded data; any change is encoded again")
    func reuseAndInvalidate() throws {
        let cache = EncodedStatusAndLimits()
        let logger = Logger(label: "test")
        let ready = CsStatusAndLimits(evses: [EVSEStatusAndLimits(evseID: "DE*TST*E0001*1", statusCode: .ready)])
        let first = try #require(cache.prepared(for: ready, logger: logger)?.data)
        #expect(first["evses"]?.arrayValue?.first?["status_code"] == "evse_ready")
        #expect(cache.prepared(for: ready, logger: logger)?.data == first)

        var changed = ready
        changed.evses[0].statusCode = .malfunction
        let second = try #require(cache.prepared(for: changed, logger: logger)?.data)
        #expect(second["evses"]?.arrayValue?.first?["status_code"] == "evse_malfunction")
        // And back: the answer follows the snapshot, never the cache.
        #expect(cache.prepared(for: ready, logger: logger)?.data == first)
    }

    @Test("a prepared answer: the first response is validated in full, later ones carry the same bytes as a full serialization")
    func preparedAnswerBytes() async throws {
        let fixture = try RouterFixture()
        let (publisher, outbox) = (fixture.publisher, fixture.outbox)
        let snapshot = await fixture.station.statusAndLimits()
        let prepared = PreparedAnswer(data: try snapshot.encodedData())
        let first = Envelope.request(name: "cs_status_and_limits", data: [:])
        let second = Envelope.request(name: "cs_status_and_limits", data: [:])

        #expect(!prepared.isValidated)
        #expect(outbox.send(first.response(data: prepared.data), prepared: prepared))
        #expect(prepared.isValidated)
        #expect(outbox.send(second.response(data: prepared.data), prepared: prepared))
        let payloads = publisher.published.withLock { $0 }.map(\.payload)
        #expect(payloads == [first, second].map { $0.response(data: prepared.data).json.serializedBytes() })

        // Data the outgoing schema refuses is never published, and never taken as validated.
        let invalid = PreparedAnswer(data: ["evses": .string("not a list")])
        #expect(!outbox.send(first.response(data: invalid.data), prepared: invalid))
        #expect(!invalid.isValidated)
        #expect(publisher.count == 2)
    }
}
