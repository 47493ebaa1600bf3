import EsteiraCore
import Foundation

/// An operator of the agency: reads or acts in the console and the operators' API, by role.
public struct OperatorRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    public var role: OperatorRole
    public var apiKeyHint: String?
    public var keyRevoked: Bool
    public var deactivated: Bool
    public var createdAt: Date
}

/// Operators, their keys (`op_` and 40 hex characters) and their console sessions. As for
/// clients, only a SHA-256 of a key or a session token is kept, and a key is shown once.
public struct OperatorStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    static let columns = "id, name, role, api_key_hash, api_key_hint, created_at, deactivated_at"

    static func record(_ r: SQLRow) throws -> OperatorRecord {
        OperatorRecord(id: try r.string("id"), name: try r.string("name"), role: try r.known("role", as: OperatorRole.self),
                       apiKeyHint: try r.optionalString("api_key_hint"), keyRevoked: try r.optionalString("api_key_hash") == nil,
                       deactivated: try r.optionalDate("deactivated_at") != nil, createdAt: try r.date("created_at"))
    }

    public func create(name: String, role: OperatorRole, by actor: AuditActor? = nil) async throws -> (OperatorRecord, apiKey: String) {
        let key = "op_" + ClientStore.newKey().dropFirst("est_".count)
        let record = OperatorRecord(id: UUID().uuidString.lowercased(), name: name, role: role, apiKeyHint: String(key.suffix(4)),
                                    keyRevoked: false, deactivated: false, createdAt: Date())
        try await db.write(durable: true) { c in
            try await c.execute("""
                INSERT INTO operators (id, name, role, api_key_hash, api_key_hint, created_at)
                VALUES (\(record.id), \(name), \(role.rawValue), \(ClientStore.hash(apiKey: key)), \(record.apiKeyHint), \(record.createdAt))
                """)
            if let actor {
                try await AuditLog.record(c, actor, action: "operator.create", target: "operator:\(record.id)", before: nil,
                                          after: AuditLog.values(["name": name, "role": role.rawValue, "key": "…" + (record.apiKeyHint ?? "")]))
            }
        }
        return (record, key)
    }

    public func list() async throws -> [OperatorRecord] {
        try await db.query("SELECT \(raw: OperatorStore.columns) FROM operators ORDER BY created_at, id").map(OperatorStore.record)
    }

    public func get(id: String) async throws -> OperatorRecord? {
        try await db.query("SELECT \(raw: OperatorStore.columns) FROM operators WHERE id = \(id)").first.map(OperatorStore.record)
    }

    /// The operator of a live key; nil for an unknown or revoked key or a deactivated operator.
    public func authenticate(apiKey: String) async throws -> OperatorRecord? {
        try await db.query("""
            SELECT \(raw: OperatorStore.columns) FROM operators
            WHERE api_key_hash = \(ClientStore.hash(apiKey: apiKey)) AND deactivated_at IS NULL
            """).first.map(OperatorStore.record)
    }

    /// Revokes the operator's key; false when there is no such operator.
    public func revokeKey(id: String, by actor: AuditActor) async throws -> Bool {
        try await change(id: id, action: "operator.key_revoke", by: actor, "key") { c in
            try await c.execute("UPDATE operators SET api_key_hash = NULL WHERE id = \(id)") > 0
        }
    }

    /// Runs `update` and records it in the audit with the operator's `field` before and after.
    func change(id: String, action: String, by actor: AuditActor, _ field: String, now: Date = Date(),
                _ update: @escaping @Sendable (any SQLConnection) async throws -> Bool) async throws -> Bool {
        @Sendable func value(_ c: any SQLConnection) async throws -> String? {
            guard let r = try await c.query("SELECT \(raw: OperatorStore.columns) FROM operators WHERE id = \(id)").first else { return nil }
            let op = try OperatorStore.record(r)
            switch field {
            case "key": return op.keyRevoked ? "revogada" : "…" + (op.apiKeyHint ?? "")
            case "role": return op.role.rawValue
            default: return op.deactivated ? "false" : "true"
            }
        }
        return try await db.write(durable: true) { c in
            let before = try await value(c)
            guard try await update(c) else { return false }
            try await AuditLog.record(c, actor, action: action, target: "operator:\(id)", before: AuditLog.values([field: before]),
                                      after: AuditLog.values([field: try await value(c)]), now: now)
            return true
        }
    }

    /// Gives the operator a new key (the old one stops at once); nil when there is no such operator.
    public func issueKey(id: String, by actor: AuditActor) async throws -> String? {
        let key = "op_" + ClientStore.newKey().dropFirst("est_".count)
        let changed = try await change(id: id, action: "operator.key_issue", by: actor, "key") { c in
            try await c.execute("""
                UPDATE operators SET api_key_hash = \(ClientStore.hash(apiKey: key)), api_key_hint = \(String(key.suffix(4)))
                WHERE id = \(id) AND deactivated_at IS NULL
                """) == 1
        }
        return changed ? key : nil
    }

    public func setRole(id: String, _ role: OperatorRole, by actor: AuditActor) async throws -> Bool {
        try await change(id: id, action: "operator.role", by: actor, "role") { c in
            try await c.execute("UPDATE operators SET role = \(role.rawValue) WHERE id = \(id)") == 1
        }
    }

    /// Deactivates the operator: its key and sessions stop at once; what it did stays in the audit.
    public func deactivate(id: String, by actor: AuditActor, now: Date = Date()) async throws -> Bool {
        try await change(id: id, action: "operator.deactivate", by: actor, "active", now: now) { c in
            try await c.execute("DELETE FROM operator_sessions WHERE operator_id = \(id)")
            return try await c.execute("UPDATE operators SET deactivated_at = \(now) WHERE id = \(id) AND deactivated_at IS NULL") == 1
        }
    }

    // MARK: - Console sessions

    /// Opens a console session for the operator; returns the token its cookie carries.
    public func openSession(operatorID: String, lifetime: TimeInterval, now: Date = Date()) async throws -> String {
        let token = Hex.random(bytes: 32)
        try await db.write(durable: true) { c in
            try await c.execute("DELETE FROM operator_sessions WHERE expires_at < \(now)")
            try await c.execute("""
                INSERT INTO operator_sessions (token_hash, operator_id, created_at, expires_at)
                VALUES (\(ClientStore.hash(apiKey: token)), \(operatorID), \(now), \(now.addingTimeInterval(lifetime)))
                """)
        }
        return token
    }

    /// The signed-in operator; nil for an unknown or expired session, a revoked key or a
    /// deactivated operator (checked on every request, so revocation ends the session at once).
    public func sessionOperator(token: String, now: Date = Date()) async throws -> OperatorRecord? {
        try await db.query("""
            SELECT o.id, o.name, o.role, o.api_key_hash, o.api_key_hint, o.created_at, o.deactivated_at
            FROM operator_sessions s JOIN operators o ON o.id = s.operator_id
            WHERE s.token_hash = \(ClientStore.hash(apiKey: token)) AND s.expires_at > \(now)
              AND o.api_key_hash IS NOT NULL AND o.deactivated_at IS NULL
            """).first.map(OperatorStore.record)
    }

    public func closeSession(token: String) async throws {
        try await db.write(durable: true) { c in
            try await c.execute("DELETE FROM operator_sessions WHERE token_hash = \(ClientStore.hash(apiKey: token))")
        }
    }
}
