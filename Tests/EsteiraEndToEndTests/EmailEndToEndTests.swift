import EsteiraCore
import EsteiraTestSupport
import Foundation
import Testing

/// `scripts/smtp-receiver.py`: a real SMTP server (aiosmtpd) that requires STARTTLS and AUTH,
/// answers each recipient's first messages 451 on request, refuses `recusado…` addresses with
/// 550, and records every message as Python's own e-mail parser reads it.
final class SMTPReceiver: @unchecked Sendable {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-smtp-\(UUID().uuidString.prefix(8))").path
    var log: String { folder + "/messages.jsonl" }
    var certificate: String { folder + "/certs/cert.pem" }
    let server: ListeningProcess

    init(failFirst: Int = 0) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let root = ListeningProcess.repositoryRoot(#filePath)
        server = try ListeningProcess(executable: root.appendingPathComponent(".venv/bin/python").path, arguments: [
            root.appendingPathComponent("scripts/smtp-receiver.py").path, folder + "/messages.jsonl", folder + "/certs",
            "--fail-first", String(failFirst), "--user", "esteira", "--password", "s3nha-de-teste",
        ])
    }

    /// What Esteira needs to send through it.
    var environment: [String: String] {
        ["ESTEIRA_SMTP_HOST": "localhost", "ESTEIRA_SMTP_PORT": String(server.port), "ESTEIRA_SMTP_SECURITY": "starttls",
         "ESTEIRA_SMTP_USERNAME": "esteira", "ESTEIRA_SMTP_PASSWORD": "s3nha-de-teste", "ESTEIRA_SMTP_FROM": "cobranca@esteira.test",
         "ESTEIRA_SMTP_CA_FILE": certificate, "ESTEIRA_PUBLIC_URL": "https://esteira.example.com"]
    }

    var records: [JSONValue] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)) }
    }

    /// The messages the server accepted (250).
    var accepted: [JSONValue] { records.filter { $0["status"]?.int == 250 } }

    func waitFor(accepted count: Int, timeout: TimeInterval = 30) async throws -> [JSONValue] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && accepted.count < count { try await Task.sleep(for: .milliseconds(100)) }
        return accepted
    }

    func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: folder)
    }
}

@Suite("End to end: e-mail to clients and debtors over SMTP", .offSharedPool, .serialized)
struct EmailEndToEndTests {
    static let fastRetries = ["ESTEIRA_NOTIFY_RETRY_BASE_SECONDS": "0.2", "ESTEIRA_NOTIFY_RETRY_CAP_SECONDS": "1",
                              "ESTEIRA_NOTIFY_POLL_SECONDS": "0.1"]
    static let settings = #"{"bank": "237", "agency": "2949", "account": "6580", "wallet": "6", "pix_key": "11222333000181", "beneficiary_name": "Loja Exemplo Ltda", "beneficiary_city": "São Paulo", "due_days": 10}"#

    @Test("the client's batch e-mail and the debtor's slip: STARTTLS and AUTH, retried after 451, given up after 550, in Portuguese")
    func emails() async throws {
        let smtp = try SMTPReceiver(failFirst: 1)
        defer { smtp.stop() }
        let server = try EsteiraProcess(environment: smtp.environment.merging(Self.fastRetries) { $1 })
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        try server.start()

        // Addresses checked; the client's address wants only batches with rejects.
        let bad = try await server.post("/v1/email-recipients", key: client.key, json: #"{"address": "financeiro@"}"#)
        #expect(bad.status == 422 && bad.body.contains("invalid_email") && bad.body.contains("\"field\":\"address\""))
        let unknown = try await server.post("/v1/email-recipients", key: client.key, json: #"{"address": "a@loja.com.br", "events": ["x"]}"#)
        #expect(unknown.status == 422 && unknown.body.contains("invalid_event"))
        let created = try await server.post("/v1/email-recipients", key: client.key, json: #"{"address": "financeiro@loja.com.br", "events": ["batch.completed_with_rejects", "batch.failed"]}"#)
        #expect(created.status == 201)
        #expect((try await server.request("GET", "/v1/email-recipients", key: client.key).json["items"]?.elements)?.count == 1)
        #expect(try await server.post("/v1/collection", key: client.key, json: Self.settings, method: "PUT").status == 200)

        // Four rows: a debtor with an address, one without, one whose address the server
        // refuses, and a row rejected (its CPF's check digits are wrong).
        let file = "external_id;nome;cpf;valor;vencimento;email\n"
            + "M1;Ana Souza;248.438.034-80;1.234,56;01/06/2025;ana@example.com\n"
            + "M2;Bruno Lima;529.982.247-25;10,00;01/06/2025;\n"
            + "M3;Carla Dias;111.444.777-35;20,00;01/06/2025;recusado@example.com\n"
            + "M4;Davi Reis;123.456.789-00;30,00;01/06/2025;davi@example.com\n"
        let id = try await server.upload(Data(file.utf8), key: client.key, name: "cobran%C3%A7as%20novembro.csv")
        #expect(try await server.waitForBatch(id, key: client.key, timeout: 60)["status"]?.string == "completed_with_rejects")

        let got = try await smtp.waitFor(accepted: 2)
        #expect(got.count == 2)
        // Each recipient's first message was answered 451 and sent again.
        #expect(smtp.records.filter { $0["status"]?.int == 451 }.count == 2)
        #expect(got.allSatisfy { $0["tls"]?.bool == true && $0["auth"]?.bool == true && $0["login"]?.string == "esteira" })
        #expect(got.allSatisfy { $0["mail_from"]?.string == "cobranca@esteira.test" })

        // The client's e-mail: the counts by hand (4 received, 3 registered, 1 rejected) and links.
        let batchMail = try #require(got.first { $0["rcpt_tos"]?.items.compactMap(\.string) == ["financeiro@loja.com.br"] })
        #expect(batchMail["subject"]?.string == "Lote cobranças novembro.csv processado, com 1 rejeitada")
        let text = batchMail["text"]?.string ?? ""
        for line in ["Recebidas: 4", "Registradas: 3", "Duplicadas: 0", "Rejeitadas: 1", "Em revisão: 0",
                     "Ver o lote: https://esteira.example.com/app/lotes/\(id)",
                     "Relatório de rejeitadas (CSV): https://esteira.example.com/app/lotes/\(id)/rejeitados.csv"] {
            #expect(text.contains(line), "\(line) in \(text)")
        }
        #expect((batchMail["html"]?.string ?? "").contains("href=\"https://esteira.example.com/app/lotes/\(id)/rejeitados.csv\""))

        // The debtor's e-mail: amount and due date as a Brazilian writes them (due 10 days after
        // today), the codes, and the printable slip attached, whose QR code ZBar reads back.
        let slip = try await server.request("GET", "/v1/debts/M1/bankslip", key: client.key).json
        let slipMail = try #require(got.first { $0["rcpt_tos"]?.items.compactMap(\.string) == ["ana@example.com"] })
        let dueText = TestCalendar.brazilianDay(days: 10)
        #expect(slipMail["subject"]?.string == "Boleto de Loja Exemplo Ltda: R$ 1.234,56, vencimento \(dueText)")
        #expect((slipMail["from"]?.string ?? "").contains("Loja Exemplo Ltda"))
        let slipText = slipMail["text"]?.string ?? ""
        #expect(slipText.contains("Olá, Ana Souza."))
        #expect(slipText.contains(slip["digitable_line"]?.string ?? "-") && slipText.contains(slip["pix_copia_e_cola"]?.string ?? "-"))
        let attachment = try #require((slipMail["attachments"]?.elements)?.first)
        #expect(attachment["filename"]?.string == "boleto-M1.html" && attachment["content_type"]?.string == "text/html")
        let page = attachment["content"]?.string ?? ""
        guard let start = page.range(of: #"id="qrcode""#), let open = page.range(of: "<svg", range: start.upperBound..<page.endIndex),
              let close = page.range(of: "</svg>", range: open.lowerBound..<page.endIndex) else {
            Issue.record("no QR code in the attachment")
            return
        }
        #expect(try BarcodeReader.decode(svg: String(page[open.lowerBound..<close.upperBound])) == slip["pix_copia_e_cola"]?.string)

        // What the API says: the slip's e-mail sent after two attempts; none for a debt without an
        // address; the refused one given up at once with the server's answer.
        let email = slip["email"] ?? .null
        #expect(email["state"]?.string == "sent" && email["attempts"]?.int == 2 && email["to"]?.string == "ana@example.com")
        #expect(try await server.request("GET", "/v1/debts/M2/bankslip", key: client.key).json["email"] == nil)
        var refused = JSONValue.null
        for _ in 0..<50 {
            refused = try await server.request("GET", "/v1/debts/M3/bankslip", key: client.key).json["email"] ?? .null
            if refused["state"]?.string == "dead" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(refused["state"]?.string == "dead" && refused["attempts"]?.int == 1)
        #expect((refused["error"]?.string ?? "").hasPrefix("550"))
        #expect(smtp.records.filter { $0["refused"] != nil }.count == 1)

        // The client's notification log: the e-mail's two attempts, once the sender has recorded the second.
        let items = try await server.items("/v1/notifications?batch=\(id)", key: client.key) { $0.first?["state"]?.string != "pending" }
        #expect(items.count == 1)
        #expect(items.first?["channel"]?.string == "email" && items.first?["address"]?.string == "financeiro@loja.com.br")
        #expect(items.first?["state"]?.string == "delivered")
        #expect((items.first?["attempts"]?.elements ?? []).map { $0["status_code"]?.int ?? 0 } == [451, 250])
        // The server's log never shows a debtor's whole address.
        #expect(!server.logs().contains("ana@example.com"))
    }

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
    }
}
