import PhyVerso

/// Faults board-sim can inject, from `--fault` or a `fault NAME on|off` command.
enum Fault: String, CaseIterable {
    /// Sends nothing at all (still listens and still applies its own safety rule).
    case silence
    /// Every frame sent with a wrong CRC: the host sees only bad frames.
    case corruptAll = "corrupt-all"
    /// A copy with a wrong CRC before every good frame.
    case badCRC = "bad-crc"
    /// The first half of a frame, then the delimiter, before every good frame.
    case truncated
    /// A frame over 2 KiB before every good frame.
    case oversized
    /// The contactor's feedback stays closed after it is commanded open.
    case welded
    /// The contactor's feedback stays open after it is commanded closed (a coil or supply failure).
    case stuckOpen = "stuck-open"
    /// The lock motor never reports locked.
    case lockFailure = "lock-failure"
    /// An RCD self-test in which the RCD does not trip.
    case rcdSelftestFail = "rcd-selftest-fail"
    /// Keep-alives with an unknown hardware revision and software version, and a boot
    /// configuration request carrying a field the published proto does not have.
    case unknownVersion = "unknown-version"
}

struct FaultSet {
    private var active: Set<Fault> = []

    init(_ faults: [Fault] = []) { active = Set(faults) }

    func contains(_ fault: Fault) -> Bool { active.contains(fault) }

    mutating func set(_ fault: Fault, _ on: Bool) {
        if on { active.insert(fault) } else { active.remove(fault) }
    }
}

/// What the scripted EV (or the RCD, or a cable) does on a connector.
enum EVAction: Equatable {
    case plug(PpState)
    case ready
    case pause
    case unplug
    case rcdTrip
    case diodeFault
}

/// One command of the script or of stdin.
enum SimCommand: Equatable {
    case ev(EVAction, connector: Int)
    case fault(Fault, on: Bool)

    /// Parses `plug [13|20|32|70] [connector]`, `ev-ready [connector]`, `ev-pause [connector]`,
    /// `unplug [connector]`, `rcd-trip [connector]`, `diode-fault [connector]`,
    /// `fault NAME on|off`.
    static func parse(_ text: String) throws(CommandError) -> SimCommand {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let verb = words.first else { throw CommandError("empty command") }
        let arguments = Array(words.dropFirst())
        func connector(at index: Int) throws(CommandError) -> Int {
            guard arguments.count > index else { return 1 }
            guard let number = Int(arguments[index]), number >= 1 else { throw CommandError("\(text): bad connector \(arguments[index])") }
            return number
        }
        switch verb {
        case "plug":
            let ratings: [String: PpState] = ["13": .amps13, "20": .amps20, "32": .amps32, "70": .amps70]
            guard let amps = arguments.first else { return .ev(.plug(.amps32), connector: 1) }
            guard let rating = ratings[amps] else { throw CommandError("\(text): cable rating must be 13, 20, 32 or 70") }
            return .ev(.plug(rating), connector: try connector(at: 1))
        case "ev-ready": return .ev(.ready, connector: try connector(at: 0))
        case "ev-pause": return .ev(.pause, connector: try connector(at: 0))
        case "unplug": return .ev(.unplug, connector: try connector(at: 0))
        case "rcd-trip": return .ev(.rcdTrip, connector: try connector(at: 0))
        case "diode-fault": return .ev(.diodeFault, connector: try connector(at: 0))
        case "fault":
            guard arguments.count == 2, let fault = Fault(rawValue: arguments[0]), ["on", "off"].contains(arguments[1]) else {
                throw CommandError("\(text): expected fault NAME on|off (\(Fault.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return .fault(fault, on: arguments[1] == "on")
        default:
            throw CommandError("unknown command \(verb)")
        }
    }
}

/// A step of `--script`: a command at a time after start.
struct ScriptStep: Equatable {
    var at: Duration
    var command: SimCommand

    /// `SECONDS:COMMAND`, several separated by `,` or `;`.
    static func parse(_ script: String) throws(CommandError) -> [ScriptStep] {
        var steps: [ScriptStep] = []
        for item in script.split(whereSeparator: { $0 == "," || $0 == ";" }) {
            let text = item.trimmingSpaces
            guard !text.isEmpty else { continue }
            guard let colon = text.firstIndex(of: ":"), let seconds = Double(text[..<colon]), seconds >= 0, seconds.isFinite else {
                throw CommandError("script step \(text): expected SECONDS:COMMAND")
            }
            steps.append(ScriptStep(at: .milliseconds(Int64(seconds * 1000)), command: try SimCommand.parse(String(text[text.index(after: colon)...]))))
        }
        return steps.sorted { $0.at < $1.at }
    }
}

struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
