import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import Foundation

/// Parses one sub-batch with the batch's layout and validates every record: the staged records
/// (debts, or rejects with their reasons) go to the intermediate store, a blob per sub-batch.
/// Validation is pure, so it runs here, off the database's single writer; the register stage keeps
/// what needs the registry. Rewriting the same staging file twice is harmless.
struct TransformStage {
    let pipeline: Pipeline

    func run(_ job: Job, owner: String) async throws {
        let (batch, sub) = try await load(job)
        // A cancelled batch's steps end doing nothing (`BatchStore.cancel`); pick, finalize and
        // preview find it in their own transaction, register in its own (`RegisterStage.register`).
        if batch.status == .cancelled {
            try await pipeline.db.write { c in try await JobQueue.complete(c, job: job, owner: owner) }
            return
        }
        if sub.status == "pending" {
            let staging = try await transform(batch: batch, sub: sub)
            try await pipeline.blobs.put(key: BlobKeys.staging(batchID: batch.id, seq: sub.seq), bytes: staging)
        }
        try await pipeline.db.write { c in
            try await JobQueue.complete(c, job: job, owner: owner)
            try await c.execute("""
                UPDATE sub_batches SET status = 'transformed', updated_at = \(Date())
                WHERE batch_id = \(batch.id) AND seq = \(sub.seq) AND status = 'pending'
                """)
            if batch.dryRun {
                // A preview replays the whole file once every sub-batch is staged. The batch's row,
                // locked, puts the last two transforms one after the other, so one of them sees all.
                _ = try await Pipeline.lockedBatch(c, id: batch.id)
                let staged = try await c.query("""
                    SELECT COUNT(*) AS n FROM sub_batches WHERE batch_id = \(batch.id) AND status = 'transformed'
                    """)[0].int("n")
                if staged == batch.subBatches {
                    try await pipeline.queue.enqueue(c, .batch(.preview, batchID: batch.id), traceID: batch.traceID)
                }
            } else {
                // Register may start now: it reads its staging file while the sub-batch before it is
                // being written, and commits only after it (see RegisterStage).
                try await pipeline.queue.enqueue(c, .subBatch(.register, batchID: batch.id, seq: sub.seq), traceID: batch.traceID)
            }
        }
    }

    func load(_ job: Job) async throws -> (BatchRecord, SubBatchRecord) {
        guard let batch = try await pipeline.batches.get(id: job.batchID),
              let sub = try await pipeline.batches.subBatch(batchID: job.batchID, seq: job.seq) else {
            throw StageInvariantError(description: "sub-batch \(job.batchID)/\(job.seq) does not exist")
        }
        return (batch, sub)
    }

    /// The sub-batch's staging file: its records parsed, validated and encoded.
    func transform(batch: BatchRecord, sub: SubBatchRecord) async throws -> [UInt8] {
        guard let layoutText = batch.layout,
              let layout = try? JSONDecoder().decode(StandardLayout.self, from: Data(layoutText.utf8)),
              let delimiterText = batch.delimiter?.utf8.first,
              let encoding = batch.encoding.flatMap(TextEncoding.init(rawValue:)) else {
            throw StageInvariantError(description: "batch \(batch.id) has no layout")
        }
        let bytes = try await pipeline.blobs.read(key: batch.pipelineKey, offset: sub.byteStart, length: sub.byteEnd - sub.byteStart)
        let validator = DebtValidator(receivedOn: batch.receivedOn, dateFormat: layout.dateFormat,
                                      decimalFormat: layout.decimalFormat)
        return try await CPUWork.run {
            let staging = TransformStage.staging(
                bytes: bytes, firstLine: sub.firstLine, delimiter: delimiterText, encoding: encoding, layout: layout,
                validator: validator)
            guard staging.count == sub.records else {
                throw StageInvariantError(description: "sub-batch \(batch.id)/\(sub.seq): \(staging.count) records, pick saw \(sub.records)")
            }
            return staging.bytes
        }
    }

    /// The staging file of the records in `bytes` (whole records, the first on line `firstLine`):
    /// each parsed and validated, with its raw text, which goes from the file's bytes to the
    /// staging file's without a String in between when the file is UTF-8.
    static func staging(bytes: [UInt8], firstLine: Int, delimiter: UInt8, encoding: TextEncoding,
                        layout: StandardLayout, validator: DebtValidator) -> StagingCodec.Encoder {
        var staging = StagingCodec.Encoder(capacity: bytes.count * 2 + 4096)
        let positions = layout.positions
        let fixedWidth = layout.fixedWidth
        // A plain, valid record of a UTF-8 CSV file is staged from its bytes (see InPlaceRecord).
        let inPlace = encoding == .utf8 && fixedWidth == nil
        bytes.withUnsafeBufferPointer { b in
            var scanner = fixedWidth == nil ? CSVScanner(delimiter: delimiter, startOffset: 0, startLine: firstLine)
                : CSVScanner.lines(startOffset: 0, startLine: firstLine)
            func onRecord(_ r: CSVScanner.Record) {
                if r.isBlank { return }
                let record = UnsafeBufferPointer(rebasing: b[r.start..<r.end])
                var rawEnd = record.count
                while rawEnd > 0 && (record[rawEnd - 1] == 10 || record[rawEnd - 1] == 13) { rawEnd -= 1 }
                let rawBytes = UnsafeBufferPointer(rebasing: record[0..<rawEnd])
                if inPlace && InPlaceRecord.stageDebt(rawBytes, line: r.line, delimiter: delimiter, positions: positions,
                                                      validator: validator, into: &staging) {
                    return
                }
                // The raw text as a String only where it is needed: not UTF-8 (the staging file is),
                // or cut by position (fixed width).
                let rawText = encoding != .utf8 || fixedWidth != nil ? encoding.decode(rawBytes) : nil
                let row: ParsedRow
                if let fixedWidth, let rawText {
                    row = ParsedRow(line: r.line, values: FixedWidthField.values(of: rawText, fixedWidth))
                } else {
                    row = ParsedRow(line: r.line, fields: CSVRecordParser.fields(record, delimiter: delimiter, encoding: encoding),
                                    layout: positions)
                }
                let validation = validator.validate(row)
                func write(_ raw: UnsafeBufferPointer<UInt8>) {
                    switch validation {
                    case .valid(let debt): staging.debt(line: r.line, raw: raw, debt)
                    case .correction(let debt): staging.debt(line: r.line, raw: raw, debt, correction: true)
                    case .withdrawal(let externalID, let reason):
                        staging.withdrawal(line: r.line, raw: raw, externalID: externalID, reason: reason)
                    case .invalid(let issues):
                        // A readable external id only: one too long or with a control character is no name.
                        let named = issues.contains { $0.field == .externalID || $0.field == nil } ? "" : row.externalID
                        staging.rejected(line: r.line, raw: raw, issues: issues, externalID: named)
                    }
                }
                // The raw text as it can be stored: a NUL or a byte that is not UTF-8 becomes U+FFFD.
                if var raw = rawText {
                    raw.withUTF8 { bytes in
                        if let storable = ControlCharacters.storableRaw(bytes) { storable.withUnsafeBufferPointer(write) } else { write(bytes) }
                    }
                } else if let storable = ControlCharacters.storableRaw(rawBytes) {
                    storable.withUnsafeBufferPointer(write)
                } else {
                    write(rawBytes)
                }
            }
            scanner.feed(b, onRecord: onRecord)
            scanner.finish(onRecord: onRecord)
        }
        return staging
    }
}
