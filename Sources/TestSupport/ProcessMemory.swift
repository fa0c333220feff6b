import Foundation

/// A process's memory as Linux reports it in `/proc/<pid>/status`, in KiB.
public struct ProcessMemory: Sendable, CustomStringConvertible {
    /// Resident now (`VmRSS`).
    public let residentKiB: Int
    /// Peak resident since start or since the last `resetPeak` (`VmHWM`).
    public let peakKiB: Int

    /// Reads `/proc/<pid>/status`; nil when the process is gone.
    public init?(pid: Int32) {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func kib(_ key: String) -> Int? {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }) else { return nil }
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
        }
        guard let resident = kib("VmRSS"), let peak = kib("VmHWM") else { return nil }
        residentKiB = resident
        peakKiB = peak
    }

    /// Starts a new peak at the current resident size (writes 5 to `/proc/<pid>/clear_refs`).
    @discardableResult
    public static func resetPeak(pid: Int32) -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/\(pid)/clear_refs") else { return false }
        defer { try? handle.close() }
        return (try? handle.write(contentsOf: Data("5".utf8))) != nil
    }

    public var description: String { "VmRSS \(residentKiB) KiB, VmHWM \(peakKiB) KiB" }
}

/// Figures a hostile-input test measured, appended to the file `$HOSTILE_REPORT` names (the
/// `make hostile` report) as `case | figure | value` rows; nothing when it is not set.
public enum HostileReport {
    public static func record(_ testCase: String, _ figure: String, _ value: String) {
        print("hostile: \(testCase) | \(figure) | \(value)")
        guard let path = ProcessInfo.processInfo.environment["HOSTILE_REPORT"], !path.isEmpty else { return }
        let line = "| \(testCase) | \(figure) | \(value) |\n"
        if let handle = FileHandle(forWritingAtPath: path) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            handle.closeFile()
        } else {
            _ = FileManager.default.createFile(atPath: path, contents: Data(line.utf8))
        }
    }
}
