import Foundation
import Modbus
import ModbusNIOClient
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A socket bound and listening before the server starts, as systemd passes it with socket
/// activation (cs-companiond-modbus.socket): the server serves it instead of binding its own.
@Suite("Modbus server on a passed listening socket")
struct PassedSocketTests {
    /// A TCP socket listening on 127.0.0.1 on a free port, as PID 1 would make it.
    private static func listeningSocket() throws -> (descriptor: Int32, port: Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && listen(descriptor, 16) == 0
                    && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test("the passed socket is served: its port is returned, a client reads the station's identity through it")
    func servesThePassedSocket() async throws {
        let passed = try Self.listeningSocket()
        // Rig.start sets host 127.0.0.1 and port 0; with a passed socket neither is bound.
        let rig = try await Rig.start(configuration: ModbusServerConfiguration(listeningSocket: passed.descriptor))
        #expect(rig.port == passed.port)
        let client = try await ModbusClient.connect(host: "127.0.0.1", port: passed.port, requestTimeout: .seconds(5))
        let registers = try await client.readHoldingRegisters(unit: 200, address: 157, count: 11)
        #expect(ModbusRegisters.string(registers[0..<11]) == "SN-0001-XYZ")
        await client.close()
        await rig.stop()
    }
}
