import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import EsteiraTelemetry
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Watches the lake inbox (`lake/inbox/` in the blob store) for the previous and the current
/// month: when both files of a month are there and the month has never run, its run starts (its
/// first step queued as a `lake` job; `esteira lake run` runs a month again). From `dueDay` of a month on, the previous
/// month's files are late while either is missing: an error in the log (once per process and
/// month), the gauge `esteira_lake_files_late` at 1 until they arrive, and the alert
/// `lake.files_late` to the operators' targets (`/v1/admin/alert-targets`), once per month and target.
/// Only once the lake is in use: an earlier month has run, or `expectedFrom` (a setting) names a
/// month not after this one. A fresh installation that has never fed the lake hears nothing.
public struct LakeInboxWatcher: Service {
    let db: any SQLDatabase
    let blobs: any BlobStore
    let logger: Logger
    let interval: Duration
    let dueDay: Int
    /// The first month whose files are expected even before any month has run.
    let expectedFrom: LakeMonth?
    let retry: RetryPolicy
    let jobsReady: @Sendable () async -> Void

    public init(db: any SQLDatabase, blobs: any BlobStore, logger: Logger, interval: Duration = .seconds(60), dueDay: Int = 5,
                expectedFrom: LakeMonth? = nil, retry: RetryPolicy = RetryPolicy(), jobsReady: @escaping @Sendable () async -> Void = {}) {
        self.db = db
        self.expectedFrom = expectedFrom
        self.blobs = blobs
        self.logger = logger
        self.interval = interval
        self.dueDay = dueDay
        self.retry = retry
        self.jobsReady = jobsReady
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var warned: Set<String> = []
            while !Task.isCancelled {
                do { try await scan(today: Day(Date(), in: Day.saoPaulo), warned: &warned) } catch {
                    logger.warning("lake inbox: cannot look", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    func present(_ key: String) async throws -> Bool {
        do {
            _ = try await blobs.size(key: key)
            return true
        } catch let e as BlobError where e.code == .notFound {
            return false
        }
    }

    func scan(today: Day, warned: inout Set<String>) async throws {
        let current = LakeMonth(today)
        for lakeMonth in [current.adding(months: -1), current] {
            let month = lakeMonth.description
            var missing: [String] = []
            for table in LakeTable.allCases where try await !present(lakeMonth.inboxKey(table)) { missing.append(lakeMonth.fileName(table)) }
            if missing.isEmpty {
                let started = try await db.write(durable: true) { c -> String? in
                    if try await LakeRunStore.exists(c, month: month) { return nil }
                    return try await LakeStage.start(c, month: lakeMonth, reference: lakeMonth.adding(months: 1).first, landed: nil,
                                                     landedAt: Date(), retry: retry)
                }
                if let started {
                    logger.info("lake month queued", metadata: ["month": "\(month)", "lake_run": "\(started)"])
                    await jobsReady()
                }
            }
            // The previous month's files are due by `dueDay` of this one.
            if lakeMonth != current {
                var late = !missing.isEmpty && today.day >= dueDay
                if late, !(expectedFrom.map { $0.first <= lakeMonth.first } ?? false) {
                    late = try await LakeRunStore(db: db).hasRun(before: month)
                }
                Gauge(label: MetricName.lakeFilesLate).record(late ? 1 : 0)
                if late && !warned.contains(month) {
                    warned.insert(month)
                    logger.error("lake files late", metadata: ["month": "\(month)", "missing": "\(missing.joined(separator: ", "))",
                                                               "due_day": "\(dueDay)"])
                }
                if late {
                    // To the operators' webhooks and addresses, once per month and target (across processes):
                    // a target added later still hears of a month that is late.
                    let payload = try AlertPayload.lakeFilesLate(month: month, missing: missing, dueDay: dueDay).json()
                    let sent = try await db.write(durable: true) { c in
                        try await NotificationStore.enqueueAlert(c, event: .lakeFilesLate, subjectID: "lake-\(month)", payload: payload)
                    }
                    if sent { logger.info("lake files late: alert queued", metadata: ["month": "\(month)"]) }
                }
            }
        }
    }
}
