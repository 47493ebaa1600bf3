import EsteiraCore
import EsteiraStore
import Foundation
import Logging
import ServiceLifecycle

/// Recomputes the ledger's balances from its entries, on a schedule (every `interval`; a day by
/// default; once per interval however many processes run it, see `nextRun`) and on demand
/// (`esteira ledger reconcile`). A difference is an error in the logs. What
/// it found is kept in the database, and every process's `/metrics` reports the last one
/// (`esteira_ledger_differences`, `esteira_ledger_reconciled_at_seconds`).
public struct LedgerReconciler: Service {
    let store: LedgerStore
    let logger: Logger
    let interval: Duration

    public init(db: any SQLDatabase, logger: Logger, interval: Duration = .seconds(86_400)) {
        store = LedgerStore(db: db)
        self.logger = logger
        self.interval = interval
    }

    @discardableResult
    public func runOnce() async throws -> (accounts: Int, days: Int, differences: [LedgerDifference]) {
        let started = ContinuousClock.now
        let report = try await store.reconcile()
        try await store.record(accounts: report.accounts, days: report.days, differences: report.differences)
        let metadata: Logger.Metadata = [
            "accounts": "\(report.accounts)", "account_days": "\(report.days)", "differences": "\(report.differences.count)",
            "ms": "\((ContinuousClock.now - started) / .milliseconds(1))",
        ]
        if report.differences.isEmpty {
            logger.info("ledger reconciled", metadata: metadata)
        } else {
            var m = metadata
            m["first"] = "\(LedgerStore.firstDifferences(report.differences))"
            logger.error("ledger balances differ from their entries", metadata: m)
        }
        return report
    }

    /// When the next scheduled reconciliation is due, given the last one kept by any process.
    /// Several processes run this schedule (every serve or worker with workers), and one
    /// reconciliation per interval is enough: a process whose turn comes within 90% of an interval
    /// after another's skips it, and looks again a twentieth of an interval after the other's next.
    /// So one process reconciles each interval, and another takes over when it stops.
    public static func nextRun(lastRanAt: Date?, now: Date, interval: Duration) -> (due: Bool, wait: Duration) {
        let period = interval.seconds
        guard let lastRanAt else { return (true, interval) }
        let age = now.timeIntervalSince(lastRanAt)
        guard age >= 0, age < period * 0.9 else { return (true, interval) }
        return (false, .milliseconds(Int64((period - age + period / 20) * 1_000)))
    }

    /// Reconciles when no process has within the last 90% of an interval; returns whether it did,
    /// and how long to wait before looking again.
    @discardableResult
    public func runIfDue(now: Date = Date()) async throws -> (ran: Bool, wait: Duration) {
        let next = Self.nextRun(lastRanAt: try await store.lastReconciliation()?.ranAt, now: now, interval: interval)
        guard next.due else {
            logger.debug("ledger reconciled by another process lately; skipped", metadata: ["next_in": "\(next.wait)"])
            return (false, next.wait)
        }
        try await runOnce()
        return (true, next.wait)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var wait = interval
            while !Task.isCancelled {
                try? await Task.sleep(for: wait)
                if Task.isCancelled { return }
                do {
                    wait = try await runIfDue().wait
                } catch {
                    wait = interval
                    logger.warning("ledger reconciliation failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
