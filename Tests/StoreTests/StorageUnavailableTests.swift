import Foundation
import TestSupport
import Testing

@testable import Store

/// The "storage unavailable" error. The tests run as root, where `chmod 0555` on the directory
/// stops nothing; so they use what does stop root:
/// - a path under /proc (no files can be created there): SQLITE_CANTOPEN at open;
/// - an `SQLITE_OPEN_READONLY` connection (see DurabilityTests): SQLITE_READONLY on a write;
/// - `PRAGMA max_page_count` (SQLite's own size cap): SQLITE_FULL on a write, always available;
/// - with CAP_SYS_ADMIN: a read-only bind mount (EROFS) of a real database, and a tiny tmpfs that
///   fills up (ENOSPC, SQLITE_FULL). Skipped where mounting is not permitted.
/// - without root: `chmod 0555` on the directory.
@Suite struct StorageUnavailableTests {
    @Test func uncreatableFileFailsAtOpen() throws {
        let error = expectStoreError { () throws(StoreError) in try Store(path: "/proc/cs-companion-store-test/cs.db") }
        #expect(error?.isStorageUnavailable == true)
        #expect(error?.sqliteFailure?.code == 14)  // SQLITE_CANTOPEN
        #expect(error?.description.hasPrefix("storage unavailable: open /proc/cs-companion-store-test/cs.db") == true)
    }

    @Test func databaseSizeCapGivesFull() throws {
        let (directory, store) = try makeStore()
        let first = try startSample(store)
        try store.completeSession(id: first, stop: t0 + minute, energyWh: 2000)
        try store.withDatabase { (db) throws(StoreError) in
            let pages = try db.query("PRAGMA page_count") { $0.int64(0) }.first ?? 0
            try db.execute("PRAGMA max_page_count = \(pages + 1)")
        }
        var failure: StoreError?
        var written = 1
        for index in 1..<500 {
            do {
                try startSample(store, token: String(repeating: "F", count: 500), start: t0 + Int64(index))
                written += 1
            } catch {
                failure = error
                break
            }
        }
        let error = try #require(failure)
        #expect(error.isStorageUnavailable)
        #expect(error.sqliteFailure?.code == 13)  // SQLITE_FULL
        // What was committed before is intact, the failed write left nothing behind.
        #expect(try store.sessions().count == written)
        #expect(try store.session(id: first)?.status == .completed)
        #expect(try store.integrityCheck() == [])
        _ = directory
    }

    @Test(.enabled(if: geteuid() != 0, "root ignores directory permissions"))
    func readOnlyDirectoryWithoutRoot() throws {
        let directory = try TemporaryDirectory(prefix: "store-test")
        chmod(directory.path, 0o555)
        defer { chmod(directory.path, 0o700) }
        let error = expectStoreError { () throws(StoreError) in try Store(path: directory.file("cs.db")) }
        #expect(error?.isStorageUnavailable == true)
    }

    @Test(.enabled(if: Mounts.permitted, "needs CAP_SYS_ADMIN to mount"))
    func readOnlyBindMount() throws {
        let directory = try TemporaryDirectory(prefix: "store-test")
        let source = directory.file("rw")
        let target = directory.file("ro")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        let id: String
        do {
            let store = try Store(path: source + "/cs.db")
            id = try startSample(store)
            store.close()
        }
        try Mounts.bind(source, at: target, readOnly: true)
        defer { Mounts.unmount(target) }

        let error = expectStoreError { () throws(StoreError) in
            let store = try Store(path: target + "/cs.db")
            try store.updateActive(sessionID: id, energyWh: 2000, at: t0 + 1)
        }
        #expect(error?.isStorageUnavailable == true, "\(String(describing: error))")
        #expect([8, 14, 10].contains(error?.sqliteFailure?.code ?? 0))  // READONLY, CANTOPEN or IOERR
        // A new database cannot be created there either.
        #expect(expectStoreError { () throws(StoreError) in try Store(path: target + "/new.db") }?.isStorageUnavailable == true)

        // The CLI can still read it: no -wal (cleanly closed), no -shm can be created, so the
        // read-only open falls back to immutable=1. (A file name that needs URI escaping.)
        #expect(!FileManager.default.fileExists(atPath: source + "/cs.db-wal"))
        let reader = try Store(path: target + "/cs.db", readOnly: true)
        #expect(try reader.session(id: id)?.status == .active)
        #expect(try reader.withDatabase { db in db.isImmutable })
        #expect(!FileManager.default.fileExists(atPath: source + "/cs.db-shm"))
        reader.close()
        Mounts.unmount(target)
        let odd = source + "/odd ?name#%25.db"
        try FileManager.default.copyItem(atPath: source + "/cs.db", toPath: odd)
        try Mounts.bind(source, at: target, readOnly: true)
        let oddReader = try Store(path: target + "/odd ?name#%25.db", readOnly: true)
        #expect(try oddReader.sessions().map(\.id) == [id])
        #expect(try oddReader.withDatabase { db in db.isImmutable })
    }

    @Test(.enabled(if: Mounts.permitted, "needs CAP_SYS_ADMIN to mount"))
    func fullFileSystem() throws {
        let directory = try TemporaryDirectory(prefix: "store-test")
        let mountPoint = directory.file("small")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        try Mounts.tmpfs(at: mountPoint, size: "256k")
        defer { Mounts.unmount(mountPoint) }
        let path = mountPoint + "/cs.db"

        let store = try Store(path: path)
        var written = 0
        var failure: StoreError?
        for index in 0..<2000 {
            do {
                try startSample(store, token: String(repeating: "A", count: 1000), start: t0 + Int64(index))
                written += 1
            } catch {
                failure = error
                break
            }
        }
        let error = try #require(failure)
        #expect(written > 0)
        #expect(error.isStorageUnavailable)
        #expect(error.sqliteFailure?.code == 13, "\(error)")  // SQLITE_FULL (ENOSPC)
        #expect(try store.sessions().count == written)
        store.close()

        // With room again, everything committed is there and sound.
        try Mounts.remountTmpfs(at: mountPoint, size: "4m")
        let reopened = try Store(path: path)
        #expect(try reopened.sessions().count == written)
        #expect(try reopened.integrityCheck() == [])
        try startSample(reopened, start: t0 + 10_000)
        reopened.close()
    }
}

/// Mounting for the tests (root with CAP_SYS_ADMIN only).
enum Mounts {
    private static let readOnlyFlag: UInt = 1  // MS_RDONLY
    private static let remountFlag: UInt = 32  // MS_REMOUNT
    private static let bindFlag: UInt = 4096  // MS_BIND

    /// Whether a tmpfs can be mounted here (tried once on a scratch directory).
    static let permitted: Bool = {
        guard geteuid() == 0, let directory = try? TemporaryDirectory(prefix: "store-mount-probe") else { return false }
        guard mount("tmpfs", directory.path, "tmpfs", 0, "size=16k") == 0 else { return false }
        unmount(directory.path)
        return true
    }()

    static func tmpfs(at path: String, size: String) throws {
        guard mount("tmpfs", path, "tmpfs", 0, "size=\(size)") == 0 else { throw failure("mount tmpfs on \(path)") }
    }

    static func remountTmpfs(at path: String, size: String) throws {
        guard mount("tmpfs", path, "tmpfs", remountFlag, "size=\(size)") == 0 else { throw failure("remount \(path)") }
    }

    static func bind(_ source: String, at target: String, readOnly: Bool) throws {
        guard mount(source, target, nil, bindFlag, nil) == 0 else { throw failure("bind \(source) on \(target)") }
        if readOnly, mount(nil, target, nil, bindFlag | remountFlag | readOnlyFlag, nil) != 0 {
            let error = failure("remount \(target) read-only")
            unmount(target)
            throw error
        }
    }

    static func unmount(_ path: String) {
        umount2(path, 2)  // MNT_DETACH
    }

    private static func failure(_ what: String) -> TestSupportError {
        TestSupportError("\(what): \(String(cString: strerror(errno)))")
    }
}
