import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import EsteiraTelemetry
import Foundation
import Metrics

/// Checks a file as a whole and splits it into sub-batches.
///
/// One pass over the file: encoding (UTF-8, UTF-8 with a few invalid bytes, else Windows-1252),
/// binary content, the header and
/// its columns, and where every N-th record starts. A sub-batch is a byte range of the raw file
/// with the line it starts on, so the file is never copied.
struct PickStage {
    let pipeline: Pipeline

    struct Split {
        var encoding: TextEncoding
        var delimiter: UInt8
        var layout: StandardLayout
        var records: Int
        var ranges: [(start: Int, end: Int, line: Int, records: Int)]
        /// The CSV a spreadsheet was turned into; nil when the raw file is read as it is.
        var dataKey: String?
    }

    func run(_ job: Job, owner: String) async throws {
        guard let batch = try await pipeline.batches.get(id: job.batchID) else {
            throw StageInvariantError(description: "batch \(job.batchID) does not exist")
        }
        guard batch.status == .received else {
            try await pipeline.db.write { c in try await JobQueue.complete(c, job: job, owner: owner) }
            return
        }
        let outcome: Result<Split, FileProblem>
        do {
            outcome = .success(try await split(batch))
        } catch let problem as FileProblem {
            outcome = .failure(problem)
        }
        let now = Date()
        let ended = try await pipeline.db.write { c -> Result<Split, FileProblem>? in
            let locked = try await Pipeline.lockedBatch(c, id: batch.id)
            guard try locked.string("status") == BatchStatus.received.rawValue else {
                try await JobQueue.complete(c, job: job, owner: owner)
                return nil
            }
            var outcome = outcome
            if case .success(let split) = outcome, let problem = try await Self.takeQuota(c, batch: batch, records: split.records,
                                                                                       defaultLimit: pipeline.rowsPerDay) {
                outcome = .failure(problem)
            }
            switch outcome {
            case .failure(let problem):
                try await c.execute("""
                    UPDATE batches SET status = 'failed', error_code = \(problem.code), error = \(problem.message),
                           updated_at = \(now), finished_at = \(now) WHERE id = \(batch.id)
                    """)
                try await NotificationStore.enqueue(c, batchID: batch.id, now: now)
            case .success(let split):
                let layoutJSON = String(decoding: try JSONEncoder().encode(split.layout), as: UTF8.self)
                try await c.execute("""
                    UPDATE batches SET status = 'processing', encoding = \(split.encoding.rawValue),
                           delimiter = \(String(UnicodeScalar(split.delimiter))), layout = \(layoutJSON),
                           received = \(split.records), sub_batches = \(split.ranges.count), data_key = \(split.dataKey),
                           updated_at = \(now)
                    WHERE id = \(batch.id)
                    """)
                try await c.insert(
                    into: "sub_batches",
                    columns: ["batch_id", "seq", "byte_start", "byte_end", "first_line", "records", "status", "updated_at"],
                    rows: split.ranges.enumerated().map { seq, r in
                        [.text(batch.id), .int(Int64(seq)), .int(Int64(r.start)), .int(Int64(r.end)), .int(Int64(r.line)),
                         .int(Int64(r.records)), .text("pending"), .timestamp(now)]
                    })
                for seq in split.ranges.indices {
                    try await pipeline.queue.enqueue(c, .subBatch(.transform, batchID: batch.id, seq: seq), traceID: batch.traceID)
                }
            }
            try await JobQueue.complete(c, job: job, owner: owner)
            return outcome
        }
        guard let ended else { return }
        var log = pipeline.logger
        log[metadataKey: "batch_id"] = "\(batch.id)"
        log[metadataKey: "trace_id"] = "\(batch.traceID)"
        switch ended {
        case .failure(let problem):
            log.info("batch failed", metadata: ["code": "\(problem.code)", "reason": "\(problem.message)"])
        case .success(let split):
            Counter(label: MetricName.rowsReceived, dimensions: [("client", batch.clientID)]).increment(by: split.records)
            log.info("batch split", metadata: ["records": "\(split.records)", "sub_batches": "\(split.ranges.count)",
                                               "encoding": "\(split.encoding.rawValue)"])
        }
    }

    /// The batch's rows against its client's daily quota, in the pick's transaction: a file that
    /// reserved lines on arrival gives back what it did not use; one that reserved nothing takes
    /// its records now, or fails with F015 when they would pass the quota.
    static func takeQuota(_ c: any SQLConnection, batch: BatchRecord, records: Int, defaultLimit: Int) async throws -> FileProblem? {
        guard let row = try await c.query("""
            SELECT b.rows_reserved, c.rows_per_day FROM batches b JOIN clients c ON c.id = b.client_id WHERE b.id = \(batch.id)
            """).first else { return nil }
        if let reserved = try row.optionalInt("rows_reserved") {
            try await ClientUsage.adjust(c, clientID: batch.clientID, day: batch.receivedOn, by: records - reserved)
            return nil
        }
        let limit = try row.optionalInt("rows_per_day") ?? defaultLimit
        if try await ClientUsage.reserve(c, clientID: batch.clientID, day: batch.receivedOn, rows: records, limit: limit) { return nil }
        return .dailyRowsExceeded(records: records, used: try await ClientUsage.used(c, clientID: batch.clientID, day: batch.receivedOn),
                                  limit: limit)
    }

    func split(_ batch: BatchRecord) async throws -> Split {
        var key = batch.blobKey
        var size = try await pipeline.blobs.size(key: key)
        guard size > 0 else { throw FileProblem.empty }
        var head = try await pipeline.blobs.read(key: key, offset: 0, length: min(size, 64 * 1024))
        // A spreadsheet is turned into CSV first; the rest reads that.
        var dataKey = try await SpreadsheetConversion(pipeline: pipeline).convertIfSpreadsheet(batch, head: head)
        if dataKey == nil { dataKey = try await UTF16Conversion(pipeline: pipeline).convertIfUTF16(batch, head: head, size: size) }
        if let dataKey {
            key = dataKey
            size = try await pipeline.blobs.size(key: key)
            head = try await pipeline.blobs.read(key: key, offset: 0, length: min(size, 64 * 1024))
        }
        let bom = TextHead.bomLength(head)
        guard head[bom...].contains(where: { $0 != 32 && $0 != 9 && $0 != 10 && $0 != 13 }) || size > head.count else {
            throw FileProblem.empty
        }
        if TextHead.looksBinary(head) { throw FileProblem.notText(head: head) }

        // The header is the first line that is not blank.
        let delimiter = TextHead.delimiter(head)

        // A positional format reads plain lines: no header, and the first and last lines it says
        // to skip (a CNAB header and trailer) are not records.
        let format = batch.clientFormat
        let fixedWidth = format?.fixedWidthLayout
        var skipFirst = fixedWidth == nil ? 0 : format?.skipFirstLines ?? 0
        let skipLast = fixedWidth == nil ? 0 : format?.skipLastLines ?? 0
        var heldBack: [CSVScanner.Record] = []
        var scanner = fixedWidth == nil ? CSVScanner(delimiter: delimiter, startOffset: bom) : CSVScanner.lines(startOffset: bom)
        var validator = UTF8Validator()
        var header: CSVScanner.Record?
        var records = 0
        var ranges: [(start: Int, end: Int, line: Int, records: Int)] = []
        var current: (start: Int, end: Int, line: Int, records: Int)?
        let perSubBatch = max(1, batch.subBatchSize)

        func count(_ r: CSVScanner.Record) {
            if current == nil { current = (r.start, r.end, r.line, 0) }
            current!.end = r.end
            current!.records += 1
            records += 1
            if current!.records == perSubBatch { ranges.append(current!); current = nil }
        }
        func onRecord(_ r: CSVScanner.Record) throws {
            if r.end - r.start > FileProblem.maxRecordBytes { throw FileProblem.recordTooLarge(line: r.line) }
            if r.isBlank { return }
            guard fixedWidth != nil else {
                if header == nil { header = r; return }
                return count(r)
            }
            if skipFirst > 0 { skipFirst -= 1; return }
            heldBack.append(r)
            if heldBack.count > skipLast { count(heldBack.removeFirst()) }
        }

        var offset = bom
        while offset < size {
            let chunk = try await pipeline.blobs.read(key: key, offset: offset, length: min(pipeline.chunkSize, size - offset))
            if chunk.isEmpty { break }
            try chunk.withUnsafeBufferPointer { b in
                _ = validator.feed(b)
                try scanner.feed(b, onRecord: onRecord)
            }
            offset += chunk.count
        }
        try scanner.finish(onRecord: onRecord)
        if let c = current { ranges.append(c) }
        let encoding = TextEncoding.of(validator)
        if let fixedWidth {
            guard records > 0 else { throw FileProblem.noRows }
            return Split(encoding: encoding, delimiter: 10, layout: fixedWidth, records: records, ranges: ranges, dataKey: dataKey)
        }
        guard let header else { throw FileProblem.empty }

        let headerBytes = try await pipeline.blobs.read(key: key, offset: header.start, length: header.end - header.start)
        let fields = CSVRecordParser.fields(headerBytes, delimiter: delimiter, encoding: encoding)
        let names = fields.values.map { $0.trimmedSpaces }
        let layout: StandardLayout
        switch format.map({ $0.layout(header: names) }) ?? StandardLayout.fromHeader(names) {
        case .success(let l): layout = l
        case .failure(let problem): throw FileProblem(problem)
        }
        guard records > 0 else { throw FileProblem.noRows }
        return Split(encoding: encoding, delimiter: delimiter, layout: layout, records: records, ranges: ranges,
                     dataKey: dataKey)
    }
}
