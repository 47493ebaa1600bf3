import EsteiraCore
import Foundation

/// Sign-in sessions of the web pages. The browser holds a random token in a cookie; only its
/// SHA-256 is kept, as for API keys. A session ends at its expiry, at sign-out, or when the
/// key it was opened with is revoked or expires (checked on every request).
public struct WebSessionStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    /// Opens a session for the client, signed in with the key `keyID`; returns the token the
    /// cookie carries. The session ends with that key.
    public func create(clientID: String, keyID: String, lifetime: TimeInterval) async throws -> String {
        let token = Hex.random(bytes: 32)
        let now = Date()
        try await db.write(durable: true) { c in
            try await c.execute("DELETE FROM web_sessions WHERE expires_at < \(now)")
            try await c.execute("""
                INSERT INTO web_sessions (token_hash, client_id, key_id, created_at, expires_at)
                VALUES (\(ClientStore.hash(apiKey: token)), \(clientID), \(keyID), \(now), \(now.addingTimeInterval(lifetime)))
                """)
        }
        return token
    }

    /// The signed-in client, or nil for an unknown, expired or revoked session.
    public func client(token: String) async throws -> ClientRecord? {
        let now = Date()
        return try await db.query("""
            SELECT \(raw: ClientStore.columns)
            FROM web_sessions s JOIN clients ON clients.id = s.client_id JOIN api_keys k ON k.id = s.key_id
            WHERE s.token_hash = \(ClientStore.hash(apiKey: token)) AND s.expires_at > \(now)
              AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > \(now)) AND clients.deactivated_at IS NULL
            """).first.map(ClientStore.record)
    }

    public func delete(token: String) async throws {
        try await db.write(durable: true) { c in
            try await c.execute("DELETE FROM web_sessions WHERE token_hash = \(ClientStore.hash(apiKey: token))")
        }
    }
}
