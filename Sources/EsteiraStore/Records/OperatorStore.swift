import EsteiraCore
import Foundation
import Synchronization

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

    /// Qualified, so that a query may join other tables; the key's hint is the newest unrevoked key's.
    static let columns = "operators.id, operators.name, operators.role, operators.created_at, operators.deactivated_at, "
        + KeyStore.hintColumn(.operator, of: "operators")

    static func record(_ r: SQLRow) throws -> OperatorRecord {
        OperatorRecord(id: try r.string("id"), name: try r.string("name"), role: try r.known("role", as: OperatorRole.self),
                       apiKeyHint: try r.optionalString("api_key_hint"), keyRevoked: try r.optionalString("api_key_hint") == nil,
                       deactivated: try r.optionalDate("deactivated_at") != nil, createdAt: try r.date("created_at"))
    }

    /// A new operator with its first key (named `principal`), shown once.
    public func create(name: String, role: OperatorRole, by actor: AuditActor? = nil) async throws -> (OperatorRecord, apiKey: String) {
        let id = UUID().uuidString.lowercased(), now = Date()
        let key = try await db.write(durable: true) { c in
            try await c.execute("""
                INSERT INTO operators (id, name, role, created_at) VALUES (\(id), \(name), \(role.rawValue), \(now))
                """)
            let key = try await KeyStore.insert(c, owner: .operator, ownerID: id, name: "principal", expiresAt: nil, now: now)
            if let actor {
                try await AuditLog.record(c, actor, action: "operator.create", target: "operator:\(id)", before: nil,
                                          after: AuditLog.values(["name": name, "role": role.rawValue, "key": "…" + key.0.hint]))
            }
            return key
        }
        return (OperatorRecord(id: id, name: name, role: role, apiKeyHint: key.0.hint, keyRevoked: false, deactivated: false, createdAt: now),
                key.secret)
    }

    public func list() async throws -> [OperatorRecord] {
        try await db.query("SELECT \(raw: OperatorStore.columns) FROM operators ORDER BY created_at, id").map(OperatorStore.record)
    }

    public func get(id: String) async throws -> OperatorRecord? {
        try await db.query("SELECT \(raw: OperatorStore.columns) FROM operators WHERE id = \(id)").first.map(OperatorStore.record)
    }

    /// The operator of a key and the key, expired keys included (the caller says so); nil for an
    /// unknown or revoked key or a deactivated operator.
    public func match(apiKey: String) async throws -> (OperatorRecord, KeyMatch)? {
        guard let r = try await db.query("""
            SELECT \(raw: OperatorStore.columns), k.id AS key_id, k.expires_at AS key_expires_at, k.last_used_at AS key_last_used_at
            FROM api_keys k JOIN operators ON operators.id = k.owner_id
            WHERE k.key_hash = \(ClientStore.hash(apiKey: apiKey)) AND k.owner = 'operator' AND k.revoked_at IS NULL
              AND operators.deactivated_at IS NULL
            """).first else { return nil }
        return (try OperatorStore.record(r), KeyMatch(keyID: try r.string("key_id"), expiresAt: try r.optionalDate("key_expires_at"),
                                                      lastUsedAt: try r.optionalDate("key_last_used_at")))
    }

    /// The operator of a live key; nil for an unknown, revoked or expired key or a deactivated operator.
    public func authenticate(apiKey: String, now: Date = Date()) async throws -> (OperatorRecord, KeyMatch)? {
        guard let found = try await match(apiKey: apiKey), !found.1.expired(at: now) else { return nil }
        return found
    }

    /// Revokes every key of the operator; false when there is no such operator.
    public func revokeKey(id: String, by actor: AuditActor, now: Date = Date()) async throws -> Bool {
        try await change(id: id, action: "operator.key_revoke", by: actor, "key", now: now) { c in
            guard try await !c.query("SELECT id FROM operators WHERE id = \(id)").isEmpty else { return false }
            try await KeyStore.revokeAll(c, owner: .operator, ownerID: id, now: now)
            return true
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

    /// Gives the operator a new key (named `principal`); every other key of it stops at once. Nil
    /// when there is no such active operator.
    public func issueKey(id: String, by actor: AuditActor, now: Date = Date()) async throws -> String? {
        let made = Mutex<String?>(nil)
        let changed = try await change(id: id, action: "operator.key_issue", by: actor, "key", now: now) { c in
            guard try await !c.query("SELECT id FROM operators WHERE id = \(id) AND deactivated_at IS NULL").isEmpty else { return false }
            try await KeyStore.revokeAll(c, owner: .operator, ownerID: id, now: now)
            let key = try await KeyStore.insert(c, owner: .operator, ownerID: id, name: "principal", expiresAt: nil, now: now)
            made.withLock { $0 = key.secret }
            return true
        }
        return changed ? made.withLock { $0 } : nil
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

    /// Opens a console session for the operator, signed in with the key `keyID`; returns the
    /// token its cookie carries. The session ends with that key.
    public func openSession(operatorID: String, keyID: String, lifetime: TimeInterval, now: Date = Date()) async throws -> String {
        let token = Hex.random(bytes: 32)
        try await db.write(durable: true) { c in
            try await c.execute("DELETE FROM operator_sessions WHERE expires_at < \(now)")
            try await c.execute("""
                INSERT INTO operator_sessions (token_hash, operator_id, key_id, created_at, expires_at)
                VALUES (\(ClientStore.hash(apiKey: token)), \(operatorID), \(keyID), \(now), \(now.addingTimeInterval(lifetime)))
                """)
        }
        return token
    }

    /// The signed-in operator; nil for an unknown or expired session, a revoked or expired key
    /// (the one it signed in with) or a deactivated operator. Checked on every request, so that a
    /// revocation ends the session at once.
    public func sessionOperator(token: String, now: Date = Date()) async throws -> OperatorRecord? {
        try await db.query("""
            SELECT \(raw: OperatorStore.columns)
            FROM operator_sessions s JOIN operators ON operators.id = s.operator_id JOIN api_keys k ON k.id = s.key_id
            WHERE s.token_hash = \(ClientStore.hash(apiKey: token)) AND s.expires_at > \(now)
              AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > \(now)) AND operators.deactivated_at IS NULL
            """).first.map(OperatorStore.record)
    }

    public func closeSession(token: String) async throws {
        try await db.write(durable: true) { c in
            try await c.execute("DELETE FROM operator_sessions WHERE token_hash = \(ClientStore.hash(apiKey: token))")
        }
    }
}
