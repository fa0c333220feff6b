// Fuzz entry points: one function per fuzz target, shared by the libFuzzer binaries of `make fuzz`
// (see fuzz/README.md) and the corpus regression tests (Tests/FuzzRegressionTests).
//
// Each function takes arbitrary bytes and must return for every input. A trap inside is a finding:
// either a crash of the code under test, or one of the invariants checked here (round trips,
// stream/whole-buffer agreement) does not hold.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The fuzz targets. No Foundation: the code under test does not use it either.
public enum FuzzTargets {
    /// The names of the targets, as used for `fuzz/corpus/<name>/`, `fuzz/crashes/<name>/` and the
    /// libFuzzer binaries (`fuzz-<name>`).
    public static let names = ["contract", "modbus"]

    /// Runs the target named `name` (one of `names`) on `bytes`; false for an unknown name.
    @discardableResult
    public static func run(_ name: String, _ bytes: [UInt8]) -> Bool {
        switch name {
        case "contract": contract(bytes)
        case "modbus": modbusFrames(bytes)
        default: return false
        }
        return true
    }

    /// The incoming MQTT path of the daemon (`ContractRouter`) without I/O and without the station:
    /// size limit → parse (maxDepth 64) → `envelope.json` → catalogue → message schema → typed
    /// decode → re-encode → validate as an outgoing message → serialize.
    public static func contract(_ bytes: [UInt8]) {
        ContractFuzz.run(bytes)
    }

    /// The Modbus TCP server path without sockets: the bytes as a TCP stream cut into MBAP frames
    /// (whole, byte by byte, and in chunks the input suggests), every frame's PDU through the request
    /// decoder, the Alfen register map over an in-memory station, the response encoder and the
    /// client-side response decoder.
    public static func modbusFrames(_ bytes: [UInt8]) {
        ModbusFuzz.run(bytes)
    }

    /// Extra consistency checks (env `CS_FUZZ_STRICT=1`, which `scripts/fuzz.sh` sets): mismatches
    /// between layers that are bugs but not crashes of the daemon (a schema-valid message that the
    /// typed model refuses, a re-encoded payload its own schema refuses, ...). They trap, so that
    /// libFuzzer reports them with the input.
    public static let strict: Bool = {
        guard let value = getenv("CS_FUZZ_STRICT") else { return false }
        let text = String(cString: value)
        return !text.isEmpty && text != "0"
    }()
}

/// Stops the process with a message that names the broken invariant (libFuzzer then saves the input).
func invariantFailure(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError("fuzz invariant violated: \(message)", file: file, line: line)
}
