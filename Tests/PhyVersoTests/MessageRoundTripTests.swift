import Testing

@testable import PhyVerso

@Suite("phyverso.proto messages")
struct MessageRoundTripTests {
    static let config = BootConfigResponse(
        hwRevision: .revB,
        chargePorts: [
            ChargePortConfig(type: .ac, feedbackActiveLow: true, feedbackPull: .up, lock: .hella, hasSocket: true),
            ChargePortConfig(type: .dc, feedbackActiveLow: false, feedbackPull: .down, lock: MotorLockType.none, hasSocket: false),
        ])

    static let hostMessages: [EverestToMcu] = [
        EverestToMcu(.keepAlive(KeepAlive(timeStamp: 12345, hwType: 1, hwRevision: 2, swVersion: "n/a")), connector: 0),
        EverestToMcu(.keepAlive(KeepAlive())),
        EverestToMcu(.firmwareUpdate(true)),
        EverestToMcu(.connectorLock(true), connector: 1),
        EverestToMcu(.connectorLock(false), connector: 2),
        EverestToMcu(.pwmDutyCycle(5333), connector: 1),
        EverestToMcu(.pwmDutyCycle(0), connector: 1),
        EverestToMcu(.pwmDutyCycle(10000), connector: 2),
        EverestToMcu(.setCoilStateRequest(CoilState(coilType: .ac, closed: true)), connector: 1),
        EverestToMcu(.setCoilStateRequest(CoilState(coilType: .dc3, closed: false)), connector: 2),
        EverestToMcu(.reset(true)),
        EverestToMcu(.configResponse(config)),
        EverestToMcu(.configResponse(BootConfigResponse())),
        EverestToMcu(.setFanState(FanState(fanID: 1, enabled: true, duty: 750, rpm: 0))),
        EverestToMcu(.rcdCommand(RcdCommand(test: true, reset: false)), connector: 1),
        EverestToMcu(.rcdCommand(RcdCommand(test: false, reset: true)), connector: 2),
        EverestToMcu(),
    ]

    static var allFlags: ErrorFlags {
        var flags = ErrorFlags()
        flags.diodeFault = true
        flags.rcdSelftestFailed = true
        flags.rcdTriggered = true
        flags.ventilationNotAvailable = true
        flags.connectorLockFailed = true
        flags.cpSignalFault = true
        flags.heartbeatTimeout = true
        flags.coilFeedbackDiverges = true
        flags.ppSignalFault = true
        return flags
    }

    static let mcuMessages: [McuToEverest] =
        [
            McuToEverest(.keepAlive(KeepAlive(timeStamp: 99, hwType: 3, hwRevision: 1, swVersion: "phyVERSO 1.2 ü", configurationDone: true))),
            McuToEverest(.reset(.user)),
            McuToEverest(.reset(.watchdog)),
            McuToEverest(.setCoilStateResponse(CoilState(coilType: .ac, closed: true)), connector: 1),
            McuToEverest(.setCoilStateResponse(CoilState(coilType: .ac, closed: false)), connector: 2),
            McuToEverest(.errorFlags(allFlags), connector: 1),
            McuToEverest(.errorFlags(ErrorFlags()), connector: 2),
            McuToEverest(.telemetry(Telemetry(cpVoltageHigh: 1190, cpVoltageLow: 0)), connector: 1),
            McuToEverest(.fanState(FanState(fanID: 2, enabled: true, duty: 1000, rpm: 4200))),
            McuToEverest(.configRequest(BootConfigRequest())),
        ]
        + CpState.allCases.map { McuToEverest(.cpState($0), connector: 1) }
        + PpState.allCases.map { McuToEverest(.ppState($0), connector: 2) }
        + LockState.allCases.map { McuToEverest(.lockState($0), connector: 1) }

    @Test("every host message decodes to itself", arguments: hostMessages)
    func hostRoundTrip(_ message: EverestToMcu) throws {
        #expect(try EverestToMcu(serialized: message.serialized()) == message)
    }

    @Test("every MCU message decodes to itself", arguments: mcuMessages)
    func mcuRoundTrip(_ message: McuToEverest) throws {
        #expect(try McuToEverest(serialized: message.serialized()) == message)
    }

    @Test("every enum value survives a round trip")
    func enumValues() throws {
        for type in CoilType.allCases {
            let message = EverestToMcu(.setCoilStateRequest(CoilState(coilType: type, closed: true)), connector: 1)
            #expect(try EverestToMcu(serialized: message.serialized()) == message)
        }
        for type in ChargePortType.allCases {
            for pull in GpioPull.allCases {
                for lock in MotorLockType.allCases {
                    let port = ChargePortConfig(type: type, feedbackActiveLow: false, feedbackPull: pull, lock: lock, hasSocket: true)
                    let message = EverestToMcu(.configResponse(BootConfigResponse(hwRevision: .revA, chargePorts: [port])))
                    #expect(try EverestToMcu(serialized: message.serialized()) == message)
                }
            }
        }
        for revision in HardwareRevision.allCases {
            let message = EverestToMcu(.configResponse(BootConfigResponse(hwRevision: revision, chargePorts: [])))
            #expect(try EverestToMcu(serialized: message.serialized()) == message)
        }
    }

    // Each byte string below is also what `protoc --encode` (3.21.12) writes for the same message.
    @Test("known encodings: field numbers, varints and oneof members at their default value")
    func knownBytes() {
        // pwm_duty_cycle = 4 (5333 = 0x14D5 → D5 29), connector = 7.
        #expect(EverestToMcu(.pwmDutyCycle(5333), connector: 1).serialized() == [0x20, 0xD5, 0x29, 0x38, 0x01])
        // A oneof member is written even at its default value: PWM 0 is state F, not "nothing".
        #expect(EverestToMcu(.pwmDutyCycle(0)).serialized() == [0x20, 0x00])
        #expect(EverestToMcu(.connectorLock(false), connector: 2).serialized() == [0x18, 0x00, 0x38, 0x02])
        #expect(EverestToMcu(.keepAlive(KeepAlive())).serialized() == [0x0A, 0x00])
        #expect(McuToEverest(.cpState(.a), connector: 1).serialized() == [0x18, 0x00, 0x30, 0x01])
        #expect(McuToEverest(.configRequest(BootConfigRequest())).serialized() == [0x5A, 0x00])
        #expect(
            McuToEverest(.setCoilStateResponse(CoilState(coilType: .ac, closed: true)), connector: 1).serialized()
                == [0x22, 0x04, 0x08, 0x01, 0x10, 0x01, 0x30, 0x01])
        // MOTOR_LOCK_NONE = -1: an int32 enum is sign-extended to a ten-byte varint.
        #expect(MotorLockConfig(MotorLockType.none).serialized() == [0x08] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
        // Fields in number order: connector (6) before lock_state (10).
        #expect(McuToEverest(.lockState(.locked), connector: 2).serialized() == [0x30, 0x02, 0x50, 0x02])
        #expect(EverestToMcu(.rcdCommand(RcdCommand(test: true, reset: false)), connector: 1).serialized() == [0x38, 0x01, 0x52, 0x02, 0x08, 0x01])
        // Repeated submessages: one field 6 per port, even an empty one.
        #expect(BootConfigResponse(hwRevision: .unknown, chargePorts: [ChargePortConfig(), ChargePortConfig()]).serialized() == [0x32, 0x00, 0x32, 0x00])
    }

    @Test("a negative connector number survives as int32")
    func negativeInt32() throws {
        let message = EverestToMcu(.reset(false), connector: -1)
        #expect(message.serialized().count == 2 + 11)
        #expect(try EverestToMcu(serialized: message.serialized()) == message)
    }

    @Test("the last value of a oneof wins, as in protobuf")
    func lastOneofMemberWins() throws {
        let bytes = EverestToMcu(.pwmDutyCycle(1000)).serialized() + EverestToMcu(.connectorLock(true), connector: 2).serialized()
        #expect(try EverestToMcu(serialized: bytes) == EverestToMcu(.connectorLock(true), connector: 2))
    }
}

@Suite("interoperability with protoc")
struct ProtocVectorTests {
    private static func hex(_ text: String) -> [UInt8] {
        stride(from: 0, to: text.count, by: 2).map { offset in
            let start = text.index(text.startIndex, offsetBy: offset)
            return UInt8(text[start..<text.index(start, offsetBy: 2)], radix: 16) ?? 0
        }
    }

    // Produced once with `protoc --encode=<Message> phyverso.proto` (protoc 3.21.12, Debian 12) from
    // the published .proto and the text-format message in the comment.
    @Test("our encoder writes the bytes protoc writes, and decodes them back")
    func protocBytes() throws {
        // config_response { hw_rev: HW_REV_B chargeport_config { type: AC feedback_active_low: true
        // feedback_pull: UP lock { type: MOTOR_LOCK_HELLA } has_socket: true } chargeport_config
        // { type: DC feedback_pull: DOWN lock { type: MOTOR_LOCK_NONE } } }
        let config = EverestToMcu(.configResponse(MessageRoundTripTests.config))
        let configBytes = Self.hex("42230802320c080110011801220208012801321108021802220b08ffffffffffffffffff01")
        #expect(config.serialized() == configBytes)
        #expect(try EverestToMcu(serialized: configBytes) == config)

        // error_flags { all nine true } connector: 1
        let flags = McuToEverest(.errorFlags(MessageRoundTripTests.allFlags), connector: 1)
        let flagBytes = Self.hex("2a120801100118012001280130013801400148013001")
        #expect(flags.serialized() == flagBytes)
        #expect(try McuToEverest(serialized: flagBytes) == flags)

        // keep_alive { time_stamp: 99 hw_type: 3 hw_revision: 1 sw_version_string: "phyVERSO 1.2"
        // configuration_done: true }
        let alive = McuToEverest(.keepAlive(KeepAlive(timeStamp: 99, hwType: 3, hwRevision: 1, swVersion: "phyVERSO 1.2", configurationDone: true)))
        let aliveBytes = Self.hex("0a16086310031801320c706879564552534f20312e323801")
        #expect(alive.serialized() == aliveBytes)
        #expect(try McuToEverest(serialized: aliveBytes) == alive)
    }
}
