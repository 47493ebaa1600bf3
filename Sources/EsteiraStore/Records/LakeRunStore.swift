import EsteiraCore
import Foundation

/// A run of the lake for one month: its steps (JSON: name, status, times, counts and sizes),
/// and how it ended (`running`, `completed`, `failed` with the reason).
public struct LakeRunRecord: Sendable {
    public var id: String
    public var month: String
    public var referenceDate: Day
    public var status: String
    public var steps: String
    public var error: String?
    public var startedAt: Date
    public var finishedAt: Date?
}

public struct LakeRunStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    public func start(month: String, referenceDate: Day, now: Date = Date()) async throws -> String {
        let id = UUID().uuidString.lowercased()
        try await db.write(durable: true) { c in
            try await c.execute("""
                INSERT INTO lake_runs (id, month, reference_date, status, steps, started_at)
                VALUES (\(id), \(month), \(referenceDate), 'running', '[]', \(now))
                """)
        }
        return id
    }

    /// Records the steps so far; with `status`, the end of the run.
    public func update(id: String, steps: String, status: String? = nil, error: String? = nil, now: Date = Date()) async throws {
        try await db.write(durable: true) { c in
            if let status {
                try await c.execute("""
                    UPDATE lake_runs SET steps = \(steps), status = \(status), error = \(error), finished_at = \(now) WHERE id = \(id)
                    """)
            } else {
                try await c.execute("UPDATE lake_runs SET steps = \(steps) WHERE id = \(id)")
            }
        }
    }

    /// What the lake holds, per layer (`raw`, `curated`, `refined`): bytes and files, summed over
    /// the latest completed run of each month (a re-run replaces its month's files).
    public func storage() async throws -> [String: (bytes: Int, files: Int)] {
        var latest: [String: String] = [:]
        for r in try await db.query("""
            SELECT month, steps FROM lake_runs WHERE status = 'completed' ORDER BY started_at, id
            """) {
            latest[try r.string("month")] = try r.string("steps")
        }
        var out: [String: (bytes: Int, files: Int)] = ["raw": (0, 0), "curated": (0, 0), "refined": (0, 0)]
        for steps in latest.values {
            let list = (try? JSONSerialization.jsonObject(with: Data(steps.utf8))) as? [[String: Any]] ?? []
            for step in list {
                if let raw = step["raw_bytes"] as? Int, let curated = step["curated_bytes"] as? Int {
                    out["raw"] = (out["raw"]!.bytes + raw, out["raw"]!.files + 1)
                    out["curated"] = (out["curated"]!.bytes + curated, out["curated"]!.files + 1)
                }
                if let refined = step["refined_bytes"] as? Int {
                    out["refined"] = (out["refined"]!.bytes + refined, out["refined"]!.files + 2)
                }
            }
        }
        return out
    }

    /// The latest runs first.
    public func list(limit: Int = 100) async throws -> [LakeRunRecord] {
        try await db.query("""
            SELECT id, month, reference_date, status, steps, error, started_at, finished_at FROM lake_runs
            ORDER BY started_at DESC, id LIMIT \(limit)
            """).map {
            LakeRunRecord(id: try $0.string("id"), month: try $0.string("month"), referenceDate: try $0.day("reference_date"),
                          status: try $0.string("status"), steps: try $0.string("steps"), error: try $0.optionalString("error"),
                          startedAt: try $0.date("started_at"), finishedAt: try $0.optionalDate("finished_at"))
        }
    }
}
