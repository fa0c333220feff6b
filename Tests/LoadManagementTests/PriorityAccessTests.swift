import LoadManagement
import Testing

/// Who may use the priority API, one-connector resets, and the state file's text (pure parts of
/// issue 16, point 7; the HTTP side runs in `PriorityAPIEndToEndTests`).
@Suite("Priority API access and resets")
struct PriorityAccessTests {
    static let ours = "0b0e1c6a-1111-4000-8000-000000000001"
    static let theirs = "0b0e1c6a-2222-4000-8000-000000000002"
    let access = PriorityAccess(
        accounts: [
            PriorityAccess.Account(name: "acme", token: "secret-a", systems: [Self.ours]),
            PriorityAccess.Account(name: "other", token: "secret-b", systems: [Self.theirs]),
        ], systemID: Self.ours)

    @Test func tokensAndSystems() {
        let path = "/systems/\(Self.ours)/evcs-user-priorities"
        #expect(access.check(path: path, authorization: nil)?.status == 401)
        #expect(access.check(path: path, authorization: nil)?.challenge == "Bearer realm=\"gridbox-sim\"")
        #expect(access.check(path: path, authorization: "Bearer wrong")?.status == 401)
        #expect(access.check(path: path, authorization: "Basic c2VjcmV0LWE=")?.status == 401)
        #expect(access.check(path: path, authorization: "Bearer secret-a") == nil)
        #expect(access.check(path: "/systems/\(Self.ours.uppercased())/evcs-user-priorities", authorization: "bearer secret-a") == nil)
        #expect(access.check(path: path, authorization: "Bearer secret-b")?.status == 403)
        #expect(access.check(path: "/systems/\(Self.theirs)/evcs-user-priorities", authorization: "Bearer secret-a")?.status == 403)
        // The other account's own system is not served here.
        #expect(access.check(path: "/systems/\(Self.theirs)/evcs-user-priorities", authorization: "Bearer secret-b")?.status == 404)
        #expect(access.check(path: "/systems/nope/evcs-user-priorities", authorization: "Bearer secret-a")?.status == 404)
        #expect(access.check(path: "/evcs-user-priorities", authorization: "Bearer secret-a") == nil, "this gridBox's system")
        #expect(access.check(path: "/evcs-user-priorities", authorization: "Bearer secret-b")?.status == 403)
        // Open without accounts (a bench), still only UUID systems.
        #expect(PriorityAccess.open.check(path: "/evcs-user-priorities", authorization: nil) == nil)
        #expect(PriorityAccess.open.check(path: "/systems/nope/evcs-user-priorities", authorization: nil)?.status == 404)
        #expect(PriorityAccess.account("acme:token:not-a-uuid") == nil && PriorityAccess.account("acme::\(Self.ours)") == nil)
        #expect(PriorityAccess.account("acme:secret-a:\(Self.ours)") == access.accounts.first)
    }

    @Test func oneConnectorIsResetNeverAll() throws {
        let a = ConnectorID(serial: "ACE0001", connector: 1), b = ConnectorID(serial: "ACE0001", connector: 2)
        let directory = ConnectorDirectory(known: [a, b], evseIDs: ["DE*ABC*E0001*2": b])
        func delete(_ path: String, _ body: String, _ book: inout PriorityBook) -> Int {
            PriorityAPI.handle(method: "DELETE", path: path, body: Array(body.utf8), book: &book, directory: directory).response.status
        }
        var book = PriorityBook()
        book.set(5, for: a)
        book.set(3, for: b)
        for bad in [#"{"serial_number":"ACE0001"}"#, #"{"connector":1}"#, "[]", "{", #"{"serial_number":"NOPE","connector":1}"#] {
            #expect([400, 404].contains(delete("/evcs-user-priorities", bad, &book)), "\(bad)")
            #expect(book.entries.count == 2, "a bad body resets nothing: \(bad)")
        }
        #expect(delete("/evcs-user-priorities", #"{"evse_id":"DE*ABC*E0001*2"}"#, &book) == 204)
        #expect(book.entries.map(\.id) == [a])
        book.set(3, for: b)
        #expect(delete("/evcs-user-priorities/ACE0001/1", "", &book) == 204)
        #expect(book.entries.map(\.id) == [b])
        #expect(delete("/evcs-user-priorities/ACE0009/1", "", &book) == 404)
        #expect(PriorityAPI.handle(method: "GET", path: "/evcs-user-priorities/ACE0001/2", body: [], book: &book, directory: directory).response.status == 405)
        #expect(delete("/evcs-user-priorities", "  ", &book) == 204)
        #expect(book.entries.isEmpty, "an empty body resets all")
    }

    @Test func stateFileText() throws {
        var book = PriorityBook()
        book.set(5, for: ConnectorID(serial: "ACE0001", connector: 1))
        book.set(-2, for: ConnectorID(serial: "ACE 2", connector: 3))
        #expect(PriorityBook(stateText: Array(book.stateText.utf8)) == book)
        #expect(PriorityBook(stateText: Array("{}".utf8)) == nil)
    }
}
