import PhyVerso

/// The simulated safety MCU: the state of its charge ports and the rules a real one enforces.
/// Pure and clocked from outside (`now` is the time since start), so one loop drives it: it takes
/// the host's messages, EV and fault commands and ticks, and returns what to send and what to log.
struct SafetyMCU {
    struct Options {
        var connectors = 1
        /// Time the contactor (and the lock motor) takes to follow a command.
        var actuationDelay: Duration = .milliseconds(100)
        var keepAliveInterval: Duration = .seconds(1)
        /// Host keep-alives missing this long: PWM to F, contactor open.
        var hostTimeout: Duration = .seconds(5)
        var faults = FaultSet()
    }

    /// What the MCU does in reply to an input.
    struct Effects {
        var messages: [McuToEverest] = []
        var log: [String] = []

        mutating func send(_ payload: McuToEverest.Payload, connector: Int32 = 0) {
            messages.append(McuToEverest(payload, connector: connector))
        }
    }

    /// The simulated identity, reported in every keep-alive.
    static let swVersion = "board-sim 1.0 (phyverso.proto a68b4b2)"
    static let unknownSwVersion = "board-sim 9.0 (unknown protocol)"
    static let hwRevision: UInt32 = 1
    /// A hardware revision `ConfigHardwareRevision` does not define (the unknown-version fault).
    static let unknownHwRevision: UInt32 = 7
    /// A field number the published `BootConfigRequest` does not have (the unknown-version fault).
    static let unknownConfigRequestField: UInt32 = 15

    private(set) var options: Options
    private(set) var ports: [ChargePort]
    private(set) var configured = false
    private var nextKeepAlive: Duration = .zero
    private var nextConfigRequest: Duration = .zero
    private var lastHostKeepAlive: Duration?
    private var hostSilent = false

    init(options: Options) {
        self.options = options
        self.ports = (1...max(1, options.connectors)).map { ChargePort(number: Int32($0)) }
    }

    var faults: FaultSet { options.faults }

    // MARK: Inputs

    /// Power-on: the reset reason first, then the boot configuration request (until answered).
    mutating func start(now: Duration) -> Effects {
        var effects = Effects()
        effects.send(.reset(.user))
        effects.log.append("mcu: powered on, asking for the boot configuration")
        nextKeepAlive = now
        nextConfigRequest = now
        effects.merge(tick(now: now))
        return effects
    }

    mutating func receive(_ message: EverestToMcu, now: Duration) -> Effects {
        var effects = Effects()
        guard let payload = message.payload else {
            effects.log.append("host: message without payload ignored")
            return effects
        }
        let index = Int(message.connector) - 1
        switch payload {
        case .keepAlive:
            if lastHostKeepAlive == nil { effects.log.append("host: first keep-alive") }
            lastHostKeepAlive = now
            if hostSilent {
                hostSilent = false
                effects.log.append("host: keep-alive again, heartbeat timeout cleared (PWM stays F until the host sets it)")
                for i in ports.indices { effects.merge(ports[i].setHeartbeatTimeout(false)) }
            }
        case .configResponse(let response):
            configured = true
            effects.log.append("host: boot configuration \(describe(response))")
            effects.send(.keepAlive(keepAlive(now: now)))
            for port in ports {
                effects.send(.cpState(port.reportedCP), connector: port.number)
                effects.send(.ppState(port.pp), connector: port.number)
                effects.send(.lockState(port.lock), connector: port.number)
            }
        case .reset:
            effects.log.append("host: reset requested")
            self = SafetyMCU(options: options)
            effects.merge(start(now: now))
        case .firmwareUpdate:
            effects.log.append("host: firmware update requested (not simulated)")
        case .setFanState(let fan):
            effects.log.append("host: fan \(fan.fanID) \(fan.enabled ? "on" : "off") duty \(fan.duty)‰")
            effects.send(.fanState(fan))
        case .pwmDutyCycle(let duty):
            guard ports.indices.contains(index) else { return unknownConnector(message.connector, effects) }
            effects.merge(ports[index].setPWM(duty, now: now, options: options))
        case .setCoilStateRequest(let request):
            guard ports.indices.contains(index) else { return unknownConnector(message.connector, effects) }
            // No contactor for a host that has not shown it is alive (or has fallen silent).
            let hostAlive = lastHostKeepAlive != nil && !hostSilent
            effects.merge(ports[index].requestCoil(request, hostAlive: hostAlive, now: now, options: options))
        case .connectorLock(let lock):
            guard ports.indices.contains(index) else { return unknownConnector(message.connector, effects) }
            effects.merge(ports[index].requestLock(lock, now: now, options: options))
        case .rcdCommand(let command):
            guard ports.indices.contains(index) else { return unknownConnector(message.connector, effects) }
            effects.merge(ports[index].rcdCommand(command, options: options))
        }
        return effects
    }

    /// An EV or fault command from the script or stdin.
    mutating func apply(_ command: SimCommand, now: Duration) -> Effects {
        var effects = Effects()
        switch command {
        case .fault(let fault, let on):
            options.faults.set(fault, on)
            effects.log.append("sim: fault \(fault.rawValue) \(on ? "on" : "off")")
        case .ev(let action, let connector):
            let index = connector - 1
            guard ports.indices.contains(index) else {
                effects.log.append("sim: no connector \(connector)")
                return effects
            }
            effects.merge(ports[index].ev(action, now: now, options: options))
        }
        return effects
    }

    /// Time passes: keep-alives, configuration requests, the host-silence rule, actuators settling.
    mutating func tick(now: Duration) -> Effects {
        var effects = Effects()
        if now >= nextKeepAlive {
            nextKeepAlive = now + options.keepAliveInterval
            effects.send(.keepAlive(keepAlive(now: now)))
        }
        if !configured, now >= nextConfigRequest {
            nextConfigRequest = now + options.keepAliveInterval
            effects.send(.configRequest(BootConfigRequest()))
        }
        if let last = lastHostKeepAlive, !hostSilent, now - last >= options.hostTimeout {
            hostSilent = true
            effects.log.append("mcu: no host keep-alive for \(now - last), going to state F and opening the contactors")
            for i in ports.indices { effects.merge(ports[i].hostLost(now: now, options: options)) }
        }
        for i in ports.indices { effects.merge(ports[i].settle(now: now, options: options)) }
        return effects
    }

    // MARK: Helpers

    private func keepAlive(now: Duration) -> KeepAlive {
        let unknown = faults.contains(.unknownVersion)
        return KeepAlive(
            timeStamp: UInt32(truncatingIfNeeded: now.components.seconds * 1000 + now.components.attoseconds / 1_000_000_000_000_000),
            hwType: 0, hwRevision: unknown ? Self.unknownHwRevision : Self.hwRevision,
            swVersion: unknown ? Self.unknownSwVersion : Self.swVersion, configurationDone: configured)
    }

    private func unknownConnector(_ connector: Int32, _ effects: Effects) -> Effects {
        var effects = effects
        effects.log.append("host: command for unknown connector \(connector) ignored")
        return effects
    }

    private func describe(_ response: BootConfigResponse) -> String {
        let ports = response.chargePorts.enumerated().map { offset, port in
            "port \(offset + 1) \(port.type) feedback \(port.feedbackActiveLow ? "active-low" : "active-high") pull \(port.feedbackPull) lock \(port.lock.map { "\($0.type)" } ?? "-") socket \(port.hasSocket)"
        }
        return "hw rev \(response.hwRevision): " + (ports.isEmpty ? "no ports" : ports.joined(separator: "; "))
    }
}

extension SafetyMCU.Effects {
    mutating func merge(_ other: SafetyMCU.Effects) {
        messages += other.messages
        log += other.log
    }
}
