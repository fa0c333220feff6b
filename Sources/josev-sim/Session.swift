// `josev-sim session`: a whole charging session, Josev's side over MQTT, the EV's side over the
// station's control socket.
import ArgumentParser
import Foundation
import JSONSchema

extension Scenario: ExpressibleByArgument {}

struct Session: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Play a whole charging session (contract §4) against the CS and check every answer.",
        discussion: """
            Scenarios: ac-eim (AC ISO 15118-2 with an RFID card), ac-basic (SLAC gives up, IEC 61851 \
            basic charging, remote stop), dc (DC ISO 15118-2: cable check, pre-charge, current demand), \
            reservation (a connector reserved by the back office: the plug-in waits for Josev's authorization \
            even with free vend or a local card; then occupied, and a cancelled reservation), \
            back-office (what OCPP's back office makes Josev ask: a configuration change with its \
            device_model_update both ways and two refused ones, a reservation another driver's plug-in waits \
            on before it is cancelled, a firmware update from --firmware-url through firmware_status \
            downloading → downloaded → signature_verified → installing → installed, and a log upload to \
            --log-upload-url through logs_status uploading → uploaded).
            With --control-socket the EV and the driver (plug, card, power request, unplug) are driven \
            through the station's local control socket; without it those steps are skipped.
            Exit status 1 when the CS misbehaves: a missing, late (>3 s where §2.8 says so) or invalid \
            answer, a wrong id or name, a missing update, or a contactor closed when it may not be.
            """
    )

    @OptionGroup var connection: Connection

    @Option(name: .long, help: "ac-eim, ac-basic, dc, reservation or back-office.")
    var scenario: Scenario

    @Option(name: .long, help: "EVSE to charge on (default: the first one cs_parameters lists).")
    var evseId: String?

    @Option(name: .long, help: "Connector of the EVSE.")
    var connectorId = 1

    @Option(name: .long, help: "The station's local control socket (Unix socket, line-delimited JSON).")
    var controlSocket: String?

    @Option(name: .long, help: "RFID card UID the driver presents.")
    var uid = "04A1B2C3"

    @Option(name: .long, help: "Current per phase the EV asks for (A); also the basic-charging PWM current.")
    var evCurrent = 16.0

    @Option(name: .long, help: "Josev's answer to the CS's authorization requests: accepted or rejected.")
    var authorization = "accepted"

    @Option(name: .long, help: "back-office: where the station downloads the firmware image (http, https, ftp, ftps, sftp).")
    var firmwareUrl: String?

    @Option(name: .long, help: "back-office: the image's SHA-256 signature, raw (openssl dgst -sign) or Base64.")
    var firmwareSignatureFile: String?

    @Option(name: .long, help: "back-office: PEM certificate of the signing key (sent with the signature).")
    var signingCertificateFile: String?

    @Option(name: .long, help: "back-office: where the station uploads its log (a URL ending in / gets the file name).")
    var logUploadUrl: String?

    @Option(name: .long, help: "back-office: diagnostics_log or security_log.")
    var logType = "diagnostics_log"

    @Option(name: .long, help: "back-office: a ReadWrite integer variable of the station, Component.Variable.")
    var variable = "OCPPCommCtrlr.HeartbeatInterval"

    @Option(name: .long, help: "back-office: the value it gets (default: a random multiple of 10 in 60…3600).")
    var variableValue: String?

    @Option(name: .long, help: "back-office: a ReadOnly variable of the station, Component.Variable.")
    var readOnlyVariable = "ChargingStation.Model"

    @Flag(name: .long, help: "Run the remaining steps after a failure instead of stopping at the first.")
    var keepGoing = false

    @Flag(name: .long, help: "Only warn (instead of failing) about CS messages that have no bundled schema.")
    var allowMissingSchemas = false

    @Flag(name: .long, help: "List the scenario's steps and exit.")
    var listSteps = false

    func validate() throws {
        for (option, key) in [("--variable", variable), ("--read-only-variable", readOnlyVariable)] where BackOfficeInputs.split(key) == nil {
            throw ValidationError("\(option) must be Component.Variable, not '\(key)'")
        }
        if (firmwareSignatureFile == nil) != (signingCertificateFile == nil) {
            throw ValidationError("--firmware-signature-file and --signing-certificate-file go together")
        }
        if scenario == .backOffice, !listSteps, firmwareUrl == nil || logUploadUrl == nil {
            throw ValidationError("the back-office scenario needs --firmware-url and --log-upload-url")
        }
    }

    /// The back-office scenario's inputs from the options (files read here).
    func backOfficeInputs() throws -> BackOfficeInputs {
        var inputs = BackOfficeInputs()
        if let firmwareUrl { inputs.firmwareURL = firmwareUrl }
        if let logUploadUrl { inputs.logUploadURL = logUploadUrl }
        inputs.logType = logType
        inputs.variable = variable
        inputs.readOnlyVariable = readOnlyVariable
        if let variableValue { inputs.value = variableValue }
        func read<T>(_ option: String, _ path: String?, _ reader: (String) throws -> T) throws -> T? {
            guard let path else { return nil }
            do { return try reader(path) } catch { throw ValidationError("\(option) \(path): cannot read it (\(error.localizedDescription))") }
        }
        inputs.signature = try read("--firmware-signature-file", firmwareSignatureFile, BackOfficeInputs.signature(fromFile:))
        inputs.signingCertificate = try read("--signing-certificate-file", signingCertificateFile) { try String(contentsOfFile: $0, encoding: .utf8) }
        return inputs
    }

    func run() async throws {
        let steps = scenario.steps(try backOfficeInputs())
        if listSteps {
            for (index, step) in steps.enumerated() {
                let flags = (step.needsEV ? " [EV]" : "") + (step.withoutEVOnly ? " [no EV]" : "") + (step.optional ? " [optional]" : "")
                print("\(index + 1). \(step.label)\(flags)")
            }
            return
        }
        let transcript = Transcript()
        let schemas = try SchemaBook.load(connection.schemaDir)
        transcript.line(
            "josev-sim session \(scenario.rawValue) against \(connection.host):\(connection.port); "
                + (schemas.map { "\($0.count) schemas from \($0.directory)" } ?? "NO schemas found: answers are not checked")
                + "; control socket: \(controlSocket ?? "none")")
        let peer = try await SessionPeer(
            host: connection.host, port: connection.port, schemas: schemas, transcript: transcript,
            options: .init(allowMissingSchemas: allowMissingSchemas, authorizationStatus: authorization))
        var context = ScenarioContext()
        context.evse = evseId
        context.connector = connectorId
        context.uid = uid
        context.evCurrent = evCurrent
        context.hasEV = controlSocket != nil
        let control = controlSocket.map(ControlSocket.init(path:))
        if let control {
            do {
                let status = try await control.request(["command": "status"])
                transcript.message("⚡ status → \(JSONValue.object(status).serialized())")
            } catch {
                transcript.message("⚡ status → \(error)")
            }
        }
        let runner = ScenarioRunner(
            name: scenario.rawValue, peer: peer, control: control, context: context, timeout: connection.timeout,
            keepGoing: keepGoing)
        let passed = await runner.run(steps)
        await peer.close()
        if !passed { throw ExitCode(1) }
    }
}
