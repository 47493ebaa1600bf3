import ArgumentParser
import EsteiraApp
import EsteiraCore
import EsteiraPipeline
import Foundation

/// `esteira privacy`: a debtor's rights under LGPD art. 18, by document, across every client
/// (docs/security.md).
struct Privacy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A debtor's data under LGPD art. 18: where it is (report), and its erasure (erase).",
        subcommands: [Report.self, Erase.self])

    static func document(_ text: String) throws -> TaxID {
        guard case .success(let id) = TaxID.parse(text) else { throw ValidationError("--document is not a valid CPF/CNPJ") }
        return id
    }

    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print, as JSON, every place the debtor appears: debts, rejected lines, risk decisions, notices, submitted lines, kept files, the blacklist.")

        @OptionGroup var store: StoreOptions
        @Option(help: "The debtor's CPF or CNPJ, with or without its punctuation.") var document: String

        func run() async throws {
            let document = try Privacy.document(self.document)
            let report = try await Runtime.with(store) { runtime in
                try await DebtorPrivacy(db: runtime.db, blobs: runtime.blobs, holdDays: runtime.settings.privacy.retention.erasureHoldDays)
                    .report(document: document)
            }
            try Privacy.printJSON(report)
        }
    }

    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pseudonymize the debtor once none of their debts is open and the hold (ESTEIRA_ERASURE_HOLD_DAYS) has passed; exit 1, with each debt that holds it back, otherwise.")

        @OptionGroup var store: StoreOptions
        @Option(help: "The debtor's CPF or CNPJ, with or without its punctuation.") var document: String
        @Flag(help: "Print what was touched as JSON.") var json = false

        func run() async throws {
            let document = try Privacy.document(self.document)
            let outcome = try await Runtime.with(store) { runtime in
                try await DebtorPrivacy(db: runtime.db, blobs: runtime.blobs, holdDays: runtime.settings.privacy.retention.erasureHoldDays)
                    .erase(document: document, actor: commandLineActor)
            }
            switch outcome {
            case .refused(let refusals):
                var text = "Not erased: \(refusals.count) debt(s) hold it back.\n"
                for r in refusals { text += "  \(r.clientID) \(r.externalID): \(r.portugueseMessage)\n" }
                FileHandle.standardError.write(Data(text.utf8))
                throw ExitCode(1)
            case .erased(let report):
                if json { return try Privacy.printJSON(report) }
                print("Erased \(report.document)\(report.pseudonym.map { " (now \($0))" } ?? "").")
                let t = report.touched
                for (name, n) in [("debts", t.debts), ("debt_events", t.debtEvents), ("bankslips", t.bankslips), ("notifications", t.notifications),
                                  ("rejects", t.rejects), ("risk_decisions", t.riskDecisions), ("files", t.files)] {
                    print("  \(name.padding(toLength: 17, withPad: " ", startingAt: 0)) \(n)")
                }
                print("Kept: \(report.kept.ledgerEntries) ledger entries\(report.kept.blacklist ? ", the blacklist entry" : "").")
            }
        }
    }
}
