import Foundation

public struct BlacklistEntry: Sendable, Equatable {
    /// Normalized: digits (and the letters of an alphanumeric CNPJ), no mask.
    public var document: String
    public var reason: String
    public var operatorID: String
    public var createdAt: Date
    public var updatedAt: Date
}

/// The CPF/CNPJ blacklist kept by operators. Every change is also written to `blacklist_log`, in
/// the same transaction, with the operator and the reason.
public struct BlacklistStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    static func entry(_ r: SQLRow) throws -> BlacklistEntry {
        BlacklistEntry(document: try r.string("document"), reason: try r.string("reason"), operatorID: try r.string("operator_id"),
                       createdAt: try r.date("created_at"), updatedAt: try r.date("updated_at"))
    }

    /// Adds the documents, or changes their reason; returns how many were new. One transaction,
    /// with its line in the audit: each document's reason before and after, or for an import of
    /// more than one, how many were added and changed.
    @discardableResult
    public func put(_ items: [(document: String, reason: String)], by actor: AuditActor) async throws -> Int {
        let now = Date(), operatorID = actor.operatorID ?? actor.name
        return try await db.write(durable: true) { c in
            var added = 0
            for item in items {
                let before = items.count == 1
                    ? try await c.query("SELECT reason FROM blacklist WHERE document = \(item.document)").first?.string("reason") : nil
                let changed = try await c.execute("""
                    UPDATE blacklist SET reason = \(item.reason), operator_id = \(operatorID), updated_at = \(now)
                    WHERE document = \(item.document)
                    """)
                if changed == 0 {
                    try await c.execute("""
                        INSERT INTO blacklist (document, reason, operator_id, created_at, updated_at)
                        VALUES (\(item.document), \(item.reason), \(operatorID), \(now), \(now))
                        """)
                    added += 1
                }
                try await c.execute("""
                    INSERT INTO blacklist_log (document, action, reason, operator_id, at)
                    VALUES (\(item.document), \(changed == 0 ? "added" : "changed"), \(item.reason), \(operatorID), \(now))
                    """)
                if items.count == 1 {
                    try await AuditLog.record(c, actor, action: changed == 0 ? "blacklist.add" : "blacklist.change", target: "document:\(item.document)",
                                              before: before.map { AuditLog.values(["reason": $0]) }, after: AuditLog.values(["reason": item.reason]),
                                              now: now)
                }
            }
            if items.count > 1 {
                try await AuditLog.record(c, actor, action: "blacklist.import", target: "blacklist", before: nil,
                                          after: AuditLog.values(["added": "\(added)", "changed": "\(items.count - added)"]), now: now)
            }
            try await BlacklistStore.raiseVersion(c)
            return added
        }
    }

    /// Removes the document; false when it was not listed.
    public func delete(document: String, reason: String?, by actor: AuditActor) async throws -> Bool {
        let now = Date(), operatorID = actor.operatorID ?? actor.name
        return try await db.write(durable: true) { c in
            guard let before = try await c.query("SELECT reason FROM blacklist WHERE document = \(document)").first?.string("reason"),
                  try await c.execute("DELETE FROM blacklist WHERE document = \(document)") > 0 else { return false }
            try await AuditLog.record(c, actor, action: "blacklist.remove", target: "document:\(document)",
                                      before: AuditLog.values(["reason": before]), after: reason.map { AuditLog.values(["removal_reason": $0]) }, now: now)
            try await c.execute("""
                INSERT INTO blacklist_log (document, action, reason, operator_id, at)
                VALUES (\(document), 'removed', \(reason), \(operatorID), \(now))
                """)
            try await BlacklistStore.raiseVersion(c)
            return true
        }
    }

    /// Every change raises the version, in the change's transaction: copies of the list kept in
    /// memory compare it with theirs (`BlacklistCache`).
    static func raiseVersion(_ c: any SQLConnection) async throws {
        try await c.execute("UPDATE blacklist_version SET version = version + 1 WHERE id = 1")
    }

    public func version() async throws -> Int64 {
        Int64(try await db.query("SELECT version FROM blacklist_version WHERE id = 1").first?.int("version") ?? 0)
    }

    /// The whole list: document → reason.
    public func all() async throws -> [String: String] {
        var out: [String: String] = [:]
        for r in try await db.query("SELECT document, reason FROM blacklist") {
            out[try r.string("document")] = try r.string("reason")
        }
        return out
    }

    public func get(document: String) async throws -> BlacklistEntry? {
        try await db.query("""
            SELECT document, reason, operator_id, created_at, updated_at FROM blacklist WHERE document = \(document)
            """).first.map(BlacklistStore.entry)
    }

    /// The history of one document, oldest first: (action, reason, operator, when).
    public func history(document: String) async throws -> [(action: String, reason: String?, operatorID: String, at: Date)] {
        try await db.query("""
            SELECT action, reason, operator_id, at FROM blacklist_log WHERE document = \(document) ORDER BY id
            """).map { (try $0.string("action"), try $0.optionalString("reason"), try $0.string("operator_id"), try $0.date("at")) }
    }
}
