import Foundation

/// A fresh directory under the system temp folder, removed with its contents on deinit.
public final class TemporaryDirectory: Sendable {
    public let path: String

    /// Creates `<tmp>/<prefix>.XXXXXX` (mode 0700).
    public init(prefix: String = "cs-companion-test") throws {
        let base = (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp")
        var template = Array("\(base)/\(prefix).XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
            return String(cString: result)
        }
        guard let created else {
            throw TestSupportError("mkdtemp in \(base) failed: \(String(cString: strerror(errno)))")
        }
        self.path = created
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// `path/name`.
    public func file(_ name: String) -> String {
        (path as NSString).appendingPathComponent(name)
    }

    /// Writes `contents` to `path/name` and returns the full path.
    @discardableResult
    public func write(_ name: String, _ contents: String, permissions: Int = 0o600) throws -> String {
        let target = file(name)
        try contents.write(toFile: target, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: target)
        return target
    }
}

/// An error of a test helper, with a readable message.
public struct TestSupportError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
