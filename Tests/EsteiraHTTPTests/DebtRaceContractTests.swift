import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import HTTPTypes
import Testing

/// Changes to one debt that race each other, in process, on SQLite and on PostgreSQL. Whichever
/// wins, the end is a state the rules allow: paid ≤ amount, no payment after a withdrawal, and
/// every change that was answered as made is in the history, in the order it was made. Each race
/// runs on several debts at once, so that both orders come up.
@Suite("API contract, in process: changes to one debt racing each other")
struct DebtRaceContractTests {
    static let rounds = 8

    /// Registers debts R0…R(n-1) of 100.00 each for the client.
    static func register(_ api: APITestClient, key: String) async throws {
        for i in 0..<rounds {
            let r = try await api.post("/v1/debts", key: key, json: #"{"external_id": "R\#(i)", "name": "Ana", "document": "248.438.034-80", "amount": "100,00", "due_date": "\#(TestCalendar.day(months: -1))"}"#)
            #expect(r.status == 201, "\(r.body)")
        }
    }

    /// `first` and `second` sent at once for each debt R0…R(n-1), all debts at once: each debt's
    /// index and the two answers' statuses.
    static func race(_ first: @escaping @Sendable (Int) async throws -> APIResult,
                     _ second: @escaping @Sendable (Int) async throws -> APIResult) async throws -> [(Int, Int, Int)] {
        try await withThrowingTaskGroup(of: (Int, Int, Int).self) { group in
            for i in 0..<rounds {
                group.addTask {
                    async let a = first(i)
                    async let b = second(i)
                    return (i, try await a.status, try await b.status)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    static func history(_ api: APITestClient, key: String, _ id: String) async throws -> [String] {
        (try await api.get("/v1/debts/\(id)/history", key: key).json["items"]?.items ?? []).compactMap { $0["kind"]?.string }
    }

    @Test("a payment of 60.00 racing a correction of the amount to 50.00", arguments: InProcessEsteira.dialects)
    func paymentAndCorrection(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            try await Self.register(api, key: client.key)
            let today = TestCalendar.day()
            let outcomes = try await Self.race(
                { try await api.post("/v1/debts/R\($0)/payments", key: client.key, json: #"{"amount": "60.00", "date": "\#(today)", "method": "pix"}"#) },
                { try await api.request(.patch, "/v1/debts/R\($0)", key: client.key, body: #"{"amount": "50,00"}"#) })
            for (i, payment, correction) in outcomes {
                let debt = try await api.get("/v1/debts/R\(i)", key: client.key).json
                let amount = debt["amount_cents"]?.int ?? -1, paid = debt["paid_cents"]?.int ?? -1
                let events = try await Self.history(api, key: client.key, "R\(i)")
                // Either the payment came first (60.00 of 100.00 paid; 50.00 is below it: R017) or
                // the correction did (50.00 open; 60.00 is over it: P001). Never both, never neither.
                switch (payment, correction) {
                case (201, 422):
                    #expect(amount == 10_000 && paid == 6_000 && debt["status"]?.string == "partially_paid", "\(debt)")
                    #expect(events.contains("paid") && !events.contains("corrected"), "\(events)")
                case (422, 200):
                    #expect(amount == 5_000 && paid == 0 && debt["status"]?.string == "registered", "\(debt)")
                    #expect(events.contains("corrected") && !events.contains("paid"), "\(events)")
                default:
                    Issue.record("R\(i): payment \(payment), correction \(correction)")
                }
                #expect(paid <= amount)
            }
        }
    }

    @Test("a withdrawal racing a payment", arguments: InProcessEsteira.dialects)
    func withdrawalAndPayment(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            try await Self.register(api, key: client.key)
            let today = TestCalendar.day()
            let outcomes = try await Self.race(
                { try await api.post("/v1/debts/R\($0)/payments", key: client.key, json: #"{"amount": "30.00", "date": "\#(today)", "method": "pix"}"#) },
                { try await api.post("/v1/debts/R\($0)/withdrawal", key: client.key, json: #"{"reason": "pago_ao_credor"}"#) })
            for (i, payment, withdrawal) in outcomes {
                #expect(withdrawal == 200)
                let debt = try await api.get("/v1/debts/R\(i)", key: client.key).json
                let events = try await Self.history(api, key: client.key, "R\(i)")
                #expect(debt["status"]?.string == "withdrawn")
                switch payment {
                case 201:
                    // Paid first: the payment stays, before the withdrawal in the history.
                    #expect(debt["paid_cents"]?.int == 3_000, "\(debt)")
                    #expect((events.firstIndex(of: "paid") ?? .max) < (events.firstIndex(of: "withdrawn") ?? -1), "\(events)")
                case 422:
                    // Withdrawn first: the payment refused (P005), nothing paid.
                    #expect(debt["paid_cents"]?.int == 0 && !events.contains("paid"), "\(events)")
                default:
                    Issue.record("R\(i): payment \(payment)")
                }
                #expect(events.filter { $0 == "withdrawn" }.count == 1)
                // No open slip on a withdrawn debt.
                #expect(try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM bankslips WHERE external_id = 'R\(i)' AND status = 'open'") == "0")
            }
        }
    }

    @Test("two files, one withdrawing and one correcting the same debts", arguments: InProcessEsteira.dialects)
    func twoFiles(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            try await Self.register(api, key: client.key)
            let due = TestCalendar.day(months: -1)
            let header = "operacao;external_id;nome;cpf;valor;vencimento;motivo_baixa\n"
            let withdrawals = header + (0..<Self.rounds).map { "B;R\($0);;;;;obito\n" }.joined()
            let corrections = header + (0..<Self.rounds).map { "A;R\($0);Ana;248.438.034-80;80,00;\(due);\n" }.joined()
            async let first = api.upload(Array(withdrawals.utf8), key: client.key, name: "baixas.csv")
            async let second = api.upload(Array(corrections.utf8), key: client.key, name: "alteracoes.csv")
            let (b, a) = try await (first, second)
            let withdrawn = try await api.finishedBatch(b, key: client.key), corrected = try await api.finishedBatch(a, key: client.key)
            // Every withdrawal lands; a correction lands only on a debt not yet withdrawn (else R021).
            #expect(withdrawn.counts["withdrawn"] == Self.rounds, "\(withdrawn)")
            let updated = corrected.counts["updated"] ?? -1, refused = corrected.counts["rejected"] ?? -1
            #expect(updated + refused == Self.rounds, "\(corrected)")
            let codes = Set((try await api.get("/v1/batches/\(a)/rejects?per_page=100", key: client.key).json["items"]?.items ?? [])
                .compactMap { $0["code"]?.string })
            #expect(codes.isSubset(of: ["R021"]), "\(codes)")
            var seenUpdated = 0
            for i in 0..<Self.rounds {
                let debt = try await api.get("/v1/debts/R\(i)", key: client.key).json
                let events = try await Self.history(api, key: client.key, "R\(i)")
                #expect(debt["status"]?.string == "withdrawn")
                if let c = events.firstIndex(of: "corrected") {
                    seenUpdated += 1
                    #expect(debt["amount_cents"]?.int == 8_000 && c < (events.firstIndex(of: "withdrawn") ?? -1), "\(events)")
                } else {
                    #expect(debt["amount_cents"]?.int == 10_000)
                }
            }
            #expect(seenUpdated == updated)
        }
    }
}
