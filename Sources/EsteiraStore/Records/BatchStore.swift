import EsteiraCore
import Foundation

public struct BatchRecord: Sendable, Equatable {
    public var id: String
    public var clientID: String
    public var status: BatchStatus
    public var source: String
    public var fileName: String?
    public var blobKey: String
    public var byteSize: Int
    public var receivedOn: Day
    public var subBatchSize: Int
    public var encoding: String?
    public var delimiter: String?
    public var layout: String?
    public var counts: BatchCounts
    public var subBatches: Int
    public var errorCode: String?
    public var error: String?
    public var traceID: String
    public var createdAt: Date
    public var finishedAt: Date?
    /// The client's format the batch reads its file with (`ClientFormat` as JSON), and its name;
    /// nil for a file read by its header's standard names.
    public var formatName: String?
    public var format: String?
    /// The CSV the pipeline reads when it is not the raw file (a spreadsheet turned into CSV).
    public var dataKey: String?
    /// A preview first: the batch stops `previewed`, nothing registered, until it is confirmed.
    public var dryRun = false
    /// The client's whole open portfolio: its open debts the file leaves out are missing.
    public var fullPortfolio = false
    /// While `stalled`, the step whose job died (`BatchStall`); nil otherwise.
    public var stalledStep: String?
    public var stall: BatchStall? { status == .stalled ? stalledStep.map(BatchStall.init(step:)) : nil }

    /// The blob the split, transform and register stages read.
    public var pipelineKey: String { dataKey ?? blobKey }

    /// The client format, decoded.
    public var clientFormat: ClientFormat? {
        format.flatMap { try? JSONDecoder().decode(ClientFormat.self, from: Data($0.utf8)) }
    }

    /// A client's file just received, by any channel: the day it counts for is São Paulo's, and it
    /// splits by the client's sub-batch size.
    public init(newID id: String, client: ClientRecord, source: String, fileName: String?, blobKey: String, byteSize: Int,
                receivedAt: Date = Date(), traceID: String = BatchRecord.newTraceID(), format: SavedFormat? = nil) {
        self.init(newID: id, clientID: client.id, source: source, fileName: fileName, blobKey: blobKey, byteSize: byteSize,
                  receivedAt: receivedAt, receivedOn: Day(receivedAt, in: Day.saoPaulo), subBatchSize: client.subBatchSize,
                  traceID: traceID)
        if let format {
            formatName = format.name
            self.format = String(decoding: (try? JSONEncoder().encode(format.format)) ?? Data(), as: UTF8.self)
        }
    }

    /// A new trace id: 16 random bytes in hex.
    public static func newTraceID() -> String {
        Hex.random(bytes: 16)
    }

    /// A batch just received: nothing known of the file yet but its size.
    public init(newID id: String, clientID: String, source: String, fileName: String?, blobKey: String, byteSize: Int,
                receivedAt: Date, receivedOn: Day, subBatchSize: Int, traceID: String) {
        self.init(id: id, clientID: clientID, status: .received, source: source, fileName: fileName, blobKey: blobKey,
                  byteSize: byteSize, receivedOn: receivedOn, subBatchSize: subBatchSize, counts: BatchCounts(),
                  subBatches: 0, traceID: traceID, createdAt: receivedAt)
    }

    init(id: String, clientID: String, status: BatchStatus, source: String, fileName: String?, blobKey: String,
         byteSize: Int, receivedOn: Day, subBatchSize: Int, encoding: String? = nil, delimiter: String? = nil,
         layout: String? = nil, counts: BatchCounts, subBatches: Int, errorCode: String? = nil, error: String? = nil,
         traceID: String, createdAt: Date, finishedAt: Date? = nil, formatName: String? = nil, format: String? = nil,
         dataKey: String? = nil, dryRun: Bool = false, fullPortfolio: Bool = false, stalledStep: String? = nil) {
        self.id = id
        self.clientID = clientID
        self.status = status
        self.source = source
        self.fileName = fileName
        self.blobKey = blobKey
        self.byteSize = byteSize
        self.receivedOn = receivedOn
        self.subBatchSize = subBatchSize
        self.encoding = encoding
        self.delimiter = delimiter
        self.layout = layout
        self.counts = counts
        self.subBatches = subBatches
        self.errorCode = errorCode
        self.error = error
        self.traceID = traceID
        self.createdAt = createdAt
        self.finishedAt = finishedAt
        self.formatName = formatName
        self.format = format
        self.dataKey = dataKey
        self.dryRun = dryRun
        self.fullPortfolio = fullPortfolio
        self.stalledStep = stalledStep
    }
}

public struct SubBatchRecord: Sendable, Equatable {
    public var batchID: String
    public var seq: Int
    public var byteStart: Int
    public var byteEnd: Int
    public var firstLine: Int
    public var records: Int
    public var status: String
}

/// Batches and their sub-batches.
public struct BatchStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    static let columns = """
        id, client_id, status, source, file_name, blob_key, byte_size, received_on, sub_batch_size, encoding, delimiter,
        layout, received, registered, updated, withdrawn, duplicates, rejected, review, sub_batches, error_code, error, trace_id, created_at, finished_at,
        format_name, format, data_key, dry_run, full_portfolio, stalled_step
        """

    static func record(_ r: SQLRow) throws -> BatchRecord {
        BatchRecord(
            id: try r.string("id"), clientID: try r.string("client_id"),
            status: try r.known("status", as: BatchStatus.self),
            source: try r.string("source"), fileName: try r.optionalString("file_name"),
            blobKey: try r.string("blob_key"), byteSize: try r.int("byte_size"), receivedOn: try r.day("received_on"),
            subBatchSize: try r.int("sub_batch_size"), encoding: try r.optionalString("encoding"),
            delimiter: try r.optionalString("delimiter"), layout: try r.optionalString("layout"),
            counts: BatchCounts(received: try r.int("received"), registered: try r.int("registered"), updated: try r.int("updated"),
                                withdrawn: try r.int("withdrawn"), duplicates: try r.int("duplicates"), rejected: try r.int("rejected"),
                                review: try r.int("review")),
            subBatches: try r.int("sub_batches"), errorCode: try r.optionalString("error_code"),
            error: try r.optionalString("error"), traceID: try r.string("trace_id"),
            createdAt: try r.date("created_at"), finishedAt: try r.optionalDate("finished_at"),
            formatName: try r.optionalString("format_name"), format: try r.optionalString("format"),
            dataKey: try r.optionalString("data_key"), dryRun: try r.int("dry_run") != 0,
            fullPortfolio: try r.int("full_portfolio") != 0, stalledStep: try r.optionalString("stalled_step"))
    }

    /// Records an accepted file and enqueues its pick job, in one durable transaction, with
    /// `alongside` (what else the acceptance changes) in the same transaction. `rowsReserved`:
    /// what the file took of its client's daily quota on arrival (nil: taken when it is read).
    public func create(_ batch: BatchRecord, retry: RetryPolicy = RetryPolicy(), rowsReserved: Int? = nil,
                       alongside: (@Sendable (any SQLConnection) async throws -> Void)? = nil) async throws {
        let queue = JobQueue(db: db, retry: retry)
        try await db.write(durable: true) { c in
            try await alongside?(c)
            let now = Date()
            try await c.execute("""
                INSERT INTO batches (id, client_id, status, source, file_name, blob_key, byte_size, received_on, sub_batch_size,
                                     trace_id, created_at, updated_at, format_name, format, dry_run, full_portfolio, rows_reserved)
                VALUES (\(batch.id), \(batch.clientID), \(batch.status.rawValue), \(batch.source), \(batch.fileName),
                        \(batch.blobKey), \(batch.byteSize), \(batch.receivedOn), \(batch.subBatchSize), \(batch.traceID),
                        \(batch.createdAt), \(now), \(batch.formatName), \(batch.format), \(batch.dryRun ? 1 : 0), \(batch.fullPortfolio ? 1 : 0),
                        \(rowsReserved))
                """)
            try await queue.enqueue(c, .batch(.pick, batchID: batch.id), traceID: batch.traceID)
        }
    }

    /// The batch if it belongs to the client (nil otherwise: another client's batch does not exist for it).
    public func get(id: String, clientID: String) async throws -> BatchRecord? {
        try await db.query("SELECT \(raw: BatchStore.columns) FROM batches WHERE id = \(id) AND client_id = \(clientID)")
            .first.map(BatchStore.record)
    }

    /// How many batches are stalled now (`esteira_batches_stalled`), on their own index.
    public func stalledCount() async throws -> Int {
        try await db.query("SELECT COUNT(*) AS n FROM batches WHERE status = \(BatchStatus.stalled.rawValue)")[0].int("n")
    }

    public func get(id: String) async throws -> BatchRecord? {
        try await db.query("SELECT \(raw: BatchStore.columns) FROM batches WHERE id = \(id)").first.map(BatchStore.record)
    }

    /// Cancels a batch not yet final: it ends `cancelled` at once, registers nothing more (its
    /// waiting and dead steps end, and a step under way finds it cancelled in its own
    /// transaction), its staging files go; what it registered before stays. Nil when the batch
    /// does not exist; `changed` false when it was final already, or not in `only` when that is
    /// given (its status is then the one it had). `reason`, when given, becomes the batch's `error`.
    public func cancel(id: String, by actor: AuditActor, retry: RetryPolicy = RetryPolicy(), now: Date = Date(),
                       only: Set<BatchStatus>? = nil, reason: String? = nil) async throws -> (status: BatchStatus, changed: Bool)? {
        try await db.write(durable: true) { c in
            guard let row = try await c.query("SELECT status, trace_id, registered FROM batches WHERE id = \(id)\(c.forUpdate)").first else { return nil }
            let status = try row.known("status", as: BatchStatus.self)
            guard !status.isFinal, only?.contains(status) ?? true else { return (status, false) }
            // What the batch registered so far: the sub-batches that committed.
            let sums = try await Self.registeredSums(c, batchID: id)
            try await c.execute("""
                UPDATE batches SET status = \(BatchStatus.cancelled.rawValue), stalled_step = NULL, stalled_from = NULL,
                       registered = \(sums.counts.registered), updated = \(sums.counts.updated), withdrawn = \(sums.counts.withdrawn),
                       duplicates = \(sums.counts.duplicates), rejected = \(sums.counts.rejected), review = \(sums.counts.review),
                       error = COALESCE(\(reason), error), finished_at = \(now), updated_at = \(now)
                WHERE id = \(id)
                """)
            try await c.execute("""
                UPDATE jobs SET state = 'done', last_error = 'cancelado pela operação', lease_owner = NULL, lease_expires_at = NULL, updated_at = \(now)
                WHERE batch_id = \(id) AND state IN ('queued', 'dead') AND kind IN (\(list: BatchStall.steps.sorted()))
                """)
            try await JobQueue(db: db, retry: retry).enqueue(c, .batch(.cleanup, batchID: id), traceID: try row.string("trace_id"))
            try await AuditLog.record(c, actor, action: "batch.cancel", target: "batch:\(id)",
                                      before: AuditLog.values(["status": status.rawValue]),
                                      after: AuditLog.values(["status": BatchStatus.cancelled.rawValue, "registered": "\(sums.counts.registered)"]),
                                      now: now)
            return (.cancelled, true)
        }
    }

    public func list(clientID: String, status: BatchStatus?, page: Int, perPage: Int) async throws -> Page<BatchRecord> {
        let filter: SQL = status.map { "AND status = \($0.rawValue)" } ?? ""
        return try await db.page(select: BatchStore.columns, from: "batches WHERE client_id = \(clientID) \(filter)",
                                 orderBy: "created_at DESC, id DESC", page: page, perPage: perPage, BatchStore.record)
    }

    public func subBatch(batchID: String, seq: Int) async throws -> SubBatchRecord? {
        try await db.query("""
            SELECT batch_id, seq, byte_start, byte_end, first_line, records, status FROM sub_batches
            WHERE batch_id = \(batchID) AND seq = \(seq)
            """).first.map(BatchStore.subBatch)
    }

    static func subBatch(_ r: SQLRow) throws -> SubBatchRecord {
        SubBatchRecord(batchID: try r.string("batch_id"), seq: try r.int("seq"), byteStart: try r.int("byte_start"),
                       byteEnd: try r.int("byte_end"), firstLine: try r.int("first_line"), records: try r.int("records"),
                       status: try r.string("status"))
    }
}

extension BatchStore {
    /// A dry run's preview; nil until it is made.
    public func preview(batchID: String) async throws -> BatchPreview? {
        guard let text = try await db.query("SELECT report FROM batch_previews WHERE batch_id = \(batchID)").first?.string("report") else {
            return nil
        }
        do {
            return try JSONDecoder().decode(BatchPreview.self, from: Data(text.utf8))
        } catch {
            throw SQLError(code: .decode, message: "batch_previews.report of \(batchID) does not read: \(error)", sql: "")
        }
    }

    public enum ConfirmOutcome: Sendable, Equatable {
        case confirmed(BatchRecord)
        /// Not a preview waiting for confirmation (still being read, or confirmed already).
        case notPreviewed(BatchStatus)
        case notFound
    }

    /// A previewed batch confirmed: it goes on as `processing`, its sub-batches (transformed
    /// already) to the register stage, in one transaction.
    public func confirm(id: String, clientID: String, retry: RetryPolicy = RetryPolicy()) async throws -> ConfirmOutcome {
        let queue = JobQueue(db: db, retry: retry)
        return try await db.write(durable: true) { c in
            guard let row = try await c.query("""
                SELECT \(raw: BatchStore.columns) FROM batches WHERE id = \(id) AND client_id = \(clientID)\(c.forUpdate)
                """).first else { return .notFound }
            var batch = try BatchStore.record(row)
            guard batch.status == .previewed else { return .notPreviewed(batch.status) }
            try await c.execute("UPDATE batches SET status = 'processing', updated_at = \(Date()) WHERE id = \(id)")
            for seq in 0..<batch.subBatches {
                try await queue.enqueue(c, .subBatch(.register, batchID: id, seq: seq), traceID: batch.traceID)
            }
            batch.status = .processing
            return .confirmed(batch)
        }
    }

    /// An open debt a full-portfolio file left out.
    public struct MissingDebt: Sendable, Equatable {
        public var externalID: String
        public var statusBefore: String
        /// Withdrawn by the batch (the client's setting), or only listed.
        public var withdrawn: Bool
    }

    public func missing(batchID: String, page: Int, perPage: Int) async throws -> Page<MissingDebt> {
        try await db.page(select: "external_id, status_before, withdrawn", from: "batch_missing WHERE batch_id = \(batchID)",
                          orderBy: "external_id", page: page, perPage: perPage) {
            MissingDebt(externalID: try $0.string("external_id"), statusBefore: try $0.string("status_before"),
                        withdrawn: try $0.int("withdrawn") == 1)
        }
    }

    /// What the registered sub-batches of a batch in progress add up to so far.
    public func progress(batchID: String) async throws -> BatchCounts {
        try await db.read { c in try await Self.registeredSums(c, batchID: batchID).counts }
    }

    /// The counts of a batch's registered sub-batches added up (`received` left 0), and how many
    /// sub-batches it has and how many are registered.
    public static func registeredSums(_ c: any SQLConnection, batchID: String) async throws
        -> (counts: BatchCounts, subBatches: Int, registered: Int) {
        func sum(_ column: String) -> String {
            "CAST(COALESCE(SUM(CASE WHEN status = 'registered' THEN \(column) ELSE 0 END), 0) AS BIGINT) AS \(column)"
        }
        let r = try await c.query("""
            SELECT COUNT(*) AS subs, \(raw: ["registered", "updated", "withdrawn", "duplicates", "rejected", "review"].map(sum).joined(separator: ", ")),
                   CAST(COALESCE(SUM(CASE WHEN status = 'registered' THEN 1 ELSE 0 END), 0) AS BIGINT) AS done
            FROM sub_batches WHERE batch_id = \(batchID)
            """)[0]
        let counts = BatchCounts(received: 0, registered: try r.int("registered"), updated: try r.int("updated"),
                                 withdrawn: try r.int("withdrawn"), duplicates: try r.int("duplicates"),
                                 rejected: try r.int("rejected"), review: try r.int("review"))
        return (counts, try r.int("subs"), try r.int("done"))
    }
}
