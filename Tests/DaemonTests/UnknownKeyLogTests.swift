import Daemon
import JSONSchema
import JosevContract
import Logging
import Synchronization
import Testing
import TestSupport

/// `UnknownKeyLog`: the keys a newer Josev may add where its schema allows them are named once per
/// (name, type) at debug, and never when debug is off.
@Suite("unknown keys of received messages")
struct UnknownKeyLogTests {
    /// Counts the lines written through it.
    final class CountingHandler: LogHandler, Sendable {
        let lines = Mutex(0)
        let level: Logger.Level
        init(level: Logger.Level) { self.level = level }
        var logLevel: Logger.Level {
            get { level }
            set {}
        }
        var metadata: Logger.Metadata {
            get { [:] }
            set {}
        }
        subscript(metadataKey _: String) -> Logger.Metadata.Value? {
            get { nil }
            set {}
        }
        func log(event: LogEvent) {
            lines.withLock { $0 += 1 }
        }
    }

    static func cpPWM(extra: Bool) throws -> JSONValue {
        try JSONValue.parse("""
            {"id":"3f1c2a7e-0000-4000-8000-000000000020","name":"cp_pwm","type":"request",
             "data":{"evse_id":"DE*TST*E0001*1","hlc":false,"error_state":false,"fault_state":false,"current":16\(extra ? #","duty_hint":5"# : "")}}
            """)
    }

    @Test("one debug line per (name, type), naming the key by its pointer")
    func once() throws {
        let log = UnknownKeyLog(schemas: try SchemaCatalog(directory: Repository.schemas))
        let handler = CountingHandler(level: .debug)
        let logger = Logger(label: "test") { _ in handler }
        #expect(log.note(try Self.cpPWM(extra: false), name: "cp_pwm", type: .request, logger: logger) == [])
        #expect(log.note(try Self.cpPWM(extra: true), name: "cp_pwm", type: .request, logger: logger) == ["/data/duty_hint"])
        #expect(log.note(try Self.cpPWM(extra: true), name: "cp_pwm", type: .request, logger: logger) == [])
        #expect(handler.lines.withLock { $0 } == 1)
    }

    @Test("nothing when debug is off")
    func quietAtInfo() throws {
        let log = UnknownKeyLog(schemas: try SchemaCatalog(directory: Repository.schemas))
        let handler = CountingHandler(level: .info)
        let logger = Logger(label: "test") { _ in handler }
        #expect(log.note(try Self.cpPWM(extra: true), name: "cp_pwm", type: .request, logger: logger) == [])
        #expect(handler.lines.withLock { $0 } == 0)
    }
}
