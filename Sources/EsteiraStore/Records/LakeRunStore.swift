import EsteiraCore
import Foundation

/// A run of the lake for one month: its steps (`LakeStepRecord`, kept as JSON), the raw keys its
/// curate steps read (`inputs`, JSON), and how it ended (`running`, `completed`, `failed` with the
/// reason).
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

    /// The steps recorded so far; stored JSON that is not a list of steps is an error naming the run.
    public func stepList() throws -> [LakeStepRecord] {
        do {
            return try JSONDecoder().decode([LakeStepRecord].self, from: Data(steps.utf8))
        } catch {
            throw SQLError(code: .decode, message: "lake_runs.steps of run \(id) is not a list of steps: \(error)", sql: "")
        }
    }

    /// The raw key of each table (`faturas`, `pagamentos`), once the raw step has landed them.
    public var inputKeys: [String: String] { (try? JSONDecoder().decode([String: String].self, from: Data(inputs.utf8))) ?? [:] }
}

/// One step of a lake run, as the run records it and `GET /v1/admin/lake/runs` and
/// `esteira lake run --json` show it: its name, status, attempts and times, the error of a failed
/// attempt, and what it did (`LakeStepDetails`, in the same object).
public struct LakeStepRecord: Codable, Sendable, Equatable {
    public var name: String
    public var status: String
    public var attempts: Int
    public var startedAt: String
    public var finishedAt: String
    public var error: String?
    public var details: LakeStepDetails

    public init(name: String, status: String, attempts: Int, startedAt: String, finishedAt: String, error: String?, details: LakeStepDetails) {
        self.name = name
        self.status = status
        self.attempts = attempts
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.error = error
        self.details = details
    }

    enum CodingKeys: String, CodingKey {
        case name, status, attempts, startedAt = "started_at", finishedAt = "finished_at", error
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        status = try c.decode(String.self, forKey: .status)
        attempts = try c.decode(Int.self, forKey: .attempts)
        startedAt = try c.decode(String.self, forKey: .startedAt)
        finishedAt = try c.decode(String.self, forKey: .finishedAt)
        error = try c.decodeIfPresent(String.self, forKey: .error)
        details = try LakeStepDetails(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try details.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(status, forKey: .status)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encodeIfPresent(error, forKey: .error)
    }
}

/// What a lake step did; each step fills its own fields. raw: the files landed. curate: one
/// table's counts (raw = curated + duplicates + quarantined) and sizes. book: the reference date,
/// the months read and the book's counts.
public struct LakeStepDetails: Codable, Sendable, Equatable {
    public var files: [String]?
    public var rawBytes: Int?
    public var rawFiles: Int?
    public var file: String?
    public var raw: Int?
    public var curated: Int?
    public var duplicates: Int?
    public var quarantined: Int?
    public var curatedBytes: Int?
    public var dtBase: String?
    public var monthsRead: [String]?
    public var invoices: Int?
    public var payments: Int?
    public var customerRows: Int?
    public var refinedBytes: Int?
    public var seconds: Double?

    public init(files: [String]? = nil, rawBytes: Int? = nil, rawFiles: Int? = nil, file: String? = nil, raw: Int? = nil,
                curated: Int? = nil, duplicates: Int? = nil, quarantined: Int? = nil, curatedBytes: Int? = nil,
                dtBase: String? = nil, monthsRead: [String]? = nil, invoices: Int? = nil, payments: Int? = nil,
                customerRows: Int? = nil, refinedBytes: Int? = nil, seconds: Double? = nil) {
        self.files = files
        self.rawBytes = rawBytes
        self.rawFiles = rawFiles
        self.file = file
        self.raw = raw
        self.curated = curated
        self.duplicates = duplicates
        self.quarantined = quarantined
        self.curatedBytes = curatedBytes
        self.dtBase = dtBase
        self.monthsRead = monthsRead
        self.invoices = invoices
        self.payments = payments
        self.customerRows = customerRows
        self.refinedBytes = refinedBytes
        self.seconds = seconds
    }

    enum CodingKeys: String, CodingKey {
        case files, rawBytes = "raw_bytes", rawFiles = "raw_files", file, raw, curated, duplicates, quarantined
        case curatedBytes = "curated_bytes", dtBase = "dt_base", monthsRead = "months_read", invoices, payments
        case customerRows = "customer_rows", refinedBytes = "refined_bytes", seconds
    }
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
    public static func record(_ c: any SQLConnection, id: String, step: LakeStepRecord, inputs: [String: String]? = nil,
                              status: String? = nil, error: String? = nil, now: Date = Date()) async throws {
        guard let row = try await c.query("SELECT \(raw: Self.columns) FROM lake_runs WHERE id = \(id)\(c.forUpdate)").first else {
            throw StoreError.notFound("lake run \(id)")
        }
        var steps = try Self.record(row).stepList()
        if let i = steps.firstIndex(where: { $0.name == step.name }) { steps[i] = step } else { steps.append(step) }
        let text = try JSONText.encoded(steps)
        if let inputs {
            try await c.execute("UPDATE lake_runs SET inputs = \(try JSONText.encoded(inputs)) WHERE id = \(id)")
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
