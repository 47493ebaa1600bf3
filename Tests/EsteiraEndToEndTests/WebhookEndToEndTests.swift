import EsteiraCore
import EsteiraTestSupport
import Foundation
import FoundationNetworking
import Testing

/// `scripts/webhook-receiver.py`: a real HTTP server playing the client's, which fails the first
/// deliveries on request and checks each signature with Python's own HMAC.
final class WebhookReceiver: @unchecked Sendable {
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-hooks-\(UUID().uuidString.prefix(8)).jsonl").path
    let server: ListeningProcess
    var base: String { server.base }

    init() throws {
        let script = ListeningProcess.repositoryRoot(#filePath).appendingPathComponent("scripts/webhook-receiver.py").path
        server = try ListeningProcess(executable: "/usr/bin/env", arguments: ["python3", script, log])
    }

    func control(secret: String, failFirst: Int) async throws {
        var request = URLRequest(url: URL(string: base + "/control")!)
        request.httpMethod = "POST"
        request.httpBody = Data(#"{"secret": "\#(secret)", "fail_first": \#(failFirst)}"#.utf8)
        _ = try await URLSession.shared.data(for: request)
    }

    /// Every delivery received so far.
    var deliveries: [JSONValue] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)) }
    }

    func waitFor(_ count: Int, timeout: TimeInterval = 30) async throws -> [JSONValue] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if deliveries.count >= count { return deliveries }
            try await Task.sleep(for: .milliseconds(100))
        }
        return deliveries
    }

    func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: log)
    }
}

@Suite("End to end: webhooks from the outbox", .offSharedPool, .serialized)
struct WebhookEndToEndTests {
    static let fastRetries = ["ESTEIRA_NOTIFY_RETRY_BASE_SECONDS": "0.2", "ESTEIRA_NOTIFY_RETRY_CAP_SECONDS": "1",
                              "ESTEIRA_NOTIFY_POLL_SECONDS": "0.1"]

    static func endpoint(_ server: EsteiraProcess, key: String, url: String, events: String? = nil) async throws -> JSONValue {
        let body = events.map { #"{"url": "\#(url)", "events": \#($0)}"# } ?? #"{"url": "\#(url)"}"#
        let r = try await server.request("POST", "/v1/webhooks", key: key, body: Data(body.utf8), contentType: "application/json")
        #expect(r.status == 201, "\(r.body)")
        return r.json
    }

    @Test("signed, retried after failures with each attempt logged, sent again on request; only the events asked for")
    func deliveries() async throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let server = try EsteiraProcess(environment: Self.fastRetries)
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        try server.start()

        let bad = try await server.request("POST", "/v1/webhooks", key: client.key, body: Data(#"{"url": "ftp://x"}"#.utf8),
                                           contentType: "application/json")
        #expect(bad.status == 422 && bad.body.contains("\"field\":\"url\""))
        let unknown = try await server.request("POST", "/v1/webhooks", key: client.key,
                                               body: Data(#"{"url": "http://x.y", "events": ["batch.eaten"]}"#.utf8), contentType: "application/json")
        #expect(unknown.status == 422 && unknown.body.contains("invalid_event"))

        let hook = try await Self.endpoint(server, key: client.key, url: receiver.base + "/hooks/esteira")
        let secret = try #require(hook["secret"]?.string)
        // A second endpoint that wants only failures: a completed batch does not reach it.
        _ = try await Self.endpoint(server, key: client.key, url: receiver.base + "/only-failures", events: #"["batch.failed"]"#)
        #expect((try await server.request("GET", "/v1/webhooks", key: client.key).json["items"]?.elements)?.count == 2)
        try await receiver.control(secret: secret, failFirst: 2)

        let id = try await server.upload(Data("external_id,name,document,amount,due_date\nW1,Ana,248.438.034-80,10.00,\(TestCalendar.year(-1))-01-01\nW2,Bia,123,1.00,\(TestCalendar.year(-1))-01-01\n".utf8),
                                         key: client.key, name: "hooks.csv")
        _ = try await server.waitForBatch(id, key: client.key, timeout: 60)
        let got = try await receiver.waitFor(3)
        #expect(got.count == 3)
        #expect(got.map { $0["status"]?.int ?? 0 } == [500, 500, 200])
        #expect(got.allSatisfy { $0["signature_ok"]?.bool == true && $0["path"]?.string == "/hooks/esteira" })
        #expect(Set(got.map { $0["delivery"]?.string ?? "" }).count == 1) // the same delivery id on each attempt
        let body = try #require(got.last?["body"])
        #expect(body["event"]?.string == "batch.completed_with_rejects")
        let batch = body["batch"] ?? .null
        #expect(batch["id"]?.string == id)
        #expect(batch.counts == ["received": 2, "registered": 1, "duplicates": 0, "rejected": 1, "review": 0])

        // The log: one notification, three attempts, delivered, read until the sender has recorded
        // its answer.
        let log = "/v1/notifications?batch=\(id)"
        var items = try await server.items(log, key: client.key) { $0.first?["state"]?.string != "pending" }
        #expect(items.count == 1)
        #expect(items.first?["state"]?.string == "delivered")
        #expect((items.first?["attempts"]?.elements ?? []).map { $0["status_code"]?.int ?? 0 } == [500, 500, 200])

        // Sent again on request: one more delivery, same id.
        let notificationID = try #require(items.first?["id"]?.int)
        #expect(try await server.request("POST", "/v1/notifications/\(notificationID)/redeliver", key: client.key).status == 202)
        let again = try await receiver.waitFor(4)
        #expect(again.count == 4 && again.last?["delivery"]?.string == got.last?["delivery"]?.string)
        items = try await server.items(log, key: client.key) { ($0.first?["attempts"]?.elements)?.count == 4 }
        #expect((items.first?["attempts"]?.elements)?.count == 4)
        #expect(try await server.request("POST", "/v1/notifications/999999/redeliver", key: client.key).status == 404)
        #expect(try await server.request("GET", "/v1/notifications", key: client.key).status == 400)
    }

    @Test("killed between the status change and the delivery: after the restart, sent exactly once")
    func crash() async throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let server = try EsteiraProcess(environment: Self.fastRetries)
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        // The sender looks at the outbox once at start, then not for an hour: the batch's
        // notification is written, and waits.
        try server.start(["ESTEIRA_NOTIFY_POLL_SECONDS": "3600"])
        let hook = try await Self.endpoint(server, key: client.key, url: receiver.base + "/hooks")
        try await receiver.control(secret: hook["secret"]?.string ?? "", failFirst: 0)
        let id = try await server.upload(Data("external_id,name,document,amount,due_date\nK1,Ana,248.438.034-80,10.00,\(TestCalendar.year(-1))-01-01\n".utf8),
                                         key: client.key, name: "crash.csv")
        #expect(try await server.waitForBatch(id, key: client.key, timeout: 60)["status"]?.string == "completed")
        server.kill9()
        #expect(try server.sql("SELECT state FROM notifications") == "pending")
        #expect(receiver.deliveries.isEmpty)

        try server.start()
        let got = try await receiver.waitFor(1)
        try await Task.sleep(for: .seconds(2)) // time for a second one, which must not come
        #expect(receiver.deliveries.count == 1)
        #expect(got.first?["signature_ok"]?.bool == true && (got.first?["body"])?["event"]?.string == "batch.completed")
        #expect(try server.sql("SELECT state FROM notifications") == "delivered")
    }
}
