import Foundation

/// The body of a batch's webhook (`batch.completed`, `batch.completed_with_rejects`,
/// `batch.failed`), and what its e-mail is made from: a public contract (docs/notifications.md).
/// Keys sorted; absent values are `null`, not missing.
public struct BatchEventPayload: Codable, Equatable, Sendable {
    public struct Batch: Codable, Equatable, Sendable {
        public struct Counts: Codable, Equatable, Sendable {
            public var received: Int
            public var registered: Int
            /// Absent from payloads written before files carried corrections and withdrawals.
            public var updated: Int?
            public var withdrawn: Int?
            public var duplicates: Int
            public var rejected: Int
            /// Absent from payloads written before the review count existed.
            public var review: Int?

            public init(received: Int, registered: Int, updated: Int?, withdrawn: Int?, duplicates: Int, rejected: Int, review: Int?) {
                self.received = received
                self.registered = registered
                self.updated = updated
                self.withdrawn = withdrawn
                self.duplicates = duplicates
                self.rejected = rejected
                self.review = review
            }
        }

        public var id: String
        public var status: String
        public var source: String
        @Nullable public var fileName: String?
        public var counts: Counts
        @Nullable public var errorCode: String?
        @Nullable public var error: String?
        @Nullable public var traceID: String?
        /// ISO 8601, seconds.
        @Nullable public var finishedAt: String?
        /// The step that stopped and why, for `batch.stalled`; null otherwise.
        @Nullable public var stalled: BatchStall?

        enum CodingKeys: String, CodingKey {
            case id, status, source, fileName = "file_name", counts, errorCode = "error_code", error, traceID = "trace_id", finishedAt = "finished_at"
            case stalled
        }

        public init(id: String, status: String, source: String, fileName: String?, counts: Counts, errorCode: String?, error: String?,
                    traceID: String?, finishedAt: String?, stalled: BatchStall? = nil) {
            self.id = id
            self.status = status
            self.source = source
            self.fileName = fileName
            self.counts = counts
            self.errorCode = errorCode
            self.error = error
            self.traceID = traceID
            self.finishedAt = finishedAt
            self.stalled = stalled
        }
    }

    public var event: String
    public var batch: Batch

    public init(event: String, batch: Batch) {
        self.event = event
        self.batch = batch
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// The body of an operators' alert (`job.dead`, `notification.dead`, `lake.files_late`,
/// `lake.run_failed`, `lake.run_completed`, `lake.over_budget`), and what its e-mail is made from: a public contract
/// (docs/notifications.md). Each alert carries the fields of its kind; the others are absent.
public struct AlertPayload: Codable, Equatable, Sendable {
    public var event: String
    // lake.*
    public var month: String?
    public var missing: [String]?
    public var dueDay: Int?
    public var run: String?
    public var step: String?
    public var bytes: Int?
    public var budget: Int?
    // job.dead
    public var job: Int?
    public var kind: String?
    public var batchID: String?
    public var seq: Int?
    public var attempts: Int?
    // notification.dead (with attempts and error)
    public var notification: Int?
    public var clientID: String?
    public var notificationEvent: String?
    public var channel: String?
    // lake.run_failed, job.dead, notification.dead
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case event, month, missing, dueDay = "due_day", run, step, bytes, budget, job, kind, batchID = "batch_id", seq, attempts, error
        case notification, clientID = "client_id", notificationEvent = "notification_event", channel
    }

    public init(event: String) {
        self.event = event
    }

    public static func jobDead(job: Int, kind: String, batchID: String, seq: Int, attempts: Int, error: String) -> AlertPayload {
        var p = AlertPayload(event: "job.dead")
        (p.job, p.kind, p.batchID, p.seq, p.attempts, p.error) = (job, kind, batchID, seq, attempts, error)
        return p
    }

    /// A client's notification given up after its last attempt: `subject` is what it was about
    /// (a batch, a debt, a ledger request).
    public static func notificationDead(notification: Int, clientID: String, event: String, channel: String, subject: String,
                                        attempts: Int, error: String) -> AlertPayload {
        var p = AlertPayload(event: "notification.dead")
        (p.notification, p.clientID, p.notificationEvent, p.channel, p.batchID, p.attempts, p.error)
            = (notification, clientID, event, channel, subject, attempts, error)
        return p
    }

    public static func lakeRunCompleted(month: String, run: String) -> AlertPayload {
        var p = AlertPayload(event: "lake.run_completed")
        (p.month, p.run) = (month, run)
        return p
    }

    public static func lakeFilesLate(month: String, missing: [String], dueDay: Int) -> AlertPayload {
        var p = AlertPayload(event: "lake.files_late")
        (p.month, p.missing, p.dueDay) = (month, missing, dueDay)
        return p
    }

    public static func lakeRunFailed(month: String, run: String, step: String, error: String) -> AlertPayload {
        var p = AlertPayload(event: "lake.run_failed")
        (p.month, p.run, p.step, p.error) = (month, run, step, error)
        return p
    }

    public static func lakeOverBudget(month: String, run: String, bytes: Int, budget: Int) -> AlertPayload {
        var p = AlertPayload(event: "lake.over_budget")
        (p.month, p.run, p.bytes, p.budget) = (month, run, bytes, budget)
        return p
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
