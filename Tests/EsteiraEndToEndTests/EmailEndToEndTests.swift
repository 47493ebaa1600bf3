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

    var records: [[String: Any]] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// The messages the server accepted (250).
    var accepted: [[String: Any]] { records.filter { $0["status"] as? Int == 250 } }

    func waitFor(accepted count: Int, timeout: TimeInterval = 30) async throws -> [[String: Any]] {
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

    static func json(_ server: EsteiraProcess, _ key: String, _ method: String, _ path: String, _ body: String) async throws -> EsteiraProcess.HTTPResult {
        try await server.request(method, path, key: key, body: Data(body.utf8), contentType: "application/json")
    }

    @Test("the client's batch e-mail and the debtor's slip: STARTTLS and AUTH, retried after 451, given up after 550, in Portuguese")
    func emails() async throws {
        let smtp = try SMTPReceiver(failFirst: 1)
        defer { smtp.stop() }
        let server = try EsteiraProcess(environment: smtp.environment.merging(Self.fastRetries) { $1 })
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        try server.start()

        // Addresses checked; the client's address wants only batches with rejects.
        let bad = try await Self.json(server, client.key, "POST", "/v1/email-recipients", #"{"address": "financeiro@"}"#)
        #expect(bad.status == 422 && bad.text.contains("invalid_email") && bad.text.contains("\"field\":\"address\""))
        let unknown = try await Self.json(server, client.key, "POST", "/v1/email-recipients", #"{"address": "a@loja.com.br", "events": ["x"]}"#)
        #expect(unknown.status == 422 && unknown.text.contains("invalid_event"))
        let created = try await Self.json(server, client.key, "POST", "/v1/email-recipients",
                                          #"{"address": "financeiro@loja.com.br", "events": ["batch.completed_with_rejects", "batch.failed"]}"#)
        #expect(created.status == 201)
        #expect((try await server.request("GET", "/v1/email-recipients", key: client.key).object["items"] as? [Any])?.count == 1)
        #expect(try await Self.json(server, client.key, "PUT", "/v1/collection", Self.settings).status == 200)

        // Four rows: a debtor with an address, one without, one whose address the server
        // refuses, and a row rejected (its CPF's check digits are wrong).
        let file = "external_id;nome;cpf;valor;vencimento;email\n"
            + "M1;Ana Souza;248.438.034-80;1.234,56;01/06/2025;ana@example.com\n"
            + "M2;Bruno Lima;529.982.247-25;10,00;01/06/2025;\n"
            + "M3;Carla Dias;111.444.777-35;20,00;01/06/2025;recusado@example.com\n"
            + "M4;Davi Reis;123.456.789-00;30,00;01/06/2025;davi@example.com\n"
        let id = try await server.upload(Data(file.utf8), key: client.key, name: "cobran%C3%A7as%20novembro.csv")
        #expect(try await server.waitForBatch(id, key: client.key, timeout: 60)["status"] as? String == "completed_with_rejects")

        let got = try await smtp.waitFor(accepted: 2)
        #expect(got.count == 2)
        // Each recipient's first message was answered 451 and sent again.
        #expect(smtp.records.filter { $0["status"] as? Int == 451 }.count == 2)
        #expect(got.allSatisfy { $0["tls"] as? Bool == true && $0["auth"] as? Bool == true && $0["login"] as? String == "esteira" })
        #expect(got.allSatisfy { $0["mail_from"] as? String == "cobranca@esteira.test" })

        // The client's e-mail: the counts by hand (4 received, 3 registered, 1 rejected) and links.
        let batchMail = try #require(got.first { ($0["rcpt_tos"] as? [String]) == ["financeiro@loja.com.br"] })
        #expect(batchMail["subject"] as? String == "Lote cobranças novembro.csv processado, com 1 rejeitada")
        let text = batchMail["text"] as? String ?? ""
        for line in ["Recebidas: 4", "Registradas: 3", "Duplicadas: 0", "Rejeitadas: 1", "Em revisão: 0",
                     "Ver o lote: https://esteira.example.com/app/lotes/\(id)",
                     "Relatório de rejeitadas (CSV): https://esteira.example.com/app/lotes/\(id)/rejeitados.csv"] {
            #expect(text.contains(line), "\(line) in \(text)")
        }
        #expect((batchMail["html"] as? String ?? "").contains("href=\"https://esteira.example.com/app/lotes/\(id)/rejeitados.csv\""))

        // The debtor's e-mail: amount and due date as a Brazilian writes them (due 10 days after
        // today), the codes, and the printable slip attached, whose QR code ZBar reads back.
        let slip = try await server.request("GET", "/v1/debts/M1/bankslip", key: client.key).object
        let slipMail = try #require(got.first { ($0["rcpt_tos"] as? [String]) == ["ana@example.com"] })
        let dueText = TestCalendar.brazilianDay(days: 10)
        #expect(slipMail["subject"] as? String == "Boleto de Loja Exemplo Ltda: R$ 1.234,56, vencimento \(dueText)")
        #expect((slipMail["from"] as? String ?? "").contains("Loja Exemplo Ltda"))
        let slipText = slipMail["text"] as? String ?? ""
        #expect(slipText.contains("Olá, Ana Souza."))
        #expect(slipText.contains(slip["digitable_line"] as? String ?? "-") && slipText.contains(slip["pix_copia_e_cola"] as? String ?? "-"))
        let attachment = try #require((slipMail["attachments"] as? [[String: Any]])?.first)
        #expect(attachment["filename"] as? String == "boleto-M1.html" && attachment["content_type"] as? String == "text/html")
        let page = attachment["content"] as? String ?? ""
        guard let start = page.range(of: #"id="qrcode""#), let open = page.range(of: "<svg", range: start.upperBound..<page.endIndex),
              let close = page.range(of: "</svg>", range: open.lowerBound..<page.endIndex) else {
            Issue.record("no QR code in the attachment")
            return
        }
        #expect(try BarcodeReader.decode(svg: String(page[open.lowerBound..<close.upperBound])) == slip["pix_copia_e_cola"] as? String)

        // What the API says: the slip's e-mail sent after two attempts; none for a debt without an
        // address; the refused one given up at once with the server's answer.
        let email = slip["email"] as? [String: Any] ?? [:]
        #expect(email["state"] as? String == "sent" && email["attempts"] as? Int == 2 && email["to"] as? String == "ana@example.com")
        #expect(try await server.request("GET", "/v1/debts/M2/bankslip", key: client.key).object["email"] == nil)
        var refused: [String: Any] = [:]
        for _ in 0..<50 {
            refused = try await server.request("GET", "/v1/debts/M3/bankslip", key: client.key).object["email"] as? [String: Any] ?? [:]
            if refused["state"] as? String == "dead" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(refused["state"] as? String == "dead" && refused["attempts"] as? Int == 1)
        #expect((refused["error"] as? String ?? "").hasPrefix("550"))
        #expect(smtp.records.filter { $0["refused"] != nil }.count == 1)

        // The client's notification log: the e-mail's two attempts, once the sender has recorded the second.
        let items = try await server.items("/v1/notifications?batch=\(id)", key: client.key) { $0.first?["state"] as? String != "pending" }
        #expect(items.count == 1)
        #expect(items.first?["channel"] as? String == "email" && items.first?["address"] as? String == "financeiro@loja.com.br")
        #expect(items.first?["state"] as? String == "delivered")
        #expect((items.first?["attempts"] as? [[String: Any]] ?? []).map { $0["status_code"] as? Int ?? 0 } == [451, 250])
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
        #expect(try await Self.json(server, client.key, "POST", "/v1/email-recipients", #"{"address": "financeiro@loja.com.br"}"#).status == 201)
        #expect(try await Self.json(server, client.key, "PUT", "/v1/collection", Self.settings).status == 200)
        let id = try await server.upload(Data("external_id,name,document,amount,due_date,email\nK1,Ana,248.438.034-80,10.00,2025-01-01,ana@example.com\n".utf8),
                                         key: client.key, name: "crash.csv")
        #expect(try await server.waitForBatch(id, key: client.key, timeout: 60)["status"] as? String == "completed")
        server.kill9()
        #expect(try server.sql("SELECT state FROM notifications") == "pending")
        #expect(try server.sql("SELECT email_state FROM bankslips") == "pending")
        #expect(smtp.records.isEmpty)

        try server.start()
        let got = try await smtp.waitFor(accepted: 2)
        try await Task.sleep(for: .seconds(2)) // time for a second one, which must not come
        #expect(got.count == 2 && smtp.records.count == 2)
        #expect(Set(got.compactMap { ($0["rcpt_tos"] as? [String])?.first }) == ["financeiro@loja.com.br", "ana@example.com"])
        #expect(try server.sql("SELECT state FROM notifications") == "delivered")
        #expect(try server.sql("SELECT email_state FROM bankslips") == "sent")
    }
}
