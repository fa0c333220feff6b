import Foundation
import TestSupport
import Testing

@testable import Store

/// 2023-11-14T22:13:20Z.
let t0: Int64 = 1_700_000_000_000
let minute: Int64 = 60_000

/// A fresh store in a fresh temporary directory (kept alive by the returned directory).
func makeStore(name: String = "cs-companion.db") throws -> (TemporaryDirectory, Store) {
    let directory = try TemporaryDirectory(prefix: "store-test")
    return (directory, try Store(path: directory.file(name)))
}

/// Starts an RFID session on EVSE "1" at `t0` with the meter at 1000 Wh.
@discardableResult
func startSample(
    _ store: Store, id: String? = nil, evse: String = "1", token: String = "04A2B3C4D5E6F7", type: SessionTokenType = .iso14443,
    start: Int64 = t0, energyWh: Double = 1000
) throws(StoreError) -> String {
    try store.startSession(
        id: id, evseID: evse, connectorID: 1, transactionID: nil, tokenUID: token, tokenType: type, start: start, energyWh: energyWh)
}

/// The dimensions a smart-charging platform asks for, per period.
func sampleDimensions(energyKWh: Double, powerKW: Double, soc: Double? = nil) -> [ChargingDimension] {
    var dimensions = [
        ChargingDimension(.energy, energyKWh), ChargingDimension(.energyImport, energyKWh), ChargingDimension(.energyExport, 0),
        ChargingDimension(.power, powerKW), ChargingDimension(.minPower, powerKW * 0.9), ChargingDimension(.maxPower, powerKW * 1.1),
        ChargingDimension(.parkingTime, 0),
    ]
    if let soc { dimensions.append(ChargingDimension(.stateOfCharge, soc)) }
    return dimensions
}

/// Runs `body` expecting a `StoreError`; returns it (nil, with an issue recorded, if none was thrown).
func expectStoreError<T>(_ body: () throws(StoreError) -> T, sourceLocation: SourceLocation = #_sourceLocation) -> StoreError? {
    do {
        _ = try body()
        Issue.record("expected a StoreError", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// Runs a command, returning its exit status.
@discardableResult
func shell(_ arguments: [String]) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
}
