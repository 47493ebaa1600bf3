/// The PostgreSQL transaction locks Esteira takes, named once. Each orders one kind of write
/// across processes; SQLite's single writer orders them already, so there they are no-ops.
public enum AdvisoryLock: Int64, Sendable {
    /// Migrations applied by several processes starting at once.
    case migrations = 7_345_120_001
    /// A new client's number (the highest plus one).
    case clientNumbers = 7_345_120_002
    /// The lake inbox's check that a month was never started, and its start.
    case lakeRuns = 7_345_120_003
    /// One operators' alert per subject and target.
    case alerts = 7_345_120_004
    /// The day's purge, claimed by one process.
    case purge = 7_345_120_005
}

extension SQLConnection {
    /// Holds `lock` until this transaction ends (PostgreSQL only).
    public func lock(_ lock: AdvisoryLock) async throws {
        guard dialect == .postgres else { return }
        try await execute("SELECT pg_advisory_xact_lock(\(lock.rawValue))")
    }
}
