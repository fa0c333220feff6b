import Foundation
import JSONSchema
import JosevContract
import Testing
import TestSupport

/// Locations of the repository's schemas and of the contract's samples (contract §3, vendored in
/// Tests/Fixtures), found from this file.
enum Paths {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static var schemas: String { root + "/schemas" }
    static let contractFixture = "josev/contract-samples.md"
    static var contract: String { Fixtures.path(contractFixture) }
}

/// One sample payload of contract §3: label (`cs_parameters.res.ac`), name, type, message.
struct ContractSample: Sendable, CustomStringConvertible {
    let label: String
    let name: String
    let type: MessageType
    let message: JSONValue
    var description: String { label }

    /// Every labelled sample in §3: a line `**`label`**: `name` type, topic …` followed by a
    /// ```json block.
    static func all() throws -> [ContractSample] {
        let text = try Fixtures.text(Paths.contractFixture)
        var samples: [ContractSample] = []
        let lines = text.components(separatedBy: "\n")
        var index = 0
        while index < lines.count {
            let line = lines[index]
            index += 1
            guard line.hasPrefix("**`"), let labelEnd = line.range(of: "`**: `") else { continue }
            let label = String(line[line.index(line.startIndex, offsetBy: 3)..<labelEnd.lowerBound])
            let rest = line[labelEnd.upperBound...]
            guard let nameEnd = rest.firstIndex(of: "`") else { continue }
            let name = String(rest[..<nameEnd])
            let typeWord = rest[rest.index(after: nameEnd)...].split(separator: " ").first.map { $0.trimmingCharacters(in: .punctuationCharacters) }
            guard let typeWord, let type = MessageType(rawValue: typeWord) else { continue }
            guard index < lines.count, lines[index].hasPrefix("```json") else { continue }
            var body: [String] = []
            index += 1
            while index < lines.count, !lines[index].hasPrefix("```") {
                body.append(lines[index])
                index += 1
            }
            let message = try JSONValue.parse(body.joined(separator: "\n"))
            samples.append(ContractSample(label: label, name: name, type: type, message: message))
        }
        return samples
    }

    /// The samples of messages in the catalogue (the ones this build has schemas for).
    static func inCatalogue() throws -> [ContractSample] {
        try all().filter { MessageCatalog.entry(name: $0.name, type: $0.type) != nil }
    }
}

let catalog: SchemaCatalog = {
    do {
        return try SchemaCatalog(directory: Paths.schemas)
    } catch {
        fatalError("schemas do not load: \(error)")
    }
}()

@Suite("contract samples against the bundled schemas")
struct ContractSampleTests {
    @Test("the contract's samples are found")
    func samplesFound() throws {
        let samples = try ContractSample.all()
        #expect(samples.count > 50, "contract samples at \(Paths.contract) has \(samples.count) samples")
        let covered = Set(try ContractSample.inCatalogue().map(\.label))
        for label in ["cs_parameters.req", "cs_parameters.res.ac", "cs_parameters.res.dc", "cs_status_and_limits.req",
                      "cs_status_and_limits.res.ac", "cs_status_and_limits.res.dc", "cs_status_and_limits.upd"] {
            #expect(covered.contains(label), "sample \(label) not covered")
        }
    }

    @Test("every sample of a catalogue message passes its schema", arguments: try ContractSample.inCatalogue())
    func samplePasses(sample: ContractSample) throws {
        let errors = try #require(catalog.validate(sample.message, name: sample.name, type: sample.type))
        #expect(errors.isEmpty, "\(sample.label): \(errors)")
        #expect(catalog.envelope.validate(sample.message).isEmpty)
    }

    @Test("every catalogue entry has a schema file that compiles", arguments: MessageCatalog.entries)
    func schemaExists(entry: CatalogEntry) {
        #expect(catalog.validator(name: entry.name, type: entry.type) != nil)
    }
}
