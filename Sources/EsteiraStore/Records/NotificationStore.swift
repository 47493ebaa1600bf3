import EsteiraCore
import Foundation

/// What a client is told about: a batch ended, one way or another; a ledger request answered; a
/// registered debt changed. And the agency's own alerts.
public enum NotificationEvent: String, Sendable, CaseIterable, Codable {
    case batchCompleted = "batch.completed"
    case batchCompletedWithRejects = "batch.completed_with_rejects"
    case batchFailed = "batch.failed"
    /// A step of the batch ran out of attempts; the batch waits for an operator (`BatchStall`).
    case batchStalled = "batch.stalled"
    case ledgerPosted = "ledger.posted"
    case ledgerRejected = "ledger.rejected"
    /// A registered debt changed (docs/portfolio.md).
    case debtCorrected = "debt.corrected"
    case debtWithdrawn = "debt.withdrawn"
    case debtPaid = "debt.paid"
    case debtReviewDecided = "debt.review_decided"
    /// The agency's alerts, for operators (`alert_targets`), never a client's.
    case lakeFilesLate = "lake.files_late"
    case lakeRunFailed = "lake.run_failed"
    case lakeOverBudget = "lake.over_budget"
    /// A month's lake run ended, every step done (operators who want to hear of success).
    case lakeRunCompleted = "lake.run_completed"
    /// A client's webhook or e-mail given up after its last attempt: the client was not told.
    case notificationDead = "notification.dead"
    /// A job of any kind ran out of attempts (or kept killing its worker) and waits, dead, for an
    /// operator: its batch is `stalled` (and its client told) until `esteira jobs retry` revives it.
    case jobDead = "job.dead"

    public init?(status: BatchStatus) {
        switch status {
        case .completed: self = .batchCompleted
        case .completedWithRejects: self = .batchCompletedWithRejects
        case .failed: self = .batchFailed
        case .stalled: self = .batchStalled
        // A cancellation is an operator's decision, told to the client by whoever made it; no event yet.
        case .received, .processing, .previewed, .cancelled: return nil
        }
    }

    /// The notice of a change in a debt's history, for the changes clients subscribe to.
    public init?(debtEvent: DebtEventKind) {
        switch debtEvent {
        case .corrected: self = .debtCorrected
        case .withdrawn: self = .debtWithdrawn
        case .paid: self = .debtPaid
        case .reviewDecided: self = .debtReviewDecided
        case .registered, .reversed, .slipIssued, .slipCancelled, .erased: return nil
        }
    }

    /// E-mail tells about batches, a debt's changes (to the addresses that name them) and alerts;
    /// the ledger's answers are for machines (webhooks).
    public var goesByEmail: Bool { rawValue.hasPrefix("batch.") || isDebtChange || isAlert }

    /// A change of a registered debt (docs/portfolio.md).
    public var isDebtChange: Bool { rawValue.hasPrefix("debt.") }

    /// What an address created without naming events hears of: its batches. A debt's changes come
    /// by e-mail only to an address that names them (a file of corrections is thousands of them).
    public static var emailDefaults: [NotificationEvent] { allCases.filter { $0.rawValue.hasPrefix("batch.") } }

    /// An alert of the agency's own, sent to operators' targets rather than to a client.
    public var isAlert: Bool { rawValue.hasPrefix("lake.") || rawValue.hasPrefix("job.") || rawValue.hasPrefix("notification.") }

    public static var clientEvents: [NotificationEvent] { allCases.filter { !$0.isAlert } }
    public static var alertEvents: [NotificationEvent] { allCases.filter(\.isAlert) }
    /// What an operators' target made without naming events hears of: every trouble, not the
    /// news that a lake run completed, which a target asks for by name.
    public static var alertDefaults: [NotificationEvent] { alertEvents.filter { $0 != .lakeRunCompleted } }

    /// The `client_id` of the agency's own notifications.
    public static let agency = ""
}

/// Where operators get the agency's alerts: a webhook (signed like the clients') or an address.
public struct AlertTarget: Sendable, Equatable {
    public var id: String
    public var url: String?
    public var address: String?
    public var events: [NotificationEvent]
    public var createdAt: Date
}

public struct WebhookEndpoint: Sendable, Equatable {
    public var id: String
    public var url: String
    public var events: [NotificationEvent]
    public var createdAt: Date
}

/// An address that gets the client's notifications by e-mail.
public struct EmailRecipient: Sendable, Equatable {
    public var id: String
    public var address: String
    public var events: [NotificationEvent]
    public var createdAt: Date
}

/// A notification due for delivery, with where it goes and how to sign it.
public struct PendingNotification: Sendable {
    public var id: Int
    public var event: String
    public var payload: String
    public var url: String
    public var secret: String
    public var attempts: Int
    /// An operators' alert target (the agency's own), not a client's endpoint.
    public var operatorTarget: Bool = false
}

/// A notification due for delivery by e-mail.
public struct PendingEmailNotification: Sendable {
    public var id: Int
    public var event: String
    public var payload: String
    public var address: String
    public var attempts: Int
}

public struct NotificationRecord: Sendable {
    public struct Attempt: Sendable {
        public var at: Date
        public var statusCode: Int?
        public var error: String?
        public var durationMs: Int
    }
    public var id: Int
    public var batchID: String
    public var event: String
    public var endpointID: String
    /// `webhook` (to `url`) or `email` (to `address`).
    public var channel: String
    public var url: String?
    public var address: String?
    public var state: String
    public var createdAt: Date
    public var deliveredAt: Date?
    public var nextAt: Date
    public var attempts: [Attempt]
}

/// Webhook endpoints and the outbox of notifications. A notification is written by `enqueue`
/// inside the transaction that changes the batch's status, so it exists exactly when the change
/// committed: a crash can neither lose it nor leave one for a change that rolled back. The sender
/// claims due ones (`claimDue`), posts them, and records each attempt.
public struct NotificationStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    /// Adds an endpoint; returns it with its signing secret, shown only now. `actor`, an operator
    /// doing it for the client, goes in the audit (never the secret).
    public func createEndpoint(clientID: String, url: String, events: [NotificationEvent],
                               by actor: AuditActor? = nil) async throws -> (WebhookEndpoint, secret: String) {
        let endpoint = WebhookEndpoint(id: UUID().uuidString.lowercased(), url: url, events: events, createdAt: Date())
        let secret = "whsec_" + Hex.random(bytes: 24)
        try await db.write(durable: true) { c in
            try await c.execute("""
                INSERT INTO webhook_endpoints (id, client_id, url, secret, events, created_at)
                VALUES (\(endpoint.id), \(clientID), \(url), \(secret), \(events.map(\.rawValue).joined(separator: ",")), \(endpoint.createdAt))
                """)
            if let actor {
                try await AuditLog.record(c, actor, action: "client.webhook_add", target: "client:\(clientID)", before: nil,
                                          after: AuditLog.values(["webhook": url, "events": events.map(\.rawValue).joined(separator: ",")]))
            }
        }
        return (endpoint, secret)
    }

    public func endpoints(clientID: String) async throws -> [WebhookEndpoint] {
        try await db.query("""
            SELECT id, url, events, created_at FROM webhook_endpoints WHERE client_id = \(clientID) ORDER BY created_at, id
            """).map {
            WebhookEndpoint(id: try $0.string("id"), url: try $0.string("url"),
                            events: Self.events(try $0.string("events")),
                            createdAt: try $0.date("created_at"))
        }
    }

    /// Removes the endpoint; `actor`, an operator doing it for the client, goes in the audit.
    public func deleteEndpoint(clientID: String, id: String, by actor: AuditActor? = nil) async throws -> Bool {
        try await db.write(durable: true) { c in
            let url = try await c.query("SELECT url FROM webhook_endpoints WHERE id = \(id) AND client_id = \(clientID)").first?.string("url")
            guard let url, try await c.execute("DELETE FROM webhook_endpoints WHERE id = \(id) AND client_id = \(clientID)") == 1 else { return false }
            if let actor {
                try await AuditLog.record(c, actor, action: "client.webhook_remove", target: "client:\(clientID)",
                                          before: AuditLog.values(["webhook": url]), after: nil)
            }
            return true
        }
    }

    /// Adds an address for the client's notifications.
    public func createRecipient(clientID: String, address: String, events: [NotificationEvent],
                                by actor: AuditActor? = nil) async throws -> EmailRecipient {
        let recipient = EmailRecipient(id: UUID().uuidString.lowercased(), address: address, events: events, createdAt: Date())
        try await db.write(durable: true) { c in
            try await c.execute("""
                INSERT INTO email_recipients (id, client_id, address, events, created_at)
                VALUES (\(recipient.id), \(clientID), \(address), \(events.map(\.rawValue).joined(separator: ",")), \(recipient.createdAt))
                """)
            if let actor {
                try await AuditLog.record(c, actor, action: "client.email_add", target: "client:\(clientID)", before: nil,
                                          after: AuditLog.values(["email": address, "events": events.map(\.rawValue).joined(separator: ",")]))
            }
        }
        return recipient
    }

    public func recipients(clientID: String) async throws -> [EmailRecipient] {
        try await db.query("""
            SELECT id, address, events, created_at FROM email_recipients WHERE client_id = \(clientID) ORDER BY created_at, id
            """).map {
            EmailRecipient(id: try $0.string("id"), address: try $0.string("address"), events: Self.events(try $0.string("events")),
                           createdAt: try $0.date("created_at"))
        }
    }

    /// Removes the address; `actor`, an operator doing it for the client, goes in the audit.
    public func deleteRecipient(clientID: String, id: String, by actor: AuditActor? = nil) async throws -> Bool {
        try await db.write(durable: true) { c in
            let address = try await c.query("SELECT address FROM email_recipients WHERE id = \(id) AND client_id = \(clientID)")
                .first?.string("address")
            guard let address, try await c.execute("DELETE FROM email_recipients WHERE id = \(id) AND client_id = \(clientID)") == 1 else {
                return false
            }
            if let actor {
                try await AuditLog.record(c, actor, action: "client.email_remove", target: "client:\(clientID)",
                                          before: AuditLog.values(["email": address]), after: nil)
            }
            return true
        }
    }

    static func events(_ list: String) -> [NotificationEvent] {
        list.split(separator: ",").compactMap { NotificationEvent(rawValue: String($0)) }
    }

    /// In the caller's transaction, right after the batch's status became final: one notification
    /// per endpoint and per e-mail address of the client that wants the event, with the batch as
    /// it now is.
    public static func enqueue(_ c: any SQLConnection, batchID: String, now: Date = Date()) async throws {
        guard let r = try await c.query("SELECT \(raw: BatchStore.columns) FROM batches WHERE id = \(batchID)").first else { return }
        let batch = try BatchStore.record(r)
        guard let event = NotificationEvent(status: batch.status) else { return }
        try await enqueue(c, clientID: batch.clientID, subjectID: batch.id, event: event, payload: try payload(event: event, batch: batch), now: now)
    }

    /// In the caller's transaction: one notification of `event` per endpoint (and, for events that
    /// go by e-mail, per address) of the client that wants it. `subjectID` is what it is about (a
    /// batch, a ledger request), by which the client reads its log.
    public static func enqueue(_ c: any SQLConnection, clientID: String, subjectID: String, event: NotificationEvent, payload: String,
                               now: Date = Date()) async throws {
        let wants = { (row: SQLRow) in try row.string("events").split(separator: ",").contains(Substring(event.rawValue)) }
        let endpoints = try await c.query("SELECT id, events FROM webhook_endpoints WHERE client_id = \(clientID)").filter(wants)
        let recipients = event.goesByEmail
            ? try await c.query("SELECT id, address, events FROM email_recipients WHERE client_id = \(clientID)").filter(wants) : []
        let targets = try endpoints.map { ("webhook", try $0.string("id"), String?.none) }
            + recipients.map { ("email", try $0.string("id"), Optional(try $0.string("address"))) }
        for (channel, target, address) in targets {
            try await c.execute("""
                INSERT INTO notifications (client_id, batch_id, event, channel, endpoint_id, address, payload, state, attempts, next_at, created_at)
                VALUES (\(clientID), \(subjectID), \(event.rawValue), \(channel), \(target), \(address), \(payload), 'pending', 0,
                        \(now), \(now))
                """)
        }
    }

    /// Which of `events` a client (by its number) has an endpoint or an address listening for: a
    /// file's many changes ask once, not once per change.
    public static func listening(_ c: any SQLConnection, clientNum: Int, to events: [NotificationEvent]) async throws -> Set<NotificationEvent> {
        var heard = Set<NotificationEvent>()
        for row in try await c.query("""
            SELECT w.events FROM webhook_endpoints w JOIN clients c ON c.id = w.client_id WHERE c.num = \(clientNum)
            UNION ALL
            SELECT r.events FROM email_recipients r JOIN clients c ON c.id = r.client_id WHERE c.num = \(clientNum)
            """) {
            let named = try row.string("events").split(separator: ",")
            for event in events where named.contains(Substring(event.rawValue)) { heard.insert(event) }
        }
        return heard
    }

    /// In the caller's transaction: the agency's alert `event` about `subjectID` to each
    /// operators' target that wants it, once per target (a target added later still hears of a
    /// subject alerted before). Returns whether any was written.
    @discardableResult
    public static func enqueueAlert(_ c: any SQLConnection, event: NotificationEvent, subjectID: String, payload: String,
                                    now: Date = Date()) async throws -> Bool {
        let agency = NotificationEvent.agency
        // One alert per subject and target even with many processes alerting (PostgreSQL; SQLite's
        // single writer already orders them).
        try await c.lock(.alerts)
        let alerted = Set(try await c.query("""
            SELECT endpoint_id FROM notifications WHERE client_id = \(agency) AND batch_id = \(subjectID) AND event = \(event.rawValue)
            """).map { try $0.string("endpoint_id") })
        let targets = try await c.query("SELECT id, channel, address, events FROM alert_targets").filter {
            try $0.string("events").split(separator: ",").contains(Substring(event.rawValue)) && !alerted.contains(try $0.string("id"))
        }
        for t in targets {
            try await c.execute("""
                INSERT INTO notifications (client_id, batch_id, event, channel, endpoint_id, address, payload, state, attempts, next_at, created_at)
                VALUES (\(agency), \(subjectID), \(event.rawValue), \(try t.string("channel")), \(try t.string("id")),
                        \(try t.optionalString("address")), \(payload), 'pending', 0, \(now), \(now))
                """)
        }
        return !targets.isEmpty
    }

    /// Adds an operators' target: a webhook `url` (returned with its signing secret, shown only
    /// now) or an e-mail `address`.
    public func createAlertTarget(url: String?, address: String?, events: [NotificationEvent],
                                  by actor: AuditActor? = nil) async throws -> (AlertTarget, secret: String?) {
        let target = AlertTarget(id: UUID().uuidString.lowercased(), url: url, address: address, events: events, createdAt: Date())
        let secret = url == nil ? nil : "whsec_" + Hex.random(bytes: 24)
        try await db.write(durable: true) { c in
            try await c.execute("""
                INSERT INTO alert_targets (id, channel, url, secret, address, events, created_at)
                VALUES (\(target.id), \(url == nil ? "email" : "webhook"), \(url), \(secret), \(address),
                        \(events.map(\.rawValue).joined(separator: ",")), \(target.createdAt))
                """)
            if let actor {
                try await AuditLog.record(c, actor, action: "alert_target.create", target: "alert_target:\(target.id)", before: nil,
                                          after: AuditLog.values(["url": url, "address": address,
                                                                  "events": events.map(\.rawValue).joined(separator: ",")]))
            }
        }
        return (target, secret)
    }

    public func alertTargets() async throws -> [AlertTarget] {
        try await db.query("SELECT id, url, address, events, created_at FROM alert_targets ORDER BY created_at, id").map {
            AlertTarget(id: try $0.string("id"), url: try $0.optionalString("url"), address: try $0.optionalString("address"),
                        events: Self.events(try $0.string("events")), createdAt: try $0.date("created_at"))
        }
    }

    public func deleteAlertTarget(id: String, by actor: AuditActor? = nil) async throws -> Bool {
        try await db.write(durable: true) { c in
            guard let row = try await c.query("SELECT url, address FROM alert_targets WHERE id = \(id)").first,
                  try await c.execute("DELETE FROM alert_targets WHERE id = \(id)") == 1 else { return false }
            if let actor {
                try await AuditLog.record(c, actor, action: "alert_target.delete", target: "alert_target:\(id)",
                                          before: AuditLog.values(["url": try row.optionalString("url"), "address": try row.optionalString("address")]),
                                          after: nil)
            }
            return true
        }
    }

    /// The agency's alerts, latest first, with their delivery state.
    public func alerts(limit: Int = 100) async throws -> [NotificationRecord] {
        try await records(where: "n.client_id = \(NotificationEvent.agency) ORDER BY n.id DESC LIMIT \(limit)")
    }

    /// The webhook's body: the event and the batch with its counts.
    static func payload(event: NotificationEvent, batch b: BatchRecord) throws -> String {
        try BatchEventPayload(event: event.rawValue, batch: .init(
            id: b.id, status: b.status.rawValue, source: b.source, fileName: b.fileName,
            counts: .init(received: b.counts.received, registered: b.counts.registered, updated: b.counts.updated,
                          withdrawn: b.counts.withdrawn, duplicates: b.counts.duplicates,
                          rejected: b.counts.rejected, review: b.counts.review),
            errorCode: b.errorCode, error: b.error, traceID: b.traceID, finishedAt: b.finishedAt.map(Timestamp.isoSeconds),
            stalled: b.stall)).json()
    }

    /// Takes up to `limit` notifications that are due, and holds them for `lease` seconds: another
    /// sender (another process) does not take them meanwhile; a sender that dies lets them come due again.
    public func claimDue(limit: Int, lease: TimeInterval, now: Date = Date()) async throws -> [PendingNotification] {
        try await db.write { c in
            // The clients' endpoints, then the operators' (the agency's alerts).
            var due: [PendingNotification] = []
            for targets in ["webhook_endpoints", "alert_targets"] where due.count < limit {
                due += try await c.query("""
                    SELECT n.id, n.event, n.payload, n.attempts, e.url, e.secret FROM notifications n
                    JOIN \(raw: targets) e ON e.id = n.endpoint_id
                    WHERE n.state = 'pending' AND n.next_at <= \(now) AND n.channel = 'webhook'
                    ORDER BY n.next_at LIMIT \(limit - due.count)\(c.forUpdateSkipLocked)
                    """).map {
                    PendingNotification(id: try $0.int("id"), event: try $0.string("event"), payload: try $0.string("payload"),
                                        url: try $0.string("url"), secret: try $0.string("secret"), attempts: try $0.int("attempts"),
                                        operatorTarget: targets == "alert_targets")
                }
            }
            if !due.isEmpty {
                try await c.execute("""
                    UPDATE notifications SET next_at = \(now.addingTimeInterval(lease)) WHERE id IN (\(list: due.map(\.id)))
                    """)
            }
            return due
        }
    }

    /// `claimDue` for the notifications that go by e-mail.
    public func claimDueEmails(limit: Int, lease: TimeInterval, now: Date = Date()) async throws -> [PendingEmailNotification] {
        try await db.write { c in
            let due = try await c.query("""
                SELECT id, event, payload, attempts, address FROM notifications
                WHERE state = 'pending' AND next_at <= \(now) AND channel = 'email' ORDER BY next_at LIMIT \(limit)\(c.forUpdateSkipLocked)
                """).map {
                PendingEmailNotification(id: try $0.int("id"), event: try $0.string("event"), payload: try $0.string("payload"),
                                         address: try $0.string("address"), attempts: try $0.int("attempts"))
            }
            if !due.isEmpty {
                try await c.execute("""
                    UPDATE notifications SET next_at = \(now.addingTimeInterval(lease)) WHERE id IN (\(list: due.map(\.id)))
                    """)
            }
            return due
        }
    }

    /// How many notifications are in each of `states` now (each counted on its index).
    public func countsByState(_ states: [String]) async throws -> [(String, Int)] {
        var out: [(String, Int)] = []
        for state in states {
            out.append((state, try await db.query("SELECT COUNT(*) AS n FROM notifications WHERE state = \(state)")[0].int("n")))
        }
        return out
    }

    /// Records one attempt: delivered, or to be tried again at `retryAt`, or given up (`retryAt` nil).
    public func recordAttempt(id: Int, statusCode: Int?, error: String?, durationMs: Int, delivered: Bool, retryAt: Date?,
                              now: Date = Date()) async throws {
        try await db.write(durable: true) { c in
            try await c.execute("""
                INSERT INTO notification_attempts (notification_id, at, status_code, error, duration_ms)
                VALUES (\(id), \(now), \(statusCode), \(error), \(durationMs))
                """)
            let state = delivered ? "delivered" : (retryAt == nil ? "dead" : "pending")
            try await c.execute("""
                UPDATE notifications SET state = \(state), attempts = attempts + 1, next_at = \(retryAt ?? now),
                       delivered_at = \(delivered ? now : nil) WHERE id = \(id)
                """)
            if state == "dead" { try await Self.alertDead(c, id: id, error: error ?? statusCode.map { "HTTP \($0)" } ?? "", now: now) }
        }
    }

    /// In the caller's transaction, as a client's notification is given up: `notification.dead` to
    /// the operators' targets that want it, so that a client not told is not left unseen. An alert
    /// of the agency's own that dies raises none (it would raise the next, and so on).
    static func alertDead(_ c: any SQLConnection, id: Int, error: String, now: Date) async throws {
        guard let n = try await c.query("""
            SELECT client_id, batch_id, event, channel, attempts FROM notifications WHERE id = \(id)
            """).first, try n.string("client_id") != NotificationEvent.agency else { return }
        let payload = try AlertPayload.notificationDead(
            notification: id, clientID: try n.string("client_id"), event: try n.string("event"), channel: try n.string("channel"),
            subject: try n.string("batch_id"), attempts: try n.int("attempts"),
            error: TaxID.redactingDocuments(in: String(error.prefix(500)))).json()
        _ = try await enqueueAlert(c, event: .notificationDead, subjectID: "notification-\(id)-\(Int(now.timeIntervalSince1970 * 1000))",
                                   payload: payload, now: now)
    }

    /// The client's notifications of a batch, each with its attempts.
    public func list(clientID: String, batchID: String) async throws -> [NotificationRecord] {
        try await records(where: "n.client_id = \(clientID) AND n.batch_id = \(batchID) ORDER BY n.id")
    }

    /// Notifications with their attempts; `filter` is the query's WHERE (and order).
    func records(where filter: SQL) async throws -> [NotificationRecord] {
        let rows = try await db.query("""
            SELECT n.id, n.batch_id, n.event, n.channel, n.endpoint_id, n.address, n.state, n.created_at, n.delivered_at, n.next_at,
                   coalesce(e.url, a.url) AS url
            FROM notifications n LEFT JOIN webhook_endpoints e ON e.id = n.endpoint_id LEFT JOIN alert_targets a ON a.id = n.endpoint_id
            WHERE \(filter)
            """)
        let ids = try rows.map { try $0.int("id") }
        var attempts: [Int: [NotificationRecord.Attempt]] = [:]
        if !ids.isEmpty {
            for a in try await db.query("""
                SELECT notification_id, at, status_code, error, duration_ms FROM notification_attempts
                WHERE notification_id IN (\(list: ids)) ORDER BY id
                """) {
                attempts[try a.int("notification_id"), default: []].append(NotificationRecord.Attempt(
                    at: try a.date("at"), statusCode: try a.optionalInt("status_code"), error: try a.optionalString("error"),
                    durationMs: try a.int("duration_ms")))
            }
        }
        var out: [NotificationRecord] = []
        for (r, id) in zip(rows, ids) {
            out.append(NotificationRecord(id: id, batchID: try r.string("batch_id"), event: try r.string("event"),
                                          endpointID: try r.string("endpoint_id"), channel: try r.string("channel"),
                                          url: try r.optionalString("url"), address: try r.optionalString("address"), state: try r.string("state"),
                                          createdAt: try r.date("created_at"), deliveredAt: try r.optionalDate("delivered_at"),
                                          nextAt: try r.date("next_at"), attempts: attempts[id] ?? []))
        }
        return out
    }

    /// Sends the notification again (delivered or given up): pending, due now.
    public func redeliver(clientID: String, id: Int, now: Date = Date()) async throws -> Bool {
        try await db.write(durable: true) { c in
            try await c.execute("""
                UPDATE notifications SET state = 'pending', next_at = \(now) WHERE id = \(id) AND client_id = \(clientID)
                """) == 1
        }
    }
}
