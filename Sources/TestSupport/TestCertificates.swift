import Foundation

/// A throwaway PKI made with the `openssl` CLI (EC P-256, valid 2 days):
/// a CA, a server certificate for 127.0.0.1/localhost, a client certificate, and a second,
/// unrelated CA for "wrong CA" tests. All files are PEM, keys unencrypted.
public struct TestCertificates: Sendable {
    public let caFile: String
    public let caKeyFile: String
    public let serverCertFile: String
    public let serverKeyFile: String
    public let clientCertFile: String
    public let clientKeyFile: String
    /// A CA that signed nothing the broker uses: trusting only it must make TLS fail.
    public let otherCAFile: String

    /// Generates everything into `directory` (which must exist).
    public init(in directory: String) throws {
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        caFile = path("ca.crt")
        caKeyFile = path("ca.key")
        serverCertFile = path("server.crt")
        serverKeyFile = path("server.key")
        clientCertFile = path("client.crt")
        clientKeyFile = path("client.key")
        otherCAFile = path("other-ca.crt")

        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        func makeCA(_ cert: String, _ key: String, _ name: String) throws {
            try Command.run(
                "openssl",
                ["req", "-x509", "-new"] + ec + [
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=\(name)",
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                ])
        }
        func makeLeaf(_ cert: String, _ key: String, _ name: String, _ extensions: String) throws {
            let csr = cert + ".csr"
            let ext = cert + ".ext"
            try extensions.write(toFile: ext, atomically: true, encoding: .utf8)
            try Command.run("openssl", ["req", "-new"] + ec + ["-keyout", key, "-out", csr, "-subj", "/CN=\(name)"])
            try Command.run(
                "openssl",
                [
                    "x509", "-req", "-in", csr, "-CA", caFile, "-CAkey", caKeyFile, "-set_serial",
                    String(UInt32.random(in: 1...UInt32.max)), "-days", "2", "-out", cert, "-extfile", ext,
                ])
        }
        try makeCA(caFile, caKeyFile, "cs-companion test CA")
        try makeLeaf(
            serverCertFile, serverKeyFile, "localhost",
            "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        try makeLeaf(
            clientCertFile, clientKeyFile, "cs-companion test client",
            "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
        try makeCA(otherCAFile, path("other-ca.key"), "unrelated test CA")
    }
}
