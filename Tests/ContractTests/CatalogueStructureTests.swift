import Foundation
import JSONSchema
import JosevContract
import Testing

/// Every object of a JSON document with its pointer, depth first.
private func objects(in value: JSONValue, at pointer: [String] = []) -> [(pointer: String, object: JSONObject)] {
    switch value {
    case .object(let object):
        var found = [("/" + pointer.joined(separator: "/"), object)]
        for member in object {
            found += objects(in: member.value, at: pointer + [member.key])
        }
        return found
    case .array(let array):
        return array.enumerated().flatMap { objects(in: $0.element, at: pointer + [String($0.offset)]) }
    default:
        return []
    }
}

private func schemaFiles() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: Paths.schemas)
        .filter { $0.hasSuffix(".json") && $0 != MessageCatalog.envelopeSchemaFile && $0 != MessageCatalog.configSchemaFile }
        .sorted()
}

private func schema(of entry: CatalogEntry) throws -> JSONValue {
    try SchemaCatalog.load(path: Paths.schemas + "/" + entry.schemaFile)
}

@Suite("catalogue and schema files")
struct CatalogueStructureTests {
    @Test("every schema file has a catalogue entry and every entry a schema file")
    func filesMatchCatalogue() throws {
        let files = Set(try schemaFiles())
        let entries = Set(MessageCatalog.entries.map(\.schemaFile))
        #expect(files.subtracting(entries).isEmpty, "schema files without an entry: \(files.subtracting(entries).sorted())")
        #expect(entries.subtracting(files).isEmpty, "entries without a schema file: \(entries.subtracting(files).sorted())")
        #expect(entries.count == MessageCatalog.entries.count, "an entry is listed twice")
    }

    @Test("every §3 sample is of a catalogue message, except the documented exclusions")
    func samplesCatalogued() throws {
        for sample in try ContractSample.all() where MessageCatalog.entry(name: sample.name, type: sample.type) == nil {
            #expect(uncataloguedSamples[sample.label] != nil, "§3 sample \(sample.label) has no catalogue entry")
        }
        let labels = Set(try ContractSample.all().map(\.label))
        for label in uncataloguedSamples.keys {
            #expect(labels.contains(label), "exclusion \(label) is not a §3 sample any more")
        }
    }

    @Test("header: draft-07, $id, title with direction and topic, name and type consts", arguments: MessageCatalog.entries)
    func header(entry: CatalogEntry) throws {
        let schema = try schema(of: entry)
        #expect(schema["$schema"] == "http://json-schema.org/draft-07/schema#")
        #expect(schema["$id"] == .string("urn:cs-companion:schema:\(entry.key)"))
        let title = schema["title"]?.stringValue ?? ""
        let direction = switch entry.direction {
        case .josevToCS: "(Josev → CS, topic josev/cs)"
        case .csToJosev: "(CS → Josev, topic cs/josev)"
        case .both: "(both directions: CS → Josev on cs/josev, Josev → CS on josev/cs)"
        }
        #expect(title == "\(entry.key.replacingOccurrences(of: ".", with: " ")) \(direction)", "title: \(title)")
        #expect((schema["description"]?.stringValue ?? "").count > 20)
        #expect(schema["properties"]?["name"]?["const"] == .string(entry.name))
        #expect(schema["properties"]?["type"]?["const"] == .string(entry.type.rawValue))
        #expect(schema["required"] == ["id", "name", "type", "data"])
    }

    @Test("envelope: additionalProperties false except the §1.1 exceptions; id a uuid except sdp response", arguments: MessageCatalog.entries)
    func envelope(entry: CatalogEntry) throws {
        let schema = try schema(of: entry)
        if envelopeExceptions.contains(entry.key) {
            #expect(schema["additionalProperties"] == nil, "\(entry.key) tolerates extra envelope keys (§1.1)")
        } else {
            #expect(schema["additionalProperties"] == false, "\(entry.key) has no extra envelope keys (§1.1)")
        }
        let id = schema["properties"]?["id"]
        #expect(id?["type"] == "string")
        let format: JSONValue? = entry.key == "sdp.response" ? nil : "uuid"
        #expect(id?["format"] == format, "\(entry.key) id format")
    }

    @Test("self-contained: only local #/definitions references, all of them defined", arguments: MessageCatalog.entries)
    func selfContained(entry: CatalogEntry) throws {
        let schema = try schema(of: entry)
        for (pointer, object) in objects(in: schema) {
            guard let ref = object["$ref"]?.stringValue else { continue }
            #expect(ref.hasPrefix("#/definitions/"), "\(entry.key)\(pointer): \(ref)")
            let name = String(ref.dropFirst("#/definitions/".count))
            #expect(schema["definitions"]?[name] != nil, "\(entry.key)\(pointer): \(ref) undefined")
        }
    }

    @Test("every date-time carries the §1.1 pattern (notify_event's timestamp excepted, §2.6)", arguments: MessageCatalog.entries)
    func dateTimes(entry: CatalogEntry) throws {
        let schema = try schema(of: entry)
        for (pointer, object) in objects(in: schema) where object["format"] == "date-time" {
            #expect(object["type"] == "string", "\(entry.key)\(pointer)")
            if entry.key == "notify_event.update" {
                #expect(object["pattern"] == nil, "notify_event.timestamp has no pattern in Josev's schema")
            } else {
                #expect(object["pattern"] == .string(dateTimePattern), "\(entry.key)\(pointer)")
            }
        }
    }

    @Test("data objects: additionalProperties false, except the open ones the contract documents", arguments: MessageCatalog.entries)
    func closedObjects(entry: CatalogEntry) throws {
        // Objects the contract leaves open: the `{}` requests Josev's schema leaves open, the
        // OCPP payloads and free data, iso15118_state_info.info, cost_updated.custom_data.
        let open: Set<String> = [
            "cs_parameters.request:/properties/data", "cs_status_and_limits.request:/properties/data",
            "iso15118_state_info.update:/properties/data/properties/info",
            "cost_updated.update:/properties/data/properties/custom_data",
            "ocpp_message.request:/properties/data/properties/payload",
            "ocpp_message.response:/properties/data/properties/payload",
            "ocpp_message.response:/properties/data/properties/error_details",
        ]
        // Objects Josev's schema leaves open while the CS knows their members (issue 13): open on
        // the way in, marked `x-cs-closed` so that what the CS sends is checked closed.
        let openWhenReceived: Set<String> = [
            "device_model.request:/properties/data", "cp_pwm.request:/properties/data", "cs_connector.request:/properties/data",
            "ocpp_message.request:/properties/data", "ocpp_message.response:/properties/data",
            "device_model_update.update:/properties/data", "device_model_update.update:/properties/data/properties/components/items",
            "power_electronics_setpoint.request:/properties/data/properties/ev_limits", "ev_rated_limits.update:/definitions/phases",
        ]
        let schema = try schema(of: entry)
        for (pointer, object) in objects(in: schema) where object["type"] == "object" && pointer != "/" {
            let place = "\(entry.key):\(pointer)"
            if open.contains(place) {
                #expect(object["additionalProperties"] == nil, "\(place) is open")
            } else if openWhenReceived.contains(place) {
                #expect(object["additionalProperties"] == nil, "\(place) is open on the way in")
                #expect(object[SchemaCatalog.closedWhenSentKeyword] == true, "\(place) is closed on the way out")
            } else {
                #expect(object["additionalProperties"] == false, "\(place) needs additionalProperties false")
            }
        }
    }

    @Test(".both schemas have no format but the envelope id (see Direction.both)", arguments: MessageCatalog.entries.filter { $0.direction == .both })
    func bothFormats(entry: CatalogEntry) throws {
        for (pointer, object) in objects(in: try schema(of: entry)) where object["format"] != nil {
            #expect(pointer == "/properties/id", "\(entry.key)\(pointer): format is not asserted for .both")
        }
    }

    @Test("directions: topics and who receives what")
    func directions() {
        #expect(Direction.josevToCS.topics == [Topic.josevToCS])
        #expect(Direction.csToJosev.topics == [Topic.csToJosev])
        #expect(Direction.both.topics == [Topic.josevToCS, Topic.csToJosev])
        #expect(Direction.both.topic == Topic.csToJosev)
        #expect(Direction.both.isReceivedByCS && Direction.both.isSentByCS)
        #expect(Direction.josevToCS.isReceivedByCS && !Direction.josevToCS.isSentByCS)
        #expect(!Direction.csToJosev.isReceivedByCS && Direction.csToJosev.isSentByCS)
        let both = Set(MessageCatalog.entries.filter { $0.direction == .both }.map(\.key))
        #expect(both == ["device_model_update.update", "authorization.update", "data_transfer.request",
                         "data_transfer.response", "ocpp_message.request", "ocpp_message.response"])
    }
}
