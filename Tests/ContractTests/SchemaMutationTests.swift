import JSONSchema
import JosevContract
import Testing

/// A change to a valid sample and whether Josev would still accept the result.
struct Mutation: Sendable, CustomStringConvertible {
    enum Change: Sendable {
        case remove(JSONPointer)
        case set(JSONPointer, JSONValue)
    }

    let sample: String
    let change: Change
    let valid: Bool
    let why: String
    /// The direction it is checked for; nil: the one the CS meets it in (received for `.both`).
    var traffic: Traffic? = nil

    var description: String { "\(sample): \(why)" + (traffic.map { " (\($0.rawValue))" } ?? "") }

    /// `traffic`, else the direction the CS meets (name, type) in: received for what it consumes
    /// (`.both` included), sent for what it only publishes.
    func checkedTraffic(name: String, type: MessageType) -> Traffic {
        traffic ?? (MessageCatalog.entry(name: name, type: type)?.direction.isReceivedByCS == false ? .sent : .received)
    }

    func apply(to value: JSONValue) -> JSONValue {
        switch change {
        case .remove(let pointer): return Self.edit(value, Array(pointer.tokens[...]), nil)
        case .set(let pointer, let newValue): return Self.edit(value, Array(pointer.tokens[...]), newValue)
        }
    }

    static func edit(_ value: JSONValue, _ tokens: [String], _ newValue: JSONValue?) -> JSONValue {
        guard let first = tokens.first else { return newValue ?? value }
        let rest = Array(tokens.dropFirst())
        switch value {
        case .object(var object):
            if rest.isEmpty {
                object[first] = newValue
            } else if let child = object[first] {
                object[first] = edit(child, rest, newValue)
            }
            return .object(object)
        case .array(var array):
            guard let index = Int(first), array.indices.contains(index) else { return value }
            if rest.isEmpty {
                if let newValue { array[index] = newValue } else { array.remove(at: index) }
            } else {
                array[index] = edit(array[index], rest, newValue)
            }
            return .array(array)
        default:
            return value
        }
    }
}

private func p(_ text: String) -> JSONPointer {
    JSONPointer(tokens: text.split(separator: "/", omittingEmptySubsequences: true).map(String.init))
}

/// Table-driven: each row names a sample, a change and whether the result must pass. The rows
/// follow the contract's tables (§1.1, §2.1) and its notes on what Josev's schemas and dataclasses accept.
let mutations: [Mutation] = [
    // Envelope (§1.1)
    Mutation(sample: "cs_parameters.res.ac", change: .remove(p("/id")), valid: false, why: "id is required"),
    Mutation(sample: "cs_parameters.res.ac", change: .set(p("/id"), 42), valid: false, why: "a numeric id fails"),
    Mutation(sample: "cs_parameters.res.ac", change: .set(p("/name"), "cs_parameter"), valid: false, why: "name is the schema const"),
    Mutation(sample: "cs_parameters.res.ac", change: .set(p("/type"), "update"), valid: false, why: "type is the schema const"),
    Mutation(sample: "cs_parameters.res.ac", change: .remove(p("/data")), valid: false, why: "data is always present"),
    Mutation(sample: "cs_parameters.res.ac", change: .set(p("/timestamp"), "x"), valid: true, why: "cs_parameters tolerates extra envelope keys"),
    Mutation(sample: "cs_status_and_limits.res.ac", change: .set(p("/timestamp"), "x"), valid: false, why: "no extra envelope keys on the response"),
    Mutation(sample: "cs_status_and_limits.upd", change: .set(p("/timestamp"), "x"), valid: true, why: "the update schema tolerates extra envelope keys"),
    Mutation(sample: "cs_status_and_limits.req", change: .set(p("/timestamp"), "x"), valid: true, why: "the request schema tolerates extra envelope keys"),
    // cs_parameters response (§2.1)
    Mutation(sample: "cs_parameters.res.ac", change: .remove(p("/data/sw_version")), valid: false, why: "sw_version required"),
    Mutation(sample: "cs_parameters.res.ac", change: .remove(p("/data/number_of_evses")), valid: false, why: "number_of_evses required"),
    Mutation(sample: "cs_parameters.res.ac", change: .set(p("/data/number_of_evses"), 1.5), valid: false, why: "number_of_evses is an integer"),
    Mutation(sample: "cs_parameters.res.ac", change: .set(p("/data/number_of_evses"), "1"), valid: false, why: "number_of_evses is not a string"),
    Mutation(sample: "cs_parameters.res.ac", change: .remove(p("/data/parameters/0/network_interface")), valid: false, why: "network_interface required"),
    Mutation(sample: "cs_parameters.res.ac", change: .set(p("/data/parameters/0/supports_eim"), "yes"), valid: false, why: "supports_eim is boolean"),
    Mutation(sample: "cs_parameters.res.ac", change: .set(p("/data/parameters/0/extra"), 1), valid: false, why: "dataclasses reject unknown keys"),
    Mutation(sample: "cs_parameters.res.ac", change: .set(p("/data/parameters/0/connectors/0/services/ac/connector_type"), "AC_three_phase"), valid: false, why: "misspelt connector_type"),
    Mutation(sample: "cs_parameters.res.ac", change: .set(p("/data/parameters/0/connectors/0/services/ac/nominal_voltage"), 230.5), valid: false, why: "nominal_voltage is an integer"),
    Mutation(sample: "cs_parameters.res.ac", change: .set(p("/data/parameters/0/connectors/0/services/ac/control_mode"), "smart"), valid: false, why: "control_mode enum"),
    Mutation(sample: "cs_parameters.res.ac", change: .remove(p("/data/parameters/0/connectors/0/services/ac/control_mode")), valid: true, why: "control_mode is optional"),
    Mutation(sample: "cs_parameters.res.ac", change: .set(p("/data/parameters/0/connectors/0/services/ac/free_service"), true), valid: false, why: "2022 keys break the 3.10 dataclasses"),
    Mutation(sample: "cs_parameters.res.ac", change: .remove(p("/data/parameters/0/connectors/0/services/ac")), valid: false, why: "services must contain ac or dc"),
    Mutation(sample: "cs_parameters.res.ac", change: .set(p("/data/parameters/0/connectors/0/services/ac/nominal_voltage"), .null), valid: false, why: "null is not a value"),
    Mutation(sample: "cs_parameters.res.dc", change: .remove(p("/data/parameters/0/connectors/0/services/dc")), valid: false, why: "dc_bpt only in addition to dc"),
    Mutation(sample: "cs_parameters.res.dc", change: .set(p("/data/parameters/0/connectors/0/services/dc_bpt/nominal_voltage"), 400), valid: false, why: "dc_bpt has no nominal_voltage"),
    Mutation(sample: "cs_parameters.res.dc", change: .set(p("/data/parameters/0/connectors/0/services/dc_bpt/bpt_channel"), "shared"), valid: false, why: "bpt_channel enum"),
    // cs_status_and_limits (§2.1)
    Mutation(sample: "cs_status_and_limits.res.ac", change: .remove(p("/data/evses")), valid: false, why: "evses is required"),
    Mutation(sample: "cs_status_and_limits.res.ac", change: .remove(p("/data/evses/0/status_code")), valid: false, why: "status_code required at EVSE level"),
    Mutation(sample: "cs_status_and_limits.res.ac", change: .set(p("/data/evses/0/status_code"), "ready"), valid: false, why: "status_code enum"),
    Mutation(sample: "cs_status_and_limits.res.ac", change: .set(p("/data/evses/0/ac/status_code"), "evse_ready"), valid: false, why: "2022 placement inside ac/dc fails"),
    Mutation(sample: "cs_status_and_limits.res.ac", change: .remove(p("/data/evses/0/ac/rcd_error")), valid: false, why: "rcd_error required"),
    Mutation(sample: "cs_status_and_limits.res.ac", change: .set(p("/data/evses/0/ac/max_current/l1"), "32"), valid: false, why: "currents are numbers"),
    Mutation(sample: "cs_status_and_limits.res.ac", change: .set(p("/data/evses/0/ac/max_current/l1"), 31), valid: true, why: "an integer is a number"),
    Mutation(sample: "cs_status_and_limits.res.ac", change: .remove(p("/data/evses/0/ac")), valid: false, why: "one of ac/ac_bpt/dc/dc_bpt required"),
    Mutation(sample: "cs_status_and_limits.res.dc", change: .set(p("/data/evses/0/dc/isolation_status"), "ok"), valid: false, why: "isolation_status enum"),
    Mutation(sample: "cs_status_and_limits.res.dc", change: .remove(p("/data/evses/0/dc/energy_to_be_delivered")), valid: true, why: "energy_to_be_delivered optional"),
    Mutation(sample: "cs_status_and_limits.res.dc", change: .remove(p("/data/evses/0/dc/peak_current_ripple")), valid: false, why: "peak_current_ripple required"),
    Mutation(sample: "cs_status_and_limits.res.dc", change: .set(p("/data/evses/0/dc/extra"), 1), valid: false, why: "dc has additionalProperties false"),
    Mutation(sample: "cs_status_and_limits.upd", change: .set(p("/data/evses/0/ac_bpt"), ["evse_max_discharge_power": ["l1": 1, "l2": 1, "l3": 1], "evse_min_discharge_power": ["l1": 0, "l2": 0, "l3": 0]]), valid: true, why: "update in the response shape with ac_bpt beside ac"),
    Mutation(sample: "cs_status_and_limits.upd", change: .remove(p("/data/evses/0/ac")), valid: false, why: "the update needs ac or dc"),
    Mutation(sample: "cs_status_and_limits.req", change: .set(p("/data/unused"), 1), valid: true, why: "request data is an object with no fields defined"),
]

@Suite("schema mutations (table-driven)")
struct SchemaMutationTests {
    @Test("each mutation of a valid sample passes or fails as Josev would", arguments: mutations)
    func mutation(_ mutation: Mutation) throws {
        let sample = try #require(try ContractSample.inCatalogue().first { $0.label == mutation.sample }, "no sample \(mutation.sample)")
        let mutated = mutation.apply(to: sample.message)
        #expect(mutated != sample.message, "the mutation changed nothing")
        let errors = try #require(catalog.validate(mutated, name: sample.name, type: sample.type, for: mutation.checkedTraffic(name: sample.name, type: sample.type)))
        if mutation.valid {
            #expect(errors.isEmpty, "\(mutation): \(errors)")
        } else {
            #expect(!errors.isEmpty, "\(mutation): accepted")
        }
    }
}
