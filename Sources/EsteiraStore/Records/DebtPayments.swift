import EsteiraCore
import Foundation

/// How a debtor paid.
public enum PaymentMethod: String, Sendable, CaseIterable {
    case boleto, pix, cartao, transferencia, dinheiro
}

/// Why a payment is refused (the ledger's own rules, L-codes, apply to its credit too).
public enum PaymentRule: String, Sendable {
    case exceedsOpenAmount = "P001"
    case alreadyPaid = "P002"
    case invalidMethod = "P003"
    case traceKeyReused = "P004"
    case outOfCollection = "P005"
    case invalidDate = "P006"
}

public struct PaymentRefusal: Error, Sendable {
    public var rule: PaymentRule
    public var field: String
    public var message: String
}

public struct DebtPayment: Sendable {
    public var id: Int
    public var externalID: String
    public var amountCents: Int64
    public var paidOn: Day
    public var method: String
    public var traceKey: String
    public var ledgerEntryID: Int
    public var createdAt: Date
    /// When it was reversed, if it was.
    public var reversedAt: Date?
}

/// A payment recorded, with the debt as it now stands and the ledger's credit.
public struct PaymentOutcome: Sendable {
    public var payment: DebtPayment
    public var debtAmountCents: Int64
    public var paidCents: Int64
    public var status: String
    public var ledgerEntry: PostedEntry?
    /// The same payment sent again: the first result.
    public var replayed: Bool
    public var openCents: Int64 { debtAmountCents - paidCents }
}

/// Where a debt stands in amounts, as a payment's answer and a debt's notice write it.
public struct DebtStanding: Encodable, Sendable {
    public var externalID: String
    public var status: String
    public var amount: String
    public var paid: String
    public var open: String
    enum CodingKeys: String, CodingKey { case externalID = "external_id", status, amount, paid, open }

    public init(externalID: String, status: String, amountCents: Int64, paidCents: Int64) {
        self.externalID = externalID
        self.status = status
        amount = Money.decimalString(cents: amountCents)
        paid = Money.decimalString(cents: paidCents)
        open = Money.decimalString(cents: max(0, amountCents - paidCents))
    }
}

/// Payments on debts. Recording one is a single transaction: the payment's row, the debt's paid
/// total and status (`partially_paid`, `paid`), its open slip replaced by one for the open amount
/// (or closed once nothing is open), the payment in the debt's history, and the
/// credit in the client's collection account of the ledger (`LedgerStore.collectionBranch` /
/// `collectionAccount`, event `PAGAMENTO_DIVIDA`) — all of it, or nothing.
public struct DebtPayments: Sendable {
    let db: any SQLDatabase
    let ledger: LedgerStore

    public init(db: any SQLDatabase, ledger: LedgerStore) {
        self.db = db
        self.ledger = ledger
    }

    public static let event = "PAGAMENTO_DIVIDA"
    public static let branch = "0000"
    public static let account = "COBRANCA"

    /// The ledger credit of a payment, for the ledger's rules to check first (amount, trace key,
    /// the event active). It is dated `receivedOn`, the day Esteira learns of it, never the day the
    /// debtor paid: a payment reported late is still recorded (the day it was made is in the
    /// entry's details and on the payment), and the ledger's window keeps its meaning for entries.
    public static func credit(externalID: String, amount: String?, amountCents: Int64?, paidOn: Day, receivedOn: Day, method: String,
                              traceKey: String) -> LedgerEntryInput {
        LedgerEntryInput(branch: branch, account: account, amount: amount, amountCents: amountCents, side: "C", eventCode: event,
                         description: String("Pagamento da dívida \(externalID) (\(method))".prefix(200)), traceKey: traceKey,
                         details: Self.details(externalID: externalID, method: method, paidOn: paidOn), referenceDate: receivedOn.iso)
    }

    static func details(externalID: String, method: String, paidOn: Day) -> String {
        (try? JSONText.encoded(["external_id": externalID, "method": method, "paid_on": paidOn.iso])) ?? "{}"
    }

    /// The day a debtor paid, as the client wrote it: a day (`AAAA-MM-DD`) not after `today`.
    public static func paidOn(_ text: String, today: Day) -> Result<Day, PaymentRefusal> {
        guard let day = Day.parseISO(text) else {
            return .failure(PaymentRefusal(rule: .invalidDate, field: "date", message: "A data do pagamento \(text.prefix(20)) não é um dia AAAA-MM-DD."))
        }
        guard day <= today else {
            return .failure(PaymentRefusal(rule: .invalidDate, field: "date",
                                           message: "A data do pagamento \(day.iso) é posterior a hoje (\(today.iso)); informe o pagamento depois de feito."))
        }
        return .success(day)
    }

    /// Records the payment whose credit `draft` is. Throws `PaymentRefusal`, `LedgerRejection`, or
    /// `StoreError.notFound` when the client has no such debt.
    public func record(clientNum: Int, externalID: String, method: PaymentMethod, paidOn: Day, credit draft: LedgerEntryDraft,
                       actor: DebtEventActor, now: Date = Date()) async throws -> PaymentOutcome {
        let accounts = try await ledger.prepareAccounts(clientNum: clientNum, [draft])
        return try await db.write(durable: true) { c in
            guard let debt = try await c.query("""
                SELECT amount_cents, paid_cents, status FROM debts WHERE client_num = \(clientNum) AND external_id = \(externalID)\(c.forUpdate)
                """).first else { throw StoreError.notFound("debt \(externalID)") }
            let amount = Int64(try debt.int("amount_cents"))
            var paid = Int64(try debt.int("paid_cents"))
            // The same trace key: the same payment again (answered as first recorded), or a refusal.
            if let previous = try await c.query("""
                SELECT \(raw: Self.columns) FROM debt_payments WHERE client_num = \(clientNum) AND trace_key = \(draft.traceKey)
                """).first.map(Self.payment) {
                guard previous.externalID == externalID, previous.amountCents == draft.amountCents, previous.paidOn == paidOn,
                      previous.method == method.rawValue else {
                    throw PaymentRefusal(rule: .traceKeyReused, field: "trace_key",
                                         message: "A chave de rastreio \(draft.traceKey) já foi usada em outro pagamento.")
                }
                return PaymentOutcome(payment: previous, debtAmountCents: amount, paidCents: paid, status: try debt.string("status"),
                                      ledgerEntry: nil, replayed: true)
            }
            let current = try debt.known("status", as: DebtStatus.self)
            guard !current.isOutOfCollection else {
                throw PaymentRefusal(rule: .outOfCollection, field: "external_id", message: current == .withdrawn
                    ? "A dívida \(externalID) foi baixada pelo credor e não recebe pagamentos."
                    : "A dívida \(externalID) foi recusada na análise e não recebe pagamentos.")
            }
            let open = amount - paid
            guard open > 0 else {
                throw PaymentRefusal(rule: .alreadyPaid, field: "amount", message: "A dívida \(externalID) já está paga.")
            }
            guard draft.amountCents <= open else {
                throw PaymentRefusal(rule: .exceedsOpenAmount, field: "amount",
                                     message: "O pagamento de \(Money.brazilian(cents: draft.amountCents)) passa do valor em aberto, \(Money.brazilian(cents: open)).")
            }
            let posting = try await ledger.post(in: c, clientNum: clientNum, [draft], accounts: accounts, now: now)
            guard let entry = posting.entries.first, !posting.replayed else {
                throw PaymentRefusal(rule: .traceKeyReused, field: "trace_key",
                                     message: "A chave de rastreio \(draft.traceKey) já foi usada no razão.")
            }
            let id = try await c.query("""
                INSERT INTO debt_payments (client_num, external_id, amount_cents, paid_on, method, trace_key, ledger_entry_id, created_at)
                VALUES (\(clientNum), \(externalID), \(draft.amountCents), \(paidOn), \(method.rawValue), \(draft.traceKey),
                        \(entry.id), \(now)) RETURNING id
                """)[0].int("id")
            paid += draft.amountCents
            let status = paid == amount ? "paid" : "partially_paid"
            try await c.execute("""
                UPDATE debts SET paid_cents = \(paid), status = \(status) WHERE client_num = \(clientNum) AND external_id = \(externalID)
                """)
            try await DebtHistory.append(c, clientNum: clientNum, externalID: externalID, kind: .paid, actor: actor,
                                         details: Paid(paymentID: id, amount: Money.decimalString(cents: draft.amountCents),
                                                       paidOn: paidOn.iso, method: method.rawValue, status: status), at: now)
            if status == "paid" {
                try await c.execute("""
                    UPDATE bankslips SET status = 'paid' WHERE client_num = \(clientNum) AND external_id = \(externalID) AND status = 'open'
                    """)
            } else {
                try await BankslipStore.replaceOpen(c, clientNum: clientNum, externalID: externalID, openCents: amount - paid, actor: actor, at: now)
            }
            let payment = DebtPayment(id: id, externalID: externalID, amountCents: draft.amountCents, paidOn: paidOn,
                                      method: method.rawValue, traceKey: draft.traceKey, ledgerEntryID: entry.id, createdAt: now, reversedAt: nil)
            return PaymentOutcome(payment: payment, debtAmountCents: amount, paidCents: paid, status: status, ledgerEntry: entry, replayed: false)
        }
    }

    struct Paid: Encodable {
        var paymentID: Int
        var amount: String
        var paidOn: String
        var method: String
        /// The debt's status after it.
        var status: String
        enum CodingKeys: String, CodingKey { case paymentID = "payment_id", amount, paidOn = "paid_on", method, status }
    }

    public static let reversalEvent = "ESTORNO_PAGAMENTO"

    /// Reverses a payment (a chargeback, a payment recorded by mistake), in one transaction: the
    /// payment marked reversed, the debt's paid total and status given back, a debit of the same
    /// amount in the client's collection account dated today, a slip for the open amount (when
    /// the debt is in collection and the client collects through Esteira), and the reversal in
    /// the history. A payment already reversed answers as first reversed (`replayed`).
    /// `StoreError.notFound` when the client's debt has no such payment.
    public func reverse(clientNum: Int, externalID: String, paymentID: Int, actor: DebtEventActor, now: Date = Date()) async throws -> PaymentOutcome {
        let today = Day(now, in: Day.saoPaulo)
        @Sendable func debit(_ cents: Int64) throws -> LedgerEntryDraft {
            LedgerEntryDraft(branch: Self.branch, account: Self.account, amountCents: cents, side: .debit, eventCode: Self.reversalEvent,
                             description: String("Estorno do pagamento \(paymentID) da dívida \(externalID)".prefix(200)),
                             traceKey: UUID().uuidString.lowercased(),
                             details: try JSONText.encoded(["external_id": externalID, "payment_id": "\(paymentID)"]), referenceDate: today)
        }
        // The collection account exists before the transaction, as for a payment.
        let accounts = try await ledger.prepareAccounts(clientNum: clientNum, [try debit(1)])
        return try await db.write(durable: true) { c in
            guard let debt = try await c.query("""
                SELECT amount_cents, paid_cents, status FROM debts WHERE client_num = \(clientNum) AND external_id = \(externalID)\(c.forUpdate)
                """).first,
                  let payment = try await c.query("""
                      SELECT \(raw: Self.columns) FROM debt_payments
                      WHERE client_num = \(clientNum) AND external_id = \(externalID) AND id = \(paymentID)
                      """).first.map(Self.payment) else { throw StoreError.notFound("payment \(paymentID) of \(externalID)") }
            let amount = Int64(try debt.int("amount_cents"))
            var paid = Int64(try debt.int("paid_cents"))
            if payment.reversedAt != nil {
                return PaymentOutcome(payment: payment, debtAmountCents: amount, paidCents: paid, status: try debt.string("status"),
                                      ledgerEntry: nil, replayed: true)
            }
            let draft = try debit(payment.amountCents)
            let posting = try await ledger.post(in: c, clientNum: clientNum, [draft], accounts: accounts, now: now)
            guard let entry = posting.entries.first else { throw StoreError.notFound("the reversal's ledger entry") }
            try await c.execute("""
                UPDATE debt_payments SET reversed_at = \(now), reversal_entry_id = \(entry.id) WHERE client_num = \(clientNum) AND id = \(paymentID)
                """)
            paid -= payment.amountCents
            let current = try debt.known("status", as: DebtStatus.self)
            let status = current.isOutOfCollection ? current.rawValue : paid == 0 ? DebtStatus.registered.rawValue : DebtStatus.partiallyPaid.rawValue
            try await c.execute("""
                UPDATE debts SET paid_cents = \(paid), status = \(status) WHERE client_num = \(clientNum) AND external_id = \(externalID)
                """)
            try await DebtHistory.append(c, clientNum: clientNum, externalID: externalID, kind: .reversed, actor: actor,
                                         details: Reversed(paymentID: paymentID, amount: Money.decimalString(cents: payment.amountCents),
                                                           ledgerEntryID: entry.id, status: status), at: now)
            if !current.isOutOfCollection {
                try await BankslipStore.replaceOpen(c, clientNum: clientNum, externalID: externalID, openCents: amount - paid, actor: actor,
                                                    at: now, evenWithoutOne: true)
            }
            var reversed = payment
            reversed.reversedAt = now
            return PaymentOutcome(payment: reversed, debtAmountCents: amount, paidCents: paid, status: status, ledgerEntry: entry, replayed: false)
        }
    }

    struct Reversed: Encodable {
        var paymentID: Int
        var amount: String
        var ledgerEntryID: Int
        /// The debt's status after it.
        var status: String
        enum CodingKeys: String, CodingKey { case paymentID = "payment_id", amount, ledgerEntryID = "ledger_entry_id", status }
    }

    public func payments(clientNum: Int, externalID: String) async throws -> [DebtPayment] {
        try await db.query("""
            SELECT \(raw: Self.columns) FROM debt_payments WHERE client_num = \(clientNum) AND external_id = \(externalID) ORDER BY id
            """).map(Self.payment)
    }

    static let columns = "id, external_id, amount_cents, paid_on, method, trace_key, ledger_entry_id, created_at, reversed_at"

    static func payment(_ r: SQLRow) throws -> DebtPayment {
        DebtPayment(id: try r.int("id"), externalID: try r.string("external_id"), amountCents: Int64(try r.int("amount_cents")),
                    paidOn: try r.day("paid_on"), method: try r.string("method"), traceKey: try r.string("trace_key"),
                    ledgerEntryID: try r.int("ledger_entry_id"), createdAt: try r.date("created_at"), reversedAt: try r.optionalDate("reversed_at"))
    }
}
