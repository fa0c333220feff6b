import LoadManagement
import Testing

@Suite("Priority API")
struct PriorityAPITests {
    let directory = ConnectorDirectory(
        known: [ConnectorID(serial: "ACE0001", connector: 1), ConnectorID(serial: "ACE0001", connector: 2),
                ConnectorID(serial: "ACE0002", connector: 1)],
        evseIDs: ["DE*ABC*E0001*1": ConnectorID(serial: "ACE0001", connector: 1),
                  "DE*ABC*E0009*1": ConnectorID(serial: "GONE", connector: 1)])

    func call(_ method: String, _ body: String = "", path: String = "/evcs-user-priorities",
              book: inout PriorityBook) -> (APIResponse, [PriorityChange]) {
        let result = PriorityAPI.handle(method: method, path: path, body: Array(body.utf8), book: &book, directory: directory)
        return (result.response, result.changes)
    }

    @Test func putGetDeleteRoundTrip() throws {
        var book = PriorityBook()
        var (response, changes) = call("GET", book: &book)
        #expect(response == APIResponse(status: 200, body: "[]"))

        (response, changes) = call("PUT", #"{"serial_number":"ACE0001","connector":2,"priority":5}"#, book: &book)
        #expect(response.status == 200)
        #expect(response.body == #"{"serial_number":"ACE0001","connector":2,"priority":5}"#)
        #expect(changes == [PriorityChange(id: ConnectorID(serial: "ACE0001", connector: 2), old: 0, new: 5)])

        (response, changes) = call("PUT", #"{ "evse_id" : "DE*ABC*E0001*1", "priority" : 3 }"#, book: &book)
        #expect(response.body == #"{"serial_number":"ACE0001","connector":1,"evse_id":"DE*ABC*E0001*1","priority":3}"#)
        #expect(changes.count == 1)

        (response, _) = call("GET", path: "/evcs-user-priorities?x=1", book: &book)
        #expect(response.body == #"[{"serial_number":"ACE0001","connector":1,"evse_id":"DE*ABC*E0001*1","priority":3},{"serial_number":"ACE0001","connector":2,"priority":5}]"#)

        // Same value again: no change.
        (response, changes) = call("PUT", #"{"serial_number":"ACE0001","connector":2,"priority":5}"#, book: &book)
        #expect(response.status == 200 && changes.isEmpty)

        (response, changes) = call("DELETE", book: &book)
        #expect(response == APIResponse(status: 204))
        #expect(changes.map(\.new) == [0, 0])
        #expect(book.entries.isEmpty)
        (response, _) = call("GET", book: &book)
        #expect(response.body == "[]")
    }

    @Test func priorityZeroIsTheDefaultAndNotListed() {
        var book = PriorityBook()
        _ = call("PUT", #"{"serial_number":"ACE0002","connector":1,"priority":-2}"#, book: &book)
        #expect(book.priority(of: ConnectorID(serial: "ACE0002", connector: 1)) == -2)
        let (response, changes) = call("PUT", #"{"serial_number":"ACE0002","connector":1,"priority":0}"#, book: &book)
        #expect(response.status == 200 && changes.count == 1)
        #expect(book.entries.isEmpty)
    }

    @Test func listIsAllOrNothing() {
        var book = PriorityBook()
        var (response, changes) = call("PUT", #"[{"serial_number":"ACE0001","connector":1,"priority":1},{"evse_id":"DE*ABC*E0001*1","priority":"high"}]"#, book: &book)
        #expect(response == APIResponse(status: 400, body: #"{"error":"must be an integer","field":"[1].priority"}"#))
        #expect(changes.isEmpty && book.entries.isEmpty)

        (response, changes) = call("PUT", #"[{"serial_number":"ACE0001","connector":1,"priority":1},{"serial_number":"ACE0002","connector":1,"priority":2}]"#, book: &book)
        #expect(response.status == 200)
        #expect(response.body == #"[{"serial_number":"ACE0001","connector":1,"evse_id":"DE*ABC*E0001*1","priority":1},{"serial_number":"ACE0002","connector":1,"priority":2}]"#)
        #expect(changes.count == 2)
    }

    @Test(arguments: [
        ("", "body"), ("{", "body"), ("5", "body"), ("[]", "body"), ("[5]", "[0]"), ("null", "body"),
        (#"{"serial_number":"ACE0001","connector":1}"#, "priority"),
        (#"{"serial_number":"ACE0001","connector":1,"priority":1.5}"#, "priority"),
        (#"{"serial_number":"ACE0001","connector":1,"priority":"5"}"#, "priority"),
        (#"{"serial_number":"ACE0001","connector":1,"priority":true}"#, "priority"),
        (#"{"serial_number":"ACE0001","connector":1,"priority":1001}"#, "priority"),
        (#"{"serial_number":"ACE0001","priority":1}"#, "connector"),
        (#"{"serial_number":"ACE0001","connector":0,"priority":1}"#, "connector"),
        (#"{"serial_number":"ACE0001","connector":"1","priority":1}"#, "connector"),
        (#"{"connector":1,"priority":1}"#, "serial_number"),
        (#"{"priority":1}"#, "serial_number"),
        (#"{"serial_number":"","connector":1,"priority":1}"#, "serial_number"),
        (#"{"serial_number":7,"connector":1,"priority":1}"#, "serial_number"),
        (#"{"evse_id":"DE*ABC*E0001*1","serial_number":"ACE0001","connector":1,"priority":1}"#, "evse_id"),
        (#"{"evse_id":"","priority":1}"#, "evse_id"),
        (#"{"serial_number":"ACE0001","connector":1,"priority":1,"prio":2}"#, "prio"),
    ])
    func badBodies(body: String, field: String) throws {
        var book = PriorityBook()
        let (response, changes) = call("PUT", body, book: &book)
        #expect(response.status == 400)
        let json = try JSONValue.parse(response.body)
        #expect(json["field"] == .string(field))
        guard case .string = json["error"] else { Issue.record("no error text: \(response.body)"); return }
        #expect(changes.isEmpty)
    }

    @Test(arguments: [
        (#"{"serial_number":"ACE0001","connector":3,"priority":1}"#, "serial_number"),
        (#"{"serial_number":"NOPE","connector":1,"priority":1}"#, "serial_number"),
        (#"{"evse_id":"DE*XYZ*1","priority":1}"#, "evse_id"),
        // Mapped by --evse-id, but that station is not reachable.
        (#"{"evse_id":"DE*ABC*E0009*1","priority":1}"#, "evse_id"),
    ])
    func unknownConnectors(body: String, field: String) throws {
        var book = PriorityBook()
        let (response, _) = call("PUT", body, book: &book)
        #expect(response.status == 404)
        #expect(try JSONValue.parse(response.body)["field"] == .string(field))
    }

    @Test func methodsAndPaths() {
        var book = PriorityBook()
        for method in ["POST", "PATCH", "HEAD", "OPTIONS"] {
            let (response, _) = call(method, book: &book)
            #expect(response.status == 405)
            #expect(response.allow == "GET, PUT, DELETE")
        }
        #expect(call("GET", path: "/other", book: &book).0.status == 404)
        #expect(call("GET", path: "/evcs-user-priorities/", book: &book).0.status == 200)
        #expect(call("GET", path: "/systems/0b0e1c6a-0000-4000-8000-000000000000/evcs-user-priorities", book: &book).0.status == 200)
        #expect(call("GET", path: "/systems//evcs-user-priorities", book: &book).0.status == 404)
    }

    @Test func unplugResetsOneConnector() {
        var book = PriorityBook()
        let id = ConnectorID(serial: "ACE0001", connector: 1)
        book.set(4, for: id)
        book.set(2, for: ConnectorID(serial: "ACE0001", connector: 2))
        #expect(book.reset(id) == PriorityChange(id: id, old: 4, new: 0))
        #expect(book.reset(id) == nil)
        #expect(book.entries.map(\.priority) == [2])
    }
}

@Suite("JSON")
struct JSONTests {
    @Test func parsesAndWrites() throws {
        let value = try JSONValue.parse(#" {"a":[1,-2.5,true,false,null],"b":"x\"\\\/\n\u00e9\ud83d\ude00","c":{}} "#)
        #expect(value["a"] == .array([.number(1), .number(-2.5), .bool(true), .bool(false), .null]))
        #expect(value["b"] == .string("x\"\\/\né😀"))
        #expect(value.text == #"{"a":[1,-2.5,true,false,null],"b":"x\"\\/\né😀","c":{}}"#)
        #expect(try JSONValue.parse("1e3") == .number(1000))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\"}", "01", "1.", "tru", "\"\u{1}\"", "{} {}", "\"\\x\"", "-", "\"\\ud800\""])
    func rejects(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }
}
