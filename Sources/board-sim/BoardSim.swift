import ArgumentParser
import Foundation
import PhyVerso
import SerialLine

@main
struct BoardSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "board-sim",
        abstract: "Plays a phyVERSO safety MCU on a serial line or pty (EVerest's phyverso.proto, COBS + CRC-32 framing).",
        discussion: """
            It sends its reset reason and a BootConfigRequest (every second until the host answers \
            with a BootConfigResponse), its KeepAlive every second, the CP and PP states of a scripted \
            EV, and confirms contactor (coil) and lock commands after --actuation-delay. It goes to CP \
            state F and opens its contactors by itself when the host's keep-alives stop for \
            --host-timeout seconds.

            EV and fault commands, from --script (SECONDS:COMMAND, comma separated) or one per line on \
            stdin: plug [13|20|32|70] [CONNECTOR], ev-ready, ev-pause, unplug, rcd-trip, diode-fault, \
            fault NAME on|off. Faults: \(Fault.allCases.map(\.rawValue).joined(separator: ", ")).

            Example: socat -d -d pty,raw,echo=0,link=/tmp/mcu pty,raw,echo=0,link=/tmp/host & \
            board-sim --port /tmp/mcu --script '1:plug 32,3:ev-ready'
            """)

    @Option(help: ArgumentHelp("The serial device or pty to play the MCU on.", valueName: "path"))
    var port: String

    @Option(help: "Baud rate (ignored by a pty).")
    var baud = 115_200

    @Option(help: "Number of charge ports (1 or 2).")
    var connectors = 1

    @Option(name: .customLong("actuation-delay"), help: ArgumentHelp("Time the contactor and the lock take to follow a command.", valueName: "ms"))
    var actuationDelay = 100

    @Option(name: .customLong("keepalive-interval"), help: ArgumentHelp("Seconds between the MCU's keep-alives.", valueName: "seconds"))
    var keepAliveInterval = 1.0

    @Option(name: .customLong("host-timeout"), help: ArgumentHelp("Seconds without a host keep-alive before state F and contactors open.", valueName: "seconds"))
    var hostTimeout = 5.0

    @Option(name: .customLong("fault"), help: ArgumentHelp("A fault active from the start (repeatable).", valueName: "name"))
    var faults: [String] = []

    @Option(help: ArgumentHelp("Timed EV and fault commands, e.g. '1:plug 32,3:ev-ready,60:unplug'.", valueName: "script"))
    var script: String?

    func validate() throws {
        guard port != "/dev/ttyS0" else { throw ValidationError("/dev/ttyS0 is the machine's console; use a pty") }
        guard SerialLine.supports(baud: baud) else { throw ValidationError("unsupported --baud \(baud)") }
        guard (1...2).contains(connectors) else { throw ValidationError("--connectors must be 1 or 2") }
        guard actuationDelay >= 0 else { throw ValidationError("--actuation-delay must be 0 or more") }
        guard keepAliveInterval >= 0.05, hostTimeout >= 0.1 else { throw ValidationError("intervals too short") }
        for fault in faults where Fault(rawValue: fault) == nil {
            throw ValidationError("unknown fault \(fault) (\(Fault.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if let script { _ = try ScriptStep.parse(script) }
    }

    func run() async throws {
        var options = SafetyMCU.Options()
        options.connectors = connectors
        options.actuationDelay = .milliseconds(actuationDelay)
        options.keepAliveInterval = .milliseconds(Int64(keepAliveInterval * 1000))
        options.hostTimeout = .milliseconds(Int64(hostTimeout * 1000))
        options.faults = FaultSet(faults.compactMap(Fault.init(rawValue:)))
        var pending = try script.map(ScriptStep.parse) ?? []

        let (inputs, continuation) = AsyncStream<Input>.makeStream()
        let line: SerialLine
        do {
            line = try SerialLine(
                path: port, settings: SerialLine.Settings(baud: baud),
                onBytes: { continuation.yield(.bytes($0)) },
                onEnd: { continuation.yield(.lineEnded($0)) })
        } catch {
            Log.line("cannot open \(port): \(error)")
            throw ExitCode(74)  // EX_IOERR
        }
        defer { line.close() }
        let stdinReader = Thread {
            while let text = readLine() { continuation.yield(.command(text)) }
        }
        stdinReader.start()
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(20))
                continuation.yield(.tick)
            }
        }
        defer { ticker.cancel() }

        let clock = ContinuousClock()
        let started = Log.started
        var mcu = SafetyMCU(options: options)
        var receiver = MessageReceiver<EverestToMcu>()
        let transmitter = Transmitter()
        Log.line("playing the MCU on \(port), \(connectors) connector(s), faults: \(faults.isEmpty ? "none" : faults.joined(separator: ", "))")

        func perform(_ effects: SafetyMCU.Effects) {
            for entry in effects.log { Log.line(entry) }
            let bytes = transmitter.bytes(for: effects.messages, faults: mcu.faults)
            guard !bytes.isEmpty else { return }
            do {
                try line.write(bytes)
            } catch {
                Log.line("link: write failed: \(error)")
            }
        }

        perform(mcu.start(now: clock.now - started))
        for await input in inputs {
            let now = clock.now - started
            switch input {
            case .bytes(let chunk):
                let before = receiver.statistics
                let received = receiver.feed(chunk)
                Log.drops(from: before, to: receiver.statistics)
                for item in received {
                    if !item.unknownFields.isEmpty { Log.line("host: fields unknown to this protocol revision: \(item.unknownFields)") }
                    perform(mcu.receive(item.message, now: now))
                }
            case .command(let text):
                guard !text.allSatisfy(\.isWhitespace) else { continue }
                do {
                    perform(mcu.apply(try SimCommand.parse(text), now: now))
                } catch {
                    Log.line("sim: \(error)")
                }
            case .tick:
                while let step = pending.first, step.at <= now {
                    pending.removeFirst()
                    perform(mcu.apply(step.command, now: now))
                }
                perform(mcu.tick(now: now))
            case .lineEnded(let error):
                Log.line("link: \(port) closed\(error.map { ": \($0)" } ?? "")")
                throw ExitCode(error == nil ? 0 : 74)
            }
        }
    }
}

/// What the simulator's loop reacts to.
enum Input: Sendable {
    case bytes([UInt8])
    case command(String)
    case tick
    case lineEnded(SerialLineError?)
}

/// One line per event on stderr, with the time since start.
enum Log {
    static let started = ContinuousClock().now

    static func line(_ text: String) {
        let elapsed = ContinuousClock().now - started
        let seconds = max(0, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        FileHandle.standardError.write(Data("board-sim: [\(String(format: "%8.3f", seconds))] \(text)\n".utf8))
    }

    /// A line for each kind of drop that the last chunk added.
    static func drops(from before: LinkStatistics, to after: LinkStatistics) {
        let kinds: [(String, KeyPath<LinkStatistics, Int>)] = [
            ("bad CRC", \.crcErrors), ("COBS error", \.cobsErrors), ("truncated", \.truncated),
            ("oversized", \.oversized), ("undecodable message", \.decodeErrors),
        ]
        for (name, path) in kinds where after[keyPath: path] > before[keyPath: path] {
            line("link: dropped \(after[keyPath: path] - before[keyPath: path]) frame(s) from the host: \(name) (total dropped \(after.dropped))")
        }
    }
}
