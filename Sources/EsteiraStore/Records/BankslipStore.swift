import EsteiraCore
import Foundation

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
    /// locked (PostgreSQL) until the commit.
    @discardableResult
    public static func issue(_ c: any SQLConnection, clientID: String, clientNum: Int, debts: [(externalID: String, amountCents: Int64)],
                             today: Day, now: Date = Date()) async throws -> Int {
        guard !debts.isEmpty, let row = try await c.query("""
            SELECT settings, next_our_number FROM collection_settings WHERE client_id = \(clientID)\(c.forUpdate)
            """).first else { return 0 }
        let settings = try JSONDecoder().decode(CollectionSettings.self, from: Data(try row.string("settings").utf8))
        let first = Int64(try row.int("next_our_number"))
        let due = today.adding(days: settings.dueDays)
        let issuer = try Bankslip.Issuer(settings)
        var rows: [[SQLValue]] = []
        rows.reserveCapacity(debts.count)
        for (i, debt) in debts.enumerated() {
            let slip = try issuer.make(ourNumber: first + Int64(i), amountCents: debt.amountCents, dueDate: due)
            rows.append([.int(Int64(clientNum)), .text(debt.externalID), .int(slip.ourNumber), .int(slip.amountCents), .day(slip.dueDate),
                         .text(slip.barcode), .text(slip.digitableLine), .text(slip.pixPayload), .text("open"), .timestamp(now)])
        }
        try await c.execute("""
            UPDATE collection_settings SET next_our_number = \(first + Int64(debts.count)) WHERE client_id = \(clientID)
            """)
        try await c.insert(into: "bankslips", columns: ["client_num", "external_id", "our_number", "amount_cents", "due_date", "barcode",
                                                        "digitable_line", "pix_payload", "status", "created_at"], rows: rows)
        return debts.count
    }

    /// The debt's open slip; when it has none and the client has settings (a debt registered
    /// before they were saved), issues it now, once.
    public func openSlip(clientID: String, clientNum: Int, externalID: String, amountCents: Int64, today: Day) async throws -> Bankslip? {
        if let slip = try await Self.open(db.query, clientNum: clientNum, externalID: externalID) { return slip }
        return try await db.write(durable: true) { c in
            if let slip = try await Self.open(c.query, clientNum: clientNum, externalID: externalID) { return slip }
            try await Self.issue(c, clientID: clientID, clientNum: clientNum, debts: [(externalID, amountCents)], today: today)
            return try await Self.open(c.query, clientNum: clientNum, externalID: externalID)
        }
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
