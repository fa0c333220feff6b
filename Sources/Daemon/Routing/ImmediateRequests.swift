import JosevContract

/// A request whose answer is a pure read of what the station published after its last operation:
/// the router may answer it on the MQTT network thread (`ContractRouter.answerAtOnce`), without
/// the hand-offs to the intake task and the station actor.
protocol ImmediateAnswering: RequestHandling {
    static func answerAtOnce(in context: HandlerContext) -> Answer
}

/// Which incoming payloads are worth parsing on the network thread: those that name one of the
/// requests answered at once. A cheap byte search, so that every other message is parsed only
/// once, by the intake.
enum ImmediateRequests {
    /// `"<name>"` of every registered request whose payload type answers at once.
    static let quotedNames: [[UInt8]] = MessageCatalog.registrations
        .filter { $0.type == .request && $0.direction.isReceivedByCS && $0.payload is any ImmediateAnswering.Type }
        .map { Array("\"\($0.name)\"".utf8) }

    static func mayBeOne(_ payload: [UInt8]) -> Bool {
        quotedNames.contains { contains(payload, $0) }
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var start = 0
        let last = haystack.count - needle.count
        while start <= last {
            if haystack[start] == first, haystack[start..<start + needle.count].elementsEqual(needle) { return true }
            start += 1
        }
        return false
    }
}
