import Foundation
import Glibc
import Logging
import Systemd
import Testing

/// A pipe whose write end a handler writes to and whose read end the test drains.
final class TestPipe: Sendable {
    let readEnd: Int32
    let writeEnd: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0, fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    /// Everything written so far.
    func drain() -> String {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            result += buffer[..<count]
        }
        return String(decoding: result, as: UTF8.self)
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }
}

@Suite("journal field names")
struct JournalFieldTests {
    @Test(arguments: [
        ("evse_id", "EVSE_ID"),
        ("topic", "TOPIC"),
        ("message_id", "MESSAGE_ID"),
        ("EVSE_ID", "EVSE_ID"),
        ("mqtt.client-id", "MQTT_CLIENT_ID"),
        ("connector id", "CONNECTOR_ID"),
        ("_secret", "META_SECRET"),
        ("__x", "META__X"),
        ("2fa", "META_2FA"),
        ("", "META_"),
        ("strom-stärke", "STROM_ST_RKE"),
        ("message", "META_MESSAGE"),
        ("priority", "META_PRIORITY"),
        ("code_file", "META_CODE_FILE"),
        ("syslog_identifier", "META_SYSLOG_IDENTIFIER"),
    ])
    func sanitizes(key: String, expected: String) {
        let name = JournalField.name(forMetadataKey: key)
        #expect(name == expected)
        #expect(JournalField.isValidName(name))
    }

    @Test func cutsLongNamesTo64() {
        let name = JournalField.name(forMetadataKey: String(repeating: "a", count: 100))
        #expect(name == String(repeating: "A", count: 64))
        #expect(JournalField.isValidName(name))
    }

    @Test(arguments: ["lower", "_TRUSTED", "1ST", "", "WITH-DASH", String(repeating: "A", count: 65)])
    func rejectsInvalidNames(name: String) {
        #expect(!JournalField.isValidName(name))
    }

    @Test func messageIDsAreDistinct128BitHex() {
        let hexes = MessageID.all.map(\.id.hex)
        #expect(Set(hexes).count == hexes.count)
        for hex in hexes {
            #expect(MessageID(hex) != nil)
            #expect(hex.utf8.count == 32)
        }
        #expect(MessageID("not-an-id") == nil)
        #expect(MessageID("88DC4C637A8F4B16A5FE4107A2D3713F") == MessageID.ready)
        #expect(MessageID.ready.metadata == ["message_id": "88dc4c637a8f4b16a5fe4107a2d3713f"])
        #expect(JournalField.name(forMetadataKey: MessageID.metadataKey) == "MESSAGE_ID")
    }

    @Test func syslogPriorities() {
        #expect(Logger.Level.allCases.map(\.syslogPriority) == [7, 7, 6, 5, 4, 3, 2])
    }
}

@Suite("journal handler fields")
struct JournalHandlerTests {
    @Test func buildsStructuredFields() {
        var handler = JournalLogHandler(label: "cs.mqtt", identifier: "cs-companiond", levelBox: LogLevelBox(.info))
        handler.metadata = ["component": "mqtt", "evse_id": "1"]
        let event = LogEvent(
            level: .warning,
            message: "broker lost",
            metadata: ["evse_id": "2", "topic": "josev/cs", "message_id": .string(MessageID.brokerLost.hex)],
            source: "Daemon",
            file: "Daemon/Broker.swift",
            function: "run()",
            line: 42
        )
        let fields = handler.fields(for: event)
        let pairs = fields.map { "\($0.name)=\($0.value)" }
        #expect(
            pairs == [
                "MESSAGE=broker lost",
                "PRIORITY=4",
                "SYSLOG_IDENTIFIER=cs-companiond",
                "LOGGER=cs.mqtt",
                "CODE_FILE=Daemon/Broker.swift",
                "CODE_LINE=42",
                "CODE_FUNC=run()",
                "COMPONENT=mqtt",
                "EVSE_ID=2",
                "MESSAGE_ID=77aebe201ed9484c830f9fbc685bd1ea",
                "TOPIC=josev/cs",
            ])
        for field in fields { #expect(JournalField.isValidName(field.name), "\(field.name)") }
    }

    @Test func keepsMultilineValuesAndAddsError() {
        struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }
        let handler = JournalLogHandler(label: "l", identifier: "id", levelBox: LogLevelBox(.info))
        let event = LogEvent(
            level: .error, message: "a\nb", error: Boom(), metadata: ["Detail": "x\ny"], source: nil,
            file: "f", function: "g", line: 1)
        let fields = Dictionary(handler.fields(for: event).map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(fields["MESSAGE"] == "a\nb")
        #expect(fields["ERROR"] == "boom")
        #expect(fields["DETAIL"] == "x\ny")
        #expect(fields["PRIORITY"] == "3")
    }

    /// There is no journald on the build machine (systemd is not PID 1), so what journald stores
    /// cannot be checked here; this only proves that sending does not crash without it. On the
    /// board: `journalctl -u cs-companiond -o verbose` shows the fields.
    @Test func sendingWithoutJournaldDoesNotCrash() {
        let rc = JournalLogHandler.send([("MESSAGE", "cs-companion test"), ("PRIORITY", "7")])
        #expect(rc <= 0 || rc > 0)
    }
}

@Suite("stderr handler and level box")
struct StderrHandlerTests {
    @Test func lineFormat() throws {
        let pipe = try TestPipe()
        let box = LogLevelBox(.info)
        var logger = Logger(label: "cs-companiond") { label in
            StderrLogHandler(label: label, levelBox: box, fileDescriptor: pipe.writeEnd)
        }
        logger[metadataKey: "evse_id"] = "1"
        logger.info("connected to broker", metadata: ["host": "127.0.0.1", "port": "1883"])
        logger.warning("payload invalid", metadata: ["reason": "missing \"id\"", "topic": "josev/cs", "empty": ""])
        logger.error("two\nlines")
        logger.debug("hidden")
        #expect(
            pipe.drain()
                == """
                info cs-companiond: connected to broker evse_id=1 host=127.0.0.1 port=1883
                warning cs-companiond: payload invalid empty="" evse_id=1 reason="missing \\"id\\"" topic=josev/cs
                error cs-companiond: two\\nlines evse_id=1

                """)
    }

    @Test func syslogPrefixStyle() throws {
        let pipe = try TestPipe()
        let box = LogLevelBox(.trace)
        let logger = Logger(label: "cs") { label in
            StderrLogHandler(label: label, levelBox: box, style: .syslogPrefix, fileDescriptor: pipe.writeEnd)
        }
        logger.trace("t")
        logger.notice("n")
        logger.critical("c", metadata: MessageID.configInvalid.metadata)
        #expect(
            pipe.drain()
                == "<7>trace cs: t\n<5>notice cs: n\n<2>critical cs: c message_id=8fe5f5921851467495f3d4ecfef53410\n")
    }

    @Test func levelChangesAtRuntimeForEveryLogger() throws {
        let pipe = try TestPipe()
        let box = LogLevelBox(.warning)
        let factory: @Sendable (String) -> any LogHandler = { label in
            StderrLogHandler(label: label, levelBox: box, fileDescriptor: pipe.writeEnd)
        }
        let a = Logger(label: "a", factory: factory)
        var b = Logger(label: "b", factory: factory)
        a.info("dropped")
        b.info("dropped")
        box.level = .debug  // what a SIGHUP reload with log_level: debug does
        a.debug("a-debug")
        b.info("b-info")
        // A level set on one logger overrides the box for that logger only (swift-log value semantics).
        b.logLevel = .error
        b.warning("dropped")
        a.warning("a-warning")
        box.level = .critical
        b.error("b-error")
        a.error("dropped")
        #expect(pipe.drain() == "debug a: a-debug\ninfo b: b-info\nwarning a: a-warning\nerror b: b-error\n")
    }

    @Test func metadataProviderIsMerged() throws {
        let pipe = try TestPipe()
        let provider = Logger.MetadataProvider { ["session": "s1", "evse_id": "9"] }
        let logger = Logger(label: "p") { label in
            StderrLogHandler(label: label, levelBox: LogLevelBox(.info), fileDescriptor: pipe.writeEnd, metadataProvider: provider)
        }
        logger.info("m", metadata: ["evse_id": "2"])
        #expect(pipe.drain() == "info p: m evse_id=2 session=s1\n")
    }
}

@Suite("log destination")
struct LogDestinationTests {
    @Test func parsesJournalStream() {
        #expect(LogSetup.parseJournalStream("8:1234")! == (8, 1234))
        #expect(LogSetup.parseJournalStream("8:") == nil)
        #expect(LogSetup.parseJournalStream("x:1") == nil)
        #expect(LogSetup.parseJournalStream("1:2:3") == nil)
    }

    @Test func picksJournalOnlyWhenStderrIsTheStream() throws {
        let pipe = try TestPipe()
        var info = stat()
        #expect(fstat(pipe.writeEnd, &info) == 0)
        let stream = "\(info.st_dev):\(info.st_ino)"
        let existing = "/dev/null"
        let missing = "/nonexistent/journal/socket"

        #expect(LogSetup.detectDestination(journalStream: stream, fileDescriptor: pipe.writeEnd, journalSocketPath: existing) == .journal)
        #expect(
            LogSetup.detectDestination(journalStream: stream, fileDescriptor: pipe.writeEnd, journalSocketPath: missing)
                == .stderrWithSyslogPrefix)
        // Redirected elsewhere (inherited variable, but stderr is not the stream any more).
        #expect(
            LogSetup.detectDestination(journalStream: "\(info.st_dev):\(info.st_ino &+ 1)", fileDescriptor: pipe.writeEnd, journalSocketPath: existing)
                == .stderr)
        #expect(LogSetup.detectDestination(journalStream: nil, fileDescriptor: pipe.writeEnd, journalSocketPath: existing) == .stderr)
        #expect(LogSetup.detectDestination(journalStream: "garbage", fileDescriptor: pipe.writeEnd, journalSocketPath: existing) == .stderr)
    }

    @Test func factoryMakesTheRightHandler() {
        let box = LogLevelBox(.notice)
        #expect(LogSetup.makeFactory(identifier: "x", levelBox: box, destination: .journal)("l", nil) is JournalLogHandler)
        let stderr = LogSetup.makeFactory(identifier: "x", levelBox: box, destination: .stderrWithSyslogPrefix)("l", nil)
        #expect((stderr as? StderrLogHandler)?.style == .syslogPrefix)
        #expect(stderr.logLevel == .notice)
    }
}
