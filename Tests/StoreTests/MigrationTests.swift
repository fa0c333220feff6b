import Foundation
import TestSupport
import Testing

@testable import Store

@Suite struct MigrationTests {
    @Test func migratesAnEmptyFileToTheCurrentVersion() throws {
        let (directory, store) = try makeStore()
        #expect(try store.schemaVersion() == Schema.currentVersion)
        #expect(Schema.currentVersion == 3)
        let tables = try store.withDatabase { (db) throws(StoreError) in
            try db.query("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") { $0.string(0) }
        }
        #expect(tables == [
            "availability", "charging_periods", "device_variable_changes", "device_variables", "period_dimensions", "session_pushes",
            "sessions", "settings", "sqlite_sequence",
        ])
        #expect(try store.integrityCheck() == [])
        _ = directory
    }

    @Test func connectionSettings() throws {
        let (directory, store) = try makeStore()
        #expect(try store.journalMode() == "wal")
        let (synchronous, foreignKeys, busy) = try store.withDatabase { (db) throws(StoreError) in
            (
                try db.query("PRAGMA synchronous") { $0.int64(0) }.first,
                try db.query("PRAGMA foreign_keys") { $0.int64(0) }.first,
                try db.query("PRAGMA busy_timeout") { $0.int64(0) }.first
            )
        }
        #expect(synchronous == 2)  // FULL
        #expect(foreignKeys == 1)
        #expect(busy == 5000)
        _ = directory
    }

    @Test func reopeningIsIdempotent() throws {
        let directory = try TemporaryDirectory(prefix: "store-test")
        let path = directory.file("cs.db")
        let id: String
        do {
            let store = try Store(path: path)
            id = try startSample(store)
            try store.setSetting("heartbeat", "60", at: t0)
            store.close()
        }
        for _ in 0..<3 {
            let database = try Database(path: path)
            #expect(try Schema.migrate(database) == [])  // nothing left to apply
            database.close()
            let store = try Store(path: path)
            #expect(try store.schemaVersion() == Schema.currentVersion)
            #expect(try store.session(id: id)?.status == .active)
            #expect(try store.setting("heartbeat") == "60")
            store.close()
        }
    }

    @Test func freshDatabaseAppliesEveryMigrationOnce() throws {
        let directory = try TemporaryDirectory(prefix: "store-test")
        let database = try Database(path: directory.file("cs.db"))
        #expect(try database.userVersion() == 0)
        #expect(try Schema.migrate(database) == Schema.migrations.map(\.version))
        #expect(try database.userVersion() == Schema.currentVersion)
    }

    @Test func refusesADatabaseOfANewerVersion() throws {
        let directory = try TemporaryDirectory(prefix: "store-test")
        let path = directory.file("cs.db")
        do {
            let store = try Store(path: path)
            try startSample(store)
            try store.withDatabase { (db) throws(StoreError) in try db.execute("PRAGMA user_version = 99") }
            store.close()
        }
        let error = expectStoreError { () throws(StoreError) in try Store(path: path) }
        #expect(error == .unsupportedSchemaVersion(found: 99, supported: Schema.currentVersion))
        #expect(error?.description.contains("newer") == true)
        // Read-only opens refuse it too, and the file is left as it was.
        #expect(expectStoreError { () throws(StoreError) in try Store(path: path, readOnly: true) } == .unsupportedSchemaVersion(found: 99, supported: Schema.currentVersion))
        let database = try Database(path: path, mode: .readOnly)
        #expect(try database.userVersion() == 99)
        #expect(try database.query("SELECT count(*) FROM sessions") { $0.int64(0) } == [1])
    }

    @Test func readOnlyOpenNeedsTheCurrentSchema() throws {
        let directory = try TemporaryDirectory(prefix: "store-test")
        let path = directory.file("cs.db")
        // A missing file: cannot be opened.
        #expect(expectStoreError { () throws(StoreError) in try Store(path: path, readOnly: true) }?.isStorageUnavailable == true)
        // An empty database (version 0).
        _ = try Database(path: path)
        #expect(expectStoreError { () throws(StoreError) in try Store(path: path, readOnly: true) } == .schemaNotCurrent(found: 0, required: Schema.currentVersion))
    }

    @Test func notADatabaseIsCorrupt() throws {
        let directory = try TemporaryDirectory(prefix: "store-test")
        let path = try directory.write("cs.db", String(repeating: "this is not an SQLite database\n", count: 64))
        let error = expectStoreError { () throws(StoreError) in try Store(path: path) }
        guard case .corrupt(let failure) = error else {
            Issue.record("expected .corrupt, got \(String(describing: error))")
            return
        }
        #expect(failure.code == 26)  // SQLITE_NOTADB
        #expect(failure.message.contains("not a database"))
    }
}

@Suite struct DeviceVariableMigrationTests {
    @Test func aVersion1DatabaseGainsTheDeviceModelTablesAndKeepsItsSessions() throws {
        let directory = try TemporaryDirectory(prefix: "store-test")
        let path = directory.file("cs.db")
        do {
            // What a daemon of schema version 1 left behind.
            let database = try Database(path: path)
            try database.transaction { () throws(StoreError) in
                try database.executeScript(Schema.migrations[0].sql)
                try database.execute("PRAGMA user_version = 1")
            }
            #expect(try database.userVersion() == 1)
            database.close()
        }
        // Reopened by this code: migrations 2 and 3 run once, the sessions table is untouched.
        let store = try Store(path: path)
        #expect(try store.schemaVersion() == 3)
        let id = try startSample(store)
        #expect(try store.session(id: id)?.status == .active)
        let key = DeviceVariableKey(component: "OCPPCommCtrlr", variable: "HeartbeatInterval")
        try store.declareDeviceVariables([DeviceVariableRecord(key: key, value: "300", dataType: .integer)], at: t0)
        #expect(try store.setDeviceVariable(key, value: "60", source: .josev, redacted: false, at: t0 + minute) == "300")
        #expect(try store.deviceVariables().map(\.value) == ["60"])
        let change = try #require(try store.deviceVariableHistory().first)
        #expect(change.oldValue == "300" && change.newValue == "60" && change.source == .josev && change.at == t0 + minute)
        // The schema refuses what the code never writes.
        #expect(expectStoreError { () throws(StoreError) in
            try store.withDatabase { (db) throws(StoreError) in
                try db.execute("UPDATE device_variables SET mutability = 'Sometimes'")
            }
        } != nil)
        #expect(try store.integrityCheck() == [])
    }
}
