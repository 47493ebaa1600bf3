import EsteiraCore
import EsteiraTestSupport
import Foundation
import Testing

@Suite("End to end: e-mail to clients and debtors over SMTP", .offSharedPool, .serialized)
struct EmailEndToEndTests {
    static let fastRetries = ["ESTEIRA_NOTIFY_RETRY_BASE_SECONDS": "0.2", "ESTEIRA_NOTIFY_RETRY_CAP_SECONDS": "1",
                              "ESTEIRA_NOTIFY_POLL_SECONDS": "0.1"]
    static let settings = #"{"bank": "237", "agency": "2949", "account": "6580", "wallet": "6", "pix_key": "11222333000181", "beneficiary_name": "Loja Exemplo Ltda", "beneficiary_city": "São Paulo", "due_days": 10}"#

    @Test("killed between the status change and the e-mails: after the restart, each sent exactly once")
    func crash() async throws {
        let smtp = try SMTPReceiver()
        defer { smtp.stop() }
        let server = try EsteiraProcess(environment: smtp.environment.merging(Self.fastRetries) { $1 })
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        // The senders look at the outbox once at start, then not for an hour.
        try server.start(["ESTEIRA_NOTIFY_POLL_SECONDS": "3600"])
        #expect(try await server.post("/v1/email-recipients", key: client.key, json: #"{"address": "financeiro@loja.com.br"}"#).status == 201)
        #expect(try await server.post("/v1/collection", key: client.key, json: Self.settings, method: "PUT").status == 200)
        let id = try await server.upload(Data("external_id,name,document,amount,due_date,email\nK1,Ana,248.438.034-80,10.00,2025-01-01,ana@example.com\n".utf8),
                                         key: client.key, name: "crash.csv")
        #expect(try await server.waitForBatch(id, key: client.key, timeout: 60)["status"]?.string == "completed")
        server.kill9()
        #expect(try server.sql("SELECT state FROM notifications") == "pending")
        #expect(try server.sql("SELECT email_state FROM bankslips") == "pending")
        #expect(smtp.records.isEmpty)

        try server.start()
        let got = try await smtp.waitFor(accepted: 2)
        try await Task.sleep(for: .seconds(2)) // time for a second one, which must not come
        #expect(got.count == 2 && smtp.records.count == 2)
        #expect(Set(got.compactMap { $0["rcpt_tos"]?.items.first?.string }) == ["financeiro@loja.com.br", "ana@example.com"])
        #expect(try server.sql("SELECT state FROM notifications") == "delivered")
        #expect(try server.sql("SELECT email_state FROM bankslips") == "sent")
        // The server's log never shows a debtor's whole address.
        #expect(!server.logs().contains("ana@example.com"))
    }
}
