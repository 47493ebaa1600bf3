import EsteiraCore
import Foundation
import EsteiraTestSupport
import Testing

@Suite("End to end: the cash ledger over HTTP and the command line", .offSharedPool)
struct LedgerEndToEndTests {
    static func entry(_ amount: String, _ side: String, event: String = "PAGAMENTO", key: String = UUID().uuidString.lowercased(),
                      date: String = TestCalendar.day(), account: String = "123-4") -> String {
        #"{"branch": "0001", "account": "\#(account)", "amount": "\#(amount)", "side": "\#(side)", "event_code": "\#(event)", "description": "Pagamento da dívida D1", "trace_key": "\#(key)", "details": {"divida": "D1", "metodo": "pix"}, "reference_date": "\#(date)"}"#
    }

    @Test("events from the CLI and the admin API; entries all or nothing with every refusal named; re-sends; balances, statement; reconciliation")
    func ledger() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        let other = try server.createClient(name: "Outra", document: "11.444.777/0001-61")
        let op = try server.createOperator()
        _ = try server.command(["ledger", "set-event", "--code", "pagamento", "--description", "Pagamento recebido", "--no-debit"])
        try server.start()
        // The catalog: one event from the CLI, one from the API; a client's key cannot change it.
        #expect(try await server.post("/v1/admin/ledger/events/REPASSE", key: op, json: #"{"description": "Repasse ao cliente", "active": true, "allows_debit": true, "allows_credit": false}"#, method: "PUT").status == 200)
        #expect(try await server.post("/v1/admin/ledger/events/X", key: client.key, json: #"{}"#, method: "PUT").status == 401)
        let events = try await server.request("GET", "/v1/admin/ledger/events", key: op).json["items"]?.elements ?? []
        // PAGAMENTO_DIVIDA and ESTORNO_PAGAMENTO come with Esteira: the credits of debt payments
        // and the debits of their reversals.
        #expect(events.map { "\($0["code"]?.string ?? ""):\($0["allows_debit"]?.bool == true ? "D" : "-")\($0["allows_credit"]?.bool == true ? "C" : "-")" }
                == ["ESTORNO_PAGAMENTO:D-", "PAGAMENTO:-C", "PAGAMENTO_DIVIDA:-C", "REPASSE:D-"])

        // One entry: 201, with the balance after it.
        let key = "8d3a3c1e-7a4b-4c2d-9e8f-0a1b2c3d4e5f"
        let first = try await server.post("/v1/ledger/entries", key: client.key, json: Self.entry("100.00", "C", key: key, date: TestCalendar.day(days: -2)))
        #expect(first.status == 201, "\(first.body)")
        let posted = (first.json["entries"]?.elements)?.first ?? .null
        #expect(posted["balance_after"]?.string == "100.00" && posted["amount_cents"]?.int == 10_000)
        #expect(posted["details"]?.strings == ["divida": "D1", "metodo": "pix"])

        // Three entries, the second refused (PAGAMENTO takes no debits) and the third dated
        // tomorrow: 422 naming both, and nothing posted.
        let bad = try await server.post("/v1/ledger/entries", key: client.key, json: #"{"entries": ["# + Self.entry("5.00", "C") + ", "
                                    + Self.entry("5.00", "D") + ", " + Self.entry("5.00", "C", date: TestCalendar.day(days: 1)) + "]}")
        #expect(bad.status == 422)
        let issues = ((bad.json["error"])?["issues"]?.elements ?? []).map { "\($0["index"]?.text ?? ""):\($0["field"]?.text ?? ""):\($0["code"]?.text ?? "")" }
        #expect(issues == ["1:event_code:L003", "2:reference_date:L005"])
        #expect(try server.sql("SELECT COUNT(*) FROM ledger_entries") == "1")

        // The same entry again: the first result, 200; the key with other content: L008.
        let again = try await server.post("/v1/ledger/entries", key: client.key, json: Self.entry("100.00", "C", key: key, date: TestCalendar.day(days: -2)))
        #expect(again.status == 200 && again.json["replayed"]?.bool == true)
        #expect((again.json["entries"]?.elements)?.first?["id"]?.int == posted["id"]?.int)
        let reused = try await server.post("/v1/ledger/entries", key: client.key, json: Self.entry("99.00", "C", key: key, date: TestCalendar.day(days: -2)))
        #expect(reused.status == 422 && reused.body.contains("L008") && reused.body.contains("\"field\":\"trace_key\""))
        #expect(try await server.post("/v1/ledger/entries", key: client.key, json: "[1]").status == 400)

        // A batch: a transfer out today and a retroactive payment yesterday.
        let batch = try await server.post("/v1/ledger/entries", key: client.key, json: #"{"entries": ["# + Self.entry("30.00", "D", event: "REPASSE")
                                      + ", " + Self.entry("12.34", "C", date: TestCalendar.day(days: -1)) + "]}")
        #expect(batch.status == 201)
        // By hand: day −2 +100.00 → 100.00; day −1 +12.34 → 112.34; today −30.00 → 82.34.
        let balances = try await server.request("GET", "/v1/ledger/accounts/0001/123-4/balances?from=\(TestCalendar.day(days: -3))&to=\(TestCalendar.day())", key: client.key).json["items"]?.elements ?? []
        #expect(balances.map { $0["balance"]?.string ?? "" } == ["0.00", "100.00", "112.34", "82.34"])
        #expect(balances.last?["debits"]?.string == "30.00" && balances.last?["running_credits"]?.string == "112.34")
        let statement = try await server.request("GET", "/v1/ledger/accounts/0001/123-4/statement?from=\(TestCalendar.day(days: -7))", key: client.key).json
        let lines = statement["items"]?.elements ?? []
        #expect(lines.map { "\($0["balance_before"]?.text ?? "")>\($0["balance_after"]?.text ?? "")" } == ["0.00>100.00", "100.00>112.34", "112.34>82.34"])
        #expect(try await server.request("GET", "/v1/ledger/entries?trace_key=\(key.uppercased())", key: client.key).json["items"]?.elements?.count == 1)

        // Another client sees neither the account nor the entry.
        #expect(try await server.request("GET", "/v1/ledger/accounts/0001/123-4/balances", key: other.key).status == 404)
        #expect((try await server.request("GET", "/v1/ledger/entries?trace_key=\(key)", key: other.key).json["items"]?.elements)?.isEmpty == true)
        #expect(try await server.request("GET", "/v1/ledger/accounts/0001/123-4/balances?from=2020-01-01&to=2026-01-01", key: client.key).status == 400)

        // Reconciliation: nothing to report; then a day row altered behind the ledger's back is found.
        server.stop()
        #expect(try server.command(["ledger", "reconcile"]).contains("0 differences"))
        _ = try server.sql("UPDATE ledger_balances SET credits_cents = credits_cents + 1 WHERE credits_cents = 1234")
        let (status, text) = try EsteiraProcess.output(of: EsteiraProcess.binary, ["ledger", "reconcile"], environment: server.environmentForCommands)
        #expect(status == 1 && text.contains("1 differences") && text.contains("credits: stored 1235, entries say 1234"))
        // The command's finding is kept: a server started now, whose own schedule is a day away,
        // reports it in /metrics at once, with when it was found.
        let beforeStart = Int(Date().timeIntervalSince1970)
        try server.start()
        let metrics = try await server.request("GET", "/metrics", key: nil).body
        #expect(metrics.contains("esteira_ledger_differences 1"), "\(metrics)")
        let reconciledAt = metrics.split(separator: "\n").first { $0.hasPrefix("esteira_ledger_reconciled_at_seconds ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }
        #expect(reconciledAt.map { Int($0) <= beforeStart && Int($0) > beforeStart - 120 } == true, "\(String(describing: reconciledAt))")
        #expect(try server.sql("SELECT accounts, differences FROM ledger_reconciliations ORDER BY id") == "1|0\n1|1")
        server.stop()
        // The scheduled run (here every 1.8 s) finds it too: an error in the log, a third record.
        try server.start(["ESTEIRA_LEDGER_RECONCILE_HOURS": "0.0005"])
        try await server.waitForLog("ledger balances differ from their entries", timeout: 10)
        #expect(try Int(server.sql("SELECT COUNT(*) FROM ledger_reconciliations WHERE differences = 1")) ?? 0 >= 2)
    }
}

@Suite("End to end: asynchronous ledger requests, answered through the outbox", .offSharedPool, .serialized)
struct LedgerAsyncEndToEndTests {
    @Test("?async=true: 202, then posted (or rejected) with a signed webhook; a request that keeps failing is a dead letter operators see")
    func asynchronous() async throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        // The API alone, and a worker process beside it; one attempt per job, so a failure is final at once.
        let env = WebhookEndToEndTests.fastRetries.merging(["ESTEIRA_NO_WORKERS": "1", "ESTEIRA_JOB_MAX_ATTEMPTS": "1"]) { $1 }
        let server = try EsteiraProcess(environment: env)
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        _ = try server.command(["ledger", "set-event", "--code", "PAGAMENTO", "--description", "Pagamento recebido", "--no-debit"])
        try server.start()
        var worker = try server.startWorker()
        let hook = try await WebhookEndToEndTests.endpoint(server, key: client.key, url: receiver.base + "/ledger",
                                                           events: #"["ledger.posted", "ledger.rejected"]"#)
        try await receiver.control(secret: hook["secret"]?.string ?? "", failFirst: 0)
        let key = "5c0ffee0-1111-4222-8333-444455556666"
        let accepted = try await server.post("/v1/ledger/entries?async=true", key: client.key, json: #"{"entries": ["# + LedgerEndToEndTests.entry("40.00", "C", key: key) + ", "
                                      + LedgerEndToEndTests.entry("2.50", "C", date: TestCalendar.day(days: -1)) + "]}")
        #expect(accepted.status == 202, "\(accepted.body)")
        let id = try #require(accepted.json["id"]?.string)
        #expect(accepted.json["state"]?.string == "queued" && accepted.json["trace_keys"]?.items.first?.string == key)

        // The callback: signed, with both entries and the balance after each, in the request's
        // order (by hand: 40.00, then 40.00 + 2.50 = 42.50).
        let got = try await receiver.waitFor(1)
        let body = got.first?["body"] ?? .null
        #expect(got.first?["signature_ok"]?.bool == true && got.first?["event"]?.string == "ledger.posted")
        let request = body["request"] ?? .null
        #expect(request["id"]?.string == id && request["state"]?.string == "posted")
        #expect((request["entries"]?.elements ?? []).map { $0["balance_after"]?.string ?? "" } == ["40.00", "42.50"])
        let state = try await server.request("GET", "/v1/ledger/requests/\(id)", key: client.key).json
        #expect(state["state"]?.string == "posted" && (state["entries"]?.elements)?.count == 2)
        #expect((try await server.request("GET", "/v1/ledger/entries?trace_key=\(key)", key: client.key).json["items"]?.elements)?.count == 1)

        // Refused at once when the rules say so; refused by the job (a reused key) through the callback.
        #expect(try await server.post("/v1/ledger/entries?async=true", key: client.key, json: LedgerEndToEndTests.entry("1.00", "D")).status == 422)
        let reused = try await server.post("/v1/ledger/entries?async=true", key: client.key, json: LedgerEndToEndTests.entry("41.00", "C", key: key))
        #expect(reused.status == 202)
        let rejected = try await receiver.waitFor(2)
        let second = (rejected.last?["body"])?["request"] ?? .null
        #expect(rejected.last?["event"]?.string == "ledger.rejected" && second["state"]?.string == "rejected")
        #expect((second["issues"]?.elements)?.first?["code"]?.string == "L008")

        // A request whose job cannot run: with the worker stopped, its stored entries are made
        // unreadable; the worker's one attempt fails and the job is dead — the dead letter.
        EsteiraProcess.terminate(worker)
        let doomed = try #require(try await server.post("/v1/ledger/entries?async=true", key: client.key, json: LedgerEndToEndTests.entry("3.00", "C")).json["id"]?.string)
        _ = try server.sql("UPDATE ledger_requests SET entries = 'ilegível' WHERE id = '\(doomed)'")
        worker = try server.startWorker()
        var dead = ""
        for _ in 0..<100 {
            dead = try await server.request("GET", "/v1/ledger/requests/\(doomed)", key: client.key).json["state"]?.string ?? ""
            if dead == "dead" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(dead == "dead")
        #expect(try server.command(["jobs", "list", "--state", "dead"]).contains(doomed))
        #expect(try await server.request("GET", "/v1/ledger/requests/\(doomed)", key: "wrong").status == 401)
    }
}
