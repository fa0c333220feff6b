import Foundation
import FuzzTargets
import Testing

/// Every committed fuzz input (the corpora and the crash reproducers) still goes through its target
/// without trapping. No sanitizer here: `make fuzz` is where new inputs are searched for.
///
/// The targets block their calling thread while the Modbus register map (an actor) answers, as
/// libFuzzer's thread does; here they run on a thread of their own so that no thread of the
/// concurrency pool is blocked.
@Suite(.serialized) struct FuzzRegressionTests {
    /// `<repo>/fuzz`, from this file's path.
    static let fuzzDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fuzz")

    /// Reproducers of bugs outside the fuzzing code that are known and not fixed yet, one
    /// `<target>/<file>` per line in `fuzz/crashes/OPEN` (`#` comments): they would stop the test
    /// process, so they are skipped until their line is removed with the fix.
    static let open: Set<String> = {
        let url = fuzzDirectory.appendingPathComponent("crashes/OPEN")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return Set(
            text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") })
    }()

    /// The input files of `fuzz/<kind>/<target>/` (dot files skipped), sorted.
    static func inputs(_ kind: String, _ target: String) -> [URL] {
        let directory = fuzzDirectory.appendingPathComponent(kind).appendingPathComponent(target)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { directory.appendingPathComponent($0) }
    }

    /// Runs every input of `fuzz/<kind>/<target>/` through the target; returns how many ran.
    static func runAll(_ kind: String, _ target: String) async throws -> Int {
        let files = inputs(kind, target).filter { !open.contains("\(target)/\($0.lastPathComponent)") }
        let inputs = try files.map { [UInt8](try Data(contentsOf: $0)) }
        let known = await onOwnThread { inputs.allSatisfy { FuzzTargets.run(target, $0) } }
        #expect(known, "unknown target \(target)")
        return inputs.count
    }

    static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    @Test func everyTargetHasACorpus() {
        for target in FuzzTargets.names {
            let path = Self.fuzzDirectory.appendingPathComponent("corpus/\(target)").path
            #expect(FileManager.default.fileExists(atPath: path), "missing \(path)")
        }
    }

    @Test(arguments: FuzzTargets.names) func corpus(target: String) async throws {
        let count = try await Self.runAll("corpus", target)
        // The seeds of fuzz/tools/make-seeds.py are committed: an empty corpus is a lost folder.
        #expect(count >= 20, "only \(count) corpus files for \(target)")
    }

    @Test(arguments: FuzzTargets.names) func crashReproducers(target: String) async throws {
        _ = try await Self.runAll("crashes", target)
    }

    @Test func unknownTargetIsRefused() {
        #expect(!FuzzTargets.run("no-such-target", []))
    }
}
