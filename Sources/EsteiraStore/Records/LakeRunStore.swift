import EsteiraCore
import Foundation

/// A run of the lake for one month: its steps (JSON: name, status, attempts, times, counts and
/// sizes), the raw keys its curate steps read (`inputs`, JSON), and how it ended (`running`,
/// `completed`, `failed` with the reason).
public struct LakeRunRecord: Sendable {
    public var id: String
    public var month: String
    public var referenceDate: Day
    public var status: String
    public var steps: String
    public var inputs: String
    public var error: String?
    public var startedAt: Date
    public var finishedAt: Date?

    public var isFinished: Bool { status != "running" }

    /// The steps as JSON objects.
    public var stepList: [[String: Any]] { Self.steps(steps) }

    static func steps(_ text: String) -> [[String: Any]] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]] ?? []
    }
    /// The raw key of each table (`faturas`, `pagamentos`), once the raw step has landed them.
    public var inputKeys: [String: String] { (try? JSONSerialization.jsonObject(with: Data(inputs.utf8))) as? [String: String] ?? [:] }
}

public struct LakeRunStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    static let columns = "id, month, reference_date, status, steps, inputs, error, started_at, finished_at"

    static func record(_ r: SQLRow) throws -> LakeRunRecord {
        LakeRunRecord(id: try r.string("id"), month: try r.string("month"), referenceDate: try r.day("reference_date"),
                      status: try r.string("status"), steps: try r.string("steps"), inputs: try r.string("inputs"),
                      error: try r.optionalString("error"), startedAt: try r.date("started_at"), finishedAt: try r.optionalDate("finished_at"))
    }

    /// A new run's id, for a caller that needs it before the run is recorded (to land its files).
    public static func newID() -> String { UUID().uuidString.lowercased() }

    /// In the caller's transaction: a new run, `running`, with no steps yet.
    public static func create(_ c: any SQLConnection, id: String = newID(), month: String, referenceDate: Day,
                              now: Date = Date()) async throws -> String {
        try await c.execute("""
            INSERT INTO lake_runs (id, month, reference_date, status, steps, inputs, started_at)
            VALUES (\(id), \(month), \(referenceDate), 'running', '[]', '{}', \(now))
            """)
        return id
    }

    public func get(id: String) async throws -> LakeRunRecord? {
        try await db.query("SELECT \(raw: Self.columns) FROM lake_runs WHERE id = \(id)").first.map(Self.record)
    }

    /// Whether any run of the month was ever started (the inbox starts a month once). On
    /// PostgreSQL it first takes a transaction lock, so that two processes' watchers cannot both
    /// find none and both start one (SQLite's single writer already orders them).
    public static func exists(_ c: any SQLConnection, month: String) async throws -> Bool {
        try await c.lock(.lakeRuns)
        return try await !c.query("SELECT 1 AS x FROM lake_runs WHERE month = \(month)").isEmpty
    }

    /// Whether a run of a month before `month` was ever started: the lake is in use, so a month's
    /// files missing after it are late rather than a lake nobody has started to feed.
    public func hasRun(before month: String) async throws -> Bool {
        try await !db.query("SELECT 1 AS x FROM lake_runs WHERE month < \(month) LIMIT 1").isEmpty
    }

    /// In the caller's transaction: records a step (replacing an earlier record of the same name,
    /// from an earlier attempt); with `inputs`, the raw keys; with `status`, the end of the run (or
    /// `running` again, for a failed run whose dead step was revived).
    public static func record(_ c: any SQLConnection, id: String, step stepJSON: String, inputs: [String: String]? = nil,
                              status: String? = nil, error: String? = nil, now: Date = Date()) async throws {
        guard let row = try await c.query("SELECT steps FROM lake_runs WHERE id = \(id)\(c.forUpdate)").first else {
            throw StoreError.notFound("lake run \(id)")
        }
        var steps = LakeRunRecord.steps(try row.string("steps"))
        let step = (try? JSONSerialization.jsonObject(with: Data(stepJSON.utf8))) as? [String: Any] ?? [:]
        let name = step["name"] as? String
        if let i = steps.firstIndex(where: { $0["name"] as? String == name }) { steps[i] = step } else { steps.append(step) }
        let text = try JSONText.encode(steps)
        if let inputs {
            try await c.execute("UPDATE lake_runs SET inputs = \(try JSONText.encode(inputs)) WHERE id = \(id)")
        }
        if let status {
            try await c.execute("""
                UPDATE lake_runs SET steps = \(text), status = \(status), error = \(error),
                       finished_at = \(status == "running" ? nil : now) WHERE id = \(id)
                """)
        } else {
            try await c.execute("UPDATE lake_runs SET steps = \(text) WHERE id = \(id)")
        }
    }

    public func list(limit: Int = 100) async throws -> [LakeRunRecord] {
        try await db.query("SELECT \(raw: Self.columns) FROM lake_runs ORDER BY started_at DESC, id LIMIT \(limit)").map(Self.record)
    }
}
