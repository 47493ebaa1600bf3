import EsteiraCore
import EsteiraTestSupport
import Foundation
import FoundationNetworking
import Testing

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
