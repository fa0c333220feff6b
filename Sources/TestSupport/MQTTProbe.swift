import Foundation

/// An independent MQTT observer for tests: a `mosquitto_sub` process (not the client under test).
///
/// Payloads are reported as text, one message per line, so use it with text payloads without newlines.
public final class MQTTProbe: Sendable {
    public struct Message: Sendable, Equatable, CustomStringConvertible {
        public let topic: String
        public let payload: String
        public let qos: Int
        public let retain: Bool
        public var description: String { "\(topic) \(payload) (q\(qos)\(retain ? ", retained" : ""))" }
    }

    private struct Output {
        var partialLine = ""
        var subscribed = false
        var messages: [Message] = []
        var transcript = ""
    }

    /// Shared with the pipe's readability handler.
    private final class OutputBox: Sendable {
        let state = Locked(Output())
    }

    private let process: ChildProcess
    private let reader: FileHandle
    private let box = OutputBox()

    /// Starts `mosquitto_sub` on `filter` and returns once the broker acknowledged the subscription.
    public init(
        broker: TestBroker, filter: String, qos: Int = 1, username: String? = nil, password: String? = nil,
        clientID: String? = nil, timeout: Duration = .seconds(5)
    ) async throws {
        var arguments = [
            "-oL", try Command.find("mosquitto_sub"), "-d", "-h", broker.host, "-p", String(broker.port),
            "-t", filter, "-q", String(qos), "-F", "MSG\t%q\t%r\t%t\t%p",
        ]
        if let username { arguments += ["-u", username] }
        if let password { arguments += ["-P", password] }
        if let clientID { arguments += ["-i", clientID] }
        if let certificates = broker.certificates {
            arguments += ["--cafile", certificates.caFile, "--cert", certificates.clientCertFile,
                          "--key", certificates.clientKeyFile]
        }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw TestSupportError("pipe: \(String(cString: strerror(errno)))")
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let reader = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        let process: ChildProcess
        do {
            process = try ChildProcess(executable: "stdbuf", arguments: arguments, stdout: fds[1], stderr: fds[1])
        } catch {
            close(fds[1])
            throw error
        }
        close(fds[1])
        self.process = process
        self.reader = reader
        let box = self.box
        reader.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                return
            }
            MQTTProbe.consume(String(decoding: data, as: UTF8.self), into: box)
        }
        let ready = await waitUntil(timeout: timeout) { box.state.withLock { $0.subscribed } || !process.isRunning }
        guard ready, process.isRunning else {
            stop()
            throw TestSupportError("mosquitto_sub on \(filter) did not subscribe: \(transcript)")
        }
    }

    deinit {
        stop()
    }

    private static func consume(_ text: String, into box: OutputBox) {
        box.state.withLock { o in
            o.transcript += text
            o.partialLine += text
            while let newline = o.partialLine.firstIndex(of: "\n") {
                let line = String(o.partialLine[..<newline])
                o.partialLine = String(o.partialLine[o.partialLine.index(after: newline)...])
                if line.hasPrefix("MSG\t") {
                    let fields = line.split(separator: "\t", maxSplits: 4, omittingEmptySubsequences: false)
                    if fields.count == 5 {
                        o.messages.append(
                            Message(
                                topic: String(fields[3]), payload: String(fields[4]), qos: Int(fields[1]) ?? -1,
                                retain: fields[2] == "1"))
                    }
                } else if line.contains("received SUBACK") {
                    o.subscribed = true
                }
            }
        }
    }

    /// Messages received so far.
    public var messages: [Message] { box.state.withLock { $0.messages } }

    /// Everything `mosquitto_sub -d` printed, for failure messages.
    public var transcript: String { box.state.withLock { $0.transcript } }

    /// Waits until at least `count` messages arrived (or the timeout) and returns what arrived.
    @discardableResult
    public func waitForMessages(count: Int = 1, timeout: Duration = .seconds(5)) async -> [Message] {
        await waitUntil(timeout: timeout) { self.messages.count >= count }
        return messages
    }

    /// Terminates `mosquitto_sub`.
    public func stop() {
        // mosquitto_sub needs no clean shutdown; SIGKILL never waits.
        process.send(SIGKILL)
        reader.readabilityHandler = nil
    }

    /// Publishes one text message with `mosquitto_pub`.
    public static func publish(
        broker: TestBroker, topic: String, payload: String, qos: Int = 1, retain: Bool = false,
        username: String? = nil, password: String? = nil
    ) throws {
        var arguments = ["-h", broker.host, "-p", String(broker.port), "-t", topic, "-m", payload, "-q", String(qos)]
        if retain { arguments.append("-r") }
        if let username { arguments += ["-u", username] }
        if let password { arguments += ["-P", password] }
        if let certificates = broker.certificates {
            arguments += ["--cafile", certificates.caFile, "--cert", certificates.clientCertFile,
                          "--key", certificates.clientKeyFile]
        }
        try Command.run("mosquitto_pub", arguments)
    }
}
