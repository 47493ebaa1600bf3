import EsteiraApp
import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import HTTPTypes
import Testing

/// A debtor's rights under LGPD art. 18 through the operators' API, on SQLite and PostgreSQL: the
/// access report finds the debtor everywhere, erasure is refused while a debt is open (and while
/// the hold runs), and once done it reaches every table, checked one by one, while another
/// debtor's data and the ledger stay exactly as they were.
@Suite("Privacy: the access report and erasure of a debtor")
struct PrivacyContractTests {
    // CPF 248.438.034-80 (the debtor) and 529.982.247-25 (another debtor, kept); both valid.
    static let erased = (bare: "24843803480", punctuated: "248.438.034-80")
    static let other = "529.982.247-25"

    @Test("report; refused while open, pending or held; then erased table by table, the ledger whole, the other debtor untouched",
          arguments: InProcessEsteira.dialects)
    func erasure(dialect: SQLDialect) async throws {
        let environment = ["ESTEIRA_WEBHOOK_ALLOW_PRIVATE": "1", "ESTEIRA_ERASURE_HOLD_DAYS": "30"]
        try await InProcessEsteira.with(dialect, environment: environment) { api, runtime in
            let (a, b) = try await InProcessEsteira.twoClients(runtime)
            let admin = try await OperatorStore(db: runtime.db).create(name: "Ana", role: .admin).apiKey
            let viewer = try await OperatorStore(db: runtime.db).create(name: "Vera", role: .operator).apiKey
            #expect(try await api.request(.put, "/v1/collection", key: a.key, body: InProcessEsteira.collectionSettings).status == 200)
            #expect(try await api.post("/v1/webhooks", key: a.key,
                                       json: #"{"url": "http://127.0.0.1:9/h", "events": ["debt.corrected", "debt.paid"]}"#).status == 201)
            let due = TestCalendar.day(months: -1)
            func debt(_ key: String, _ id: String, _ document: String, _ name: String, email: String? = nil) async throws {
                let mail = email.map { #", "email": "\#($0)", "phone": "11987654321", "description": "Contrato de \#(name)""# } ?? ""
                let r = try await api.post("/v1/debts", key: key, json: """
                    {"external_id": "\(id)", "name": "\(name)", "document": "\(document)", "amount": "100,00", "due_date": "\(due)"\(mail)}
                    """)
                #expect(r.status == 201, "\(r.body)")
            }
            // The debtor: X1 and X2 with client A (X1 with e-mail, so its slips are e-mailed), X3 with B.
            try await debt(a.key, "X1", Self.erased.punctuated, "Zuleica Prado", email: "zuleica@example.com")
            try await debt(a.key, "X2", Self.erased.bare, "Zuleica Prado")
            try await debt(b.key, "X3", Self.erased.punctuated, "Zuleica Prado")
            try await debt(a.key, "Y1", Self.other, "Otavio Controle", email: "otavio@example.com")
            // X1 corrected (name and amount: the name is the debtor's, the amount is not), then paid in full.
            let corrected = try await api.request(.patch, "/v1/debts/X1", key: a.key, body: #"{"name": "Zuleica P. Prado", "amount": "90,00"}"#)
            #expect(corrected.status == 200, "\(corrected.body)")
            #expect(try await api.post("/v1/debts/X1/payments", key: a.key,
                                       json: #"{"amount": "90.00", "date": "\#(TestCalendar.day())", "method": "pix"}"#).status == 201)
            // A file with a line of the debtor's rejected (amount) and one of the other's.
            let file = "id_divida;nome;cpf;valor;vencimento\nR1;Zuleica Prado;\(Self.erased.punctuated);abc;\(due)\nR2;Otavio Controle;\(Self.other);abc;\(due)\n"
            let batch = try await api.upload(Array(file.utf8), key: a.key, name: "carteira.csv")
            _ = try await api.finishedBatch(batch, key: a.key)
            // A risk analysis of the debtor.
            #expect(try await api.post("/v1/risk/analyze", key: a.key,
                                       json: #"{"document": "\#(Self.erased.bare)", "amount": "10,00", "trace_key": "rk-1"}"#).status == 200)
            // A submission still open with the debtor's line.
            let submission = try #require(try await api.request(.post, "/v1/submissions", key: a.key).json["id"]?.string)
            let added = try await api.post("/v1/submissions/\(submission)/debts", key: a.key, json: """
                [{"external_id": "X4", "name": "Zuleica Prado", "document": "\(Self.erased.bare)", "amount": "10,00", "due_date": "\(due)"}]
                """)
            #expect(added.status == 200, "\(added.body)")

            func report(_ document: String = Self.erased.punctuated) async throws -> APIResult {
                try await api.post("/v1/admin/privacy/report", key: admin, json: #"{"document": "\#(document)"}"#)
            }
            func erase(key: String? = nil) async throws -> APIResult {
                try await api.post("/v1/admin/privacy/erasure", key: key ?? admin, json: #"{"document": "\#(Self.erased.bare)"}"#)
            }

            // The report: every place, across both clients.
            let before = try await report()
            #expect(before.status == 200, "\(before.body)")
            #expect(before.json["document"]?.string == "248.***.***-80")
            #expect((before.json["debts"]?.items ?? []).map { "\($0["client_id"]?.string ?? "")/\($0["external_id"]?.string ?? ""):\($0["status"]?.string ?? "")" }
                    == ["\(a.id)/X1:paid", "\(a.id)/X2:registered", "\(b.id)/X3:registered"].sorted(), "\(before.body)")
            #expect(before.json["debts"]?.items.first { $0["external_id"]?.string == "X1" }?["email"]?.string == "zuleica@example.com")
            #expect((before.json["rejects"]?.items ?? []).map { $0["raw"]?.string ?? "" }
                    == ["R1;Zuleica Prado;\(Self.erased.punctuated);abc;\(due)"], "\(before.body)")
            #expect(before.json["risk_decisions"]?.items.map { $0["trace_key"]?.string ?? "" } == ["rk-1"])
            #expect(before.json["submission_lines"]?.items.count == 1)
            #expect((before.json["notifications"]?.items ?? []).map { $0["event"]?.string ?? "" } == ["debt.corrected", "debt.paid"])
            #expect((before.json["files"]?.items ?? []).contains { $0["batch_id"]?.string == batch }, "\(before.body)")
            // Bad bodies and roles: 422, 400, and 403 for an operator below admin.
            #expect(try await report("123").json["error", "code"]?.string == "invalid_document")
            #expect(try await api.post("/v1/admin/privacy/report", key: admin, json: "{").status == 400)
            #expect(try await erase(key: viewer).status == 403)

            // Refused: X2 and X3 open, X1 paid just now (within the hold), the submission pending.
            // Nothing changed.
            let refused = try await erase()
            #expect(refused.status == 409 && refused.json["error", "code"]?.string == "erasure_refused", "\(refused.body)")
            #expect(Set((refused.json["error", "issues"]?.items ?? []).map { "\($0["field"]?.string ?? ""):\($0["code"]?.string ?? "")" })
                    == ["\(a.id)/\(submission):pending", "\(a.id)/X1:held", "\(a.id)/X2:open", "\(b.id)/X3:open"], "\(refused.body)")
            #expect(try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM debts WHERE document = '\(Self.erased.bare)'") == "3")

            // The submission submitted (X4 registered) and every debt closed: X2, X3, X4 withdrawn.
            #expect(try await api.request(.post, "/v1/submissions/\(submission)/submit", key: a.key).status == 202)
            for _ in 0..<200 where try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM debts WHERE external_id = 'X4'") != "1" {
                try await Task.sleep(for: .milliseconds(50))
            }
            for (key, id) in [(a.key, "X2"), (b.key, "X3"), (a.key, "X4")] {
                let w = try await api.post("/v1/debts/\(id)/withdrawal", key: key, json: #"{"reason": "pago_ao_credor"}"#)
                #expect(w.status == 200, "\(w.body)")
            }
            // Closed just now, within the 30-day hold: refused, each with the day it ends.
            let held = try await erase()
            #expect(held.status == 409 && (held.json["error", "issues"]?.items ?? []).allSatisfy { $0["code"]?.string == "held" }
                    && held.json["error", "issues"]?.items.count == 4, "\(held.body)")

            // The debtor's history moved 31 days back: past the hold.
            let past = Date().addingTimeInterval(-31 * 86_400)
            try await runtime.db.write { c in
                try await c.execute("UPDATE debts SET created_at = \(past) WHERE document IN ('\(raw: Self.erased.bare)')")
                try await c.execute("""
                    UPDATE debt_events SET at = \(past) WHERE external_id IN ('X1', 'X2', 'X3', 'X4')
                    """)
            }
            let ledgerBefore = try await InProcessEsteira.sql(runtime, "SELECT id, amount_cents, side, balance_after_cents, description, details FROM ledger_entries ORDER BY id")
            let otherBefore = try await Self.otherDebtor(runtime)

            let done = try await erase()
            #expect(done.status == 200, "\(done.body)")
            let pseudonym = try #require(done.json["pseudonym"]?.string)
            #expect(pseudonym.hasPrefix("ANONF") && pseudonym.count == 21)
            // By hand: 4 debts; 1 corrected event; X1's two slips e-mailed (the first for 100.00,
            // cancelled by the correction, the second for 90.00, paid), X2's and X4's slips had no
            // address and B does not collect: 2; the debt.corrected notice: 1 (debt.paid carries
            // no debtor field); 1 reject; 1 risk decision; files: the raw files of the five batches
            // that registered or rejected the debtor's lines (X1, X2 and X3 each a batch of one, X4's
            // submission, the upload). The submission's lines went when it was submitted.
            #expect(done.json["touched", "debts"]?.int == 4 && done.json["touched", "debt_events"]?.int == 1
                    && done.json["touched", "bankslips"]?.int == 2 && done.json["touched", "notifications"]?.int == 1
                    && done.json["touched", "rejects"]?.int == 1 && done.json["touched", "risk_decisions"]?.int == 1
                    && done.json["touched", "files"]?.int == 5, "\(done.body)")
            #expect(done.json["kept", "ledger_entries"]?.int == 1 && done.json["kept", "blacklist"]?.bool == false, "\(done.body)")

            // Table by table.
            #expect(try await InProcessEsteira.sql(runtime, """
                SELECT external_id, name, document, doc_key, email, phone, description, status, amount_cents, paid_cents FROM debts
                WHERE external_id LIKE 'X%' ORDER BY external_id
                """) == """
                X1|Titular anonimizado|\(pseudonym)|-1||||paid|9000|9000
                X2|Titular anonimizado|\(pseudonym)|-1||||withdrawn|10000|0
                X3|Titular anonimizado|\(pseudonym)|-1||||withdrawn|10000|0
                X4|Titular anonimizado|\(pseudonym)|-1||||withdrawn|1000|0
                """)
            let correction = try JSONValue.parse(Array(try await InProcessEsteira.sql(runtime,
                "SELECT details FROM debt_events WHERE external_id = 'X1' AND kind = 'corrected'").utf8))
            #expect(correction["changes", "name", "before"] == .null && correction["changes", "name", "after"] == .null)
            #expect(correction["changes", "amount", "before"]?.string == "100.00", "\(correction)")
            #expect(try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM debt_events WHERE kind = 'erased'") == "4")
            #expect(try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM bankslips WHERE external_id LIKE 'X%' AND email_to IS NOT NULL") == "0")
            let notice = try JSONValue.parse(Array(try await InProcessEsteira.sql(runtime,
                "SELECT payload FROM notifications WHERE event = 'debt.corrected'").utf8))
            #expect(notice["details", "changes", "name", "after"] == .null && notice["details", "changes", "amount", "after"]?.string == "90.00")
            #expect(try await InProcessEsteira.sql(runtime, "SELECT line, raw FROM rejects ORDER BY line")
                    == "2|\n3|R2;Otavio Controle;\(Self.other);abc;\(due)")
            #expect(try await InProcessEsteira.sql(runtime, "SELECT document, metadata FROM risk_decisions") == "\(pseudonym)|")
            #expect(try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM submission_lines") == "0")
            #expect(try await InProcessEsteira.sql(runtime, "SELECT files_purged_at IS NOT NULL FROM batches WHERE id = '\(batch)'") == "1")
            #expect(try await runtime.blobs.list(prefix: "raw/\(a.id)/\(batch)").isEmpty)
            // No column of any table holds the document, the name or the e-mail any more.
            for (table, column) in [("debts", "document"), ("debts", "name"), ("debt_events", "details"), ("notifications", "payload"),
                                    ("rejects", "raw"), ("risk_decisions", "document"), ("bankslips", "email_to"),
                                    ("audit_log", "target"), ("audit_log", "after_value"), ("ledger_entries", "details")] {
                for needle in [Self.erased.bare, Self.erased.punctuated, "Zuleica", "zuleica@"] {
                    #expect(try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM \(table) WHERE \(column) LIKE '%\(needle)%'") == "0",
                            "\(table).\(column) holds \(needle)")
                }
            }
            // Whole: the ledger and the other debtor.
            #expect(try await InProcessEsteira.sql(runtime, "SELECT id, amount_cents, side, balance_after_cents, description, details FROM ledger_entries ORDER BY id")
                    == ledgerBefore)
            #expect(try await Self.otherDebtor(runtime) == otherBefore)
            // The audit: one line, the document masked.
            #expect(try await InProcessEsteira.sql(runtime, "SELECT operator_name, target FROM audit_log WHERE action = 'privacy.erase'")
                    == "Ana|document:248.***.***-80")

            // The client still reads its debt, by the pseudonym, with its history.
            let listed = try await api.get("/v1/debts/X1", key: a.key)
            #expect(listed.status == 200 && listed.json["document"]?.string == pseudonym && listed.json["name"]?.string == "Titular anonimizado",
                    "\(listed.body)")
            let history = try await api.get("/v1/debts/X1/history", key: a.key).json["items"]?.items ?? []
            #expect(history.last?["kind"]?.string == "erased", "\(history)")
            // Nothing left to report; a second erasure finds nothing to touch.
            let after = try await report()
            #expect(after.json["debts"]?.items.isEmpty == true && after.json["rejects"]?.items.isEmpty == true
                    && after.json["risk_decisions"]?.items.isEmpty == true && after.json["submission_lines"]?.items.isEmpty == true, "\(after.body)")
            let again = try await erase()
            #expect(again.status == 200 && again.json["touched", "debts"]?.int == 0 && again.json["pseudonym"] == .null, "\(again.body)")
        }
    }

    /// Everything of the other debtor, as text.
    static func otherDebtor(_ runtime: Runtime) async throws -> String {
        try await InProcessEsteira.sql(runtime, """
            SELECT external_id, name, document, email, phone, description, status FROM debts WHERE external_id = 'Y1'
            """) + "\n" + InProcessEsteira.sql(runtime, """
            SELECT email_to FROM bankslips WHERE external_id = 'Y1'
            """)
    }
}
