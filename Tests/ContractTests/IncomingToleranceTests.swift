import JSONSchema
import JosevContract
import Testing

/// Issue 13 §2: on the way in the CS is not stricter than Josev's own schemas (mqtt_api 3.10.0),
/// so a newer Josev that adds a key where its schema allows one does not stop the station; on the
/// way out the CS stays strict (Josev's dataclasses raise on any unknown key).
@Suite("incoming tolerance, outgoing strictness")
struct IncomingToleranceTests {
    /// One object that Josev's schema leaves open in a message the CS receives.
    struct OpenPlace: Sendable, CustomStringConvertible {
        let sample: String
        /// Changes that make the object exist in the sample (nil: it is there already).
        let setup: [(JSONPointer, JSONValue)]
        /// Where the unknown key goes.
        let extra: JSONPointer
        /// The typed model keeps unknown members of this object on purpose (free-form data).
        let keptByModel: Bool

        init(_ sample: String, _ extra: String, setup: [(String, JSONValue)] = [], keptByModel: Bool = false) {
            self.sample = sample
            self.setup = setup.map { (JSONPointer(tokens: Array($0.0.split(separator: "/").map(String.init))), $0.1) }
            self.extra = JSONPointer(tokens: extra.split(separator: "/").map(String.init))
            self.keptByModel = keptByModel
        }

        var description: String { "\(sample) \(extra)" }
    }

    /// The list of issue 13: every object of a J→CS message that Josev's schema leaves open.
    static let openPlaces: [OpenPlace] = [
        OpenPlace("cs_parameters.req", "data/newer_josev_key"),
        OpenPlace("cs_status_and_limits.req", "data/newer_josev_key"),
        OpenPlace("device_model.req", "data/newer_josev_key"),
        OpenPlace("cp_pwm.req.basic", "data/newer_josev_key"),
        OpenPlace("cs_connector.req", "data/newer_josev_key"),
        OpenPlace("ocpp_message.req", "data/newer_josev_key"),
        OpenPlace("device_model_update.upd", "data/newer_josev_key"),
        OpenPlace("device_model_update.upd", "data/components/0/newer_josev_key"),
        OpenPlace("iso15118_state_info.upd", "data/info/newer_josev_key", keptByModel: true),
        OpenPlace("power_electronics_setpoint.req.dc", "data/ev_limits/newer_josev_key"),
        OpenPlace(
            "ev_rated_limits.upd", "data/ac_rated_limits/max_charge_power/newer_josev_key",
            setup: [("data/ac_rated_limits/max_charge_power", ["l1": 7400.0, "l2": 7400.0, "l3": 7400.0])]),
        OpenPlace(
            "ev_rated_limits.upd", "data/ac_rated_limits/min_discharge_power/newer_josev_key",
            setup: [("data/ac_rated_limits/min_discharge_power", ["l1": 0.0, "l2": 0.0, "l3": 0.0])]),
        OpenPlace(
            "cost_updated.upd", "data/custom_data/newer_josev_key", setup: [("data/custom_data", ["vendor_id": "com.acme"])],
            keptByModel: true),
        OpenPlace("ocpp_message.res.error", "data/newer_josev_key"),
        OpenPlace("ocpp_message.res.error", "data/error_details/newer_josev_key", keptByModel: true),
    ]

    static func prepared(_ place: OpenPlace) throws -> (sample: ContractSample, base: JSONValue, extended: JSONValue) {
        let sample = try #require(try CatalogueSamples.named(place.sample), "no sample \(place.sample)")
        var base = sample.message
        for (pointer, value) in place.setup { base = Mutation(sample: place.sample, change: .set(pointer, value), valid: true, why: "").apply(to: base) }
        let extended = Mutation(sample: place.sample, change: .set(place.extra, 1), valid: true, why: "").apply(to: base)
        #expect(extended != base, "\(place): the key was not added (its object is missing from the sample)")
        return (sample, base, extended)
    }

    @Test("an unknown key where Josev's schema allows one: received, it validates and decodes as without it", arguments: openPlaces)
    func receivedWithExtraKey(place: OpenPlace) throws {
        let (sample, base, extended) = try Self.prepared(place)
        let entry = try #require(MessageCatalog.entry(name: sample.name, type: sample.type))
        #expect(entry.direction.isReceivedByCS)
        #expect(catalog.validate(base, name: sample.name, type: sample.type, for: .received) == [])
        #expect(catalog.validate(extended, name: sample.name, type: sample.type, for: .received) == [])
        let data = try #require(extended["data"])
        let decoded = try ContractMessages.decode(name: sample.name, type: sample.type, data: data)
        if !place.keptByModel {
            let plain = try ContractMessages.decode(name: sample.name, type: sample.type, data: try #require(base["data"]))
            #expect(decoded.isEqual(to: plain), "\(place): the unknown key changed the decoded payload")
        }
    }

    @Test("the unknown key is named, with its JSON pointer, where the CS does not know it", arguments: openPlaces.filter { !$0.keptByModel })
    func unknownKeyNamed(place: OpenPlace) throws {
        let (sample, base, extended) = try Self.prepared(place)
        #expect(catalog.unknownKeys(in: base, name: sample.name, type: sample.type) == [])
        #expect(catalog.unknownKeys(in: extended, name: sample.name, type: sample.type) == [place.extra.description])
    }

    @Test("sent by the CS, a message of a .both schema with an unknown key is refused")
    func sentBothStrict() throws {
        let places = Self.openPlaces.filter { place in
            MessageCatalog.entries.contains { $0.direction == .both && place.sample.hasPrefix($0.name + ".") }
        }
        #expect(places.count >= 4, "device_model_update and ocpp_message travel both ways")
        for place in places where !place.keptByModel {
            let (sample, base, extended) = try Self.prepared(place)
            #expect(catalog.validate(base, name: sample.name, type: sample.type, for: .sent) == [], "\(place)")
            let errors = try #require(catalog.validate(extended, name: sample.name, type: sample.type, for: .sent))
            #expect(errors.map(\.keyword) == ["additionalProperties"], "\(place): \(errors)")
        }
    }

    @Test("sent by the CS, every message with an unknown key in data is refused")
    func sentStrict() throws {
        for sample in try CatalogueSamples.all() {
            let entry = try #require(MessageCatalog.entry(name: sample.name, type: sample.type))
            guard entry.direction.isSentByCS, sample.message["data"]?.objectValue != nil else { continue }
            let extended = Mutation(sample: sample.label, change: .set(["data", "newer_josev_key"], 1), valid: false, why: "").apply(to: sample.message)
            let errors = try #require(catalog.validate(extended, name: sample.name, type: sample.type, for: .sent))
            #expect(!errors.isEmpty, "\(sample.label): an unknown key in data went out")
        }
    }

    @Test("the marker is an annotation: the file as written is the received schema, the closed variant has no marker left")
    func closedVariant() throws {
        for entry in MessageCatalog.entries {
            let schema = try SchemaCatalog.load(path: Paths.schemas + "/" + entry.schemaFile)
            let closed = SchemaCatalog.closedVariant(of: schema)
            #expect(!closed.serialized().contains(SchemaCatalog.closedWhenSentKeyword), "\(entry.key)")
            if entry.direction == .csToJosev {
                #expect(closed == schema, "\(entry.key): only the CS sends it, its file is already closed")
            }
        }
    }
}
