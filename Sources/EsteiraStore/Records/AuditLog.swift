import EsteiraCore
import Foundation

/// Who did something an operator may do: an operator by name (never by key), and where.
public struct AuditActor: Sendable, Equatable {
    public var operatorID: String?
    public var name: String
    /// `console`, `api`, `cli`, or `system` for what Esteira does by its own rules.
    public var channel: String

    public init(operatorID: String?, name: String, channel: String) {
        self.operatorID = operatorID
        self.name = name
        self.channel = channel
    }

    public static func console(_ op: OperatorRecord) -> AuditActor { AuditActor(operatorID: op.id, name: op.name, channel: "console") }
    public static func api(_ op: OperatorRecord) -> AuditActor { AuditActor(operatorID: op.id, name: op.name, channel: "api") }
    /// The command line has no operator key: it is whoever runs it on the host, by the system's user name.
    public static func cli(user: String) -> AuditActor { AuditActor(operatorID: nil, name: "cli:\(user)", channel: "cli") }
    /// The retention purge, acting on its settings (docs/security.md).
    public static let retention = AuditActor(operatorID: nil, name: "retention", channel: "system")
}

/// One line of the audit.
public struct AuditEntry: Sendable, Equatable {
    public var id: Int
    public var at: Date
    public var actor: AuditActor
    /// What was done, a dotted name: `blacklist.add`, `job.retry`, `client.create`…
    public var action: String
    /// What it was done to: `batch:<id>`, `client:<id>`, `document:529…`.
    public var target: String
    /// The values before and after, as JSON objects; nil where there was nothing (a creation's
    /// before, a removal's after).
    public var before: String?
    public var after: String?
}

/// What to list from the audit; every part optional.
public struct AuditFilter: Sendable {
    public var operatorName: String?
    public var action: String?
    public var target: String?
    public var from: Date?
    public var to: Date?

    public init(operatorName: String? = nil, action: String? = nil, target: String? = nil, from: Date? = nil, to: Date? = nil) {
        self.operatorName = operatorName
        self.action = action
        self.target = target
        self.from = from
        self.to = to
    }
}

/// The operators' audit: append-only. Esteira only inserts into it and reads it; a line is
/// written in the transaction of the change it tells of where the change has one here, so that
/// no change goes unrecorded and no record tells of a change that did not happen.
public struct AuditLog: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    /// A JSON object of the values, keys in order: what the audit keeps as before and after.
    public static func values(_ pairs: [String: String?]) -> String {
        "{" + pairs.keys.sorted().map { k in
            JSONText.quoted(k) + ":" + (pairs[k].flatMap { $0 }.map(JSONText.quoted) ?? "null")
        }.joined(separator: ",") + "}"
    }

    public static func record(_ c: any SQLConnection, _ actor: AuditActor, action: String, target: String,
                              before: String?, after: String?, now: Date = Date()) async throws {
        try await c.execute("""
            INSERT INTO audit_log (at, operator_id, operator_name, channel, action, target, before_value, after_value)
            VALUES (\(now), \(actor.operatorID), \(actor.name), \(actor.channel), \(action), \(target), \(before), \(after))
            """)
    }

    /// Records an action that has no transaction of its own here.
    public func record(_ actor: AuditActor, action: String, target: String, before: String?, after: String?, now: Date = Date()) async throws {
        try await db.write(durable: true) { c in
            try await Self.record(c, actor, action: action, target: target, before: before, after: after, now: now)
        }
    }

    static let columns = "id, at, operator_id, operator_name, channel, action, target, before_value, after_value"

    static func entry(_ r: SQLRow) throws -> AuditEntry {
        AuditEntry(id: try r.int("id"), at: try r.date("at"),
                   actor: AuditActor(operatorID: try r.optionalString("operator_id"), name: try r.string("operator_name"),
                                     channel: try r.string("channel")),
                   action: try r.string("action"), target: try r.string("target"),
                   before: try r.optionalString("before_value"), after: try r.optionalString("after_value"))
    }

    static func clause(_ f: AuditFilter) -> SQL {
        var clause: SQL = "audit_log WHERE 1 = 1"
        if let name = f.operatorName, !name.isEmpty { clause = "\(clause) AND lower(operator_name) LIKE lower('%' || \(name) || '%')" }
        if let action = f.action, !action.isEmpty { clause = "\(clause) AND action LIKE \(action) || '%'" }
        if let target = f.target, !target.isEmpty { clause = "\(clause) AND target LIKE '%' || \(target) || '%'" }
        if let from = f.from { clause = "\(clause) AND at >= \(from)" }
        if let to = f.to { clause = "\(clause) AND at < \(to)" }
        return clause
    }

    /// The newest first.
    public func list(_ filter: AuditFilter, page: Int, perPage: Int) async throws -> Page<AuditEntry> {
        try await db.page(select: Self.columns, from: Self.clause(filter), orderBy: "id DESC", page: page, perPage: perPage, Self.entry)
    }

    /// Every line the filter takes, oldest first, in slices (for the CSV export).
    public func each(_ filter: AuditFilter, slice: Int = 1000, _ body: ([AuditEntry]) async throws -> Void) async throws {
        var after = 0
        while true {
            let rows = try await db.query("""
                SELECT \(raw: Self.columns) FROM \(Self.clause(filter)) AND id > \(after) ORDER BY id LIMIT \(slice)
                """).map(Self.entry)
            if rows.isEmpty { return }
            try await body(rows)
            after = rows[rows.count - 1].id
            if rows.count < slice { return }
        }
    }
}
