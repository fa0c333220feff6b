// swift-tools-version:6.0
//
// cs-companion: the CS side of the Josev MQTT contract.
//
// The daemon (`cs-companiond`) and everything it links import FoundationEssentials at most, never
// full Foundation (see docs/ARCHITECTURE.md, "Footprint"). `TestSupport`, the tests and the
// simulators may use anything.
import PackageDescription

/// Every target of ours is built in Swift 6 language mode with warnings treated as errors.
let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let unixSignals = Target.Dependency.product(name: "UnixSignals", package: "swift-service-lifecycle")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let flyingFox = Target.Dependency.product(name: "FlyingFox", package: "FlyingFox")

let package = Package(
    name: "cs-companion",
    products: [
        .executable(name: "cs-companiond", targets: ["cs-companiond"]),
        .executable(name: "cs-companion", targets: ["cs-companion"]),
        .executable(name: "josev-sim", targets: ["josev-sim"]),
        .executable(name: "gridbox-sim", targets: ["gridbox-sim"]),
        .executable(name: "board-sim", targets: ["board-sim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    ],
    targets: [
        // C libraries from Debian packages.
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),  // headers only: loaded with dlopen (shim.h)
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Libraries.
        // A pthread-mutex lock that ThreadSanitizer understands (Synchronization.Mutex it does not, on Linux).
        .target(name: "Locking", swiftSettings: strict),
        .target(name: "JSONSchema", swiftSettings: strict),
        .target(name: "YAML", dependencies: ["CYAML", "JSONSchema"], swiftSettings: strict),
        .target(name: "Mosquitto", dependencies: ["CMosquitto", "Locking"], swiftSettings: strict),
        .target(name: "Systemd", dependencies: ["CSystemd", logging], swiftSettings: strict),
        .target(name: "JosevContract", dependencies: ["JSONSchema"], swiftSettings: strict),
        .target(name: "Station", dependencies: ["JosevContract"], swiftSettings: strict),
        // Modbus TCP: framing, server and client (SwiftNIO), the Alfen-compatible register map.
        .target(name: "Modbus", dependencies: ["Locking", nioCore, nioPosix, logging], swiftSettings: strict),
        // Crash-safe persistence (SQLite C API): charging sessions, settings, availability.
        .target(name: "Store", dependencies: ["CSQLite", "Locking"], swiftSettings: strict),
        // Fuzz entry points (one function per target), shared by the libFuzzer builds of `make fuzz`
        // and the corpus regression tests.
        .target(name: "FuzzTargets", dependencies: ["JSONSchema", "JosevContract", "Modbus"], swiftSettings: strict),
        // The phyVERSO safety-MCU link (EVerest's phyverso.proto): protobuf, CRC-32, COBS framing (pure).
        .target(name: "PhyVerso", swiftSettings: strict),
        // A tty opened with termios, read on a thread of its own.
        .target(name: "SerialLine", dependencies: ["Locking"], swiftSettings: strict),
        // gridbox-sim's load management: sharing a site limit among connectors by priority (pure).
        .target(name: "LoadManagement", swiftSettings: strict),
        // The back office reaching the station: firmware updates and log uploads (libcurl,
        // OpenSSL signatures, the journal, zlib).
        .target(
            name: "BackOffice",
            dependencies: ["CCurl", "CCrypto", "CZlib", "CSystemd", "JosevContract", "Locking", logging],
            swiftSettings: strict
        ),
        .target(
            name: "Daemon",
            dependencies: [
                "JSONSchema", "YAML", "Mosquitto", "Systemd", "JosevContract", "Station", "Modbus", "Store", "BackOffice",
                logging, unixSignals, serviceLifecycle,
            ],
            swiftSettings: strict
        ),

        // Executables.
        .executableTarget(name: "cs-companiond", dependencies: ["Daemon", argumentParser], swiftSettings: strict),
        .executableTarget(name: "cs-companion", dependencies: ["Daemon", "JosevContract", "Store", argumentParser], swiftSettings: strict),
        .executableTarget(
            name: "josev-sim",
            dependencies: ["Mosquitto", "JosevContract", "JSONSchema", argumentParser],
            swiftSettings: strict
        ),

        .executableTarget(
            name: "gridbox-sim",
            dependencies: ["Modbus", "LoadManagement", argumentParser, flyingFox, logging],
            swiftSettings: strict
        ),

        .executableTarget(
            name: "board-sim", dependencies: ["PhyVerso", "SerialLine", "Locking", argumentParser], swiftSettings: strict),

        // Test helpers: real brokers on free loopback ports, throwaway CAs, processes, temp dirs.
        // `make bench` only: the validator alone (bench/validator); not part of any shipped binary.
        .executableTarget(
            name: "bench-validator", dependencies: ["JSONSchema", "JosevContract"], path: "bench/validator", swiftSettings: strict),
        .target(name: "TestSupport", dependencies: ["JSONSchema", "Locking"], swiftSettings: strict),

        // Tests.
        .testTarget(name: "JSONSchemaTests", dependencies: ["JSONSchema"], swiftSettings: strict),
        .testTarget(name: "YAMLTests", dependencies: ["YAML", "JSONSchema"], swiftSettings: strict),
        .testTarget(name: "MosquittoTests", dependencies: ["Mosquitto", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "SystemdTests", dependencies: ["Systemd", "TestSupport", logging], swiftSettings: strict),
        .testTarget(
            name: "ContractTests",
            dependencies: ["JosevContract", "JSONSchema", "Station"],
            swiftSettings: strict
        ),
        .testTarget(name: "StationTests", dependencies: ["Station", "JosevContract"], swiftSettings: strict),
        .testTarget(name: "ModbusTests", dependencies: ["Modbus", "TestSupport", nioCore, nioPosix], swiftSettings: strict),
        .testTarget(name: "PhyVersoTests", dependencies: ["PhyVerso"], swiftSettings: strict),
        .testTarget(name: "BoardSimTests", dependencies: ["PhyVerso", "SerialLine", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "LoadManagementTests", dependencies: ["LoadManagement"], swiftSettings: strict),
        .testTarget(name: "StoreTests", dependencies: ["Store", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "BackOfficeTests", dependencies: ["BackOffice", "JosevContract", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzTargets"], swiftSettings: strict),
        .testTarget(
            name: "DaemonTests",
            dependencies: ["Daemon", "Mosquitto", "JosevContract", "JSONSchema", "TestSupport", "Modbus", logging],
            swiftSettings: strict
        ),
    ]
)
