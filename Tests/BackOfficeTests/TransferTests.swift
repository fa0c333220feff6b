import BackOffice
import Foundation
import Testing
import TestSupport

/// Some bytes that are not all the same, so a resumed download at the wrong offset shows.
func testImage(size: Int) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 251) } }

@Suite("libcurl transfers against real servers", .timeLimit(.minutes(2)))
struct TransferTests {
    @Test("HTTP download: the file arrives byte for byte")
    func httpDownload() async throws {
        let directory = try TemporaryDirectory()
        let server = try await TestHTTPServer(directory: directory)
        defer { Task { await server.stop() } }
        let image = testImage(size: 300_000)
        try server.serve("fw.img", bytes: image)
        let target = directory.file("fw.part")
        let result = try await Transfer.download(
            from: server.baseURL + "/fw.img", to: target, options: TransferOptions(), cancellation: TransferCancellation())
        #expect(result == DownloadResult(bytes: 300_000, resumedFrom: 0))
        #expect(FileManager.default.contents(atPath: target) == Data(image))
        await server.stop()
    }

    @Test("a connection dropped mid-download fails the attempt; the next one resumes with a Range request")
    func droppedConnectionResumes() async throws {
        let directory = try TemporaryDirectory()
        let server = try await TestHTTPServer(directory: directory, dropAfter: 100_000)
        let image = testImage(size: 400_000)
        try server.serve("fw.img", bytes: image)
        let target = directory.file("fw.part")
        let url = server.baseURL + "/fw.img"
        await #expect(throws: TransferError.self) {
            try await Transfer.download(from: url, to: target, options: TransferOptions(), cancellation: TransferCancellation())
        }
        let partial = try #require(FileManager.default.attributesOfItem(atPath: target)[.size] as? Int)
        #expect(partial > 0 && partial < 400_000)
        let result = try await Transfer.download(from: url, to: target, options: TransferOptions(), cancellation: TransferCancellation())
        #expect(result.resumedFrom == Int64(partial))
        #expect(result.bytes == 400_000)
        #expect(FileManager.default.contents(atPath: target) == Data(image))
        #expect(server.requests.contains("GET /fw.img bytes=\(partial)-"), "\(server.requests)")
        await server.stop()
    }

    @Test("HTTPS is verified: the throwaway CA is trusted when configured, an unrelated CA fails with a TLS error")
    func httpsVerification() async throws {
        let directory = try TemporaryDirectory()
        let certificates = try TestCertificates(in: directory.path)
        let server = try await TestHTTPServer(directory: directory, certificates: certificates)
        try server.serve("fw.img", bytes: testImage(size: 5000))
        let url = server.baseURL + "/fw.img"
        let good = try await Transfer.download(
            from: url, to: directory.file("good"), options: TransferOptions(caFile: certificates.caFile), cancellation: TransferCancellation())
        #expect(good.bytes == 5000)
        // Uploads are verified the same way.
        try await Transfer.upload(
            file: directory.file("good"), to: server.baseURL + "/logs/", method: .put, options: TransferOptions(caFile: certificates.caFile),
            cancellation: TransferCancellation())
        #expect(server.uploaded("good")?.count == 5000)
        do {
            _ = try await Transfer.download(
                from: url, to: directory.file("bad"), options: TransferOptions(caFile: certificates.otherCAFile),
                cancellation: TransferCancellation())
            Issue.record("download with an untrusted server certificate succeeded")
        } catch {
            #expect(error.isTLS, "\(error)")
        }
        await server.stop()
    }

    @Test("schemes other than http, https, ftp, ftps, sftp are refused before anything is opened")
    func disallowedSchemes() async throws {
        let directory = try TemporaryDirectory()
        for url in ["file:///etc/passwd", "gopher://127.0.0.1/", "scp://host/x", "http//missing", "https://", "http://a b/"] {
            await #expect(throws: TransferError.disallowedScheme) {
                try await Transfer.download(from: url, to: directory.file("x"), options: TransferOptions(), cancellation: TransferCancellation())
            }
        }
        #expect(!FileManager.default.fileExists(atPath: directory.file("x")))
        #expect(TransferScheme.allowedScheme(of: "SFTP://host/x") == "sftp")
        // SFTP without a known-hosts file would accept any server key: refused.
        await #expect(throws: TransferError.sshHostUnverifiable) {
            try await Transfer.download(
                from: "sftp://127.0.0.1/fw.img", to: directory.file("x"), options: TransferOptions(), cancellation: TransferCancellation())
        }
        #expect(TransferScheme.redacted("ftp://user:secret@host:21/a@b") == "ftp://host:21/a@b")
        // Pre-signed URLs carry their token in the query: never in a log line.
        #expect(
            TransferScheme.redacted("https://bucket.example/fw.img?X-Amz-Signature=abc&X-Amz-Credential=k#frag")
                == "https://bucket.example/fw.img")
        #expect(TransferScheme.redacted("https://u:p@host?token=1") == "https://host")
        #expect(TransferScheme.redacted("https://host/x#secret") == "https://host/x")
        #expect(TransferScheme.redacted("https://host/logs/?sig=a@b") == "https://host/logs/")
    }

    @Test("a download without Content-Length stops before the space that must stay free is used")
    func unannouncedSizeStopsAtTheLimit() async throws {
        let directory = try TemporaryDirectory()
        // HTTP/1.0 without Content-Length: the body ends when the server closes the connection,
        // so the size is unknown until the end.
        let script = try directory.write(
            "endless.py",
            """
            import socket, sys
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4)
            while True:
                c, _ = s.accept()
                c.recv(65536)
                try:
                    c.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Type: application/octet-stream\\r\\n\\r\\n")
                    for _ in range(400):
                        c.sendall(bytes(range(256)) * 256)
                except OSError:
                    pass
                c.close()
            """, permissions: 0o644)
        let port = try freeLoopbackPort()
        let output = open(directory.file("endless.out"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(output) }
        let server = try ChildProcess(executable: "python3", arguments: ["-u", script, "\(port)"], stdout: output, stderr: output)
        #expect(await waitUntil(timeout: .seconds(10)) { loopbackPortAcceptsConnections(port) })
        let target = directory.file("fw.part")
        // A file system with 3 MB left: what the file takes is gone from it (26 MB are sent).
        let limit: Int64 = 3_000_000
        let space: @Sendable () -> Int64? = {
            let size = (try? FileManager.default.attributesOfItem(atPath: target)[.size] as? Int) ?? 0
            return limit - Int64(size)
        }
        do {
            _ = try await Transfer.download(
                from: "http://127.0.0.1:\(port)/fw.img", to: target, options: TransferOptions(connectTimeout: 5),
                cancellation: TransferCancellation(), availableSpace: space)
            Issue.record("a download larger than the space succeeded")
        } catch {
            guard case .insufficientSpace = error else {
                Issue.record("unexpected \(error)")
                await server.terminate()
                return
            }
            #expect(!error.isRetryable)
        }
        let written = try #require(FileManager.default.attributesOfItem(atPath: target)[.size] as? Int)
        #expect(written > 0 && written <= Int(limit), "\(written) bytes written")
        await server.terminate()
    }

    @Test("an unreachable host is a curl error, not a hang")
    func unreachableHost() async throws {
        let directory = try TemporaryDirectory()
        let port = try freeLoopbackPort()
        do {
            _ = try await Transfer.download(
                from: "http://127.0.0.1:\(port)/fw.img", to: directory.file("x"), options: TransferOptions(connectTimeout: 5),
                cancellation: TransferCancellation())
            Issue.record("download from a closed port succeeded")
        } catch {
            guard case .curl(let code, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(code == 7)  // CURLE_COULDNT_CONNECT
        }
    }

    @Test("an image larger than the free space is refused once its size is known")
    func insufficientSpace() async throws {
        let directory = try TemporaryDirectory()
        let server = try await TestHTTPServer(directory: directory)
        try server.serve("fw.img", bytes: testImage(size: 200_000))
        do {
            _ = try await Transfer.download(
                from: server.baseURL + "/fw.img", to: directory.file("x"), options: TransferOptions(),
                cancellation: TransferCancellation(), availableSpace: { 10_000 })
            Issue.record("download larger than the space succeeded")
        } catch {
            #expect(error == .insufficientSpace(needed: 200_000, available: 10_000))
        }
        await server.stop()
    }

    @Test("uploads: HTTP PUT, HTTP multipart POST and FTP store the file unchanged")
    func uploads() async throws {
        let directory = try TemporaryDirectory()
        let server = try await TestHTTPServer(directory: directory)
        let ftp = try await TestFTPServer(directory: directory)
        let bytes = testImage(size: 70_000)
        let file = directory.file("diag-1.log.gz")
        try Data(bytes).write(to: URL(fileURLWithPath: file))

        try await Transfer.upload(file: file, to: server.baseURL + "/logs/", method: .put, options: TransferOptions(), cancellation: TransferCancellation())
        #expect(server.uploaded("diag-1.log.gz") == Data(bytes))
        try FileManager.default.removeItem(atPath: server.uploads + "/diag-1.log.gz")
        try await Transfer.upload(file: file, to: server.baseURL + "/upload", method: .post, options: TransferOptions(), cancellation: TransferCancellation())
        #expect(server.uploaded("diag-1.log.gz") == Data(bytes))
        #expect(server.requests.contains { $0.hasPrefix("POST /upload") && $0.hasSuffix("multipart/form-data") })

        try await Transfer.upload(file: file, to: ftp.baseURL + "/", method: .put, options: TransferOptions(), cancellation: TransferCancellation())
        #expect(FileManager.default.contents(atPath: ftp.root + "/diag-1.log.gz") == Data(bytes))
        // And an FTP download of what is there.
        let back = try await Transfer.download(
            from: ftp.baseURL + "/diag-1.log.gz", to: directory.file("back"), options: TransferOptions(), cancellation: TransferCancellation())
        #expect(back.bytes == 70_000)
        await server.stop()
        await ftp.stop()
    }
}
