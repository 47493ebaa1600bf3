import Crypto
import EsteiraCore
import Foundation

public struct ClientRecord: Sendable, Equatable, Codable {
    public var id: String
    /// The client's small integer key, used by the registry.
    public var num: Int
    public var name: String
    public var document: String
    public var apiKeyHint: String?
    public var subBatchSize: Int
    public var createdAt: Date
    public var keyRevoked: Bool
    /// The client's amount limits for the risk rules (K005, K008); nil: the agency's default.
    public var maxAmountCents: Int64?
    public var minAmountCents: Int64?
    /// Deactivated by an operator: its key stopped at once; its data stays.
    public var deactivated = false
    /// The client's own limits; nil: the agency's default (`ESTEIRA_CLIENT_*`).
    public var requestsPerSecond: Int?
    public var rowsPerDay: Int?
}

/// The agency's clients and their API keys. Only a SHA-256 of a key is kept: a key is shown once,
/// when it is made.
public struct ClientStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    /// Whether the client's full-portfolio files withdraw the open debts they leave out.
    public func withdrawsMissing(clientID: String) async throws -> Bool {
        try await db.query("SELECT withdraw_missing FROM clients WHERE id = \(clientID)").first?.int("withdraw_missing") == 1
    }

    public func setWithdrawsMissing(clientID: String, _ value: Bool) async throws {
        try await db.write { c in
            try await c.execute("UPDATE clients SET withdraw_missing = \(value ? 1 : 0) WHERE id = \(clientID)")
        }
    }

    public static func hash(apiKey: String) -> String {
        Hex.encode(SHA256.hash(data: Data(apiKey.utf8)))
    }

    /// A new client with its first key (named `principal`), shown once.
    public func create(name: String, document: String, subBatchSize: Int, traceID: String,
                       by actor: AuditActor? = nil) async throws -> (ClientRecord, apiKey: String) {
        let id = UUID().uuidString.lowercased(), now = Date()
        let (num, key) = try await db.write(durable: true) { c in
            try await c.lock(.clientNumbers)
            let num = try await c.query("SELECT COALESCE(MAX(num), 0) + 1 AS n FROM clients")[0].int("n")
            try await c.execute("""
                INSERT INTO clients (id, num, name, document, sub_batch_size, trace_id, created_at)
                VALUES (\(id), \(num), \(name), \(document), \(subBatchSize), \(traceID), \(now))
                """)
            let key = try await KeyStore.insert(c, owner: .client, ownerID: id, name: "principal", expiresAt: nil, now: now)
            if let actor {
                try await AuditLog.record(c, actor, action: "client.create", target: "client:\(id)", before: nil,
                                          after: AuditLog.values(["name": name, "document": document, "sub_batch_size": "\(subBatchSize)",
                                                                  "key": "…" + key.0.hint]))
            }
            return (num, key)
        }
        let record = ClientRecord(id: id, num: num, name: name, document: document, apiKeyHint: key.0.hint, subBatchSize: subBatchSize,
                                  createdAt: now, keyRevoked: false, maxAmountCents: nil, minAmountCents: nil)
        return (record, key.secret)
    }

    static func record(_ row: SQLRow) throws -> ClientRecord {
        ClientRecord(id: try row.string("id"), num: try row.int("num"), name: try row.string("name"), document: try row.string("document"),
                     apiKeyHint: try row.optionalString("api_key_hint"), subBatchSize: try row.int("sub_batch_size"),
                     createdAt: try row.date("created_at"), keyRevoked: try row.optionalString("api_key_hint") == nil,
                     maxAmountCents: try row.optionalInt("max_amount_cents").map(Int64.init),
                     minAmountCents: try row.optionalInt("min_amount_cents").map(Int64.init),
                     deactivated: try row.optionalDate("deactivated_at") != nil,
                     requestsPerSecond: try row.optionalInt("requests_per_second"), rowsPerDay: try row.optionalInt("rows_per_day"))
    }

    /// Qualified, so that a query may join other tables; the key's hint is the newest unrevoked key's.
    static let columns = """
        clients.id, clients.num, clients.name, clients.document, clients.sub_batch_size, clients.created_at,
        clients.max_amount_cents, clients.min_amount_cents, clients.deactivated_at, clients.requests_per_second, clients.rows_per_day,
        \(KeyStore.hintColumn(.client, of: "clients"))
        """

    public func list() async throws -> [ClientRecord] {
        try await db.query("SELECT \(raw: ClientStore.columns) FROM clients ORDER BY created_at, id").map(ClientStore.record)
    }

    public func get(id: String) async throws -> ClientRecord? {
        try await db.query("SELECT \(raw: ClientStore.columns) FROM clients WHERE id = \(id)").first.map(ClientStore.record)
    }

    /// The client a live key belongs to; nil for an unknown, revoked or expired key, or a
    /// deactivated client.
    public func authenticate(apiKey: String, now: Date = Date()) async throws -> (ClientRecord, KeyMatch)? {
        guard let found = try await clients(keyHashes: [ClientStore.hash(apiKey: apiKey)]).first ?? nil,
              !found.1.expired(at: now) else { return nil }
        return found
    }

    /// The client and key of each key hash, expired keys included (the caller says so); nil for an
    /// unknown or revoked key or a deactivated client. One query for them all.
    public func clients(keyHashes: [String]) async throws -> [(ClientRecord, KeyMatch)?] {
        var byHash: [String: (ClientRecord, KeyMatch)] = [:]
        for r in try await db.query("""
            SELECT \(raw: ClientStore.columns), k.key_hash, k.id AS key_id, k.expires_at AS key_expires_at, k.last_used_at AS key_last_used_at
            FROM api_keys k JOIN clients ON clients.id = k.owner_id
            WHERE k.key_hash IN (\(list: Array(Set(keyHashes)))) AND k.owner = 'client' AND k.revoked_at IS NULL
              AND clients.deactivated_at IS NULL
            """) {
            byHash[try r.string("key_hash")] = (try ClientStore.record(r),
                                                KeyMatch(keyID: try r.string("key_id"), expiresAt: try r.optionalDate("key_expires_at"),
                                                         lastUsedAt: try r.optionalDate("key_last_used_at")))
        }
        return keyHashes.map { byHash[$0] }
    }

    /// Sets the client's amount limits (nil: the agency's default).
    public func setLimits(id: String, maxAmountCents: Int64?, minAmountCents: Int64?, by actor: AuditActor) async throws {
        try await setNumbers(id: id, action: "client.limits", [("max_amount_cents", maxAmountCents), ("min_amount_cents", minAmountCents)],
                             by: actor)
    }

    /// Sets the client's request rate and daily rows (nil: the agency's default).
    public func setQuotas(id: String, requestsPerSecond: Int?, rowsPerDay: Int?, by actor: AuditActor) async throws {
        try await setNumbers(id: id, action: "client.quotas", [("requests_per_second", requestsPerSecond.map(Int64.init)),
                                                               ("rows_per_day", rowsPerDay.map(Int64.init))], by: actor)
    }

    /// Sets numeric columns of the client (nil: the agency's default) and records `action` in the
    /// audit with each column's value before and after, in one transaction.
    func setNumbers(id: String, action: String, _ values: [(column: String, value: Int64?)], by actor: AuditActor) async throws {
        let columns = values.map(\.column).joined(separator: ", ")
        let changed = try await db.write(durable: true) { c in
            guard let before = try await c.query("SELECT \(raw: columns) FROM clients WHERE id = \(id)").first else { return 0 }
            var old: [String: String?] = [:], new: [String: String?] = [:]
            for (column, value) in values {
                // updateValue: a nil stays in the record as null (assigning nil would drop the key).
                old.updateValue(try before.optionalInt(column).map { "\($0)" }, forKey: column)
                new.updateValue(value.map { "\($0)" }, forKey: column)
                try await c.execute("UPDATE clients SET \(raw: column) = \(value) WHERE id = \(id)")
            }
            try await AuditLog.record(c, actor, action: action, target: "client:\(id)", before: AuditLog.values(old), after: AuditLog.values(new))
            return 1
        }
        guard changed == 1 else { throw StoreError.notFound("client \(id)") }
    }

    /// Revokes every key of the client at once; with `issueNew`, makes and returns a new one
    /// (named `principal`) in the same transaction. For a change without a gap, issue a key
    /// rotating the old one instead (`KeyStore.issue`).
    public func revokeKey(id: String, issueNew: Bool, by actor: AuditActor, now: Date = Date()) async throws -> String? {
        let outcome: (changed: Bool, key: String?) = try await db.write(durable: true) { c in
            guard let row = try await c.query("SELECT \(raw: ClientStore.columns) FROM clients WHERE id = \(id) AND deactivated_at IS NULL").first
            else { return (false, nil) }
            let hint = try row.optionalString("api_key_hint")
            try await KeyStore.revokeAll(c, owner: .client, ownerID: id, now: now)
            try await c.execute("UPDATE clients SET key_revoked_at = \(now) WHERE id = \(id)")
            let made = issueNew ? try await KeyStore.insert(c, owner: .client, ownerID: id, name: "principal", expiresAt: nil, now: now) : nil
            // Only the keys' last four characters: the audit never holds a key.
            try await AuditLog.record(c, actor, action: issueNew ? "client.key_issue" : "client.key_revoke", target: "client:\(id)",
                                      before: AuditLog.values(["key": hint.map { "…" + $0 }]),
                                      after: AuditLog.values(["key": made.map { "…" + $0.0.hint }]), now: now)
            return (true, made?.secret)
        }
        guard outcome.changed else { throw StoreError.notFound("client \(id)") }
        return outcome.key
    }

    /// Deactivates the client: its key and its web sessions stop at once; its batches, debts and
    /// ledger stay. False when there is no such active client.
    public func deactivate(id: String, by actor: AuditActor, now: Date = Date()) async throws -> Bool {
        try await db.write(durable: true) { c in
            guard try await c.execute("""
                UPDATE clients SET key_revoked_at = \(now), deactivated_at = \(now) WHERE id = \(id) AND deactivated_at IS NULL
                """) == 1 else { return false }
            try await KeyStore.revokeAll(c, owner: .client, ownerID: id, now: now)
            try await c.execute("DELETE FROM web_sessions WHERE client_id = \(id)")
            try await AuditLog.record(c, actor, action: "client.deactivate", target: "client:\(id)",
                                      before: AuditLog.values(["active": "true"]), after: AuditLog.values(["active": "false"]), now: now)
            return true
        }
    }

    /// Changes the client's name and records per sub-batch.
    public func update(id: String, name: String, subBatchSize: Int, by actor: AuditActor) async throws {
        let changed = try await db.write(durable: true) { c in
            guard let before = try await c.query("SELECT name, sub_batch_size FROM clients WHERE id = \(id)").first else { return 0 }
            let n = try await c.execute("UPDATE clients SET name = \(name), sub_batch_size = \(subBatchSize) WHERE id = \(id)")
            try await AuditLog.record(c, actor, action: "client.update", target: "client:\(id)",
                                      before: AuditLog.values(["name": try before.string("name"), "sub_batch_size": "\(try before.int("sub_batch_size"))"]),
                                      after: AuditLog.values(["name": name, "sub_batch_size": "\(subBatchSize)"]))
            return n
        }
        guard changed == 1 else { throw StoreError.notFound("client \(id)") }
    }

    /// Clients whose name, document or id holds `text` (all when it is empty), by name.
    public func search(_ text: String, page: Int, perPage: Int) async throws -> Page<ClientRecord> {
        let digits = text.filter { $0.isLetter || $0.isNumber }.uppercased()
        let clause: SQL = text.isEmpty ? "clients" : """
            clients WHERE lower(name) LIKE lower('%' || \(text) || '%') OR id = \(text)
                       OR (\(digits) <> '' AND document LIKE '%' || \(digits) || '%')
            """
        return try await db.page(select: ClientStore.columns, from: clause, orderBy: "name, id", page: page, perPage: perPage, ClientStore.record)
    }
}
