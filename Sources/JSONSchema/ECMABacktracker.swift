// The backtracking matcher that runs an `ECMAProgram` over a subject's Unicode scalars.

/// What a search found: a match, none, or no answer because the step budget or the backtrack
/// stack's limit ran out.
enum ECMASearchResult: Sendable, Equatable {
    case match
    case noMatch
    case budgetExhausted
}

extension ECMAProgram {
    /// The steps (instructions run and backtracks) one search may take: 1 000 000 plus 100 per
    /// scalar of the subject, a few milliseconds. Patterns with nested quantifiers can need
    /// exponentially many steps on a hostile subject; past the budget the search gives up and
    /// the subject counts as not matching.
    static func stepBudget(forLength length: Int) -> Int { 1_000_000 + 100 * length }

    /// The entries the backtrack stack may hold (≈ 20 MB): a loop leaves one or two per iteration,
    /// so a loop of more than about 250 000 iterations (only a string near the 256 kB payload
    /// limit) gives up like a search past its budget.
    static let backtrackLimit = 500_000

    /// Whether the pattern matches anywhere in `subject` (an unanchored search).
    func search(_ subject: String, budget: Int? = nil) -> ECMASearchResult {
        var scalars: [UInt32] = []
        scalars.reserveCapacity(subject.utf8.count)
        for scalar in subject.unicodeScalars { scalars.append(scalar.value) }
        var matcher = ECMABacktracker(program: self, subject: scalars, budget: budget ?? Self.stepBudget(forLength: scalars.count))
        return matcher.search()
    }
}

private struct ECMABacktracker {
    /// An entry of the backtrack stack: a place to resume, or a register value to restore.
    enum Frame {
        case branch(pc: Int, position: Int)
        case slot(Int, Int)
        case counter(Int, count: Int, start: Int)
        /// A greedy run may give back scalars down to `low`; it last stood at `position`.
        case runBack(pc: Int, low: Int, position: Int)
        /// A lazy run may take more scalars of `set` up to `high`; it last stood at `position`.
        case runForward(pc: Int, set: Int, high: Int, position: Int)
    }

    let program: ECMAProgram
    let subject: [UInt32]
    var stepsLeft: Int
    var exhausted = false
    var slots: [Int]
    var counts: [Int]
    var starts: [Int]
    var stack: [Frame] = []

    init(program: ECMAProgram, subject: [UInt32], budget: Int) {
        self.program = program
        self.subject = subject
        stepsLeft = budget
        slots = Array(repeating: -1, count: program.slotCount)
        counts = Array(repeating: 0, count: program.counterCount)
        starts = Array(repeating: 0, count: program.counterCount)
    }

    mutating func search() -> ECMASearchResult {
        let first: ECMAInstruction? = program.instructions.first
        var start = 0
        while start <= subject.count {
            // A program that starts with a scalar or a set cannot match where that fails.
            switch first {
            case .scalar(let value) where start < subject.count && subject[start] != value: break
            case .set(let set) where start < subject.count && !program.sets[set].contains(subject[start]): break
            default:
                if run(from: 0, at: start) != nil { return .match }
                if exhausted { return .budgetExhausted }
            }
            if program.anchoredAtStart { break }
            start += 1
        }
        return .noMatch
    }

    func isWordScalar(at position: Int) -> Bool {
        position >= 0 && position < subject.count && ECMAScalarSet.word.contains(subject[position])
    }

    /// Runs the program from `pc` at `position` until a `succeed`; returns the end position, or
    /// nil when no way matches (the registers are then as they were). On success the frames it
    /// pushed stay on the stack for the caller to keep or drop.
    mutating func run(from startPC: Int, at startPosition: Int) -> Int? {
        let base = stack.count
        var pc = startPC
        var position = startPosition
        let instructions = program.instructions
        while true {
            stepsLeft -= 1
            if stepsLeft < 0 || stack.count > ECMAProgram.backtrackLimit {
                exhausted = true
                return nil
            }
            var ok = true
            switch instructions[pc] {
            case .scalar(let value):
                if position < subject.count && subject[position] == value {
                    position += 1
                    pc += 1
                } else {
                    ok = false
                }
            case .set(let set):
                if position < subject.count && program.sets[set].contains(subject[position]) {
                    position += 1
                    pc += 1
                } else {
                    ok = false
                }
            case .split(let preferred, let other):
                stack.append(.branch(pc: other, position: position))
                pc = preferred
            case .jump(let target):
                pc = target
            case .save(let slot):
                stack.append(.slot(slot, slots[slot]))
                slots[slot] = position
                pc += 1
            case .clearCaptures(let first, let last):
                for slot in (2 * first)..<(2 * last + 2) where slots[slot] != -1 {
                    stack.append(.slot(slot, slots[slot]))
                    slots[slot] = -1
                }
                pc += 1
            case .assertStart:
                ok = position == 0
                pc += 1
            case .assertEnd:
                ok = position == subject.count
                pc += 1
            case .wordBoundary(let negated):
                ok = (isWordScalar(at: position - 1) != isWordScalar(at: position)) != negated
                pc += 1
            case .backreference(let group):
                ok = matchBackreference(group, at: &position)
                pc += 1
            case .lookahead(let negative, let next):
                let saved = stack.count
                let matched = run(from: pc + 1, at: position) != nil
                if exhausted { return nil }
                if matched && negative {
                    unwind(to: saved)  // undo what it recorded, then fail
                } else if matched {
                    keepOnlyRestores(above: saved)
                }
                ok = matched != negative
                pc = next
            case .atomic(let next):
                let saved = stack.count
                if let end = run(from: pc + 1, at: position) {
                    keepOnlyRestores(above: saved)
                    position = end
                    pc = next
                } else {
                    if exhausted { return nil }
                    ok = false
                }
            case .loopInit(let counter):
                stack.append(.counter(counter, count: counts[counter], start: starts[counter]))
                counts[counter] = 0
                pc += 1
            case .loopHead(let counter, let min, let max, let greedy, let exit):
                let count = counts[counter]
                if count < min {
                    pc += 1
                } else if let max, count >= max {
                    pc = exit
                } else if greedy {
                    stack.append(.branch(pc: exit, position: position))
                    pc += 1
                } else {
                    stack.append(.branch(pc: pc + 1, position: position))
                    pc = exit
                }
            case .loopEnter(let counter):
                stack.append(.counter(counter, count: counts[counter], start: starts[counter]))
                starts[counter] = position
                pc += 1
            case .loopTail(let counter, let min, let bounded, let checksEmpty, let head):
                if checksEmpty && counts[counter] >= min && position == starts[counter] {
                    ok = false
                } else if !bounded && counts[counter] >= min {
                    pc = head  // past the minimum of an unbounded loop the count no longer matters
                } else {
                    stack.append(.counter(counter, count: counts[counter], start: starts[counter]))
                    counts[counter] += 1
                    pc = head
                }
            case .run(let set, let min, let max, let greedy):
                let limit = max.map { Swift.min(subject.count, position + $0) } ?? subject.count
                let members = program.sets[set]
                if greedy {
                    var end = position
                    while end < limit && members.contains(subject[end]) { end += 1 }
                    stepsLeft -= end - position
                    if end - position < min {
                        ok = false
                    } else {
                        if end > position + min { stack.append(.runBack(pc: pc + 1, low: position + min, position: end)) }
                        position = end
                        pc += 1
                    }
                } else {
                    var end = position
                    while end < position + min && end < subject.count && members.contains(subject[end]) { end += 1 }
                    if end < position + min {
                        ok = false
                    } else {
                        let high = max.map { position + $0 } ?? Int.max
                        if end < high { stack.append(.runForward(pc: pc + 1, set: set, high: high, position: end)) }
                        position = end
                        pc += 1
                    }
                }
            case .succeed:
                return position
            }
            if !ok {
                guard let resume = backtrack(to: base) else { return nil }
                (pc, position) = resume
            }
        }
    }

    /// Pops frames down to `base`, restoring registers, until one gives a place to resume.
    mutating func backtrack(to base: Int) -> (Int, Int)? {
        while stack.count > base {
            stepsLeft -= 1
            switch stack.removeLast() {
            case .branch(let pc, let position):
                return (pc, position)
            case .slot(let slot, let value):
                slots[slot] = value
            case .counter(let counter, let count, let start):
                counts[counter] = count
                starts[counter] = start
            case .runBack(let pc, let low, let position):
                let back = position - 1
                if back > low { stack.append(.runBack(pc: pc, low: low, position: back)) }
                return (pc, back)
            case .runForward(let pc, let set, let high, let position):
                guard position < subject.count, program.sets[set].contains(subject[position]) else { continue }
                if position + 1 < high { stack.append(.runForward(pc: pc, set: set, high: high, position: position + 1)) }
                return (pc, position + 1)
            }
        }
        return nil
    }

    /// Pops frames down to `base`, restoring registers, resuming nowhere.
    mutating func unwind(to base: Int) {
        while stack.count > base {
            switch stack.removeLast() {
            case .slot(let slot, let value): slots[slot] = value
            case .counter(let counter, let count, let start):
                counts[counter] = count
                starts[counter] = start
            default: break
            }
        }
    }

    /// After a lookahead or atomic group matched: no backtracking into it, but what it recorded
    /// is still undone when the match backtracks past it.
    mutating func keepOnlyRestores(above base: Int) {
        var kept = base
        for i in base..<stack.count {
            switch stack[i] {
            case .slot, .counter:
                stack[kept] = stack[i]
                kept += 1
            default: break
            }
        }
        stack.removeLast(stack.count - kept)
    }

    /// A back reference matches what its group captured (nothing, if the group did not take part).
    func matchBackreference(_ group: Int, at position: inout Int) -> Bool {
        guard 2 * group + 1 < slots.count else { return true }
        let start = slots[2 * group]
        let end = slots[2 * group + 1]
        guard start >= 0, end >= start else { return true }
        let length = end - start
        guard position + length <= subject.count else { return false }
        for i in 0..<length where subject[start + i] != subject[position + i] { return false }
        position += length
        return true
    }
}
