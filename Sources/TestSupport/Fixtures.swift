import Foundation

/// The reference files the tests read, vendored in `<repo>/Tests/Fixtures` (see its README.md for
/// where each came from and its licence). Found from the repository's root (`#filePath`), so a plain clone is enough.
public enum Fixtures {
    /// `<repo>/Tests/Fixtures`.
    public static var directory: String { Repository.root + "/Tests/Fixtures" }

    /// `<repo>/Tests/Fixtures/<relative>`, whether it exists or not.
    public static func path(_ relative: String) -> String {
        directory + "/" + relative
    }

    /// The text of `<repo>/Tests/Fixtures/<relative>`; throws when the fixture is missing, so a test
    /// that needs it fails instead of passing without it.
    public static func text(_ relative: String) throws -> String {
        let file = path(relative)
        guard FileManager.default.fileExists(atPath: file) else {
            throw TestSupportError("fixture \(relative) is missing (looked for \(file))")
        }
        return try String(contentsOfFile: file, encoding: .utf8)
    }
}
