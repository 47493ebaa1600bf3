import Crypto
import EsteiraCore
import Foundation

/// Whose a key is.
public enum KeyOwner: String, Sendable, CaseIterable {
    case client
    case `operator`

    /// What the secret starts with, so that a key found in a log or a paste says what it opens.
    var prefix: String { self == .client ? "est_" : "op_" }
}

/// A named API key, as listed: never the secret, only its last four characters.
public struct APIKeyRecord: Sendable, Equatable {
    public var id: String
    public var owner: KeyOwner
    public var ownerID: String
    public var name: String
    public var hint: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    /// Whether it opens anything at `now`: not revoked and not expired.
    public func live(at now: Date) -> Bool { revokedAt == nil && (expiresAt.map { $0 > now } ?? true) }
}

/// A key that matched a secret: which, and until when it is good, for the caller to refuse an
/// expired key with its own message and to note when it was last used.
public struct KeyMatch: Sendable, Equatable {
    public var keyID: String
    public var expiresAt: Date?
    public var lastUsedAt: Date?

    /// Past its expiry at `now`.
    public func expired(at now: Date) -> Bool { expiresAt.map { $0 <= now } ?? false }
}

/// API keys of clients and operators: several per owner, each with a name, an optional expiry, the
/// time it was last used and its revocation. A key's secret is shown once, when it is issued; only
/// its SHA-256 is kept. Issuing and revoking are in the audit, in the same transaction.
///
/// Rotation with overlap: a new key is issued and the old one set to expire a while later, so
/// that a client can move its systems over without a moment when neither key works.
public struct KeyStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    /// How long the last-used time may lag: it is written at most once a minute per key, so that
    /// a busy key does not write on every request.
    public static let lastUsedResolution: TimeInterval = 60

    static func newSecret(_ owner: KeyOwner) -> String { owner.prefix + Hex.random(bytes: 20) }

    static let columns = "id, owner, owner_id, name, hint, created_at, expires_at, last_used_at, revoked_at"

    static func record(_ r: SQLRow) throws -> APIKeyRecord {
        APIKeyRecord(id: try r.string("id"), owner: try r.known("owner", as: KeyOwner.self), ownerID: try r.string("owner_id"),
                     name: try r.string("name"), hint: try r.string("hint"), createdAt: try r.date("created_at"),
                     expiresAt: try r.optionalDate("expires_at"), lastUsedAt: try r.optionalDate("last_used_at"),
                     revokedAt: try r.optionalDate("revoked_at"))
    }

    /// Writes a new key in `c`'s transaction; returns it and its secret. The audit line is the caller's.
    static func insert(_ c: any SQLConnection, owner: KeyOwner, ownerID: String, name: String, expiresAt: Date?,
                       now: Date) async throws -> (APIKeyRecord, secret: String) {
        let secret = newSecret(owner)
        let record = APIKeyRecord(id: "k_" + Hex.random(bytes: 8), owner: owner, ownerID: ownerID, name: name,
                                  hint: String(secret.suffix(4)), createdAt: now, expiresAt: expiresAt, lastUsedAt: nil, revokedAt: nil)
        try await c.execute("""
            INSERT INTO api_keys (id, owner, owner_id, name, key_hash, hint, created_at, expires_at)
            VALUES (\(record.id), \(owner.rawValue), \(ownerID), \(name), \(ClientStore.hash(apiKey: secret)), \(record.hint), \(now), \(expiresAt))
            """)
        return (record, secret)
    }

    /// Revokes every live key of the owner in `c`'s transaction; how many.
    @discardableResult
    static func revokeAll(_ c: any SQLConnection, owner: KeyOwner, ownerID: String, now: Date) async throws -> Int {
        try await c.execute("""
            UPDATE api_keys SET revoked_at = \(now) WHERE owner = \(owner.rawValue) AND owner_id = \(ownerID) AND revoked_at IS NULL
            """)
    }

    /// SQL of the newest unrevoked key's hint of the owner in the row `table.id`: what lists show.
    static func hintColumn(_ owner: KeyOwner, of table: String) -> String {
        """
        (SELECT k.hint FROM api_keys k WHERE k.owner = '\(owner.rawValue)' AND k.owner_id = \(table).id AND k.revoked_at IS NULL
         ORDER BY k.created_at DESC, k.id DESC LIMIT 1) AS api_key_hint
        """
    }

    /// Issues a new key to the owner. `rotating`: a live key of the same owner that stays good
    /// for `overlap` more (or until its own expiry, when sooner), then stops. Nil when the owner
    /// does not exist or is deactivated, or `rotating` is not one of its live keys.
    public func issue(owner: KeyOwner, ownerID: String, name: String, expiresAt: Date? = nil,
                      rotating: String? = nil, overlap: TimeInterval = 0,
                      by actor: AuditActor, now: Date = Date()) async throws -> (APIKeyRecord, secret: String)? {
        try await db.write(durable: true) { c in
            let table = owner == .client ? "clients" : "operators"
            guard try await !c.query("SELECT id FROM \(raw: table) WHERE id = \(ownerID) AND deactivated_at IS NULL").isEmpty else { return nil }
            var before: [String: String?] = [:]
            if let rotating {
                guard let old = try await c.query("""
                    SELECT \(raw: Self.columns) FROM api_keys WHERE id = \(rotating) AND owner = \(owner.rawValue) AND owner_id = \(ownerID)
                    """).first.map(Self.record), old.live(at: now) else { return nil }
                let until = min(now.addingTimeInterval(overlap), old.expiresAt ?? .distantFuture)
                try await c.execute("UPDATE api_keys SET expires_at = \(until) WHERE id = \(rotating)")
                before = ["rotated": "…" + old.hint, "rotated_until": Timestamp.iso(until)]
            }
            let made = try await Self.insert(c, owner: owner, ownerID: ownerID, name: name, expiresAt: expiresAt, now: now)
            try await AuditLog.record(c, actor, action: "\(owner.rawValue).key_issue", target: "\(owner.rawValue):\(ownerID)",
                                      before: before.isEmpty ? nil : AuditLog.values(before),
                                      after: AuditLog.values(["key": "…" + made.0.hint, "name": name,
                                                              "expires_at": expiresAt.map(Timestamp.iso)]), now: now)
            return made
        }
    }

    /// Revokes one key of the owner; false when it is not one of its unrevoked keys.
    public func revoke(owner: KeyOwner, ownerID: String, keyID: String, by actor: AuditActor, now: Date = Date()) async throws -> Bool {
        try await db.write(durable: true) { c in
            guard let key = try await c.query("""
                SELECT \(raw: Self.columns) FROM api_keys
                WHERE id = \(keyID) AND owner = \(owner.rawValue) AND owner_id = \(ownerID) AND revoked_at IS NULL
                """).first.map(Self.record) else { return false }
            try await c.execute("UPDATE api_keys SET revoked_at = \(now) WHERE id = \(keyID)")
            try await AuditLog.record(c, actor, action: "\(owner.rawValue).key_revoke", target: "\(owner.rawValue):\(ownerID)",
                                      before: AuditLog.values(["key": "…" + key.hint, "name": key.name]), after: nil, now: now)
            return true
        }
    }

    /// The owner's keys, newest first, revoked ones included.
    public func list(owner: KeyOwner, ownerID: String) async throws -> [APIKeyRecord] {
        try await db.query("""
            SELECT \(raw: Self.columns) FROM api_keys WHERE owner = \(owner.rawValue) AND owner_id = \(ownerID)
            ORDER BY created_at DESC, id DESC
            """).map(Self.record)
    }

    /// Notes that a key was used, unless it was noted less than `lastUsedResolution` ago.
    public func touch(keyID: String, now: Date = Date()) async throws {
        try await db.write { c in
            try await c.execute("""
                UPDATE api_keys SET last_used_at = \(now)
                WHERE id = \(keyID) AND (last_used_at IS NULL OR last_used_at < \(now.addingTimeInterval(-Self.lastUsedResolution)))
                """)
        }
    }

    /// Whether a match should be noted now.
    public static func due(_ match: KeyMatch, now: Date) -> Bool {
        match.lastUsedAt.map { now.timeIntervalSince($0) >= lastUsedResolution } ?? true
    }
}
