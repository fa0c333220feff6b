import Basics
import Logging
import MeterDriver
import Modbus
import Station

#if canImport(Glibc)
    import Glibc
#endif

/// Builds the meter buses of `hardware.meters` beside the board driver and starts their threads.
enum MeterWiring {
    /// The board itself when no meter is configured; else the board with its meters beside it.
    static func hardware(board: any StationHardware, meters setup: MeterSetup, logger: Logger) -> any StationHardware {
        guard !setup.meters.isEmpty else { return board }
        var buses: [MeterBus] = []
        for bus in setup.buses {
            let channels = setup.meters.filter { $0.bus == bus.name }.compactMap { channel($0, setup: setup) }
            guard !channels.isEmpty else { continue }
            let settings = RTUBus.Settings(
                port: bus.port, baud: bus.baud, parity: bus.parity, stopBits: bus.stopBits,
                responseTimeout: .milliseconds(Int64(bus.responseTimeout * 1000)), rs485: bus.rs485,
                rtsDelayMicroseconds: bus.rtsDelayMicroseconds)
            buses.append(
                MeterBus(name: bus.name, meters: channels, gap: .milliseconds(Int64(bus.gap * 1000)), logger: logger) { try RTUBus(settings) })
        }
        for meter in setup.meters {
            guard let tcp = meter.tcp, let address = MeterSetup.tcpAddress(tcp), let channel = channel(meter, setup: setup) else { continue }
            buses.append(
                MeterBus(name: tcp, meters: [channel], gap: .zero, logger: logger) { ModbusTCPLine(host: address.host, port: address.port) })
        }
        let hardware = MeteredHardware(board: board, buses: buses)
        hardware.start()
        return hardware
    }

    static func channel(_ meter: MeterSetup.Meter, setup: MeterSetup) -> MeterChannel? {
        guard let profile = setup.profile(named: meter.profile) else { return nil }
        return MeterChannel(
            evseID: meter.evseID, unitID: UInt8(clamping: meter.unitID), profile: profile, expectSerial: meter.expectSerial,
            pollInterval: .milliseconds(Int64(meter.pollInterval * 1000)), offlineAfterFailedCycles: meter.offlineAfterFailedCycles)
    }
}

/// A Modbus TCP meter through the project's own blocking client (`Modbus.ModbusBlockingClient`),
/// used from its bus thread. Holding (FC03) and input (FC04) registers; a connection that breaks is
/// opened again at the next read (a meter or gateway that restarts comes back by itself), and a
/// meter that cannot be reached reads as a timeout.
final class ModbusTCPLine: RegisterTransport {
    private let host: String
    private let port: Int
    /// Nil until connected, and again after the connection broke. Only the bus thread uses it.
    private var client: ModbusBlockingClient?

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    func read(unit: UInt8, function: RegisterSpec.FunctionCode, address: UInt16, count: UInt16) -> Result<[UInt16], RegisterReadError> {
        let connected: ModbusBlockingClient
        if let client, client.isConnected {
            connected = client
        } else {
            do throws(ModbusError) {
                connected = try ModbusBlockingClient.connect(host: host, port: port, requestTimeout: .seconds(1))
            } catch {
                return .failure(.timeout)
            }
            client = connected
        }
        do throws(ModbusError) {
            switch function {
            case .holding: return .success(try connected.readHoldingRegisters(unit: unit, address: address, count: count))
            case .input: return .success(try connected.readInputRegisters(unit: unit, address: address, count: count))
            }
        } catch {
            switch error {
            case .timeout: return .failure(.timeout)
            case .exception(let code): return .failure(.exception(code.rawValue))
            case .connectionClosed:
                client = nil
                connected.close()
                return .failure(.timeout)
            default: return .failure(.badData)
            }
        }
    }

    /// TCP answers carry their transaction id: a late one is dropped by the client itself.
    func recover(after error: RegisterReadError) -> Int { 0 }
}
