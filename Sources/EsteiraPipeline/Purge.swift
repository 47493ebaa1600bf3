import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import Foundation
import Logging
import ServiceLifecycle

/// Removes what is past its retention period (`Retention`, docs/security.md): previews never
/// confirmed (their batches cancelled), files of ended batches, web drafts never confirmed,
/// staging leftovers, rejected lines' raw text, risk decisions, notification logs, finished jobs,
/// submitted lines and expired sessions.
///
/// It works in slices of `slice` rows (or files), each in a short transaction of its own with a
/// pause after it, so that the pipeline's transactions are never held up behind it. A run is
/// recorded in `purge_runs` with how many of each kind it removed: counts, never contents. A dry
/// run counts what would go and removes nothing.
public struct Purge: Sendable {
    let db: any SQLDatabase
    let blobs: any BlobStore
    let retention: Retention
    var slice = 500
    var pause: Duration = .milliseconds(20)

    public init(db: any SQLDatabase, blobs: any BlobStore, retention: Retention) {
        self.db = db
        self.blobs = blobs
        self.retention = retention
    }

    public typealias Counts = [Retention.Kind: Int]

    /// Runs every kind, records the run, and answers its counts.
    @discardableResult
    public func run(dryRun: Bool, now: Date = Date(), logger: Logger = Logger(label: "esteira.purge")) async throws -> Counts {
        let id = try await db.write(durable: true) { c in
            try await c.query("""
                INSERT INTO purge_runs (started_at, dry_run) VALUES (\(now), \(dryRun ? 1 : 0)) RETURNING id
                """)[0].int("id")
        }
        return try await run(recorded: id, dryRun: dryRun, now: now, logger: logger)
    }

    func run(recorded id: Int, dryRun: Bool, now: Date, logger: Logger) async throws -> Counts {
        var counts: Counts = [:]
        do {
            for kind in Retention.Kind.allCases {
                counts[kind] = try await purge(kind, dryRun: dryRun, now: now)
            }
        } catch {
            try? await record(id, counts, error: "\(error)")
            throw error
        }
        try await record(id, counts, error: nil)
        logger.info("purge", metadata: ["dry_run": "\(dryRun)", "counts": "\(Self.text(counts))"])
        return counts
    }

    /// The counts as the run's record keeps them: `{"drafts":0,"files":3,…}`.
    public static func text(_ counts: Counts) -> String {
        AuditLog.values(Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, Optional("\($0.value)")) }))
    }

    func record(_ id: Int, _ counts: Counts, error: String?) async throws {
        try await db.write(durable: true) { c in
            try await c.execute("""
                UPDATE purge_runs SET finished_at = \(Date()), counts = \(Self.text(counts)), error = \(error) WHERE id = \(id)
                """)
        }
    }

    func cutoff(_ now: Date, days: Int) -> Date { now.addingTimeInterval(-Double(days) * 86_400) }

    func purge(_ kind: Retention.Kind, dryRun: Bool, now: Date) async throws -> Int {
        switch kind {
        case .previews: return try await previews(dryRun: dryRun, before: cutoff(now, days: retention.previewDays), now: now)
        case .files: return try await files(dryRun: dryRun, before: cutoff(now, days: retention.filesDays), now: now)
        case .drafts: return try await drafts(dryRun: dryRun, before: now.addingTimeInterval(-Double(retention.draftHours) * 3600))
        case .staging: return try await staging(dryRun: dryRun, before: cutoff(now, days: retention.stagingDays))
        case .rejectLines:
            let before = cutoff(now, days: retention.rejectLinesDays)
            return try await slices(dryRun: dryRun, count: "SELECT COUNT(*) AS n FROM rejects WHERE raw <> '' AND created_at < \(before)") { c in
                try await c.execute("""
                    UPDATE rejects SET raw = '' WHERE id IN
                        (SELECT id FROM rejects WHERE raw <> '' AND created_at < \(before) ORDER BY id LIMIT \(slice))
                    """)
            }
        case .riskDecisions:
            let before = cutoff(now, days: retention.riskDecisionsDays)
            return try await slices(dryRun: dryRun, count: "SELECT COUNT(*) AS n FROM risk_decisions WHERE created_at < \(before)") { c in
                try await c.execute("""
                    DELETE FROM risk_decisions WHERE (client_id, trace_key) IN
                        (SELECT client_id, trace_key FROM risk_decisions WHERE created_at < \(before) LIMIT \(slice))
                    """)
            }
        case .notifications:
            let before = cutoff(now, days: retention.notificationsDays)
            return try await slices(dryRun: dryRun, count: """
                SELECT COUNT(*) AS n FROM notifications WHERE state IN ('delivered', 'dead') AND created_at < \(before)
                """) { c in
                let ids = try await c.query("""
                    SELECT id FROM notifications WHERE state IN ('delivered', 'dead') AND created_at < \(before) ORDER BY id LIMIT \(slice)
                    """).map { try $0.int("id") }
                guard !ids.isEmpty else { return 0 }
                try await c.execute("DELETE FROM notification_attempts WHERE notification_id IN (\(list: ids))")
                return try await c.execute("DELETE FROM notifications WHERE id IN (\(list: ids))")
            }
        case .jobs:
            let before = cutoff(now, days: retention.jobsDays)
            return try await slices(dryRun: dryRun, count: "SELECT COUNT(*) AS n FROM jobs WHERE state = 'done' AND updated_at < \(before)") { c in
                try await c.execute("""
                    DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state = 'done' AND updated_at < \(before) ORDER BY id LIMIT \(slice))
                    """)
            }
        case .submissions:
            let before = cutoff(now, days: retention.submissionsDays)
            let ended: SQL = "SELECT id FROM submissions WHERE status IN ('submitted', 'expired') AND updated_at < \(before)"
            return try await slices(dryRun: dryRun, count: "SELECT COUNT(*) AS n FROM submission_lines WHERE submission_id IN (\(ended))") { c in
                let keys = try await c.query("""
                    SELECT submission_id, seq FROM submission_lines WHERE submission_id IN (\(ended)) LIMIT \(slice)
                    """).map { (try $0.string("submission_id"), try $0.int("seq")) }
                var removed = 0
                for (submission, seqs) in Dictionary(grouping: keys, by: \.0) {
                    removed += try await c.execute("""
                        DELETE FROM submission_lines WHERE submission_id = \(submission) AND seq IN (\(list: seqs.map(\.1)))
                        """)
                }
                return removed
            }
        case .sessions:
            let web = try await slices(dryRun: dryRun, count: "SELECT COUNT(*) AS n FROM web_sessions WHERE expires_at < \(now)") { c in
                try await c.execute("DELETE FROM web_sessions WHERE expires_at < \(now)")
            }
            let console = try await slices(dryRun: dryRun, count: "SELECT COUNT(*) AS n FROM operator_sessions WHERE expires_at < \(now)") { c in
                try await c.execute("DELETE FROM operator_sessions WHERE expires_at < \(now)")
            }
            return web + console
        }
    }

    /// Counts (dry run), or runs `step` in transactions of its own until it removes nothing;
    /// answers the rows counted or removed.
    func slices(dryRun: Bool, count: SQL, _ step: @escaping @Sendable (any SQLConnection) async throws -> Int) async throws -> Int {
        if dryRun { return try await db.query(count)[0].int("n") }
        var total = 0
        while true {
            let n = try await db.write(step)
            total += n
            if n == 0 { return total }
            try await Task.sleep(for: pause)
        }
    }

    /// The raw file and the converted CSV of each batch that ended before `before`; the batch
    /// keeps its row, counts and rejects, and says its files are gone (`files_purged_at`).
    func files(dryRun: Bool, before: Date, now: Date) async throws -> Int {
        let pending: SQL = "FROM batches WHERE finished_at IS NOT NULL AND finished_at < \(before) AND files_purged_at IS NULL"
        if dryRun {
            let r = try await db.query("SELECT COUNT(*) AS n, COUNT(data_key) AS converted \(pending)")[0]
            return try r.int("n") + r.int("converted")
        }
        var removed = 0
        while true {
            let batches = try await db.query("SELECT id, blob_key, data_key \(pending) ORDER BY finished_at, id LIMIT \(slice)")
            if batches.isEmpty { return removed }
            for b in batches {
                for key in [try b.string("blob_key"), try b.optionalString("data_key")].compactMap({ $0 }) {
                    try await blobs.delete(key: key)
                    removed += 1
                }
            }
            let ids = try batches.map { try $0.string("id") }
            try await db.write { c in try await c.execute("UPDATE batches SET files_purged_at = \(now) WHERE id IN (\(list: ids))") }
            try await Task.sleep(for: pause)
        }
    }

    /// Cancels each batch whose preview waited since before `before` for a confirmation that never
    /// came. A client confirming meanwhile wins: a batch no longer `previewed` is left as it is.
    func previews(dryRun: Bool, before: Date, now: Date) async throws -> Int {
        let waiting: SQL = "FROM batches WHERE status = \(BatchStatus.previewed.rawValue) AND updated_at < \(before)"
        if dryRun { return try await db.query("SELECT COUNT(*) AS n \(waiting)")[0].int("n") }
        let days = retention.previewDays
        let reason = "A prévia não foi confirmada em \(days) \(days == 1 ? "dia" : "dias"): o lote foi cancelado e nada dele foi registrado."
        let store = BatchStore(db: db)
        var cancelled = 0
        while true {
            let ids = try await db.query("SELECT id \(waiting) ORDER BY updated_at, id LIMIT \(slice)").map { try $0.string("id") }
            if ids.isEmpty { return cancelled }
            for id in ids {
                let outcome = try await store.cancel(id: id, by: .retention, now: now, only: [.previewed], reason: reason)
                if outcome?.changed == true { cancelled += 1 }
            }
            try await Task.sleep(for: pause)
        }
    }

    /// What a web draft says of itself: when it was uploaded (drafts from before this was kept
    /// count as old).
    struct DraftStamp: Decodable { var createdAt: String? }

    /// Web drafts (`drafts/<client>/<id>.json` and their raw file) older than `before` that never
    /// became a batch.
    func drafts(dryRun: Bool, before: Date) async throws -> Int {
        var removed = 0
        for entry in try await blobs.list(prefix: "drafts/") where entry.key.hasSuffix(".json") {
            let parts = entry.key.split(separator: "/")
            guard parts.count == 3 else { continue }
            let client = String(parts[1]), draft = String(parts[2].dropLast(".json".count))
            let stamp = try? JSONDecoder().decode(DraftStamp.self, from: Data(try await blobs.readAll(key: entry.key)))
            if let created = stamp?.createdAt.flatMap(Timestamp.parse), created >= before { continue }
            let confirmed = try await !db.query("SELECT id FROM batches WHERE id = \(draft)").isEmpty
            removed += 1
            if dryRun { continue }
            if !confirmed { try await blobs.delete(key: BlobKeys.raw(clientID: client, batchID: draft)) }
            try await blobs.delete(key: entry.key)
        }
        return removed
    }

    /// Staging files of batches that ended before `before`, or of no batch at all.
    func staging(dryRun: Bool, before: Date) async throws -> Int {
        var removed = 0
        let byBatch = Dictionary(grouping: try await blobs.list(prefix: "staging/")) { entry in
            entry.key.split(separator: "/").dropFirst().first.map(String.init) ?? ""
        }
        for (batch, entries) in byBatch where !batch.isEmpty {
            let row = try await db.query("SELECT finished_at FROM batches WHERE id = \(batch)").first
            if let row {
                guard let finished = try row.optionalDate("finished_at"), finished < before else { continue }
            }
            removed += entries.count
            if dryRun { continue }
            for entry in entries { try await blobs.delete(key: entry.key) }
        }
        return removed
    }
}

/// Runs the purge once a day in whichever worker process claims the day first (the others find
/// it claimed), an hour after start and then every hour it looks. Off with `ESTEIRA_NO_PURGE`.
public struct PurgeService: Service {
    let purge: Purge
    let logger: Logger
    let every: Duration

    public init(purge: Purge, logger: Logger, every: Duration = .seconds(3600)) {
        self.purge = purge
        self.logger = logger
        self.every = every
    }

    /// Stops at SIGTERM (graceful shutdown cancels its sleep, or a purge between two slices);
    /// a process must not wait an hour for it. A purge cut short is taken up the next day.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: every)
                if Task.isCancelled { return }
                do {
                    if let id = try await claim(now: Date()) {
                        _ = try await purge.run(recorded: id, dryRun: false, now: Date(), logger: logger)
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("purge failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// The run's record, when no purge started in the last 24 hours; nil otherwise. The start is
    /// recorded to the second: read back at the database's precision, a start kept to the
    /// microsecond could come back a fraction later than it was, and a day after it would not yet
    /// be a day (CI on 636fdca).
    public func claim(now: Date) async throws -> Int? {
        let now = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        return try await purge.db.write(durable: true) { c in
            try await c.lock(.purge)
            let last = try await c.query("SELECT MAX(started_at) AS at FROM purge_runs WHERE dry_run = 0")[0].optionalDate("at")
            if let last, now.timeIntervalSince(last) < 86_400 { return nil }
            return try await c.query("INSERT INTO purge_runs (started_at, dry_run) VALUES (\(now), 0) RETURNING id")[0].int("id")
        }
    }
}
