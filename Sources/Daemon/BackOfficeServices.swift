import BackOffice
import Logging
import Station

#if canImport(Glibc)
    import Glibc
#endif

/// The firmware updater and log uploader of a running daemon. Built before the handlers (they
/// publish through the outbox, which is built first) and handed to them in the `HandlerContext`.
final class BackOfficeServices: Sendable {
    let firmware: FirmwareUpdater?
    let logs: LogUploader
    /// `reset`: the station's part, then the configured command (nil: the station's part only).
    let reset: StationResetter?

    init(firmware: FirmwareUpdater?, logs: LogUploader, reset: StationResetter? = nil) {
        self.firmware = firmware
        self.logs = logs
        self.reset = reset
    }

    /// Builds both from the configuration; `resume()` (a service of the daemon) continues a firmware
    /// update the state file describes.
    static func make(
        configuration: DaemonConfiguration, station: Station, outbox: Outbox, logger: Logger, sessions: SessionRecorder? = nil
    ) -> BackOfficeServices {
        var firmware: FirmwareUpdater?
        if let block = configuration.firmware {
            let directory = block.downloadDirectory ?? configuration.stateDirectory + "/firmware"
            mkdir(configuration.stateDirectory, 0o700)
            mkdir(directory, 0o700)
            let settings = FirmwareSettings(
                downloadDirectory: directory, stateFile: configuration.stateDirectory + "/firmware.state",
                installCommand: block.installCommand, installTimeout: block.installTimeout, rebootExitCode: block.rebootExitCode,
                rebootCommand: block.rebootCommand, verifyCommand: block.verifyCommand, trustedCAFile: block.trustedCAFile,
                requireSignature: block.requireSignature, keepFreeBytes: block.keepFreeBytes,
                transfer: TransferOptions(
                    caFile: block.caFile, connectTimeout: block.connectTimeout, stallTimeout: block.stallTimeout,
                    sshKnownHosts: block.sshKnownHosts),
                defaultRetries: block.retries, defaultRetryInterval: block.retryInterval)
            firmware = FirmwareUpdater(
                settings: settings, logger: logger,
                publish: { update in
                    let sent = outbox.sendUpdate(update)
                    if update.status == .installed, let file = block.versionFile {
                        await InstalledFirmware.refresh(from: file, station: station, outbox: outbox, logger: logger)
                    }
                    return sent
                },
                isCharging: {
                    for evseID in await station.evseIDs where await station.state(of: evseID)?.sessionActive == true { return true }
                    return false
                })
        }
        let block = configuration.logs
        let work = block.workDirectory ?? configuration.stateDirectory
        mkdir(work, 0o700)
        let logs = LogUploader(
            settings: LogUploadSettings(
                source: JournalSource(
                    directory: block.journalDirectory, unit: block.unit, identifier: block.identifier, otherUnits: block.includeUnits),
                workDirectory: work, httpMethod: block.httpMethod,
                transfer: TransferOptions(
                    caFile: block.caFile, connectTimeout: block.connectTimeout, stallTimeout: block.stallTimeout,
                    sshKnownHosts: block.sshKnownHosts),
                defaultRetries: block.retries, defaultRetryInterval: block.retryInterval,
                stationName: configuration.station.identity.serialNumber),
            logger: logger, publish: { outbox.sendUpdate($0) })
        let reset = StationResetter(
            station: station, settings: configuration.sessionControl.reset, sessions: sessions, directory: configuration.stateDirectory,
            logger: logger)
        return BackOfficeServices(firmware: firmware, logs: logs, reset: reset)
    }

    /// Continues a firmware update the state file describes (a verify command may take time).
    func resume() async {
        await firmware?.resume()
    }
}
