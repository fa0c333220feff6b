// Finding and replacing text in strings with the standard library alone: `firstRange(of:)`,
// `contains(_:)` and `replacing(_:with:)` with a String argument come from the Regex module
// (_StringProcessing), which would add 0.95 MB to the daemon (docs/FOOTPRINT.md). Comparison is
// by Character, as theirs is.

extension StringProtocol {
    /// The first occurrence of `text`; an empty `text` is found at the start.
    public func firstRange(ofText text: some StringProtocol) -> Range<Index>? {
        guard let first = text.first else { return startIndex..<startIndex }
        var from = startIndex
        while let candidate = self[from...].firstIndex(of: first) {
            if self[candidate...].starts(with: text) { return candidate..<index(candidate, offsetBy: text.count) }
            from = index(after: candidate)
        }
        return nil
    }

    public func contains(text: some StringProtocol) -> Bool {
        firstRange(ofText: text) != nil
    }

    /// Every occurrence of a non-empty `text` replaced, left to right.
    public func replacing(text: some StringProtocol, with replacement: some StringProtocol) -> String {
        guard !text.isEmpty else { return String(self) }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(ofText: text) {
            result.append(contentsOf: rest[..<range.lowerBound])
            result.append(contentsOf: replacement)
            rest = rest[range.upperBound...]
        }
        result.append(contentsOf: rest)
        return result
    }
}
