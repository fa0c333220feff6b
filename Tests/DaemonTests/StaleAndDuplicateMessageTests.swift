import JosevContract
import Station
import Store
import Testing
import TestSupport

@testable import Daemon

/// Issue 18, findings 4 to 6, in-process: a retained message is stale, a redelivered envelope is
/// not acted on twice, a transaction update for another transaction id changes nothing, and a
/// request whose answer could not carry its id is refused before it is acted on.
@Suite("router: stale, retained and duplicated messages")
struct StaleAndDuplicateMessageTests {
    static let evse = RouterFixture.evseID
    static let inoperative = #"{"operational_status":"inoperative","evse_id":"DE*PNX*E12345*1","connector_id":1}"#
    static let operative = #"{"operational_status":"operative","evse_id":"DE*PNX*E12345*1","connector_id":1}"#
    static let pwm = #"{"evse_id":"DE*PNX*E12345*1","hlc":false,"current":16.0,"error_state":false,"fault_state":false}"#

    static func transaction(_ id: String, _ status: String) -> String {
        #"{"transaction_id":"\#(id)","evse_id":"DE*PNX*E12345*1","status":"\#(status)"}"#
    }

    @Test("a retained request is neither acted on nor answered; a retained transaction update starts nothing")
    func retainedIsIgnored() async throws {
        let fixture = try RouterFixture()
        let (outcome, answer) = try await fixture.send("change_availability", .request, Self.inoperative, retained: true)
        #expect(outcome == .ignored(reason: "retained"))
        #expect(answer == nil)
        #expect(fixture.publisher.count == 0)
        #expect(await fixture.station.state(of: Self.evse)?.isOperative == true)

        let (update, _) = try await fixture.send("transaction_status", .update, Self.transaction("tx-retained", "started"), retained: true)
        #expect(update == .ignored(reason: "retained"))
        #expect(await fixture.station.state(of: Self.evse)?.transaction == nil)

        // The same request live is acted on and answered: the flag made the difference.
        let (live, liveAnswer) = try await fixture.send("change_availability", .request, Self.inoperative)
        #expect(live == .answered(name: "change_availability"))
        #expect(liveAnswer != nil)
        #expect(await fixture.station.state(of: Self.evse)?.isOperative == false)
    }

    @Test("a repeated request id gets the same answer published again and is not executed twice")
    func repeatedRequestIsAnsweredNotExecuted() async throws {
        let fixture = try RouterFixture()
        let first = EnvelopeID.random()
        let (outcome, answer) = try await fixture.send("change_availability", .request, Self.inoperative, id: first)
        #expect(outcome == .answered(name: "change_availability"))
        #expect(await fixture.station.state(of: Self.evse)?.isOperative == false)
        // Josev sets it operative again; then the first request is redelivered.
        let (back, _) = try await fixture.send("change_availability", .request, Self.operative)
        #expect(back == .answered(name: "change_availability"))
        let (again, repeatedAnswer) = try await fixture.send("change_availability", .request, Self.inoperative, id: first)
        #expect(again == .answered(name: "change_availability"))
        #expect(repeatedAnswer != nil)
        #expect(repeatedAnswer == answer)
        #expect(fixture.publisher.count == 3)
        #expect(await fixture.station.state(of: Self.evse)?.isOperative == true)
    }

    @Test("the same transaction_status started twice stores one session; an ended for another id leaves the running one")
    func transactionsMatchedByID() async throws {
        let directory = try TemporaryDirectory()
        let fixture = try RouterFixture(stateDirectory: directory.file("state"))
        let store = try #require(fixture.sessions?.store)
        let started = EnvelopeID.random()
        let (first, _) = try await fixture.send("transaction_status", .update, Self.transaction("tx-1", "started"), id: started)
        #expect(first == .consumed(name: "transaction_status"))
        let (redelivered, _) = try await fixture.send("transaction_status", .update, Self.transaction("tx-1", "started"), id: started)
        #expect(redelivered == .ignored(reason: "duplicate id"))
        // The same start in a new envelope (Josev repeating itself): still one session.
        _ = try await fixture.send("transaction_status", .update, Self.transaction("tx-1", "started"))
        #expect(try store.sessions().count == 1)
        #expect(try store.activeSessions().map(\.transactionID) == ["tx-1"])

        _ = try await fixture.send("transaction_status", .update, Self.transaction("tx-OTHER", "in_progress"))
        _ = try await fixture.send("transaction_status", .update, Self.transaction("tx-OTHER", "ended"))
        #expect(await fixture.station.state(of: Self.evse)?.transaction?.id == "tx-1")
        #expect(try store.activeSessions().map(\.transactionID) == ["tx-1"])

        _ = try await fixture.send("transaction_status", .update, Self.transaction("tx-1", "ended"))
        #expect(await fixture.station.state(of: Self.evse)?.transaction == nil)
        #expect(try store.activeSessions().isEmpty)
        #expect(try store.sessions().map(\.status) == [.completed])
    }

    @Test("a request whose id is not a UUID is refused before acting: nothing changes, nothing is published")
    func idNotAUUIDIsRefusedBeforeActing() async throws {
        let fixture = try RouterFixture()
        let pilotBefore = await fixture.station.state(of: Self.evse)?.pilotRequest
        let (availability, _) = try await fixture.send("change_availability", .request, Self.inoperative, id: "not-a-uuid")
        #expect(availability == .rejected(reason: "id not a UUID"))
        let (pwm, _) = try await fixture.send("cp_pwm", .request, Self.pwm, id: "not-a-uuid")
        #expect(pwm == .rejected(reason: "id not a UUID"))
        #expect(await fixture.station.state(of: Self.evse)?.isOperative == true)
        #expect(await fixture.station.state(of: Self.evse)?.pilotRequest == pilotBefore)
        #expect(fixture.publisher.count == 0)
        // The same cp_pwm with a UUID is acted on: the pilot changes.
        let (accepted, _) = try await fixture.send("cp_pwm", .request, Self.pwm)
        #expect(accepted == .answered(name: "cp_pwm"))
        #expect(await fixture.station.state(of: Self.evse)?.pilotRequest != pilotBefore)
    }

    @Test("the window of recent ids is bounded: the oldest id leaves it")
    func windowIsBounded() {
        let recent = RecentMessages(capacity: 2)
        recent.remember("a", .update)
        recent.remember("b", .update)
        recent.remember("c", .update)
        #expect(recent.handled("a") == nil)
        #expect(recent.handled("b") != nil)
        #expect(recent.handled("c") != nil)
    }
}
