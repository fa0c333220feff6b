/// A request whose answer is a pure read of what the station published after its last operation:
/// the router may answer it on the MQTT network thread (`ContractRouter.answerAtOnce`), without
/// the hand-offs to the intake task and the station actor.
protocol ImmediateAnswering: RequestHandling {
    static func answerAtOnce(in context: HandlerContext) -> Answer
}
