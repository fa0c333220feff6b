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
/// Modules off the message path (start-up, configuration, persistence, the back office, drivers
/// that poll at most every few hundred ms) are optimised for size in release builds.
let cold: [SwiftSetting] = strict + [.unsafeFlags(["-Osize"], .when(configuration: .release))]

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
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
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    ],
    targets: [
        // C libraries from Debian packages.
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CMalloc"),  // glibc's <malloc.h>: mallopt for the daemon's MemoryPolicy
        .systemLibrary(name: "CLinux"),  // eventfd, signalfd, thread names: what Glibc's module map lacks (shim.h)
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),  // headers only: loaded with dlopen (shim.h)
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CModbus", pkgConfig: "libmodbus", providers: [.apt(["libmodbus-dev"])]),

        // Libraries.
        // What several modules need once: civil time and ISO 8601 text, the wall clock and injected
        // clocks, UUIDs, POSIX files, the pthread-mutex lock (Sources/Basics/Basics.swift).
        .target(name: "Basics", dependencies: ["CLinux"], swiftSettings: strict),
        .target(name: "JSONSchema", swiftSettings: strict),
        // The daemon's Swift concurrency executor: every job on the main thread (MainLoopExecutor).
        .target(name: "MainLoop", swiftSettings: strict),
        .target(name: "YAML", dependencies: ["CYAML", "JSONSchema"], swiftSettings: cold),
        .target(name: "Mosquitto", dependencies: ["CMosquitto", "CLinux", "Basics"], swiftSettings: strict),
        .target(name: "Systemd", dependencies: ["CSystemd", logging], swiftSettings: strict),
        .target(name: "JosevContract", dependencies: ["Basics", "JSONSchema"], swiftSettings: strict),
        .target(name: "Station", dependencies: ["Basics", "JosevContract"], swiftSettings: strict),
        // Modbus TCP: framing, the server (on the "servers" poll thread of Basics, no SwiftNIO), a
        // blocking client for meters, the Alfen-compatible register map.
        .target(name: "Modbus", dependencies: ["Basics", logging], swiftSettings: strict),
        // The async Modbus TCP client on SwiftNIO: the simulators and tests only (the daemon links no NIO).
        .target(name: "ModbusNIOClient", dependencies: ["Modbus", nioCore, nioPosix], swiftSettings: strict),
        // Crash-safe persistence (SQLite C API): charging sessions, settings, availability.
        .target(name: "Store", dependencies: ["CSQLite", "Basics"], swiftSettings: cold),
        // Fuzz entry points (one function per target), shared by the libFuzzer builds of `make fuzz`
        // and the corpus regression tests.
        .target(name: "FuzzTargets", dependencies: ["Basics", "JSONSchema", "JosevContract", "Modbus"], swiftSettings: strict),
        // The phyVERSO safety-MCU link (EVerest's phyverso.proto): protobuf, CRC-32, COBS framing (pure).
        .target(name: "PhyVerso", swiftSettings: cold),
        // Energy meters over Modbus RTU (libmodbus, a thread per bus) and TCP: profiles, polling, quality.
        .target(name: "MeterDriver", dependencies: ["CModbus", "Basics", "JosevContract", "Station", logging], swiftSettings: cold),
        // A tty opened with termios, read on a thread of its own.
        .target(name: "SerialLine", dependencies: ["Basics"], swiftSettings: cold),
        // `hardware.driver: board`: StationHardware over the phyVERSO link to the safety MCU.
        .target(name: "BoardDriver", dependencies: ["Basics", "JosevContract", "Station", "PhyVerso", "SerialLine"], swiftSettings: cold),
        // gridbox-sim's load management: sharing a site limit among connectors by priority (pure).
        .target(name: "LoadManagement", swiftSettings: strict),
        // The back office reaching the station: firmware updates and log uploads (libcurl,
        // OpenSSL signatures, the journal, zlib).
        .target(
            name: "BackOffice",
            dependencies: ["CCurl", "CCrypto", "CZlib", "CSystemd", "Basics", "JosevContract", logging],
            swiftSettings: cold
        ),
        .target(
            name: "Daemon",
            dependencies: [
                "Basics", "JSONSchema", "YAML", "Mosquitto", "Systemd", "JosevContract", "Station", "Modbus", "Store", "BackOffice",
                "MeterDriver", "BoardDriver", "PhyVerso", "CMalloc", "CLinux", logging,
            ],
            swiftSettings: strict
        ),

        // Executables.
        // No exported dynamic symbols: SwiftPM links executables with --export-dynamic, which puts every
        // symbol in .dynsym/.dynstr (1.7 MB of the stripped daemon) for a binary nothing loads into.
        // Linked by lld with packed relative relocations (DT_RELR, glibc ≥ 2.36): the PIE's 1.2 MB of
        // .rela.dyn become 10 KB of .relr.dyn, and fewer pages are written at start.
        .executableTarget(
            name: "cs-companiond", dependencies: ["Daemon", "MainLoop"], swiftSettings: strict,
            linkerSettings: [.unsafeFlags(["-use-ld=lld", "-Xlinker", "--no-export-dynamic", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"])]),
        .executableTarget(name: "cs-companion", dependencies: ["Basics", "Daemon", "JosevContract", "Store", argumentParser], swiftSettings: strict),
        .executableTarget(
            name: "josev-sim",
            dependencies: ["Basics", "Mosquitto", "JosevContract", "JSONSchema", argumentParser],
            swiftSettings: strict
        ),

        .executableTarget(
            name: "gridbox-sim",
            dependencies: ["Basics", "Modbus", "ModbusNIOClient", "LoadManagement", argumentParser, flyingFox, logging],
            swiftSettings: strict
        ),

        .executableTarget(
            name: "board-sim", dependencies: ["PhyVerso", "SerialLine", "Basics", argumentParser], swiftSettings: strict),

        // Test helpers: real brokers on free loopback ports, throwaway CAs, processes, temp dirs.
        // `make bench` only: the validator alone (bench/validator); not part of any shipped binary.
        .executableTarget(
            name: "bench-validator", dependencies: ["Basics", "JSONSchema", "JosevContract"], path: "bench/validator", swiftSettings: strict),
        // The daemon harness (DaemonProcess, JosevTestClient, the notify socket) lives here too: the
        // end-to-end and simulator test targets share it.
        .target(name: "TestSupport", dependencies: ["Basics", "JSONSchema", "JosevContract", "Mosquitto"], swiftSettings: strict),

        // Tests.
        .testTarget(name: "JSONSchemaTests", dependencies: ["JSONSchema", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "MainLoopTests", dependencies: ["MainLoop"], swiftSettings: strict),
        .testTarget(name: "YAMLTests", dependencies: ["YAML", "JSONSchema"], swiftSettings: strict),
        .testTarget(name: "MosquittoTests", dependencies: ["Mosquitto", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "SystemdTests", dependencies: ["Systemd", "TestSupport", logging], swiftSettings: strict),
        .testTarget(
            name: "ContractTests",
            dependencies: ["JosevContract", "JSONSchema", "Station", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(name: "StationTests", dependencies: ["Station", "JosevContract"], swiftSettings: strict),
        .testTarget(name: "ModbusTests", dependencies: ["Modbus", "ModbusNIOClient", "Basics", "TestSupport", nioCore, nioPosix], swiftSettings: strict),
        .testTarget(name: "PhyVersoTests", dependencies: ["PhyVerso"], swiftSettings: strict),
        .testTarget(name: "MeterDriverTests", dependencies: ["MeterDriver", "Station", "JosevContract"], swiftSettings: strict),
        .testTarget(name: "BoardDriverTests", dependencies: ["BoardDriver", "PhyVerso", "Station"], swiftSettings: strict),
        .testTarget(name: "BoardSimTests", dependencies: ["PhyVerso", "SerialLine", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "LoadManagementTests", dependencies: ["LoadManagement"], swiftSettings: strict),
        .testTarget(name: "StoreTests", dependencies: ["Store", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "BackOfficeTests", dependencies: ["BackOffice", "JosevContract", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzTargets"], swiftSettings: strict),
        // The daemon's parts in process (router, caches, stores, configuration).
        .testTarget(
            name: "DaemonTests",
            dependencies: ["Daemon", "JosevContract", "JSONSchema", "TestSupport", logging],
            swiftSettings: strict
        ),
        // The built binaries as processes: cs-companiond with real brokers, sockets and files; cs-companion.
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["Daemon", "Mosquitto", "JosevContract", "JSONSchema", "TestSupport", "Modbus", "ModbusNIOClient", "Store"],
            swiftSettings: strict
        ),
        // josev-sim (load, session scenarios) against the real daemon.
        .testTarget(name: "JosevSimTests", dependencies: ["JosevContract", "JSONSchema", "Systemd", "TestSupport"], swiftSettings: strict),
        // gridbox-sim (load management over Modbus, its HTTP API) against the real daemon.
        .testTarget(name: "GridboxSimTests", dependencies: ["JosevContract", "JSONSchema", "TestSupport", "Modbus", "ModbusNIOClient"], swiftSettings: strict),
    ]
)
