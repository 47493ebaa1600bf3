import EsteiraCore
import Testing

@Suite("Ledger rules: each refusal with its code and field")
struct LedgerRulesTests {
    static let today = Day(year: 2026, month: 11, day: 22)!
    static let rules = LedgerRules(events: [
        "PAGAMENTO": LedgerEvent(code: "PAGAMENTO", description: "Pagamento recebido", active: true, allowsDebit: false, allowsCredit: true),
        "REPASSE": LedgerEvent(code: "REPASSE", description: "Repasse ao cliente", active: true, allowsDebit: true, allowsCredit: false),
        "ANTIGO": LedgerEvent(code: "ANTIGO", description: "Fora de uso", active: false, allowsDebit: true, allowsCredit: true),
    ], today: today, windowDays: 7)

    static func input(amount: String? = "10.50", cents: Int64? = nil, side: String = "C", event: String = "PAGAMENTO",
                      description: String = "Pagamento da dívida 1", key: String = "6f1c2a9e-0b3d-4e5f-8a7b-1c2d3e4f5a6b",
                      details: String? = #"{"a":1}"#, detailsValid: Bool = true, date: String = "2026-11-20",
                      branch: String = "0001", account: String = "ABC-123") -> LedgerEntryInput {
        LedgerEntryInput(branch: branch, account: account, amount: amount, amountCents: cents, side: side, eventCode: event,
                         description: description, traceKey: key, details: details, detailsValid: detailsValid, referenceDate: date)
    }

    func rulesOf(_ input: LedgerEntryInput) -> [String] {
        switch Self.rules.check([input]) {
        case .success: return []
        case .failure(let r): return r.issues.map { "\($0.field):\($0.rule.rawValue)" }
        }
    }

    @Test("a valid entry: 10.50 is 1,050 cents; the trace key kept in lower case")
    func valid() throws {
        let drafts = try Self.rules.check([Self.input(key: "6F1C2A9E-0B3D-4E5F-8A7B-1C2D3E4F5A6B")]).get()
        #expect(drafts.first?.amountCents == 1050 && drafts.first?.side == .credit)
        #expect(drafts.first?.traceKey == "6f1c2a9e-0b3d-4e5f-8a7b-1c2d3e4f5a6b")
        #expect(drafts.first?.referenceDate == Day(year: 2026, month: 11, day: 20))
    }

    @Test("each rule", arguments: [
        (input(event: "NAOEXISTE"), "event_code:L001"),
        (input(event: "ANTIGO"), "event_code:L002"),
        (input(side: "D"), "event_code:L003"),                       // PAGAMENTO allows credits only
        (input(side: "C", event: "REPASSE"), "event_code:L003"),     // REPASSE allows debits only
        (input(date: "2026-11-14"), "reference_date:L004"),          // 22 − 7 = 15 is the oldest day allowed
        (input(date: "2026-11-23"), "reference_date:L005"),
        (input(amount: "0"), "amount:L006"),
        (input(amount: "-1.00"), "amount:L006"),
        (input(amount: "10.505"), "amount:L006"),
        (input(amount: "1.234,56"), "amount:L006"),
        (input(amount: nil, cents: 0), "amount:L006"),
        (input(amount: nil), "amount:L006"),
        (input(detailsValid: false), "details:L007"),
        (input(details: "{\"x\":\"" + String(repeating: "a", count: 5000) + "\"}"), "details:L007"),
        (input(side: "X"), "side:L009"),
        (input(description: ""), "description:L010"),
        (input(description: String(repeating: "a", count: 201)), "description:L010"),
        (input(description: "linha\nquebrada"), "description:L010"),
        (input(key: "not-a-uuid"), "trace_key:L011"),
        (input(account: "conta com espaço"), "account:L012"),
        (input(branch: ""), "branch:L012"),
        (input(date: "20/11/2026"), "reference_date:L013"),
        (input(date: "2026-02-30"), "reference_date:L013"),
    ])
    func rule(input: LedgerEntryInput, expected: String) {
        #expect(rulesOf(input) == [expected])
    }

    @Test("the window's edges: 7 days back and today are in")
    func edges() {
        #expect(rulesOf(Self.input(date: "2026-11-15")).isEmpty)
        #expect(rulesOf(Self.input(date: "2026-11-22")).isEmpty)
        #expect(rulesOf(Self.input(amount: "0.01")).isEmpty)
        #expect(rulesOf(Self.input(amount: "9999999999999.99")).isEmpty)
        #expect(rulesOf(Self.input(amount: nil, cents: 1)).isEmpty)
    }

    @Test("a request is all or nothing: every entry's problems, by index; a trace key twice in one request (L014)")
    func many() {
        let key = "6f1c2a9e-0b3d-4e5f-8a7b-1c2d3e4f5a6b"
        guard case .failure(let r) = Self.rules.check([Self.input(key: key), Self.input(side: "D"), Self.input(key: key)]) else {
            Issue.record("accepted")
            return
        }
        #expect(r.issues.map { "\($0.index):\($0.field):\($0.rule.rawValue)" } == ["1:event_code:L003", "2:trace_key:L014"])
    }
}
