import EsteiraCore
import EsteiraStore
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Claims jobs and runs them, `concurrency` at a time, until graceful shutdown: then it claims no
/// more, and the jobs in hand finish (or, if the process is killed, their leases run out and
/// another worker takes them).
public struct Worker: Service {
    public struct Settings: Sendable {
        public var kinds: [JobKind] = JobKind.allCases
        public var concurrency: Int = 2
        /// How long a claim holds a job before another worker may take it; renewed at a third of it.
        public var leaseSeconds: Double = 30
        /// How long an idle worker waits before looking again.
        public var pollSeconds: Double = 0.1
        /// After SIGTERM, how long jobs in hand may take to finish; then they are released for
        /// another worker (their effects roll back; every step is idempotent).
        public var graceSeconds: Double = 30
        /// A job still running after this long is abandoned and retried: something it awaits
        /// (a connection lost in a database restart, say) will not answer. Its lease would
        /// otherwise be renewed for ever.
        public var jobTimeoutSeconds: Double = 900

        public init() {}
    }

    let pipeline: Pipeline
    let settings: Settings
    let owner: String
    let doorbell = Doorbell()

    public init(pipeline: Pipeline, settings: Settings) {
        self.pipeline = pipeline
        self.settings = settings
        self.owner = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8))"
    }

    /// Wakes the idle slots: someone in this process just enqueued a job.
    public func wake() async {
        await doorbell.ring()
    }

    public func run() async throws {
        pipeline.logger.info("worker started", metadata: [
            "owner": "\(owner)", "concurrency": "\(settings.concurrency)",
            "stages": "\(settings.kinds.map(\.rawValue).joined(separator: ","))",
        ])
        // Other processes' enqueues (PostgreSQL NOTIFY) ring the same doorbell as this process's.
        let signals = pipeline.db.jobSignals(logger: pipeline.logger)
        let listener = Task {
            guard let signals else { return }
            for await _ in signals { await doorbell.ring() }
        }
        await withDiscardingTaskGroup { group in
            for slot in 0..<max(1, settings.concurrency) {
                group.addTask { await self.loop(slot: slot) }
            }
        }
        listener.cancel()
        pipeline.logger.info("worker stopped", metadata: ["owner": "\(owner)"])
    }

    func loop(slot: Int) async {
        let owner = "\(self.owner)/\(slot)"
        // Every slot takes later stages first. (Splitting slots between later-first and earlier-first
        // was measured slower on SQLite: the transform slot's small writes queue behind the register
        // transaction on the single writer either way.)
        let prefer: JobQueue.Preference = .laterStages
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if try await runNext(owner: owner, prefer: prefer) { continue }
                pipeline.logger.trace("slot idle", metadata: ["owner": "\(owner)"])
                await doorbell.wait(seconds: settings.pollSeconds)
            } catch {
                pipeline.logger.error("claim failed", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Claims one ready job and runs it to its end (done, postponed, retried later or dead).
    /// Returns false when no job was ready.
    public func runNext(owner: String, prefer: JobQueue.Preference = .laterStages) async throws -> Bool {
        guard let job = try await pipeline.queue.claim(kinds: settings.kinds, owner: owner, lease: settings.leaseSeconds,
                                                       prefer: prefer) else {
            return false
        }
        pipeline.logger.trace("job claimed", metadata: ["owner": "\(owner)", "stage": "\(job.kind.rawValue)", "sub_batch": "\(job.seq)"])
        await doorbell.ring()
        await process(job, owner: owner)
        await doorbell.ring()
        return true
    }

    /// How a job's run ended, seen from the worker.
    enum Ending: Sendable {
        case finished
        /// Graceful shutdown began and the grace period ran out first.
        case releasedAtShutdown
        /// The job ran longer than `jobTimeoutSeconds`: something it awaits is stuck.
        case timedOut
    }

    /// Runs the job, bounded by the grace period after shutdown begins and by the job timeout.
    /// When a bound is reached the job is cancelled and left to end in the background (its
    /// transaction cannot commit once its lease is given up), and the slot moves on.
    func runBounded(_ job: Job, owner: String) async throws -> Ending {
        let work = Task { try await pipeline.run(job, owner: owner) }
        let grace = settings.graceSeconds, timeout = settings.jobTimeoutSeconds
        let ending: Ending = await withCheckedContinuation { (continuation: CheckedContinuation<Ending, Never>) in
            let outcome = FirstAnswer(continuation)
            // Unstructured tasks inherit the task locals that carry the graceful-shutdown signal.
            let shutdown = Task {
                do {
                    try await gracefulShutdown()
                    try await Task.sleep(for: .seconds(grace))
                    outcome.resolve(.releasedAtShutdown)
                } catch {}
            }
            let watchdog = Task {
                do {
                    try await Task.sleep(for: .seconds(timeout))
                    outcome.resolve(.timedOut)
                } catch {}
            }
            Task {
                _ = await work.result
                shutdown.cancel()
                watchdog.cancel()
                outcome.resolve(.finished)
            }
        }
        if ending != .finished {
            work.cancel()
            return ending
        }
        try await work.value
        return .finished
    }

    func process(_ job: Job, owner: String) async {
        var log = pipeline.logger
        log[metadataKey: "job_id"] = "\(job.id)"
        log[metadataKey: "stage"] = "\(job.kind.rawValue)"
        log[metadataKey: "batch_id"] = "\(job.batchID)"
        log[metadataKey: "trace_id"] = "\(job.traceID)"
        if job.seq >= 0 { log[metadataKey: "sub_batch"] = "\(job.seq)" }

        if job.attempts > job.maxAttempts {
            log.error("job buried: claimed more often than it may be", metadata: ["attempts": "\(job.attempts)"])
            try? await pipeline.queue.bury(job: job, reason: "claimed \(job.attempts) times; its worker died each time")
            return
        }

        let started = ContinuousClock.now
        // Renew the lease while the job runs.
        let renewal = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(settings.leaseSeconds / 3))
                let held = try await pipeline.queue.renew(jobID: job.id, owner: owner, lease: settings.leaseSeconds)
                if !held { log.warning("lease lost while running"); return }
            }
        }
        defer { renewal.cancel() }
        do {
            switch try await runBounded(job, owner: owner) {
            case .finished:
                break
            case .releasedAtShutdown:
                // Give the job back without using an attempt. Its own transaction, if it is still
                // going, will find the lease gone and roll back.
                try? await pipeline.queue.postpone(job: job, owner: owner, seconds: 0)
                log.warning("job released at shutdown: it did not finish within the grace period",
                            metadata: ["grace_seconds": "\(settings.graceSeconds)"])
                return
            case .timedOut:
                // Counted as a failed attempt: it retries with backoff, on any worker.
                let state = (try? await pipeline.queue.fail(
                    job: job, owner: owner, error: "timed out after \(settings.jobTimeoutSeconds) s")) ?? .running
                log.error("job timed out; abandoned", metadata: [
                    "timeout_seconds": "\(settings.jobTimeoutSeconds)", "state": "\(state.rawValue)"])
                return
            }
            let elapsed = ContinuousClock.now - started
            Timer(label: "esteira_stage_duration_seconds", dimensions: [("stage", job.kind.rawValue)])
                .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
            log.debug("job done", metadata: ["ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)"])
        } catch StoreError.leaseLost {
            log.warning("job not committed: its lease was lost to another worker")
        } catch let wait as NotYet {
            log.debug("job postponed", metadata: ["reason": "\(wait.reason)"])
            do {
                try await pipeline.queue.postpone(job: job, owner: owner, seconds: wait.delay)
                // The job is due again in a moment: wake a slot then, not at its next poll.
                let doorbell = self.doorbell
                Task {
                    try? await Task.sleep(for: .seconds(wait.delay))
                    await doorbell.ring()
                }
            } catch {
                log.warning("could not postpone job; its lease will run out", metadata: ["error": "\(error)"])
            }
        } catch {
            Counter(label: "esteira_job_failures_total", dimensions: [("stage", job.kind.rawValue)]).increment()
            let state = (try? await pipeline.queue.fail(job: job, owner: owner, error: "\(error)")) ?? .running
            if state == .dead {
                log.error("job dead after its last attempt", metadata: ["error": "\(error)", "attempts": "\(job.attempts)"])
            } else {
                log.warning("job failed; will retry", metadata: ["error": "\(error)", "attempts": "\(job.attempts)"])
            }
        }
    }
}
