import Daemon
import JSONSchema
import JosevContract
import Logging
import Station
import Synchronization
import Testing
import TestSupport

/// The router's outgoing gate, in-process: what the daemon would publish goes to a list.
final class CollectingPublisher: MessagePublisher {
    let published = Mutex<[(topic: String, payload: [UInt8])]>([])

    func publish(topic: String, payload: [UInt8]) throws {
        published.withLock { $0.append((topic, payload)) }
    }

    var count: Int { published.withLock { $0.count } }
}

@Suite("router outgoing gate")
struct RouterUnitTests {
    static func router() throws -> (ContractRouter, CollectingPublisher) {
        let schemas = try SchemaCatalog(directory: Repository.schemas)
        let configuration = StationConfiguration(
            identity: StationIdentity(serialNumber: "S", vendor: "V", model: "M", firmwareVersion: "1", hardwareVersion: "A"),
            evses: [EVSEConfiguration(
                evseID: "E1", networkInterface: "eth1", ac: ACSupply(nominalVoltage: 230, maxCurrent: 16),
                connectors: [ConnectorConfiguration(id: 1, connectorType: .acThreePhaseCore)])])
        let publisher = CollectingPublisher()
        let router = ContractRouter(
            schemas: schemas, station: Station(configuration: configuration), publisher: publisher, logger: Logger(label: "test"))
        return (router, publisher)
    }

    @Test("an answer that fails its own schema is not sent; a valid one is, on cs/josev")
    func invalidOutgoingIsNotSent() async throws {
        let (router, publisher) = try Self.router()
        #expect(router.send(.update(name: "cs_status_and_limits", data: ["evses": "oops"])) == false)
        #expect(router.send(.update(name: "cs_status_and_limits", data: ["evses": [["evse_id": "E1", "status_code": "ready", "ac": [:]]]])) == false)
        #expect(router.send(.update(name: "no_such_message", data: [:])) == false)
        #expect(publisher.count == 0)
        #expect(await router.publishStatusAndLimits(force: true, reason: "test"))
        #expect(publisher.count == 1)
        let sent = try #require(publisher.published.withLock { $0.first })
        #expect(sent.topic == "cs/josev")
        let json = try JSONValue.parse(sent.payload)
        #expect(json["type"] == "update")
        #expect(json["data"]?["evses"]?.arrayValue?.first?["ac"]?["max_current"]?["l1"] == .double(16))
    }

    @Test("an unchanged state is not re-published unless forced")
    func unchangedStateIsNotRepublished() async throws {
        let (router, publisher) = try Self.router()
        #expect(await router.publishStatusAndLimits(reason: "first"))
        #expect(await router.publishStatusAndLimits(reason: "same") == false)
        #expect(await router.publishStatusAndLimits(force: true, reason: "reconnected"))
        #expect(publisher.count == 2)
    }
}
