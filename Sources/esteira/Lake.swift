import ArgumentParser
import EsteiraBlobs
import EsteiraCore
import EsteiraLake
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
            Runtime.bootstrapLogging(level: store.resolvedLogLevel)
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
            Runtime.bootstrapLogging(level: store.resolvedLogLevel)
            guard let lakeMonth = LakeMonth(month) else { return }
            let reference = refDate.flatMap(Day.parseISO) ?? lakeMonth.adding(months: 1).first
            let (reports, book) = try await Runtime.with(store) { runtime in
                var files: [LakeRunner.Input] = []
                for (table, path) in [(LakeTable.faturas, faturas), (.pagamentos, pagamentos)] {
                    if let path {
                        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
                        files.append(.init(table: table, fileName: URL(fileURLWithPath: path).lastPathComponent, bytes: Array(data)))
                    } else {
                        let name = lakeMonth.fileName(table)
                        do {
                            files.append(.init(table: table, fileName: name, bytes: try await runtime.blobs.readAll(key: lakeMonth.inboxKey(table))))
                        } catch let e as BlobError where e.code == .notFound {
                            throw LakeRefusal(description: "\(name) is not in the lake inbox (lake/inbox/) nor given with --\(table.rawValue)")
                        }
                    }
                }
                do {
                    let outcome = try await LakeRunner(db: runtime.db, blobs: runtime.blobs).run(month: lakeMonth, reference: reference, files: files)
                    // ESTEIRA_LAKE_BUDGET_BYTES: the lake's storage budget; passing it is an alert.
                    let layers = try await LakeRunStore(db: runtime.db).storage()
                    let total = layers.values.reduce(0) { $0 + $1.bytes }
                    if let budget = Env.int("ESTEIRA_LAKE_BUDGET_BYTES"), total > budget {
                        runtime.logger.warning("lake storage over budget", metadata: ["bytes": "\(total)", "budget": "\(budget)"])
                    }
                    return (outcome.reports, outcome.book)
                } catch let problem as LakeFile.Problem {
                    throw LakeRefusal(description: "\(problem)")
                }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(reports), as: UTF8.self))
                print(String(decoding: try encoder.encode(book), as: UTF8.self))
            } else {
                for r in reports {
                    let c = r.counts
                    print("\(r.table) \(r.month): \(c.raw) raw = \(c.curated) curated + \(c.duplicates) duplicates + \(c.quarantined) quarantined"
                          + (c.isBalanced ? "" : " (DOES NOT ADD UP)"))
                }
                LakeBookCommand.describe(book)
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
        Runtime.bootstrapLogging(level: store.resolvedLogLevel)
        guard let reference = Day.parseISO(refDate) else { return }
        Self.describe(try await Runtime.with(store) { try await LakeBook(blobs: $0.blobs).build(reference: reference) })
    }

    static func describe(_ s: LakeBook.Summary) {
        print("book \(s.reference): \(s.invoices) invoices and \(s.payments) payments from \(s.monthsRead.joined(separator: ", ")); "
              + "\(s.customerRows) customer rows")
    }
}

/// A file refused whole: said on standard error, exit status 1, no usage text.
struct LakeRefusal: Error, CustomStringConvertible {
    var description: String
}
