import Basics

// The fast read path: FC03 reads answered on the server's poll thread from a register image, without a
// task hop and without an actor call. The image holds every readable block of every unit in wire
// order (big-endian bytes), so an answer is one bounds check and one memcpy into the outbound
// bytes. Images are built elsewhere (`AlfenRegisterMap.refreshSnapshot()`) and swapped whole
// under a lock: a read sees the old image or the new one, never a mix.

/// What a synchronous read answer produced.
public enum ModbusFastReadResult: Sendable, Hashable {
    /// The response PDU (function code, byte count, registers) was appended to the buffer.
    case answered
    /// Answer with this exception; nothing was appended.
    case exception(ModbusExceptionCode)
    /// Cannot answer now (no image yet, or an image older than allowed); nothing was appended.
    /// The server asks the request handler instead.
    case unavailable
}

/// Answers FC03 reads synchronously on the server's poll thread. Must not block and must give the same
/// answers (registers and exceptions) as the handler it speeds up.
public protocol ModbusFastReader: Sendable {
    func answerRead(unit: UInt8, address: UInt16, count: UInt16, into buffer: inout [UInt8]) -> ModbusFastReadResult
}

/// The readable blocks of every unit, as a read answers them.
public struct ModbusRegisterImage: Sendable, Hashable {
    /// One block: registers `first ..< first + count`, stored as big-endian bytes. Empty bytes
    /// mark a block its producer could not fill to its length (reads answer 04).
    struct Block: Sendable, Hashable {
        var first: Int
        var count: Int
        var bytes: [UInt8]
    }

    /// Indexed by unit id (256 entries); nil: unknown unit (0B).
    private var units: [[Block]?] = Array(repeating: nil, count: 256)

    public init() {}

    /// Makes `unit` known with these blocks (`range` is the block's address range; `registers`
    /// must have its length, else reads of the block answer 04 Server Device Failure).
    public mutating func setUnit(_ unit: UInt8, blocks: [(range: ClosedRange<Int>, registers: [UInt16])]) {
        units[Int(unit)] = blocks.map { range, registers in
            guard registers.count == range.count else { return Block(first: range.lowerBound, count: range.count, bytes: []) }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(registers.count * 2)
            for register in registers {
                bytes.append(UInt8(register >> 8))
                bytes.append(UInt8(register & 0xFF))
            }
            return Block(first: range.lowerBound, count: range.count, bytes: bytes)
        }
    }

    /// The block a read of `count` registers at `address` of `unit` lies in, and its offset; or
    /// the exception PROFILE §3 asks for: 0B unknown unit, 02 not completely inside one block,
    /// 04 a block that could not be filled.
    private enum Location {
        case block(Block, offset: Int)
        case exception(ModbusExceptionCode)
    }

    private func locate(unit: UInt8, address: UInt16, count: UInt16) -> Location {
        guard let blocks = units[Int(unit)] else { return .exception(.gatewayTargetDeviceFailedToRespond) }
        let first = Int(address)
        let last = first + Int(count) - 1
        guard count >= 1, let block = blocks.first(where: { $0.first <= first && last < $0.first + $0.count }) else {
            return .exception(.illegalDataAddress)
        }
        guard !block.bytes.isEmpty else { return .exception(.serverDeviceFailure) }
        return .block(block, offset: first - block.first)
    }

    /// The answer to a read, as the request handler returns it.
    public func response(unit: UInt8, address: UInt16, count: UInt16) -> ModbusResponse {
        switch locate(unit: unit, address: address, count: count) {
        case .exception(let code):
            return .exception(code)
        case .block(let block, let offset):
            var registers: [UInt16] = []
            registers.reserveCapacity(Int(count))
            for index in offset..<offset + Int(count) {
                let high = UInt16(block.bytes[2 * index])
                registers.append(high << 8 | UInt16(block.bytes[2 * index + 1]))
            }
            return .readHoldingRegisters(registers)
        }
    }

    /// Appends the FC03 response PDU for the read to `buffer`, or returns the exception (nothing
    /// appended).
    func encodeRead(unit: UInt8, address: UInt16, count: UInt16, into buffer: inout [UInt8]) -> ModbusFastReadResult {
        switch locate(unit: unit, address: address, count: count) {
        case .exception(let code):
            return .exception(code)
        case .block(let block, let offset):
            buffer.append(ModbusFunctionCode.readHoldingRegisters.rawValue)
            buffer.append(UInt8(truncatingIfNeeded: Int(count) * 2))
            buffer.append(contentsOf: block.bytes[2 * offset..<2 * (offset + Int(count))])
            return .answered
        }
    }
}

/// The current register image, swapped atomically, for `ModbusServer`'s fast read path.
///
/// Images carry a generation (when the data for it began to be gathered): an image older than the
/// installed one is dropped, so a slow refresh that finishes late never undoes a newer one. An
/// image older than `maxAge` is not served (`.unavailable`): the server then asks the handler,
/// which refreshes, so reads are never staler than `maxAge` even if the periodic refresh stops.
public final class ModbusRegisterSnapshot: ModbusFastReader {
    private struct Installed {
        var image: ModbusRegisterImage?
        var generation: UInt64 = 0
        var taken: ContinuousClock.Instant = .now
    }

    public let maxAge: Duration
    private let installed = Locked(Installed())

    public init(maxAge: Duration = .milliseconds(500)) {
        self.maxAge = maxAge
    }

    /// Installs `image`, whose data was gathered from `taken` on, unless an image of a later
    /// `generation` is installed already. Returns whether it was installed.
    @discardableResult
    public func install(_ image: ModbusRegisterImage, generation: UInt64, taken: ContinuousClock.Instant) -> Bool {
        installed.withLock { installed in
            guard generation > installed.generation || installed.image == nil else { return false }
            installed = Installed(image: image, generation: generation, taken: taken)
            return true
        }
    }

    /// The installed image (nil before the first `install`).
    public var image: ModbusRegisterImage? { installed.withLock { $0.image } }

    /// The generation of the installed image (0 before the first `install`).
    public var generation: UInt64 { installed.withLock { $0.generation } }

    public func answerRead(unit: UInt8, address: UInt16, count: UInt16, into buffer: inout [UInt8]) -> ModbusFastReadResult {
        let now = ContinuousClock.now
        return installed.withLock { installed in
            guard let image = installed.image, installed.taken.duration(to: now) <= maxAge else { return .unavailable }
            return image.encodeRead(unit: unit, address: address, count: count, into: &buffer)
        }
    }
}
