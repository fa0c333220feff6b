import Foundation
import LoadManagement

/// `--state-file`: the priorities survive a restart of gridbox-sim (a gridBox keeps them too). The
/// file is replaced atomically after every change; a missing file is an empty book.
struct PriorityStateFile: Sendable {
    let path: String

    /// The stored book; nil when the file exists but is not a priority list (then nothing is
    /// overwritten until a change comes).
    func load() -> PriorityBook? {
        guard let data = FileManager.default.contents(atPath: path) else { return PriorityBook() }
        return PriorityBook(stateText: [UInt8](data))
    }

    func save(_ book: PriorityBook) throws {
        try Data(book.stateText.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
