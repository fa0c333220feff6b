// A parsed ECMA-262 pattern compiled into the instructions the backtracking matcher runs.

enum ECMAInstruction: Sendable {
    case scalar(UInt32)
    case set(Int)
    /// Continue at `preferred`; on failure, come back and continue at `other`.
    case split(preferred: Int, other: Int)
    case jump(Int)
    /// Record the position in a capture slot (group n: slots 2n and 2n + 1).
    case save(Int)
    /// Forget the captures of groups `first...last` (each iteration of a loop starts afresh).
    case clearCaptures(first: Int, last: Int)
    case assertStart, assertEnd
    case wordBoundary(negated: Bool)
    case backreference(Int)
    /// Run the instructions after this one up to their `succeed` at the current position without
    /// consuming; continue at `next`.
    case lookahead(negative: Bool, next: Int)
    /// Run the instructions after this one up to their `succeed`, keep the first way they match
    /// (no backtracking into them), continue at `next`. Possessive quantifiers.
    case atomic(next: Int)
    /// A loop over a general body: `loopInit` resets its counter, `loopHead` decides whether to
    /// iterate, `loopEnter` notes where the iteration started, `loopTail` counts it (and fails an
    /// iteration past the minimum that matched nothing, as ECMA-262 says). A body that cannot
    /// match the empty string has no `loopEnter`; an unbounded loop stops counting at its minimum.
    /// (So a long run of iterations leaves one backtrack entry each, not three.)
    case loopInit(counter: Int)
    case loopHead(counter: Int, min: Int, max: Int?, greedy: Bool, exit: Int)
    case loopEnter(counter: Int)
    case loopTail(counter: Int, min: Int, bounded: Bool, checksEmpty: Bool, head: Int)
    /// A repeated single set (`[a-z]+`, `\d{4}`, `.*?`): consumed in one step, given back one
    /// scalar at a time on backtracking.
    case run(set: Int, min: Int, max: Int?, greedy: Bool)
    case succeed
}

/// A compiled pattern: instructions, the sets they test, and the registers a match needs.
struct ECMAProgram: Sendable {
    var instructions: [ECMAInstruction] = []
    var sets: [ECMAScalarSet] = []
    var slotCount = 0
    var counterCount = 0
    /// Every match starts at the subject's start (`^…`): the search tries only position 0.
    var anchoredAtStart = false

    init(_ pattern: ECMAPattern, source: String) throws(RegexTranslationError) {
        var compiler = ECMACompiler(pattern: pattern, source: source)
        compiler.capturesNeeded = ECMACompiler.hasBackreference(pattern.root)
        try compiler.emit(pattern.root)
        compiler.program.instructions.append(.succeed)
        compiler.program.slotCount = compiler.capturesNeeded ? 2 * (pattern.captureCount + 1) : 0
        compiler.program.anchoredAtStart = ECMACompiler.isAnchoredAtStart(pattern.root)
        self = compiler.program
    }

    fileprivate init() {}
}

private struct ECMACompiler {
    let pattern: ECMAPattern
    let source: String
    var program = ECMAProgram()
    /// Capture positions are only recorded when a back reference can read them.
    var capturesNeeded = false

    init(pattern: ECMAPattern, source: String) {
        self.pattern = pattern
        self.source = source
    }

    var here: Int { program.instructions.count }

    mutating func append(_ instruction: ECMAInstruction) {
        program.instructions.append(instruction)
    }

    mutating func addSet(_ set: ECMAScalarSet) -> Int {
        program.sets.append(set)
        return program.sets.count - 1
    }

    mutating func emit(_ node: ECMANode) throws(RegexTranslationError) {
        switch node {
        case .empty: break
        case .scalar(let value): append(.scalar(value))
        case .set(let set): append(.set(addSet(set)))
        case .sequence(let nodes):
            for node in nodes { try emit(node) }
        case .alternation(let alternatives):
            var jumpsToEnd: [Int] = []
            for (i, alternative) in alternatives.enumerated() {
                if i == alternatives.count - 1 {
                    try emit(alternative)
                } else {
                    let split = here
                    append(.split(preferred: split + 1, other: 0))
                    try emit(alternative)
                    jumpsToEnd.append(here)
                    append(.jump(0))
                    program.instructions[split] = .split(preferred: split + 1, other: here)
                }
            }
            for jump in jumpsToEnd { program.instructions[jump] = .jump(here) }
        case .group(let inner, let capture):
            if let capture, capturesNeeded {
                append(.save(2 * capture))
                try emit(inner)
                append(.save(2 * capture + 1))
            } else {
                try emit(inner)
            }
        case .lookahead(let inner, let negative):
            let start = here
            append(.lookahead(negative: negative, next: 0))
            try emit(inner)
            append(.succeed)
            program.instructions[start] = .lookahead(negative: negative, next: here)
        case .lookbehind:
            throw RegexTranslationError(message: "invalid regular expression '\(source)': lookbehind is not supported")
        case .repetition(let inner, let min, let max, let mode):
            try emitRepetition(inner, min: min, max: max, mode: mode)
        case .start: append(.assertStart)
        case .end: append(.assertEnd)
        case .wordBoundary(let negated): append(.wordBoundary(negated: negated))
        case .backreference(let number): append(.backreference(number))
        case .namedBackreference(let name): append(.backreference(pattern.groupNames[name] ?? 0))
        }
    }

    mutating func emitRepetition(_ inner: ECMANode, min: Int, max: Int?, mode: ECMAQuantifierMode) throws(RegexTranslationError) {
        if max == 0 { return }
        if mode == .possessive {
            let start = here
            append(.atomic(next: 0))
            try emitRepetition(inner, min: min, max: max, mode: .greedy)
            append(.succeed)
            program.instructions[start] = .atomic(next: here)
            return
        }
        let greedy = mode == .greedy
        switch inner {
        case .scalar(let value):
            var set = ECMAScalarSet()
            set.ranges = [value...value]
            append(.run(set: addSet(set.finished()), min: min, max: max, greedy: greedy))
            return
        case .set(let set):
            append(.run(set: addSet(set), min: min, max: max, greedy: greedy))
            return
        default: break
        }
        let counter = program.counterCount
        program.counterCount += 1
        append(.loopInit(counter: counter))
        let head = here
        append(.loopHead(counter: counter, min: min, max: max, greedy: greedy, exit: 0))
        let canBeEmpty = Self.canMatchEmpty(inner)
        if canBeEmpty { append(.loopEnter(counter: counter)) }
        if capturesNeeded, let (first, last) = Self.captureRange(inner) {
            append(.clearCaptures(first: first, last: last))
        }
        try emit(inner)
        append(.loopTail(counter: counter, min: min, bounded: max != nil, checksEmpty: canBeEmpty, head: head))
        program.instructions[head] = .loopHead(counter: counter, min: min, max: max, greedy: greedy, exit: here)
    }

    /// The lowest and highest group number inside a node.
    static func captureRange(_ node: ECMANode) -> (Int, Int)? {
        func merge(_ a: (Int, Int)?, _ b: (Int, Int)?) -> (Int, Int)? {
            guard let a else { return b }
            guard let b else { return a }
            return (Swift.min(a.0, b.0), Swift.max(a.1, b.1))
        }
        switch node {
        case .sequence(let nodes), .alternation(let nodes):
            return nodes.reduce(nil) { merge($0, captureRange($1)) }
        case .group(let inner, let capture):
            return merge(capture.map { ($0, $0) }, captureRange(inner))
        case .lookahead(let inner, _), .lookbehind(let inner, _), .repetition(let inner, _, _, _):
            return captureRange(inner)
        default: return nil
        }
    }

    /// Whether the node may match the empty string (conservatively: assertions and back
    /// references count as possibly empty).
    static func canMatchEmpty(_ node: ECMANode) -> Bool {
        switch node {
        case .scalar, .set: false
        case .sequence(let nodes): nodes.allSatisfy(canMatchEmpty)
        case .alternation(let nodes): nodes.contains(where: canMatchEmpty)
        case .group(let inner, _): canMatchEmpty(inner)
        case .repetition(let inner, let min, _, _): min == 0 || canMatchEmpty(inner)
        default: true
        }
    }

    static func hasBackreference(_ node: ECMANode) -> Bool {
        switch node {
        case .backreference, .namedBackreference: true
        case .sequence(let nodes), .alternation(let nodes): nodes.contains(where: hasBackreference)
        case .group(let inner, _), .lookahead(let inner, _), .lookbehind(let inner, _), .repetition(let inner, _, _, _):
            hasBackreference(inner)
        default: false
        }
    }

    /// Whether every way of matching the node starts with `^`.
    static func isAnchoredAtStart(_ node: ECMANode) -> Bool {
        switch node {
        case .start: true
        case .sequence(let nodes): nodes.first.map(isAnchoredAtStart) ?? false
        case .alternation(let nodes): nodes.allSatisfy(isAnchoredAtStart)
        case .group(let inner, _): isAnchoredAtStart(inner)
        default: false
        }
    }
}
