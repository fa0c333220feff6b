import ArgumentParser
import Basics
import FlyingFox
import FlyingSocks
import Foundation
import LoadManagement
import Logging

@main
struct GridboxSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gridbox-sim",
        abstract: "A gridBox-style energy manager: shares a site current limit among Alfen-compatible Modbus TCP stations.",
        discussion: """
            Every interval it reads each station (unit 200: serial @157, number of sockets @1105; per \
            socket unit: currents 320…325, power 344, energy 374, 1200…1215), shares the site limit by \
            priority (higher first, equal split within a priority, at least 6 A or 0 A, 0.1 A steps) \
            and writes each socket's setpoint 1210 (FC16) when it changes, every --rewrite-every \
            seconds, or when 1208 runs low.

            Priorities: PUT/GET/DELETE http://BIND:PORT/evcs-user-priorities (JSON), or \
            /systems/SYSTEM-ID/evcs-user-priorities; DELETE …/evcs-user-priorities/SERIAL/CONNECTOR (or a \
            DELETE body naming connectors) resets one. With --account every request needs \
            "Authorization: Bearer TOKEN" (401 without, 403 for a system of another account). A \
            connector's priority goes back to 0 when it is unplugged: mode-3 state back to A, or the \
            station's plug-in counter (vendor register 3000) moved between two polls.
            """)

    @Option(name: .customLong("station"), help: ArgumentHelp("A station to manage, HOST:PORT (repeatable; [v6]:PORT for IPv6).", valueName: "host:port"))
    var stations: [String] = []

    @Option(name: .customLong("site-limit"), help: ArgumentHelp("The site current limit per phase.", valueName: "amps"))
    var siteLimit: Double

    @Option(help: ArgumentHelp("Seconds between cycles.", valueName: "seconds"))
    var interval: Double = 1

    @Option(name: .customLong("rewrite-every"), help: ArgumentHelp("Rewrite an unchanged setpoint after this many seconds (the station's validity is 60 s by default).", valueName: "seconds"))
    var rewriteEvery: Double = 20

    @Option(name: .customLong("http-port"), help: ArgumentHelp("Port of the priority API (0: any free port).", valueName: "port"))
    var httpPort: UInt16 = 8080

    @Option(name: .customLong("http-bind"), help: ArgumentHelp("Address the priority API listens on.", valueName: "address"))
    var httpBind = "127.0.0.1"

    @Flag(name: .customLong("no-http"), help: "Do not serve the priority API.")
    var noHTTP = false

    @Option(help: ArgumentHelp("Stop after this many cycles.", valueName: "n"))
    var cycles: Int?

    @Flag(help: "Run one cycle and exit (same as --cycles 1).")
    var once = false

    @Flag(help: "Print one JSON object per cycle (JSON lines) instead of the table.")
    var json = false

    @Option(name: .customLong("max-current"), help: ArgumentHelp("Maximum current per phase of every connector (hardware or configured).", valueName: "amps"))
    var maxCurrent: Double = 32

    @Option(help: ArgumentHelp("Phases of a connector when its register 1215 does not say (1 or 3).", valueName: "n"))
    var phases: Int = 3

    @Option(name: .customLong("evse-id"), help: ArgumentHelp("Map an EVSE id to a connector for the priority API, SERIAL:CONNECTOR=EVSEID (repeatable; the Alfen map has no EVSE id).", valueName: "serial:connector=evse-id"))
    var evseIDs: [String] = []

    @Option(name: .customLong("account"), help: ArgumentHelp("An account of the priority API, NAME:TOKEN:SYSTEM-ID[,SYSTEM-ID…] (repeatable; with any, a bearer token is required).", valueName: "name:token:systems"))
    var accounts: [String] = []

    @Option(name: .customLong("system-id"), help: ArgumentHelp("This gridBox's system (UUID): /systems/{id}/… must name it.", valueName: "uuid"))
    var systemID: String?

    @Option(name: .customLong("state-file"), help: ArgumentHelp("Keep the priorities in this file (JSON) across restarts.", valueName: "path"))
    var stateFile: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (logs go to stderr).", valueName: "level"))
    var logLevel: String = "info"

    func validate() throws {
        guard !stations.isEmpty else { throw ValidationError("give at least one --station HOST:PORT") }
        for station in stations { _ = try Self.parseStation(station) }
        guard siteLimit.isFinite, siteLimit >= 0 else { throw ValidationError("--site-limit must be 0 or more") }
        guard interval.isFinite, interval >= 0.1 else { throw ValidationError("--interval must be at least 0.1 s") }
        guard rewriteEvery.isFinite, rewriteEvery >= 1 else { throw ValidationError("--rewrite-every must be at least 1 s") }
        guard maxCurrent.isFinite, maxCurrent > 0 else { throw ValidationError("--max-current must be above 0") }
        guard phases == 1 || phases == 3 else { throw ValidationError("--phases must be 1 or 3") }
        if let cycles, cycles < 1 { throw ValidationError("--cycles must be at least 1") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        _ = try Self.parseEVSEIDs(evseIDs)
        _ = try access()
    }

    func access() throws -> PriorityAccess {
        let parsed = try accounts.map { text in
            guard let account = PriorityAccess.account(text) else {
                throw ValidationError("--account \(text): expected NAME:TOKEN:SYSTEM-ID[,SYSTEM-ID…] (system ids are UUIDs)")
            }
            return account
        }
        if let systemID, !PriorityAccess.isUUID(systemID) { throw ValidationError("--system-id \(systemID): not a UUID") }
        return PriorityAccess(accounts: parsed, systemID: systemID)
    }

    static func parseStation(_ text: String) throws -> StationAddress {
        var host: Substring
        let portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw ValidationError("--station \(text): expected [ADDRESS]:PORT") }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw ValidationError("--station \(text): expected HOST:PORT") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        host = host.isEmpty ? "127.0.0.1" : host
        guard let port = UInt16(portText), port > 0 else { throw ValidationError("--station \(text): bad port") }
        return StationAddress(host: String(host), port: port)
    }

    static func parseEVSEIDs(_ list: [String]) throws -> [String: ConnectorID] {
        var map: [String: ConnectorID] = [:]
        for item in list {
            guard let equals = item.firstIndex(of: "=") else {
                throw ValidationError("--evse-id \(item): expected SERIAL:CONNECTOR=EVSEID")
            }
            let left = item[..<equals]
            let evse = String(item[item.index(after: equals)...])
            guard let colon = left.lastIndex(of: ":"), let connector = Int(left[left.index(after: colon)...]),
                PriorityAPI.connectorRange.contains(connector), colon != left.startIndex, !evse.isEmpty
            else { throw ValidationError("--evse-id \(item): expected SERIAL:CONNECTOR=EVSEID") }
            map[evse] = ConnectorID(serial: String(left[..<colon]), connector: connector)
        }
        return map
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "gridbox-sim")

        let addresses = try stations.map(Self.parseStation)
        let options = SimulatorOptions(
            siteLimit: siteLimit, interval: interval, rewriteEvery: rewriteEvery, maximumCurrent: maxCurrent,
            defaultPhases: phases, evseIDs: try Self.parseEVSEIDs(evseIDs), access: try access(), stateFile: stateFile)
        let simulator = Simulator(
            stations: addresses.map { ($0, ModbusClientLink(host: $0.host, port: Int($0.port)) as any RegisterLink) },
            options: options, logger: logger)

        var server: HTTPServer?
        var serverTask: Task<Void, any Error>?
        if !noHTTP {
            let http = try PriorityHTTP.makeServer(bind: httpBind, port: httpPort, simulator: simulator)
            let task = Task { try await http.run() }
            do {
                try await http.waitUntilListening(timeout: 5)
            } catch {
                task.cancel()
                logger.error("priority API cannot listen", metadata: ["address": "\(httpBind):\(httpPort)", "error": "\(error)"])
                throw ExitCode.failure
            }
            var shown = "\(httpBind):\(httpPort)"
            if case .ip4(let ip, let port)? = await http.listeningAddress { shown = "\(ip):\(port)" }
            if case .ip6(let ip, let port)? = await http.listeningAddress { shown = "[\(ip)]:\(port)" }
            logger.info("priority API listening", metadata: ["url": "http://\(shown)\(PriorityAPI.path)"])
            server = http
            serverTask = task
        }

        let limit = once ? 1 : cycles
        let tty = isatty(STDOUT_FILENO) == 1 && !json
        let clock = ContinuousClock()
        let start = clock.now
        var next = start
        var done = 0
        while limit.map({ done < $0 }) ?? true {
            if Task.isCancelled { break }
            await simulator.runCycle()
            done += 1
            let snapshot = await simulator.snapshot()
            let elapsed = (clock.now - start).inSeconds
            var text = json ? Output.json(snapshot, elapsed: elapsed) : Output.table(snapshot, elapsed: elapsed)
            if tty {
                text = "\u{1B}[H\u{1B}[J" + text
            } else if !json {
                text += "\n"
            }
            FileHandle.standardOutput.write(Data(text.utf8))
            if let limit, done >= limit { break }
            next = next + .milliseconds(Int(interval * 1000))
            if next < clock.now { next = clock.now }
            try? await Task.sleep(until: next, clock: clock)
        }

        await server?.stop(timeout: 1)
        serverTask?.cancel()
        await simulator.closeAll()
    }
}

/// The priority API on FlyingFox: every request goes to `PriorityAPI` through the simulator.
enum PriorityHTTP {
    static func makeServer(bind: String, port: UInt16, simulator: Simulator) throws -> HTTPServer {
        let handler = Handler(simulator: simulator)
        if bind.contains(":") {
            return HTTPServer(address: try sockaddr_in6.inet6(ip6: bind, port: port), logger: .disabled, handler: handler)
        }
        return HTTPServer(address: try sockaddr_in.inet(ip4: bind, port: port), logger: .disabled, handler: handler)
    }

    struct Handler: HTTPHandler {
        let simulator: Simulator

        func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
            let body = [UInt8](try await request.bodyData)
            let response = await simulator.handleAPI(
                method: request.method.rawValue, path: request.path, body: body, authorization: request.headers[.authorization])
            return Self.httpResponse(response)
        }

        static func httpResponse(_ response: APIResponse) -> HTTPResponse {
            var headers: HTTPHeaders = [:]
            if !response.body.isEmpty { headers[.contentType] = "application/json" }
            if let allow = response.allow { headers[HTTPHeader("Allow")] = allow }
            if let challenge = response.challenge { headers[HTTPHeader("WWW-Authenticate")] = challenge }
            let phrases = [
                200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                405: "Method Not Allowed",
            ]
            return HTTPResponse(
                statusCode: HTTPStatusCode(response.status, phrase: phrases[response.status] ?? "Status"),
                headers: headers, body: Data(response.body.utf8))
        }
    }
}
