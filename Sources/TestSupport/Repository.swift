import Foundation

/// Paths of the repository, found from this file, and its built products.
public enum Repository {
    /// `<repo>` (this file is `<repo>/Sources/TestSupport/Repository.swift`).
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    public static var schemas: String { root + "/schemas" }
    public static var exampleConfig: String { root + "/etc/cs-companiond.yaml" }

    /// A built product (`cs-companiond`, `cs-companion`, `josev-sim`, `gridbox-sim`) next to the test bundle.
    public static func product(_ name: String) throws -> String {
        var candidates: [String] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: executable).deletingLastPathComponent().path + "/" + name)
        }
        candidates.append(root + "/.build/debug/" + name)
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        throw TestSupportError("\(name) is not built (looked in \(candidates)); run `swift build` first")
    }

    /// Runs a built product to its end: exit status and stdout + stderr.
    public static func run(_ name: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await Command.capture(try product(name), arguments)
    }
}
