import Foundation
import TestSupport
import Testing

@testable import Store

@Suite struct TableFormatTests {
    @Test func tableOfCompletedAndActiveSessions() throws {
        let (directory, store) = try makeStore()
        let done = try startSample(store, evse: "1", energyWh: 12_000)
        try store.completeSession(id: done, stop: t0 + 3_723_000, energyWh: 23_345)
        let running = try store.startSession(
            evseID: "2", connectorID: 1, tokenUID: "", tokenType: .noAuthorization, start: t0 + 10 * minute, energyWh: 100)
        try store.updateActive(sessionID: running, energyWh: 600, at: t0 + 20 * minute)

        let table = SessionExport.table(try store.sessions(), now: t0 + 40 * minute)
        let expected = [
            "START (UTC)          STOP (UTC)           EVSE  CONNECTOR  TOKEN           STATUS        KWH  DURATION",
            "2023-11-14 22:13:20  2023-11-14 23:15:23  1             1  04A2B3C4D5E6F7  COMPLETED  11.345   1:02:03",
            "2023-11-14 22:23:20  -                    2             1  -               ACTIVE      0.500   0:30:00",
            "2 sessions, 11.845 kWh",
        ]
        #expect(table == expected.joined(separator: "\n") + "\n")
        _ = directory
    }

    @Test func emptyTable() {
        #expect(SessionExport.table([], now: t0) == "START (UTC)  STOP (UTC)  EVSE  CONNECTOR  TOKEN  STATUS  KWH  DURATION\n0 sessions, 0.000 kWh\n")
    }

    @Test func numberAndDurationFormatting() {
        #expect(SessionExport.decimal(11.3449, places: 3) == "11.345")
        #expect(SessionExport.decimal(0, places: 3) == "0.000")
        #expect(SessionExport.decimal(-0.0004, places: 3) == "0.000")
        #expect(SessionExport.decimal(-1.5, places: 1) == "-1.5")
        #expect(SessionExport.decimal(2.5, places: 0) == "3")
        #expect(SessionExport.decimal(1234.05, places: 2) == "1234.05")
        #expect(SessionExport.duration(milliseconds: 3_723_999) == "1:02:03")
        #expect(SessionExport.duration(milliseconds: 90_000_000) == "25:00:00")
        #expect(SessionExport.duration(milliseconds: -5) == "0:00:00")
    }
}

@Suite struct TimeTests {
    @Test func formatsUTC() {
        #expect(DateTimeText.wholeSeconds(unixMilliseconds: 0) == "1970-01-01T00:00:00Z")
        #expect(DateTimeText.wholeSeconds(unixMilliseconds: 1_668_436_399_000) == "2022-11-14T14:33:19Z")
        #expect(DateTimeText.wholeSeconds(unixMilliseconds: t0 + 999) == "2023-11-14T22:13:20Z")
        #expect(DateTimeText.wholeSeconds(unixMilliseconds: 951_782_400_000) == "2000-02-29T00:00:00Z")
        #expect(DateTimeText.wholeSeconds(unixMilliseconds: -1) == "1969-12-31T23:59:59Z")
        #expect(DateTimeText.readable(unixMilliseconds: t0) == "2023-11-14 22:13:20")
    }

    @Test func agreesWithFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            // 1900…2200.
            let seconds = Int64.random(in: -2_208_988_800...7_258_118_400, using: &generator)
            let text = DateTimeText.wholeSeconds(unixMilliseconds: seconds * 1000)
            #expect(text == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))))
            #expect(DateTimeText.parseCommandLine(text) == seconds * 1000)
        }
    }

    @Test func parsesCommandLineTimes() {
        #expect(DateTimeText.parseCommandLine("1700000000") == t0)
        #expect(DateTimeText.parseCommandLine("0") == 0)
        #expect(DateTimeText.parseCommandLine("2023-11-14T22:13:20Z") == t0)
        #expect(DateTimeText.parseCommandLine("2023-11-14t22:13:20z") == t0)
        #expect(DateTimeText.parseCommandLine("2023-11-14T23:13:20+01:00") == t0)
        #expect(DateTimeText.parseCommandLine("2023-11-14T20:43:20-01:30") == t0)
        #expect(DateTimeText.parseCommandLine("2023-11-14 22:13:20") == t0)
        #expect(DateTimeText.parseCommandLine("2023-11-14T22:13:20.5Z") == t0 + 500)
        #expect(DateTimeText.parseCommandLine("2023-11-14T22:13:20.123456Z") == t0 + 123)
        #expect(DateTimeText.parseCommandLine("2023-11-14T22:13") == t0 - 20_000)
        #expect(DateTimeText.parseCommandLine("2023-11-14") == t0 - (22 * 3600 + 13 * 60 + 20) * 1000)
        #expect(DateTimeText.parseCommandLine("2024-02-29") == 1_709_164_800_000)
        for bad in ["", "yesterday", "2023-02-29", "2023-13-01", "2023-11-14T24:00:00Z", "2023-11-14T22:60", "2023-11-14T", "2023-11-14T22:13:20.Z",
            "2023-11-14T22:13:20+0100", "99999999999999999999", "-", "2023-11-14T22:13:20Zjunk"]
        {
            #expect(DateTimeText.parseCommandLine(bad) == nil, "\(bad)")
        }
    }

    @Test func randomUUIDs() {
        let ids = (0..<100).map { _ in UUIDText.random() }
        #expect(Set(ids).count == 100)
        for id in ids {
            #expect(id.range(of: "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", options: .regularExpression) != nil)
        }
    }
}

@Test func uriEscaping() {
    #expect(Database.uriEscaped("/var/lib/cs-companiond/cs-companion.db") == "/var/lib/cs-companiond/cs-companion.db")
    #expect(Database.uriEscaped("/tmp/a b?c#d%e.db") == "/tmp/a%20b%3Fc%23d%25e.db")
}
