import JSONSchema
import JosevContract
import Logging
import Testing

@testable import Daemon

@Suite("cs_status_and_limits answer cache")
struct StatusAndLimitsCacheTests {
    @Test("an equal snapshot reuses the encoded data; any change is encoded again")
    func reuseAndInvalidate() throws {
        let cache = EncodedStatusAndLimits()
        let logger = Logger(label: "test")
        let ready = CsStatusAndLimits(evses: [EVSEStatusAndLimits(evseID: "DE*TST*E0001*1", statusCode: .ready)])
        let first = try #require(cache.data(for: ready, logger: logger))
        #expect(first["evses"]?.arrayValue?.first?["status_code"] == "evse_ready")
        #expect(cache.data(for: ready, logger: logger) == first)

        var changed = ready
        changed.evses[0].statusCode = .malfunction
        let second = try #require(cache.data(for: changed, logger: logger))
        #expect(second["evses"]?.arrayValue?.first?["status_code"] == "evse_malfunction")
        // And back: the answer follows the snapshot, never the cache.
        #expect(cache.data(for: ready, logger: logger) == first)
    }
}
