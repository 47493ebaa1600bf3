import ArgumentParser
import EsteiraApp
import EsteiraBlobs
import EsteiraCore
import EsteiraLake
import EsteiraPipeline
import EsteiraStore
import Foundation

struct Lake: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The analytics lake: a month's invoices and payments into the raw and curated layers (docs/lake.md).",
        subcommands: [Run.self, LakeBookCommand.self, Export.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the registry's debts and payments of a month as its tb_faturas and tb_pagamentos, into the lake inbox.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The month, AAAA-MM.") var month: String

        func validate() throws {
            if LakeMonth(month) == nil { throw ValidationError("--month must be AAAA-MM") }
        }

        func run() async throws {
            guard let lakeMonth = LakeMonth(month) else { return }
            let s = try await Runtime.with(store) { try await LakeExport(db: $0.db, blobs: $0.blobs).export(month: lakeMonth) }
            print("exported \(s.invoices) invoices and \(s.payments) payments to \(s.keys.joined(separator: ", "))")
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a month's tb_faturas and tb_pagamentos files through raw → curated → book, and print each file's reconciliation.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The month, AAAA-MM.") var month: String
        @Option(help: "The invoices file (default: tb_faturas_AAAAMM.csv from the lake inbox, lake/inbox/ in the blob store).") var faturas: String?
        @Option(help: "The payments file (default: tb_pagamentos_AAAAMM.csv from the lake inbox).") var pagamentos: String?
        @Option(help: "The book's reference date, AAAA-MM-DD (default: the first day of the next month).") var refDate: String?
        @Flag(help: "Print the reports as JSON.") var json = false

        func validate() throws {
            if LakeMonth(month) == nil { throw ValidationError("--month must be AAAA-MM") }
            if let r = refDate, Day.parseISO(r) == nil { throw ValidationError("--ref-date must be AAAA-MM-DD") }
        }

        func run() async throws {
            guard let lakeMonth = LakeMonth(month) else { return }
            let reference = refDate.flatMap(Day.parseISO) ?? lakeMonth.adding(months: 1).first
            let run = try await Runtime.with(store) { runtime in
                let pipeline = runtime.pipeline()
                // Local files are landed here (a worker elsewhere could not read them); files in
                // the inbox are landed by the run's raw step.
                var files: [LakeRunner.Input]?
                if faturas != nil || pagamentos != nil {
                    files = []
                    for (table, path) in [(LakeTable.faturas, faturas), (.pagamentos, pagamentos)] {
                        if let path {
                            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
                            files?.append(.init(table: table, fileName: URL(fileURLWithPath: path).lastPathComponent, bytes: Array(data)))
                        } else {
                            files?.append(.init(table: table, fileName: lakeMonth.fileName(table),
                                                bytes: try await inboxFile(runtime.blobs, lakeMonth, table)))
                        }
                    }
                } else {
                    for table in LakeTable.allCases { _ = try await inboxFile(runtime.blobs, lakeMonth, table) }
                }
                let id = try await LakeRuns.start(pipeline: pipeline, month: lakeMonth, reference: reference, files: files,
                                                  by: commandLineActor)
                files = nil // landed: the steps read them from raw, and the memory is theirs now
                var settings = Worker.Settings()
                settings.kinds = [.lake]
                settings.concurrency = 1
                return try await LakeRuns.follow(id: id, pipeline: pipeline, worker: Worker(pipeline: pipeline, settings: settings),
                                                 owner: "esteira lake run \(ProcessInfo.processInfo.processIdentifier)") { step in
                    if step.status == "retrying" {
                        FileHandle.standardError.write(Data("\(step.name) failed (attempt \(step.attempts)), retrying: \(step.error ?? "")\n".utf8))
                    }
                }
            }
            let steps = try run.stepList()
            if json {
                print(try JSONText.encoded(LakeRunSummary(id: run.id, status: run.status, error: run.error, steps: steps)))
            } else {
                for step in steps {
                    let d = step.details
                    if let raw = d.raw, let curated = d.curated, let duplicates = d.duplicates, let quarantined = d.quarantined {
                        print("\(step.name.replacingOccurrences(of: "curate ", with: "")) \(run.month): \(raw) raw = \(curated) curated + \(duplicates) duplicates + "
                              + "\(quarantined) quarantined" + (raw == curated + duplicates + quarantined ? "" : " (DOES NOT ADD UP)")
                              + String(format: " (%.2f s)", d.seconds ?? 0))
                    } else if step.name == "book", let r = d.dtBase, let months = d.monthsRead {
                        print(LakeBookCommand.line(reference: r, invoices: d.invoices ?? 0, payments: d.payments ?? 0,
                                                   months: months, customerRows: d.customerRows ?? 0, seconds: d.seconds ?? 0))
                    }
                }
            }
            if run.status != "completed" { throw LakeRefusal(description: run.error ?? "the run \(run.id) failed") }
        }

        func inboxFile(_ blobs: any BlobStore, _ month: LakeMonth, _ table: LakeTable) async throws -> [UInt8] {
            do {
                return try await blobs.readAll(key: month.inboxKey(table))
            } catch let e as BlobError where e.code == .notFound {
                throw LakeRefusal(description: "\(month.fileName(table)) is not in the lake inbox (lake/inbox/) nor given with --\(table.rawValue)")
            }
        }
    }
}

struct LakeBookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "book", abstract: "Recompute the book of invoice variables from what is curated, as of a reference date.")
    @OptionGroup var store: StoreOptions
    @Option(help: "The reference date, AAAA-MM-DD.") var refDate: String

    func validate() throws {
        if Day.parseISO(refDate) == nil { throw ValidationError("--ref-date must be AAAA-MM-DD") }
    }

    func run() async throws {
        guard let reference = Day.parseISO(refDate) else { return }
        Self.describe(try await Runtime.with(store) { try await LakeBook(blobs: $0.blobs).build(reference: reference) })
    }

    static func describe(_ s: LakeBook.Summary) {
        print(line(reference: s.reference, invoices: s.invoices, payments: s.payments, months: s.monthsRead, customerRows: s.customerRows,
                   seconds: s.seconds))
    }

    static func line(reference: String, invoices: Int, payments: Int, months: [String], customerRows: Int, seconds: Double) -> String {
        "book \(reference): \(invoices) invoices and \(payments) payments from \(months.joined(separator: ", ")); \(customerRows) customer rows"
            + String(format: " (%.2f s)", seconds)
    }
}

/// A file refused whole: said on standard error, exit status 1, no usage text.
struct LakeRefusal: Error, CustomStringConvertible {
    var description: String
}

/// `esteira lake run --json`: the run's id, how it ended, and its steps.
struct LakeRunSummary: Encodable {
    var id: String
    var status: String
    @Nullable var error: String?
    var steps: [LakeStepRecord]
}
