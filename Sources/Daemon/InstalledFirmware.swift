import Basics
import JosevContract
import Logging
import Station

/// The firmware version the board runs, from `firmware.version_file` (the file the image carries,
/// e.g. `/etc/sw-version`; its first line). Read at start and on reload (it replaces
/// `station.firmware_version`), and again after every `installed`: the new version is then the
/// station's (`device_model`, `cs_parameters`, Modbus) and Josev hears it at once in a
/// `device_model_update` with `firmware_version`.
enum InstalledFirmware {
    /// The version in `path` (first line, trimmed); nil when unreadable or empty.
    static func read(_ path: String) -> String? {
        guard let text = try? SystemFile.readText(path, maxBytes: 4096) else { return nil }
        let line = text.prefix { $0 != "\n" && $0 != "\r" }.trimmingSpaces
        return line.isEmpty ? nil : line
    }

    /// After `installed`: reads the version again, makes it the station's and announces it.
    static func refresh(from path: String, station: Station, outbox: Outbox, logger: Logger) async {
        guard let version = read(path) else {
            logger.warning("firmware installed, but \(path) has no version to read; firmware_version unchanged")
            return
        }
        var configuration = await station.configuration
        let old = configuration.identity.firmwareVersion
        if old != version {
            configuration.identity.firmwareVersion = version
            await station.reconfigure(configuration)
            logger.notice("firmware version \(version) installed (was \(old))")
        }
        outbox.sendUpdate(DeviceModelUpdate(components: [], firmwareVersion: version))
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
