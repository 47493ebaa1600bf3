import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import HTTPTypes
import Testing

/// A registered debt's withdrawal (baixa) and history, in process, on SQLite and on PostgreSQL.
@Suite("API contract, in process: withdrawals and a debt's history")
struct PortfolioContractTests {
    @Test("a withdrawal: the debt withdrawn, its open slip cancelled, no payment or slip after it, again a duplicate; each change in the history with its actor",
          arguments: InProcessEsteira.dialects)
    func withdrawal(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let (client, other) = try await InProcessEsteira.twoClients(runtime)
            func call(_ method: HTTPRequest.Method, _ path: String, _ body: String? = nil, key: String? = nil) async throws -> APIResult {
                try await api.request(method, path, key: key ?? client.key, body: body)
            }
            let settings = InProcessEsteira.collectionSettings
            #expect(try await call(.put, "/v1/collection", settings).status == 200)
            let created = try await call(.post, "/v1/debts", #"{"external_id": "W1", "name": "Ana", "document": "248.438.034-80", "amount": "100,00", "due_date": "\#(TestCalendar.day(months: -1))"}"#)
            #expect(created.status == 201, "\(created.body)")
            let batchID = try #require(created.json["batch_id"]?.string)
            // The client collects through Esteira: the debt got slip 1 at registration.
            #expect(try await call(.get, "/v1/debts/W1/bankslip").json["our_number"]?.int == 1)
            let paid = try await call(.post, "/v1/debts/W1/payments", #"{"amount": "30.00", "date": "\#(TestCalendar.day())", "method": "pix"}"#)
            #expect(paid.status == 201, "\(paid.body)")
            // The partial payment replaced slip 1 by slip 2, for the 70.00 still open.
            #expect(try await call(.get, "/v1/debts/W1/bankslip").json["our_number"]?.int == 2)

            // Refused before anything changes: a reason that is not one of the list, a body that is not JSON.
            let badReason = try await call(.post, "/v1/debts/W1/withdrawal", #"{"reason": "cansei"}"#)
            #expect(badReason.status == 422 && badReason.json["error", "code"]?.string == "invalid_reason"
                    && badReason.json["error", "field"]?.string == "reason", "\(badReason.body)")
            #expect((badReason.json["error", "message"]?.string ?? "").contains("pago_ao_credor"))
            #expect(try await call(.post, "/v1/debts/W1/withdrawal", "motivo").json["error", "code"]?.string == "invalid_json")
            #expect(try await call(.post, "/v1/debts/NAO/withdrawal", #"{"reason": "obito"}"#).status == 404)
            #expect(try await call(.post, "/v1/debts/W1/withdrawal", #"{"reason": "obito"}"#, key: other.key).status == 404)
            #expect(try await call(.get, "/v1/debts/W1").json["status"]?.string == "partially_paid")

            let withdrawn = try await call(.post, "/v1/debts/W1/withdrawal", #"{"reason": "pago_ao_credor", "note": "Pagou direto na loja"}"#)
            #expect(withdrawn.status == 200, "\(withdrawn.body)")
            #expect(withdrawn.json["status"]?.string == "withdrawn" && withdrawn.json["duplicate"]?.bool == false
                    && withdrawn.json["cancelled_slip"]?.int == 2, "\(withdrawn.body)")
            #expect(try await call(.get, "/v1/debts/W1").json["status"]?.string == "withdrawn")
            #expect(try await InProcessEsteira.sql(runtime, "SELECT status FROM bankslips WHERE external_id = 'W1' ORDER BY our_number") == "cancelled\ncancelled")

            // Withdrawn: no slip, no payment; the same withdrawal again changes nothing.
            let slip = try await call(.get, "/v1/debts/W1/bankslip")
            #expect(slip.status == 409 && slip.json["error", "code"]?.string == "debt_closed", "\(slip.body)")
            let late = try await call(.post, "/v1/debts/W1/payments", #"{"amount": "10.00", "date": "\#(TestCalendar.day())", "method": "pix"}"#)
            #expect(late.status == 422 && late.json["error", "code"]?.string == "P005", "\(late.body)")
            let again = try await call(.post, "/v1/debts/W1/withdrawal", #"{"reason": "obito"}"#)
            #expect(again.status == 200 && again.json["duplicate"]?.bool == true && again.json["cancelled_slip"] == .null, "\(again.body)")
            #expect(try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM bankslips WHERE external_id = 'W1'") == "2")
            // Sent again as an inclusion: withdrawn stays withdrawn. The same content is a duplicate
            // that changes nothing; other content is R009, as for any registered debt.
            let resent = try await call(.post, "/v1/debts", #"{"external_id": "W1", "name": "Ana", "document": "248.438.034-80", "amount": "100,00", "due_date": "\#(TestCalendar.day(months: -1))"}"#)
            #expect(resent.status == 200 && resent.json["debt", "status"]?.string == "withdrawn", "\(resent.body)")
            let changed = try await call(.post, "/v1/debts", #"{"external_id": "W1", "name": "Ana", "document": "248.438.034-80", "amount": "120,00", "due_date": "\#(TestCalendar.day(months: -1))"}"#)
            #expect(changed.status == 409 && changed.json["error", "code"]?.string == "R009", "\(changed.body)")

            // The history, oldest first: registered by its batch's line 1, slip 1 issued by Esteira;
            // 30.00 paid by the client's key (`…` and its last four characters), which cancelled
            // slip 1 and had slip 2 issued for 70.00; the withdrawal, which cancelled slip 2. The
            // second withdrawal is not there: it changed nothing.
            let history = try await call(.get, "/v1/debts/W1/history")
            #expect(history.status == 200, "\(history.body)")
            let events = history.json["items"]?.items ?? []
            #expect(events.map { "\($0["kind"]?.string ?? ""):\($0["details", "our_number"]?.text ?? "")" }
                    == ["registered:", "slip_issued:1", "paid:", "slip_cancelled:1", "slip_issued:2", "withdrawn:", "slip_cancelled:2"], "\(history.body)")
            let hint = "…" + client.key.suffix(4)
            #expect(events.map { "\($0["actor", "kind"]?.string ?? ""):\($0["actor", "id"]?.string ?? "")" }
                    == ["batch:\(batchID)", "esteira:", "api_key:\(hint)", "api_key:\(hint)", "esteira:", "api_key:\(hint)", "api_key:\(hint)"],
                    "\(history.body)")
            #expect(events.first?["actor", "line"]?.int == 1)
            #expect(events.first?["details"]?.strings == ["amount": "100.00", "due_date": TestCalendar.day(months: -1)], "\(history.body)")
            #expect(events[2]["details", "amount"]?.string == "30.00" && events[2]["details", "status"]?.string == "partially_paid")
            #expect(events[4]["details", "amount"]?.string == "70.00" && events[1]["details", "amount"]?.string == "100.00")
            #expect(events[5]["details"]?.strings == ["reason": "pago_ao_credor", "note": "Pagou direto na loja", "status_before": "partially_paid"],
                    "\(history.body)")
            #expect(events.allSatisfy { ($0["at"]?.string ?? "").hasSuffix("Z") })
            #expect(try await call(.get, "/v1/debts/W1/history", key: other.key).status == 404)
            #expect(try await call(.get, "/v1/debts/NAO/history").status == 404)
        }
    }

    /// Due six years ago: the risk rules flag the debt for review (K007, time-barred after five).
    @Test("review decisions: all or nothing with every problem by index; approved registered, rejected out of collection with its K-code and its slip cancelled",
          arguments: InProcessEsteira.dialects)
    func reviewDecisions(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let (op, opKey) = try await OperatorStore(db: runtime.db).create(name: "Ana", role: .admin)
            let settings = InProcessEsteira.collectionSettings
            #expect(try await api.request(.put, "/v1/collection", key: client.key, body: settings).status == 200)
            for (id, due) in [("R1", TestCalendar.day(years: -6)), ("R2", TestCalendar.day(years: -6)), ("R3", TestCalendar.day(months: -1))] {
                let r = try await api.post("/v1/debts", key: client.key, json: #"{"external_id": "\#(id)", "name": "Ana", "document": "248.438.034-80", "amount": "50,00", "due_date": "\#(due)"}"#)
                #expect(r.status == 201, "\(r.body)")
            }
            #expect(try await api.get("/v1/debts/R2", key: client.key).json["status"]?.string == "review")
            #expect(try await api.get("/v1/debts/R2/bankslip", key: client.key).json["our_number"]?.int == 2)
            func decide(_ json: String, key: String? = nil) async throws -> APIResult {
                try await api.post("/v1/admin/reviews", key: key ?? opKey, json: json)
            }
            func item(_ id: String, _ decision: String, note: String? = nil) -> String {
                #"{"client_id": "\#(client.id)", "external_id": "\#(id)", "decision": "\#(decision)""# + (note.map { #", "note": "\#($0)""# } ?? "") + "}"
            }

            // A client's key does not decide; a list with problems applies none of it.
            #expect(try await decide(#"{"decisions": [\#(item("R1", "approve"))]}"#, key: client.key).status == 401)
            let word = try await decide(#"{"decisions": [\#(item("R1", "approve")), \#(item("R2", "talvez"))]}"#)
            #expect(word.status == 422 && word.json["error", "code"]?.string == "invalid_decisions", "\(word.body)")
            #expect(word.json["error", "issues"]?.items.map { "\($0["index"]?.int ?? -1):\($0["code"]?.string ?? "")" } == ["1:invalid_decision"])
            let refused = try await decide(#"{"decisions": [\#(item("R1", "approve")), \#(item("R3", "reject")), \#(item("NAO", "reject")), \#(item("R1", "reject"))]}"#)
            #expect(refused.status == 422, "\(refused.body)")
            #expect(refused.json["error", "issues"]?.items.map { "\($0["index"]?.int ?? -1):\($0["code"]?.string ?? "")" }
                    == ["1:not_in_review", "2:not_found", "3:repeated"], "\(refused.body)")
            #expect(try await api.get("/v1/debts/R1", key: client.key).json["status"]?.string == "review")

            let decided = try await decide(#"{"decisions": [\#(item("R1", "approve", note: "Cobrança ainda possível")), \#(item("R2", "reject"))]}"#)
            #expect(decided.status == 200, "\(decided.body)")
            #expect(decided.json["items"]?.items.map { "\($0["external_id"]?.string ?? ""):\($0["status"]?.string ?? "")" } == ["R1:registered", "R2:rejected"])
            #expect(try await api.get("/v1/debts/R1", key: client.key).json["status"]?.string == "registered")
            #expect(try await api.get("/v1/debts/R2", key: client.key).json["status"]?.string == "rejected")
            // Decided once: a second decision on R1 is refused.
            #expect(try await decide(#"{"decisions": [\#(item("R1", "reject"))]}"#).json["error", "issues"]?.items.first?["code"]?.string == "not_in_review")

            // Rejected: out of collection, its slip cancelled.
            #expect(try await api.get("/v1/debts/R2/bankslip", key: client.key).json["error", "code"]?.string == "debt_closed")
            let payment = try await api.post("/v1/debts/R2/payments", key: client.key, json: #"{"amount": "1.00", "date": "\#(TestCalendar.day())", "method": "pix"}"#)
            #expect(payment.json["error", "code"]?.string == "P005", "\(payment.body)")
            #expect(try await InProcessEsteira.sql(runtime, "SELECT status FROM bankslips WHERE external_id = 'R2'") == "cancelled")
            #expect(try await api.get("/v1/debts/R1/bankslip", key: client.key).json["our_number"]?.int == 1)

            let events = try await api.get("/v1/debts/R2/history", key: client.key).json["items"]?.items ?? []
            #expect(events.map { $0["kind"]?.string ?? "" } == ["registered", "slip_issued", "review_decided", "slip_cancelled"])
            let review = try #require(events.first { $0["kind"]?.string == "review_decided" })
            #expect(review["actor", "kind"]?.string == "operator" && review["actor", "id"]?.string == op.id)
            #expect(review["details", "decision"]?.string == "reject" && review["details", "status"]?.string == "rejected"
                    && review["details", "note"] == .null && review["details", "codes"]?.items.compactMap(\.string) == ["K007"], "\(review)")
            let approved = (try await api.get("/v1/debts/R1/history", key: client.key).json["items"]?.items ?? []).last
            #expect(approved?["details", "note"]?.string == "Cobrança ainda possível" && approved?["details", "status"]?.string == "registered")
        }
    }

    /// The notices go to the outbox in the change's transaction; the sender is not running here,
    /// so they wait there, read back as the client reads its log and as they would be sent.
    @Test("notices: a subscribed client hears of a payment, a review decided and a withdrawal, each with the debt as it now is",
          arguments: InProcessEsteira.dialects)
    func notices(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect, environment: ["ESTEIRA_WEBHOOK_ALLOW_PRIVATE": "1"]) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let opKey = try await OperatorStore(db: runtime.db).create(name: "Ana", role: .admin).apiKey
            let hook = try await api.post("/v1/webhooks", key: client.key,
                                          json: #"{"url": "http://127.0.0.1:9/hooks", "events": ["debt.paid", "debt.withdrawn", "debt.review_decided"]}"#)
            #expect(hook.status == 201, "\(hook.body)")
            // N2 is due six years ago: flagged for review (K007).
            for (id, due) in [("N1", TestCalendar.day(months: -1)), ("N2", TestCalendar.day(years: -6))] {
                #expect(try await api.post("/v1/debts", key: client.key, json: #"{"external_id": "\#(id)", "name": "Ana", "document": "248.438.034-80", "amount": "60,00", "due_date": "\#(due)"}"#).status == 201)
            }
            #expect(try await api.post("/v1/debts/N1/payments", key: client.key, json: #"{"amount": "20.00", "date": "\#(TestCalendar.day())", "method": "pix"}"#).status == 201)
            #expect(try await api.post("/v1/debts/N1/withdrawal", key: client.key, json: #"{"reason": "acordo_direto"}"#).status == 200)
            #expect(try await api.post("/v1/admin/reviews", key: opKey,
                                        json: #"{"decisions": [{"client_id": "\#(client.id)", "external_id": "N2", "decision": "approve"}]}"#).status == 200)

            let log = try await api.get("/v1/notifications?batch=debt/N1", key: client.key).json["items"]?.items ?? []
            #expect(log.map { $0["event"]?.string ?? "" } == ["debt.paid", "debt.withdrawn"], "\(log)")
            let payloads = try await InProcessEsteira.sql(runtime, "SELECT payload FROM notifications WHERE batch_id = 'debt/N1' ORDER BY id")
                .split(separator: "\n").map { try JSONValue.parse(Array($0.utf8)) }
            #expect(payloads.count == 2)
            // After 20.00 of 60.00: partially paid, 40.00 open; then withdrawn, still 40.00 open.
            #expect(payloads.first?["debt"]?.strings == ["external_id": "N1", "status": "partially_paid", "amount": "60.00", "paid": "20.00", "open": "40.00"])
            #expect(payloads.first?["details", "amount"]?.string == "20.00" && payloads.first?["event"]?.string == "debt.paid")
            #expect(payloads.last?["debt", "status"]?.string == "withdrawn" && payloads.last?["details", "reason"]?.string == "acordo_direto")
            #expect(payloads.last?["actor", "kind"]?.string == "api_key")
            let review = try await api.get("/v1/notifications?batch=debt/N2", key: client.key).json["items"]?.items ?? []
            #expect(review.map { $0["event"]?.string ?? "" } == ["debt.review_decided"], "\(review)")
        }
    }

    @Test("a correction: the fields changed, validated as a whole debt, the slip following the open amount, every field before and after in the history; the document never changes",
          arguments: InProcessEsteira.dialects)
    func correction(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let (client, other) = try await InProcessEsteira.twoClients(runtime)
            func patch(_ id: String, _ json: String, key: String? = nil) async throws -> APIResult {
                try await api.request(.patch, "/v1/debts/\(id)", key: key ?? client.key, body: json)
            }
            let settings = InProcessEsteira.collectionSettings
            #expect(try await api.request(.put, "/v1/collection", key: client.key, body: settings).status == 200)
            let due = TestCalendar.day(months: -1)
            #expect(try await api.post("/v1/debts", key: client.key, json: #"{"external_id": "C1", "name": "Ana", "document": "248.438.034-80", "amount": "100,00", "due_date": "\#(due)"}"#).status == 201)
            #expect(try await api.post("/v1/debts/C1/payments", key: client.key, json: #"{"amount": "30.00", "date": "\#(TestCalendar.day())", "method": "pix"}"#).status == 201)

            // 100.00 → 150.00 with 30.00 paid: 120.00 open, on a new slip (1 issued, 2 after the payment, 3 now).
            let corrected = try await patch("C1", #"{"amount": "150,00", "email": "Novo@Example.com", "nome": "Ana Maria"}"#)
            #expect(corrected.status == 200, "\(corrected.body)")
            #expect(corrected.json["changed"]?.items.compactMap(\.string) == ["amount", "email", "name"] && corrected.json["duplicate"]?.bool == false)
            #expect(corrected.json["debt", "amount_cents"]?.int == 15_000 && corrected.json["debt", "email"]?.string == "novo@example.com"
                    && corrected.json["debt", "status"]?.string == "partially_paid", "\(corrected.body)")
            let slip = try await api.get("/v1/debts/C1/bankslip", key: client.key).json
            #expect(slip["our_number"]?.int == 3 && slip["amount"]?.string == "120.00", "\(slip)")
            let again = try await patch("C1", #"{"amount": "150.00", "name": "Ana Maria"}"#)
            #expect(again.status == 200 && again.json["duplicate"]?.bool == true && again.json["changed"]?.items.isEmpty == true, "\(again.body)")

            // Refused, nothing changed: another document (R016), below what was paid (R017), a day
            // that does not exist (R006), a field no debt has, another external id, another client's.
            let document = try await patch("C1", #"{"document": "529.982.247-25"}"#)
            #expect(document.status == 422 && document.json["error", "code"]?.string == "R016" && document.json["error", "field"]?.string == "document",
                    "\(document.body)")
            let below = try await patch("C1", #"{"amount": "20,00"}"#)
            #expect(below.status == 422 && below.json["error", "code"]?.string == "R017", "\(below.body)")
            #expect(try await patch("C1", #"{"due_date": "30/02/2024"}"#).json["error", "issues"]?.items.first?["code"]?.string == "R006")
            #expect(try await patch("C1", #"{"valr": "1"}"#).json["error", "code"]?.string == "unknown_field")
            #expect(try await patch("C1", #"{"external_id": "C2"}"#).status == 400)
            #expect(try await patch("NAO", #"{"amount": "1,00"}"#).status == 404)
            #expect(try await patch("C1", #"{"amount": "1,00"}"#, key: other.key).status == 404)
            #expect(try await api.get("/v1/debts/C1", key: client.key).json["amount_cents"]?.int == 15_000)

            // Down to what was paid: paid, its slip closed.
            let settled = try await patch("C1", #"{"amount": "30,00"}"#)
            #expect(settled.json["debt", "status"]?.string == "paid", "\(settled.body)")
            #expect(try await InProcessEsteira.sql(runtime, "SELECT our_number, status FROM bankslips WHERE external_id = 'C1' ORDER BY our_number")
                    == "1|cancelled\n2|cancelled\n3|paid")

            let events = try await api.get("/v1/debts/C1/history", key: client.key).json["items"]?.items ?? []
            let first = try #require(events.first { $0["kind"]?.string == "corrected" })
            #expect(first["details", "changes", "amount"]?.strings == ["before": "100.00", "after": "150.00"], "\(first)")
            #expect(first["details", "changes", "name"]?.strings == ["before": "Ana", "after": "Ana Maria"])
            #expect(first["details", "changes", "email", "before"] == .null && first["details", "changes", "email", "after"]?.string == "novo@example.com")
            #expect(events.filter { $0["kind"]?.string == "corrected" }.count == 2)

            // Out of collection: no correction.
            #expect(try await api.post("/v1/debts", key: client.key, json: #"{"external_id": "C9", "name": "Bia", "document": "248.438.034-80", "amount": "10,00", "due_date": "\#(due)"}"#).status == 201)
            #expect(try await api.post("/v1/debts/C9/withdrawal", key: client.key, json: #"{"reason": "outro"}"#).status == 200)
            #expect(try await patch("C9", #"{"amount": "11,00"}"#).json["error", "code"]?.string == "debt_closed")
        }
    }
}
