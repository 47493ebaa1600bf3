import EsteiraStore
import Foundation
import Logging
import ServiceLifecycle

/// Recomputes the ledger's balances from its entries, on a schedule (every `interval`; a day by
/// default) and on demand (`esteira ledger reconcile`). A difference is an error in the logs. What
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

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { return }
                do { try await runOnce() } catch { logger.warning("ledger reconciliation failed", metadata: ["error": "\(error)"]) }
            }
        }
    }
}
