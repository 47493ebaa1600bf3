import Foundation

/// An operator of the agency: keeps the blacklist through the admin endpoints.
public struct OperatorRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    public var apiKeyHint: String?
    public var keyRevoked: Bool
    public var createdAt: Date
}

/// Operators and their keys (`op_` and 40 hex characters). As for clients, only a SHA-256 of a
/// key is kept, and a key is shown once.
public struct OperatorStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    static let columns = "id, name, api_key_hash, api_key_hint, created_at"

    static func record(_ r: SQLRow) throws -> OperatorRecord {
        OperatorRecord(id: try r.string("id"), name: try r.string("name"), apiKeyHint: try r.optionalString("api_key_hint"),
                       keyRevoked: try r.optionalString("api_key_hash") == nil, createdAt: try r.date("created_at"))
    }

    public func create(name: String) async throws -> (OperatorRecord, apiKey: String) {
        let key = "op_" + ClientStore.newKey().dropFirst("est_".count)
        let record = OperatorRecord(id: UUID().uuidString.lowercased(), name: name, apiKeyHint: String(key.suffix(4)),
                                    keyRevoked: false, createdAt: Date())
        try await db.write(durable: true) { c in
            try await c.execute("""
                INSERT INTO operators (id, name, api_key_hash, api_key_hint, created_at)
                VALUES (\(record.id), \(name), \(ClientStore.hash(apiKey: key)), \(record.apiKeyHint), \(record.createdAt))
                """)
        }
        return (record, key)
    }

    public func list() async throws -> [OperatorRecord] {
        try await db.query("SELECT \(raw: OperatorStore.columns) FROM operators ORDER BY created_at, id").map(OperatorStore.record)
    }

    public func authenticate(apiKey: String) async throws -> OperatorRecord? {
        try await db.query("SELECT \(raw: OperatorStore.columns) FROM operators WHERE api_key_hash = \(ClientStore.hash(apiKey: apiKey))")
            .first.map(OperatorStore.record)
    }

    /// Revokes the operator's key; false when there is no such operator.
    public func revokeKey(id: String) async throws -> Bool {
        try await db.write(durable: true) { c in
            try await c.execute("UPDATE operators SET api_key_hash = NULL WHERE id = \(id)") > 0
        }
    }
}
