import EsteiraCore
import Foundation

/// The pipeline's steps, as kinds of job.
public enum JobKind: String, Sendable, Codable, CaseIterable {
    case pick
    case transform
    case register
    case finalize
    /// A ledger request posted with `?async=true`; its "batch" is the request's id.
    case ledger
    /// One step of a lake run (`LakeStep`); its "batch" is the run's id, its sequence number the step.
    case lake
    /// Deletes a finished batch's staging files, retried like any step: a failed delete is never
    /// silent, and a staging file is never left behind without a dead job saying so.
    case cleanup
    /// A dry run's replay of its staged rows over the registry, once every sub-batch is transformed.
    case preview
}

/// What a job works on, typed by its kind. The queue stores it in two columns, `batch_id` and
/// `seq`, whose meaning depends on the kind; this is the one place that says how, and reading a
/// row whose columns do not fit its kind is an error.
public enum JobPayload: Sendable, Equatable {
    /// A step of a whole batch: the pick, the finalize, the cleanup (`seq` is -1).
    case batch(JobKind, batchID: String)
    /// A step of one sub-batch: the transform, the register.
    case subBatch(JobKind, batchID: String, seq: Int)
    /// A ledger request posted with `?async=true` (`batch_id` holds the request's id, `seq` 0).
    case ledgerRequest(id: String)
    /// One step of a lake run (`batch_id` holds the run's id, `seq` the `LakeStep`).
    case lakeStep(runID: String, step: Int)

    public var kind: JobKind {
        switch self {
        case .batch(let k, _), .subBatch(let k, _, _): k
        case .ledgerRequest: .ledger
        case .lakeStep: .lake
        }
    }

    /// The two stored columns.
    public var columns: (batchID: String, seq: Int) {
        switch self {
        case .batch(_, let id): (id, -1)
        case .subBatch(_, let id, let seq): (id, seq)
        case .ledgerRequest(let id): (id, 0)
        case .lakeStep(let run, let step): (run, step)
        }
    }

    /// The payload of a stored job; nil when the columns do not fit the kind.
    public init?(kind: JobKind, batchID: String, seq: Int) {
        switch kind {
        case .pick, .finalize, .cleanup, .preview:
            guard seq == -1 else { return nil }
            self = .batch(kind, batchID: batchID)
        case .transform, .register:
            guard seq >= 0 else { return nil }
            self = .subBatch(kind, batchID: batchID, seq: seq)
        case .ledger:
            guard seq == 0 else { return nil }
            self = .ledgerRequest(id: batchID)
        case .lake:
            self = .lakeStep(runID: batchID, step: seq)
        }
    }
}

public enum JobState: String, Sendable, Codable, CaseIterable {
    case queued
    case running
    case done
    case dead
}

public struct Job: Sendable, Equatable {
    public var id: Int
    public var kind: JobKind
    /// The stored columns, as `payload` reads them by kind: for the batch's stages, the batch and
    /// its sub-batch (-1 for a step of the whole batch); for other kinds, see `JobPayload`.
    public var batchID: String
    public var seq: Int
    public var state: JobState
    public var attempts: Int
    public var maxAttempts: Int
    public var runAt: Date
    public var leaseOwner: String?
    public var lastError: String?
    public var traceID: String

    /// What the job works on, typed.
    public var payload: JobPayload {
        // `JobQueue.job(_:)` refuses rows whose columns do not fit their kind.
        JobPayload(kind: kind, batchID: batchID, seq: seq)!
    }
}

/// The durable job queue, kept in the same database as the data so that a job is enqueued in the
/// same transaction as the change that causes it.
///
/// A job is claimed with a lease (`lease_owner`, `lease_expires_at`); a worker renews the lease
/// while it works. When a worker dies its lease runs out and the job is claimed again. Completing a
/// job checks the lease in the same transaction as the job's effects, so a worker that lost its
/// lease cannot commit anything.
public struct JobQueue: Sendable {
    let db: any SQLDatabase
    public var retry: RetryPolicy

    public init(db: any SQLDatabase, retry: RetryPolicy = RetryPolicy()) {
        self.db = db
        self.retry = retry
    }

    static let columns = "id, kind, batch_id, seq, state, attempts, max_attempts, run_at, lease_owner, last_error, trace_id"

    static func job(_ r: SQLRow) throws -> Job {
        let kind = try r.known("kind", as: JobKind.self), batchID = try r.string("batch_id"), seq = try r.int("seq")
        guard JobPayload(kind: kind, batchID: batchID, seq: seq) != nil else {
            throw SQLError(code: .decode, message: "job \(try r.int("id")): a \(kind.rawValue) job cannot have sequence \(seq)", sql: "jobs")
        }
        return Job(id: try r.int("id"), kind: kind, batchID: batchID,
            seq: seq, state: try r.known("state", as: JobState.self),
            attempts: try r.int("attempts"), maxAttempts: try r.int("max_attempts"), runAt: try r.date("run_at"),
            leaseOwner: try r.optionalString("lease_owner"), lastError: try r.optionalString("last_error"),
            traceID: try r.string("trace_id"))
    }

    /// Enqueues a step inside the caller's transaction, with this queue's number of attempts.
    public func enqueue(_ c: any SQLConnection, _ payload: JobPayload, traceID: String) async throws {
        try await JobQueue.enqueue(c, payload, traceID: traceID, maxAttempts: retry.maxAttempts)
    }

    /// The PostgreSQL channel on which an enqueue wakes idle workers of every process.
    public static let channel = "esteira_jobs"

    /// Enqueues a step inside the caller's transaction. Enqueuing the same step twice is a no-op.
    /// On PostgreSQL it also notifies `channel`, which PostgreSQL delivers at commit (and only then).
    public static func enqueue(_ c: any SQLConnection, _ payload: JobPayload, traceID: String,
                               maxAttempts: Int = RetryPolicy().maxAttempts, at: Date = Date()) async throws {
        let kind = payload.kind, (batchID, seq) = payload.columns
        try await c.execute("""
            INSERT INTO jobs (kind, batch_id, seq, state, attempts, max_attempts, run_at, trace_id, created_at, updated_at)
            VALUES (\(kind.rawValue), \(batchID), \(seq), 'queued', 0, \(maxAttempts), \(at), \(traceID), \(at), \(at))
            ON CONFLICT (kind, batch_id, seq) DO NOTHING
            """)
        if c.dialect == .postgres { try await c.execute("NOTIFY \(raw: channel)") }
    }

    /// Kinds whose steps of one batch run in `seq` order: step `seq` is handed out only once step
    /// `seq - 1` of the same kind and batch is running or done, and step `seq - orderedWindow` is
    /// done. (Register: see RegisterStage.)
    public static let orderedKinds: [JobKind] = [.register]

    /// How many steps of an ordered kind, for one batch, may be in hand at once: for register, two
    /// in their transactions on PostgreSQL (`RegisterStage.lanes`) and one preparing the next. A
    /// worker's other slots are then free to transform while those wait on the database.
    public static let orderedWindow = 3

    /// Which ready job a worker slot takes first.
    public enum Preference: Sendable {
        /// Finalize, register, pick, transform: a batch under way is finished before more of it is
        /// started, and the step that runs in order within a batch (register) is never left behind
        /// a queue of transforms.
        case laterStages
        /// Pick, transform, register, finalize: keeps the parallel work ahead of the ordered work.
        case earlierStages

        var order: String {
            switch self {
            case .laterStages: return "CASE kind WHEN 'finalize' THEN 0 WHEN 'register' THEN 1 WHEN 'pick' THEN 2 ELSE 3 END"
            case .earlierStages: return "CASE kind WHEN 'pick' THEN 0 WHEN 'transform' THEN 1 WHEN 'register' THEN 2 ELSE 3 END"
            }
        }
    }

    /// Claims the ready job that comes first by priority, then age: queued and due, or running with an expired lease.
    public func claim(kinds: [JobKind], owner: String, lease: TimeInterval, prefer: Preference = .laterStages,
                      now: Date = Date()) async throws -> Job? {
        let expires = now.addingTimeInterval(lease)
        return try await db.write { c in
            let rows = try await c.query("""
                UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = \(owner),
                       lease_expires_at = \(expires), updated_at = \(now)
                WHERE id = (
                    SELECT id FROM jobs
                    WHERE kind IN (\(list: kinds.map(\.rawValue)))
                      AND ((state = 'queued' AND run_at <= \(now)) OR (state = 'running' AND lease_expires_at < \(now)))
                      AND (kind NOT IN (\(list: JobQueue.orderedKinds.map(\.rawValue))) OR seq <= 0 OR (EXISTS (
                          SELECT 1 FROM jobs p WHERE p.kind = jobs.kind AND p.batch_id = jobs.batch_id AND p.seq = jobs.seq - 1
                            AND p.state IN ('running', 'done')) AND NOT EXISTS (
                          SELECT 1 FROM jobs w WHERE w.kind = jobs.kind AND w.batch_id = jobs.batch_id
                            AND w.seq = jobs.seq - \(JobQueue.orderedWindow) AND w.state <> 'done')))
                    ORDER BY \(raw: prefer.order), run_at, id LIMIT 1\(c.forUpdateSkipLocked)
                )
                RETURNING \(raw: JobQueue.columns)
                """)
            return try rows.first.map(JobQueue.job)
        }
    }

    /// Extends the lease; false when it was lost.
    public func renew(jobID: Int, owner: String, lease: TimeInterval, now: Date = Date()) async throws -> Bool {
        try await db.write { c in
            try await c.execute("""
                UPDATE jobs SET lease_expires_at = \(now.addingTimeInterval(lease)), updated_at = \(now)
                WHERE id = \(jobID) AND lease_owner = \(owner) AND state = 'running'
                """) == 1
        }
    }

    /// Marks the job done inside the caller's transaction; throws `leaseLost` (rolling the
    /// transaction back) when the worker no longer holds the job.
    public static func complete(_ c: any SQLConnection, job: Job, owner: String, now: Date = Date()) async throws {
        let n = try await c.execute("""
            UPDATE jobs SET state = 'done', lease_owner = NULL, lease_expires_at = NULL, last_error = NULL, updated_at = \(now)
            WHERE id = \(job.id) AND lease_owner = \(owner) AND state = 'running'
            """)
        if n != 1 { throw StoreError.leaseLost(jobID: job.id) }
    }

    /// Records a failed attempt: the job waits with backoff and jitter, or goes `dead` after its last attempt.
    /// Returns the state it was left in.
    @discardableResult
    public func fail(job: Job, owner: String, error: String, now: Date = Date(), unit: Double = Double.random(in: 0..<1)) async throws -> JobState {
        let dead = job.attempts >= job.maxAttempts
        let state: JobState = dead ? .dead : .queued
        let runAt = now.addingTimeInterval(retry.delay(afterAttempt: job.attempts, unit: unit))
        try await db.write { c in
            let changed = try await c.execute("""
                UPDATE jobs SET state = \(state.rawValue), run_at = \(runAt), lease_owner = NULL, lease_expires_at = NULL,
                       last_error = \(String(error.prefix(2000))), updated_at = \(now)
                WHERE id = \(job.id) AND lease_owner = \(owner) AND state = 'running'
                """)
            if dead && changed == 1 { try await Self.died(c, job: job, error: error, now: now) }
        }
        return state
    }

    /// In the caller's transaction, as the job goes dead: the operators are alerted, and its batch,
    /// still under way, stalls and its client is told.
    static func died(_ c: any SQLConnection, job: Job, error: String, now: Date) async throws {
        try await alertDead(c, job: job, error: error, now: now)
        guard BatchStall.steps.contains(job.kind.rawValue) else { return }
        let stalled = try await c.execute("""
            UPDATE batches SET stalled_from = status, status = \(BatchStatus.stalled.rawValue), stalled_step = \(job.kind.rawValue),
                   updated_at = \(now)
            WHERE id = \(job.batchID) AND status IN (\(list: [BatchStatus.received, .processing, .previewed].map(\.rawValue)))
            """)
        if stalled == 1 { try await NotificationStore.enqueue(c, batchID: job.batchID, now: now) }
    }

    /// In the caller's transaction, as a dead job is revived: its batch, stalled by it and by no
    /// other dead step, goes back to where it stood (`received` before its pick, `processing`).
    static func revived(_ c: any SQLConnection, job: Job, now: Date) async throws {
        guard BatchStall.steps.contains(job.kind.rawValue) else { return }
        let otherDead = try await c.query("""
            SELECT 1 AS dead FROM jobs WHERE batch_id = \(job.batchID) AND state = 'dead'
              AND kind IN (\(list: BatchStall.steps.sorted())) LIMIT 1
            """)
        guard otherDead.isEmpty else { return }
        try await c.execute("""
            UPDATE batches SET status = COALESCE(stalled_from, \(BatchStatus.processing.rawValue)), stalled_step = NULL, stalled_from = NULL,
                   updated_at = \(now)
            WHERE id = \(job.batchID) AND status = \(BatchStatus.stalled.rawValue)
            """)
    }

    /// In the caller's transaction, as the job goes dead: `job.dead` to the operators' targets
    /// that want it, so that a batch left `processing` by it does not wait unseen. Once per death:
    /// a job revived and dead again is alerted again.
    static func alertDead(_ c: any SQLConnection, job: Job, error: String, now: Date) async throws {
        // The alert leaves the agency's systems: a document in the error (a row's, in a
        // constraint's message) goes with its middle hidden, as in the logs.
        let payload = try AlertPayload.jobDead(job: job.id, kind: job.kind.rawValue, batchID: job.batchID, seq: job.seq, attempts: job.attempts,
                                               error: TaxID.redactingDocuments(in: String(error.prefix(500)))).json()
        try await NotificationStore.enqueueAlert(c, event: .jobDead, subjectID: "job-\(job.id)-\(Int(now.timeIntervalSince1970 * 1000))",
                                                 payload: payload, now: now)
    }

    /// Puts a claimed job back for later without counting the attempt: it was not its turn.
    public func postpone(job: Job, owner: String, seconds: Double, now: Date = Date()) async throws {
        try await db.write { c in
            try await c.execute("""
                UPDATE jobs SET state = 'queued', attempts = attempts - 1, run_at = \(now.addingTimeInterval(seconds)),
                       lease_owner = NULL, lease_expires_at = NULL, updated_at = \(now)
                WHERE id = \(job.id) AND lease_owner = \(owner) AND state = 'running'
                """)
        }
    }

    /// Marks a job dead at once: it was claimed more times than it may be (it keeps killing its worker).
    public func bury(job: Job, reason: String, now: Date = Date()) async throws {
        try await db.write { c in
            let changed = try await c.execute("""
                UPDATE jobs SET state = 'dead', lease_owner = NULL, lease_expires_at = NULL, last_error = \(reason),
                       updated_at = \(now) WHERE id = \(job.id) AND state <> 'dead'
                """)
            if changed == 1 { try await Self.died(c, job: job, error: reason, now: now) }
        }
    }

    public func list(state: JobState?, limit: Int = 200) async throws -> [Job] {
        let filter: SQL = state.map { "WHERE state = \($0.rawValue)" } ?? ""
        return try await db.query("SELECT \(raw: JobQueue.columns) FROM jobs \(filter) ORDER BY id LIMIT \(limit)").map(JobQueue.job)
    }

    public func get(id: Int) async throws -> Job? {
        try await db.query("SELECT \(raw: JobQueue.columns) FROM jobs WHERE id = \(id)").first.map(JobQueue.job)
    }

    /// Puts a dead job back in the queue with a fresh set of attempts.
    public func retryDead(id: Int, by actor: AuditActor, now: Date = Date()) async throws -> Bool {
        try await db.write { c in
            guard let job = try await c.query("SELECT \(raw: JobQueue.columns) FROM jobs WHERE id = \(id)\(c.forUpdate)").first.map(JobQueue.job),
                  try await c.execute("""
                      UPDATE jobs SET state = 'queued', attempts = 0, run_at = \(now), last_error = NULL, updated_at = \(now)
                      WHERE id = \(id) AND state = 'dead'
                      """) == 1 else { return false }
            try await Self.revived(c, job: job, now: now)
            try await AuditLog.record(c, actor, action: "job.retry", target: "job:\(id)",
                                      before: AuditLog.values(["state": "dead", "attempts": "\(job.attempts)",
                                                             "last_error": job.lastError.map { TaxID.redactingDocuments(in: String($0.prefix(200))) }]),
                                      after: AuditLog.values(["state": "queued", "attempts": "0", "batch": job.batchID, "kind": job.kind.rawValue]),
                                      now: now)
            return true
        }
    }

    public func countsByState() async throws -> [JobState: Int] {
        var out: [JobState: Int] = [:]
        for r in try await db.query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state") {
            out[try r.known("state", as: JobState.self)] = try r.int("n")
        }
        return out
    }
}
