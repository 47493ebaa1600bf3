import EsteiraCore
import EsteiraPipeline
import EsteiraStore
import EsteiraTestSupport
import HTTPTypes
import Foundation
import Testing

/// Payments on debts, in process, on SQLite and on PostgreSQL.
@Suite("API contract, in process: payments on debts credit the client's ledger")
struct PaymentContractTests {
    @Test("partial, late and full payments: the debt's status and open amount, its slip closed, the ledger credited the day each is received; every refusal with its code",
          arguments: InProcessEsteira.dialects)
    func payments(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            func call(_ method: HTTPRequest.Method, _ path: String, _ body: String? = nil) async throws -> APIResult {
                try await api.request(method, path, key: client.key, body: body)
            }
            let settings = InProcessEsteira.collectionSettings
            #expect(try await call(.put, "/v1/collection", settings).status == 200)
            #expect(try await call(.post, "/v1/debts", #"{"external_id": "P1", "name": "Ana", "document": "248.438.034-80", "amount": "100,00", "due_date": "\#(TestCalendar.day(months: -1))"}"#).status == 201)
            let today = TestCalendar.day()
            func pay(_ amount: String, _ method: String = "pix", date: String = TestCalendar.day(), key: String? = nil) async throws -> APIResult {
                let k = key.map { #", "trace_key": "\#($0)""# } ?? ""
                return try await call(.post, "/v1/debts/P1/payments", #"{"amount": "\#(amount)", "date": "\#(date)", "method": "\#(method)"\#(k)}"#)
            }

            // 30.00 of 100.00: partially paid, 70.00 open (by hand).
            let key = "7e57ab1e-0000-4000-8000-000000000001"
            let first = try await pay("30.00", key: key)
            #expect(first.status == 201, "\(first.body)")
            #expect(first.json["debt"]?.strings == ["external_id": "P1", "status": "partially_paid", "amount": "100.00", "paid": "30.00", "open": "70.00"],
                    "\(first.body)")
            // The same payment again: the first result; the key on another payment: P004.
            let again = try await pay("30.00", key: key)
            #expect(again.status == 200 && again.json["replayed"]?.bool == true)
            #expect(try await pay("31.00", key: key).body.contains("P004"))

            // The open slip follows the open amount: slip 1 (100.00) cancelled, slip 2 for 70.00.
            let replaced = try await call(.get, "/v1/debts/P1/bankslip").json
            #expect(replaced["our_number"]?.int == 2 && replaced["amount"]?.string == "70.00", "\(replaced)")

            // Refusals, each with its field and code.
            let over = try await pay("70.01")
            #expect(over.status == 422 && over.body.contains("P001") && over.body.contains("\"field\":\"amount\""))
            #expect(try await pay("10.00", "cheque").body.contains("P003"))
            // A date after today, or that is not a day: P006 on `date`.
            let future = try await pay("10.00", date: TestCalendar.day(days: 1))
            #expect(future.json["error", "code"]?.string == "P006" && future.json["error", "field"]?.string == "date", "\(future.body)")
            #expect(try await pay("10.00", date: "31/12").json["error", "code"]?.string == "P006")
            #expect(try await pay("0").body.contains("L006"))
            #expect(try await call(.post, "/v1/debts/NAO/payments", #"{"amount": "1.00", "date": "\#(today)", "method": "pix"}"#).status == 404)

            // A payment reported 40 days late, past the ledger's 7-day window: recorded on the debt
            // with the day it was made, credited to the ledger today with that day in its details.
            let lateDay = TestCalendar.day(days: -40)
            let late = try await pay("20.00", date: lateDay)
            #expect(late.status == 201 && late.json["payment", "date"]?.string == lateDay, "\(late.body)")
            #expect(late.json["debt", "open"]?.string == "50.00")
            let credit = try await call(.get, "/v1/ledger/entries?trace_key=\(late.json["payment", "trace_key"]?.string ?? "")").json["items"]?.items.first
            #expect(credit?["reference_date"]?.string == today && credit?["details", "paid_on"]?.string == lateDay, "\(String(describing: credit))")

            // The rest, by boleto: paid, nothing open, the slip no longer open; one more is P002.
            let rest = try await pay("50.00", "boleto")
            #expect(rest.json["debt", "status"]?.string == "paid" && rest.json["debt", "open"]?.string == "0.00", "\(rest.body)")
            #expect(try await pay("1.00").body.contains("P002"))
            #expect(try await call(.get, "/v1/debts/P1").json["status"]?.string == "paid")
            // Paid: no slip to ask for, and none issued by asking (it used to issue one for the
            // whole amount, which the debtor could pay a second time).
            let noSlip = try await call(.get, "/v1/debts/P1/bankslip")
            #expect(noSlip.status == 409 && noSlip.json["error", "code"]?.string == "debt_paid", "\(noSlip.body)")
            // Slips 1 and 2 cancelled by the partial payments, slip 3 (50.00) paid by the last.
            #expect(try await InProcessEsteira.sql(runtime, "SELECT our_number, amount_cents, status FROM bankslips WHERE external_id = 'P1' ORDER BY our_number")
                    == "1|10000|cancelled\n2|7000|cancelled\n3|5000|paid")
            let list = try await call(.get, "/v1/debts/P1/payments").json["items"]?.items ?? []
            #expect(list.map { "\($0["amount"]?.string ?? "") \($0["method"]?.string ?? "") \($0["date"]?.string ?? "")" }
                    == ["30.00 pix \(today)", "20.00 pix \(lateDay)", "50.00 boleto \(today)"])

            // The ledger: the client's collection account credited 30.00 + 20.00 + 50.00 = 100.00
            // today, the day each was received.
            let balances = try await call(.get, "/v1/ledger/accounts/0000/COBRANCA/balances?from=\(today)&to=\(today)").json["items"]?.items ?? []
            #expect(balances.first?["credits"]?.string == "100.00" && balances.first?["balance"]?.string == "100.00", "\(balances)")
            // As `esteira ledger reconcile` runs it: no differences.
            #expect(try await LedgerReconciler(db: runtime.db, logger: runtime.logger).runOnce().differences.isEmpty)
        }
    }

    @Test("a reversal: the open amount back, a debit in the ledger, a slip for the open amount, the reversal in the history; again the same answer",
          arguments: InProcessEsteira.dialects)
    func reversal(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let (client, other) = try await InProcessEsteira.twoClients(runtime)
            func call(_ method: HTTPRequest.Method, _ path: String, _ body: String? = nil, key: String? = nil) async throws -> APIResult {
                try await api.request(method, path, key: key ?? client.key, body: body)
            }
            let today = TestCalendar.day()
            let settings = InProcessEsteira.collectionSettings
            #expect(try await call(.put, "/v1/collection", settings).status == 200)
            #expect(try await call(.post, "/v1/debts", #"{"external_id": "V1", "name": "Ana", "document": "248.438.034-80", "amount": "80,00", "due_date": "\#(TestCalendar.day(months: -1))"}"#).status == 201)
            let paid = try await call(.post, "/v1/debts/V1/payments", #"{"amount": "80.00", "date": "\#(today)", "method": "boleto"}"#)
            #expect(paid.json["debt", "status"]?.string == "paid", "\(paid.body)")
            let paymentID = try #require(paid.json["payment", "id"]?.int)

            #expect(try await call(.post, "/v1/debts/V1/payments/999999/reversal").status == 404)
            #expect(try await call(.post, "/v1/debts/V1/payments/\(paymentID)/reversal", key: other.key).status == 404)
            let reversed = try await call(.post, "/v1/debts/V1/payments/\(paymentID)/reversal")
            #expect(reversed.status == 200, "\(reversed.body)")
            // 80.00 paid, 80.00 reversed: nothing paid, all open, registered again.
            #expect(reversed.json["debt"]?.strings == ["external_id": "V1", "status": "registered", "amount": "80.00", "paid": "0.00", "open": "80.00"],
                    "\(reversed.body)")
            #expect(reversed.json["replayed"]?.bool == false && (reversed.json["payment", "reversed_at"]?.string ?? "").hasSuffix("Z"))
            let again = try await call(.post, "/v1/debts/V1/payments/\(paymentID)/reversal")
            #expect(again.status == 200 && again.json["replayed"]?.bool == true && again.json["debt", "open"]?.string == "80.00", "\(again.body)")

            // The debtor holds a slip again, for the 80.00 open: slip 1 was paid, slip 2 is new.
            let slip = try await call(.get, "/v1/debts/V1/bankslip").json
            #expect(slip["our_number"]?.int == 2 && slip["amount"]?.string == "80.00", "\(slip)")
            // The ledger: 80.00 credited and 80.00 debited today (ESTORNO_PAGAMENTO), balance 0.00.
            let balances = try await call(.get, "/v1/ledger/accounts/0000/COBRANCA/balances?from=\(today)&to=\(today)").json["items"]?.items ?? []
            #expect(balances.first?["credits"]?.string == "80.00" && balances.first?["debits"]?.string == "80.00"
                    && balances.first?["balance"]?.string == "0.00", "\(balances)")
            #expect(try await InProcessEsteira.sql(runtime, "SELECT event_code, side, amount_cents FROM ledger_entries ORDER BY id")
                    == "PAGAMENTO_DIVIDA|C|8000\nESTORNO_PAGAMENTO|D|8000")
            let listed = try await call(.get, "/v1/debts/V1/payments").json["items"]?.items.first
            #expect(listed?["reversed_at"] != .null && listed?["reversed_at"] != nil)
            let kinds = (try await call(.get, "/v1/debts/V1/history").json["items"]?.items ?? []).map { $0["kind"]?.string ?? "" }
            #expect(kinds == ["registered", "slip_issued", "paid", "reversed", "slip_issued"], "\(kinds)")
            // Paid again after the reversal: the payment goes through as on any open debt.
            #expect(try await call(.post, "/v1/debts/V1/payments", #"{"amount": "80.00", "date": "\#(today)", "method": "pix"}"#).json["debt", "status"]?.string == "paid")
            #expect(try await LedgerReconciler(db: runtime.db, logger: runtime.logger).runOnce().differences.isEmpty)
        }
    }
}
