import JosevContract
import Logging

// Contract §2.6, the back office reaching the station: update_firmware, upload_logs (their
// progress goes out as firmware_status and logs_status updates from BackOffice).

extension UpdateFirmwareRequest: RequestHandling {
    /// Judged and started by the firmware updater; rejected without a `firmware:` block.
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        guard let firmware = context.backOffice?.firmware else {
            context.logger.notice("update_firmware \(requestID) rejected: no firmware block in the configuration")
            return context.respond(UpdateFirmwareResponse(status: .rejected))
        }
        return context.respond(UpdateFirmwareResponse(status: await firmware.request(self)))
    }
}

extension UploadLogsRequest: RequestHandling {
    /// The journal is collected and uploaded by the log uploader.
    func answer(in context: HandlerContext, _ message: IncomingMessage) async -> Answer {
        guard let logs = context.backOffice?.logs else {
            context.logger.notice("upload_logs \(requestID) rejected: log upload is not set up")
            return context.respond(UploadLogsResponse(status: .rejected))
        }
        return context.respond(await logs.request(self))
    }
}
