import JSONSchema
import JosevContract
import Logging

// Contract §2.6, OCPP pass-through: data_transfer, ocpp_message.

extension DataTransferRequest: RequestHandling {
    /// The vendor `cs-companion` knows one message, `ping`; every other vendor or message is unknown.
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        guard vendorID == "cs-companion" else {
            context.logger.notice("data_transfer from vendor '\(vendorID)' not supported")
            return context.respond(DataTransferResponse(status: .unknownVendorID))
        }
        switch messageID {
        case "ping":
            return context.respond(DataTransferResponse(status: .accepted, data: ["pong": true]))
        default:
            return context.respond(DataTransferResponse(status: .unknownMessageID))
        }
    }
}

extension OCPPMessageRequest: RequestHandling {
    /// OCPP messages are Josev's business: the CS has no answer to give.
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        context.logger.notice("ocpp_message request not handled by the CS")
        return .none
    }
}
