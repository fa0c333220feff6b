// cs-companion: the technician's command-line tool for cs-companiond.
import ArgumentParser
import Basics
import Daemon
import JSONSchema
import JosevContract

#if canImport(Glibc)
    import Glibc
#endif

struct CompanionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cs-companion",
        abstract: "Tools for the cs-companiond charging-station daemon.",
        version: companionVersion,
        subcommands: [
            Validate.self, Sessions.self, Status.self, Plug.self, Unplug.self, RFID.self, Fault.self, ClearFault.self, EV.self,
            Config.self, Hardware.self,
        ]
    )
}

/// `cs-companion validate FILE...`: checks captured messages against the bundled schemas.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate captured Josev messages against the bundled JSON Schemas.",
        discussion: """
            Each FILE holds one JSON message, or one message per line (as `mosquitto_sub -t 'cs/josev' -t 'josev/cs'` \
            prints them); `-` reads standard input. The schema is picked from each envelope's `name` and `type` \
            (schemas/<name>.<type>.json) unless --schema is given. Every error is printed with its JSON pointer. \
            Exit status 0 only when every message is valid.
            """
    )

    @Argument(help: "Files with captured messages ('-' for standard input).")
    var files: [String]

    @Option(name: .long, help: "Validate every message against this schema file instead.")
    var schema: String?

    @Option(name: .long, help: "Directory of the bundled schemas.")
    var schemaDir: String?

    @Flag(name: .long, help: "Print only problems.")
    var quiet = false

    func run() throws {
        guard let directory = schemaDir ?? SchemaCatalog.findDefaultDirectory() else {
            throw ValidationError("no schema directory found; use --schema-dir")
        }
        var cache: [String: JSONSchemaValidator] = [:]
        func validator(path: String) throws -> JSONSchemaValidator {
            if let cached = cache[path] { return cached }
            let compiled = try SchemaCatalog.compile(path: path)
            cache[path] = compiled
            return compiled
        }
        let envelope = try validator(path: directory + "/" + MessageCatalog.envelopeSchemaFile)
        var invalid = 0
        var total = 0
        for file in files {
            let messages: [(place: String, json: JSONValue?, error: String?)]
            do {
                messages = try Self.read(file)
            } catch {
                print("\(file): \(error)")
                invalid += 1
                continue
            }
            for message in messages {
                total += 1
                guard let json = message.json else {
                    print("\(message.place): not JSON: \(message.error ?? "?")")
                    invalid += 1
                    continue
                }
                let schemaPath: String
                var label = ""
                if let schema {
                    schemaPath = schema
                } else {
                    let envelopeErrors = envelope.validate(json)
                    guard envelopeErrors.isEmpty, let name = json["name"]?.stringValue, let type = json["type"]?.stringValue else {
                        report(envelopeErrors, at: message.place, fallback: "not a Josev envelope")
                        invalid += 1
                        continue
                    }
                    schemaPath = directory + "/\(name).\(type).json"
                    label = " (\(name) \(type))"
                    guard SystemFile.exists(schemaPath) else {
                        print("\(message.place): no schema for \(name) \(type) (\(schemaPath))")
                        invalid += 1
                        continue
                    }
                }
                let errors = try validator(path: schemaPath).validate(json)
                if errors.isEmpty {
                    if !quiet { print("\(message.place): valid\(label)") }
                } else {
                    report(errors, at: message.place, fallback: "invalid")
                    invalid += 1
                }
            }
        }
        if !quiet || invalid > 0 { print("\(total - invalid) valid, \(invalid) invalid") }
        if invalid > 0 { throw ExitCode(1) }
    }

    func report(_ errors: [JSONSchema.ValidationError], at place: String, fallback: String) {
        if errors.isEmpty { print("\(place): \(fallback)") }
        for error in errors {
            print("\(place): \(error.instancePointer.isEmpty ? "/" : error.instancePointer): \(error.message) [\(error.keyword)]")
        }
    }

    /// One message per file, or one per line when the file is JSON Lines.
    static func read(_ file: String) throws -> [(place: String, json: JSONValue?, error: String?)] {
        let bytes: [UInt8]
        if file == "-" {
            var input: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(STDIN_FILENO, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                input.append(contentsOf: buffer[0..<count])
            }
            bytes = input
        } else {
            bytes = try SystemFile.read(file, maxBytes: 64 << 20)
        }
        let name = file == "-" ? "<stdin>" : file
        do {
            return [(name, try JSONValue.parse(bytes, maxDepth: 128), nil)]
        } catch let wholeError {
            let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            let nonEmpty = lines.enumerated().filter { !$0.element.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 } }
            guard nonEmpty.count > 1 else { return [(name, nil, wholeError.description)] }
            return nonEmpty.map { index, line in
                // `mosquitto_sub -v` prints "topic payload": the message starts at the first '{'.
                var message = line
                if message.first != UInt8(ascii: "{"), let brace = message.firstIndex(of: UInt8(ascii: "{")),
                    message[..<brace].last == UInt8(ascii: " ")
                {
                    message = message[brace...]
                }
                do {
                    return ("\(name):\(index + 1)", try JSONValue.parse(bytes: message, maxDepth: 128), nil)
                } catch {
                    return ("\(name):\(index + 1)", nil, "\(error)")
                }
            }
        }
    }
}

// MARK: - Local control interface

/// Where the daemon's control socket is, and which EVSE a command is for.
struct ControlOptions: ParsableArguments {
    @Option(name: .long, help: "The daemon's control socket.")
    var socket = ControlSocketPath.default

    @Option(name: .long, help: "EVSE id (default: the station's first EVSE).")
    var evse: String?

    @Flag(name: .long, help: "Print the daemon's answer as JSON.")
    var json = false

    /// Sends one command; prints the answer; exit 1 when the daemon refused it.
    func send(_ command: String, _ fields: JSONObject = [:]) throws {
        var request = fields
        request["command"] = .string(command)
        if let evse { request["evse_id"] = .string(evse) }
        let answer: JSONObject
        do {
            answer = try ControlClient.request(request, path: socket)
        } catch {
            print("cs-companion: \(error)")
            throw ExitCode(1)
        }
        if json {
            print(JSONValue.object(answer).serialized(pretty: true))
        } else if answer["ok"] == true {
            print(answer["summary"]?.stringValue ?? answer["message"]?.stringValue ?? "ok")
        }
        if answer["ok"] != true {
            print("cs-companion: \(answer["error"]?.stringValue ?? "refused")")
            throw ExitCode(1)
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the station: EVSEs, CP states, limits, contactor, session.")

    @OptionGroup var control: ControlOptions

    func run() throws {
        var request: JSONObject = ["command": "status"]
        if let evse = control.evse { request["evse_id"] = .string(evse) }
        let answer: JSONObject
        do {
            answer = try ControlClient.request(request, path: control.socket)
        } catch {
            print("cs-companion: \(error)")
            throw ExitCode(1)
        }
        if control.json || answer["ok"] != true {
            print(JSONValue.object(answer).serialized(pretty: true))
            if answer["ok"] != true { throw ExitCode(1) }
            return
        }
        print(answer["summary"]?.stringValue ?? JSONValue.object(answer).serialized(pretty: true))
    }
}

struct Plug: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Simulated hardware: plug an EV into a connector.")
    @OptionGroup var control: ControlOptions
    @Option(name: .long, help: "Connector id.") var connector = 1
    func run() throws { try control.send("plug", ["connector_id": .int(Int64(connector))]) }
}

struct Unplug: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Simulated hardware: unplug the EV.")
    @OptionGroup var control: ControlOptions
    func run() throws { try control.send("unplug") }
}

struct RFID: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rfid", abstract: "Present an RFID card (local token) to the station.")
    @OptionGroup var control: ControlOptions
    @Argument(help: "Card UID, hex.") var uid: String
    func run() throws { try control.send("rfid", ["uid": .string(uid)]) }
}

struct Fault: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Simulated hardware: raise a fault (rcd, isolation, overtemperature, cp_short, contactor_welded).")
    @OptionGroup var control: ControlOptions
    @Argument(help: "Fault kind.") var kind: String
    func run() throws { try control.send("fault", ["kind": .string(kind)]) }
}

struct ClearFault: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clear-fault", abstract: "Simulated hardware: clear the faults.")
    @OptionGroup var control: ControlOptions
    func run() throws { try control.send("clear-fault") }
}

struct EV: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ev", abstract: "Simulated EV: ask for power with a maximum current per phase (0 or --stop: stop charging).")
    @OptionGroup var control: ControlOptions
    @Argument(help: "The EV's maximum current per phase, A.") var maxCurrent: Double = 32
    @Flag(name: .long, help: "The EV stops charging (C → B).") var stop = false
    func run() throws {
        try control.send("ev", stop || maxCurrent <= 0 ? ["stop": true] : ["max_current": .double(maxCurrent)])
    }
}

CompanionCommand.main()
