import EsteiraCore
import Foundation

/// A registered debt to issue a slip for.
public struct SlipRequest: Sendable {
    public var externalID: String
    public var amountCents: Int64
    /// The debtor's address, when the debt has one: the slip is e-mailed there.
    public var email: String?

    public init(externalID: String, amountCents: Int64, email: String?) {
        self.externalID = externalID
        self.amountCents = amountCents
        self.email = email
    }

    public init(_ debt: Debt) { self.init(externalID: debt.externalID, amountCents: debt.amountCents, email: debt.email) }
}

/// Why a debt gets no slip.
public enum SlipRefusal: Error, Sendable {
    /// Nothing is open on it: a slip would ask the debtor to pay again.
    case paid
}

/// Collection settings and the slips issued under them. Issuing happens in the transaction that
/// registers the debts, so a debt registered has its slip, and a re-run (which finds the
/// sub-batch registered and inserts nothing) issues none.
public struct BankslipStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    public func settings(clientID: String) async throws -> CollectionSettings? {
        guard let r = try await db.query("SELECT settings FROM collection_settings WHERE client_id = \(clientID)").first else { return nil }
        return try JSONDecoder().decode(CollectionSettings.self, from: Data(try r.string("settings").utf8))
    }

    /// Saves the settings; the our-number sequence starts at 1 and is never reset.
    public func save(_ settings: CollectionSettings, clientID: String) async throws {
        let json = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        let now = Date()
        try await db.write(durable: true) { c in
            let changed = try await c.execute("""
                UPDATE collection_settings SET settings = \(json), updated_at = \(now) WHERE client_id = \(clientID)
                """)
            if changed == 0 {
                try await c.execute("""
                    INSERT INTO collection_settings (client_id, settings, next_our_number, updated_at)
                    VALUES (\(clientID), \(json), 1, \(now))
                    """)
            }
        }
    }

    /// Issues a slip for each debt, in the caller's transaction, when the client has collection
    /// settings; returns how many. Our-numbers come from the client's sequence, whose row stays
    /// locked (PostgreSQL) until the commit. A debt with an e-mail address gets its slip e-mailed:
    /// the slip's row is that e-mail's outbox entry (`email_state` pending, due now).
    @discardableResult
    public static func issue(_ c: any SQLConnection, clientID: String, clientNum: Int, debts: some Collection<SlipRequest>,
                             today: Day, now: Date = Date()) async throws -> Int {
        guard !debts.isEmpty, let row = try await c.query("""
            SELECT settings, next_our_number FROM collection_settings WHERE client_id = \(clientID)\(c.forUpdate)
            """).first else { return 0 }
        let settings = try JSONDecoder().decode(CollectionSettings.self, from: Data(try row.string("settings").utf8))
        let first = Int64(try row.int("next_our_number"))
        let due = today.adding(days: settings.dueDays)
        let issuer = try Bankslip.Issuer(settings)
        // Made only now: a client that does not collect through Esteira costs no request per debt.
        let debts = Array(debts)
        var rows: [[SQLValue]] = []
        rows.reserveCapacity(debts.count)
        for (i, debt) in debts.enumerated() {
            let slip = try issuer.make(ourNumber: first + Int64(i), amountCents: debt.amountCents, dueDate: due)
            let mail: [SQLValue] = debt.email.map { [.text($0), .text("pending"), .timestamp(now)] } ?? [.null, .null, .null]
            rows.append([.int(Int64(clientNum)), .text(debt.externalID), .int(slip.ourNumber), .int(slip.amountCents), .day(slip.dueDate),
                         .text(slip.barcode), .text(slip.digitableLine), .text(slip.pixPayload), .text("open"), .timestamp(now)] + mail)
        }
        try await c.execute("""
            UPDATE collection_settings SET next_our_number = \(first + Int64(debts.count)) WHERE client_id = \(clientID)
            """)
        try await c.insert(into: "bankslips", columns: ["client_num", "external_id", "our_number", "amount_cents", "due_date", "barcode",
                                                        "digitable_line", "pix_payload", "status", "created_at",
                                                        "email_to", "email_state", "email_next_at"], rows: rows)
        return debts.count
    }

    /// In the caller's transaction: cancels the debt's open slip, if it has one (a pending e-mail
    /// of it is not sent), as an event of the debt's history; returns its our-number.
    static func cancelOpen(_ c: any SQLConnection, clientNum: Int, externalID: String, actor: DebtEventActor, at: Date) async throws -> Int64? {
        guard let slip = try await open(c.query, clientNum: clientNum, externalID: externalID) else { return nil }
        try await c.execute("""
            UPDATE bankslips SET status = 'cancelled',
                   email_state = CASE WHEN email_state = 'pending' THEN 'cancelled' ELSE email_state END
            WHERE client_num = \(clientNum) AND our_number = \(slip.ourNumber)
            """)
        try await DebtHistory.append(c, clientNum: clientNum, externalID: externalID, kind: .slipCancelled, actor: actor,
                                     details: DebtHistory.SlipDetails(ourNumber: slip.ourNumber, amount: Money.decimalString(cents: slip.amountCents)),
                                     at: at)
        return slip.ourNumber
    }

    /// In the caller's transaction: after a partial payment, the debt's open slip (if it has one)
    /// is cancelled and a new one issued for what is still open, e-mailed like the first when the
    /// debt has an address. A debtor never holds a slip for more than is open.
    /// `evenWithoutOne`: issue the new slip though none was open (a reversal after the debt was
    /// paid in full), when the client collects through Esteira.
    static func replaceOpen(_ c: any SQLConnection, clientNum: Int, externalID: String, openCents: Int64, actor: DebtEventActor,
                            at: Date, evenWithoutOne: Bool = false) async throws {
        let cancelled = try await cancelOpen(c, clientNum: clientNum, externalID: externalID, actor: actor, at: at)
        guard cancelled != nil || evenWithoutOne, openCents > 0,
              let row = try await c.query("""
                  SELECT c.id, d.email FROM debts d JOIN clients c ON c.num = d.client_num
                  WHERE d.client_num = \(clientNum) AND d.external_id = \(externalID)
                  """).first else { return }
        try await issue(c, clientID: try row.string("id"), clientNum: clientNum,
                        debts: [SlipRequest(externalID: externalID, amountCents: openCents, email: try row.optionalString("email"))],
                        today: Day(at, in: Day.saoPaulo), now: at)
    }

    /// The debt's open slip; when it has none and the client has settings (a debt registered
    /// before they were saved), issues it now, once, for what is open. A debt with nothing open
    /// gets none: `SlipRefusal.paid`.
    public func openSlip(clientID: String, clientNum: Int, debt: SlipRequest, today: Day) async throws -> Bankslip? {
        let externalID = debt.externalID
        if let slip = try await Self.open(db.query, clientNum: clientNum, externalID: externalID) { return slip }
        return try await db.write(durable: true) { c in
            if let slip = try await Self.open(c.query, clientNum: clientNum, externalID: externalID) { return slip }
            guard let row = try await c.query("""
                SELECT amount_cents, paid_cents FROM debts WHERE client_num = \(clientNum) AND external_id = \(externalID)\(c.forUpdate)
                """).first else { return nil }
            let open = Int64(try row.int("amount_cents")) - Int64(try row.int("paid_cents"))
            guard open > 0 else { throw SlipRefusal.paid }
            try await Self.issue(c, clientID: clientID, clientNum: clientNum,
                                 debts: [SlipRequest(externalID: externalID, amountCents: open, email: debt.email)], today: today)
            return try await Self.open(c.query, clientNum: clientNum, externalID: externalID)
        }
    }

    /// Takes up to `limit` slips whose e-mail to the debtor is due, holding them for `lease`
    /// seconds (another sender skips them; a sender that dies lets them come due again), with what
    /// the e-mail needs. Only the slips' rows are locked: the client's settings row, which a
    /// registering batch holds, is read without waiting.
    public func claimDueEmails(limit: Int, lease: TimeInterval, now: Date = Date()) async throws -> [PendingSlipEmail] {
        // Our-numbers by client: the key is (client_num, our_number).
        let claimed: [Int: [Int]] = try await db.write { c in
            let keys = try await c.query("""
                SELECT client_num, our_number FROM bankslips WHERE email_state = 'pending' AND email_next_at <= \(now)
                ORDER BY email_next_at LIMIT \(limit)\(c.forUpdateSkipLocked)
                """)
            let byClient = try Dictionary(grouping: keys, by: { try $0.int("client_num") }).mapValues { try $0.map { try $0.int("our_number") } }
            for (clientNum, numbers) in byClient {
                try await c.execute("""
                    UPDATE bankslips SET email_next_at = \(now.addingTimeInterval(lease))
                    WHERE client_num = \(clientNum) AND our_number IN (\(list: numbers))
                    """)
            }
            return byClient
        }
        var out: [PendingSlipEmail] = []
        for (clientNum, numbers) in claimed {
            for r in try await db.query("""
                SELECT b.our_number, b.external_id, b.amount_cents, b.due_date, b.barcode, b.digitable_line, b.pix_payload,
                       b.email_to, b.email_attempts, d.name, s.settings
                FROM bankslips b
                JOIN debts d ON d.client_num = b.client_num AND d.external_id = b.external_id
                JOIN clients c ON c.num = b.client_num
                JOIN collection_settings s ON s.client_id = c.id
                WHERE b.client_num = \(clientNum) AND b.our_number IN (\(list: numbers))
                """) {
                let ourNumber = Int64(try r.int("our_number"))
                out.append(PendingSlipEmail(
                    clientNum: clientNum, ourNumber: ourNumber, externalID: try r.string("external_id"), payer: try r.string("name"),
                    address: try r.string("email_to"), attempts: try r.int("email_attempts"),
                    settings: try JSONDecoder().decode(CollectionSettings.self, from: Data(try r.string("settings").utf8)),
                    slip: Bankslip(ourNumber: ourNumber, amountCents: Int64(try r.int("amount_cents")), dueDate: try r.day("due_date"),
                                   barcode: try r.string("barcode"), digitableLine: try r.string("digitable_line"),
                                   pixPayload: try r.string("pix_payload"))))
            }
        }
        return out
    }

    /// Records an attempt at the debtor's e-mail: sent, or to be tried again at `retryAt`, or given
    /// up (`retryAt` nil; the error stays on the slip).
    public func recordEmail(clientNum: Int, ourNumber: Int64, sent: Bool, error: String?, retryAt: Date?, now: Date = Date()) async throws {
        let state = sent ? "sent" : (retryAt == nil ? "dead" : "pending")
        try await db.write(durable: true) { c in
            try await c.execute("""
                UPDATE bankslips SET email_state = \(state), email_attempts = email_attempts + 1, email_next_at = \(retryAt ?? now),
                       email_error = \(error), emailed_at = \(sent ? now : nil)
                WHERE client_num = \(clientNum) AND our_number = \(ourNumber)
                """)
        }
    }

    /// The state of the slip's e-mail to the debtor: nil when the debt has no address.
    public func emailState(clientNum: Int, externalID: String) async throws -> SlipEmailState? {
        guard let r = try await db.query("""
            SELECT email_to, email_state, email_attempts, email_error, emailed_at FROM bankslips
            WHERE client_num = \(clientNum) AND external_id = \(externalID) AND status = 'open'
            """).first, let state = try r.optionalString("email_state") else { return nil }
        return SlipEmailState(address: try r.string("email_to"), state: state, attempts: try r.int("email_attempts"),
                              error: try r.optionalString("email_error"), sentAt: try r.optionalDate("emailed_at"))
    }

    static func open(_ query: (SQL) async throws -> [SQLRow], clientNum: Int, externalID: String) async throws -> Bankslip? {
        guard let r = try await query("""
            SELECT our_number, amount_cents, due_date, barcode, digitable_line, pix_payload FROM bankslips
            WHERE client_num = \(clientNum) AND external_id = \(externalID) AND status = 'open'
            """).first else { return nil }
        return Bankslip(ourNumber: Int64(try r.int("our_number")), amountCents: Int64(try r.int("amount_cents")), dueDate: try r.day("due_date"),
                        barcode: try r.string("barcode"), digitableLine: try r.string("digitable_line"), pixPayload: try r.string("pix_payload"))
    }
}

/// A slip whose e-mail to the debtor is due, with what the e-mail shows.
public struct PendingSlipEmail: Sendable {
    public var clientNum: Int
    public var ourNumber: Int64
    public var externalID: String
    public var payer: String
    public var address: String
    public var attempts: Int
    public var settings: CollectionSettings
    public var slip: Bankslip
}

/// Where the slip's e-mail to the debtor stands: `pending` (to be sent, or to be tried again),
/// `sent`, or `dead` (refused by the server, or out of attempts).
public struct SlipEmailState: Sendable {
    public var address: String
    public var state: String
    public var attempts: Int
    public var error: String?
    public var sentAt: Date?
}
