import EsteiraCore
import Foundation

/// The rows each client sent each day (São Paulo's), against its daily quota. A reservation is
/// one conditional `UPDATE`, so that two uploads at once, on any number of API processes sharing
/// PostgreSQL, cannot both pass the quota: the database orders them.
public enum ClientUsage {
    /// Adds `rows` to the client's day if the day stays within `limit`; false (and nothing
    /// changed) otherwise. In `c`'s transaction: the batch it counts for is created in the same.
    public static func reserve(_ c: any SQLConnection, clientID: String, day: Day, rows: Int, limit: Int) async throws -> Bool {
        try await ensureRow(c, clientID: clientID, day: day)
        return try await c.execute("""
            UPDATE client_usage SET rows_received = rows_received + \(rows)
            WHERE client_id = \(clientID) AND day = \(day) AND rows_received + \(rows) <= \(limit)
            """) == 1
    }

    /// Adds `delta` (negative when a file held fewer records than its reservation) to the day.
    public static func adjust(_ c: any SQLConnection, clientID: String, day: Day, by delta: Int) async throws {
        guard delta != 0 else { return }
        try await ensureRow(c, clientID: clientID, day: day)
        try await c.execute("""
            UPDATE client_usage SET rows_received = rows_received + \(delta) WHERE client_id = \(clientID) AND day = \(day)
            """)
    }

    static func ensureRow(_ c: any SQLConnection, clientID: String, day: Day) async throws {
        try await c.execute("""
            INSERT INTO client_usage (client_id, day, rows_received) VALUES (\(clientID), \(day), 0)
            ON CONFLICT (client_id, day) DO NOTHING
            """)
    }

    /// The rows the client sent on `day`, in `c`'s transaction.
    public static func used(_ c: any SQLConnection, clientID: String, day: Day) async throws -> Int {
        try await c.query("SELECT rows_received FROM client_usage WHERE client_id = \(clientID) AND day = \(day)").first?
            .int("rows_received") ?? 0
    }

    /// The rows the client sent on `day`.
    public static func used(_ db: any SQLDatabase, clientID: String, day: Day) async throws -> Int {
        try await db.read { c in try await used(c, clientID: clientID, day: day) }
    }

    /// Seconds from `now` to the next midnight in São Paulo, when a day's quota starts again.
    public static func secondsToNextDay(from now: Date) -> Int {
        let tomorrow = Day(now, in: Day.saoPaulo).adding(days: 1)
        return max(1, Int(tomorrow.start(in: Day.saoPaulo).timeIntervalSince(now).rounded(.up)))
    }
}
