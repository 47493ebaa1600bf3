import EsteiraBlobs
import EsteiraCore
import EsteiraLake
import EsteiraStore
import Foundation
import Logging

/// One step of a lake run (`LakeStep`: raw, curate faturas, curate pagamentos, book), as a job of
/// kind `lake` whose batch is the run's id and whose sequence number is the step. When the step is
/// done, one transaction records it in the run, queues the next step (or ends the run `completed`)
/// and completes the job. A file refused whole ends the run `failed` with its LK-code; any other
/// failure is recorded in the step (`retrying`, with the error) and the job retries with backoff;
/// after the last attempt the run ends `failed` and the job is dead (`esteira jobs retry` revives it).
struct LakeStage {
    let pipeline: Pipeline

    /// In the caller's transaction: a new run of `month` and its first job; with `landed`, the
    /// files are already in raw (the command landed local files) and the first job curates.
    static func start(_ c: any SQLConnection, id: String = LakeRunStore.newID(), month: LakeMonth, reference: Day, landed: LakeRunner.StepResult?,
                      landedAt: Date, retry: RetryPolicy) async throws -> String {
        _ = try await LakeRunStore.create(c, id: id, month: month.description, referenceDate: reference, now: landedAt)
        var first = LakeStep.raw
        if let landed {
            try await LakeRunStore.record(c, id: id, step: LakeRunner.stepRecord(.raw, details: landed.details, status: "completed",
                                                                                  attempts: 1, started: landedAt), inputs: landed.inputs)
            first = .curateFaturas
        }
        try await JobQueue.enqueue(c, .lakeStep(runID: id, step: first.rawValue), traceID: "lake-\(id)", maxAttempts: retry.maxAttempts)
        return id
    }

    func run(_ job: Job, owner: String) async throws {
        let runs = LakeRunStore(db: pipeline.db)
        guard case .lakeStep(let runID, let stepNumber) = job.payload, let step = LakeStep(rawValue: stepNumber),
              let run = try await runs.get(id: runID) else {
            throw StageInvariantError(description: "lake job \(job.id) (\(job.payload)): no such run or step")
        }
        var log = pipeline.logger
        log[metadataKey: "month"] = "\(run.month)"
        log[metadataKey: "lake_run"] = "\(run.id)"
        log[metadataKey: "step"] = "\(step.name)"
        // A completed run has nothing left to do; a failed one runs again only through a dead
        // step revived (`esteira jobs retry`), which puts it back to running when it succeeds.
        if run.status == "completed" {
            try await pipeline.db.write { c in try await JobQueue.complete(c, job: job, owner: owner) }
            return
        }
        let started = Date()
        do {
            let result = try await LakeRunner(blobs: pipeline.blobs).perform(step, run: run)
            let record = LakeRunner.stepRecord(step, details: result.details, status: "completed", attempts: job.attempts, started: started)
            try await pipeline.db.write(durable: true) { c in
                if let next = step.next {
                    try await LakeRunStore.record(c, id: run.id, step: record, inputs: result.inputs,
                                                  status: run.status == "failed" ? "running" : nil)
                    try await JobQueue.enqueue(c, .lakeStep(runID: run.id, step: next.rawValue), traceID: job.traceID,
                                               maxAttempts: job.maxAttempts)
                } else {
                    try await LakeRunStore.record(c, id: run.id, step: record, inputs: result.inputs, status: "completed")
                    // The month's run is done: the operators' targets that ask for it hear so.
                    let payload = try AlertPayload.lakeRunCompleted(month: run.month, run: run.id).json()
                    try await NotificationStore.enqueueAlert(c, event: .lakeRunCompleted, subjectID: "lake-run-\(run.id)-completed",
                                                             payload: payload)
                }
                try await JobQueue.complete(c, job: job, owner: owner)
            }
            log.info("lake step done", metadata: ["attempts": "\(job.attempts)"])
            if step.next == nil { await warnOverBudget(log, run: run) }
        } catch let problem as LakeFile.Problem {
            log.error("lake file refused", metadata: ["problem": "\(problem)"])
            let record = LakeRunner.stepRecord(step, status: "failed", attempts: job.attempts, started: started, error: "\(problem)")
            try await pipeline.db.write(durable: true) { c in
                try await LakeRunStore.record(c, id: run.id, step: record, status: "failed", error: "\(problem)")
                try await Self.alertFailed(c, run: run, step: step, error: "\(problem)")
                try await JobQueue.complete(c, job: job, owner: owner)
            }
        } catch {
            // Recorded for whoever watches the run; the job itself retries (or dies) by the worker.
            let last = job.attempts >= job.maxAttempts
            let record = LakeRunner.stepRecord(step, status: last ? "failed" : "retrying", attempts: job.attempts,
                                               started: started, error: "\(error)")
            do {
                try await pipeline.db.write(durable: true) { c in
                    try await LakeRunStore.record(c, id: run.id, step: record, status: last ? "failed" : nil,
                                                  error: last ? "\(step.name): \(error)" : nil)
                    if last { try await Self.alertFailed(c, run: run, step: step, error: "\(error)") }
                }
            } catch let recording {
                log.warning("lake step failure not recorded", metadata: ["error": "\(recording)"])
            }
            throw error
        }
    }

    /// In the caller's transaction: `lake.run_failed` to the operators' targets.
    static func alertFailed(_ c: any SQLConnection, run: LakeRunRecord, step: LakeStep, error: String) async throws {
        let payload = try AlertPayload.lakeRunFailed(month: run.month, run: run.id, step: step.name, error: error).json()
        try await NotificationStore.enqueueAlert(c, event: .lakeRunFailed, subjectID: "lake-run-\(run.id)-\(step.rawValue)", payload: payload)
    }

    /// Passing the lake's storage budget is an alert: in the log (and in /metrics), and
    /// `lake.over_budget` to the operators' targets, once per run that ends over it.
    func warnOverBudget(_ log: Logger, run: LakeRunRecord) async {
        guard let budget = pipeline.lakeBudgetBytes, let layers = try? await pipeline.blobs.lakeStorage() else { return }
        let total = layers.values.reduce(0) { $0 + $1.bytes }
        guard total > budget else { return }
        log.warning("lake storage over budget", metadata: ["bytes": "\(total)", "budget": "\(budget)"])
        do {
            let payload = try AlertPayload.lakeOverBudget(month: run.month, run: run.id, bytes: total, budget: budget).json()
            try await pipeline.db.write(durable: true) { c in
                try await NotificationStore.enqueueAlert(c, event: .lakeOverBudget, subjectID: "lake-budget-\(run.id)", payload: payload)
            }
        } catch {
            log.warning("lake budget alert not queued", metadata: ["error": "\(error)"])
        }
    }
}

/// Starting and following lake runs, for the inbox watcher and the command.
public enum LakeRuns {
    /// A new run of `month` as of `reference`, its first step queued; with `files`, they are
    /// landed in raw first (they are local to the caller, which a worker elsewhere could not read).
    /// `actor`: the operator who asked, recorded in the audit in the run's own transaction.
    public static func start(pipeline: Pipeline, month: LakeMonth, reference: Day, files: [LakeRunner.Input]? = nil,
                             by actor: AuditActor? = nil) async throws -> String {
        let landedAt = Date(), id = LakeRunStore.newID()
        let landed: LakeRunner.StepResult? = if let files {
            try await LakeRunner(blobs: pipeline.blobs).land(month: month, run: id, files: files)
        } else {
            nil
        }
        return try await pipeline.db.write(durable: true) { c in
            if let actor {
                try await AuditLog.record(c, actor, action: "lake.run", target: "lake_run:\(id)", before: nil,
                                          after: AuditLog.values(["month": month.description, "reference_date": reference.iso]))
            }
            return try await LakeStage.start(c, id: id, month: month, reference: reference, landed: landed, landedAt: landedAt,
                                             retry: pipeline.retry)
        }
    }

    /// Runs lake jobs in this process (with `worker`) until run `id` has ended; another process's
    /// workers may take some of its steps meanwhile. `progress` hears of each step that changed.
    public static func follow(id: String, pipeline: Pipeline, worker: Worker, owner: String,
                              progress: (_ step: LakeStepRecord) -> Void = { _ in }) async throws -> LakeRunRecord {
        var seen: [String: String] = [:]
        while true {
            guard let run = try await LakeRunStore(db: pipeline.db).get(id: id) else { throw StoreError.notFound("lake run \(id)") }
            for step in try run.stepList() {
                let mark = "\(step.status)/\(step.attempts)"
                if seen[step.name] != mark {
                    seen[step.name] = mark
                    progress(step)
                }
            }
            if run.isFinished { return run }
            if try await !worker.runNext(owner: owner) { try await Task.sleep(for: .milliseconds(100)) }
        }
    }
}
