import Foundation

/// A real HTTP(S) server on a free loopback port for firmware downloads and log uploads: Python's
/// `http.server` with byte ranges (`Range: bytes=N-` → 206), PUT and multipart POST uploads, an
/// optional dropped connection (the first GET of each file is cut after `dropAfter` bytes), and
/// a request log (`METHOD path range`) the tests read.
public final class TestHTTPServer: Sendable {
    public let port: Int
    public let root: String
    public let uploads: String
    public let requestLog: String
    public let tls: Bool
    private let process: ChildProcess

    public var baseURL: String { "\(tls ? "https" : "http")://\(tls ? "localhost" : "127.0.0.1"):\(port)" }

    public init(directory: TemporaryDirectory, dropAfter: Int? = nil, certificates: TestCertificates? = nil) async throws {
        root = directory.file("www")
        uploads = directory.file("uploads")
        requestLog = directory.file("requests.log")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: uploads, withIntermediateDirectories: true)
        let script = try directory.write("http_server.py", Self.script, permissions: 0o644)
        port = try freeLoopbackPort()
        tls = certificates != nil
        var arguments = [script, "--port", "\(port)", "--root", root, "--uploads", uploads, "--log", requestLog]
        if let dropAfter { arguments += ["--drop-after", "\(dropAfter)"] }
        if let certificates { arguments += ["--cert", certificates.serverCertFile, "--key", certificates.serverKeyFile] }
        let output = open(directory.file("http_server.out"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(output) }
        process = try ChildProcess(executable: "python3", arguments: ["-u"] + arguments, stdout: output, stderr: output)
        let port = port
        guard await waitUntil(timeout: .seconds(10), { loopbackPortAcceptsConnections(port) }) else {
            await process.terminate()
            throw TestSupportError("HTTP server did not start: \((try? String(contentsOfFile: directory.file("http_server.out"), encoding: .utf8)) ?? "")")
        }
    }

    /// Puts a file the server serves at `/name`.
    public func serve(_ name: String, bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: root + "/" + name))
    }

    /// The uploaded file called `name`, if any.
    public func uploaded(_ name: String) -> Data? { FileManager.default.contents(atPath: uploads + "/" + name) }

    /// Lines of the request log.
    public var requests: [String] {
        ((try? String(contentsOfFile: requestLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    public func stop() async { await process.terminate() }

    static let script = #"""
        import argparse, os, ssl, sys
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        p = argparse.ArgumentParser()
        p.add_argument("--port", type=int); p.add_argument("--root"); p.add_argument("--uploads"); p.add_argument("--log")
        p.add_argument("--drop-after", type=int); p.add_argument("--cert"); p.add_argument("--key")
        a = p.parse_args()
        dropped = set()

        def log(line):
            with open(a.log, "a") as f:
                f.write(line + "\n")

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *args): pass

            def do_GET(self):
                name = os.path.basename(self.path.split("?")[0])
                rng = self.headers.get("Range")
                log("GET %s %s" % (self.path, rng or "-"))
                path = os.path.join(a.root, name)
                if not name or not os.path.isfile(path):
                    self.send_error(404); return
                data = open(path, "rb").read()
                start = 0
                if rng and rng.startswith("bytes=") and rng.endswith("-"):
                    start = int(rng[6:-1])
                    if start >= len(data):
                        self.send_response(416); self.send_header("Content-Range", "bytes */%d" % len(data))
                        self.send_header("Content-Length", "0"); self.end_headers(); return
                    self.send_response(206)
                    self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if a.drop_after is not None and name not in dropped and start == 0:
                    dropped.add(name)
                    self.wfile.write(body[:a.drop_after]); self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body)

            def read_body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length)

            def do_PUT(self):
                body = self.read_body()
                name = os.path.basename(self.path.split("?")[0])
                log("PUT %s %d" % (self.path, len(body)))
                with open(os.path.join(a.uploads, name), "wb") as f: f.write(body)
                self.send_response(201); self.send_header("Content-Length", "0"); self.end_headers()

            def do_POST(self):
                body = self.read_body()
                ctype = self.headers.get("Content-Type", "")
                log("POST %s %d %s" % (self.path, len(body), ctype.split(";")[0]))
                if "boundary=" not in ctype:
                    self.send_error(400); return
                boundary = ("--" + ctype.split("boundary=")[1].strip('"')).encode()
                for part in body.split(boundary):
                    head, sep, content = part.partition(b"\r\n\r\n")
                    if not sep or b'name="file"' not in head: continue
                    filename = head.split(b'filename="')[1].split(b'"')[0].decode()
                    with open(os.path.join(a.uploads, os.path.basename(filename)), "wb") as f:
                        f.write(content[:-2] if content.endswith(b"\r\n") else content)
                self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()

        server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
        if a.cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); context.load_cert_chain(a.cert, a.key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        server.serve_forever()
        """#
}

/// A real FTP server on a free loopback port (`python3-pyftpdlib`, Debian): anonymous, writable,
/// serving `root`.
public final class TestFTPServer: Sendable {
    public let port: Int
    public let root: String
    private let process: ChildProcess

    public var baseURL: String { "ftp://127.0.0.1:\(port)" }

    public init(directory: TemporaryDirectory) async throws {
        root = directory.file("ftp")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        port = try freeLoopbackPort()
        // Debian's python3-pyftpdlib is installed for the system python3, which may not be first on PATH.
        let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
        let output = open(directory.file("ftp_server.out"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(output) }
        process = try ChildProcess(
            executable: python, arguments: ["-m", "pyftpdlib", "-i", "127.0.0.1", "-p", "\(port)", "-w", "-d", root],
            stdout: output, stderr: output)
        let port = port
        guard await waitUntil(timeout: .seconds(10), { loopbackPortAcceptsConnections(port) }) else {
            await process.terminate()
            throw TestSupportError("FTP server did not start: \((try? String(contentsOfFile: directory.file("ftp_server.out"), encoding: .utf8)) ?? "")")
        }
    }

    public func stop() async { await process.terminate() }
}

/// Real journal files without journald: entries in journald's export format, turned into a
/// `.journal` file by `systemd-journal-remote` (Debian `systemd-journal-remote`), which the
/// sd-journal API reads like the system journal.
public enum TestJournal {
    /// One entry: its wall-clock time (µs since the epoch) and fields (`MESSAGE`, `PRIORITY`, …).
    public struct Entry: Sendable {
        public var realtime: Int64
        public var fields: [String: String]
        public init(realtime: Int64, fields: [String: String]) {
            self.realtime = realtime
            self.fields = fields
        }
    }

    /// Writes `entries` as `directory/remote.journal` (the directory is created).
    public static func write(_ entries: [Entry], into directory: String) async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var export = ""
        for (index, entry) in entries.enumerated() {
            export += "__REALTIME_TIMESTAMP=\(entry.realtime)\n__MONOTONIC_TIMESTAMP=\(1000 + index)\n"
            export += "_BOOT_ID=0123456789abcdef0123456789abcdef\n"
            for (key, value) in entry.fields.sorted(by: { $0.key < $1.key }) { export += "\(key)=\(value)\n" }
            export += "\n"
        }
        let input = directory + "/entries.export"
        try export.write(toFile: input, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: input) }
        let tool = try Command.find("systemd-journal-remote", preferred: ["/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"])
        let result = try await Command.capture(tool, ["-o", directory + "/remote.journal", input])
        guard result.status == 0 else { throw TestSupportError("systemd-journal-remote failed: \(result.output)") }
    }
}

/// A signing key and certificate made with the openssl CLI, and signatures of files.
public struct TestFirmwareSigner: Sendable {
    public let key: String
    public let certificate: String

    public init(directory: TemporaryDirectory, name: String = "signer", algorithm: [String] = ["-newkey", "rsa:2048"]) throws {
        key = directory.file("\(name).key")
        certificate = directory.file("\(name).crt")
        try Command.run(
            "openssl", ["req", "-x509", "-nodes"] + algorithm + ["-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=firmware signer"])
    }

    public var pem: String { (try? String(contentsOfFile: certificate, encoding: .utf8)) ?? "" }

    /// Base64 of the SHA-256 signature of the file.
    public func sign(_ file: String, extra: [String] = []) throws -> String {
        let signature = file + ".sig"
        try Command.run("openssl", ["dgst", "-sha256", "-sign", key] + extra + ["-out", signature, file])
        return try Data(contentsOf: URL(fileURLWithPath: signature)).base64EncodedString()
    }
}

extension TemporaryDirectory {
    /// An executable `/bin/sh` script (install commands in tests).
    public func script(_ name: String, _ body: String) throws -> String {
        try write(name, "#!/bin/sh\n" + body + "\n", permissions: 0o755)
    }
}
