import EsteiraCore
import EsteiraStore
import EsteiraTelemetry
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
        // The failures of each stage this worker runs, at zero until the first: the alerts and the
        // dashboard read a rate of them.
        for kind in settings.kinds { Counter(label: MetricName.jobFailures, dimensions: [("stage", kind.rawValue)]).increment(by: 0) }
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
        let queue = pipeline.queue, kinds = settings.kinds, lease = settings.leaseSeconds
        // Bounded like the queue's other writes (see `queueWrite`): a claim that never answers would
        // hold the slot for ever. If it answers later, its job's lease runs out and it is claimed again.
        guard let job = try await bounded(seconds: lease, {
            try await queue.claim(kinds: kinds, owner: owner, lease: lease, prefer: prefer)
        }) else {
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
        let grace = settings.graceSeconds, timeout = settings.jobTimeoutSeconds
        let work = Task { try await pipeline.run(job, owner: owner) }
        switch await race(work, alarms: [
            { @Sendable in
                try await gracefulShutdown()
                try await Task.sleep(for: .seconds(grace))
                return Ending.releasedAtShutdown
            },
            { @Sendable in
                try await Task.sleep(for: .seconds(timeout))
                return Ending.timedOut
            },
        ]) {
        case .ended(let result):
            try result.get()
            return .finished
        case .alarm(let ending):
            return ending
        }
    }

    func process(_ job: Job, owner: String) async {
        var log = pipeline.logger
        log[metadataKey: "job_id"] = "\(job.id)"
        log[metadataKey: "stage"] = "\(job.kind.rawValue)"
        log[metadataKey: "batch_id"] = "\(job.batchID)"
        log[metadataKey: "trace_id"] = "\(job.traceID)"
        if job.seq >= 0 { log[metadataKey: "sub_batch"] = "\(job.seq)" }

        let queue = pipeline.queue, lease = settings.leaseSeconds
        if job.attempts > job.maxAttempts {
            log.error("job buried: claimed more often than it may be", metadata: ["attempts": "\(job.attempts)"])
            await queueWrite("bury the job", log: log) {
                try await queue.bury(job: job, reason: "claimed \(job.attempts) times; its worker died each time")
            }
            return
        }

        let started = ContinuousClock.now
        // Renew the lease while the job runs, every third of it; a renewal that fails or does not
        // answer (the database restarting) is tried again at the next turn.
        let renewal = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(lease / 3))
                do {
                    let held = try await bounded(seconds: lease / 3) {
                        try await queue.renew(jobID: job.id, owner: owner, lease: lease)
                    }
                    if !held { log.warning("lease lost while running"); return }
                } catch {
                    log.debug("lease not renewed this turn", metadata: ["error": "\(error)"])
                }
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
                await queueWrite("release the job", log: log) { try await queue.postpone(job: job, owner: owner, seconds: 0) }
                log.warning("job released at shutdown: it did not finish within the grace period",
                            metadata: ["grace_seconds": "\(settings.graceSeconds)"])
                return
            case .timedOut:
                log.error("job timed out; abandoning it", metadata: ["timeout_seconds": "\(settings.jobTimeoutSeconds)"])
                // Counted as a failed attempt: it retries with backoff, on any worker.
                let error = "timed out after \(settings.jobTimeoutSeconds) s"
                let state = await queueWrite("record the timeout", log: log) {
                    try await queue.fail(job: job, owner: owner, error: error)
                } ?? .running
                log.debug("timeout recorded", metadata: ["state": "\(state.rawValue)"])
                return
            }
            let elapsed = ContinuousClock.now - started
            Timer(label: MetricName.stageDuration, dimensions: [("stage", job.kind.rawValue)])
                .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
            log.debug("job done", metadata: ["ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)"])
        } catch StoreError.leaseLost {
            log.warning("job not committed: its lease was lost to another worker")
        } catch let wait as NotYet {
            log.debug("job postponed", metadata: ["reason": "\(wait.reason)"])
            let delay = wait.delay
            if await queueWrite("postpone the job", log: log, { try await queue.postpone(job: job, owner: owner, seconds: delay) }) != nil {
                // The job is due again in a moment: wake a slot then, not at its next poll.
                let doorbell = self.doorbell
                Task {
                    try? await Task.sleep(for: .seconds(delay))
                    await doorbell.ring()
                }
            }
        } catch {
            Counter(label: MetricName.jobFailures, dimensions: [("stage", job.kind.rawValue)]).increment()
            let message = "\(error)"
            let state = await queueWrite("record the failure", log: log) {
                try await queue.fail(job: job, owner: owner, error: message)
            } ?? .running
            if state == .dead {
                log.error("job dead after its last attempt", metadata: ["error": "\(error)", "attempts": "\(job.attempts)"])
            } else {
                log.warning("job failed; will retry", metadata: ["error": "\(error)", "attempts": "\(job.attempts)"])
            }
        }
    }

    /// A write to the queue about a job in hand (its failure, release or postponement), bounded by
    /// a lease. PostgresNIO 1.33 was seen to leave a write begun while PostgreSQL restarted waiting
    /// for ever, and the slot, waiting with it, renewed the job's lease for ever: the batch never
    /// ended. Past the bound the slot lets the job go; its lease runs out and any worker takes it again.
    /// Within the bound, a write that fails on a lost connection is tried again, after 0.25 s, 0.5 s,
    /// and so on up to 2 s: in a restart, the write that records a failure often meets a connection
    /// that just closed, and giving up on it cost a whole lease. The writes are safe to repeat: each
    /// changes the job only while this slot holds it.
    /// Returns nil when the write failed or did not answer.
    @discardableResult
    func queueWrite<T: Sendable>(_ what: String, log: Logger, _ write: @escaping @Sendable () async throws -> T) async -> T? {
        do {
            return try await bounded(seconds: settings.leaseSeconds) {
                let pauses = RetryPolicy(baseSeconds: 0.25, capSeconds: 2)
                var attempt = 1
                while true {
                    do {
                        return try await write()
                    } catch let error as SQLError where error.code == .connection {
                        try await Task.sleep(for: .seconds(pauses.ceiling(afterAttempt: attempt)))
                        attempt += 1
                    }
                }
            }
        } catch {
            log.warning("could not \(what); its lease will run out", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
