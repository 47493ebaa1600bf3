import EsteiraCore
import Foundation

/// Sign-in sessions of the web pages. The browser holds a random token in a cookie; only its
/// SHA-256 is kept, as for API keys. A session ends at its expiry, at sign-out, or when the
/// client's key is revoked (it is checked against the key on every request).
public struct WebSessionStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    /// Opens a session for the client; returns the token the cookie carries.
    public func create(clientID: String, lifetime: TimeInterval) async throws -> String {
        let token = Hex.random(bytes: 32)
        let now = Date()
        try await db.write(durable: true) { c in
            try await c.execute("DELETE FROM web_sessions WHERE expires_at < \(now)")
            try await c.execute("""
                INSERT INTO web_sessions (token_hash, client_id, created_at, expires_at)
                VALUES (\(ClientStore.hash(apiKey: token)), \(clientID), \(now), \(now.addingTimeInterval(lifetime)))
                """)
        }
        return token
    }

    /// The signed-in client, or nil for an unknown, expired or revoked session.
    public func client(token: String) async throws -> ClientRecord? {
        let now = Date()
        return try await db.query("""
            SELECT \(raw: ClientStore.columns.split(separator: ",").map { "c." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
            FROM web_sessions s JOIN clients c ON c.id = s.client_id
            WHERE s.token_hash = \(ClientStore.hash(apiKey: token)) AND s.expires_at > \(now) AND c.api_key_hash IS NOT NULL
            """).first.map(ClientStore.record)
    }

    public func delete(token: String) async throws {
        try await db.write(durable: true) { c in
            try await c.execute("DELETE FROM web_sessions WHERE token_hash = \(ClientStore.hash(apiKey: token))")
        }
    }
}
