import EsteiraCore
import Foundation

/// A client's format under its name.
public struct SavedFormat: Sendable, Equatable {
    public var name: String
    public var format: ClientFormat
    public var isDefault: Bool

    public init(name: String, format: ClientFormat, isDefault: Bool = false) {
        self.name = name
        self.format = format
        self.isDefault = isDefault
    }
}

/// The clients' saved formats (presets). At most one per client is its default: the one the drop
/// folder and uploads that name no format use.
public struct ClientFormatStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    /// Longest preset name, in characters.
    public static let maxNameLength = 80

    static func record(_ r: SQLRow) throws -> SavedFormat? {
        guard let format = try? JSONDecoder().decode(ClientFormat.self, from: Data(try r.string("spec").utf8)) else { return nil }
        return SavedFormat(name: try r.string("name"), format: format, isDefault: try r.int("is_default") != 0)
    }

    /// Saves (or replaces) the preset; with `makeDefault`, it becomes the client's only default.
    public func save(clientID: String, _ saved: SavedFormat) async throws {
        let spec = String(decoding: try JSONEncoder().encode(saved.format), as: UTF8.self)
        let now = Date()
        try await db.write(durable: true) { c in
            if saved.isDefault {
                try await c.execute("UPDATE client_formats SET is_default = 0, updated_at = \(now) WHERE client_id = \(clientID)")
            }
            let updated = try await c.execute("""
                UPDATE client_formats SET spec = \(spec), is_default = \(saved.isDefault ? 1 : 0), updated_at = \(now)
                WHERE client_id = \(clientID) AND name = \(saved.name)
                """)
            if updated == 0 {
                try await c.execute("""
                    INSERT INTO client_formats (client_id, name, spec, is_default, created_at, updated_at)
                    VALUES (\(clientID), \(saved.name), \(spec), \(saved.isDefault ? 1 : 0), \(now), \(now))
                    """)
            }
        }
    }

    public func list(clientID: String) async throws -> [SavedFormat] {
        try await db.query("""
            SELECT name, spec, is_default FROM client_formats WHERE client_id = \(clientID) ORDER BY name
            """).compactMap(ClientFormatStore.record)
    }

    public func get(clientID: String, name: String) async throws -> SavedFormat? {
        try await db.query("""
            SELECT name, spec, is_default FROM client_formats WHERE client_id = \(clientID) AND name = \(name)
            """).first.flatMap(ClientFormatStore.record)
    }

    public func defaultFormat(clientID: String) async throws -> SavedFormat? {
        try await db.query("""
            SELECT name, spec, is_default FROM client_formats WHERE client_id = \(clientID) AND is_default = 1
            """).first.flatMap(ClientFormatStore.record)
    }

    /// Makes the named preset the client's default (nil: no default), for an operator, audited.
    /// False when the client has no preset of that name.
    public func setDefault(clientID: String, name: String?, by actor: AuditActor) async throws -> Bool {
        let now = Date()
        return try await db.write(durable: true) { c in
            let before = try await c.query("SELECT name FROM client_formats WHERE client_id = \(clientID) AND is_default = 1").first?.string("name")
            if let name, try await c.query("SELECT 1 AS n FROM client_formats WHERE client_id = \(clientID) AND name = \(name)").isEmpty {
                return false
            }
            try await c.execute("UPDATE client_formats SET is_default = 0, updated_at = \(now) WHERE client_id = \(clientID) AND is_default = 1")
            if let name {
                try await c.execute("UPDATE client_formats SET is_default = 1, updated_at = \(now) WHERE client_id = \(clientID) AND name = \(name)")
            }
            try await AuditLog.record(c, actor, action: "client.default_format", target: "client:\(clientID)",
                                      before: AuditLog.values(["default_format": before]), after: AuditLog.values(["default_format": name]), now: now)
            return true
        }
    }

    public func delete(clientID: String, name: String) async throws -> Bool {
        try await db.write(durable: true) { c in
            try await c.execute("DELETE FROM client_formats WHERE client_id = \(clientID) AND name = \(name)") > 0
        }
    }
}
