/// The checks an entry passes before it touches the database: the catalog's rules, the
/// retroactive window, amounts in exact cents, the shape of every field. Only a reused trace key
/// (L008) needs the database, and the store checks it.
public struct LedgerRules: Sendable {
    public var events: [String: LedgerEvent]
    /// Today in São Paulo: no entry is dated after it.
    public var today: Day
    /// How many days back an entry may be dated (7: today and the seven days before).
    public var windowDays: Int

    public init(events: [String: LedgerEvent], today: Day, windowDays: Int = 7) {
        self.events = events
        self.today = today
        self.windowDays = windowDays
    }

    public static let maxEntriesPerRequest = 1000
    public static let maxDescription = 200
    public static let maxDetailsBytes = 4096

    /// Every entry checked; all of them or the issues of those that fail (a request is applied
    /// all or nothing).
    public func check(_ inputs: [LedgerEntryInput]) -> Result<[LedgerEntryDraft], LedgerRejection> {
        var drafts: [LedgerEntryDraft] = []
        var issues: [LedgerIssue] = []
        var traceKeys: [String: Int] = [:]
        for (i, input) in inputs.enumerated() {
            switch check(input, index: i) {
            case .success(let d):
                if let first = traceKeys[d.traceKey] {
                    issues.append(LedgerIssue(index: i, field: "trace_key", rule: .duplicateTraceKeyInRequest,
                                              message: "A chave de rastreio \(d.traceKey) já aparece no lançamento \(first + 1) deste pedido."))
                } else {
                    traceKeys[d.traceKey] = i
                    drafts.append(d)
                }
            case .failure(let found): issues += found.issues
            }
        }
        return issues.isEmpty ? .success(drafts) : .failure(LedgerRejection(issues: issues))
    }

    func check(_ e: LedgerEntryInput, index i: Int) -> Result<LedgerEntryDraft, LedgerRejection> {
        var issues: [LedgerIssue] = []
        func fail(_ field: String, _ rule: LedgerRule, _ message: String) {
            issues.append(LedgerIssue(index: i, field: field, rule: rule, message: message))
        }
        for (field, value) in [("branch", e.branch), ("account", e.account)] where !Self.isValidAccountPart(value) {
            fail(field, .invalidAccount, "Agência e conta têm de 1 a 20 letras, dígitos ou hífens; recebido \"\(value.prefix(40))\".")
        }
        var cents: Int64?
        if let c = e.amountCents {
            cents = c
        } else if let text = e.amount {
            // The one parser of amounts, with a point for decimals: an API has no reason to guess.
            switch Money.parseCents(text[...], format: .dot) {
            case .success(let c): cents = c
            case .failure(let error): fail("amount", .amountNotPositive, Money.refusal(error, text: text, example: "10.50"))
            }
        } else {
            fail("amount", .amountNotPositive, "Informe o valor (amount).")
        }
        if let c = cents, c <= 0 || c > Money.maxCents {
            fail("amount", .amountNotPositive, "O valor deve ser maior que zero e no máximo \(Money.brazilian(cents: Money.maxCents)).")
            cents = nil
        }
        let side = LedgerSide(rawValue: e.side)
        if side == nil { fail("side", .invalidSide, "O tipo do lançamento deve ser D (débito) ou C (crédito); recebido \"\(e.side.prefix(10))\".") }
        if let event = events[e.eventCode] {
            if !event.active {
                fail("event_code", .inactiveEvent, "O evento \(e.eventCode) está inativo.")
            } else if let side, !event.allows(side) {
                fail("event_code", .sideNotAllowed,
                     "O evento \(e.eventCode) não permite \(side == .debit ? "débito" : "crédito").")
            }
        } else {
            fail("event_code", .unknownEvent, "O evento \(e.eventCode.prefix(40)) não existe no catálogo.")
        }
        if e.description.isEmpty || e.description.count > Self.maxDescription
            || e.description.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            fail("description", .invalidDescription, "A descrição deve ter de 1 a \(Self.maxDescription) caracteres, sem quebras de linha.")
        }
        let traceKey = e.traceKey.lowercased()
        if !Self.isUUID(traceKey) { fail("trace_key", .invalidTraceKey, "A chave de rastreio deve ser um UUID.") }
        if !e.detailsValid || (e.details?.utf8.count ?? 0) > Self.maxDetailsBytes {
            fail("details", .malformedDetails, "Os detalhes devem ser um objeto JSON de até \(Self.maxDetailsBytes) bytes.")
        }
        var day: Day?
        if let d = Day.parseISO(e.referenceDate) {
            if d > today {
                fail("reference_date", .dateInFuture, "A data de referência \(d.iso) é posterior a hoje (\(today.iso)).")
            } else if d < today.adding(days: -windowDays) {
                fail("reference_date", .dateBeforeWindow,
                     "A data de referência \(d.iso) é anterior à janela retroativa de \(windowDays) dias (desde \(today.adding(days: -windowDays).iso)).")
            } else {
                day = d
            }
        } else {
            fail("reference_date", .invalidDate, "A data de referência deve estar no formato AAAA-MM-DD.")
        }
        guard issues.isEmpty, let cents, let side, let day else { return .failure(LedgerRejection(issues: issues)) }
        return .success(LedgerEntryDraft(branch: e.branch, account: e.account, amountCents: cents, side: side, eventCode: e.eventCode,
                                         description: e.description, traceKey: traceKey, details: e.details, referenceDate: day))
    }

    public static func isValidAccountPart(_ s: String) -> Bool {
        (1...20).contains(s.utf8.count) && s.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == UInt8(ascii: "-")
        }
    }

    /// 8-4-4-4-12 hexadecimal digits, lower case.
    public static func isUUID(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 36 else { return false }
        for (i, c) in b.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                if c != UInt8(ascii: "-") { return false }
            } else if !((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) {
                return false
            }
        }
        return true
    }
}
