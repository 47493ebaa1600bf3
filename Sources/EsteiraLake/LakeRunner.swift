import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import Foundation

/// The steps of a month's run, each a job of its own (kind `lake`, the run's id as its batch,
/// the step as its sequence number), retried on its own: a failed book does not land or curate
/// the month again. Each step, when done, records itself in the run and queues the next in the
/// same transaction.
public enum LakeStep: Int, Sendable, CaseIterable {
    /// Both files of the month, from the lake inbox into the raw layer exactly as received.
    case raw = 0
    case curateFaturas = 1
    case curatePagamentos = 2
    /// The book as of the run's reference date, from the curated layer.
    case book = 3

    public var name: String {
        switch self {
        case .raw: return "raw"
        case .curateFaturas: return "curate faturas"
        case .curatePagamentos: return "curate pagamentos"
        case .book: return "book"
        }
    }

    public var next: LakeStep? { LakeStep(rawValue: rawValue + 1) }

    var table: LakeTable? {
        switch self {
        case .curateFaturas: return .faturas
        case .curatePagamentos: return .pagamentos
        case .raw, .book: return nil
        }
    }
}

/// Does the work of one step of a run, without recording it: the caller (the `lake` job, or the
/// command that lands local files) records the outcome with the job's completion.
public struct LakeRunner: Sendable {
    let blobs: any BlobStore

    public init(blobs: any BlobStore) { self.blobs = blobs }

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

    /// What a step did: its details for the run's record, and (raw) the keys it landed.
    public struct StepResult: Sendable {
        public var details: LakeStepDetails
        public var inputs: [String: String]?
    }

    /// Lands files in the raw layer, for run `run`.
    public func land(month: LakeMonth, run: String, files: [Input]) async throws -> StepResult {
        var keys: [String: String] = [:]
        for f in files {
            keys[f.table.rawValue] = try await LakeCurator(blobs: blobs).land(table: f.table, month: month, run: run,
                                                                              fileName: f.fileName, bytes: f.bytes)
        }
        let names = files.map(\.fileName)
        return StepResult(details: LakeStepDetails(files: names, rawBytes: files.reduce(0) { $0 + $1.bytes.count }, rawFiles: files.count),
                          inputs: keys)
    }

    /// Runs `step` of `run`. Throws `LakeFile.Problem` for a file refused whole (the run ends),
    /// anything else to be retried.
    public func perform(_ step: LakeStep, run: LakeRunRecord) async throws -> StepResult {
        guard let month = LakeMonth(run.month) else { throw LakeRunError(description: "run \(run.id) of \(run.month), not a month") }
        switch step {
        case .raw:
            var files: [Input] = []
            for table in LakeTable.allCases {
                files.append(.init(table: table, fileName: month.fileName(table), bytes: try await blobs.readAll(key: month.inboxKey(table))))
            }
            return try await land(month: month, run: run.id, files: files)
        case .curateFaturas, .curatePagamentos:
            let table = step.table!
            guard let key = run.inputKeys[table.rawValue] else { throw LakeRunError(description: "run \(run.id) has no raw \(table.rawValue)") }
            let name = String(key.split(separator: "/").last ?? "")
            let r = try await LakeCurator(blobs: blobs).curate(table: table, month: month, fileName: name, bytes: try await blobs.readAll(key: key))
            return StepResult(details: LakeStepDetails(
                file: r.file, raw: r.counts.raw, curated: r.counts.curated, duplicates: r.counts.duplicates,
                quarantined: r.counts.quarantined, curatedBytes: r.curatedBytes, seconds: r.seconds))
        case .book:
            let book = try await LakeBook(blobs: blobs).build(reference: run.referenceDate)
            return StepResult(details: LakeStepDetails(dtBase: book.reference, monthsRead: book.monthsRead, invoices: book.invoices,
                                                       payments: book.payments, customerRows: book.customerRows, refinedBytes: book.bytes,
                                                       seconds: book.seconds))
        }
    }

    /// A step's record: its details, name, status, attempts and times.
    public static func stepRecord(_ step: LakeStep, details: LakeStepDetails = LakeStepDetails(), status: String, attempts: Int,
                                  started: Date, error: String? = nil, now: Date = Date()) -> LakeStepRecord {
        LakeStepRecord(name: step.name, status: status, attempts: attempts, startedAt: Timestamp.iso(started),
                       finishedAt: Timestamp.iso(now), error: error, details: details)
    }
}

public struct LakeRunError: Error, CustomStringConvertible {
    public var description: String
}
