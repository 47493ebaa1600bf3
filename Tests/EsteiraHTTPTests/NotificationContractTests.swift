import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import HTTPTypes
import Testing

/// The outbox's senders, in process beside the API, on SQLite and on PostgreSQL, against real
/// servers in processes of their own: `scripts/webhook-receiver.py`, which fails the first
/// deliveries on request and checks each signature with Python's own HMAC, and
/// `scripts/smtp-receiver.py` (aiosmtpd). What needs a restart stays in the real-binary suites.
@Suite("API contract, in process: webhooks and e-mail from the outbox", .serialized)
struct NotificationContractTests {
    static let fastRetries = ["ESTEIRA_NOTIFY_RETRY_BASE_SECONDS": "0.2", "ESTEIRA_NOTIFY_RETRY_CAP_SECONDS": "1",
                              "ESTEIRA_NOTIFY_POLL_SECONDS": "0.1"]
    static let collection = InProcessEsteira.collectionSettings

    static func endpoint(_ api: APITestClient, key: String, url: String, events: String? = nil) async throws -> JSONValue {
        let body = events.map { #"{"url": "\#(url)", "events": \#($0)}"# } ?? #"{"url": "\#(url)"}"#
        let r = try await api.post("/v1/webhooks", key: key, json: body)
        #expect(r.status == 201, "\(r.body)")
        return r.json
    }

    @Test("webhooks: signed, retried after failures with each attempt logged, sent again on request; only the events asked for",
          arguments: InProcessEsteira.dialects)
    func deliveries(dialect: SQLDialect) async throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        try await InProcessEsteira.with(dialect, environment: Self.fastRetries.merging(["ESTEIRA_WEBHOOK_ALLOW_PRIVATE": "1"]) { $1 },
                                        companions: true) { api, runtime in
            let client = try await InProcessEsteira.client(runtime, name: "Loja")
            let bad = try await api.post("/v1/webhooks", key: client.key, json: #"{"url": "ftp://x"}"#)
            #expect(bad.status == 422 && bad.body.contains("\"field\":\"url\""))
            let unknown = try await api.post("/v1/webhooks", key: client.key, json: #"{"url": "http://x.y", "events": ["batch.eaten"]}"#)
            #expect(unknown.status == 422 && unknown.body.contains("invalid_event"))

            let hook = try await Self.endpoint(api, key: client.key, url: receiver.base + "/hooks/esteira")
            let secret = try #require(hook["secret"]?.string)
            // A second endpoint that wants only failures: a completed batch does not reach it.
            _ = try await Self.endpoint(api, key: client.key, url: receiver.base + "/only-failures", events: #"["batch.failed"]"#)
            #expect((try await api.get("/v1/webhooks", key: client.key).json["items"]?.elements)?.count == 2)
            try await receiver.control(secret: secret, failFirst: 2)

            let id = try await api.upload(Array("external_id,name,document,amount,due_date\nW1,Ana,248.438.034-80,10.00,\(TestCalendar.year(-1))-01-01\nW2,Bia,123,1.00,\(TestCalendar.year(-1))-01-01\n".utf8),
                                             key: client.key, name: "hooks.csv")
            _ = try await api.finishedBatch(id, key: client.key, timeout: 60)
            let got = try await receiver.waitFor(3)
            #expect(got.count == 3)
            #expect(got.map { $0["status"]?.int ?? 0 } == [500, 500, 200])
            #expect(got.allSatisfy { $0["signature_ok"]?.bool == true && $0["path"]?.string == "/hooks/esteira" })
            #expect(Set(got.map { $0["delivery"]?.string ?? "" }).count == 1) // the same delivery id on each attempt
            let body = try #require(got.last?["body"])
            #expect(body["event"]?.string == "batch.completed_with_rejects")
            let batch = body["batch"] ?? .null
            #expect(batch["id"]?.string == id)
            #expect(batch.counts == ["received": 2, "registered": 1, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": 1, "review": 0])

            // The log: one notification, three attempts, delivered, read until the sender has recorded
            // its answer.
            let log = "/v1/notifications?batch=\(id)"
            var items = try await api.items(log, key: client.key) { $0.first?["state"]?.string != "pending" }
            #expect(items.count == 1)
            #expect(items.first?["state"]?.string == "delivered")
            #expect((items.first?["attempts"]?.elements ?? []).map { $0["status_code"]?.int ?? 0 } == [500, 500, 200])

            // Sent again on request: one more delivery, same id.
            let notificationID = try #require(items.first?["id"]?.int)
            #expect(try await api.request(.post, "/v1/notifications/\(notificationID)/redeliver", key: client.key).status == 202)
            let again = try await receiver.waitFor(4)
            #expect(again.count == 4 && again.last?["delivery"]?.string == got.last?["delivery"]?.string)
            items = try await api.items(log, key: client.key) { ($0.first?["attempts"]?.elements)?.count == 4 }
            #expect((items.first?["attempts"]?.elements)?.count == 4)
            #expect(try await api.request(.post, "/v1/notifications/999999/redeliver", key: client.key).status == 404)
            #expect(try await api.get("/v1/notifications", key: client.key).status == 400)
        }
    }

    @Test("e-mail over SMTP: the client's batch e-mail and the debtor's slip, STARTTLS and AUTH, retried after 451, given up after 550, in Portuguese",
          arguments: InProcessEsteira.dialects)
    func emails(dialect: SQLDialect) async throws {
        let smtp = try SMTPReceiver(failFirst: 1)
        defer { smtp.stop() }
        try await InProcessEsteira.with(dialect, environment: smtp.environment.merging(Self.fastRetries) { $1 }, companions: true) { api, runtime in
            let client = try await InProcessEsteira.client(runtime, name: "Loja")
            // Addresses checked; the client's address wants only batches with rejects.
            let bad = try await api.post("/v1/email-recipients", key: client.key, json: #"{"address": "financeiro@"}"#)
            #expect(bad.status == 422 && bad.body.contains("invalid_email") && bad.body.contains("\"field\":\"address\""))
            let unknown = try await api.post("/v1/email-recipients", key: client.key, json: #"{"address": "a@loja.com.br", "events": ["x"]}"#)
            #expect(unknown.status == 422 && unknown.body.contains("invalid_event"))
            let created = try await api.post("/v1/email-recipients", key: client.key, json: #"{"address": "financeiro@loja.com.br", "events": ["batch.completed_with_rejects", "batch.failed"]}"#)
            #expect(created.status == 201)
            #expect((try await api.get("/v1/email-recipients", key: client.key).json["items"]?.elements)?.count == 1)
            #expect(try await api.request(.put, "/v1/collection", key: client.key, body: Self.collection).status == 200)

            // Four rows: a debtor with an address, one without, one whose address the server
            // refuses, and a row rejected (its CPF's check digits are wrong).
            let due = TestCalendar.brazilianDay(months: -1)
            let file = "external_id;nome;cpf;valor;vencimento;email\n"
                + "M1;Ana Souza;248.438.034-80;1.234,56;\(due);ana@example.com\n"
                + "M2;Bruno Lima;529.982.247-25;10,00;\(due);\n"
                + "M3;Carla Dias;111.444.777-35;20,00;\(due);recusado@example.com\n"
                + "M4;Davi Reis;123.456.789-00;30,00;\(due);davi@example.com\n"
            let id = try await api.upload(Array(file.utf8), key: client.key, name: "cobranças novembro.csv")
            #expect(try await api.finishedBatch(id, key: client.key, timeout: 60)["status"]?.string == "completed_with_rejects")

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
            let slip = try await api.get("/v1/debts/M1/bankslip", key: client.key).json
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
            #expect(try await api.get("/v1/debts/M2/bankslip", key: client.key).json["email"] == nil)
            var refused = JSONValue.null
            for _ in 0..<50 {
                refused = try await api.get("/v1/debts/M3/bankslip", key: client.key).json["email"] ?? .null
                if refused["state"]?.string == "dead" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(refused["state"]?.string == "dead" && refused["attempts"]?.int == 1)
            #expect((refused["error"]?.string ?? "").hasPrefix("550"))
            #expect(smtp.records.filter { $0["refused"] != nil }.count == 1)

            // The client's notification log: the e-mail's two attempts, once the sender has recorded the second.
            let items = try await api.items("/v1/notifications?batch=\(id)", key: client.key) { $0.first?["state"]?.string != "pending" }
            #expect(items.count == 1)
            #expect(items.first?["channel"]?.string == "email" && items.first?["address"]?.string == "financeiro@loja.com.br")
            #expect(items.first?["state"]?.string == "delivered")
            #expect((items.first?["attempts"]?.elements ?? []).map { $0["status_code"]?.int ?? 0 } == [451, 250])
        }
    }

    @Test("a debt's changes by e-mail, to the address that names them only; in Portuguese, with the change and where the debt stands",
          arguments: InProcessEsteira.dialects)
    func debtEmails(dialect: SQLDialect) async throws {
        let smtp = try SMTPReceiver(failFirst: 0)
        defer { smtp.stop() }
        try await InProcessEsteira.with(dialect, environment: smtp.environment.merging(Self.fastRetries) { $1 }, companions: true) { api, runtime in
            let client = try await InProcessEsteira.client(runtime, name: "Loja")
            // One address names two of a debt's changes; the other names none, so it hears of batches only.
            let named = try await api.post("/v1/email-recipients", key: client.key, json: #"{"address": "carteira@loja.com.br", "events": ["debt.corrected", "debt.withdrawn"]}"#)
            #expect(named.status == 201, "\(named.body)")
            let plain = try await api.post("/v1/email-recipients", key: client.key, json: #"{"address": "lotes@loja.com.br"}"#)
            #expect(plain.json["events"]?.items.compactMap(\.string) == ["batch.completed", "batch.completed_with_rejects", "batch.failed", "batch.stalled"],
                    "\(plain.body)")
            let due = TestCalendar.day(months: -1)
            #expect(try await api.post("/v1/debts", key: client.key, json: #"{"external_id": "E1", "name": "Ana", "document": "248.438.034-80", "amount": "1234,56", "due_date": "\#(due)"}"#).status == 201)
            #expect(try await api.request(.patch, "/v1/debts/E1", key: client.key, body: #"{"amount": "1300,00"}"#).status == 200)
            #expect(try await api.post("/v1/debts/E1/payments", key: client.key, json: #"{"amount": "100.00", "date": "\#(TestCalendar.day())", "method": "pix"}"#).status == 201)
            #expect(try await api.post("/v1/debts/E1/withdrawal", key: client.key, json: #"{"reason": "acordo_direto", "note": "Acordo na loja"}"#).status == 200)

            // Two e-mails, both to the address that named them: the payment was not named.
            let got = try await smtp.waitFor(accepted: 2)
            #expect(got.count == 2 && got.allSatisfy { $0["rcpt_tos"]?.items.compactMap(\.string) == ["carteira@loja.com.br"] })
            let corrected = try #require(got.first { $0["subject"]?.string == "Dívida E1 alterada" }, "\(got)")
            let hint = "…" + client.key.suffix(4)
            for line in ["valor: R$ 1.234,56 → R$ 1.300,00", "Feita pela chave de API \(hint).",
                         "Situação: registrada. Valor R$ 1.300,00, pago R$ 0,00, em aberto R$ 1.300,00."] {
                #expect((corrected["text"]?.string ?? "").contains(line), "\(line) in \(corrected["text"]?.string ?? "")")
            }
            let withdrawn = try #require(got.first { $0["subject"]?.string == "Dívida E1 baixada" }, "\(got)")
            // After 100,00 of 1.300,00 paid: 1.200,00 were open when it was withdrawn.
            for line in ["Motivo: acordo direto.", "Observação: Acordo na loja",
                         "Situação: baixada. Valor R$ 1.300,00, pago R$ 100,00, em aberto R$ 1.200,00."] {
                #expect((withdrawn["text"]?.string ?? "").contains(line), "\(line) in \(withdrawn["text"]?.string ?? "")")
            }
            // A file's rows tell the same, with the batch and its line as who made the change.
            for id in ["E2", "E3"] {
                #expect(try await api.post("/v1/debts", key: client.key, json: #"{"external_id": "\#(id)", "name": "Ana", "document": "248.438.034-80", "amount": "10,00", "due_date": "\#(due)"}"#).status == 201)
            }
            let file = "operacao;external_id;nome;cpf;valor;vencimento;motivo_baixa\n"
                + "A;E2;Ana;248.438.034-80;11,00;\(due);\nB;E3;;;;;obito\n"
            let batch = try await api.upload(Array(file.utf8), key: client.key, name: "movimento.csv")
            #expect(try await api.finishedBatch(batch, key: client.key).counts["updated"] == 1)
            // Two more about the debts, and the batch's to the address that names no event: in any order.
            let all = try await smtp.waitFor(accepted: 5)
            let e2 = try #require(all.first { $0["subject"]?.string == "Dívida E2 alterada" }, "\(all)")
            #expect((e2["text"]?.string ?? "").contains("valor: R$ 10,00 → R$ 11,00\nFeita pelo lote \(batch), linha 2."), "\(e2)")
            let e3 = try #require(all.first { $0["subject"]?.string == "Dívida E3 baixada" }, "\(all)")
            #expect((e3["text"]?.string ?? "").contains("Motivo: óbito."), "\(e3)")
            // And the address that named no event heard of the batch, and of nothing else.
            let batchMail = all.filter { $0["rcpt_tos"]?.items.compactMap(\.string) == ["lotes@loja.com.br"] }
            #expect(batchMail.map { $0["subject"]?.string } == ["Lote movimento.csv processado"], "\(batchMail)")
            try await Task.sleep(for: .milliseconds(300))
            #expect(smtp.records.count == 5)
        }
    }
}

/// The operators hear of a client not told: `notification.dead`.
@Suite("API contract, in process: a client's notice given up is an operators' alert", .serialized)
struct DeadNotificationAlertContractTests {
    @Test("a webhook given up after its last attempt raises notification.dead, by e-mail, to the targets that want it",
          arguments: InProcessEsteira.dialects)
    func deadNotificationAlert(dialect: SQLDialect) async throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let smtp = try SMTPReceiver(failFirst: 0)
        defer { smtp.stop() }
        let environment = NotificationContractTests.fastRetries.merging(smtp.environment) { $1 }
            .merging(["ESTEIRA_WEBHOOK_ALLOW_PRIVATE": "1", "ESTEIRA_NOTIFY_MAX_ATTEMPTS": "2"]) { $1 }
        try await InProcessEsteira.with(dialect, environment: environment, companions: true) { api, runtime in
            let client = try await InProcessEsteira.client(runtime, name: "Loja")
            let store = NotificationStore(db: runtime.db)
            _ = try await store.createAlertTarget(url: nil, address: "operacao@agencia.test", events: [.notificationDead])
            _ = try await store.createAlertTarget(url: nil, address: "lago@agencia.test", events: [.lakeRunFailed])
            let hook = try await NotificationContractTests.endpoint(api, key: client.key, url: receiver.base + "/hooks",
                                                                    events: #"["batch.completed"]"#)
            // The client's server answers 500 to every delivery: two attempts, then given up.
            try await receiver.control(secret: try #require(hook["secret"]?.string), failFirst: 100)
            let file = "external_id,name,document,amount,due_date\nN1,Ana,248.438.034-80,10.00,\(TestCalendar.year(-1))-01-01\n"
            let id = try await api.upload(Array(file.utf8), key: client.key, name: "aviso.csv")
            #expect(try await api.finishedBatch(id, key: client.key)["status"]?.string == "completed")
            let items = try await api.items("/v1/notifications?batch=\(id)", key: client.key) { $0.first?["state"]?.string == "dead" }
            #expect(items.first?["state"]?.string == "dead" && (items.first?["attempts"]?.elements)?.count == 2, "\(items)")
            let notification = try #require(items.first?["id"]?.int)

            let mail = try #require(try await smtp.waitFor(accepted: 1).first)
            #expect(mail["to"]?.string == "operacao@agencia.test")
            #expect(mail["subject"]?.string == "Esteira: aviso \(notification) a um cliente não entregue", "\(mail)")
            let text = mail["text"]?.string ?? ""
            #expect(text.contains("O webhook batch.completed ao cliente \(client.id) (sobre \(id)) não foi entregue depois de 2 tentativas:"),
                    "\(text)")
            #expect(text.contains("POST /v1/notifications/\(notification)/redeliver"))
            // Only the target that asked for it: the lake's address hears nothing.
            try await Task.sleep(for: .milliseconds(300))
            #expect(smtp.accepted.count == 1)
        }
    }
}
