import BackOffice
import JSONSchema
import JosevContract
import Logging
import Station
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The `firmware:` block: how this board installs firmware (docs/FIRMWARE.md).
public struct FirmwareConfiguration: Sendable, Equatable {
    public var installCommand: [String]
    public var installTimeout = 600
    public var rebootExitCode: Int32 = 100
    public var rebootCommand: [String]?
    public var verifyCommand: [String]?
    /// Default `<state_directory>/firmware`.
    public var downloadDirectory: String?
    public var keepFreeBytes: Int64 = 0
    public var trustedCAFile: String?
    public var requireSignature = false
    public var caFile: String?
    public var sshKnownHosts: String?
    public var connectTimeout = 30
    public var stallTimeout = 60
    public var retries = 3
    public var retryInterval = 30
    /// The file that names the installed version (first line); replaces `station.firmware_version`.
    public var versionFile: String?

    public init(installCommand: [String]) { self.installCommand = installCommand }
}

/// The `logs:` block: where `upload_logs` reads the journal and how it uploads.
public struct LogsConfiguration: Sendable, Equatable {
    /// Journal files in this directory instead of the system journal.
    public var journalDirectory: String?
    public var unit = "cs-companiond.service"
    public var identifier = "cs-companiond"
    /// The station's other units whose entries a diagnostics log includes (Josev's, mosquitto).
    public var includeUnits: [String] = []
    /// Default `<state_directory>`.
    public var workDirectory: String?
    public var httpMethod = HTTPUploadMethod.put
    public var caFile: String?
    public var sshKnownHosts: String?
    public var connectTimeout = 30
    public var stallTimeout = 60
    public var retries = 2
    public var retryInterval = 30

    public init() {}
}

extension ConfigLoader {
    /// Reads the `firmware:` and `logs:` blocks (already schema-checked) and checks what the schema
    /// cannot: the commands exist and are executable, the CA files are readable.
    static func decodeBackOffice(
        _ root: JSONValue, into configuration: inout DaemonConfiguration, problems: inout [ConfigProblem],
        located: (String, String) -> ConfigProblem
    ) {
        func strings(_ value: JSONValue?) -> [String]? { value?.arrayValue?.compactMap(\.stringValue) }
        func int(_ value: JSONValue?) -> Int? { value?.integerValue.map { Int($0) } }
        func command(_ value: JSONValue?, _ pointer: String) -> [String]? {
            executableCommand(value, pointer, problems: &problems, located: located)
        }
        func readable(_ value: JSONValue?, _ pointer: String) -> String? {
            guard let path = value?.stringValue else { return nil }
            if access(path, R_OK) != 0 { problems.append(located(pointer, "cannot read \(path): \(String(cString: strerror(errno)))")) }
            return path
        }
        if let block = root["firmware"] {
            var firmware = FirmwareConfiguration(installCommand: command(block["install_command"], "/firmware/install_command") ?? [])
            if let value = int(block["install_timeout"]) { firmware.installTimeout = value }
            if let value = int(block["reboot_exit_code"]) { firmware.rebootExitCode = Int32(value) }
            firmware.rebootCommand = command(block["reboot_command"], "/firmware/reboot_command")
            firmware.verifyCommand = command(block["verify_command"], "/firmware/verify_command")
            firmware.downloadDirectory = block["download_directory"]?.stringValue
            if let value = block["keep_free_bytes"]?.integerValue { firmware.keepFreeBytes = Int64(value) }
            firmware.trustedCAFile = readable(block["trusted_ca_file"], "/firmware/trusted_ca_file")
            firmware.requireSignature = block["require_signature"]?.boolValue ?? false
            firmware.caFile = readable(block["ca_file"], "/firmware/ca_file")
            firmware.sshKnownHosts = readable(block["ssh_known_hosts"], "/firmware/ssh_known_hosts")
            if let value = int(block["connect_timeout"]) { firmware.connectTimeout = value }
            if let value = int(block["stall_timeout"]) { firmware.stallTimeout = value }
            if let value = int(block["retries"]) { firmware.retries = value }
            if let value = int(block["retry_interval"]) { firmware.retryInterval = value }
            if firmware.requireSignature, firmware.trustedCAFile == nil {
                // Without a root any self-signed certificate would pass: the signature would prove nothing.
                problems.append(located("/firmware/trusted_ca_file", "required when require_signature is true (the root signing certificates must chain to)"))
            }
            if firmware.rebootExitCode == 0 {
                problems.append(located("/firmware/reboot_exit_code", "0 means installed; pick another status"))
            }
            firmware.versionFile = readable(block["version_file"], "/firmware/version_file")
            if let file = firmware.versionFile, let version = InstalledFirmware.read(file) {
                configuration.station.identity.firmwareVersion = version
            }
            configuration.firmware = firmware
        }
        if let block = root["logs"] {
            var logs = LogsConfiguration()
            logs.journalDirectory = block["journal_directory"]?.stringValue
            if let value = block["unit"]?.stringValue { logs.unit = value }
            if let value = block["identifier"]?.stringValue { logs.identifier = value }
            logs.includeUnits = strings(block["include_units"]) ?? []
            logs.workDirectory = block["work_directory"]?.stringValue
            if let value = block["http_method"]?.stringValue.flatMap(HTTPUploadMethod.init(rawValue:)) { logs.httpMethod = value }
            logs.caFile = readable(block["ca_file"], "/logs/ca_file")
            logs.sshKnownHosts = readable(block["ssh_known_hosts"], "/logs/ssh_known_hosts")
            if let value = int(block["connect_timeout"]) { logs.connectTimeout = value }
            if let value = int(block["stall_timeout"]) { logs.stallTimeout = value }
            if let value = int(block["retries"]) { logs.retries = value }
            if let value = int(block["retry_interval"]) { logs.retryInterval = value }
            configuration.logs = logs
        }
    }
}
