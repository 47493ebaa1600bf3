import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import Foundation

/// Parses one sub-batch with the batch's layout into staging rows, written to the intermediate
/// store (a blob per sub-batch). Rewriting the same staging file twice is harmless.
struct TransformStage {
    let pipeline: Pipeline

    func run(_ job: Job, owner: String) async throws {
        let (batch, sub) = try await load(job)
        if sub.status == "pending" {
            let rows = try await transform(batch: batch, sub: sub)
            try await pipeline.blobs.put(key: BlobKeys.staging(batchID: batch.id, seq: sub.seq), bytes: StagingCodec.encode(rows))
        }
        try await pipeline.db.write { c in
            _ = try await Pipeline.lockedBatch(c, id: batch.id)
            try await JobQueue.complete(c, job: job, owner: owner)
            try await c.execute("""
                UPDATE sub_batches SET status = 'transformed', updated_at = \(Date())
                WHERE batch_id = \(batch.id) AND seq = \(sub.seq) AND status = 'pending'
                """)
            // Register may start now: it validates in parallel with the sub-batch before it, and
            // commits only after it (see RegisterStage).
            try await pipeline.queue.enqueue(c, kind: .register, batchID: batch.id, seq: sub.seq, traceID: batch.traceID)
        }
    }

    func load(_ job: Job) async throws -> (BatchRecord, SubBatchRecord) {
        guard let batch = try await pipeline.batches.get(id: job.batchID),
              let sub = try await pipeline.batches.subBatch(batchID: job.batchID, seq: job.seq) else {
            throw StageInvariantError(description: "sub-batch \(job.batchID)/\(job.seq) does not exist")
        }
        return (batch, sub)
    }

    func transform(batch: BatchRecord, sub: SubBatchRecord) async throws -> [StagingRow] {
        guard let layoutText = batch.layout,
              let layout = try? JSONDecoder().decode(StandardLayout.self, from: Data(layoutText.utf8)),
              let delimiterText = batch.delimiter?.utf8.first,
              let encoding = batch.encoding.flatMap(TextEncoding.init(rawValue:)) else {
            throw StageInvariantError(description: "batch \(batch.id) has no layout")
        }
        let bytes = try await pipeline.blobs.read(key: batch.blobKey, offset: sub.byteStart, length: sub.byteEnd - sub.byteStart)
        let rows = TransformStage.stagingRows(bytes: bytes, firstLine: sub.firstLine, delimiter: delimiterText,
                                              encoding: encoding, layout: layout)
        guard rows.count == sub.records else {
            throw StageInvariantError(description: "sub-batch \(batch.id)/\(sub.seq): \(rows.count) records, pick saw \(sub.records)")
        }
        return rows
    }

    /// The staging rows of the records in `bytes` (whole records, the first on line `firstLine`).
    static func stagingRows(bytes: [UInt8], firstLine: Int, delimiter: UInt8, encoding: TextEncoding,
                            layout: StandardLayout) -> [StagingRow] {
        var rows: [StagingRow] = []
        rows.reserveCapacity(bytes.count / 80)
        bytes.withUnsafeBufferPointer { b in
            var scanner = CSVScanner(delimiter: delimiter, startOffset: 0, startLine: firstLine)
            func onRecord(_ r: CSVScanner.Record) {
                if r.isBlank { return }
                let record = UnsafeBufferPointer(rebasing: b[r.start..<r.end])
                let fields = CSVRecordParser.fields(record, delimiter: delimiter, encoding: encoding)
                var rawEnd = record.count
                while rawEnd > 0 && (record[rawEnd - 1] == 10 || record[rawEnd - 1] == 13) { rawEnd -= 1 }
                let raw = encoding.decode(UnsafeBufferPointer(rebasing: record[0..<rawEnd]))
                rows.append(StagingRow(line: r.line, raw: raw, fields: fields, layout: layout))
            }
            scanner.feed(b, onRecord: onRecord)
            scanner.finish(onRecord: onRecord)
        }
        return rows
    }
}
