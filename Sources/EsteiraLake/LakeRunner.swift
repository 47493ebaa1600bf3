import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import Foundation

/// A month's run: raw → curated for both files, then the book, each step recorded in `lake_runs`
/// with its times, counts and sizes as it ends, and the run `completed` or `failed` with why.
public struct LakeRunner: Sendable {
    let blobs: any BlobStore
    let runs: LakeRunStore

    public init(db: any SQLDatabase, blobs: any BlobStore) {
        self.blobs = blobs
        runs = LakeRunStore(db: db)
    }

    public struct Input: Sendable {
        public var table: LakeTable
        public var fileName: String
        public var bytes: [UInt8]
        public init(table: LakeTable, fileName: String, bytes: [UInt8]) {
            self.table = table
            self.fileName = fileName
            self.bytes = bytes
        }
    }

    public struct Outcome: Sendable {
        public var runID: String
        public var reports: [LakeCurator.Report]
        public var book: LakeBook.Summary
    }

    public func run(month: LakeMonth, reference: Day, files: [Input]) async throws -> Outcome {
        let id = try await runs.start(month: month.description, referenceDate: reference)
        var steps: [[String: Any]] = []
        func record(_ name: String, _ started: Date, _ details: [String: Any]) async throws {
            var step = details
            step["name"] = name
            step["status"] = "completed"
            step["started_at"] = Timestamp.iso(started)
            step["finished_at"] = Timestamp.iso(Date())
            steps.append(step)
            try await runs.update(id: id, steps: try JSONText.encode(steps))
        }
        do {
            var reports: [LakeCurator.Report] = []
            for f in files {
                let started = Date()
                let r = try await LakeCurator(blobs: blobs).curate(table: f.table, month: month, fileName: f.fileName, bytes: f.bytes)
                reports.append(r)
                try await record("curate \(f.table.rawValue)", started, [
                    "file": r.file, "raw": r.counts.raw, "curated": r.counts.curated, "duplicates": r.counts.duplicates,
                    "quarantined": r.counts.quarantined, "raw_bytes": r.rawBytes, "curated_bytes": r.curatedBytes,
                ])
            }
            let started = Date()
            let book = try await LakeBook(blobs: blobs).build(reference: reference)
            try await record("book", started, ["dt_base": book.reference, "months_read": book.monthsRead, "customer_rows": book.customerRows,
                                               "refined_bytes": book.bytes])
            try await runs.update(id: id, steps: try JSONText.encode(steps), status: "completed")
            return Outcome(runID: id, reports: reports, book: book)
        } catch {
            try? await runs.update(id: id, steps: try JSONText.encode(steps), status: "failed", error: "\(error)")
            throw error
        }
    }
}
