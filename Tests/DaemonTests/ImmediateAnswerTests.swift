import JSONSchema
import JosevContract
import Testing

@testable import Daemon

/// `ContractRouter.answerAtOnce`: what the MQTT network thread answers itself, and what it leaves
/// to the intake.
@Suite("pure reads answered on the network thread")
struct ImmediateAnswerTests {
    static func request(_ name: String, id: String = EnvelopeID.random()) -> [UInt8] {
        Envelope(id: id, name: name, type: .request, data: [:]).json.serializedBytes()
    }

    @Test("cs_status_and_limits is answered at once with the answer the intake gives; other messages are left to the intake")
    func answeredOrLeft() async throws {
        let fixture = try RouterFixture()
        let router = fixture.router
        let id = EnvelopeID.random()
        #expect(router.answerAtOnce(topic: Topic.josevToCS, payload: Self.request("cs_status_and_limits", id: id), retained: false, intakeIdle: true))
        let atOnce = try #require(fixture.publisher.messages.last)
        #expect(atOnce["id"] == .string(id) && atOnce["type"] == "response")
        let (outcome, viaIntake) = try await fixture.send("cs_status_and_limits", .request, "{}")
        #expect(outcome == .answered(name: "cs_status_and_limits"))
        #expect(atOnce["data"] == viaIntake?["data"])
        #expect(router.statistics.answered == 2)

        // Not a pure read, retained, or a repeat: left to the intake, nothing published.
        let before = fixture.publisher.count
        #expect(!router.answerAtOnce(topic: Topic.josevToCS, payload: Self.request("cs_parameters"), retained: false, intakeIdle: true))
        #expect(!router.answerAtOnce(topic: Topic.josevToCS, payload: Self.request("cs_status_and_limits"), retained: true, intakeIdle: true))
        // A pure read while the intake holds an earlier message: left to the intake, in order.
        #expect(!router.answerAtOnce(topic: Topic.josevToCS, payload: Self.request("cs_status_and_limits"), retained: false, intakeIdle: false))
        #expect(fixture.publisher.count == before)
        // A repeated id gets the first answer again, as through the intake.
        #expect(router.answerAtOnce(topic: Topic.josevToCS, payload: Self.request("cs_status_and_limits", id: id), retained: false, intakeIdle: true))
        #expect(fixture.publisher.messages.last == atOnce)
    }

    @Test("a message the gate refuses is settled at once, as the intake would, busy intake or not")
    func refusedAtOnce() throws {
        let fixture = try RouterFixture()
        let router = fixture.router
        #expect(router.answerAtOnce(topic: Topic.josevToCS, payload: Array(#"{"name":"cs_status_and_limits","#.utf8), retained: false, intakeIdle: true))
        #expect(router.answerAtOnce(
            topic: Topic.josevToCS, payload: Array(#"{"id":"not-a-uuid","name":"cs_status_and_limits","type":"request","data":{}}"#.utf8),
            retained: false, intakeIdle: true))
        #expect(router.statistics.rejected == 2)
        #expect(fixture.publisher.count == 0)
    }
}
