import EsteiraCore
import Foundation

/// One event of a debt's history: what happened, when, who did it, and its details as JSON
/// (canonical text; each kind's fields are in docs/portfolio.md).
public struct DebtEvent: Sendable, Equatable {
    public var kind: DebtEventKind
    public var at: Date
    public var actor: DebtEventActor
    public var details: String
}

/// A debt's history. Changes after registration are rows of `debt_events`, appended in the
/// transaction that makes the change and never updated. The registration and the slips issued
/// are read from the debt's and the slips' own rows: a batch of a million debts writes no second
/// row per debt, and the history cannot disagree with the registry.
public struct DebtHistory: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    /// In the caller's transaction: appends an event, and the client's notice of it when it is one
    /// a client subscribes to (`debt.withdrawn`, `debt.paid`, …): the notice is written with the
    /// change or not at all. Called after the change, so that the notice tells the debt as it now is.
    public static func append<Details: Encodable & Sendable>(_ c: any SQLConnection, clientNum: Int, externalID: String, kind: DebtEventKind,
                                                             actor: DebtEventActor, details: Details, at: Date) async throws {
        try await c.execute("""
            INSERT INTO debt_events (client_num, external_id, kind, at, actor, details)
            VALUES (\(clientNum), \(externalID), \(kind.rawValue), \(at), \(actor.json), \(try JSONText.encoded(details)))
            """)
        try await notify(c, clientNum: clientNum, externalID: externalID, kind: kind, actor: actor, details: details, at: at)
    }

    /// The client's notice of an event just appended, when it is one a client subscribes to.
    static func notify<Details: Encodable & Sendable>(_ c: any SQLConnection, clientNum: Int, externalID: String, kind: DebtEventKind,
                                                      actor: DebtEventActor, details: Details, at: Date) async throws {
        guard let event = NotificationEvent(debtEvent: kind), let debt = try await c.query("""
            SELECT c.id, d.status, d.amount_cents, d.paid_cents FROM debts d JOIN clients c ON c.num = d.client_num
            WHERE d.client_num = \(clientNum) AND d.external_id = \(externalID)
            """).first else { return }
        let notice = DebtNotice(event: event.rawValue, at: Timestamp.iso(at), actor: actor, details: details, debt: DebtStanding(
            externalID: externalID, status: try debt.string("status"), amountCents: Int64(try debt.int("amount_cents")),
            paidCents: Int64(try debt.int("paid_cents"))))
        try await NotificationStore.enqueue(c, clientID: try debt.string("id"), subjectID: noticeSubject(externalID), event: event,
                                            payload: try JSONText.encoded(notice), now: at)
    }

    /// The subject by which a debt's notices are read in the client's log (`GET /v1/notifications?batch=`).
    public static func noticeSubject(_ externalID: String) -> String { "debt/" + externalID }

    /// The debt's events, oldest first; nil when the client has no such debt.
    public func events(clientNum: Int, externalID: String) async throws -> [DebtEvent]? {
        try await db.read { c in
            guard let debt = try await c.query("""
                SELECT amount_cents, due_date, batch_id, line, created_at FROM debts
                WHERE client_num = \(clientNum) AND external_id = \(externalID)
                """).first else { return nil }
            var events = [DebtEvent(
                kind: .registered, at: try debt.date("created_at"),
                actor: DebtEventActor(kind: .batch, id: try debt.string("batch_id"), line: try debt.int("line")),
                details: try JSONText.encoded(Registered(amount: Money.decimalString(cents: Int64(try debt.int("amount_cents"))),
                                                         dueDate: try debt.day("due_date").iso)))]
            for slip in try await c.query("""
                SELECT our_number, amount_cents, created_at FROM bankslips
                WHERE client_num = \(clientNum) AND external_id = \(externalID) ORDER BY our_number
                """) {
                events.append(DebtEvent(
                    kind: .slipIssued, at: try slip.date("created_at"), actor: DebtEventActor(kind: .esteira, id: ""),
                    details: try JSONText.encoded(SlipDetails(ourNumber: Int64(try slip.int("our_number")),
                                                              amount: Money.decimalString(cents: Int64(try slip.int("amount_cents")))))))
            }
            let storedRows = try await c.query("""
                SELECT kind, at, actor, details FROM debt_events WHERE client_num = \(clientNum) AND external_id = \(externalID) ORDER BY id
                """)
            let stored = storedRows.count
            // Sorted by moment, but a stored event never before one recorded ahead of it: rows are
            // recorded under the debt's row lock, in the order the changes were made, while a
            // change's moment may be taken before it waited for that lock (DebtHistoryOrderTests).
            var keys: [Date] = []
            for row in storedRows {
                let actor: DebtEventActor
                do {
                    actor = try JSONDecoder().decode(DebtEventActor.self, from: Data(try row.string("actor").utf8))
                } catch {
                    throw SQLError(code: .decode, message: "debt_events.actor of \(externalID) does not read: \(error)", sql: "")
                }
                let at = try row.date("at")
                keys.append(max(at, keys.last ?? at))
                events.append(DebtEvent(kind: try row.known("kind"), at: at, actor: actor, details: try row.string("details")))
            }
            // At one moment: the registration first, then what the transaction recorded (a payment,
            // the slip it cancelled), then the slip it issued; otherwise in the order read.
            func rank(_ e: DebtEvent, _ stored: Bool) -> Int { e.kind == .registered ? 0 : stored ? 1 : 2 }
            let storedFrom = events.count - stored
            func key(_ i: Int) -> Date { i >= storedFrom ? keys[i - storedFrom] : events[i].at }
            return events.indices
                .sorted { (key($0), rank(events[$0], $0 >= storedFrom), $0) < (key($1), rank(events[$1], $1 >= storedFrom), $1) }
                .map { events[$0] }
        }
    }

    /// A client's notice of a change to one of its debts: the event, its time and actor, what
    /// changed (the history event's details), and the debt as it now stands.
    struct DebtNotice<Details: Encodable>: Encodable {
        var event: String
        var at: String
        var actor: DebtEventActor
        var details: Details
        var debt: DebtStanding
    }

    struct Registered: Encodable {
        var amount: String
        var dueDate: String
        enum CodingKeys: String, CodingKey { case amount, dueDate = "due_date" }
    }

    /// A slip issued or cancelled.
    public struct SlipDetails: Encodable, Sendable {
        public var ourNumber: Int64
        public var amount: String
        enum CodingKeys: String, CodingKey { case ourNumber = "our_number", amount }
        public init(ourNumber: Int64, amount: String) {
            self.ourNumber = ourNumber
            self.amount = amount
        }
    }
}
