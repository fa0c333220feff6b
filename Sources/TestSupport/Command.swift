import Foundation

/// Runs short command-line tools (openssl, mosquitto_passwd, …) to completion.
public enum Command {
    /// Finds an executable: an absolute path as is, else the first match in `preferred` or `$PATH`.
    public static func find(_ name: String, preferred: [String] = []) throws -> String {
        if name.hasPrefix("/") { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let candidates = preferred + path.split(separator: ":").map { "\($0)/\(name)" } + ["/usr/sbin/\(name)", "/usr/bin/\(name)"]
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw TestSupportError("\(name) not found (looked in \(preferred + ["$PATH"]))")
    }

    /// Runs `executable arguments…`, returns its combined output; throws if the exit status is not 0.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], in directory: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try find(executable))
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestSupportError(
                "\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus): \(output)")
        }
        return output
    }
}
